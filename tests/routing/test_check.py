"""Tests for routing.check: a valid hand-made plan passes, each corruption is caught."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from routing.check import (
    MatrixLike,
    TravelLike,
    Violation,
    ViolationKind,
    assert_plan_ok,
    check_plan,
)
from routing.domain.errors import MatrixError
from routing.domain.model import (
    Break,
    Depot,
    Order,
    Pair,
    Point,
    Problem,
    Tier,
    TimeWindow,
    Vehicle,
)
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

H = 3600
"""Seconds per hour, to write clock times readably."""

K = ViolationKind
"""Short alias: the case table below names a kind on almost every line."""

PROBLEM = Problem(
    depots=(
        Depot(id="D1", location=Point(0, 0), opening=TimeWindow(6 * H, 20 * H)),
        Depot(id="D2", location=Point(4, 0)),
    ),
    vehicles=(
        Vehicle(
            id="van",
            start_depot="D1",
            end_depot="D1",
            capacity=(100, 10),
            shift=TimeWindow(7 * H, 19 * H),
            fixed_cost=50.0,
            cost_per_km=0.5,
            cost_per_hour=20.0,
            profile="van",
            max_duration_s=4 * H,
            max_stops=4,
            max_distance_m=20_000,
            skills=frozenset({"cold"}),
        ),
        Vehicle(
            id="bike",
            start_depot="D2",
            end_depot=None,
            capacity=(30, 5),
            shift=TimeWindow(4 * H, 23 * H),
            fixed_cost=5.0,
            cost_per_hour=12.0,
            profile="bike",
            max_stops=1,
        ),
        Vehicle(
            id="spare",
            start_depot="D1",
            end_depot="D2",
            capacity=(50, 5),
            fixed_cost=80.0,
            cost_per_km=0.7,
            profile="van",
        ),
    ),
    orders=(
        Order(
            id="A",
            location=Point(1, 1),
            delivery=(20, 2),
            pickup=(0, 0),
            service_s=300,
            windows=(TimeWindow(8 * H, 10 * H),),
            skills=frozenset({"cold"}),
        ),
        Order(
            id="B",
            location=Point(2, 2),
            delivery=(10, 1),
            pickup=(5, 1),
            service_s=600,
            windows=(TimeWindow(9 * H, 11 * H), TimeWindow(14 * H, 16 * H)),
        ),
        Order(
            id="C", location=Point(1, 3), delivery=(0, 0), pickup=(15, 2), service_s=120
        ),
        Order(
            id="D",
            location=Point(5, 1),
            delivery=(5, 1),
            pickup=(0, 0),
            service_s=180,
            windows=(TimeWindow(10 * H, 12 * H),),
        ),
        Order(
            id="E",
            location=Point(8, 8),
            delivery=(40, 3),
            pickup=(0, 0),
            service_s=200,
            is_optional=True,
        ),
    ),
    quantities=("kg", "parcels"),
    horizon=TimeWindow(5 * H, 23 * H),
)
"""Two depots (D1 with opening hours), a van with a skill and limits, an open-ended
bike, an unused spare; five orders with windows, deliveries and pickups. Points are
in km."""


@dataclass(frozen=True)
class _Matrix:
    """A minimal MatrixLike, so the test does not depend on routing.geo."""

    distances_m: NDArray[np.int64]
    durations_s: NDArray[np.int64]


def _manhattan(speed_m_per_s: int, problem: Problem = PROBLEM) -> _Matrix:
    """Manhattan distances between the problem's points (km) at a constant speed."""
    xy = np.array([(p.x, p.y) for p in problem.locations if isinstance(p, Point)])
    km = np.abs(xy[:, None, :] - xy[None, :, :]).sum(axis=2)
    distances = (km * 1000).astype(np.int64)
    return _Matrix(distances, distances // speed_m_per_s)


TRAVEL: Mapping[str, MatrixLike] = {"van": _manhattan(10), "bike": _manhattan(4)}
"""One matrix per profile: same distances, the bike 2.5 times slower (exact ints)."""


def _fill(load: tuple[int, ...], capacity: tuple[int, ...]) -> float:
    """The fullest quantity as a fraction of its capacity (capacities > 0)."""
    return max(
        (held / cap for held, cap in zip(load, capacity, strict=True) if cap > 0),
        default=0.0,
    )


def _build_route(
    vehicle_id: str,
    order_ids: Sequence[str],
    *,
    start_s: int,
    starts: Mapping[str, int] | None = None,
    travel: TravelLike = TRAVEL,
    problem: Problem = PROBLEM,
    breaks: Sequence[int] = (),
    late: Mapping[str, int] | None = None,
    start_load: tuple[int, ...] | None = None,
) -> Route:
    """A route with every number computed the way the solver does.

    Service starts at the earliest time in a window (on arrival, late, after the
    last window) unless ``starts`` overrides it. ``breaks`` are the start times of
    the vehicle's first breaks, in order: a break starting while the vehicle
    drives to a stop (or leaves the previous one) delays the arrival, one starting
    between arrival and service delays the service start, one starting while it
    drives to the end delays the end; any other is off duty. ``late`` (visits'
    late_s) and ``start_load`` override what is computed, and everything
    downstream follows them, to build consistently wrong routes.
    """
    vehicle = problem.vehicle(vehicle_id)
    matrix = travel[vehicle.profile] if isinstance(travel, Mapping) else travel
    orders = [problem.order(oid) for oid in order_ids]
    taken = tuple(
        RouteBreak(b, b + rule.duration_s)
        for b, rule in zip(breaks, vehicle.breaks, strict=False)
    )
    if start_load is None:
        start_load = problem.start_load(order_ids)
    load = start_load
    prev = problem.depot_index(vehicle.start_depot)
    departure = start_s
    visits = []
    for order in orders:
        row = problem.order_index(order.id)
        travel_s = int(matrix.durations_s[prev, row])
        arrival = departure + travel_s
        for brk in taken:
            if departure <= brk.start_s < arrival:
                arrival += brk.duration_s
        start = arrival
        for window in order.windows:
            if window.end_s >= arrival:
                start = max(arrival, window.start_s)
                break
        for brk in taken:
            if arrival <= brk.start_s <= start:
                start = max(start, brk.end_s)
        start = (starts or {}).get(order.id, start)
        late_s = max(0, start - order.windows[-1].end_s) if order.windows else 0
        departure = start + order.service_s
        load = tuple(
            held - d + p
            for held, d, p in zip(load, order.delivery, order.pickup, strict=True)
        )
        visits.append(
            Visit(
                order_id=order.id,
                arrival_s=arrival,
                wait_s=start - arrival,
                start_s=start,
                departure_s=departure,
                load=load,
                travel_s=travel_s,
                distance_m=int(matrix.distances_m[prev, row]),
                late_s=(late or {}).get(order.id, late_s),
            )
        )
        prev = row
    end_travel_s = end_distance_m = 0
    if vehicle.end_depot is not None:
        end = problem.depot_index(vehicle.end_depot)
        end_travel_s = int(matrix.durations_s[prev, end])
        end_distance_m = int(matrix.distances_m[prev, end])
    end_s = departure + end_travel_s
    for brk in taken:
        if departure <= brk.start_s < end_s:
            end_s += brk.duration_s
    distance_m = sum(v.distance_m for v in visits) + end_distance_m
    on_board = [start_load, *(v.load for v in visits)]
    legs = [*zip(on_board, (v.distance_m for v in visits), strict=False)]
    legs.append((load, end_distance_m))
    costs = route_costs(
        distance_m=distance_m,
        duration_s=end_s - start_s,
        fixed_cost=vehicle.fixed_cost,
        cost_per_km=vehicle.cost_per_km,
        cost_per_hour=vehicle.cost_per_hour,
        lateness=sum(
            lateness_cost(v.late_s, problem.policy(o).lateness_cost_per_hour)
            for v, o in zip(visits, orders, strict=True)
        ),
    )
    return Route(
        vehicle_id=vehicle_id,
        start_depot=vehicle.start_depot,
        end_depot=vehicle.end_depot,
        start_s=start_s,
        end_s=end_s,
        visits=tuple(visits),
        start_load=start_load,
        distance_m=distance_m,
        travel_s=sum(v.travel_s for v in visits) + end_travel_s,
        service_s=sum(o.service_s for o in orders),
        wait_s=sum(v.wait_s for v in visits),
        load_factor=max(_fill(held, vehicle.capacity) for held in on_board),
        cost=costs.total,
        end_travel_s=end_travel_s,
        end_distance_m=end_distance_m,
        empty_distance_m=sum(m for held, m in legs if not any(held)),
        mean_load_factor=(
            sum(_fill(held, vehicle.capacity) * m for held, m in legs) / distance_m
            if distance_m
            else 0.0
        ),
        breaks=taken,
        late_s=sum(v.late_s for v in visits),
        costs=costs,
    )


def _build_plan(
    routes: Sequence[Route],
    unplanned_ids: Sequence[str],
    *,
    status: PlanStatus | None = None,
) -> Plan:
    """A plan with consistent totals and, unless given, the matching status."""
    unplanned = tuple(
        Unplanned(order_id=oid, code=UnplannedCode.NOT_WORTH_SERVING, reason="test")
        for oid in unplanned_ids
    )
    if status is None:
        status = PlanStatus.PARTIAL if unplanned else PlanStatus.SOLVED
    return Plan(
        status=status,
        routes=tuple(routes),
        unplanned=unplanned,
        totals=summarize(tuple(routes), len(unplanned)),
        solver_status="test",
    )


def _van(
    *order_ids: str,
    start_s: int = 7 * H + 1800,
    starts: Mapping[str, int] | None = None,
    travel: TravelLike = TRAVEL,
) -> Route:
    """The van's route; by default the valid one (A, B, C from 07:30)."""
    ids = order_ids or ("A", "B", "C")
    return _build_route("van", ids, start_s=start_s, starts=starts, travel=travel)


def _bike(
    *order_ids: str,
    start_s: int = 9 * H + 1800,
    starts: Mapping[str, int] | None = None,
    travel: TravelLike = TRAVEL,
) -> Route:
    """The bike's route; by default the valid one (D from 09:30)."""
    ids = order_ids or ("D",)
    return _build_route("bike", ids, start_s=start_s, starts=starts, travel=travel)


def _valid_plan(travel: TravelLike = TRAVEL) -> Plan:
    """Van serves A, B, C and returns to D1; the bike serves D; E is unplanned."""
    return _build_plan([_van(travel=travel), _bike(travel=travel)], ["E"])


VALID = _valid_plan()


def _retotal(plan: Plan) -> Plan:
    """The plan with totals matching its routes (as a solver would report them)."""
    return replace(plan, totals=summarize(plan.routes, len(plan.unplanned)))


def _edit_route(plan: Plan, vehicle_id: str, /, **changes: object) -> Plan:
    """The plan with fields of one vehicle's route replaced, totals kept consistent."""
    routes = tuple(
        replace(r, **changes) if r.vehicle_id == vehicle_id else r  # type: ignore[arg-type]
        for r in plan.routes
    )
    return _retotal(replace(plan, routes=routes))


def _edit_visit(plan: Plan, vehicle_id: str, k: int, /, **changes: object) -> Plan:
    """The plan with fields of visit ``k`` of one vehicle's route replaced."""
    route = plan.route(vehicle_id)
    assert route is not None
    visits = list(route.visits)
    visits[k] = replace(visits[k], **changes)  # type: ignore[arg-type]
    return _edit_route(plan, vehicle_id, visits=tuple(visits))


def _field(plan: Plan, vehicle_id: str, name: str, k: int | None = None) -> int:
    """A field of a route (or of its visit ``k``) in a plan."""
    route = plan.route(vehicle_id)
    assert route is not None
    value = getattr(route if k is None else route.visits[k], name)
    assert isinstance(value, int)
    return value


@dataclass(frozen=True)
class _Case:
    """One minimal corruption of VALID and the violation it must produce."""

    id: str
    kind: ViolationKind
    corrupt: Callable[[], Plan]
    vehicle_id: str | None = None
    order_id: str | None = None
    also: frozenset[ViolationKind] = frozenset()
    """Other kinds the corruption necessarily causes (reported where the
    bookkeeping first goes wrong, so a single edited field can break two rules)."""


CASES = (
    # Coverage.
    _Case(
        "unknown_order_unplanned",
        K.UNKNOWN_ORDER,
        lambda: _build_plan([_van(), _bike()], ["E", "Z"]),
        order_id="Z",
    ),
    _Case(
        "unknown_order_in_route",
        K.UNKNOWN_ORDER,
        lambda: _edit_visit(VALID, "van", 2, order_id="Z"),
        vehicle_id="van",
        order_id="Z",
        also=frozenset({K.ORDER_MISSING}),
    ),
    _Case(
        "order_served_twice",
        K.ORDER_SERVED_TWICE,
        lambda: _build_plan([_van("A", "B", "C", "C"), _bike()], ["E"]),
        vehicle_id="van",
        order_id="C",
    ),
    _Case(
        "order_unplanned_twice",
        K.ORDER_UNPLANNED_TWICE,
        lambda: _build_plan([_van(), _bike()], ["E", "E"]),
        order_id="E",
    ),
    _Case(
        "order_served_and_unplanned",
        K.ORDER_SERVED_AND_UNPLANNED,
        lambda: _build_plan([_van(), _bike()], ["E", "C"]),
        vehicle_id="van",
        order_id="C",
    ),
    _Case(
        "order_missing",
        K.ORDER_MISSING,
        lambda: _build_plan([_van(), _bike()], []),
        order_id="E",
    ),
    # Vehicles.
    _Case(
        "unknown_vehicle",
        K.UNKNOWN_VEHICLE,
        lambda: _edit_route(VALID, "bike", vehicle_id="ghost"),
        vehicle_id="ghost",
    ),
    _Case(
        "vehicle_used_twice",
        K.VEHICLE_USED_TWICE,
        lambda: _build_plan(
            [_van("A", "B"), _van("C", start_s=12 * H), _bike()], ["E"]
        ),
        vehicle_id="van",
    ),
    _Case(
        "wrong_start_depot",
        K.WRONG_START_DEPOT,
        lambda: _edit_route(VALID, "van", start_depot="D2"),
        vehicle_id="van",
    ),
    _Case(
        "wrong_end_depot",
        K.WRONG_END_DEPOT,
        lambda: _edit_route(VALID, "van", end_depot=None),
        vehicle_id="van",
    ),
    _Case(
        "wrong_end_depot_open_ended",
        K.WRONG_END_DEPOT,
        lambda: _edit_route(VALID, "bike", end_depot="D2"),
        vehicle_id="bike",
    ),
    _Case(
        "empty_route",
        K.EMPTY_ROUTE,
        lambda: _build_plan(
            [_van(), _bike(), _build_route("spare", [], start_s=8 * H)], ["E"]
        ),
        vehicle_id="spare",
    ),
    # Timing.
    _Case(
        "leg_travel_mismatch_wrong_profile",
        K.LEG_TRAVEL_MISMATCH,
        lambda: _build_plan([_van(travel=TRAVEL["bike"]), _bike()], ["E"]),
        vehicle_id="van",
        order_id="A",
    ),
    _Case(
        "leg_travel_mismatch_end",
        K.LEG_TRAVEL_MISMATCH,
        lambda: _edit_route(
            VALID, "van", end_travel_s=_field(VALID, "van", "end_travel_s") + 1
        ),
        vehicle_id="van",
        also=frozenset({K.END_TIME_MISMATCH, K.ROUTE_TRAVEL_MISMATCH}),
    ),
    _Case(
        "leg_distance_mismatch",
        K.LEG_DISTANCE_MISMATCH,
        lambda: _edit_visit(
            VALID, "van", 1, distance_m=_field(VALID, "van", "distance_m", 1) + 1
        ),
        vehicle_id="van",
        order_id="B",
        # The leg's distance also weighs the loads of the mean load factor.
        also=frozenset({K.ROUTE_DISTANCE_MISMATCH, K.MEAN_LOAD_FACTOR_MISMATCH}),
    ),
    _Case(
        "leg_distance_mismatch_open_end",
        K.LEG_DISTANCE_MISMATCH,
        lambda: _edit_route(VALID, "bike", end_distance_m=7),
        vehicle_id="bike",
        # An empty leg: it counts as empty distance and dilutes the mean fill.
        also=frozenset(
            {
                K.ROUTE_DISTANCE_MISMATCH,
                K.EMPTY_DISTANCE_MISMATCH,
                K.MEAN_LOAD_FACTOR_MISMATCH,
            }
        ),
    ),
    _Case(
        "arrival_mismatch",
        K.ARRIVAL_MISMATCH,
        lambda: _edit_visit(
            VALID,
            "van",
            0,
            arrival_s=_field(VALID, "van", "arrival_s", 0) + 10,
            wait_s=_field(VALID, "van", "wait_s", 0) - 10,
        ),
        vehicle_id="van",
        order_id="A",
        also=frozenset({K.ROUTE_WAIT_MISMATCH}),
    ),
    _Case(
        "wait_mismatch",
        K.WAIT_MISMATCH,
        lambda: _edit_visit(
            VALID, "van", 0, wait_s=_field(VALID, "van", "wait_s", 0) + 1
        ),
        vehicle_id="van",
        order_id="A",
        also=frozenset({K.ROUTE_WAIT_MISMATCH}),
    ),
    _Case(
        "service_before_arrival",
        K.SERVICE_BEFORE_ARRIVAL,
        lambda: _build_plan(
            [_van(starts={"C": _field(VALID, "van", "arrival_s", 2) - 60}), _bike()],
            ["E"],
        ),
        vehicle_id="van",
        order_id="C",
    ),
    _Case(
        "departure_mismatch",
        K.DEPARTURE_MISMATCH,
        lambda: _edit_visit(
            VALID, "van", 0, departure_s=_field(VALID, "van", "departure_s", 0) + 1
        ),
        vehicle_id="van",
        order_id="A",
        also=frozenset({K.ARRIVAL_MISMATCH}),
    ),
    _Case(
        "outside_time_window",
        K.OUTSIDE_TIME_WINDOW,
        lambda: _build_plan([_van(), _bike(starts={"D": 12 * H + 60})], ["E"]),
        vehicle_id="bike",
        order_id="D",
    ),
    _Case(
        "outside_horizon",
        K.OUTSIDE_HORIZON,
        lambda: _build_plan([_van(), _bike(start_s=4 * H + 1800)], ["E"]),
        vehicle_id="bike",
    ),
    _Case(
        "end_time_mismatch",
        K.END_TIME_MISMATCH,
        lambda: _edit_route(VALID, "van", end_s=_field(VALID, "van", "end_s") + 60),
        vehicle_id="van",
        also=frozenset({K.ROUTE_COST_MISMATCH}),
    ),
    _Case(
        "end_time_mismatch_open_ended",
        K.END_TIME_MISMATCH,
        lambda: _edit_route(VALID, "bike", end_s=_field(VALID, "bike", "end_s") + 60),
        vehicle_id="bike",
        also=frozenset({K.ROUTE_COST_MISMATCH}),
    ),
    _Case(
        "outside_shift",
        K.OUTSIDE_SHIFT,
        lambda: _build_plan([_van(start_s=6 * H + 1800), _bike()], ["E"]),
        vehicle_id="van",
    ),
    _Case(
        "depot_closed",
        K.DEPOT_CLOSED,
        lambda: _build_plan(
            [_van(), _bike(), _build_route("spare", ["E"], start_s=5 * H + 1800)], []
        ),
        vehicle_id="spare",
    ),
    # Capacity.
    _Case(
        "start_load_mismatch",
        K.START_LOAD_MISMATCH,
        lambda: _edit_route(VALID, "van", start_load=(30, 2)),
        vehicle_id="van",
        also=frozenset({K.LOAD_MISMATCH}),
    ),
    _Case(
        "load_mismatch",
        K.LOAD_MISMATCH,
        lambda: _edit_visit(VALID, "van", 2, load=(19, 3)),
        vehicle_id="van",
        order_id="C",
    ),
    _Case(
        "capacity_exceeded",
        K.CAPACITY_EXCEEDED,
        lambda: _build_plan([_van(), _bike("E")], ["D"]),
        vehicle_id="bike",
    ),
    _Case(
        "negative_load",
        K.NEGATIVE_LOAD,
        lambda: _edit_visit(VALID, "van", 2, load=(-1, 3)),
        vehicle_id="van",
        order_id="C",
        also=frozenset({K.LOAD_MISMATCH}),
    ),
    # Limits and skills.
    _Case(
        "too_many_stops",
        K.TOO_MANY_STOPS,
        lambda: _build_plan([_van("A", "B"), _bike("D", "C")], ["E"]),
        vehicle_id="bike",
    ),
    _Case(
        "max_duration_exceeded",
        K.MAX_DURATION_EXCEEDED,
        lambda: _build_plan(
            [_van(start_s=7 * H, starts={"B": 14 * H}), _bike()], ["E"]
        ),
        vehicle_id="van",
    ),
    _Case(
        "max_distance_exceeded",
        K.MAX_DISTANCE_EXCEEDED,
        lambda: _build_plan([_van("A", "B", "C", "E"), _bike()], []),
        vehicle_id="van",
    ),
    _Case(
        "missing_skill",
        K.MISSING_SKILL,
        lambda: _build_plan(
            [_van("B", "C"), _bike(), _build_route("spare", ["A"], start_s=7 * H)],
            ["E"],
        ),
        vehicle_id="spare",
        order_id="A",
    ),
    # Route sums.
    _Case(
        "route_distance_mismatch",
        K.ROUTE_DISTANCE_MISMATCH,
        lambda: _edit_route(
            VALID, "van", distance_m=_field(VALID, "van", "distance_m") + 1
        ),
        vehicle_id="van",
        also=frozenset({K.ROUTE_COST_MISMATCH}),
    ),
    _Case(
        "route_travel_mismatch",
        K.ROUTE_TRAVEL_MISMATCH,
        lambda: _edit_route(
            VALID, "van", travel_s=_field(VALID, "van", "travel_s") + 1
        ),
        vehicle_id="van",
    ),
    _Case(
        "route_service_mismatch",
        K.ROUTE_SERVICE_MISMATCH,
        lambda: _edit_route(
            VALID, "van", service_s=_field(VALID, "van", "service_s") + 1
        ),
        vehicle_id="van",
    ),
    _Case(
        "route_wait_mismatch",
        K.ROUTE_WAIT_MISMATCH,
        lambda: _edit_route(VALID, "van", wait_s=_field(VALID, "van", "wait_s") + 1),
        vehicle_id="van",
    ),
    _Case(
        "load_factor_mismatch",
        K.LOAD_FACTOR_MISMATCH,
        lambda: _edit_route(VALID, "van", load_factor=0.31),
        vehicle_id="van",
    ),
    _Case(
        "route_cost_mismatch",
        K.ROUTE_COST_MISMATCH,
        lambda: _edit_route(VALID, "bike", cost=VALID.routes[1].cost + 0.01),
        vehicle_id="bike",
    ),
    # Plan.
    _Case(
        "totals_mismatch",
        K.TOTALS_MISMATCH,
        lambda: replace(
            VALID, totals=replace(VALID.totals, distance_m=VALID.totals.distance_m + 1)
        ),
    ),
    _Case(
        "status_mismatch",
        K.STATUS_MISMATCH,
        lambda: replace(VALID, status=PlanStatus.SOLVED),
    ),
    _Case(
        "routes_without_solution",
        K.ROUTES_WITHOUT_SOLUTION,
        lambda: replace(VALID, status=PlanStatus.NO_SOLUTION),
    ),
)


# Delivery-day features: tiers and lateness, pickup-and-delivery pairs, vehicle
# kinds and driver breaks, on a problem of their own.

FEATURES = Problem(
    depots=(Depot(id="D", location=Point(0, 0)),),
    vehicles=(
        Vehicle(
            id="van",
            start_depot="D",
            end_depot="D",
            capacity=(10,),
            fixed_cost=10.0,
            cost_per_km=1.0,
            cost_per_hour=30.0,
            kind="van",
            breaks=(
                Break(window=TimeWindow(10 * H, 11 * H), duration_s=900),
                Break(window=TimeWindow(11 * H, 14 * H), duration_s=600),
            ),
        ),
        Vehicle(
            id="bike",
            start_depot="D",
            end_depot="D",
            capacity=(5,),
            fixed_cost=2.0,
            cost_per_hour=15.0,
            kind="cargo_bike",
        ),
    ),
    orders=(
        Order(
            id="L",
            location=Point(0, 2),
            delivery=(4,),
            pickup=(0,),
            service_s=300,
            windows=(TimeWindow(8 * H, 8 * H + 1800), TimeWindow(9 * H, 10 * H)),
            tier="economy",
        ),
        Order(id="P", location=Point(1, 0), delivery=(0,), pickup=(3,), service_s=300),
        Order(id="Q", location=Point(2, 0), delivery=(3,), pickup=(0,), service_s=300),
        Order(
            id="K",
            location=Point(0, 1),
            delivery=(1,),
            pickup=(0,),
            service_s=120,
            vehicle_kinds=frozenset({"cargo_bike"}),
        ),
    ),
    quantities=("boxes",),
    tiers=(Tier(id="economy", max_lateness_s=1800, lateness_cost_per_hour=60.0),),
    pairs=(Pair(id="PQ", pickup="P", delivery="Q", max_ride_s=1200),),
)
"""One depot; a van with two breaks (15 min in [10:00, 11:00], 10 min in [11:00,
14:00]) and a cargo bike. L (economy tier: up to 30 min late at 60 per hour) has
two slots; P collects the 3 boxes Q receives (at most 20 min on board); K takes
cargo bikes only. Points are in km."""

FEATURE_TRAVEL = _manhattan(10, FEATURES)
"""The one matrix of the FEATURES problem (both vehicles drive at 10 m/s)."""


def _feature_van(
    *order_ids: str,
    start_s: int = 10 * H + 400,
    breaks: Sequence[int] = (37_000, 11 * H),
    starts: Mapping[str, int] | None = None,
    late: Mapping[str, int] | None = None,
    start_load: tuple[int, ...] | None = None,
) -> Route:
    """The van's route in FEATURES; by default the valid one: L (10 min late), then
    P and Q with the first break on the way to P; the second break after the end.
    """
    return _build_route(
        "van",
        order_ids or ("L", "P", "Q"),
        start_s=start_s,
        starts=starts,
        travel=FEATURE_TRAVEL,
        problem=FEATURES,
        breaks=breaks,
        late=late,
        start_load=start_load,
    )


def _feature_bike(*order_ids: str) -> Route:
    """The bike's route in FEATURES; by default K from 09:00."""
    return _build_route(
        "bike",
        order_ids or ("K",),
        start_s=9 * H,
        travel=FEATURE_TRAVEL,
        problem=FEATURES,
    )


def _feature_plan(*routes: Route, unplanned: Sequence[str] = ()) -> Plan:
    """A FEATURES plan of these routes; by default the valid van and bike."""
    return _build_plan(routes or (_feature_van(), _feature_bike()), unplanned)


FEATURES_VALID = _feature_plan()


def _edit_break(plan: Plan, vehicle_id: str, k: int, brk: RouteBreak) -> Plan:
    """The plan with break ``k`` of one vehicle's route replaced."""
    route = plan.route(vehicle_id)
    assert route is not None
    breaks = list(route.breaks)
    breaks[k] = brk
    return _edit_route(plan, vehicle_id, breaks=tuple(breaks))


def _edit_totals(plan: Plan, /, **changes: object) -> Plan:
    """The plan with fields of its totals replaced."""
    return replace(plan, totals=replace(plan.totals, **changes))  # type: ignore[arg-type]


def _squeezed_drive() -> Plan:
    """The first break taken on leaving L, but P's arrival not delayed by it."""
    plan = _feature_plan(_feature_van(breaks=(36_900, 11 * H)), _feature_bike())
    route = plan.route("van")
    assert route is not None
    p = route.visits[1]
    early = replace(p, arrival_s=p.arrival_s - 300, wait_s=p.wait_s + 300)
    visits = (route.visits[0], early, *route.visits[2:])
    return _edit_route(plan, "van", visits=visits, wait_s=route.wait_s + 300)


VALID_FEATURE_PLANS = {
    "break_on_the_way": FEATURES_VALID,
    "break_on_arrival": _feature_plan(
        _feature_van(breaks=(10 * H + 600, 11 * H)), _feature_bike()
    ),
    "break_before_the_end": _feature_plan(
        _feature_van(breaks=(37_900, 11 * H)), _feature_bike()
    ),
    "break_before_the_start": _feature_plan(
        _feature_van(start_s=10 * H + 900, breaks=(10 * H, 11 * H)), _feature_bike()
    ),
    "both_breaks_on_the_way": _feature_plan(
        _feature_van(starts={"P": 39_300}, breaks=(37_000, 11 * H)), _feature_bike()
    ),
    "pair_unplanned": _feature_plan(
        _feature_van("L"), _feature_bike(), unplanned=("P", "Q")
    ),
}
"""Valid plans using every feature: L late within its tier's allowance, the pair
served in order within its ride limit, K on the bike, and the van's breaks placed
each way the rules allow."""

FEATURE_CASES = (
    # Slots and lateness.
    _Case(
        "outside_time_window_too_late",
        K.OUTSIDE_TIME_WINDOW,
        lambda: _feature_plan(
            _feature_van(start_s=10 * H + 1700, breaks=(38_200, 40_100)),
            _feature_bike(),
        ),
        vehicle_id="van",
        order_id="L",
    ),
    _Case(
        "outside_time_window_between_windows",
        K.OUTSIDE_TIME_WINDOW,
        lambda: _feature_plan(
            _feature_van(start_s=31_000, starts={"L": 31_200}, breaks=(10 * H, 11 * H)),
            _feature_bike(),
        ),
        vehicle_id="van",
        order_id="L",
    ),
    _Case(
        "lateness_mismatch",
        K.LATENESS_MISMATCH,
        lambda: _feature_plan(_feature_van(late={"L": 0}), _feature_bike()),
        vehicle_id="van",
        order_id="L",
    ),
    _Case(
        "route_lateness_mismatch",
        K.ROUTE_LATENESS_MISMATCH,
        lambda: _edit_route(FEATURES_VALID, "van", late_s=0),
        vehicle_id="van",
    ),
    _Case(
        "route_cost_mismatch_lateness",
        K.ROUTE_COST_MISMATCH,
        lambda: _edit_route(
            FEATURES_VALID,
            "van",
            costs=replace(FEATURES_VALID.routes[0].costs, lateness=0.0),
            cost=FEATURES_VALID.routes[0].cost - 10.0,
        ),
        vehicle_id="van",
    ),
    # Pairs and loads.
    _Case(
        "start_load_mismatch_paired_delivery_loaded",
        K.START_LOAD_MISMATCH,
        lambda: _feature_plan(_feature_van(start_load=(7,)), _feature_bike()),
        vehicle_id="van",
    ),
    _Case(
        "pair_split_unplanned",
        K.PAIR_SPLIT,
        lambda: _feature_plan(
            _feature_van("L", "P"), _feature_bike(), unplanned=("Q",)
        ),
        vehicle_id="van",
        order_id="Q",
    ),
    _Case(
        "pair_split_two_vehicles",
        K.PAIR_SPLIT,
        lambda: _feature_plan(_feature_van("L", "P"), _feature_bike("Q", "K")),
        vehicle_id="bike",
        order_id="Q",
        # The bike hands over goods it never collected.
        also=frozenset({K.NEGATIVE_LOAD}),
    ),
    _Case(
        "pair_order",
        K.PAIR_ORDER,
        lambda: _feature_plan(
            _feature_van("Q", "P", "L", start_s=10 * H, breaks=(37_500, 11 * H)),
            _feature_bike(),
        ),
        vehicle_id="van",
        order_id="Q",
    ),
    _Case(
        "ride_too_long",
        K.RIDE_TOO_LONG,
        lambda: _feature_plan(
            _feature_van(starts={"Q": 38_400 + 1300}, breaks=(37_000, 40_000)),
            _feature_bike(),
        ),
        vehicle_id="van",
        order_id="Q",
    ),
    # Vehicle kinds.
    _Case(
        "wrong_vehicle_kind",
        K.WRONG_VEHICLE_KIND,
        lambda: _feature_plan(_feature_van("L", "P", "Q", "K")),
        vehicle_id="van",
        order_id="K",
    ),
    # Breaks.
    _Case(
        "break_missing",
        K.BREAK_MISSING,
        lambda: _feature_plan(_feature_van(breaks=(37_000,)), _feature_bike()),
        vehicle_id="van",
    ),
    _Case(
        "break_duration_mismatch",
        K.BREAK_DURATION_MISMATCH,
        lambda: _edit_break(FEATURES_VALID, "van", 0, RouteBreak(37_000, 37_840)),
        vehicle_id="van",
    ),
    _Case(
        "break_outside_window",
        K.BREAK_OUTSIDE_WINDOW,
        lambda: _feature_plan(
            _feature_van(breaks=(37_000, 11 * H - 100)), _feature_bike()
        ),
        vehicle_id="van",
    ),
    _Case(
        "breaks_overlap",
        K.BREAKS_OVERLAP,
        lambda: _feature_plan(
            _feature_van(breaks=(11 * H - 300, 11 * H)), _feature_bike()
        ),
        vehicle_id="van",
    ),
    _Case(
        "break_overlaps_service",
        K.BREAK_OVERLAPS_WORK,
        lambda: _feature_plan(_feature_van(breaks=(37_260, 11 * H)), _feature_bike()),
        vehicle_id="van",
    ),
    _Case(
        "break_spans_arrival",
        K.BREAK_OVERLAPS_WORK,
        lambda: _edit_break(
            VALID_FEATURE_PLANS["break_on_arrival"],
            "van",
            0,
            RouteBreak(10 * H + 500, 10 * H + 1400),
        ),
        vehicle_id="van",
        order_id="L",
    ),
    _Case(
        "break_squeezes_drive",
        K.BREAK_OVERLAPS_WORK,
        _squeezed_drive,
        vehicle_id="van",
        order_id="P",
        # The same arrival, seen from its reported inputs.
        also=frozenset({K.ARRIVAL_MISMATCH}),
    ),
    # Route KPIs and totals.
    _Case(
        "empty_distance_mismatch",
        K.EMPTY_DISTANCE_MISMATCH,
        lambda: _edit_route(
            FEATURES_VALID,
            "van",
            empty_distance_m=FEATURES_VALID.routes[0].empty_distance_m + 1,
        ),
        vehicle_id="van",
    ),
    _Case(
        "mean_load_factor_mismatch",
        K.MEAN_LOAD_FACTOR_MISMATCH,
        lambda: _edit_route(
            FEATURES_VALID,
            "van",
            mean_load_factor=FEATURES_VALID.routes[0].mean_load_factor + 0.01,
        ),
        vehicle_id="van",
    ),
    _Case(
        "totals_mismatch_empty_distance",
        K.TOTALS_MISMATCH,
        lambda: _edit_totals(FEATURES_VALID, empty_distance_m=1),
    ),
    _Case(
        "totals_mismatch_late_stops",
        K.TOTALS_MISMATCH,
        lambda: _edit_totals(FEATURES_VALID, late_stops=0),
    ),
    _Case(
        "totals_mismatch_late_s",
        K.TOTALS_MISMATCH,
        lambda: _edit_totals(FEATURES_VALID, late_s=1),
    ),
    _Case(
        "totals_mismatch_costs",
        K.TOTALS_MISMATCH,
        lambda: _edit_totals(
            FEATURES_VALID,
            costs=replace(FEATURES_VALID.totals.costs, lateness=0.0),
        ),
    ),
)
"""Corruptions of FEATURES plans, each breaking one delivery-day rule."""


@pytest.mark.parametrize(
    "travel",
    [TRAVEL, TRAVEL["van"]],
    ids=["matrix_per_profile", "one_shared_matrix"],
)
def test_valid_plan_has_no_violations(travel: TravelLike) -> None:
    """A correctly computed plan passes, with per-profile or one shared matrix."""
    plan = _valid_plan(travel)
    assert check_plan(PROBLEM, plan, travel) == []
    assert_plan_ok(PROBLEM, plan, travel)


def _assert_reported(case: _Case, violations: list[Violation]) -> None:
    """The case's kind (with its vehicle and order) and its also-kinds, only."""
    kinds = {v.kind for v in violations}
    assert kinds == {case.kind} | case.also, violations
    assert any(
        v.kind == case.kind
        and v.vehicle_id == case.vehicle_id
        and v.order_id == case.order_id
        for v in violations
    ), violations
    assert all(v.message for v in violations)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_corruption_is_reported(case: _Case) -> None:
    """Each minimal corruption is reported with its kind, vehicle and order only."""
    _assert_reported(case, check_plan(PROBLEM, case.corrupt(), TRAVEL))


@pytest.mark.parametrize(
    "plan", [pytest.param(p, id=name) for name, p in VALID_FEATURE_PLANS.items()]
)
def test_valid_feature_plan_has_no_violations(plan: Plan) -> None:
    """A correct plan with lateness, a pair, vehicle kinds and breaks passes."""
    assert check_plan(FEATURES, plan, FEATURE_TRAVEL) == []


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in FEATURE_CASES])
def test_feature_corruption_is_reported(case: _Case) -> None:
    """Each minimal corruption of a delivery-day rule is reported, and only it."""
    _assert_reported(case, check_plan(FEATURES, case.corrupt(), FEATURE_TRAVEL))


def test_every_kind_has_a_case() -> None:
    """Every ViolationKind member is exercised by a corruption case."""
    cases = CASES + FEATURE_CASES
    assert {c.kind for c in cases} == set(ViolationKind)
    assert len({c.id for c in cases}) == len(cases)


def test_all_violations_are_collected() -> None:
    """Independent faults in one plan are all reported, not only the first."""
    plan = replace(
        _edit_route(VALID, "van", start_depot="D2"), status=PlanStatus.SOLVED
    )
    kinds = [v.kind for v in check_plan(PROBLEM, plan, TRAVEL)]
    assert sorted(kinds) == sorted([K.WRONG_START_DEPOT, K.STATUS_MISMATCH])


def test_messages_name_entities_and_numbers() -> None:
    """A message names the vehicle, the order and both numbers compared."""
    plan = _edit_visit(VALID, "van", 1, distance_m=12_345)
    (leg,) = [
        v
        for v in check_plan(PROBLEM, plan, TRAVEL)
        if v.kind == K.LEG_DISTANCE_MISMATCH
    ]
    assert '"van"' in leg.message
    assert '"B"' in leg.message
    assert "12345" in leg.message
    assert "2000" in leg.message


def test_soft_slot_message_names_the_allowed_lateness() -> None:
    """OUTSIDE_TIME_WINDOW for a soft slot says how late service may start."""
    plan = _feature_plan(
        _feature_van(start_s=10 * H + 1700, breaks=(38_200, 40_100)), _feature_bike()
    )
    (outside,) = check_plan(FEATURES, plan, FEATURE_TRAVEL)
    assert outside.kind == K.OUTSIDE_TIME_WINDOW
    assert "37900" in outside.message
    assert "up to 1800 s late" in outside.message


def test_pair_on_a_route_not_checked_is_skipped() -> None:
    """A pair with an order on an unknown vehicle's route is not judged."""
    ghost = replace(_feature_bike("Q"), vehicle_id="ghost")
    plan = _feature_plan(_feature_van("L", "P"), ghost, _feature_bike())
    kinds = [v.kind for v in check_plan(FEATURES, plan, FEATURE_TRAVEL)]
    assert kinds == [K.UNKNOWN_VEHICLE]


def test_assert_plan_ok_lists_every_violation() -> None:
    """assert_plan_ok raises AssertionError naming every violation's kind."""
    plan = replace(
        _edit_route(VALID, "van", start_depot="D2"), status=PlanStatus.SOLVED
    )
    with pytest.raises(AssertionError) as info:
        assert_plan_ok(PROBLEM, plan, TRAVEL)
    text = str(info.value)
    assert "2 violation(s)" in text
    assert str(K.WRONG_START_DEPOT) in text
    assert str(K.STATUS_MISMATCH) in text


def test_missing_profile_matrix_raises() -> None:
    """A travel mapping without a used vehicle's profile is a MatrixError."""
    with pytest.raises(MatrixError, match="bike"):
        check_plan(PROBLEM, VALID, {"van": TRAVEL["van"]})


def test_matrix_of_wrong_size_raises() -> None:
    """A matrix that does not match the problem's locations is a MatrixError."""
    small = _Matrix(np.zeros((3, 3), dtype=np.int64), np.zeros((3, 3), dtype=np.int64))
    with pytest.raises(MatrixError, match="shape"):
        check_plan(PROBLEM, VALID, small)


def test_violation_str_starts_with_kind() -> None:
    """str(Violation) is the kind followed by the message."""
    violation = Violation(K.EMPTY_ROUTE, "nothing here", vehicle_id="van")
    assert str(violation) == "empty_route: nothing here"


def test_checker_imports_no_solver_geo_or_ortools() -> None:
    """Importing routing.check loads neither the solver, routing.geo nor OR-Tools."""
    code = (
        "import sys, routing.check\n"
        "bad = [m for m in sys.modules\n"
        "       if m.split('.')[0] == 'ortools'\n"
        "       or m.startswith(('routing.solver', 'routing.geo'))]\n"
        "assert not bad, bad\n"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True)
