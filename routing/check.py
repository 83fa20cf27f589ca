"""Independent plan checker: recomputes a Plan from its Problem and travel matrices.

The checker shares nothing with the solver but the domain values and the cost
formulas of ``routing.domain.plan`` (``route_costs``, ``lateness_cost``). It never
imports
``routing.solver``, ``routing.geo`` or OR-Tools, so a bug in the solver's model,
its scheduler or its extraction of a solution cannot hide itself here.

Two kinds of check are made, and the split keeps one mistake from being reported
many times over:

- *Bookkeeping*: every reported number must follow from its direct inputs as
  reported (a visit's arrival from the previous reported departure plus the
  reported travel and breaks, its lateness from its service start, a route's
  distance, empty distance and costs from its reported legs, loads and visits, the
  plan totals from its reported routes). The inputs at the bottom (legs, service
  times, break durations, start load) are compared with the matrix, the orders and
  the vehicles, so a wrong number is reported where it first goes wrong, not again
  in everything computed from it.
- *Feasibility*: time windows and allowed lateness, shifts, depot hours, the
  horizon, capacity, vehicle kinds, pickup-and-delivery pairs, breaks and the route
  limits are judged on values recomputed from the problem and the matrix, taking
  only the decisions from the plan (which vehicle, which orders in which order,
  when the route leaves, when each service and each break starts, and, where a
  break is taken between two stops, when the vehicle arrives and when the route
  ends, since the driver may wait for the break before or after it). A plan whose
  numbers are wrong is thus still judged on what would really happen.

Breaks follow one placement rule. A break lies either off duty (entirely before
the route leaves or after it ends) or in one *gap* between two services: from the
route's start or the previous departure to the next service start, or from the
last departure to the route's end. Inside a gap it is taken either before the
vehicle arrives (at the previous stop or on the way; the gap must still leave the
time to drive) or on arrival (while waiting for the service).
"""

from __future__ import annotations

import logging
import math
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, TypeAlias

import numpy as np
from numpy.typing import NDArray

from routing.domain.errors import MatrixError
from routing.domain.model import Order, Problem, Vehicle
from routing.domain.plan import (
    Costs,
    Plan,
    PlanStatus,
    Route,
    RouteBreak,
    lateness_cost,
    route_costs,
)

logger = logging.getLogger(__name__)

__all__ = [
    "MatrixLike",
    "TravelLike",
    "Violation",
    "ViolationKind",
    "assert_plan_ok",
    "check_plan",
]

COST_REL_TOL = 1e-9
"""Relative tolerance on money amounts: costs are floats summed in different orders
by the solver and the checker, so they may differ in the last bits."""

COST_ABS_TOL = 1e-6
"""Absolute tolerance on money amounts, for costs at or near zero."""

LOAD_FACTOR_TOL = 1e-9
"""Absolute tolerance on a route's load factor (a float ratio of integers)."""


class MatrixLike(Protocol):
    """Travel data for one speed profile: what the checker needs of a matrix.

    Both arrays are N x N integers, N = ``len(problem.locations)``, rows and columns
    following ``Problem.locations`` (depots first, then orders); entry ``[i, j]``
    is from i to j. ``routing.geo.TravelMatrix`` satisfies this protocol.
    """

    @property
    def distances_m(self) -> NDArray[np.int64]:
        """Distances in meters."""
        ...

    @property
    def durations_s(self) -> NDArray[np.int64]:
        """Travel times in seconds."""
        ...


TravelLike: TypeAlias = MatrixLike | Mapping[str, MatrixLike]
"""One matrix used by every vehicle, or one per speed profile (``Vehicle.profile``)."""


class ViolationKind(StrEnum):
    """The rule a plan breaks; one member per rule."""

    # Coverage: every order is served once or listed unplanned once.
    UNKNOWN_ORDER = "unknown_order"
    """A route or the unplanned list names an order the problem does not have."""
    ORDER_SERVED_TWICE = "order_served_twice"
    """An order is visited more than once (in one route or across routes)."""
    ORDER_UNPLANNED_TWICE = "order_unplanned_twice"
    """An order is listed unplanned more than once."""
    ORDER_SERVED_AND_UNPLANNED = "order_served_and_unplanned"
    """An order is both visited and listed unplanned."""
    ORDER_MISSING = "order_missing"
    """An order is neither visited nor listed unplanned (dropped silently)."""

    # Vehicles.
    UNKNOWN_VEHICLE = "unknown_vehicle"
    """A route names a vehicle the problem does not have (its route is not checked
    further)."""
    VEHICLE_USED_TWICE = "vehicle_used_twice"
    """A vehicle has more than one route."""
    WRONG_START_DEPOT = "wrong_start_depot"
    """A route's start depot is not its vehicle's."""
    WRONG_END_DEPOT = "wrong_end_depot"
    """A route's end depot is not its vehicle's (None for an open-ended vehicle)."""
    EMPTY_ROUTE = "empty_route"
    """A route has no visits (an unused vehicle has no route)."""

    # Timing.
    LEG_TRAVEL_MISMATCH = "leg_travel_mismatch"
    """A leg's travel_s (to a visit, or to the end) differs from the matrix."""
    LEG_DISTANCE_MISMATCH = "leg_distance_mismatch"
    """A leg's distance_m (to a visit, or to the end) differs from the matrix."""
    ARRIVAL_MISMATCH = "arrival_mismatch"
    """arrival_s is not the previous departure plus the leg's travel; or, when
    breaks are taken in that gap, is earlier than that plus the durations of the
    breaks taken before arriving."""
    WAIT_MISMATCH = "wait_mismatch"
    """wait_s is not start_s - arrival_s."""
    SERVICE_BEFORE_ARRIVAL = "service_before_arrival"
    """Service starts before the vehicle can be there (negative wait), counting
    the breaks taken before arriving."""
    DEPARTURE_MISMATCH = "departure_mismatch"
    """departure_s is not start_s plus the order's service time."""
    OUTSIDE_TIME_WINDOW = "outside_time_window"
    """Service starts outside every time window of the order and not within the
    order's allowed lateness (``Problem.policy``) after its last window."""
    LATENESS_MISMATCH = "lateness_mismatch"
    """A visit's late_s is not how long after the end of the order's last window
    its service starts (0 if not after it, or if the order has no windows)."""
    OUTSIDE_HORIZON = "outside_horizon"
    """A route time lies outside the planning horizon."""
    END_TIME_MISMATCH = "end_time_mismatch"
    """end_s is not the last departure plus the leg to the end depot; or, when
    breaks are taken after the last departure, is earlier than that plus their
    durations."""
    OUTSIDE_SHIFT = "outside_shift"
    """The route leaves before the shift starts or ends after it ends."""
    DEPOT_CLOSED = "depot_closed"
    """The route leaves or returns while its depot is closed."""

    # Capacity.
    START_LOAD_MISMATCH = "start_load_mismatch"
    """start_load is not the sum of the route's deliveries except paired ones
    (``Problem.start_load``: those goods are collected at the pair's pickup)."""
    LOAD_MISMATCH = "load_mismatch"
    """A visit's load is not the previous load - delivery + pickup."""
    CAPACITY_EXCEEDED = "capacity_exceeded"
    """The vehicle carries more than its capacity at some point."""
    NEGATIVE_LOAD = "negative_load"
    """A load, as reported or as recomputed, is negative (e.g. a paired delivery
    before its pickup)."""

    # Pickup-and-delivery pairs (``Problem.pairs``).
    PAIR_SPLIT = "pair_split"
    """One order of a pair is served and the other not, or they are served by
    different vehicles."""
    PAIR_ORDER = "pair_order"
    """A pair's delivery is visited before its pickup."""
    RIDE_TOO_LONG = "ride_too_long"
    """A pair's goods stay on board longer than its max_ride_s (from leaving the
    pickup stop to the start of the delivery service)."""

    # Limits, skills and vehicle kinds.
    TOO_MANY_STOPS = "too_many_stops"
    """A route has more visits than the vehicle's max_stops."""
    MAX_DURATION_EXCEEDED = "max_duration_exceeded"
    """A route lasts longer than the vehicle's max_duration_s."""
    MAX_DISTANCE_EXCEEDED = "max_distance_exceeded"
    """A route is longer than the vehicle's max_distance_m."""
    MISSING_SKILL = "missing_skill"
    """An order needs a skill its vehicle lacks."""
    WRONG_VEHICLE_KIND = "wrong_vehicle_kind"
    """An order that accepts only some vehicle kinds is served by another kind."""

    # Driver breaks (``Vehicle.breaks``; the k-th route break is the k-th break).
    BREAK_MISSING = "break_missing"
    """A route does not have exactly one break per break of its vehicle (one is
    missing, or there is one too many)."""
    BREAK_DURATION_MISMATCH = "break_duration_mismatch"
    """A route break's end_s - start_s is not its break's duration_s."""
    BREAK_OUTSIDE_WINDOW = "break_outside_window"
    """A route break starts outside its break's window."""
    BREAKS_OVERLAP = "breaks_overlap"
    """Two breaks of a route overlap in time."""
    BREAK_OVERLAPS_WORK = "break_overlaps_work"
    """A break during the route lies in no gap between services (it overlaps a
    service, the departure or the return), spans the arrival at a stop, or leaves
    too little time to drive the gap's leg."""

    # Route sums.
    ROUTE_DISTANCE_MISMATCH = "route_distance_mismatch"
    """Route distance_m is not the sum of its legs."""
    ROUTE_TRAVEL_MISMATCH = "route_travel_mismatch"
    """Route travel_s is not the sum of its legs."""
    ROUTE_SERVICE_MISMATCH = "route_service_mismatch"
    """Route service_s is not the sum of its orders' service times."""
    ROUTE_WAIT_MISMATCH = "route_wait_mismatch"
    """Route wait_s is not the sum of its visits' waits."""
    ROUTE_LATENESS_MISMATCH = "route_lateness_mismatch"
    """Route late_s is not the sum of its visits' late_s."""
    LOAD_FACTOR_MISMATCH = "load_factor_mismatch"
    """Route load_factor is not its peak load over capacity."""
    EMPTY_DISTANCE_MISMATCH = "empty_distance_mismatch"
    """Route empty_distance_m is not the summed distance of its legs driven with
    nothing on board (as the reported loads say)."""
    MEAN_LOAD_FACTOR_MISMATCH = "mean_load_factor_mismatch"
    """Route mean_load_factor is not the fill on its legs (as the reported loads
    say) averaged with the legs' distances as weights (0.0 for a route of no
    distance)."""
    ROUTE_COST_MISMATCH = "route_cost_mismatch"
    """Route costs are not ``route_costs`` of its distance, duration and visits'
    lateness costs, or its cost is not their total."""

    # Plan.
    TOTALS_MISMATCH = "totals_mismatch"
    """A field of plan.totals is not the sum over the plan's routes."""
    STATUS_MISMATCH = "status_mismatch"
    """The status is SOLVED while orders are unplanned, or not SOLVED while none
    are."""
    ROUTES_WITHOUT_SOLUTION = "routes_without_solution"
    """The status is NO_SOLUTION but the plan has routes."""


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule.

    Parameters
    ----------
    kind
        Which rule.
    message
        What is wrong, naming the vehicle and order concerned and the numbers
        (times in s, distances in m).
    vehicle_id, order_id
        The vehicle and order concerned, when there is one.
    """

    kind: ViolationKind
    message: str
    vehicle_id: str | None = None
    order_id: str | None = None

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


def check_plan(problem: Problem, plan: Plan, travel: TravelLike) -> list[Violation]:
    """Check a plan against its problem and travel data, collecting every violation.

    Parameters
    ----------
    problem
        The problem the plan claims to solve.
    plan
        The plan to check.
    travel
        One matrix for every vehicle, or a mapping from speed profile
        (``Vehicle.profile``) to matrix; see ``MatrixLike``.

    Returns
    -------
    list[Violation]
        Every violation found, in a stable order (coverage, then route by route,
        then pairs, then totals and status); empty when the plan is valid.

    Raises
    ------
    MatrixError
        If ``travel`` has no matrix for a used vehicle's profile, or a matrix is
        not N x N for the problem's N locations. These are faults of the call,
        not of the plan.

    Notes
    -----
    A route whose vehicle is unknown, or that visits an unknown order, is reported
    once and not checked further, since every other check of it would fail too;
    neither is a pair with an order on such a route.
    """
    violations = _check_coverage(problem, plan)
    vehicles = {v.id: v for v in problem.vehicles}
    order_ids = {o.id for o in problem.orders}
    route_counts = Counter(r.vehicle_id for r in plan.routes)
    for vehicle_id, count in route_counts.items():
        if count > 1 and vehicle_id in vehicles:
            violations.append(
                Violation(
                    ViolationKind.VEHICLE_USED_TWICE,
                    f'vehicle "{vehicle_id}" has {count} routes; at most one allowed',
                    vehicle_id=vehicle_id,
                )
            )
    unchecked: set[int] = set()  # positions of routes not checked further
    for i, route in enumerate(plan.routes):
        vehicle = vehicles.get(route.vehicle_id)
        if vehicle is None:
            violations.append(
                Violation(
                    ViolationKind.UNKNOWN_VEHICLE,
                    f'route names unknown vehicle "{route.vehicle_id}"; known '
                    f"vehicles: {sorted(vehicles)}",
                    vehicle_id=route.vehicle_id,
                )
            )
            unchecked.add(i)
            continue
        if any(oid not in order_ids for oid in route.order_ids):
            unchecked.add(i)
            continue  # reported by _check_coverage; its row is unknown
        matrix = _matrix_for(travel, vehicle.profile, len(problem.locations))
        violations.extend(_check_route(problem, route, vehicle, matrix))
    violations.extend(_check_pairs(problem, plan, unchecked))
    violations.extend(_check_totals(plan))
    violations.extend(_check_status(plan))
    logger.debug("plan checked: %d violation(s)", len(violations))
    return violations


def assert_plan_ok(problem: Problem, plan: Plan, travel: TravelLike) -> None:
    """Assert that a plan has no violations (for tests).

    Parameters
    ----------
    problem, plan, travel
        As for ``check_plan``.

    Raises
    ------
    AssertionError
        Listing every violation, one per line, if there is any.
    """
    violations = check_plan(problem, plan, travel)
    if violations:
        lines = "\n".join(f"  - {v}" for v in violations)
        raise AssertionError(f"plan has {len(violations)} violation(s):\n{lines}")


def _matrix_for(travel: TravelLike, profile: str, size: int) -> MatrixLike:
    if isinstance(travel, Mapping):
        try:
            matrix: MatrixLike = travel[profile]
        except KeyError:
            raise MatrixError(
                f"no travel matrix for speed profile {profile!r}; have {sorted(travel)}"
            ) from None
    else:
        matrix = travel
    for name in ("distances_m", "durations_s"):
        shape = np.shape(getattr(matrix, name))
        if shape != (size, size):
            raise MatrixError(
                f"profile {profile!r}: {name} has shape {shape}, but the problem "
                f"has {size} locations"
            )
    return matrix


def _check_coverage(problem: Problem, plan: Plan) -> list[Violation]:
    known = {o.id for o in problem.orders}
    found: list[Violation] = []
    served: defaultdict[str, list[str]] = defaultdict(list)
    for route in plan.routes:
        for order_id in route.order_ids:
            served[order_id].append(route.vehicle_id)
            if order_id not in known:
                found.append(
                    Violation(
                        ViolationKind.UNKNOWN_ORDER,
                        f'vehicle "{route.vehicle_id}" visits unknown order '
                        f'"{order_id}"',
                        vehicle_id=route.vehicle_id,
                        order_id=order_id,
                    )
                )
    unplanned = Counter(plan.unplanned_ids)
    for order_id in unplanned:
        if order_id not in known:
            found.append(
                Violation(
                    ViolationKind.UNKNOWN_ORDER,
                    f'unplanned list names unknown order "{order_id}"',
                    order_id=order_id,
                )
            )
    for order_id, vehicle_ids in served.items():
        if len(vehicle_ids) > 1:
            found.append(
                Violation(
                    ViolationKind.ORDER_SERVED_TWICE,
                    f'order "{order_id}" is visited {len(vehicle_ids)} times, by '
                    f"vehicles {vehicle_ids}",
                    vehicle_id=vehicle_ids[0],
                    order_id=order_id,
                )
            )
    for order_id, count in unplanned.items():
        if count > 1:
            found.append(
                Violation(
                    ViolationKind.ORDER_UNPLANNED_TWICE,
                    f'order "{order_id}" is listed unplanned {count} times',
                    order_id=order_id,
                )
            )
        if order_id in served:
            found.append(
                Violation(
                    ViolationKind.ORDER_SERVED_AND_UNPLANNED,
                    f'order "{order_id}" is listed unplanned but visited by '
                    f"vehicle(s) {served[order_id]}",
                    vehicle_id=served[order_id][0],
                    order_id=order_id,
                )
            )
    for order in problem.orders:
        if order.id not in served and order.id not in unplanned:
            found.append(
                Violation(
                    ViolationKind.ORDER_MISSING,
                    f'order "{order.id}" is neither visited nor listed unplanned',
                    order_id=order.id,
                )
            )
    return found


def _check_route(
    problem: Problem, route: Route, vehicle: Vehicle, matrix: MatrixLike
) -> Iterator[Violation]:
    """Check one route of a known vehicle whose orders are all known."""
    vid = vehicle.id

    def violation(
        kind: ViolationKind, message: str, order_id: str | None = None
    ) -> Violation:
        return Violation(kind, f'vehicle "{vid}": {message}', vid, order_id)

    durations = matrix.durations_s
    distances = matrix.distances_m
    names = problem.quantities

    if route.start_depot != vehicle.start_depot:
        yield violation(
            ViolationKind.WRONG_START_DEPOT,
            f"route starts at depot {route.start_depot!r}, the vehicle at "
            f"{vehicle.start_depot!r}",
        )
    if route.end_depot != vehicle.end_depot:
        yield violation(
            ViolationKind.WRONG_END_DEPOT,
            f"route ends at depot {route.end_depot!r}, the vehicle at "
            f"{vehicle.end_depot!r}",
        )
    if not route.visits:
        yield violation(
            ViolationKind.EMPTY_ROUTE,
            "route has no visits; an unused vehicle must have no route",
        )
    if vehicle.max_stops is not None and len(route.visits) > vehicle.max_stops:
        yield violation(
            ViolationKind.TOO_MANY_STOPS,
            f"{len(route.visits)} visits, max_stops is {vehicle.max_stops}",
        )

    orders = [problem.order(v.order_id) for v in route.visits]
    gaps, break_violations = _check_breaks(route, vehicle, orders, violation)
    yield from break_violations

    true_load = problem.start_load(route.order_ids)
    if route.start_load != true_load:
        yield violation(
            ViolationKind.START_LOAD_MISMATCH,
            f"start_load {route.start_load}, but the route loads {true_load} "
            f"{names} at the depot (its deliveries except paired ones)",
        )
    # What is on board at each point: recomputed (for capacity) and as reported.
    loads: list[tuple[str, tuple[int, ...], tuple[int, ...], str | None]] = [
        ("at the start depot", true_load, route.start_load, None)
    ]
    # Times that must lie in the horizon, recomputed from the decisions.
    times: list[tuple[str, int]] = [("departure from the depot", route.start_s)]

    prev_row = problem.depot_index(vehicle.start_depot)
    prev_departure = route.start_s  # as reported
    true_departure = route.start_s  # recomputed
    load = route.start_load  # as reported
    true_distance = 0
    for k, (visit, order) in enumerate(zip(route.visits, orders, strict=True)):
        oid = order.id
        at = f'visit {k} (order "{oid}")'
        gap = gaps[k]
        row = problem.order_index(oid)
        travel_s = int(durations[prev_row, row])
        distance_m = int(distances[prev_row, row])
        true_distance += distance_m
        if visit.travel_s != travel_s:
            yield violation(
                ViolationKind.LEG_TRAVEL_MISMATCH,
                f"{at}: travel_s {visit.travel_s} s, the matrix says {travel_s} s",
                oid,
            )
        if visit.distance_m != distance_m:
            yield violation(
                ViolationKind.LEG_DISTANCE_MISMATCH,
                f"{at}: distance_m {visit.distance_m} m, the matrix says "
                f"{distance_m} m",
                oid,
            )
        arrival_s = prev_departure + visit.travel_s + gap.before_reported_s
        if gap.has_breaks and visit.arrival_s < arrival_s:
            yield violation(
                ViolationKind.ARRIVAL_MISMATCH,
                f"{at}: arrival_s {visit.arrival_s} s, but previous departure "
                f"{prev_departure} s + travel {visit.travel_s} s + breaks "
                f"{gap.before_reported_s} s = {arrival_s} s at the earliest",
                oid,
            )
        elif not gap.has_breaks and visit.arrival_s != arrival_s:
            yield violation(
                ViolationKind.ARRIVAL_MISMATCH,
                f"{at}: arrival_s {visit.arrival_s} s, but previous departure "
                f"{prev_departure} s + travel {visit.travel_s} s = {arrival_s} s",
                oid,
            )
        if visit.wait_s != visit.start_s - visit.arrival_s:
            yield violation(
                ViolationKind.WAIT_MISMATCH,
                f"{at}: wait_s {visit.wait_s} s, but start_s {visit.start_s} s - "
                f"arrival_s {visit.arrival_s} s = {visit.start_s - visit.arrival_s} s",
                oid,
            )
        true_arrival = true_departure + travel_s + gap.before_true_s
        if gap.has_breaks:
            # With breaks in the gap the arrival is a decision of the plan (the
            # driver may wait for a break's window at the previous stop).
            drive_s = visit.arrival_s - true_departure
            if gap.before_true_s and drive_s < travel_s + gap.before_true_s:
                yield violation(
                    ViolationKind.BREAK_OVERLAPS_WORK,
                    f"{at}: {drive_s} s from departure {true_departure} s to arrival "
                    f"{visit.arrival_s} s leave no time for travel {travel_s} s "
                    f"and breaks {gap.before_true_s} s",
                    oid,
                )
            true_arrival = max(true_arrival, visit.arrival_s)
        if visit.start_s < true_arrival:
            yield violation(
                ViolationKind.SERVICE_BEFORE_ARRIVAL,
                f"{at}: service starts at {visit.start_s} s, but the vehicle "
                f"arrives at {true_arrival} s at the earliest",
                oid,
            )
        if visit.departure_s != visit.start_s + order.service_s:
            yield violation(
                ViolationKind.DEPARTURE_MISMATCH,
                f"{at}: departure_s {visit.departure_s} s, but start_s "
                f"{visit.start_s} s + service {order.service_s} s = "
                f"{visit.start_s + order.service_s} s",
                oid,
            )
        yield from _check_slot(
            problem, order, visit.start_s, visit.late_s, at, violation
        )
        missing = order.skills - vehicle.skills
        if missing:
            yield violation(
                ViolationKind.MISSING_SKILL,
                f"{at}: needs skill(s) {sorted(missing)}, the vehicle has "
                f"{sorted(vehicle.skills)}",
                oid,
            )
        if order.vehicle_kinds and vehicle.kind not in order.vehicle_kinds:
            yield violation(
                ViolationKind.WRONG_VEHICLE_KIND,
                f"{at}: accepts vehicle kind(s) {sorted(order.vehicle_kinds)}, the "
                f"vehicle's kind is {vehicle.kind!r}",
                oid,
            )
        expected = tuple(
            held - d + p
            for held, d, p in zip(load, order.delivery, order.pickup, strict=False)
        )
        if visit.load != expected:
            yield violation(
                ViolationKind.LOAD_MISMATCH,
                f"{at}: load {visit.load}, but previous load {load} - delivery "
                f"{order.delivery} + pickup {order.pickup} = {expected} {names}",
                oid,
            )
        true_load = tuple(
            held - d + p
            for held, d, p in zip(true_load, order.delivery, order.pickup, strict=True)
        )
        loads.append((f"after {at}", true_load, visit.load, oid))
        true_departure = visit.start_s + order.service_s
        times += [
            (f"arrival at {at}", true_arrival),
            (f"service start at {at}", visit.start_s),
            (f"departure from {at}", true_departure),
        ]
        prev_row = row
        prev_departure = visit.departure_s
        load = visit.load

    if vehicle.end_depot is None:
        end_travel_s = end_distance_m = 0
        end_leg = "open-ended route: leg to the end"
    else:
        end_row = problem.depot_index(vehicle.end_depot)
        end_travel_s = int(durations[prev_row, end_row])
        end_distance_m = int(distances[prev_row, end_row])
        end_leg = f"leg to end depot {vehicle.end_depot!r}"
    true_distance += end_distance_m
    last = gaps[-1]
    # Back before the end depot opens, the vehicle waits there until it does.
    opens_s = (
        problem.depot(vehicle.end_depot).opening.start_s
        if vehicle.end_depot is not None
        else 0
    )
    true_end = max(true_departure + end_travel_s + last.before_true_s, opens_s)
    if last.has_breaks:
        # As for an arrival: the driver may wait for the break before driving on.
        drive_s = route.end_s - true_departure
        if drive_s < end_travel_s + last.before_true_s:
            yield violation(
                ViolationKind.BREAK_OVERLAPS_WORK,
                f"{drive_s} s from the last departure {true_departure} s to the end "
                f"{route.end_s} s leave no time for travel {end_travel_s} s and "
                f"breaks {last.before_true_s} s",
            )
        true_end = max(true_end, route.end_s)
    times.append(("end of the route", true_end))
    if route.end_travel_s != end_travel_s:
        yield violation(
            ViolationKind.LEG_TRAVEL_MISMATCH,
            f"{end_leg}: end_travel_s {route.end_travel_s} s, expected "
            f"{end_travel_s} s",
        )
    if route.end_distance_m != end_distance_m:
        yield violation(
            ViolationKind.LEG_DISTANCE_MISMATCH,
            f"{end_leg}: end_distance_m {route.end_distance_m} m, expected "
            f"{end_distance_m} m",
        )
    end_s = max(prev_departure + route.end_travel_s + last.before_reported_s, opens_s)
    if last.has_breaks and route.end_s < end_s:
        yield violation(
            ViolationKind.END_TIME_MISMATCH,
            f"end_s {route.end_s} s, but last departure {prev_departure} s + end "
            f"travel {route.end_travel_s} s + breaks {last.before_reported_s} s = "
            f"{end_s} s at the earliest",
        )
    elif not last.has_breaks and route.end_s != end_s:
        yield violation(
            ViolationKind.END_TIME_MISMATCH,
            f"end_s {route.end_s} s, but last departure {prev_departure} s + end "
            f"travel {route.end_travel_s} s, waiting for the end depot to open if "
            f"it is closed, = {end_s} s",
        )

    yield from _check_hours(problem, route, vehicle, true_end, times, violation)

    duration_s = true_end - route.start_s
    if vehicle.max_duration_s is not None and duration_s > vehicle.max_duration_s:
        yield violation(
            ViolationKind.MAX_DURATION_EXCEEDED,
            f"route lasts {duration_s} s, max_duration_s is {vehicle.max_duration_s}",
        )
    if vehicle.max_distance_m is not None and true_distance > vehicle.max_distance_m:
        yield violation(
            ViolationKind.MAX_DISTANCE_EXCEEDED,
            f"route is {true_distance} m long, max_distance_m is "
            f"{vehicle.max_distance_m}",
        )

    for where, held, _, point_order in loads:
        over = [
            f"{name} {value} > {cap}"
            for name, value, cap in zip(names, held, vehicle.capacity, strict=True)
            if value > cap
        ]
        if over:
            yield violation(
                ViolationKind.CAPACITY_EXCEEDED,
                f"{where}: carries {', '.join(over)} (capacity)",
                point_order,
            )
    # A recomputed load goes negative when a paired delivery comes before its
    # pickup (also reported as PAIR_ORDER); a reported one also when it is
    # misreported. One violation per point either way.
    for where, held, reported, point_order in loads:
        if any(value < 0 for value in (*held, *reported)):
            yield violation(
                ViolationKind.NEGATIVE_LOAD,
                f"{where}: load {reported} (recomputed {held}) is negative",
                point_order,
            )

    yield from _check_route_sums(problem, route, vehicle, orders, violation)


class _MakeViolation(Protocol):
    """Builds a Violation about one route's vehicle (see ``_check_route``)."""

    def __call__(
        self, kind: ViolationKind, message: str, order_id: str | None = None
    ) -> Violation: ...


def _check_slot(
    problem: Problem,
    order: Order,
    start_s: int,
    late_s: int,
    at: str,
    violation: _MakeViolation,
) -> Iterator[Violation]:
    """A service start against the order's windows and allowed lateness, and the
    visit's reported lateness against that start."""
    if not order.windows:
        if late_s != 0:
            yield violation(
                ViolationKind.LATENESS_MISMATCH,
                f"{at}: late_s {late_s} s, but the order has no time window",
                order.id,
            )
        return
    policy = problem.policy(order)
    last = order.windows[-1]  # windows are sorted and disjoint
    overrun_s = start_s - last.end_s
    if not any(w.contains(start_s) for w in order.windows) and not (
        0 < overrun_s <= policy.max_lateness_s
    ):
        spans = ", ".join(f"[{w.start_s}, {w.end_s}]" for w in order.windows)
        allowed = (
            f"; up to {policy.max_lateness_s} s late is allowed, after the last "
            "window only"
            if policy.is_soft
            else ""
        )
        yield violation(
            ViolationKind.OUTSIDE_TIME_WINDOW,
            f"{at}: service starts at {start_s} s, outside the time window(s) "
            f"{spans} s{allowed}",
            order.id,
        )
    if late_s != max(0, overrun_s):
        yield violation(
            ViolationKind.LATENESS_MISMATCH,
            f"{at}: late_s {late_s} s, but service starts at {start_s} s and the "
            f"last window ends at {last.end_s} s (late by {max(0, overrun_s)} s)",
            order.id,
        )


@dataclass(slots=True)
class _Gap:
    """The breaks placed in one gap of a route (see ``_check_breaks``)."""

    has_breaks: bool = False
    """Whether any break lies in the gap (before or on arrival)."""
    before_true_s: int = 0
    """Summed durations, as the vehicle defines them, of the breaks taken before
    arriving (feasibility)."""
    before_reported_s: int = 0
    """The same as reported by the route breaks (bookkeeping)."""


def _check_breaks(
    route: Route,
    vehicle: Vehicle,
    orders: list[Order],
    violation: _MakeViolation,
) -> tuple[list[_Gap], list[Violation]]:
    """The route's breaks against the vehicle's, and where they are placed.

    Returns the breaks found in each gap (gap k ends at visit k's service start,
    the last gap at the route's end) and the violations. A break's true end is its
    start plus the duration of the vehicle's break it stands for (its reported
    duration when the counts differ and breaks cannot be matched).
    """
    found: list[Violation] = []
    wanted = vehicle.breaks
    taken = route.breaks
    is_matched = len(taken) == len(wanted)
    if not is_matched:
        found.append(
            violation(
                ViolationKind.BREAK_MISSING,
                f"route has {len(taken)} break(s), the vehicle's driver takes "
                f"{len(wanted)} (one route break per vehicle break, in order)",
            )
        )
    true_ends: list[int] = []
    for k, brk in enumerate(taken):
        if not is_matched:
            true_ends.append(brk.end_s)
            continue
        rule = wanted[k]
        true_ends.append(brk.start_s + rule.duration_s)
        if brk.duration_s != rule.duration_s:
            found.append(
                violation(
                    ViolationKind.BREAK_DURATION_MISMATCH,
                    f"{_describe(k, brk)} lasts {brk.duration_s} s, the break "
                    f"takes {rule.duration_s} s",
                )
            )
        if not rule.window.contains(brk.start_s):
            found.append(
                violation(
                    ViolationKind.BREAK_OUTSIDE_WINDOW,
                    f"{_describe(k, brk)} starts outside its window "
                    f"[{rule.window.start_s}, {rule.window.end_s}] s",
                )
            )
    latest: int | None = None  # the break ending last among those started so far
    for k in sorted(range(len(taken)), key=lambda k: taken[k].start_s):
        if latest is not None and taken[k].start_s < true_ends[latest]:
            found.append(
                violation(
                    ViolationKind.BREAKS_OVERLAP,
                    f"{_describe(k, taken[k])} starts before "
                    f"{_describe(latest, taken[latest])} ends at "
                    f"{true_ends[latest]} s",
                )
            )
        if latest is None or true_ends[k] > true_ends[latest]:
            latest = k

    visits = route.visits
    # Gap k runs from the previous departure (recomputed) to the service start of
    # visit k; the last gap from the last departure to the route's end.
    gap_starts = [route.start_s] + [
        v.start_s + o.service_s for v, o in zip(visits, orders, strict=True)
    ]
    gap_ends = [v.start_s for v in visits] + [route.end_s]
    arrivals = [v.arrival_s for v in visits] + [route.end_s]
    gaps = [_Gap() for _ in gap_starts]
    for k, brk in enumerate(taken):
        start_s, end_s = brk.start_s, true_ends[k]
        if end_s <= route.start_s or start_s >= route.end_s:
            continue  # off duty: before the route leaves or after it ends
        g = next(
            (
                g
                for g in range(len(gaps))
                if gap_starts[g] <= start_s and end_s <= gap_ends[g]
            ),
            None,
        )
        if g is None:
            found.append(
                violation(
                    ViolationKind.BREAK_OVERLAPS_WORK,
                    f"{_describe(k, brk, end_s)} lies in no gap between the "
                    "route's start, its services and its end",
                )
            )
            continue
        gaps[g].has_breaks = True
        if end_s <= arrivals[g]:
            gaps[g].before_true_s += end_s - start_s
            gaps[g].before_reported_s += brk.duration_s
        elif start_s < arrivals[g]:
            found.append(
                violation(
                    ViolationKind.BREAK_OVERLAPS_WORK,
                    f"{_describe(k, brk, end_s)} spans the arrival at visit {g} "
                    f'(order "{orders[g].id}") at {arrivals[g]} s',
                    orders[g].id,
                )
            )
    return gaps, found


def _describe(k: int, brk: RouteBreak, true_end_s: int | None = None) -> str:
    """Name a route break and its times (and its true end, if that differs)."""
    text = f"break {k} [{brk.start_s}, {brk.end_s}) s"
    if true_end_s is not None and true_end_s != brk.end_s:
        text += f" (really to {true_end_s} s)"
    return text


def _check_hours(
    problem: Problem,
    route: Route,
    vehicle: Vehicle,
    true_end: int,
    times: list[tuple[str, int]],
    violation: _MakeViolation,
) -> Iterator[Violation]:
    """Shift, depot opening hours and horizon, on recomputed times."""
    shift = vehicle.shift
    if route.start_s < shift.start_s:
        yield violation(
            ViolationKind.OUTSIDE_SHIFT,
            f"route leaves at {route.start_s} s, before the shift starts at "
            f"{shift.start_s} s",
        )
    if true_end > shift.end_s:
        yield violation(
            ViolationKind.OUTSIDE_SHIFT,
            f"route ends at {true_end} s, after the shift ends at {shift.end_s} s",
        )
    start_depot = problem.depot(vehicle.start_depot)
    if not start_depot.opening.contains(route.start_s):
        yield violation(
            ViolationKind.DEPOT_CLOSED,
            f"route leaves depot {start_depot.id!r} at {route.start_s} s, outside "
            f"its opening [{start_depot.opening.start_s}, "
            f"{start_depot.opening.end_s}] s",
        )
    if vehicle.end_depot is not None:
        end_depot = problem.depot(vehicle.end_depot)
        if not end_depot.opening.contains(true_end):
            yield violation(
                ViolationKind.DEPOT_CLOSED,
                f"route returns to depot {end_depot.id!r} at {true_end} s, outside "
                f"its opening [{end_depot.opening.start_s}, "
                f"{end_depot.opening.end_s}] s",
            )
    horizon = problem.horizon
    outside = [f"{what} {t} s" for what, t in times if not horizon.contains(t)]
    if outside:
        yield violation(
            ViolationKind.OUTSIDE_HORIZON,
            f"outside the horizon [{horizon.start_s}, {horizon.end_s}] s: "
            + "; ".join(outside),
        )


def _check_route_sums(
    problem: Problem,
    route: Route,
    vehicle: Vehicle,
    orders: list[Order],
    violation: _MakeViolation,
) -> Iterator[Violation]:
    """A route's sums, KPIs and costs against its reported visits (bookkeeping)."""
    visits = route.visits
    sums: tuple[tuple[ViolationKind, str, int, int, str], ...] = (
        (
            ViolationKind.ROUTE_DISTANCE_MISMATCH,
            "distance_m",
            route.distance_m,
            sum(v.distance_m for v in visits) + route.end_distance_m,
            "its legs",
        ),
        (
            ViolationKind.ROUTE_TRAVEL_MISMATCH,
            "travel_s",
            route.travel_s,
            sum(v.travel_s for v in visits) + route.end_travel_s,
            "its legs",
        ),
        (
            ViolationKind.ROUTE_SERVICE_MISMATCH,
            "service_s",
            route.service_s,
            sum(o.service_s for o in orders),
            "its orders' service times",
        ),
        (
            ViolationKind.ROUTE_WAIT_MISMATCH,
            "wait_s",
            route.wait_s,
            sum(v.wait_s for v in visits),
            "its visits' waits",
        ),
        (
            ViolationKind.ROUTE_LATENESS_MISMATCH,
            "late_s",
            route.late_s,
            sum(v.late_s for v in visits),
            "its visits' lateness",
        ),
    )
    for kind, name, actual, expected, parts in sums:
        if actual != expected:
            unit = name.rsplit("_", 1)[1]
            yield violation(
                kind,
                f"route {name} {actual} {unit}, but {parts} sum to {expected} {unit}",
            )

    def fill(load: tuple[int, ...]) -> float:
        ratios = (
            held / cap
            for held, cap in zip(load, vehicle.capacity, strict=False)
            if cap > 0
        )
        return max(ratios, default=0.0)

    # What is on board at the start and after each visit; each leg carries what
    # is on board when the vehicle leaves its origin.
    on_board = (route.start_load, *(v.load for v in visits))
    load_factor = max(fill(load) for load in on_board)
    if not math.isclose(
        route.load_factor, load_factor, rel_tol=0.0, abs_tol=LOAD_FACTOR_TOL
    ):
        yield violation(
            ViolationKind.LOAD_FACTOR_MISMATCH,
            f"load_factor {route.load_factor!r}, the peak load over capacity is "
            f"{load_factor!r}",
        )
    legs = [
        *zip(on_board, (v.distance_m for v in visits), strict=False),
        (on_board[-1], route.end_distance_m),
    ]
    empty_m = sum(distance_m for load, distance_m in legs if not any(load))
    if route.empty_distance_m != empty_m:
        yield violation(
            ViolationKind.EMPTY_DISTANCE_MISMATCH,
            f"empty_distance_m {route.empty_distance_m} m, but the legs driven "
            f"with nothing on board sum to {empty_m} m",
        )
    # Over the legs' own distance, so that a wrong route distance_m is reported
    # once (its sum), not again here; the two agree whenever that sum is right.
    legs_m = sum(distance_m for _, distance_m in legs)
    mean_load_factor = (
        math.fsum(fill(load) * distance_m for load, distance_m in legs) / legs_m
        if legs_m
        else 0.0
    )
    if not math.isclose(
        route.mean_load_factor, mean_load_factor, rel_tol=0.0, abs_tol=LOAD_FACTOR_TOL
    ):
        yield violation(
            ViolationKind.MEAN_LOAD_FACTOR_MISMATCH,
            f"mean_load_factor {route.mean_load_factor!r}, but the legs' fill "
            f"weighted by their distance ({legs_m} m in all) is "
            f"{mean_load_factor!r}",
        )

    lateness = math.fsum(
        lateness_cost(v.late_s, problem.policy(o).lateness_cost_per_hour)
        for v, o in zip(visits, orders, strict=True)
    )
    costs = route_costs(
        distance_m=route.distance_m,
        duration_s=route.duration_s,
        fixed_cost=vehicle.fixed_cost,
        cost_per_km=vehicle.cost_per_km,
        cost_per_hour=vehicle.cost_per_hour,
        lateness=lateness,
    )
    wrong = [
        f"{name} {actual!r} (expected {value!r})"
        for name, actual, value in _cost_parts(route.costs, costs)
        if not _is_same_money(actual, value)
    ]
    if wrong:
        yield violation(
            ViolationKind.ROUTE_COST_MISMATCH,
            f"costs: {', '.join(wrong)}, for {route.distance_m} m, "
            f"{route.duration_s} s and {sum(v.late_s for v in visits)} s late at "
            "the vehicle's and orders' rates",
        )
    if not _is_same_money(route.cost, route.costs.total):
        yield violation(
            ViolationKind.ROUTE_COST_MISMATCH,
            f"cost {route.cost!r}, but its costs total {route.costs.total!r}",
        )


_COST_FIELDS = ("fixed", "distance", "time", "lateness")
"""The components of ``routing.domain.plan.Costs``, each checked on its own."""


def _cost_parts(actual: Costs, expected: Costs) -> Iterator[tuple[str, float, float]]:
    """Each cost component: its name, the actual and the expected amount."""
    for name in _COST_FIELDS:
        yield name, getattr(actual, name), getattr(expected, name)


def _is_same_money(a: float, b: float) -> bool:
    """Whether two money amounts agree within the cost tolerances."""
    return math.isclose(a, b, rel_tol=COST_REL_TOL, abs_tol=COST_ABS_TOL)


def _check_pairs(
    problem: Problem, plan: Plan, unchecked: set[int]
) -> Iterator[Violation]:
    """Pickup-and-delivery pairs: same vehicle, pickup first, ride within limit.

    Judged on the decisions (which route, which position, service starts); a pair
    with an order on a route that is not checked further is skipped.
    """
    where: dict[str, tuple[int, int]] = {}  # order id -> (route, visit) positions
    for i, route in enumerate(plan.routes):
        for k, order_id in enumerate(route.order_ids):
            where.setdefault(order_id, (i, k))  # a second visit is reported already
    for pair in problem.pairs:
        pickup, delivery = where.get(pair.pickup), where.get(pair.delivery)
        if pickup is None and delivery is None:
            continue
        if (pickup is not None and pickup[0] in unchecked) or (
            delivery is not None and delivery[0] in unchecked
        ):
            continue
        if pickup is None or delivery is None:
            # Exactly one of the two is served (neither was skipped above).
            for served, role, other in (
                (pickup, "pickup", f'delivery "{pair.delivery}"'),
                (delivery, "delivery", f'pickup "{pair.pickup}"'),
            ):
                if served is None:
                    continue
                vehicle_id = plan.routes[served[0]].vehicle_id
                yield Violation(
                    ViolationKind.PAIR_SPLIT,
                    f'pair "{pair.id}": vehicle "{vehicle_id}" serves the {role} '
                    f"but {other} is not served",
                    vehicle_id=vehicle_id,
                    order_id=pair.delivery if role == "pickup" else pair.pickup,
                )
            continue
        route = plan.routes[delivery[0]]
        if pickup[0] != delivery[0]:
            yield Violation(
                ViolationKind.PAIR_SPLIT,
                f'pair "{pair.id}": pickup "{pair.pickup}" is served by vehicle '
                f'"{plan.routes[pickup[0]].vehicle_id}", delivery '
                f'"{pair.delivery}" by vehicle "{route.vehicle_id}"',
                vehicle_id=route.vehicle_id,
                order_id=pair.delivery,
            )
            continue
        if pickup[1] > delivery[1]:
            yield Violation(
                ViolationKind.PAIR_ORDER,
                f'vehicle "{route.vehicle_id}": pair "{pair.id}": delivery '
                f'"{pair.delivery}" is visit {delivery[1]}, before pickup '
                f'"{pair.pickup}" at visit {pickup[1]}',
                vehicle_id=route.vehicle_id,
                order_id=pair.delivery,
            )
            continue
        if pair.max_ride_s is None:
            continue
        picked = route.visits[pickup[1]]
        left_s = picked.start_s + problem.order(pair.pickup).service_s
        ride_s = route.visits[delivery[1]].start_s - left_s
        if ride_s > pair.max_ride_s:
            yield Violation(
                ViolationKind.RIDE_TOO_LONG,
                f'vehicle "{route.vehicle_id}": pair "{pair.id}": the goods leave '
                f'pickup "{pair.pickup}" at {left_s} s and are handed over at '
                f'"{pair.delivery}" at {left_s + ride_s} s, a ride of {ride_s} s; '
                f"max_ride_s is {pair.max_ride_s}",
                vehicle_id=route.vehicle_id,
                order_id=pair.delivery,
            )


def _check_totals(plan: Plan) -> Iterator[Violation]:
    """plan.totals against sums over the plan's routes as reported."""
    routes = plan.routes
    totals = plan.totals
    expected = {
        "distance_m": sum(r.distance_m for r in routes),
        "duration_s": sum(r.end_s - r.start_s for r in routes),
        "travel_s": sum(r.travel_s for r in routes),
        "service_s": sum(r.service_s for r in routes),
        "wait_s": sum(r.wait_s for r in routes),
        "vehicles_used": len(routes),
        "orders_planned": sum(len(r.visits) for r in routes),
        "orders_unplanned": len(plan.unplanned),
        "empty_distance_m": sum(r.empty_distance_m for r in routes),
        "late_stops": sum(1 for r in routes for v in r.visits if v.late_s > 0),
        "late_s": sum(r.late_s for r in routes),
    }
    for name, value in expected.items():
        actual = getattr(totals, name)
        if actual != value:
            yield Violation(
                ViolationKind.TOTALS_MISMATCH,
                f"totals.{name} is {actual}, the routes give {value}",
            )
    money = [("cost", totals.cost, math.fsum(r.cost for r in routes))]
    money += [
        (
            f"costs.{name}",
            getattr(totals.costs, name),
            math.fsum(getattr(r.costs, name) for r in routes),
        )
        for name in _COST_FIELDS
    ]
    for name, actual_money, value_money in money:
        if not _is_same_money(actual_money, value_money):
            yield Violation(
                ViolationKind.TOTALS_MISMATCH,
                f"totals.{name} is {actual_money!r}, the routes give {value_money!r}",
            )


def _check_status(plan: Plan) -> Iterator[Violation]:
    """Plan.status against its routes and unplanned orders."""
    n = len(plan.unplanned)
    if (plan.status == PlanStatus.SOLVED) != (n == 0):
        yield Violation(
            ViolationKind.STATUS_MISMATCH,
            f"status is {plan.status.value!r} with {n} unplanned order(s); "
            f"'solved' means none unplanned",
        )
    if plan.status == PlanStatus.NO_SOLUTION and plan.routes:
        yield Violation(
            ViolationKind.ROUTES_WITHOUT_SOLUTION,
            f"status is 'no_solution' but the plan has {len(plan.routes)} route(s)",
        )
