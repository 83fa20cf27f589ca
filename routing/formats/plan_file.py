"""Plan <-> JSON: the plan file.

Plan files keep every integer field of the plan values (seconds, meters) and add
clock text next to times (``"arrival": "09:32"`` besides ``"arrival_s": 34320``) for
human readers; those additions are ignored on read.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from routing.domain.model import (
    Problem,
)
from routing.domain.plan import (
    Costs,
    EngineRun,
    Plan,
    PlanStatus,
    PlanTotals,
    Route,
    RouteBreak,
    Unplanned,
    UnplannedCode,
    Visit,
)
from routing.domain.units import format_clock
from routing.formats._json import (
    _array,
    _check_keys,
    _fail,
    _integer,
    _join,
    _number,
    _object,
    _read_json,
    _required,
    _string,
    _vector,
    _write_json,
)

logger = logging.getLogger(__name__)

__all__ = ["load_plan", "plan_from_dict", "plan_to_dict", "save_plan"]

# read). Reading rejects any other key, so that a plan written by a different
# version of the engine is not half-read in silence.
_VISIT_FIELDS = (
    "order_id",
    "arrival_s",
    "wait_s",
    "start_s",
    "departure_s",
    "load",
    "travel_s",
    "distance_m",
    "late_s",
)
_VISIT_EXTRAS = (
    "arrival",
    "start",
    "departure",
    "late",
    "address",
    "windows",
    "notes",
)
_ROUTE_FIELDS = (
    "vehicle_id",
    "start_depot",
    "end_depot",
    "start_s",
    "end_s",
    "distance_m",
    "travel_s",
    "service_s",
    "wait_s",
    "load_factor",
    "cost",
    "start_load",
    "end_travel_s",
    "end_distance_m",
    "empty_distance_m",
    "mean_load_factor",
    "late_s",
    "breaks",
    "costs",
    "visits",
)
_ROUTE_EXTRAS = ("start", "end", "duration")
_BREAK_FIELDS = ("start_s", "end_s")
_BREAK_EXTRAS = ("start", "end")
_COSTS_FIELDS = ("fixed", "distance", "time", "lateness")
_TOTALS_FIELDS = (
    "distance_m",
    "duration_s",
    "travel_s",
    "service_s",
    "wait_s",
    "cost",
    "vehicles_used",
    "orders_planned",
    "orders_unplanned",
)
_TOTALS_ADDED = ("empty_distance_m", "late_stops", "late_s", "costs")
"""Totals keys added with the delivery-day features: older files lack them."""
_TOTALS_EXTRAS = ("duration", "on_time_rate", "driver_hours")
_UNPLANNED_FIELDS = ("order_id", "code", "reason")
_PLAN_FIELDS = (
    "problem_name",
    "status",
    "solver_status",
    "objective",
    "stats",
    "totals",
    "routes",
    "unplanned",
    "search",
)
_ENGINE_FIELDS = (
    "engine",
    "outcome",
    "reason",
    "relaxations",
    "elapsed_s",
    "objective",
    "repaired",
    "started_s",
    "iterations",
    "routes_eliminated",
)


# ------------------------------------------------------------------- plan -> JSON


def _visit_out(visit: Visit, problem: Problem | None, path: str) -> dict[str, object]:
    out: dict[str, object] = {
        "order_id": visit.order_id,
        "arrival_s": visit.arrival_s,
        "arrival": format_clock(visit.arrival_s),
        "wait_s": visit.wait_s,
        "start_s": visit.start_s,
        "start": format_clock(visit.start_s),
        "departure_s": visit.departure_s,
        "departure": format_clock(visit.departure_s),
        "load": list(visit.load),
        "travel_s": visit.travel_s,
        "distance_m": visit.distance_m,
        "late_s": visit.late_s,
    }
    if visit.late_s:
        out["late"] = format_clock(visit.late_s)  # "00:12": a duration, as text
    if problem is not None:
        try:
            order = problem.order(visit.order_id)
        except KeyError:
            _fail(
                f"order {visit.order_id!r} is not in the problem",
                f"{path}.order_id",
                visit.order_id,
            )
        out["address"] = order.address
        out["windows"] = [
            [format_clock(w.start_s), format_clock(w.end_s)] for w in order.windows
        ]
        if order.notes:
            out["notes"] = order.notes
    return out


def _costs_out(costs: Costs) -> dict[str, object]:
    return {key: getattr(costs, key) for key in _COSTS_FIELDS}


def _route_out(route: Route, problem: Problem | None, path: str) -> dict[str, object]:
    return {
        "vehicle_id": route.vehicle_id,
        "start_depot": route.start_depot,
        "end_depot": route.end_depot,
        "start_s": route.start_s,
        "start": format_clock(route.start_s),
        "end_s": route.end_s,
        "end": format_clock(route.end_s),
        "duration": format_clock(route.duration_s),
        "distance_m": route.distance_m,
        "travel_s": route.travel_s,
        "service_s": route.service_s,
        "wait_s": route.wait_s,
        "load_factor": route.load_factor,
        "cost": route.cost,
        "start_load": list(route.start_load),
        "end_travel_s": route.end_travel_s,
        "end_distance_m": route.end_distance_m,
        "empty_distance_m": route.empty_distance_m,
        "mean_load_factor": route.mean_load_factor,
        "late_s": route.late_s,
        "breaks": [
            {
                "start_s": b.start_s,
                "start": format_clock(b.start_s),
                "end_s": b.end_s,
                "end": format_clock(b.end_s),
            }
            for b in route.breaks
        ],
        "costs": _costs_out(route.costs),
        "visits": [
            _visit_out(v, problem, f"{path}.visits[{j}]")
            for j, v in enumerate(route.visits)
        ],
    }


def plan_to_dict(plan: Plan, problem: Problem | None = None) -> dict[str, object]:
    """Write a Plan as a JSON-ready dict for people and programs alike.

    Parameters
    ----------
    plan
        The plan.
    problem
        The problem it solves. When given, each visit also carries the order's
        ``address``, ``windows`` as clock text and ``notes`` (if any).

    Returns
    -------
    dict
        Every field of the plan values, integers in seconds and meters, plus
        clock text next to times (``"arrival": "09:32"`` besides
        ``"arrival_s": 34320``, also on breaks), route/total ``duration`` text,
        a late visit's ``late`` text (``"00:12"``) and the totals'
        ``on_time_rate`` (0..1) and ``driver_hours``. The additions are ignored
        by :func:`plan_from_dict`.

    Raises
    ------
    InvalidProblemError
        If ``problem`` is given and a visited order is not in it.
    """
    totals = plan.totals
    return {
        "problem_name": plan.problem_name,
        "status": plan.status.value,
        "solver_status": plan.solver_status,
        "objective": plan.objective,
        "stats": dict(plan.stats),
        "search": {
            "stop_reason": plan.stop_reason,
            "engines": [_engine_out(e) for e in plan.engines],
        },
        "totals": {
            "distance_m": totals.distance_m,
            "duration_s": totals.duration_s,
            "duration": format_clock(totals.duration_s),
            "travel_s": totals.travel_s,
            "service_s": totals.service_s,
            "wait_s": totals.wait_s,
            "cost": totals.cost,
            "vehicles_used": totals.vehicles_used,
            "orders_planned": totals.orders_planned,
            "orders_unplanned": totals.orders_unplanned,
            "empty_distance_m": totals.empty_distance_m,
            "late_stops": totals.late_stops,
            "late_s": totals.late_s,
            "on_time_rate": totals.on_time_rate,
            "driver_hours": totals.driver_hours,
            "costs": _costs_out(totals.costs),
        },
        "routes": [
            _route_out(r, problem, f"routes[{i}]") for i, r in enumerate(plan.routes)
        ],
        "unplanned": [
            {"order_id": u.order_id, "code": u.code.value, "reason": u.reason}
            for u in plan.unplanned
        ],
    }


# ------------------------------------------------------------------- JSON -> plan


def _stat(value: object, path: str) -> float:
    """A stats figure: integers stay integers (counts), others are finite floats."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return _number(value, path, None)


def _visit_from(value: object, path: str) -> Visit:
    obj = _object(value, path, None)
    eid = _string(_required(obj, "order_id", path, None), f"{path}.order_id", None)
    _check_keys(obj, _VISIT_FIELDS + _VISIT_EXTRAS, path, eid)
    ints = {
        key: _integer(_required(obj, key, path, eid), f"{path}.{key}", eid)
        for key in (
            "arrival_s",
            "wait_s",
            "start_s",
            "departure_s",
            "travel_s",
            "distance_m",
        )
    }
    load = _vector(_required(obj, "load", path, eid), f"{path}.load", eid)
    late_s = _integer(obj.get("late_s", 0), f"{path}.late_s", eid)
    return Visit(order_id=eid, load=load, late_s=late_s, **ints)


def _route_from(value: object, path: str) -> Route:
    obj = _object(value, path, None)
    eid = _string(_required(obj, "vehicle_id", path, None), f"{path}.vehicle_id", None)
    _check_keys(obj, _ROUTE_FIELDS + _ROUTE_EXTRAS, path, eid)
    start_depot = _string(
        _required(obj, "start_depot", path, eid), f"{path}.start_depot", eid
    )
    end_value = _required(obj, "end_depot", path, eid)
    end_depot = (
        None if end_value is None else _string(end_value, f"{path}.end_depot", eid)
    )
    ints = {
        key: _integer(_required(obj, key, path, eid), f"{path}.{key}", eid)
        for key in ("start_s", "end_s", "distance_m", "travel_s", "service_s", "wait_s")
    }
    visits = tuple(
        _visit_from(v, f"{path}.visits[{j}]")
        for j, v in enumerate(
            _array(_required(obj, "visits", path, eid), f"{path}.visits", eid)
        )
    )
    return Route(
        vehicle_id=eid,
        start_depot=start_depot,
        end_depot=end_depot,
        visits=visits,
        start_load=_vector(
            _required(obj, "start_load", path, eid), f"{path}.start_load", eid
        ),
        load_factor=_number(
            _required(obj, "load_factor", path, eid), f"{path}.load_factor", eid
        ),
        cost=_number(_required(obj, "cost", path, eid), f"{path}.cost", eid),
        end_travel_s=_integer(obj.get("end_travel_s", 0), f"{path}.end_travel_s", eid),
        end_distance_m=_integer(
            obj.get("end_distance_m", 0), f"{path}.end_distance_m", eid
        ),
        empty_distance_m=_integer(
            obj.get("empty_distance_m", 0), f"{path}.empty_distance_m", eid
        ),
        mean_load_factor=_number(
            obj.get("mean_load_factor", 0.0), f"{path}.mean_load_factor", eid
        ),
        late_s=_integer(obj.get("late_s", 0), f"{path}.late_s", eid),
        breaks=tuple(
            _route_break_from(b, f"{path}.breaks[{k}]", eid)
            for k, b in enumerate(_array(obj.get("breaks", []), f"{path}.breaks", eid))
        ),
        costs=_costs_from(obj, path, eid),
        **ints,
    )


def _route_break_from(value: object, path: str, vehicle_id: str) -> RouteBreak:
    obj = _object(value, path, vehicle_id)
    _check_keys(obj, _BREAK_FIELDS + _BREAK_EXTRAS, path, vehicle_id)
    start_s, end_s = (
        _integer(_required(obj, key, path, vehicle_id), f"{path}.{key}", vehicle_id)
        for key in _BREAK_FIELDS
    )
    return RouteBreak(start_s, end_s)


def _costs_from(
    parent: Mapping[str, object], path: str, entity_id: str | None
) -> Costs:
    """The ``costs`` block of a route or the totals (``path`` is the parent's):
    all four components, or no block at all (a plan file written before costs
    were split by component: every component 0)."""
    if "costs" not in parent:
        return Costs()
    path = _join(path, "costs")
    obj = _object(parent["costs"], path, entity_id)
    _check_keys(obj, _COSTS_FIELDS, path, entity_id)
    return Costs(
        **{
            key: _number(
                _required(obj, key, path, entity_id), _join(path, key), entity_id
            )
            for key in _COSTS_FIELDS
        }
    )


def _unplanned_from(value: object, path: str) -> Unplanned:
    obj = _object(value, path, None)
    eid = _string(_required(obj, "order_id", path, None), f"{path}.order_id", None)
    _check_keys(obj, _UNPLANNED_FIELDS, path, eid)
    code = _string(_required(obj, "code", path, eid), f"{path}.code", eid)
    if code not in {c.value for c in UnplannedCode}:
        _fail(
            f"unknown code {code!r}; known codes: "
            + ", ".join(c.value for c in UnplannedCode),
            f"{path}.code",
            eid,
        )
    reason = _string(_required(obj, "reason", path, eid), f"{path}.reason", eid)
    return Unplanned(order_id=eid, code=UnplannedCode(code), reason=reason)


def _totals_from(value: object, path: str) -> PlanTotals:
    obj = _object(value, path, None)
    _check_keys(obj, _TOTALS_FIELDS + _TOTALS_ADDED + _TOTALS_EXTRAS, path, None)
    ints = {
        key: _integer(_required(obj, key, path, None), f"{path}.{key}", None)
        for key in _TOTALS_FIELDS
        if key != "cost"
    }
    cost = _number(_required(obj, "cost", path, None), f"{path}.cost", None)
    added = {
        key: _integer(obj.get(key, 0), f"{path}.{key}", None)
        for key in _TOTALS_ADDED
        if key != "costs"
    }
    costs = _costs_from(obj, path, None)
    return PlanTotals(cost=cost, costs=costs, **ints, **added)


def _plan_from(value: object) -> Plan:
    top = _object(value, "", None)
    _check_keys(top, _PLAN_FIELDS, "", None)
    status = _string(_required(top, "status", "", None), "status", None)
    if status not in {s.value for s in PlanStatus}:
        _fail(
            f"unknown status {status!r}; known: "
            + ", ".join(s.value for s in PlanStatus),
            "status",
            None,
        )
    stats = {
        key: _stat(v, f"stats.{key}")
        for key, v in _object(top.get("stats", {}), "stats", None).items()
    }
    routes = _array(_required(top, "routes", "", None), "routes", None)
    unplanned = _array(_required(top, "unplanned", "", None), "unplanned", None)
    search = _object(top.get("search", {}), "search", None)
    stop_reason = _string(search.get("stop_reason", ""), "search.stop_reason", None)
    engines = tuple(
        _engine_from(e, f"search.engines[{i}]")
        for i, e in enumerate(_array(search.get("engines", []), "search.engines", None))
    )
    return Plan(
        status=PlanStatus(status),
        routes=tuple(_route_from(r, f"routes[{i}]") for i, r in enumerate(routes)),
        unplanned=tuple(
            _unplanned_from(u, f"unplanned[{i}]") for i, u in enumerate(unplanned)
        ),
        totals=_totals_from(_required(top, "totals", "", None), "totals"),
        solver_status=_string(
            _required(top, "solver_status", "", None), "solver_status", None
        ),
        objective=_integer(top.get("objective", 0), "objective", None),
        stats=stats,
        problem_name=_string(top.get("problem_name", ""), "problem_name", None),
        engines=engines,
        stop_reason=stop_reason,
    )


def _engine_out(run: EngineRun) -> dict[str, object]:
    return {
        "engine": run.engine,
        "outcome": run.outcome,
        "reason": run.reason,
        "relaxations": list(run.relaxations),
        "elapsed_s": run.elapsed_s,
        "objective": run.objective,
        "cost": run.cost,
        "repaired": run.repaired,
        "started_s": run.started_s,
        "iterations": run.iterations,
        "routes_eliminated": run.routes_eliminated,
    }


def _engine_from(value: object, path: str) -> EngineRun:
    data = _object(value, path, None)
    name = _string(_required(data, "engine", path, None), f"{path}.engine", None)
    objective = data.get("objective")
    return EngineRun(
        engine=name,
        outcome=_string(data.get("outcome", ""), f"{path}.outcome", name),
        reason=_string(data.get("reason", ""), f"{path}.reason", name),
        relaxations=tuple(
            _string(r, f"{path}.relaxations[{i}]", name)
            for i, r in enumerate(
                _array(data.get("relaxations", []), f"{path}.relaxations", name)
            )
        ),
        elapsed_s=_number(data.get("elapsed_s", 0.0), f"{path}.elapsed_s", name),
        objective=None
        if objective is None
        else _integer(objective, f"{path}.objective", name),
        repaired=_integer(data.get("repaired", 0), f"{path}.repaired", name),
        started_s=_number(data.get("started_s", 0.0), f"{path}.started_s", name),
        iterations=_integer(data.get("iterations", 0), f"{path}.iterations", name),
        routes_eliminated=_integer(
            data.get("routes_eliminated", 0), f"{path}.routes_eliminated", name
        ),
    )


def plan_from_dict(data: Mapping[str, object]) -> Plan:
    """Read a plan written by :func:`plan_to_dict`.

    Parameters
    ----------
    data
        The decoded plan. The clock texts, durations and per-visit problem
        fields that :func:`plan_to_dict` adds are ignored; ``objective``,
        ``stats``, ``problem_name``, ``end_travel_s`` and ``end_distance_m`` may
        be omitted (0, empty, ``""``, 0, 0), and so may the keys added with the
        delivery-day features, so that older plan files still read: a visit's
        ``late_s``, a route's ``empty_distance_m``, ``mean_load_factor``,
        ``late_s``, ``breaks`` and ``costs``, the totals' ``empty_distance_m``,
        ``late_stops``, ``late_s`` and ``costs`` (0, 0.0, empty, all-zero
        costs). A ``costs`` block, when present, needs all four components.

    Returns
    -------
    Plan
        Equal to the plan that was written: ``plan_from_dict(plan_to_dict(p))
        == p``.

    Raises
    ------
    InvalidProblemError
        For a missing, unknown or mistyped key, with ``path`` (e.g.
        ``routes[0].visits[2].arrival_s``) and ``entity_id`` (vehicle or order
        id). Consistency of the times and loads is ``routing.check``'s business.
    """
    return _plan_from(data)


def save_plan(plan: Plan, path: str | Path, *, problem: Problem | None = None) -> None:
    """Write a plan as indented UTF-8 JSON (see :func:`plan_to_dict`).

    Parameters
    ----------
    plan
        The plan.
    path
        The file to write (replaced if it exists).
    problem
        The problem it solves, to add addresses and windows to the visits.

    Raises
    ------
    ValueError
        If the plan holds a NaN or infinite number (not valid JSON).
    """
    _write_json(plan_to_dict(plan, problem), path)
    logger.debug("wrote plan to %s", path)


def load_plan(path: str | Path) -> Plan:
    """Read a plan file written by :func:`save_plan`.

    Raises
    ------
    InvalidProblemError
        If the file is not valid JSON (message with line and column) or not a
        valid plan (see :func:`plan_from_dict`).
    OSError
        If the file cannot be read.
    """
    return _plan_from(_read_json(path))
