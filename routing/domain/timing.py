"""Route timing: turn an ordered list of stops into a Route with times and loads.

The solver decides *which* vehicle serves *which* orders in *what* order; this
module decides *when*. Given the sequence it computes the earliest feasible
service starts (waiting when early, late only where the order's slot allows it),
places the driver's breaks, then delays the departure from the depot as far as
that removes waiting without moving the return (drivers do not leave only to wait
in front of a closed door). It is independent of OR-Tools so that re-planning,
ETAs and the why-not-planned analysis reuse it.

Breaks follow the rules the checker enforces (``routing/check.py``): a break is
taken in a gap between two services, either before driving on (at the previous
stop) or on arrival (while waiting for the slot); it is taken as soon as it costs
nothing (it fits in waiting) or at the last gap where its window is still open; a
route that ends before the window closes takes it after the end, off duty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from routing.domain.model import Break, Order, Problem, Vehicle
from routing.domain.plan import (
    Plan,
    PlanStatus,
    Route,
    RouteBreak,
    Unplanned,
    UnplannedCode,
    Visit,
    lateness_cost,
    route_costs,
    summarize,
)

if TYPE_CHECKING:  # the domain does not depend on the geo layer at run time
    from routing.geo.matrix import TravelMatrix

MAX_RIDE_PASSES = 4
"""Re-timing passes that push pickups later to respect pairs' ride limits."""


def service_start(problem: Problem, order: Order, arrival_s: int) -> tuple[int, int]:
    """Earliest service start at or after ``arrival_s``, and its lateness.

    Waits for the next window when early or between windows; after the last
    window the service starts on arrival, late by the overrun (the caller or the
    checker judges whether the order's slot allows that much).
    """
    windows = order.windows or (problem.horizon,)
    for window in windows:
        if arrival_s <= window.end_s:
            return max(arrival_s, window.start_s), 0
    if not order.windows:
        return arrival_s, 0
    return arrival_s, arrival_s - windows[-1].end_s


def _slack(problem: Problem, order: Order, start_s: int) -> int:
    """How much later the service could start and still be on time."""
    windows = order.windows or (problem.horizon,)
    for window in windows:
        if window.start_s <= start_s <= window.end_s:
            return window.end_s - start_s
    return 0


@dataclass(slots=True)
class _Timeline:
    start_s: int
    arrivals: list[int]
    starts: list[int]
    late: list[int]
    breaks: list[RouteBreak]
    end_s: int

    def total_late(self) -> int:
        return sum(self.late)


def _simulate(
    problem: Problem,
    matrix: TravelMatrix,
    vehicle: Vehicle,
    orders: Sequence[Order],
    rows: Sequence[int],
    start_s: int,
    not_before: Mapping[int, int],
    forced: Mapping[int, int] | None = None,
) -> _Timeline:
    """Forward pass from a departure time: service starts, lateness, breaks.

    ``forced[j] = k`` takes break ``j`` in the gap before stop ``k`` at the
    latest (if its window is open by then), instead of at the last gap possible.
    """
    forced = forced or {}
    durations = matrix.durations_s
    pending: list[Break] = list(vehicle.breaks)
    taken: list[RouteBreak] = []
    # Off duty before the route: a break whose window lets it end by departure,
    # or whose window closes before the vehicle may leave (the departure then
    # waits for the break's end).
    while pending and (
        pending[0].window.start_s + pending[0].duration_s <= start_s
        or pending[0].window.end_s < start_s
    ):
        b = pending.pop(0)
        begin = max(b.window.start_s, taken[-1].end_s if taken else b.window.start_s)
        taken.append(RouteBreak(begin, begin + b.duration_s))
        start_s = max(start_s, begin + b.duration_s)
    prev = problem.depot_index(vehicle.start_depot)
    t = start_s
    arrivals: list[int] = []
    starts: list[int] = []
    late: list[int] = []
    for k, (order, row) in enumerate(zip(orders, rows, strict=True)):
        travel = int(durations[prev, row])
        arrival = t + travel
        start, lateness = service_start(problem, order, arrival)
        if k in not_before and start < not_before[k]:
            start, lateness = service_start(problem, order, not_before[k])
        busy_until = t  # breaks taken in this gap so far end here
        while pending:
            b = pending[0]
            a, z, d = b.window.start_s, b.window.end_s, b.duration_s
            on_arrival = max(arrival, a, busy_until)
            is_free = on_arrival <= z and on_arrival + d <= start
            is_due = max(start + order.service_s, a) > z  # no later gap can take it
            is_forced = forced.get(len(taken), len(orders)) <= k
            if not (is_free or is_due or (is_forced and on_arrival <= z)):
                break
            pending.pop(0)
            if on_arrival <= z:  # while waiting at the stop
                taken.append(RouteBreak(on_arrival, on_arrival + d))
                busy_until = on_arrival + d
                if busy_until > start:
                    start, lateness = service_start(problem, order, busy_until)
            else:  # at the previous stop, before driving on
                begin = max(busy_until, a)
                taken.append(RouteBreak(begin, begin + d))
                busy_until = begin + d
                arrival = busy_until + travel
                start, lateness = service_start(problem, order, arrival)
        arrivals.append(arrival)
        starts.append(start)
        late.append(lateness)
        t = start + order.service_s
        prev = row
    if vehicle.end_depot is None:
        end_travel = 0
    else:
        end_travel = int(durations[prev, problem.depot_index(vehicle.end_depot)])
    end = t + end_travel
    off_duty = end  # breaks after the end follow one another from here
    for b in pending:  # the route's last gap, or off duty after the end
        a, z, d = b.window.start_s, b.window.end_s, b.duration_s
        if max(end, off_duty) <= z:
            begin = max(end, a, off_duty)
            off_duty = begin + d
        else:
            begin = max(t, a)
            end = max(end, begin + d + end_travel)
            t = begin + d
            off_duty = end
        taken.append(RouteBreak(begin, begin + d))
    return _Timeline(start_s, arrivals, starts, late, taken, end)


def latest_end(problem: Problem, vehicle: Vehicle) -> int:
    """When the vehicle's route must be over: shift end, end depot closing, horizon."""
    end = min(vehicle.shift.end_s, problem.horizon.end_s)
    if vehicle.end_depot is not None:
        end = min(end, problem.depot(vehicle.end_depot).opening.end_s)
    return end


def _overrun(
    problem: Problem, vehicle: Vehicle, orders: Sequence[Order], tl: _Timeline
) -> int:
    """Seconds of lateness beyond what the slots allow, plus shift overrun."""
    excess = sum(
        max(0, late - problem.policy(order).max_lateness_s)
        for order, late in zip(orders, tl.late, strict=True)
    )
    excess += max(0, tl.end_s - latest_end(problem, vehicle))
    excess += sum(
        max(0, b.start_s - spec.window.end_s)
        for b, spec in zip(tl.breaks, vehicle.breaks, strict=False)
    )
    return excess


def _best_break_gaps(
    problem: Problem,
    matrix: TravelMatrix,
    vehicle: Vehicle,
    orders: Sequence[Order],
    rows: Sequence[int],
    start_s: int,
    greedy: _Timeline,
    not_before: Mapping[int, int],
) -> tuple[_Timeline, dict[int, int]]:
    """When the greedy break placement makes the route infeasible, try taking
    each break earlier, gap by gap, and keep the least infeasible timeline (the
    search may have planned the break in a gap the greedy rule passes over).
    Returns the timeline and the forced placement that produced it."""
    best, best_over = greedy, _overrun(problem, vehicle, orders, greedy)
    best_forced: dict[int, int] = {}
    for j in range(len(vehicle.breaks)):
        for k in range(len(orders)):
            trial = _simulate(
                problem, matrix, vehicle, orders, rows, start_s, not_before, {j: k}
            )
            over = _overrun(problem, vehicle, orders, trial)
            if over < best_over or (over == best_over and trial.end_s < best.end_s):
                best, best_over, best_forced = trial, over, {j: k}
            if best_over == 0:
                return best, best_forced
    return best, best_forced


def _is_allowed(problem: Problem, orders: Sequence[Order], tl: _Timeline) -> bool:
    return all(
        late <= problem.policy(order).max_lateness_s
        for order, late in zip(orders, tl.late, strict=True)
    )


def _ride_fixes(
    problem: Problem, orders: Sequence[Order], tl: _Timeline
) -> dict[int, int]:
    """Pickups to start later so that their goods' ride stays within the limit."""
    position = {o.id: k for k, o in enumerate(orders)}
    fixes: dict[int, int] = {}
    for k, order in enumerate(orders):
        pair = problem.pair_of(order.id)
        if pair is None or pair.delivery != order.id or pair.max_ride_s is None:
            continue
        p = position.get(pair.pickup)
        if p is None or p > k:
            continue
        departure = tl.starts[p] + orders[p].service_s
        overrun = tl.starts[k] - departure - pair.max_ride_s
        if overrun > 0:
            fixes[p] = tl.starts[p] + overrun
    return fixes


def build_route(
    problem: Problem,
    matrix: TravelMatrix,
    vehicle: Vehicle,
    order_ids: Sequence[str],
    *,
    earliest_start_s: int | None = None,
) -> Route:
    """Schedule ``order_ids`` on ``vehicle`` and return the Route.

    Parameters
    ----------
    problem
        The problem the orders belong to.
    matrix
        Travel data of the vehicle's speed profile, rows following
        ``problem.locations``.
    vehicle
        The vehicle driving the route.
    order_ids
        The stops in visiting order (non-empty).
    earliest_start_s
        Earliest departure from the depot; default: the later of the shift start
        and the depot opening.

    Returns
    -------
    Route
        Times, breaks, loads, distances, KPIs and costs. Service start never
        precedes the order's window; if the sequence misses a slot or the shift,
        the route is returned as is (late) and the checker reports it.
    """
    depot = problem.depot(vehicle.start_depot)
    if earliest_start_s is None:
        earliest_start_s = max(
            vehicle.shift.start_s, depot.opening.start_s, problem.horizon.start_s
        )
    orders = [problem.order(oid) for oid in order_ids]
    rows = [problem.order_index(oid) for oid in order_ids]

    not_before: dict[int, int] = {}
    forced: dict[int, int] = {}
    timeline = _simulate(
        problem, matrix, vehicle, orders, rows, earliest_start_s, not_before
    )
    for _ in range(MAX_RIDE_PASSES):
        if vehicle.breaks and _overrun(problem, vehicle, orders, timeline):
            timeline, forced = _best_break_gaps(
                problem,
                matrix,
                vehicle,
                orders,
                rows,
                earliest_start_s,
                timeline,
                not_before,
            )
        fixes = _ride_fixes(problem, orders, timeline)
        if not fixes:
            break
        not_before.update(fixes)
        timeline = _simulate(
            problem,
            matrix,
            vehicle,
            orders,
            rows,
            earliest_start_s,
            not_before,
            forced,
        )

    # Delay the departure by as much waiting as can be absorbed (Savelsbergh's
    # forward time slack): stop k moves by max(0, delay - waiting before k). The
    # delayed timeline is kept only if it ends no later and is no later anywhere.
    waited = 0
    limit = sum(s - a for s, a in zip(timeline.starts, timeline.arrivals, strict=True))
    max_delay = limit
    for k, order in enumerate(orders):
        waited += timeline.starts[k] - timeline.arrivals[k]
        limit = min(limit, waited + _slack(problem, order, timeline.starts[k]))
    latest_departure = min(
        vehicle.shift.end_s, depot.opening.end_s, problem.horizon.end_s
    )
    limit = min(limit, latest_departure - earliest_start_s)
    delay = max(0, min(max_delay, limit))
    if delay:
        # Pickups held back for a ride limit and breaks forced into a gap stay
        # as they are; without them a ride-limited route kept hours of waiting
        # at its first stop and overran its max duration (van-04 of the delivery
        # day: 27 237 s for a 25 200 s limit).
        delayed = _simulate(
            problem,
            matrix,
            vehicle,
            orders,
            rows,
            earliest_start_s + delay,
            not_before,
            forced,
        )
        if (
            delayed.end_s <= timeline.end_s
            and delayed.total_late() <= timeline.total_late()
            and _overrun(problem, vehicle, orders, delayed)
            <= _overrun(problem, vehicle, orders, timeline)
            and (
                _is_allowed(problem, orders, delayed)
                or not _is_allowed(problem, orders, timeline)
            )
            and not _ride_fixes(problem, orders, delayed)
        ):
            timeline = delayed
    return _route_from(problem, matrix, vehicle, orders, rows, timeline)


def _route_from(
    problem: Problem,
    matrix: TravelMatrix,
    vehicle: Vehicle,
    orders: Sequence[Order],
    rows: Sequence[int],
    tl: _Timeline,
) -> Route:
    durations = matrix.durations_s
    distances = matrix.distances_m
    start_load = problem.start_load(o.id for o in orders)
    load = start_load
    visits: list[Visit] = []
    prev = problem.depot_index(vehicle.start_depot)
    peak = _fill(start_load, vehicle.capacity)
    empty_m = 0
    filled_m = 0.0
    lateness = 0.0
    for k, (order, row) in enumerate(zip(orders, rows, strict=True)):
        leg_m = int(distances[prev, row])
        if not any(load):
            empty_m += leg_m
        filled_m += _fill(load, vehicle.capacity) * leg_m
        load = tuple(
            load[q] - order.delivery[q] + order.pickup[q] for q in range(len(load))
        )
        peak = max(peak, _fill(load, vehicle.capacity))
        lateness += lateness_cost(
            tl.late[k], problem.policy(order).lateness_cost_per_hour
        )
        visits.append(
            Visit(
                order_id=order.id,
                arrival_s=tl.arrivals[k],
                wait_s=tl.starts[k] - tl.arrivals[k],
                start_s=tl.starts[k],
                departure_s=tl.starts[k] + order.service_s,
                load=load,
                travel_s=int(durations[prev, row]),
                distance_m=leg_m,
                late_s=tl.late[k],
            )
        )
        prev = row
    if vehicle.end_depot is None:
        end_travel_s = end_distance_m = 0
    else:
        end_row = problem.depot_index(vehicle.end_depot)
        end_travel_s = int(durations[prev, end_row])
        end_distance_m = int(distances[prev, end_row])
        if not any(load):
            empty_m += end_distance_m
        filled_m += _fill(load, vehicle.capacity) * end_distance_m
    distance_m = sum(v.distance_m for v in visits) + end_distance_m
    costs = route_costs(
        distance_m=distance_m,
        duration_s=tl.end_s - tl.start_s,
        fixed_cost=vehicle.fixed_cost,
        cost_per_km=vehicle.cost_per_km,
        cost_per_hour=vehicle.cost_per_hour,
        lateness=lateness,
    )
    return Route(
        vehicle_id=vehicle.id,
        start_depot=vehicle.start_depot,
        end_depot=vehicle.end_depot,
        start_s=tl.start_s,
        end_s=tl.end_s,
        visits=tuple(visits),
        start_load=start_load,
        distance_m=distance_m,
        travel_s=sum(v.travel_s for v in visits) + end_travel_s,
        service_s=sum(v.service_s for v in visits),
        wait_s=sum(v.wait_s for v in visits),
        load_factor=peak,
        cost=costs.total,
        end_travel_s=end_travel_s,
        end_distance_m=end_distance_m,
        empty_distance_m=empty_m,
        mean_load_factor=filled_m / distance_m if distance_m else 0.0,
        breaks=tuple(tl.breaks),
        late_s=sum(tl.late),
        costs=costs,
    )


def _fill(load: tuple[int, ...], capacity: tuple[int, ...]) -> float:
    """Fullest quantity as a fraction of capacity (quantities with capacity > 0)."""
    return max(
        (ld / cap for ld, cap in zip(load, capacity, strict=True) if cap > 0),
        default=0.0,
    )


def build_routes(
    problem: Problem,
    matrices: Mapping[str, TravelMatrix],
    sequences: Mapping[str, Sequence[str]],
) -> tuple[Route, ...]:
    """Routes for ``{vehicle_id: order ids in visiting order}``, in fleet order;
    vehicles with no orders get no route."""
    return tuple(
        build_route(problem, matrices[v.profile], v, sequences[v.id])
        for v in problem.vehicles
        if sequences.get(v.id)
    )


def plan_from_routes(
    problem: Problem,
    matrices: Mapping[str, TravelMatrix],
    sequences: Mapping[str, Sequence[str]],
    *,
    solver_status: str = "",
    reason: str = "not on any route",
    reasons: Mapping[str, Unplanned] | None = None,
) -> Plan:
    """A timed, costed Plan for ordered routes; every order not on a route is
    listed unplanned (with ``reasons[order_id]`` if given, else ``reason``).

    Parameters
    ----------
    problem
        The problem the routes serve.
    matrices
        Travel data per speed profile, rows following ``problem.locations``.
    sequences
        ``{vehicle_id: order ids in visiting order}``.
    solver_status
        Who or what made the routes, for the plan's ``solver_status``.
    reason, reasons
        The unplanned orders' reason (code ``NO_SOLUTION`` unless given).
    """
    routes = build_routes(problem, matrices, sequences)
    served = {oid for seq in sequences.values() for oid in seq}
    reasons = reasons or {}
    unplanned = tuple(
        reasons.get(o.id)
        or Unplanned(order_id=o.id, code=UnplannedCode.NO_SOLUTION, reason=reason)
        for o in problem.orders
        if o.id not in served
    )
    if not unplanned:
        status = PlanStatus.SOLVED
    else:
        status = PlanStatus.PARTIAL if routes else PlanStatus.NO_SOLUTION
    return Plan(
        status=status,
        routes=routes,
        unplanned=unplanned,
        totals=summarize(routes, len(unplanned)),
        solver_status=solver_status,
        problem_name=problem.name,
    )
