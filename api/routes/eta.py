"""Customers' ETA notices: issue one (recording the promise), read the current ETA
against what the customer was told."""

from __future__ import annotations

from fastapi import APIRouter

from api import domain, store
from api.auth import Dispatcher, Reader
from api.db import PromiseRow, now
from api.deps import DbDep
from api.errors import ApiError, not_found
from api.jobs import latest_promises
from api.schemas import (
    ErrorResponse,
    EtaOut,
    NoticeOut,
    NoticeRequest,
    PromiseOut,
)
from routing.domain.errors import InvalidProblemError

router = APIRouter(prefix="/v1/plans/{plan_id}/orders/{order_id}", tags=["eta"])

_RESPONSES: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorResponse},
    409: {"model": ErrorResponse, "description": "Not solved yet, or not planned."},
}


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
    plan report when they move or break it."""
    with db.session() as session:
        row = store.visible_plan(session, plan_id, principal)
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
    """The order's ETA in this plan and the last promise its customer was given
    (in this plan or an earlier one of its re-plan chain); ``is_broken`` when the
    ETA left the promised range or the order is no longer planned."""
    with db.session() as session:
        row = store.visible_plan(session, plan_id, principal)
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
