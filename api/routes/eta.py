"""Customers' ETA notices: issue one (recording the promise), read the current ETA
against what the customer was told. Customers only ever see the published plan
of their day: notices are issued from it, ETAs read from it."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from api import domain, store
from api.auth import Dispatcher, Reader
from api.db import PlanRow, PromiseRow, now
from api.deps import DbDep
from api.errors import ApiError, not_found
from api.jobs import latest_promises
from api.schemas import (
    ErrorResponse,
    EtaOut,
    NoticeOut,
    NoticeRequest,
    PromiseOut,
    plan_state,
)
from routing.domain.errors import InvalidProblemError

router = APIRouter(prefix="/v1/plans/{plan_id}/orders/{order_id:path}", tags=["eta"])

_RESPONSES: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorResponse},
    409: {
        "model": ErrorResponse,
        "description": "not_published / superseded: customers see the published "
        "plan only; conflict: not solved yet; not_planned: no ETA.",
    },
}


def _published_for(session: Session, row: PlanRow, order_id: str) -> PlanRow:
    """The published plan of a plan's day (sharing a depot) that customers see:
    of the same re-plan chain if one is, else one that plans the order.

    Raises ApiError 409 ``not_published`` when no plan of that day is.
    """
    day = store.plan_day(row)
    published = store.published_plans(session, day, store.depots(session, row))
    if not published:
        raise ApiError(
            409,
            "not_published",
            f"no plan of {day} is published yet: customers see no ETA until a "
            f"plan is (plan {row.id!r} is {plan_state(row)})",
            path="plan_id",
        )
    for candidate in published:
        if candidate.lineage_id == row.lineage_id:
            return candidate
    for candidate in published:
        orders = candidate.problem.get("orders")
        if isinstance(orders, list) and any(
            isinstance(o, dict) and o.get("id") == order_id for o in orders
        ):
            return candidate
    return published[0]


def _order_known(problem: dict[str, object], order_id: str) -> None:
    orders = problem.get("orders")
    if not isinstance(orders, list) or not any(
        isinstance(o, dict) and o.get("id") == order_id for o in orders
    ):
        raise not_found("order", order_id, path="order_id")


@router.post(
    "/notice",
    response_model=NoticeOut,
    status_code=201,
    summary="Issue a customer's ETA notice",
    responses=_RESPONSES,
)
def issue_notice(
    plan_id: str, order_id: str, body: NoticeRequest, principal: Dispatcher, db: DbDep
) -> NoticeOut:
    """The promised arrival range and call-ahead time for one order, as sent the
    evening before or in the morning. The promise is recorded: re-plans of this
    plan report when they move or break it. Only the published plan of a day
    gives notices: a draft is 409 ``not_published``, a replaced plan 409
    ``superseded`` (the message names the published one)."""
    with db.session() as session:
        row = store.visible_plan(session, plan_id, principal)
        state = plan_state(row)
        if state == "draft":
            raise ApiError(
                409,
                "not_published",
                f"plan {plan_id!r} is a draft: publish it before customers are "
                "told its ETAs (POST /v1/plans/{plan_id}/publish)",
                path="plan_id",
            )
        if state == "superseded":
            raise ApiError(
                409,
                "superseded",
                f"plan {plan_id!r} was replaced by plan {row.superseded_by!r}: "
                "notices come from the published plan",
                path="plan_id",
            )
        plan = store.solved(row)
        _order_known(row.problem, order_id)
        try:
            made = domain.notice(
                row.problem,
                plan,
                order_id,
                when=body.when,
                width_s=body.width_s,
                call_ahead_s=body.call_ahead_s,
            )
        except InvalidProblemError as exc:
            raise ApiError(
                422, "invalid_input", exc.message, path=exc.path, entity_id=order_id
            ) from None
        if made is None:
            raise ApiError(
                409,
                "not_planned",
                f"order {order_id!r} is not planned in plan {plan_id!r}: no ETA to "
                "announce",
                path="order_id",
                entity_id=order_id,
            )
        promise, text = made
        previous = latest_promises(session, row.lineage_id).get(order_id)
        issued = PromiseRow(
            lineage_id=row.lineage_id,
            plan_id=row.id,
            order_id=order_id,
            moment=body.when,
            promise=promise,
            text=text,
            issued_at=now(),
        )
        session.add(issued)
        session.flush()
        return NoticeOut(
            plan_id=row.id,
            order_id=order_id,
            when=body.when,
            text=text,
            promise=PromiseOut(**promise),
            previous=PromiseOut(**previous) if previous else None,
            issued_at=issued.issued_at,
        )


@router.get(
    "/eta",
    response_model=EtaOut,
    summary="An order's ETA against its promise",
    responses=_RESPONSES,
)
def get_eta(plan_id: str, order_id: str, principal: Reader, db: DbDep) -> EtaOut:
    """The order's ETA as its customer sees it: from the published plan of this
    plan's day (``plan_id`` in the answer: after a published re-plan, the
    re-plan; never a draft or a replaced plan), and the last promise the
    customer was given (in that plan's re-plan chain); ``is_broken`` when the
    ETA left the promised range or the order is no longer planned. No plan of
    the day published yet: 409 ``not_published``."""
    with db.session() as session:
        asked = store.visible_plan(session, plan_id, principal)
        row = _published_for(session, asked, order_id)
        plan = store.solved(row)
        _order_known(row.problem, order_id)
        promised = latest_promises(session, row.lineage_id).get(order_id)
        status = domain.eta_status(row.problem, plan, order_id, promised)
        return EtaOut(
            plan_id=row.id,
            order_id=order_id,
            current=PromiseOut(**status["current"]) if status["current"] else None,
            promised=PromiseOut(**status["promised"]) if status["promised"] else None,
            is_broken=status["is_broken"],
            moved_s=status["moved_s"],
        )
