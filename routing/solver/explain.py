"""Why an order was not planned: the nearest fix, found by trying relaxations.

After the search, each required order left out gets a reason a dispatcher can
act on. For every vehicle allowed to serve it (pre-checks), the order is tried at
every position of that vehicle's planned route, re-timed by the same scheduler
the plan uses; what still goes wrong tells which relaxation would let it in:

- nothing: it fits (the search ran out of time; a longer search would take it);
- only its own slot is missed, by X: "fits on V7 if the slot ends X min later";
- only the shift end is overrun, by X: "fits on V7 if its shift ends X min later";
- it fits once one higher-priority order leaves that route: "displaced by";
- every allowed vehicle is in use and it fits alone: "one more vehicle like V3".

Pure Python over the domain model and the schedule; no OR-Tools.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from routing.geo.matrix import TravelMatrix
from routing.model import Problem, Vehicle
from routing.plan import Route, Unplanned, UnplannedCode
from routing.solver.schedule import build_route, latest_end

MAX_EXPLAIN_S = 5.0
"""Time budget for all explanations; orders beyond it keep the generic reason."""


@dataclass(frozen=True, slots=True)
class _Fault:
    """What goes wrong on a trial route: kind, and by how much (seconds or units)."""

    kind: str  # "late_self", "late_other", "shift", "capacity", "limit", "ride", ...
    amount: int


def _faults(
    problem: Problem, vehicle: Vehicle, route: Route, target: str
) -> list[_Fault]:
    """Every rule the trial route breaks (the checker's rules, summarised)."""
    found: list[_Fault] = []
    loads = [route.start_load, *(v.load for v in route.visits)]
    for load in loads:
        over = max(
            (ld - cap for ld, cap in zip(load, vehicle.capacity, strict=True)),
            default=0,
        )
        if over > 0 or min(load, default=0) < 0:
            found.append(_Fault("capacity", max(over, 1)))
            break
    for visit in route.visits:
        order = problem.order(visit.order_id)
        excess = visit.late_s - problem.policy(order).max_lateness_s
        if excess > 0:
            kind = "late_self" if visit.order_id == target else "late_other"
            found.append(_Fault(kind, excess))
    end_limit = latest_end(problem, vehicle)
    if route.end_s > end_limit:
        found.append(_Fault("shift", route.end_s - end_limit))
    if vehicle.max_duration_s is not None and route.duration_s > vehicle.max_duration_s:
        found.append(_Fault("limit", route.duration_s - vehicle.max_duration_s))
    if vehicle.max_stops is not None and len(route.visits) > vehicle.max_stops:
        found.append(_Fault("limit", len(route.visits) - vehicle.max_stops))
    if vehicle.max_distance_m is not None and route.distance_m > vehicle.max_distance_m:
        found.append(_Fault("limit", route.distance_m - vehicle.max_distance_m))
    for brk, spec in zip(route.breaks, vehicle.breaks, strict=False):
        if brk.start_s > spec.window.end_s:
            found.append(_Fault("break", brk.start_s - spec.window.end_s))
    starts = {v.order_id: v for v in route.visits}
    for visit in route.visits:
        pair = problem.pair_of(visit.order_id)
        if pair is None or pair.delivery != visit.order_id:
            continue
        pickup = starts.get(pair.pickup)
        if pickup is not None and pair.max_ride_s is not None:
            ride = visit.start_s - pickup.departure_s
            if ride > pair.max_ride_s:
                found.append(_Fault("ride", ride - pair.max_ride_s))
    return found


def _insertions(sequence: Sequence[str], ids: Sequence[str]) -> list[list[str]]:
    """Every way to insert one order (or a pickup then its delivery)."""
    n = len(sequence)
    if len(ids) == 1:
        return [[*sequence[:i], ids[0], *sequence[i:]] for i in range(n + 1)]
    out = []
    for i in range(n + 1):
        for j in range(i, n + 1):
            out.append([*sequence[:i], ids[0], *sequence[i:j], ids[1], *sequence[j:]])
    return out


def _minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))


def explain_unplanned(
    problem: Problem,
    matrices: Mapping[str, TravelMatrix],
    routes: Sequence[Route],
    dropped: Sequence[str],
    allowed: Mapping[str, Sequence[int]],
    *,
    budget_s: float = MAX_EXPLAIN_S,
) -> dict[str, Unplanned]:
    """The nearest fix for each dropped required order (see the module docstring).

    Parameters
    ----------
    problem, matrices
        The problem and its travel data per speed profile.
    routes
        The planned routes.
    dropped
        Orders the search left out (required ones are explained; optional ones
        and orders beyond the time budget are skipped).
    allowed
        Vehicles (positions in ``problem.vehicles``) allowed per order.

    Returns
    -------
    dict
        ``{order_id: Unplanned}`` for the orders explained.
    """
    t0 = time.perf_counter()
    by_vehicle = {r.vehicle_id: r for r in routes}
    out: dict[str, Unplanned] = {}
    done: set[str] = set()
    for order_id in dropped:
        if order_id in done or time.perf_counter() - t0 > budget_s:
            continue
        order = problem.order(order_id)
        if order.is_optional:
            continue
        pair = problem.pair_of(order_id)
        ids = [pair.pickup, pair.delivery] if pair else [order_id]
        done.update(ids)
        reason = _explain(problem, matrices, by_vehicle, ids, allowed.get(order_id, ()))
        if reason is not None:
            for oid in ids:
                out[oid] = Unplanned(order_id=oid, code=reason[0], reason=reason[1])
    return out


def _explain(
    problem: Problem,
    matrices: Mapping[str, TravelMatrix],
    by_vehicle: Mapping[str, Route],
    ids: Sequence[str],
    allowed: Sequence[int],
) -> tuple[UnplannedCode, str] | None:
    target = ids[0]
    label = f"order {target!r}" if len(ids) == 1 else f"pair {ids[0]!r}->{ids[1]!r}"
    best_late: tuple[int, str] | None = None
    best_shift: tuple[int, str] | None = None
    displaced: tuple[str, str] | None = None
    idle: str | None = None
    for k in allowed:
        vehicle = problem.vehicles[k]
        matrix = matrices[vehicle.profile]
        route = by_vehicle.get(vehicle.id)
        if route is None:
            idle = idle or vehicle.id
        sequence = list(route.order_ids) if route is not None else []
        for trial in _insertions(sequence, ids):
            faults = _faults(
                problem, vehicle, build_route(problem, matrix, vehicle, trial), target
            )
            kinds = {f.kind for f in faults}
            if not faults and route is None:
                return (
                    UnplannedCode.FLEET_FULL,
                    f"vehicle {vehicle.id!r} is unused and could serve {label} on "
                    "its own; the search did not find it in time (a longer time "
                    "limit should plan it)",
                )
            if not faults:
                return (
                    UnplannedCode.FLEET_FULL,
                    f"fits on vehicle {vehicle.id!r} as planned: the search ran out "
                    "of time before placing it; a longer time limit should plan it",
                )
            if kinds == {"late_self"}:
                late = sum(f.amount for f in faults)
                if best_late is None or late < best_late[0]:
                    best_late = (late, vehicle.id)
            if kinds == {"shift"}:
                over = faults[0].amount
                if best_shift is None or over < best_shift[0]:
                    best_shift = (over, vehicle.id)
        if displaced is None:
            displaced = _displacing(problem, vehicle, matrix, sequence, ids)
    if best_late is not None:
        return (
            UnplannedCode.SLOT_TOO_TIGHT,
            f"fits on vehicle {best_late[1]!r} if the slot of {label} ends "
            f"{_minutes(best_late[0])} min later",
        )
    if displaced is not None:
        return (
            UnplannedCode.DISPLACED,
            f"displaced by higher-priority order {displaced[1]!r} on vehicle "
            f"{displaced[0]!r}: it fits there without that order",
        )
    if best_shift is not None:
        return (
            UnplannedCode.SHIFT_TOO_SHORT,
            f"fits on vehicle {best_shift[1]!r} if its shift ends "
            f"{_minutes(best_shift[0])} min later",
        )
    if allowed and idle is None:
        like = problem.vehicles[allowed[0]].id
        return (
            UnplannedCode.NEEDS_MORE_VEHICLES,
            f"every vehicle able to serve {label} is full; it fits if one more "
            f"vehicle like {like!r} is available",
        )
    return None


def _displacing(
    problem: Problem,
    vehicle: Vehicle,
    matrix: TravelMatrix,
    sequence: Sequence[str],
    ids: Sequence[str],
) -> tuple[str, str] | None:
    """A higher-priority order on the route without which ours would fit."""
    mine = problem.policy(problem.order(ids[0])).priority
    for other in sequence:
        if problem.pair_of(other) is not None:
            continue
        if problem.policy(problem.order(other)).priority <= mine:
            continue
        rest = [o for o in sequence if o != other]
        for trial in _insertions(rest, ids):
            route = build_route(problem, matrix, vehicle, trial)
            if not _faults(problem, vehicle, route, ids[0]):
                return vehicle.id, other
    return None
