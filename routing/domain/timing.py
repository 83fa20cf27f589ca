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

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypeVar

from routing.domain.model import Break, Order, Problem, SlotPolicy, Vehicle
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
from routing.domain.units import COST_SCALE

if TYPE_CHECKING:  # the domain does not depend on the geo layer at run time
    from routing.geo.matrix import TravelMatrix

MAX_RIDE_PASSES = 4
"""Re-timing passes that push pickups later to respect pairs' ride limits."""


def service_start(problem: Problem, order: Order, arrival_s: int) -> tuple[int, int]:
    """Earliest service start at or after ``arrival_s``, and its lateness (the
    order's window rule, ``SlotPolicy.service_start``)."""
    return problem.policy(order).service_start(arrival_s)


def _slack(problem: Problem, order: Order, start_s: int) -> int:
    """How much later the service could start and still be on time."""
    return problem.policy(order).slack_s(start_s)


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

    def total_wait(self) -> int:
        return sum(s - a for s, a in zip(self.starts, self.arrivals, strict=True))


@dataclass(frozen=True, slots=True)
class _Legs:
    """What the forward passes of one sequence share: each stop's window rule
    (``SlotPolicy``), the drive to it from the stop before (the start depot
    for the first) and the drive from the last stop to the end depot. Built
    once per `build_route`; `_timed` runs many passes over the same sequence."""

    policies: tuple[SlotPolicy, ...]
    travel: tuple[int, ...]
    end_travel: int


def _legs(
    problem: Problem,
    matrix: TravelMatrix,
    vehicle: Vehicle,
    orders: Sequence[Order],
    rows: Sequence[int],
) -> _Legs:
    durations = matrix.durations_s
    path = [problem.depot_index(vehicle.start_depot), *rows]
    travel = tuple(int(x) for x in durations[path[:-1], path[1:]]) if rows else ()
    end_travel = (
        0
        if vehicle.end_depot is None
        else int(durations[path[-1], problem.depot_index(vehicle.end_depot)])
    )
    return _Legs(tuple(problem.policy(o) for o in orders), travel, end_travel)


def _simulate(
    problem: Problem,
    legs: _Legs,
    vehicle: Vehicle,
    orders: Sequence[Order],
    start_s: int,
    not_before: Mapping[int, int],
    forced: Mapping[int, int] | None = None,
) -> _Timeline:
    """Forward pass from a departure time: service starts, lateness, breaks.

    ``forced[j] = k`` takes break ``j`` in the gap before stop ``k`` at the
    latest (if its window is open by then), instead of at the last gap possible.
    """
    forced = forced or {}
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
    t = start_s
    arrivals: list[int] = []
    starts: list[int] = []
    late: list[int] = []
    for k, (order, policy, travel) in enumerate(
        zip(orders, legs.policies, legs.travel, strict=True)
    ):
        arrival = t + travel
        start, lateness = policy.service_start(arrival)
        if k in not_before and start < not_before[k]:
            start, lateness = policy.service_start(not_before[k])
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
                    start, lateness = policy.service_start(busy_until)
            else:  # at the previous stop, before driving on
                begin = max(busy_until, a)
                taken.append(RouteBreak(begin, begin + d))
                busy_until = begin + d
                arrival = busy_until + travel
                start, lateness = policy.service_start(arrival)
        arrivals.append(arrival)
        starts.append(start)
        late.append(lateness)
        t = start + order.service_s
    end_travel = legs.end_travel
    end = t + end_travel
    if vehicle.end_depot is not None:
        # Back before the end depot opens: the vehicle waits there until it does.
        end = max(end, problem.depot(vehicle.end_depot).opening.start_s)
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


def overrun_bound(
    problem: Problem,
    matrix: TravelMatrix,
    vehicle: Vehicle,
    order_ids: Sequence[str],
) -> int:
    """A lower bound on the lateness beyond the slots' allowance, the return
    after the route's end limit and the rides beyond their limits, over every
    timing of ``order_ids`` on ``vehicle`` (seconds). Lateness and return: at
    the earliest departure with no breaks and no ride limits, which only move
    services and the return later. A ride: at least the drives and the
    services between its pickup and its delivery. Above 0, no timing keeps
    the rules; one forward pass, without the break and departure searches of
    `build_route`."""
    depot = problem.depot(vehicle.start_depot)
    start = max(vehicle.shift.start_s, depot.opening.start_s, problem.horizon.start_s)
    orders = [problem.order(oid) for oid in order_ids]
    rows = [problem.order_index(oid) for oid in order_ids]
    legs = _legs(problem, matrix, vehicle, orders, rows)
    free = replace(vehicle, breaks=())
    timeline = _simulate(problem, legs, free, orders, start, {})
    excess = sum(
        max(0, late - policy.max_lateness_s)
        for late, policy in zip(timeline.late, legs.policies, strict=True)
    )
    excess += max(0, timeline.end_s - latest_end(problem, vehicle))
    for p, k, max_ride_s in _limited_rides(problem, orders):
        ride = sum(legs.travel[p + 1 : k + 1]) + sum(
            o.service_s for o in orders[p + 1 : k]
        )
        excess += max(0, ride - max_ride_s)
    return excess


def latest_end(problem: Problem, vehicle: Vehicle) -> int:
    """When the vehicle's route must be over: shift end, end depot closing, horizon."""
    end = min(vehicle.shift.end_s, problem.horizon.end_s)
    if vehicle.end_depot is not None:
        end = min(end, problem.depot(vehicle.end_depot).opening.end_s)
    return end


def _overrun(
    problem: Problem, vehicle: Vehicle, orders: Sequence[Order], tl: _Timeline
) -> int:
    """Seconds of lateness beyond what the slots allow, plus shift overrun,
    breaks past their window and the duration beyond ``max_duration_s``.

    (Until session 17 the duration was not counted: on a day without an
    hourly cost every departure of a sequence cost the same, so a van left at
    its shift start and waited 1.7 h at its first stop, 28,717 s for a
    25,200-s limit, and the checker rejected the route OR-Tools had planned
    within the limit by leaving later.)"""
    excess = sum(
        max(0, late - problem.policy(order).max_lateness_s)
        for order, late in zip(orders, tl.late, strict=True)
    )
    excess += max(0, tl.end_s - latest_end(problem, vehicle))
    if vehicle.max_duration_s is not None:
        excess += max(0, tl.end_s - tl.start_s - vehicle.max_duration_s)
    excess += sum(
        max(0, b.start_s - spec.window.end_s)
        for b, spec in zip(tl.breaks, vehicle.breaks, strict=False)
    )
    return excess


def _best_break_gaps(
    problem: Problem,
    legs: _Legs,
    vehicle: Vehicle,
    orders: Sequence[Order],
    start_s: int,
    greedy: _Timeline,
    not_before: Mapping[int, int],
) -> tuple[_Timeline, dict[int, int]]:
    """When the greedy break placement makes the route infeasible, try taking
    each break earlier, gap by gap, and keep the least infeasible timeline (the
    search may have planned the break in a gap the greedy rule passes over).
    Returns the timeline and the forced placement that produced it.

    Forcing break j into gap k changes nothing where the unforced timeline
    (``plain``) takes it in gap k or earlier anyway: those trials are the
    unforced timeline, tried once. (Routes with pickups and deliveries under
    ride limits come here on every pass of `_timed`.)"""
    best, best_over = greedy, _overrun(problem, vehicle, orders, greedy)
    best_forced: dict[int, int] = {}
    plain = _simulate(problem, legs, vehicle, orders, start_s, not_before)
    over = _overrun(problem, vehicle, orders, plain)
    if over < best_over or (over == best_over and plain.end_s < best.end_s):
        best, best_over = plain, over
    if best_over == 0:
        return best, best_forced
    for j in range(len(vehicle.breaks)):
        # The gap the unforced timeline takes break j in: stops before it
        # start before the break.
        taken = plain.breaks[j].start_s if j < len(plain.breaks) else None
        last = (
            len(orders)
            if taken is None
            else sum(1 for start in plain.starts if start <= taken)
        )
        for k in range(min(last, len(orders))):
            trial = _simulate(
                problem, legs, vehicle, orders, start_s, not_before, {j: k}
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


def _limited_rides(
    problem: Problem, orders: Sequence[Order]
) -> Iterator[tuple[int, int, int]]:
    """(pickup position, delivery position, max ride) of each pair with a ride
    limit whose pickup comes before its delivery in ``orders``."""
    position = {o.id: k for k, o in enumerate(orders)}
    for k, order in enumerate(orders):
        pair = problem.pair_of(order.id)
        if pair is None or pair.delivery != order.id or pair.max_ride_s is None:
            continue
        p = position.get(pair.pickup)
        if p is not None and p <= k:
            yield p, k, pair.max_ride_s


def _ride_fixes(
    problem: Problem, orders: Sequence[Order], tl: _Timeline
) -> dict[int, int]:
    """Pickups to start later so that their goods' ride stays within the limit."""
    fixes: dict[int, int] = {}
    for p, k, max_ride_s in _limited_rides(problem, orders):
        departure = tl.starts[p] + orders[p].service_s
        overrun = tl.starts[k] - departure - max_ride_s
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

    latest_departure = min(
        vehicle.shift.end_s, depot.opening.end_s, problem.horizon.end_s
    )
    legs = _legs(problem, matrix, vehicle, orders, rows)
    base = _timed(problem, legs, vehicle, orders, earliest_start_s, latest_departure)
    best = _route_from(problem, matrix, vehicle, orders, rows, base)
    candidates = _later_departures(
        problem, orders, base, earliest_start_s, latest_departure
    )
    if not candidates:
        return best
    best_key = _timing_key(
        problem, vehicle, _overrun(problem, vehicle, orders, base), base, best
    )
    for departure in candidates:
        timeline = _timed(
            problem,
            legs,
            vehicle,
            orders,
            departure,
            latest_departure,
            is_thorough=False,
        )
        overrun = _overrun(problem, vehicle, orders, timeline)
        if overrun > best_key[0]:
            continue  # breaks a rule the best timing keeps
        route = _route_from(problem, matrix, vehicle, orders, rows, timeline)
        key = _timing_key(problem, vehicle, overrun, timeline, route)
        if key < best_key:
            best, best_key = route, key
    return best


def _timed(
    problem: Problem,
    legs: _Legs,
    vehicle: Vehicle,
    orders: Sequence[Order],
    earliest_start_s: int,
    latest_departure: int,
    *,
    is_thorough: bool = True,
) -> _Timeline:
    """The timing of the sequence when leaving at ``earliest_start_s`` at the
    earliest: earliest service starts, breaks and ride limits respected where
    the sequence allows, then the departure delayed to absorb waiting.
    ``is_thorough=False`` keeps the greedy break placement even when it breaks
    a rule (for candidate departures: the earliest one is searched in full)."""
    not_before: dict[int, int] = {}
    forced: dict[int, int] = {}
    timeline = _simulate(problem, legs, vehicle, orders, earliest_start_s, not_before)
    for _ in range(MAX_RIDE_PASSES):
        if (
            is_thorough
            and vehicle.breaks
            and _overrun(problem, vehicle, orders, timeline)
        ):
            timeline, forced = _best_break_gaps(
                problem,
                legs,
                vehicle,
                orders,
                earliest_start_s,
                timeline,
                not_before,
            )
        fixes = _ride_fixes(problem, orders, timeline)
        if not fixes:
            break
        not_before.update(fixes)
        timeline = _simulate(
            problem, legs, vehicle, orders, earliest_start_s, not_before, forced
        )

    # Delay the departure by as much waiting as can be absorbed (Savelsbergh's
    # forward time slack): stop k moves by max(0, delay - waiting before k). The
    # delayed timeline is kept only if it ends no later and is no later anywhere.
    waited = 0
    limit = max_delay = timeline.total_wait()
    for k, order in enumerate(orders):
        waited += timeline.starts[k] - timeline.arrivals[k]
        limit = min(limit, waited + _slack(problem, order, timeline.starts[k]))
    limit = min(limit, latest_departure - earliest_start_s)
    delay = max(0, min(max_delay, limit))
    if delay:
        # Pickups held back for a ride limit and breaks forced into a gap stay
        # as they are; without them a ride-limited route kept hours of waiting
        # at its first stop and overran its max duration (van-04 of the delivery
        # day: 27 237 s for a 25 200 s limit).
        delayed = _simulate(
            problem,
            legs,
            vehicle,
            orders,
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
    return timeline


def _later_departures(
    problem: Problem,
    orders: Sequence[Order],
    base: _Timeline,
    earliest_s: int,
    latest_s: int,
) -> list[int]:
    """Departures worth trying besides the earliest one.

    Leaving later by ``d`` moves stop k's service by ``max(0, d - W_k)``, where
    ``W_k`` is the waiting up to and including stop k; so the route's cost is
    linear in ``d`` between the points where a stop starts moving (``W_k``),
    where it passes the end of its slot (``W_k`` + its slack: late from there,
    or served in its next slot) and where it reaches the start of a later slot
    without waiting. Its cheapest timing is at the earliest departure or at
    one of these points; these are the candidates (the solver's objective
    prices the same timing, so the plan and the objective agree). Only tried
    when there is waiting to save; past all of it only a later slot can pay.
    (The departure delay of `_timed` alone tries the largest delay only, and
    keeps none when that one moves a break or the end: a hard day's van then
    waited 39 min at its third stop.)
    """
    total_wait = base.total_wait()
    if total_wait == 0:
        return []
    candidates: set[int] = set()
    jumps: set[int] = set()  # departures reaching a later slot as it opens
    waited = 0  # W_k
    for k, order in enumerate(orders):
        policy = problem.policy(order)
        unwaited = base.arrivals[k] - waited  # arrival had nobody waited before
        waited += base.starts[k] - base.arrivals[k]
        # A break taken while waiting moves with the arrival: only the rest of
        # the waiting absorbs a later departure.
        on_break = sum(
            b.end_s - b.start_s
            for b in base.breaks
            if base.start_s <= b.start_s and b.end_s <= base.starts[k]
        )
        for absorbed in {waited, max(0, waited - on_break)}:
            candidates.add(absorbed)
            # Where the stop reaches its slot's end: the most a hard slot
            # allows, where a soft one starts to cost lateness.
            candidates.add(absorbed + policy.slack_s(base.starts[k]))
        for window in policy.windows[policy.slot_at(base.starts[k]) + 1 :]:
            jumps.add(window.start_s - unwaited)
    # Past all the waiting a later departure only moves the route (or makes
    # it late): only a later slot can still pay off there.
    candidates = {d for d in candidates if d <= total_wait} | jumps
    return sorted(
        base.start_s + d
        for d in candidates
        if earliest_s < base.start_s + d <= latest_s
    )


def _timing_key(
    problem: Problem,
    vehicle: Vehicle,
    overrun: int,
    timeline: _Timeline,
    route: Route,
) -> tuple[int, float, int, int]:
    """Order of preference between timings of one sequence: within the rules
    first (least ``overrun``, `_overrun`), then cheapest in the objective, then
    earliest end, then shortest (a later departure instead of waiting: where
    the hours are not priced, a driver need not wait at the first stop)."""
    return (
        overrun,
        round(timing_cost(problem, vehicle, route), 6),
        timeline.end_s,
        timeline.end_s - timeline.start_s,
    )


def timing_cost(problem: Problem, vehicle: Vehicle, route: Route) -> float:
    """The part of a route's objective that depends on its timing (money).

    The vehicle's hourly cost over the route's duration and the visits'
    lateness costs, weighted as in ``problem.objective``, plus the search
    preferences priced per hour (waiting, serving hard slots early). The same
    terms as the solver's model (``routing/solver/_ortools.py``).
    """
    weights = problem.objective
    cost = weights.duration * route.costs.time + weights.lateness * route.costs.lateness
    if weights.waiting_per_hour:
        cost += weights.waiting_per_hour * route.wait_s / 3600.0
    if weights.early_per_hour:
        early_s = 0
        for visit in route.visits:
            order = problem.order(visit.order_id)
            policy = problem.policy(order)
            if _prefers_early(problem, order, policy.slot_at(visit.start_s)):
                early_s += max(0, visit.start_s - policy.windows[0].start_s)
        cost += weights.early_per_hour * early_s / 3600.0
    return cost


def _prefers_early(problem: Problem, order: Order, slot: int) -> bool:
    """Whether the early-service preference applies to this visit: hard slots
    only (a soft slot's last node is priced by lateness instead), as the
    solver's model has it (one node per slot for unpaired multi-slot orders)."""
    policy = problem.policy(order)
    if not policy.has_slot:
        return False
    if not policy.is_soft:
        return True
    has_slot_nodes = len(policy.windows) > 1 and problem.pair_of(order.id) is None
    return has_slot_nodes and slot < len(policy.windows) - 1


def route_objective(problem: Problem, route: Route) -> float:
    """A route's contribution to the objective the solver minimises (money):
    fixed and distance costs weighted as in ``problem.objective``, plus
    `timing_cost`."""
    weights = problem.objective
    vehicle = problem.vehicle(route.vehicle_id)
    cost = weights.fixed_cost * route.costs.fixed
    if (
        vehicle.cost_per_km * weights.distance
        or vehicle.cost_per_hour * weights.duration
    ):
        cost += weights.distance * route.costs.distance
    else:
        cost += route.distance_m / COST_SCALE  # solver: 1 unit per meter
    return cost + timing_cost(problem, vehicle, route)


def plan_objective(problem: Problem, plan: Plan) -> float:
    """The objective the solver minimises, evaluated on a timed plan (money):
    every route's `route_objective`, the spread of the working day when
    balance is priced, and the penalty of every unplanned order (required
    orders at ``Problem.unplanned_penalty``, optional ones weighted by
    ``objective.unplanned``)."""
    return routes_objective(problem, plan.routes, [u.order_id for u in plan.unplanned])


def routes_objective(
    problem: Problem, routes: Sequence[Route], unplanned: Iterable[str]
) -> float:
    """`plan_objective` of timed ``routes`` with the orders ``unplanned`` (ids)
    left out, before a `Plan` is made of them."""
    weights = problem.objective
    total = sum(route_objective(problem, r) for r in routes)
    if weights.balance_per_hour and routes:
        spread_s = max(r.end_s for r in routes) - min(r.start_s for r in routes)
        total += weights.balance_per_hour * spread_s / 3600.0
    return total + sum(
        unplanned_penalty(problem, problem.order(oid)) for oid in unplanned
    )


def unplanned_penalty(problem: Problem, order: Order) -> float:
    """What leaving ``order`` unplanned costs in the objective (money), as the
    solver's model charges it.

    An optional order costs its penalty (``Problem.unplanned_penalty``: the
    order's ``penalty``, default ``DEFAULT_OPTIONAL_PENALTY``, doubled per
    priority step) times the objective's ``unplanned`` weight. A required order
    costs ``REQUIRED_PENALTY`` doubled per priority step, *not* scaled by that
    weight: required orders stay above any route cost whatever the weight.
    """
    penalty = problem.unplanned_penalty(order)
    return penalty * problem.objective.unplanned if order.is_optional else penalty


def route_violations(problem: Problem, route: Route) -> list[str]:
    """What in a timed route breaks the problem's rules, as short texts (empty:
    none). The solver's own test of a candidate route, from the values the
    timing computed; ``routing.check`` stays the independent judge.

    Covers what a sequence can get wrong once timed: lateness beyond the slot's
    allowance, the shift and depot closing, break windows, duration, distance,
    stop and capacity limits, skills and vehicle kinds, pairs (same vehicle,
    pickup first, ride limit).
    """
    vehicle = problem.vehicle(route.vehicle_id)
    found: list[str] = []
    position = {v.order_id: k for k, v in enumerate(route.visits)}
    for load in (route.start_load, *(v.load for v in route.visits)):
        if any(q > c for q, c in zip(load, vehicle.capacity, strict=True)):
            found.append(f"load {load} above capacity {vehicle.capacity}")
            break
    for visit in route.visits:
        order = problem.order(visit.order_id)
        if visit.late_s > problem.policy(order).allowance_s:
            found.append(f"{order.id}: {visit.late_s} s late")
        if not order.skills <= vehicle.skills:
            found.append(f"{order.id}: skills {sorted(order.skills)} missing")
        if order.vehicle_kinds and vehicle.kind not in order.vehicle_kinds:
            found.append(f"{order.id}: not served by a {vehicle.kind}")
        pair = problem.pair_of(order.id)
        if pair is not None and pair.delivery == order.id:
            p = position.get(pair.pickup)
            if p is None or p > position[order.id]:
                found.append(f"{order.id}: not after its pickup {pair.pickup}")
            elif pair.max_ride_s is not None:
                ride = visit.start_s - route.visits[p].departure_s
                if ride > pair.max_ride_s:
                    found.append(f"{order.id}: ride {ride} s")
        elif pair is not None and pair.delivery not in position:
            found.append(f"{order.id}: its delivery {pair.delivery} elsewhere")
    if route.end_s > latest_end(problem, vehicle):
        found.append(f"ends at {route.end_s} s, after {latest_end(problem, vehicle)}")
    if vehicle.max_duration_s is not None and route.duration_s > vehicle.max_duration_s:
        found.append(f"duration {route.duration_s} s")
    if vehicle.max_distance_m is not None and route.distance_m > vehicle.max_distance_m:
        found.append(f"distance {route.distance_m} m")
    if vehicle.max_stops is not None and len(route.visits) > vehicle.max_stops:
        found.append(f"{len(route.visits)} stops")
    for taken, rule in zip(route.breaks, vehicle.breaks, strict=False):
        if taken.start_s > rule.window.end_s or taken.start_s < rule.window.start_s:
            found.append(f"break at {taken.start_s} s outside its window")
    return found


_Stop = TypeVar("_Stop", bound=Hashable)


def greedy_keep(
    route: Sequence[_Stop],
    accepts: Callable[[list[_Stop]], bool],
    delivery_of: Mapping[_Stop, _Stop],
) -> list[_Stop]:
    """Greedy repair: keep each stop of ``route`` (with its pair's delivery,
    ``delivery_of[pickup]``, held at the end) whose addition leaves a route
    that ``accepts`` judges feasible on its own. Stops are order ids or a
    solver's indices alike."""
    pickup_of = {d: p for p, d in delivery_of.items()}
    kept: list[_Stop] = []
    pending: list[_Stop] = []  # deliveries of kept pickups, not yet reached
    candidate: list[_Stop]
    new_pending: list[_Stop]
    for stop in route:
        if stop in pickup_of:  # a delivery
            if pickup_of[stop] not in kept:
                continue  # its pickup was dropped
            candidate = [*kept, stop, *(d for d in pending if d != stop)]
            new_pending = [d for d in pending if d != stop]
        elif stop in delivery_of:  # a pickup
            candidate = [*kept, stop, *pending, delivery_of[stop]]
            new_pending = [*pending, delivery_of[stop]]
        else:
            candidate = [*kept, stop, *pending]
            new_pending = pending
        if accepts(candidate):
            kept.append(stop)
            pending = new_pending
    # Pickups whose delivery was never reached in order: drop both.
    for d in pending:
        kept.remove(pickup_of[d])
    return kept


def keep_feasible(
    problem: Problem, matrix: TravelMatrix, vehicle: Vehicle, order_ids: Sequence[str]
) -> list[str]:
    """``order_ids`` as they are if the route they make keeps every rule
    (`route_violations`), else the stops `greedy_keep` keeps in their order:
    a route another model planned (a relaxed engine, a peer), made feasible
    by leaving out what breaks it."""

    def keeps(ids: list[str]) -> bool:
        return not ids or not route_violations(
            problem, build_route(problem, matrix, vehicle, ids)
        )

    if keeps(list(order_ids)):
        return list(order_ids)
    delivery_of = {pair.pickup: pair.delivery for pair in problem.pairs}
    return greedy_keep(order_ids, keeps, delivery_of)


def keep_feasible_routes(
    problem: Problem,
    matrices: Mapping[str, TravelMatrix],
    sequences: Mapping[str, Sequence[str]],
) -> tuple[dict[str, list[str]], list[str]]:
    """Every route of ``{vehicle id: order ids}`` through `keep_feasible`, and
    the orders left out, in route order. Routes of unknown vehicles are
    returned as they are (the checker names them)."""
    vehicles = {v.id: v for v in problem.vehicles}
    out: dict[str, list[str]] = {}
    dropped: list[str] = []
    for vid, seq in sequences.items():
        vehicle = vehicles.get(vid)
        if vehicle is None:
            out[vid] = list(seq)
            continue
        out[vid] = keep_feasible(problem, matrices[vehicle.profile], vehicle, seq)
        kept = set(out[vid])
        dropped += [oid for oid in seq if oid not in kept]
    return out, dropped


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
