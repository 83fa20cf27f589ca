"""Independent plan checker: recomputes a Plan from its Problem and travel matrices.

The checker shares nothing with the solver but the domain values and
``routing.plan.route_cost`` (the one cost formula). It never imports
``routing.solver``, ``routing.geo`` or OR-Tools, so a bug in the solver's model or
in its extraction of a solution cannot hide itself here.

Two kinds of check are made, and the split keeps one mistake from being reported
many times over:

- *Bookkeeping*: every reported number must follow from its direct inputs as
  reported (a visit's arrival from the previous reported departure plus the
  reported travel, a route's distance from its reported legs, the plan totals from
  its reported routes). The inputs at the bottom (legs, service times, start load)
  are compared with the matrix and the orders, so a wrong number is reported where
  it first goes wrong, not again in everything computed from it.
- *Feasibility*: time windows, shifts, depot hours, the horizon, capacity and the
  route limits are judged on values recomputed from the problem and the matrix,
  taking only the decisions from the plan (which vehicle, which orders in which
  order, when the route leaves and when each service starts). A plan whose
  numbers are wrong is thus still judged on what would really happen.
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

from routing.errors import MatrixError
from routing.model import Order, Problem, Vehicle
from routing.plan import Plan, PlanStatus, Route, route_cost

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
    """arrival_s is not the previous departure plus the leg's travel."""
    WAIT_MISMATCH = "wait_mismatch"
    """wait_s is not start_s - arrival_s."""
    SERVICE_BEFORE_ARRIVAL = "service_before_arrival"
    """Service starts before the vehicle can be there (negative wait)."""
    DEPARTURE_MISMATCH = "departure_mismatch"
    """departure_s is not start_s plus the order's service time."""
    OUTSIDE_TIME_WINDOW = "outside_time_window"
    """Service starts outside every time window of the order."""
    OUTSIDE_HORIZON = "outside_horizon"
    """A route time lies outside the planning horizon."""
    END_TIME_MISMATCH = "end_time_mismatch"
    """end_s is not the last departure plus the leg to the end depot."""
    OUTSIDE_SHIFT = "outside_shift"
    """The route leaves before the shift starts or ends after it ends."""
    DEPOT_CLOSED = "depot_closed"
    """The route leaves or returns while its depot is closed."""

    # Capacity.
    START_LOAD_MISMATCH = "start_load_mismatch"
    """start_load is not the sum of the route's deliveries."""
    LOAD_MISMATCH = "load_mismatch"
    """A visit's load is not the previous load - delivery + pickup."""
    CAPACITY_EXCEEDED = "capacity_exceeded"
    """The vehicle carries more than its capacity at some point."""
    NEGATIVE_LOAD = "negative_load"
    """A reported load is negative."""

    # Limits and skills.
    TOO_MANY_STOPS = "too_many_stops"
    """A route has more visits than the vehicle's max_stops."""
    MAX_DURATION_EXCEEDED = "max_duration_exceeded"
    """A route lasts longer than the vehicle's max_duration_s."""
    MAX_DISTANCE_EXCEEDED = "max_distance_exceeded"
    """A route is longer than the vehicle's max_distance_m."""
    MISSING_SKILL = "missing_skill"
    """An order needs a skill its vehicle lacks."""

    # Route sums.
    ROUTE_DISTANCE_MISMATCH = "route_distance_mismatch"
    """Route distance_m is not the sum of its legs."""
    ROUTE_TRAVEL_MISMATCH = "route_travel_mismatch"
    """Route travel_s is not the sum of its legs."""
    ROUTE_SERVICE_MISMATCH = "route_service_mismatch"
    """Route service_s is not the sum of its orders' service times."""
    ROUTE_WAIT_MISMATCH = "route_wait_mismatch"
    """Route wait_s is not the sum of its visits' waits."""
    LOAD_FACTOR_MISMATCH = "load_factor_mismatch"
    """Route load_factor is not its peak load over capacity."""
    ROUTE_COST_MISMATCH = "route_cost_mismatch"
    """Route cost is not ``route_cost`` of its distance and duration."""

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
        then totals and status); empty when the plan is valid.

    Raises
    ------
    MatrixError
        If ``travel`` has no matrix for a used vehicle's profile, or a matrix is
        not N x N for the problem's N locations. These are faults of the call,
        not of the plan.

    Notes
    -----
    A route whose vehicle is unknown, or that visits an unknown order, is reported
    once and not checked further, since every other check of it would fail too.
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
    for route in plan.routes:
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
            continue
        if any(oid not in order_ids for oid in route.order_ids):
            continue  # reported by _check_coverage; its row is unknown
        matrix = _matrix_for(travel, vehicle.profile, len(problem.locations))
        violations.extend(_check_route(problem, route, vehicle, matrix))
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
    true_load = tuple(sum(o.delivery[q] for o in orders) for q in range(len(names)))
    if route.start_load != true_load:
        yield violation(
            ViolationKind.START_LOAD_MISMATCH,
            f"start_load {route.start_load}, but the route delivers {true_load} "
            f"{names}",
        )
    # What is on board at each point, recomputed (for capacity) and as reported.
    true_loads: list[tuple[str, tuple[int, ...], str | None]] = [
        ("at the start depot", true_load, None)
    ]
    reported_loads: list[tuple[str, tuple[int, ...], str | None]] = [
        ("start_load", route.start_load, None)
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
        if visit.arrival_s != prev_departure + visit.travel_s:
            yield violation(
                ViolationKind.ARRIVAL_MISMATCH,
                f"{at}: arrival_s {visit.arrival_s} s, but previous departure "
                f"{prev_departure} s + travel {visit.travel_s} s = "
                f"{prev_departure + visit.travel_s} s",
                oid,
            )
        if visit.wait_s != visit.start_s - visit.arrival_s:
            yield violation(
                ViolationKind.WAIT_MISMATCH,
                f"{at}: wait_s {visit.wait_s} s, but start_s {visit.start_s} s - "
                f"arrival_s {visit.arrival_s} s = {visit.start_s - visit.arrival_s} s",
                oid,
            )
        true_arrival = true_departure + travel_s
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
        if order.windows and not any(w.contains(visit.start_s) for w in order.windows):
            spans = ", ".join(f"[{w.start_s}, {w.end_s}]" for w in order.windows)
            yield violation(
                ViolationKind.OUTSIDE_TIME_WINDOW,
                f"{at}: service starts at {visit.start_s} s, outside the time "
                f"window(s) {spans} s",
                oid,
            )
        missing = order.skills - vehicle.skills
        if missing:
            yield violation(
                ViolationKind.MISSING_SKILL,
                f"{at}: needs skill(s) {sorted(missing)}, the vehicle has "
                f"{sorted(vehicle.skills)}",
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
        true_loads.append((f"after {at}", true_load, oid))
        reported_loads.append((f"{at}: load", visit.load, oid))
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
    true_end = true_departure + end_travel_s
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
    if route.end_s != prev_departure + route.end_travel_s:
        yield violation(
            ViolationKind.END_TIME_MISMATCH,
            f"end_s {route.end_s} s, but last departure {prev_departure} s + end "
            f"travel {route.end_travel_s} s = {prev_departure + route.end_travel_s} s",
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

    # Recomputed loads cannot be negative (quantities are validated >= 0 and the
    # start load is every delivery), so negativity is a fault of reported loads.
    for where, held, point_order in true_loads:
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
    for where, held, point_order in reported_loads:
        if any(value < 0 for value in held):
            yield violation(
                ViolationKind.NEGATIVE_LOAD, f"{where} {held} is negative", point_order
            )

    yield from _check_route_sums(route, vehicle, orders, violation)


class _MakeViolation(Protocol):
    """Builds a Violation about one route's vehicle (see ``_check_route``)."""

    def __call__(
        self, kind: ViolationKind, message: str, order_id: str | None = None
    ) -> Violation: ...


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
    route: Route,
    vehicle: Vehicle,
    orders: list[Order],
    violation: _MakeViolation,
) -> Iterator[Violation]:
    """A route's sums against its reported visits (bookkeeping)."""
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
    )
    for kind, name, actual, expected, parts in sums:
        if actual != expected:
            unit = name.rsplit("_", 1)[1]
            yield violation(
                kind,
                f"route {name} {actual} {unit}, but {parts} sum to {expected} {unit}",
            )

    ratios = [
        held / cap
        for load in (route.start_load, *(v.load for v in visits))
        for held, cap in zip(load, vehicle.capacity, strict=False)
        if cap > 0
    ]
    load_factor = max(ratios, default=0.0)
    if not math.isclose(
        route.load_factor, load_factor, rel_tol=0.0, abs_tol=LOAD_FACTOR_TOL
    ):
        yield violation(
            ViolationKind.LOAD_FACTOR_MISMATCH,
            f"load_factor {route.load_factor!r}, the peak load over capacity is "
            f"{load_factor!r}",
        )
    cost = route_cost(
        distance_m=route.distance_m,
        duration_s=route.duration_s,
        fixed_cost=vehicle.fixed_cost,
        cost_per_km=vehicle.cost_per_km,
        cost_per_hour=vehicle.cost_per_hour,
    )
    if not math.isclose(route.cost, cost, rel_tol=COST_REL_TOL, abs_tol=COST_ABS_TOL):
        yield violation(
            ViolationKind.ROUTE_COST_MISMATCH,
            f"cost {route.cost!r}, but {route.distance_m} m and {route.duration_s} s "
            f"at the vehicle's rates cost {cost!r}",
        )


def _check_totals(plan: Plan) -> Iterator[Violation]:
    """plan.totals against sums over the plan's routes as reported."""
    routes = plan.routes
    expected = {
        "distance_m": sum(r.distance_m for r in routes),
        "duration_s": sum(r.end_s - r.start_s for r in routes),
        "travel_s": sum(r.travel_s for r in routes),
        "service_s": sum(r.service_s for r in routes),
        "wait_s": sum(r.wait_s for r in routes),
        "vehicles_used": len(routes),
        "orders_planned": sum(len(r.visits) for r in routes),
        "orders_unplanned": len(plan.unplanned),
    }
    for name, value in expected.items():
        actual = getattr(plan.totals, name)
        if actual != value:
            yield Violation(
                ViolationKind.TOTALS_MISMATCH,
                f"totals.{name} is {actual}, the routes give {value}",
            )
    cost = math.fsum(r.cost for r in routes)
    if not math.isclose(
        plan.totals.cost, cost, rel_tol=COST_REL_TOL, abs_tol=COST_ABS_TOL
    ):
        yield Violation(
            ViolationKind.TOTALS_MISMATCH,
            f"totals.cost is {plan.totals.cost!r}, the routes give {cost!r}",
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
