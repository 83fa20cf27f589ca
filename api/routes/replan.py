"""Re-planning during the day: from where the vehicles are, keeping promises."""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api import domain, limits, store
from api.auth import Dispatcher
from api.db import PlanRow, new_id, now
from api.deps import DbDep, RunnerDep, SettingsDep
from api.errors import ApiError
from api.jobs import latest_promises
from api.routes.plans import WaitQuery
from api.schemas import ErrorResponse, JobOut, PlanOut, ReplanCreate
from api.settings import Settings
from routing.domain.errors import InvalidProblemError

router = APIRouter(prefix="/v1/plans/{plan_id}/replan", tags=["replan"])


def _check_size(base: dict[str, Any], body: ReplanCreate, settings: Settings) -> None:
    """413 when the re-planned day is beyond the limits: its orders are the
    plan's remaining ones (the lineage's, minus those served or cancelled, also
    in this request) plus the new ones, and each vehicle state with a position
    adds a start location. A chain of re-plans cannot grow a plan past
    ``max_orders``."""
    gone = set(body.cancelled)
    for state in body.states:
        gone.update(state.done)
    remaining = sum(
        1
        for o in base.get("orders", [])
        if not (isinstance(o, dict) and o.get("id") in gone)
    )
    total = remaining + len(body.new_orders)
    if total > settings.max_orders:
        raise ApiError(
            413,
            "too_large",
            f"{remaining} orders left in the plan + {len(body.new_orders)} new = "
            f"{total}; this service plans at most {settings.max_orders} per plan",
            path="new_orders",
        )
    size = limits.size_of({**base, "orders": [None] * total})
    positions = sum(1 for s in body.states if s.position is not None)
    limits.check_size(
        dataclasses.replace(size, extra_locations=positions),
        settings,
        field="",
        orders_path="new_orders",
    )


@router.post(
    "",
    status_code=201,
    response_model=PlanOut,
    responses={
        202: {"model": JobOut, "description": "Still solving: poll the job."},
        404: {"model": ErrorResponse},
        409: {"model": ErrorResponse},
        422: {"model": ErrorResponse},
        429: {"model": ErrorResponse},
    },
    summary="Re-plan the rest of the day",
)
def replan_plan(
    plan_id: str,
    body: ReplanCreate,
    principal: Dispatcher,
    db: DbDep,
    runner: RunnerDep,
    settings: SettingsDep,
    wait_s: WaitQuery = None,
) -> PlanOut | JSONResponse:
    """Re-plan from each vehicle's state (position, time, stops done, load on
    board) with new and cancelled orders. Done stops stay done, the stop a driver
    is heading to stays first, and moving a promised ETA is penalized; the new
    plan (linked to this one) lists in ``eta_changes`` whose ETAs moved, by how
    much, and which promises broke."""
    limit_s = store.time_limit(body.time_limit_s, settings)
    wait = store.wait_limit(wait_s, settings)
    request = body.model_dump(
        exclude={"time_limit_s", "deterministic"}, exclude_none=True
    )
    store.check_text(request, "")
    if len(body.new_orders) > settings.max_orders:  # before reading the plan
        raise ApiError(
            413,
            "too_large",
            f"{len(body.new_orders)} new orders; this service plans at most "
            f"{settings.max_orders} per request",
            path="new_orders",
        )
    with db.session() as session:
        parent = store.visible_plan(session, plan_id, principal)
        parent_plan = store.solved(parent)
        root = session.get(PlanRow, parent.lineage_id) or parent
        chain = (parent.replan or {}).get("chain") if parent.kind == "replan" else None
        base = domain.base_problem(root.problem, chain)
        promised = latest_promises(session, parent.lineage_id)
        depots = store.depots_of(session, parent.id)
        lineage_id, day, name = parent.lineage_id, parent.day, parent.name
    _check_size(base, body, settings)
    try:
        domain.check_replan(base, parent_plan, request, promised)
    except InvalidProblemError as exc:
        raise ApiError(
            422, "invalid_input", exc.message, path=exc.path, entity_id=exc.entity_id
        ) from None
    child = PlanRow(
        id=new_id(),
        created_at=now(),
        name=name,
        day=day,
        status="pending",
        kind="replan",
        parent_id=plan_id,
        lineage_id=lineage_id,
        problem=base,
        orders=len(base.get("orders", [])),
        created_by=principal.key_id,
    )
    job, future = store.store_job(
        db,
        runner,
        kind="replan",
        principal=principal,
        depots=depots,
        request={
            "parent_plan_id": plan_id,
            "base_problem": base,
            "chain": chain,
            "replan": request,
            "options": body.solve_options(limit_s),
        },
        time_limit_s=limit_s,
        plan=child,
    )
    return store.answer_plan_job(db, future, wait, job.id, child.id, runner=runner)
