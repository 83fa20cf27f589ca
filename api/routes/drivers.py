"""Drivers' stop lists: one vehicle's stops in order, as JSON, CSV or HTML."""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from sqlalchemy.orm import Session

from api import domain, store
from api.auth import Anyone, Driver, Principal
from api.db import PlanRow
from api.deps import DbDep, SettingsDep
from api.errors import ApiError, forbidden, not_found
from api.schemas import ErrorResponse, plan_state
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
    410: {
        "model": ErrorResponse,
        "description": "superseded: a later plan of the day was published (drivers).",
    },
}


_UNSAFE_IN_QUOTED = re.compile(r'[^\x20-\x7e]|["\\;/%]')
"""Characters left out of a quoted ``filename`` (RFC 6266 section 4.3): anything
not printable ASCII (control characters would split the header, non-Latin-1
text cannot be sent at all), the quote and backslash (they end or escape the
quoted string), ``;`` (a naive parser starts a new parameter), ``/`` (a path)
and ``%`` (some agents percent-decode the fallback)."""


def content_disposition(disposition: str, filename: str) -> str:
    """A ``Content-Disposition`` value for any file name (RFC 6266): an ASCII
    ``filename`` fallback (unsafe characters replaced by ``_``) and the exact
    name as UTF-8 in ``filename*`` (RFC 8187 percent-encoding), which agents
    that know it prefer.

    ``content_disposition("attachment", 'stops-ab-van "1".csv')`` is
    ``attachment; filename="stops-ab-van _1_.csv";
    filename*=UTF-8''stops-ab-van%20%221%22.csv``.
    """
    fallback = _UNSAFE_IN_QUOTED.sub("_", filename)
    exact = quote(filename, safe="!#$&+-.^_`|~")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{exact}"


def header_text(value: str) -> str:
    """Text fit for a response header: printable ASCII, anything else escaped
    (``\\u00e9``, ``\\r``) so that a vehicle id can neither break the
    response nor be refused by the server's Latin-1 header encoding."""
    escaped = value.encode("ascii", "backslashreplace").decode("ascii")
    return "".join(c if " " <= c <= "~" else repr(c)[1:-1] for c in escaped)


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


def _vehicle_known(session: Session, row: PlanRow, vehicle_id: str) -> bool:
    """Whether a plan is for this vehicle: in its problem, or (a re-plan that
    left the vehicle out) in its lineage's first problem. Read from the summary
    column ``vehicle_ids`` (no body is loaded)."""
    if row.vehicle_ids is not None:
        return vehicle_id in row.vehicle_ids
    if vehicle_id in domain.vehicle_ids(row.problem):
        return True
    root = session.get(PlanRow, row.lineage_id) if row.kind == "replan" else None
    return root is not None and vehicle_id in domain.vehicle_ids(root.problem)


StopListKey = tuple[str, str, str, str, str, float | None, int | None, bool]
CACHE_SIZE = 1024
"""Stop lists kept rendered (a few kB each): a day's drivers, several formats."""


class _StopListCache:
    """Rendered stop lists, by plan, vehicle, format and what the list depends
    on: a plan's routes and problem are written once, when its job ends (a
    resumed job writes a new status or cost; publishing changes the state), so
    a list stays valid for as long as its key matches. Rendering one is the
    bulk of a driver's request (reading the day's problem and plan: ~15 ms for
    120 orders), and 100 drivers ask for theirs at the same morning minute."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[StopListKey, tuple[Any, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: StopListKey) -> tuple[Any, str] | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: StopListKey, value: tuple[Any, str]) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


_LISTS = _StopListCache(CACHE_SIZE)


def _render(session: Session, row: PlanRow, vehicle_id: str, fmt: str) -> Response:
    """The vehicle's stop list in a plan (rendered once per plan version); a
    vehicle of the plan without a route (emptied by a re-plan, not needed) gets
    an empty list with a message."""
    state = plan_state(row)
    key: StopListKey = (
        row.id,
        vehicle_id,
        fmt,
        state,
        row.status,
        row.cost,
        row.unplanned,
        bool(row.is_stopped_early),
    )
    cached = _LISTS.get(key)
    if cached is None:
        cached = _stop_list(session, row, vehicle_id, fmt, state)
        _LISTS.put(key, cached)
    return _response(row, vehicle_id, fmt, state, *cached)


def _stop_list(
    session: Session, row: PlanRow, vehicle_id: str, fmt: str, state: str
) -> tuple[Any, str]:
    """The rendered list (JSON dict, CSV or HTML text) and the message of an
    empty one ("" otherwise)."""
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
        if not _vehicle_known(session, row, vehicle_id):
            raise not_found("vehicle", vehicle_id, path="vehicle_id") from None
        out = None
    message = ""
    if out is None:
        where = "the published plan" if state == "published" else f"{state} plan"
        message = (
            f"vehicle {vehicle_id!r} has no stops in {where} {row.id!r}: its route "
            "was emptied or it is not needed"
        )
        problem = row.problem
        if vehicle_id not in domain.vehicle_ids(problem):
            root = session.get(PlanRow, row.lineage_id)
            problem = root.problem if root is not None else problem
        out = domain.empty_stop_list(problem, vehicle_id, fmt, message=message)
    return out, message


def _response(
    row: PlanRow, vehicle_id: str, fmt: str, state: str, out: Any, message: str
) -> Response:
    """The HTTP answer of a rendered list: the format's media type, the plan's id
    and state in headers, a safe download name."""
    headers = {"X-Plan-Id": row.id, "X-Plan-State": state}
    if message:
        headers["X-Route-Message"] = header_text(message)
    name = f"stops-{row.id[:8]}-{vehicle_id}"
    if fmt == "csv":
        assert isinstance(out, str)
        return PlainTextResponse(
            out,
            media_type="text/csv",
            headers={
                "Content-Disposition": content_disposition("attachment", f"{name}.csv"),
                **headers,
            },
        )
    if fmt == "html":
        assert isinstance(out, str)
        return HTMLResponse(
            out,
            headers={
                "Content-Disposition": content_disposition("inline", f"{name}.html"),
                **headers,
            },
        )
    assert isinstance(out, dict)
    return JSONResponse(
        {"plan_id": row.id, "plan_state": state, **out}, headers=headers
    )


def _driver_plan(
    session: Session, plan_id: str, principal: Principal, settings: Settings
) -> PlanRow:
    """A plan a driver may read: today's, in the key's depots, published and not
    superseded.

    Raises ApiError 404 ``not_found`` (unknown, another day, other depots), 404
    ``not_published`` (a draft), 410 ``superseded`` (replaced by a later plan:
    the message names it).
    """
    row = store.get_plan(session, plan_id)
    if (
        row is None
        or store.plan_day(row) != store.today(settings)
        or not principal.covers(store.depots(session, row))
    ):
        raise not_found("plan", plan_id)
    state = plan_state(row)
    if state == "draft":
        raise ApiError(
            404,
            "not_published",
            f"plan {plan_id!r} is a draft: drivers see published plans only "
            "(GET /v1/driver/stops)",
            path="plan_id",
        )
    if state == "superseded":
        raise ApiError(
            410,
            "superseded",
            f"plan {plan_id!r} was replaced by plan {row.superseded_by!r}; "
            "GET /v1/driver/stops gives the published list",
            path="plan_id",
        )
    return row


@router.get(
    "/v1/plans/{plan_id}/vehicles/{vehicle_id:path}/stops",
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
    deliver and collect, and notes. A vehicle of the plan without a route gets
    an empty list with a ``message``. Dispatchers and planners read any plan
    they may see (drafts too, to check them before publishing; ``plan_state``
    and the ``X-Plan-State`` header say which). A driver key reads only its own
    vehicle (another: 403) in today's published plan: a draft is 404
    ``not_published``, a replaced plan 410 ``superseded``, another day 404."""
    with db.session() as session:
        if principal.role == "driver":
            row = _driver_plan(session, plan_id, principal, settings)
            if vehicle_id != principal.vehicle_id:
                raise forbidden("a driver key may read its own vehicle's stops only")
        else:
            row = store.visible_plan(session, plan_id, principal)
        return _render(session, row, vehicle_id, format)


@router.get(
    "/v1/driver/stops",
    summary="My stop list today",
    response_class=Response,
    responses={
        **_STOP_RESPONSES,
        404: {
            "model": ErrorResponse,
            "description": "not_published: no plan of today is published yet; "
            "not_found: no published plan of today is for this vehicle.",
        },
    },
)
def my_stops(
    principal: Driver, db: DbDep, settings: SettingsDep, format: Format = "json"
) -> Response:
    """The driver's stops in today's published plan (after a published re-plan:
    the re-plan); never a draft or a replaced plan. A vehicle the published
    plan leaves without stops gets 200 with an empty list and a ``message``
    (also in the ``X-Route-Message`` header), so that no older list is used.
    Before any plan of today is published: 404 ``not_published``."""
    vehicle_id = principal.vehicle_id or ""
    day = store.today(settings)
    with db.session() as session:
        rows = [
            row
            for row in store.published_plans(session, day)
            if principal.covers(store.depots(session, row))
        ]
        if not rows:
            raise ApiError(
                404,
                "not_published",
                f"no plan of today ({day}) is published yet; ask dispatch to "
                "publish the day's plan",
                entity_id=vehicle_id,
            )
        for row in rows:
            if _vehicle_known(session, row, vehicle_id):
                return _render(session, row, vehicle_id, format)
    raise ApiError(
        404,
        "not_found",
        f"no published plan of today ({day}) is for vehicle {vehicle_id!r}",
        entity_id=vehicle_id,
    )
