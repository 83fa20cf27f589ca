"""The service's one adapter to the engine's domain functions (ETA, stop lists,
re-plan, what-if): stored JSON in, JSON-ready values out.

Routes and the job process call these; nothing else in ``api`` imports the
engine's ETA, stop-list, re-plan or what-if modules.
"""

from __future__ import annotations

import html
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from routing.day.replan import ReplanRequest, VehicleState, check_request, replan
from routing.day.whatif import (
    BASE_NAME,
    Variant,
    apply_variant,
    compare,
    markdown_table,
    variant_from_dict,
)
from routing.domain.errors import InvalidProblemError
from routing.domain.eta import (
    EtaChange,
    Promise,
    compare_promises,
    notice_text,
    promise_for,
)
from routing.domain.model import Location, Order, Place, Point, Problem
from routing.domain.plan import Plan
from routing.domain.stoplist import StopList, stop_list, to_csv, to_dict, to_html
from routing.domain.units import format_clock, parse_time_s
from routing.formats import plan_from_dict, problem_from_dict

MapFn = Callable[..., Any]
ProgressFn = Callable[[int, float], None]
"""The engine's progress callback: (best objective so far, elapsed seconds)."""
StopFn = Callable[[], bool]
"""Asked by an engine that can stop on request: True once it should end its
search and return its best plan so far."""


def accepts(fn: Callable[..., Any], name: str) -> bool:
    """Whether ``fn`` takes a keyword argument ``name`` (an engine feature)."""
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def load(problem: Mapping[str, Any], plan: Mapping[str, Any]) -> tuple[Problem, Plan]:
    """The stored problem and plan as domain values."""
    return problem_from_dict(problem), plan_from_dict(plan)


def promise_to_dict(promise: Promise) -> dict[str, Any]:
    """A promise as stored and returned: seconds plus clock text."""
    return {
        "order_id": promise.order_id,
        "eta_s": promise.eta_s,
        "window_start_s": promise.window_start_s,
        "window_end_s": promise.window_end_s,
        "call_ahead_s": promise.call_ahead_s,
        "eta": format_clock(promise.eta_s),
        "window_start": format_clock(promise.window_start_s),
        "window_end": format_clock(promise.window_end_s),
        "call_ahead": format_clock(promise.call_ahead_s),
    }


def promise_from_dict(data: Mapping[str, Any]) -> Promise:
    """A stored promise back as a value."""
    return Promise(
        order_id=str(data["order_id"]),
        eta_s=int(data["eta_s"]),
        window_start_s=int(data["window_start_s"]),
        window_end_s=int(data["window_end_s"]),
        call_ahead_s=int(data["call_ahead_s"]),
    )


def change_to_dict(change: EtaChange) -> dict[str, Any]:
    """An ETA change as returned with a re-plan."""
    return {
        "order_id": change.order_id,
        "old_eta_s": change.old_eta_s,
        "old_eta": format_clock(change.old_eta_s),
        "new_eta_s": change.new_eta_s,
        "new_eta": None if change.new_eta_s is None else format_clock(change.new_eta_s),
        "moved_s": change.moved_s,
        "is_broken": change.is_broken,
    }


def stop_list_of(
    problem: Mapping[str, Any],
    plan: Mapping[str, Any],
    vehicle_id: str,
    fmt: str,
    *,
    pinned: tuple[Mapping[str, Any], int] | None = None,
) -> dict[str, Any] | str | None:
    """One vehicle's stop list as a dict (``json``), CSV or HTML text.

    ``pinned`` is a re-plan's stop the vehicle is driving to (the order as
    scenario JSON, and its service start): it is listed first. None when the
    vehicle has no route in the plan. Raises InvalidProblemError (path
    ``vehicle_id``) for a vehicle not in the problem.
    """
    p, pl = load(problem, plan)
    first_stop = None
    if pinned is not None:
        # Read like the day's own orders (its quantities, tiers).
        day = problem_from_dict({**problem, "orders": [dict(pinned[0])], "pairs": []})
        first_stop = (day.orders[0], int(pinned[1]))
    sl = stop_list(p, pl, vehicle_id, first_stop=first_stop)
    if sl is None:
        return None
    if fmt == "csv":
        return to_csv(sl)
    if fmt == "html":
        return to_html(sl)
    return to_dict(sl)


def vehicle_ids(problem: Mapping[str, Any]) -> set[str]:
    """The ids of a stored problem's vehicles."""
    return {v.id for v in problem_from_dict(problem).vehicles}


def empty_stop_list(
    problem: Mapping[str, Any], vehicle_id: str, fmt: str, *, message: str
) -> dict[str, Any] | str:
    """The stop list of a vehicle without a route, saying why: JSON (with
    ``message`` and no stops), CSV (the header only) or an HTML page.

    Raises InvalidProblemError (path ``vehicle_id``) for a vehicle not in the
    problem.
    """
    p = problem_from_dict(problem)
    try:
        vehicle = p.vehicle(vehicle_id)
    except KeyError:
        raise InvalidProblemError(
            "unknown vehicle", path="vehicle_id", entity_id=vehicle_id
        ) from None
    sl = StopList(
        vehicle_id=vehicle.id,
        date=p.date,
        start_depot=vehicle.start_depot,
        end_depot=vehicle.end_depot,
        start_s=vehicle.shift.start_s,
        end_s=vehicle.shift.start_s,
        stops=(),
        quantities=p.quantities,
        is_planar=p.is_planar,
    )
    if fmt == "csv":
        return to_csv(sl)
    if fmt == "html":
        e = html.escape
        title = " ".join(x for x in ("Stop list", vehicle.id, p.date or "") if x)
        return (
            f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{e(title)}</title></head><body><h1>{e(title)}</h1>"
            f"<p>{e(message)}</p></body></html>"
        )
    out = to_dict(sl)
    for key in ("start_s", "start", "end_s", "end"):
        out.pop(key, None)
    return {**out, "message": message}


def notice(
    problem: Mapping[str, Any],
    plan: Mapping[str, Any],
    order_id: str,
    *,
    when: str,
    width_s: int,
    call_ahead_s: int,
) -> tuple[dict[str, Any], str] | None:
    """The promise and notice text for one order; None if it is not planned."""
    p, pl = load(problem, plan)
    promise = promise_for(p, pl, order_id, width_s=width_s, call_ahead_s=call_ahead_s)
    if promise is None:
        return None
    return promise_to_dict(promise), notice_text(p, promise, when=when)


def eta_status(
    problem: Mapping[str, Any],
    plan: Mapping[str, Any],
    order_id: str,
    promised: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The order's current ETA and how it compares with what was promised."""
    p, pl = load(problem, plan)
    current = promise_for(p, pl, order_id)
    out: dict[str, Any] = {
        "order_id": order_id,
        "current": promise_to_dict(current) if current else None,
        "promised": dict(promised) if promised else None,
        "is_broken": False,
        "moved_s": None,
    }
    if promised:
        old = promise_from_dict(promised)
        changes = compare_promises({order_id: old}, p, pl)
        if changes:
            out["is_broken"] = changes[0].is_broken
            out["moved_s"] = changes[0].moved_s
        elif current is not None:
            out["moved_s"] = current.eta_s - old.eta_s
    return out


EMPTY_CHAIN: dict[str, list[Any]] = {"served": [], "cancelled": [], "new_orders": []}
"""No change since the lineage's first plan."""


def base_problem(
    root: Mapping[str, Any], chain: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The day a re-plan starts from: the lineage's first problem with every later
    change applied (new orders added; served and cancelled orders removed, with
    the pairs they were in).

    A re-plan's own problem cannot be the start of the next one: its vehicles
    start from pseudo-depots at their positions then, and its promised orders
    have narrowed slots. The next re-plan needs the vehicles and slots as booked,
    and the new states say where the vehicles are now.
    """
    chain = chain or EMPTY_CHAIN
    gone = set(chain.get("served", [])) | set(chain.get("cancelled", []))
    orders = [
        o
        for o in [*root.get("orders", []), *chain.get("new_orders", [])]
        if not (isinstance(o, Mapping) and o.get("id") in gone)
    ]
    out = dict(root)
    out["orders"] = orders
    if "pairs" in root:
        out["pairs"] = [
            p
            for p in root["pairs"]
            if not (
                isinstance(p, Mapping)
                and (p.get("pickup") in gone or p.get("delivery") in gone)
            )
        ]
    return out


def _api_path(path: str) -> str:
    """Engine paths of a request to the API's field names."""
    return path.replace(".time_s", ".time").replace("now_s", "now")


def _place(value: Mapping[str, Any] | None, path: str, vid: str) -> Place | None:
    if value is None:
        return None
    keys = set(value)
    try:
        if keys == {"lat", "lon"}:
            return Location(lat=value["lat"], lon=value["lon"])
        if keys == {"x", "y"}:
            return Point(value["x"], value["y"])
    except InvalidProblemError as exc:
        raise InvalidProblemError(exc.message, path=path, entity_id=vid) from None
    raise InvalidProblemError(
        f'expected {{"lat", "lon"}} or {{"x", "y"}}, got keys {sorted(keys)}',
        path=path,
        entity_id=vid,
    )


def _state(data: Mapping[str, Any], i: int) -> VehicleState:
    p = f"states[{i}]"
    vid = str(data.get("vehicle_id", ""))
    try:
        return VehicleState(
            vehicle_id=vid,
            time_s=parse_time_s(data.get("time"), path=f"{p}.time", entity_id=vid),
            position=_place(data.get("position"), f"{p}.position", vid),
            done=tuple(data.get("done") or ()),
            heading_to=data.get("heading_to"),
            on_board=(
                tuple(data["on_board"]) if data.get("on_board") is not None else None
            ),
            breaks_done=data.get("breaks_done"),
        )
    except InvalidProblemError as exc:
        if exc.path.startswith(p):
            raise
        raise InvalidProblemError(
            exc.message, path=_api_path(f"{p}.{exc.path}"), entity_id=exc.entity_id
        ) from None


def _new_orders(base: Mapping[str, Any], new_orders: list[Any]) -> tuple[Order, ...]:
    """New orders read like the day's own (its quantities and tiers)."""
    if not new_orders:
        return ()
    try:
        day = problem_from_dict({**base, "orders": new_orders, "pairs": []})
    except InvalidProblemError as exc:
        path = exc.path
        if path.startswith("orders"):
            path = "new_orders" + path[len("orders") :]
        raise InvalidProblemError(
            exc.message, path=path, entity_id=exc.entity_id
        ) from None
    return day.orders


def replan_request(
    base: Mapping[str, Any],
    body: Mapping[str, Any],
    promised: Mapping[str, Mapping[str, Any]],
) -> tuple[Problem, ReplanRequest]:
    """The day to re-plan and the request, from stored JSON and the request body.

    Promises of orders that are no longer in the day are left out.

    Raises
    ------
    InvalidProblemError
        With the request's field (``states[0].time``, ``new_orders[1].windows``,
        ``cancelled[0]``) and entity.
    """
    problem = problem_from_dict(base)
    new = _new_orders(base, list(body.get("new_orders") or []))
    known = {o.id for o in problem.orders} | {o.id for o in new}
    states = tuple(_state(s, i) for i, s in enumerate(body.get("states") or []))
    extra: dict[str, Any] = {}
    if body.get("promise_cost_per_hour") is not None:
        extra["promise_cost_per_hour"] = body["promise_cost_per_hour"]
    if body.get("move_cost") is not None:
        extra["move_cost"] = body["move_cost"]
    if body.get("now") is not None:
        extra["now_s"] = parse_time_s(body["now"], path="now")
    try:
        request = ReplanRequest(
            states=states,
            new_orders=new,
            cancelled=tuple(body.get("cancelled") or ()),
            promises={
                oid: promise_from_dict(p) for oid, p in promised.items() if oid in known
            },
            **extra,
        )
    except InvalidProblemError as exc:
        raise InvalidProblemError(
            exc.message, path=_api_path(exc.path), entity_id=exc.entity_id
        ) from None
    return problem, request


def check_replan(
    base: Mapping[str, Any],
    plan: Mapping[str, Any],
    body: Mapping[str, Any],
    promised: Mapping[str, Mapping[str, Any]],
) -> None:
    """Everything a re-plan checks before solving (cheap; for a 422 at once)."""
    problem, request = replan_request(base, body, promised)
    try:
        check_request(problem, plan_from_dict(plan), request)
    except InvalidProblemError as exc:
        raise InvalidProblemError(
            exc.message, path=_api_path(exc.path), entity_id=exc.entity_id
        ) from None


def run_replan(
    job: Mapping[str, Any],
    *,
    options: Any,
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> dict[str, Any]:
    """Re-plan (in the job process): new plan, its problem and the ETA changes.

    ``job`` holds ``problem`` (the day to re-plan, `base_problem`), ``plan`` (the
    plan the vehicles drive), ``request`` (the API body), ``promises`` (the
    latest promise per order) and ``chain`` (changes before this re-plan).
    ``on_progress`` gets the search's best objective and elapsed time;
    ``should_stop`` is passed on when the engine's ``replan`` takes it.
    """

    from routing.check import check_plan
    from routing.formats import plan_to_dict, problem_to_dict
    from routing.geo.providers import build_travel

    problem, request = replan_request(job["problem"], job["request"], job["promises"])
    plan = plan_from_dict(job["plan"])
    try:
        result = replan(
            problem,
            plan,
            request,
            travel_for=build_travel,
            options=options,
            on_progress=on_progress,
            should_stop=should_stop,
        )
    except InvalidProblemError as exc:
        raise InvalidProblemError(
            exc.message, path=_api_path(exc.path), entity_id=exc.entity_id
        ) from None
    violations: list[str] = []
    if result.travel is not None:
        violations = [
            str(v) for v in check_plan(result.problem, result.plan, result.travel)
        ]
    before = job.get("chain") or EMPTY_CHAIN
    served = [oid for done in result.done.values() for oid in done]
    served += list(result.pinned_first.values())
    cancelled = list(result.setup.cancelled) if result.setup else []
    off_duty = list(result.setup.off_duty) if result.setup else []
    chain = {
        "served": [*before.get("served", []), *served],
        "cancelled": [*before.get("cancelled", []), *cancelled],
        "new_orders": [
            *before.get("new_orders", []),
            *(job["request"].get("new_orders") or []),
        ],
    }
    return {
        "plan": plan_to_dict(result.plan, result.problem),
        "problem": problem_to_dict(result.problem),
        "eta_changes": [change_to_dict(c) for c in result.eta_changes],
        "replan": {
            "done": {k: list(v) for k, v in result.done.items()},
            "pinned_first": dict(result.pinned_first),
            "pinned_start_s": dict(result.pinned_start_s),
            "stranded": list(result.stranded),
            "off_duty": off_duty,
            "cancelled": cancelled,
            "chain": chain,
            "now_s": request.now,
            "is_unchanged": result.is_unchanged,
            "reason": result.reason,
            "move_cost_total": result.move_cost_total,
            "moved": [
                {
                    "order_id": m.order_id,
                    "from_vehicle": m.from_vehicle,
                    "to_vehicle": m.to_vehicle,
                }
                for m in result.moved
            ],
            "retimed": [
                {
                    "order_id": r.order_id,
                    "vehicle_id": r.vehicle_id,
                    "old_start_s": r.old_start_s,
                    "new_start_s": r.new_start_s,
                    "moved_s": r.new_start_s - r.old_start_s,
                }
                for r in result.retimed
            ],
            "dropped": [
                {"order_id": u.order_id, "code": u.code.value, "reason": u.reason}
                for u in result.dropped
            ],
            "new_planned": dict(result.new_planned),
            "changes": result.change_lines(),
        },
        "violations": violations,
    }


def variants_of(problem: Problem, data: Sequence[Mapping[str, Any]]) -> list[Variant]:
    """The variants of a request, checked against the day (names unique).

    Raises InvalidProblemError naming ``variants[i]...`` and the variant.
    """
    out: list[Variant] = []
    names: dict[str, int] = {BASE_NAME: -1}
    for i, raw in enumerate(data):
        variant = variant_from_dict(raw, path=f"variants[{i}]")
        if variant.name in names:
            raise InvalidProblemError(
                "name already used"
                + (" by the base row" if names[variant.name] < 0 else ""),
                path=f"variants[{i}].name",
                entity_id=variant.name,
            )
        names[variant.name] = i
        apply_variant(problem, variant, index=i)
        out.append(variant)
    return out


def run_whatif(
    job: Mapping[str, Any], *, options: Any, map_fn: MapFn
) -> dict[str, Any]:
    """Solve the day and its variants (``map_fn`` runs them); the KPI rows, base
    first, and the same as a Markdown table."""
    problem = problem_from_dict(job["problem"])
    variants = variants_of(problem, list(job["variants"]))
    from routing.geo.providers import build_travel

    # Each variant's travel matrix is built where it runs, inside its time
    # limit (`routing.day.whatif.solve_variant`).
    rows = compare(
        problem, variants, travel_for=build_travel, options=options, map_fn=map_fn
    )
    return {"rows": rows, "markdown": markdown_table(rows)}
