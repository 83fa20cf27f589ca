"""Pre-solve feasibility: which vehicles could serve each order on a route of its own.

Cheap checks run before the search. An order no vehicle can serve alone is left
out of the model and reported with a reason a dispatcher can act on; for the
others, the vehicles that can serve them restrict the search (fewer, better moves).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from routing.domain.model import Order, Problem, Vehicle
from routing.domain.plan import Unplanned, UnplannedCode
from routing.domain.units import MAX_HORIZON_S, format_clock
from routing.geo.matrix import TravelMatrix


@dataclass(frozen=True, slots=True)
class Precheck:
    """Result of the pre-solve checks.

    ``allowed[order_id]`` lists the positions (in ``problem.vehicles``) of the
    vehicles that can serve the order alone; orders in ``unplanned`` have none.
    """

    allowed: Mapping[str, tuple[int, ...]]
    unplanned: Mapping[str, Unplanned]


def _fits_capacity(order: Order, vehicle: Vehicle) -> bool:
    return all(
        d <= c and p <= c
        for d, p, c in zip(order.delivery, order.pickup, vehicle.capacity, strict=True)
    )


def may_carry(order: Order, vehicle: Vehicle) -> bool:
    """Whether ``vehicle`` may serve ``order`` by its kind, skills and capacity,
    time aside: what `precheck` checks before whether the vehicle can reach the
    order in time and within its route limits."""
    kinds = order.vehicle_kinds
    return (
        (not kinds or vehicle.kind in kinds)
        and order.skills <= vehicle.skills
        and _fits_capacity(order, vehicle)
    )


def _time_fit(
    problem: Problem, matrix: TravelMatrix, vehicle: Vehicle, order: Order
) -> tuple[bool, int]:
    """Whether the vehicle can serve the order alone in time; and its earliest
    arrival (seconds) at the order."""
    start_depot = problem.depot(vehicle.start_depot)
    row = problem.order_index(order.id)
    start_row = problem.depot_index(vehicle.start_depot)
    depart = max(
        vehicle.shift.start_s, start_depot.opening.start_s, problem.horizon.start_s
    )
    latest_end = min(
        vehicle.shift.end_s, start_depot.opening.end_s, problem.horizon.end_s
    )
    arrival = depart + int(matrix.durations_s[start_row, row])
    back_s = 0
    back_m = 0
    if vehicle.end_depot is not None:
        end_row = problem.depot_index(vehicle.end_depot)
        latest_end = min(
            vehicle.shift.end_s,
            problem.depot(vehicle.end_depot).opening.end_s,
            problem.horizon.end_s,
        )
        back_s = int(matrix.durations_s[row, end_row])
        back_m = int(matrix.distances_m[row, end_row])
    ok = False
    for window in _windows_with_lateness(problem, order):
        start = max(arrival, window[0])
        if start > window[1]:
            continue
        if start + order.service_s + back_s > latest_end:
            continue
        ok = True
        break
    if ok and vehicle.max_duration_s is not None:
        direct = int(matrix.durations_s[start_row, row]) + order.service_s + back_s
        ok = direct <= vehicle.max_duration_s
    if ok and vehicle.max_distance_m is not None:
        ok = int(matrix.distances_m[start_row, row]) + back_m <= vehicle.max_distance_m
    if ok and vehicle.max_stops is not None:
        ok = vehicle.max_stops >= 1
    return ok, arrival


def _windows_with_lateness(problem: Problem, order: Order) -> list[tuple[int, int]]:
    """The order's windows as (start, end), the last one extended by the lateness
    its slot allows."""
    policy = problem.policy(order)
    windows = [(w.start_s, w.end_s) for w in policy.windows]
    windows[-1] = (windows[-1][0], policy.latest_start_s)
    return windows


def _pair_fit(
    problem: Problem,
    matrix: TravelMatrix,
    vehicle: Vehicle,
    pickup: Order,
    delivery: Order,
    max_ride_s: int | None,
) -> bool:
    """Whether the vehicle can serve the pair alone: depot, pickup, delivery, end."""
    start_depot = problem.depot(vehicle.start_depot)
    t = max(vehicle.shift.start_s, start_depot.opening.start_s, problem.horizon.start_s)
    prev = problem.depot_index(vehicle.start_depot)
    starts = []
    for order in (pickup, delivery):
        row = problem.order_index(order.id)
        arrival = t + int(matrix.durations_s[prev, row])
        start = None
        for lo, hi in _windows_with_lateness(problem, order):
            if arrival <= hi:
                start = max(arrival, lo)
                break
        if start is None:
            return False
        starts.append(start)
        t = start + order.service_s
        prev = row
    if max_ride_s is not None:
        ride = starts[1] - (starts[0] + pickup.service_s)
        if ride > max_ride_s:
            # Collect later so that the goods wait at the pickup, not on board.
            later = starts[0] + ride - max_ride_s
            windows = _windows_with_lateness(problem, pickup)
            if not any(lo <= later <= hi for lo, hi in windows):
                return False
    latest_end = min(vehicle.shift.end_s, problem.horizon.end_s)
    if vehicle.end_depot is not None:
        latest_end = min(latest_end, problem.depot(vehicle.end_depot).opening.end_s)
        t += int(matrix.durations_s[prev, problem.depot_index(vehicle.end_depot)])
    if vehicle.max_stops is not None and vehicle.max_stops < 2:
        return False
    return t <= latest_end


def _check_pairs(
    problem: Problem,
    matrices: Mapping[str, TravelMatrix],
    allowed: dict[str, tuple[int, ...]],
    unplanned: dict[str, Unplanned],
) -> None:
    """Both orders of a pair go on one vehicle: intersect their vehicles, check
    the pair alone, and leave both out (with a reason) when none can."""
    vehicles = problem.vehicles
    for pair in problem.pairs:
        pickup, delivery = problem.order(pair.pickup), problem.order(pair.delivery)
        for this, other in ((pickup, delivery), (delivery, pickup)):
            if this.id in unplanned and other.id not in unplanned:
                allowed.pop(other.id, None)
                unplanned[other.id] = Unplanned(
                    order_id=other.id,
                    code=UnplannedCode.PAIR_UNSERVABLE,
                    reason=f"its pair {pair.id!r} partner {this.id!r} cannot be "
                    f"served: {unplanned[this.id].reason}",
                )
        if pickup.id in unplanned:
            continue
        both = sorted(set(allowed[pickup.id]) & set(allowed[delivery.id]))
        fit = tuple(
            k
            for k in both
            if _pair_fit(
                problem,
                matrices[vehicles[k].profile],
                vehicles[k],
                pickup,
                delivery,
                pair.max_ride_s,
            )
        )
        if fit:
            allowed[pickup.id] = allowed[delivery.id] = fit
            continue
        reason = (
            f"pair {pair.id!r}: no vehicle can collect at {pickup.id!r} and then "
            f"deliver at {delivery.id!r} within their slots"
            + ("" if pair.max_ride_s is None else " and the maximum ride time")
            + " and its shift"
            if both
            else f"pair {pair.id!r}: no vehicle can serve both {pickup.id!r} and "
            f"{delivery.id!r} (skills, kinds, capacity or time)"
        )
        for order in (pickup, delivery):
            allowed.pop(order.id, None)
            unplanned[order.id] = Unplanned(
                order_id=order.id, code=UnplannedCode.PAIR_UNSERVABLE, reason=reason
            )


def precheck(problem: Problem, matrices: Mapping[str, TravelMatrix]) -> Precheck:
    """Find, for every order, the vehicles able to serve it on a route of its own.

    Parameters
    ----------
    problem
        The problem.
    matrices
        Travel data per speed profile used by the fleet.

    Returns
    -------
    Precheck
        Allowed vehicles per order, and the orders no vehicle can serve with the
        most specific reason: no vehicles, missing skill, capacity, slot outside
        every shift, slot unreachable in time, or another route limit.
    """
    allowed: dict[str, tuple[int, ...]] = {}
    unplanned: dict[str, Unplanned] = {}
    vehicles = problem.vehicles
    for order in problem.orders:
        if not vehicles:
            unplanned[order.id] = Unplanned(
                order_id=order.id,
                code=UnplannedCode.NO_VEHICLES,
                reason="the problem has no vehicles",
            )
            continue
        kinds = order.vehicle_kinds
        kinded = [k for k, v in enumerate(vehicles) if not kinds or v.kind in kinds]
        if not kinded:
            fleet = sorted({v.kind for v in vehicles})
            unplanned[order.id] = Unplanned(
                order_id=order.id,
                code=UnplannedCode.NO_VEHICLE_KIND,
                reason=f"accepts only vehicle kind(s) {sorted(kinds)}; the fleet "
                f"has {fleet}",
            )
            continue
        skilled = [k for k in kinded if order.skills <= vehicles[k].skills]
        if not skilled:
            missing = sorted(
                order.skills - set().union(*(vehicles[k].skills for k in kinded))
            )
            detail = (
                f"no vehicle has skill(s) {missing}"
                if missing
                else f"no single vehicle has all of {sorted(order.skills)}"
            )
            unplanned[order.id] = Unplanned(
                order_id=order.id, code=UnplannedCode.MISSING_SKILL, reason=detail
            )
            continue
        roomy = [k for k in skilled if _fits_capacity(order, vehicles[k])]
        if not roomy:
            largest = max(skilled, key=lambda k: vehicles[k].capacity)
            over = [
                f"{name} {max(d, p)} > {c}"
                for name, d, p, c in zip(
                    problem.quantities,
                    order.delivery,
                    order.pickup,
                    vehicles[largest].capacity,
                    strict=True,
                )
                if max(d, p) > c
            ]
            unplanned[order.id] = Unplanned(
                order_id=order.id,
                code=UnplannedCode.EXCEEDS_CAPACITY,
                reason="exceeds every vehicle's capacity"
                + (f" ({', '.join(over)} on the largest)" if over else ""),
            )
            continue
        timely: list[int] = []
        earliest: int | None = None
        for k in roomy:
            vehicle = vehicles[k]
            ok, arrival = _time_fit(problem, matrices[vehicle.profile], vehicle, order)
            earliest = arrival if earliest is None else min(earliest, arrival)
            if ok:
                timely.append(k)
        if timely:
            allowed[order.id] = tuple(timely)
            continue
        unplanned[order.id] = _time_reason(
            problem, order, [vehicles[k] for k in roomy], earliest
        )
    _check_pairs(problem, matrices, allowed, unplanned)
    return Precheck(allowed=allowed, unplanned=unplanned)


def surely_overbooked(problem: Problem, allowed: Mapping[str, Sequence[int]]) -> bool:
    """True when the allowed orders cannot all be served, by a bound that needs
    no search: their depot loads (or their returns) exceed the whole fleet's
    capacity in some quantity, or their service times exceed the fleet's hours
    (each vehicle makes one trip; travel is left out, so False proves nothing),
    or they are more than the fleet's stop limits."""
    orders = [problem.order(oid) for oid in allowed]
    if not orders or not problem.vehicles:
        return False
    quantities = range(len(problem.quantities))
    fleet = [sum(v.capacity[q] for v in problem.vehicles) for q in quantities]
    loads = problem.start_load(o.id for o in orders)
    returns = [
        sum(o.pickup[q] for o in orders if problem.pair_of(o.id) is None)
        for q in quantities
    ]
    if any(need > have for need, have in zip(loads, fleet, strict=True)) or any(
        need > have for need, have in zip(returns, fleet, strict=True)
    ):
        return True
    stops = [v.max_stops for v in problem.vehicles]
    if None not in stops and len(orders) > sum(n or 0 for n in stops):
        return True
    hours = sum(
        min(
            v.shift.end_s - v.shift.start_s,
            v.max_duration_s if v.max_duration_s is not None else MAX_HORIZON_S,
        )
        for v in problem.vehicles
    )
    return sum(o.service_s for o in orders) > hours


def _time_reason(
    problem: Problem, order: Order, vehicles: list[Vehicle], earliest: int | None
) -> Unplanned:
    windows = problem.policy(order).windows
    late = problem.policy(order).max_lateness_s
    slots = ", ".join(
        f"{format_clock(w.start_s)}-{format_clock(w.end_s)}" for w in windows
    )
    shifts_start = min(v.shift.start_s for v in vehicles)
    shifts_end = max(v.shift.end_s for v in vehicles)
    if all(w.end_s < shifts_start or w.start_s > shifts_end for w in windows):
        return Unplanned(
            order_id=order.id,
            code=UnplannedCode.OUTSIDE_SHIFTS,
            reason=f"slot {slots} lies outside every shift "
            f"({format_clock(shifts_start)}-{format_clock(shifts_end)})",
        )
    if earliest is not None and all(earliest > w.end_s + late for w in windows):
        return Unplanned(
            order_id=order.id,
            code=UnplannedCode.UNREACHABLE_IN_TIME,
            reason=f"slot {slots} cannot be reached: earliest arrival is "
            f"{format_clock(earliest)}",
        )
    return Unplanned(
        order_id=order.id,
        code=UnplannedCode.NO_VEHICLE_FITS,
        reason=f"no vehicle can serve slot {slots} and return within its shift, "
        "depot hours, maximum duration or distance",
    )
