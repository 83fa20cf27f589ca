"""Drivers' stop lists: one vehicle's stops in order, as JSON, CSV or HTML."""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import domain, store
from api.auth import Anyone, Driver, Principal
from api.db import PlanRow
from api.deps import DbDep, SettingsDep
from api.errors import ApiError, forbidden, not_found
from api.schemas import ErrorResponse
from api.settings import Settings
from routing.domain.errors import InvalidProblemError

logger = logging.getLogger(__name__)

router = APIRouter(tags=["drivers"])

Format = Annotated[
    Literal["json", "csv", "html"],
    Query(description="json, csv, or a printable html page."),
]

_STOP_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The stop list.",
        "content": {
            "application/json": {},
            "text/csv": {"schema": {"type": "string"}},
            "text/html": {"schema": {"type": "string"}},
        },
    },
    403: {"model": ErrorResponse},
    404: {"model": ErrorResponse},
    409: {"model": ErrorResponse},
}


def _plan_day(row: PlanRow, settings: Settings) -> str:
    if row.day:
        return row.day
    return row.created_at.date().isoformat()


def _pinned_first(
    session: Session, row: PlanRow, vehicle_id: str
) -> tuple[dict[str, Any], int] | None:
    """A re-plan's stop the vehicle was driving to (not in the re-plan's routes):
    the order as scenario JSON and its service start; None for other plans and
    vehicles.

    The re-plan's own problem no longer has the order: it is read from the
    lineage's first problem or the orders added by re-plans since.
    """
    info = (row.replan or {}) if row.kind == "replan" else {}
    order_id = (info.get("pinned_first") or {}).get(vehicle_id)
    start_s = (info.get("pinned_start_s") or {}).get(vehicle_id)
    if order_id is None or start_s is None:
        return None
    root = session.get(PlanRow, row.lineage_id)
    added = (info.get("chain") or {}).get("new_orders") or []
    for data in [*(root.problem.get("orders", []) if root else []), *added]:
        if isinstance(data, dict) and data.get("id") == order_id:
            return data, int(start_s)
    logger.warning(
        "plan %s: pinned stop %s of vehicle %s not found", row.id, order_id, vehicle_id
    )
    return None


def _render(session: Session, row: PlanRow, vehicle_id: str, fmt: str) -> Response:
    plan = store.solved(row)
    try:
        out = domain.stop_list_of(
            row.problem,
            plan,
            vehicle_id,
            fmt,
            pinned=_pinned_first(session, row, vehicle_id),
        )
    except InvalidProblemError:
        raise not_found("vehicle", vehicle_id, path="vehicle_id") from None
    if out is None:
        raise ApiError(
            404,
            "not_found",
            f"vehicle {vehicle_id!r} has no route in plan {row.id!r}",
            path="vehicle_id",
            entity_id=vehicle_id,
        )
    name = f"stops-{row.id[:8]}-{vehicle_id}"
    if fmt == "csv":
        assert isinstance(out, str)
        return PlainTextResponse(
            out,
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if fmt == "html":
        assert isinstance(out, str)
        return HTMLResponse(out)
    assert isinstance(out, dict)
    from fastapi.responses import JSONResponse

    return JSONResponse({"plan_id": row.id, **out})


def _driver_may_see(
    session: Session, row: PlanRow, principal: Principal, settings: Settings
) -> bool:
    return _plan_day(row, settings) == store.today(settings) and principal.covers(
        store.depots_of(session, row.id)
    )


@router.get(
    "/v1/plans/{plan_id}/vehicles/{vehicle_id}/stops",
    summary="A vehicle's stop list",
    response_class=Response,
    responses=_STOP_RESPONSES,
)
def vehicle_stops(
    plan_id: str,
    vehicle_id: str,
    principal: Anyone,
    db: DbDep,
    settings: SettingsDep,
    format: Format = "json",
) -> Response:
    """Ordered stops with address, slot, ETA, call-ahead time, quantities to
    deliver and collect, and notes. A driver key sees only its own vehicle
    (another: 403) in today's plans (others: 404)."""
    with db.session() as session:
        if principal.role == "driver":
            row = session.get(PlanRow, plan_id)
            if row is None or not _driver_may_see(session, row, principal, settings):
                raise not_found("plan", plan_id)
            if vehicle_id != principal.vehicle_id:
                raise forbidden("a driver key may read its own vehicle's stops only")
        else:
            row = store.visible_plan(session, plan_id, principal)
        return _render(session, row, vehicle_id, format)


@router.get(
    "/v1/driver/stops",
    summary="My stop list today",
    response_class=Response,
    responses=_STOP_RESPONSES,
)
def my_stops(
    principal: Driver, db: DbDep, settings: SettingsDep, format: Format = "json"
) -> Response:
    """The driver's stops in the newest of today's plans that routes the key's
    vehicle (after a re-plan: the re-plan)."""
    vehicle_id = principal.vehicle_id or ""
    with db.session() as session:
        rows = session.scalars(
            select(PlanRow)
            .where(PlanRow.status.in_(("solved", "partial")))
            .where(PlanRow.day.in_((store.today(settings),)) | PlanRow.day.is_(None))
            .order_by(PlanRow.created_at.desc())
            .limit(200)
        ).all()
        for row in rows:
            if not _driver_may_see(session, row, principal, settings):
                continue
            routes = (row.plan or {}).get("routes", [])
            if any(r.get("vehicle_id") == vehicle_id for r in routes):
                return _render(session, row, vehicle_id, format)
    raise ApiError(
        404,
        "not_found",
        f"no plan for today routes vehicle {vehicle_id!r}",
        entity_id=vehicle_id,
    )
