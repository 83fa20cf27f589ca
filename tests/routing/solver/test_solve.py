"""Tests of solve(): constraints are honoured, impossible orders are explained."""

from __future__ import annotations

import numpy as np
import pytest

from routing.check import check_plan
from routing.domain.errors import MatrixError
from routing.domain.model import (
    Depot,
    Objective,
    Order,
    Point,
    Problem,
    TimeWindow,
    Vehicle,
)
from routing.domain.plan import Plan, PlanStatus, UnplannedCode
from routing.formats import problem_from_dict
from routing.geo.matrix import TravelMatrix
from routing.geo.providers import build_travel
from routing.solver import SolveOptions, solve

FAST = SolveOptions(time_limit_s=5, is_deterministic=True)


def _matrix(problem: Problem, speed: float = 1.0) -> TravelMatrix:
    """Euclidean meters between planar points; seconds at ``speed`` m/s."""
    xy = np.array([(p.x, p.y) for p in problem.locations if isinstance(p, Point)])
    d = np.rint(
        np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    )
    return TravelMatrix(d, np.rint(d / speed))


def _order(oid: str, x: float, y: float, **kw: object) -> Order:
    kw.setdefault("delivery", (1,))
    kw.setdefault("pickup", (0,))
    return Order(id=oid, location=Point(x, y), **kw)  # type: ignore[arg-type]


def _problem(
    orders: list[Order], vehicles: list[Vehicle] | None = None, **kw: object
) -> Problem:
    depots = kw.pop("depots", None) or (Depot(id="D", location=Point(0, 0)),)
    vehicles = vehicles or [
        Vehicle(id="V1", start_depot="D", end_depot="D", capacity=(10,), cost_per_km=1)
    ]
    return Problem(depots=depots, vehicles=tuple(vehicles), orders=tuple(orders), **kw)  # type: ignore[arg-type]


def _solve_checked(problem: Problem, travel: TravelMatrix | None = None) -> Plan:
    travel = travel or _matrix(problem)
    plan = solve(problem, travel, options=FAST)
    assert check_plan(problem, plan, travel) == []
    return plan


def test_serves_every_order_of_an_easy_day() -> None:
    """All orders of a loose problem are planned and the plan passes the checker."""
    orders = [_order(f"o{i}", 100 * np.cos(i), 100 * np.sin(i)) for i in range(12)]
    vehicles = [Vehicle(id="V1", start_depot="D", end_depot="D", capacity=(12,))]
    plan = _solve_checked(_problem(orders, vehicles))
    assert plan.status is PlanStatus.SOLVED
    assert sorted(plan.routes[0].order_ids) == sorted(o.id for o in orders)


def test_second_window_used_when_first_is_unreachable() -> None:
    """An order whose first slot cannot be reached is served in its second slot."""
    far = _order("far", 1000, 0, windows=(TimeWindow(0, 500), TimeWindow(2000, 2500)))
    plan = _solve_checked(_problem([far]))
    visit = plan.routes[0].visits[0]
    assert 2000 <= visit.start_s <= 2500
    assert visit.wait_s == visit.start_s - visit.arrival_s


def test_pickups_ride_back_and_load_fits_at_every_point() -> None:
    """With a full delivery and a full return, the delivery must come first."""
    deliver = _order("deliver", 100, 0, delivery=(10,), pickup=(0,))
    collect = _order("collect", 10, 0, delivery=(0,), pickup=(10,))
    plan = _solve_checked(_problem([deliver, collect]))
    route = plan.routes[0]
    assert route.order_ids == ("deliver", "collect")
    assert route.start_load == (10,)
    assert [v.load for v in route.visits] == [(0,), (10,)]


def test_simultaneous_delivery_and_pickup_counts_both() -> None:
    """Two stops delivering 5 and collecting 5 fit a capacity of 10 in either order."""
    a = _order("a", 50, 0, delivery=(5,), pickup=(5,))
    b = _order("b", 0, 50, delivery=(5,), pickup=(5,))
    plan = _solve_checked(_problem([a, b]))
    assert plan.status is PlanStatus.SOLVED
    assert plan.routes[0].load_factor == 1.0


def test_order_heavier_than_every_vehicle_is_unplanned_with_reason() -> None:
    """An order no vehicle can carry is reported, not a failed solve."""
    heavy = _order("heavy", 10, 10, delivery=(11,))
    light = _order("light", 20, 10)
    plan = _solve_checked(_problem([heavy, light]))
    assert plan.status is PlanStatus.PARTIAL
    (u,) = plan.unplanned
    assert u.order_id == "heavy"
    assert u.code is UnplannedCode.EXCEEDS_CAPACITY
    assert "exceeds every vehicle's capacity" in u.reason
    assert plan.routes[0].order_ids == ("light",)


def test_skills_route_orders_to_capable_vehicles_only() -> None:
    """A cold-chain order goes on the refrigerated van; a crane order is unplanned."""
    vehicles = [
        Vehicle(id="plain", start_depot="D", end_depot="D", capacity=(10,)),
        Vehicle(
            id="fridge",
            start_depot="D",
            end_depot="D",
            capacity=(10,),
            skills=frozenset({"cold_chain"}),
            fixed_cost=100,
        ),
    ]
    cold = _order("cold", 10, 0, skills=frozenset({"cold_chain"}))
    crane = _order("crane", 10, 0, skills=frozenset({"crane"}))
    plan = _solve_checked(_problem([cold, crane], vehicles))
    assert plan.route("fridge") is not None
    assert plan.route("fridge").order_ids == ("cold",)  # type: ignore[union-attr]
    (u,) = plan.unplanned
    assert (u.order_id, u.code) == ("crane", UnplannedCode.MISSING_SKILL)
    assert "crane" in u.reason


def test_fixed_cost_keeps_expensive_vehicle_idle() -> None:
    """When one vehicle suffices, the one with the lower fixed cost is used."""
    vehicles = [
        Vehicle(
            id="partner", start_depot="D", end_depot="D", capacity=(10,), fixed_cost=500
        ),
        Vehicle(
            id="own", start_depot="D", end_depot="D", capacity=(10,), fixed_cost=50
        ),
    ]
    orders = [_order(f"o{i}", 10 * i, 5) for i in range(4)]
    plan = _solve_checked(_problem(orders, vehicles))
    assert [r.vehicle_id for r in plan.routes] == ["own"]


def test_max_stops_leaves_extra_orders_unplanned_with_reason() -> None:
    """A single vehicle limited to two stops serves two of three orders."""
    vehicles = [
        Vehicle(id="V", start_depot="D", end_depot="D", capacity=(10,), max_stops=2)
    ]
    orders = [_order(f"o{i}", 10 * (i + 1), 0) for i in range(3)]
    plan = _solve_checked(_problem(orders, vehicles))
    assert len(plan.routes[0].visits) == 2
    (u,) = plan.unplanned
    # The only vehicle is full (max stops): one more like it would take the order.
    assert u.code is UnplannedCode.NEEDS_MORE_VEHICLES
    assert "one more vehicle like 'V'" in u.reason


def test_max_duration_and_shift_bound_the_route() -> None:
    """Routes stay within the shift and the maximum duration."""
    vehicles = [
        Vehicle(
            id="V",
            start_depot="D",
            end_depot="D",
            capacity=(10,),
            shift=TimeWindow(100, 10_000),
            max_duration_s=450,
        )
    ]
    orders = [_order(f"o{i}", 100, 20 * i, service_s=60) for i in range(4)]
    plan = _solve_checked(_problem(orders, vehicles))
    route = plan.routes[0]
    assert route.duration_s <= 450
    assert route.start_s >= 100
    assert plan.totals.orders_planned + plan.totals.orders_unplanned == 4
    assert plan.unplanned  # 4 stops at ~100 m need more than 450 s


def test_multi_depot_and_open_ended_routes() -> None:
    """Vehicles start at their own depot; an open route ends at its last stop."""
    depots = (
        Depot(id="west", location=Point(0, 0)),
        Depot(id="east", location=Point(1000, 0)),
    )
    vehicles = [
        Vehicle(
            id="w", start_depot="west", end_depot="west", capacity=(5,), cost_per_km=1
        ),
        Vehicle(
            id="e", start_depot="east", end_depot=None, capacity=(5,), cost_per_km=1
        ),
    ]
    orders = [_order("near_w", 50, 0), _order("near_e", 950, 0)]
    plan = _solve_checked(_problem(orders, vehicles, depots=depots))
    assert plan.route("w").order_ids == ("near_w",)  # type: ignore[union-attr]
    east = plan.route("e")
    assert east is not None and east.order_ids == ("near_e",)
    assert east.end_depot is None and east.end_s == east.visits[-1].departure_s


def test_slot_before_every_shift_is_explained() -> None:
    """An order booked before any vehicle works is unplanned as outside shifts."""
    vehicles = [
        Vehicle(
            id="V",
            start_depot="D",
            end_depot="D",
            capacity=(5,),
            shift=TimeWindow(28_800, 61_200),
        )
    ]
    early = _order("early", 10, 0, windows=(TimeWindow(18_000, 19_800),))
    plan = _solve_checked(_problem([early], vehicles))
    (u,) = plan.unplanned
    assert u.code is UnplannedCode.OUTSIDE_SHIFTS
    assert "05:00-05:30" in u.reason


def test_no_vehicles_gives_a_plan_with_every_order_unplanned() -> None:
    """A problem with an empty fleet returns a plan, not an error."""
    problem = Problem(
        depots=(Depot(id="D", location=Point(0, 0)),),
        vehicles=(),
        orders=(_order("a", 1, 1),),
    )
    plan = _solve_checked(problem)
    assert plan.routes == ()
    assert [u.code for u in plan.unplanned] == [UnplannedCode.NO_VEHICLES]


def test_optional_order_dropped_when_not_worth_it() -> None:
    """An optional far order with a tiny penalty is left out; its reason says so."""
    near = _order("near", 10, 0)
    far = _order("far", 5000, 0, is_optional=True, penalty=0.01)
    vehicles = [
        Vehicle(id="V", start_depot="D", end_depot="D", capacity=(5,), cost_per_km=1)
    ]
    plan = _solve_checked(_problem([near, far], vehicles))
    (u,) = plan.unplanned
    assert (u.order_id, u.code) == ("far", UnplannedCode.NOT_WORTH_SERVING)


def test_deterministic_mode_repeats_exactly() -> None:
    """Two deterministic solves of the same problem give the same routes."""
    rng = np.random.default_rng(3)
    orders = [
        _order(f"o{i}", *rng.uniform(-500, 500, 2), windows=(TimeWindow(0, 3000),))
        for i in range(25)
    ]
    vehicles = [
        Vehicle(
            id=f"V{k}", start_depot="D", end_depot="D", capacity=(8,), cost_per_km=1
        )
        for k in range(4)
    ]
    problem = _problem(orders, vehicles)
    first, second = _solve_checked(problem), _solve_checked(problem)
    assert [r.order_ids for r in first.routes] == [r.order_ids for r in second.routes]


def test_waiting_is_absorbed_by_a_later_departure() -> None:
    """A route whose only slot opens late leaves the depot late instead of waiting."""
    order = _order("late_slot", 100, 0, windows=(TimeWindow(5000, 6000),))
    plan = _solve_checked(_problem([order]))
    route = plan.routes[0]
    assert route.wait_s == 0
    assert route.start_s == 5000 - 100


def test_matrix_of_wrong_size_is_an_error() -> None:
    """Travel data that does not match the locations raises MatrixError."""
    problem = _problem([_order("a", 1, 1)])
    with pytest.raises(MatrixError, match="2 locations"):
        solve(problem, TravelMatrix(np.zeros((3, 3)), np.zeros((3, 3))), options=FAST)


def test_per_profile_matrices_change_who_is_fast() -> None:
    """A bike profile twice as slow is timed with its own matrix."""
    vehicles = [
        Vehicle(
            id="bike", start_depot="D", end_depot="D", capacity=(5,), profile="bike"
        )
    ]
    problem = _problem([_order("a", 300, 0)], vehicles)
    van = _matrix(problem)
    bike = TravelMatrix(van.distances_m, van.durations_s * 2)
    plan = solve(problem, {"van": van, "bike": bike}, options=FAST)
    assert check_plan(problem, plan, {"van": van, "bike": bike}) == []
    assert plan.routes[0].visits[0].travel_s == 600


def test_objective_fixed_cost_weight_packs_work_onto_fewer_vehicles() -> None:
    """Raising the fixed-cost weight makes the solver use one vehicle instead of two."""
    vehicles = [
        Vehicle(
            id=f"V{k}",
            start_depot="D",
            end_depot="D",
            capacity=(10,),
            fixed_cost=1,
            cost_per_km=1,
        )
        for k in range(2)
    ]
    orders = [_order("west", -1000, 0), _order("east", 1000, 0)]
    light = _solve_checked(
        _problem(orders, vehicles, objective=Objective(fixed_cost=0))
    )
    heavy = _solve_checked(
        _problem(orders, vehicles, objective=Objective(fixed_cost=10_000))
    )
    assert len(light.routes) == 2 or light.totals.distance_m <= 4000
    assert len(heavy.routes) == 1
    assert heavy.totals.orders_planned == 2


def test_departure_stays_within_depot_opening_even_if_it_means_waiting() -> None:
    """When the depot closes before a late slot, the van leaves in time and waits."""
    depots = (
        Depot(id="D", location=Point(0, 0), opening=TimeWindow(0, 1000)),
        Depot(id="hub", location=Point(200, 0)),
    )
    vehicles = [Vehicle(id="V", start_depot="D", end_depot="hub", capacity=(5,))]
    order = _order("late_slot", 100, 0, windows=(TimeWindow(5000, 6000),))
    plan = _solve_checked(_problem([order], vehicles, depots=depots))
    route = plan.routes[0]
    assert route.start_s <= 1000
    assert route.visits[0].start_s >= 5000
    assert route.wait_s > 0


def _depot_hours_day(depots: list[dict], vehicles: list[dict]) -> dict:
    return {
        "name": "depot hours",
        "depots": depots,
        "vehicles": vehicles,
        "orders": [
            {
                "id": "o",
                "location": {"lat": 42.467, "lon": 1.5},
                "delivery": [1],
                "windows": [[3600, 7200]],
            }
        ],
    }


def test_a_vehicle_whose_shift_misses_its_depots_hours_is_left_unused() -> None:
    """Found by the API fuzz run: such a vehicle once made the model fail
    ("CP Solver fail" setting its start time); now the other vehicle serves."""
    day = _depot_hours_day(
        [{"id": "d", "location": {"lat": 42.5, "lon": 1.5}, "opening": [0, 32_400]}],
        [
            {
                "id": "late",
                "start_depot": "d",
                "capacity": [10],
                "shift": [36_000, 64_800],
            },
            {"id": "any", "start_depot": "d", "capacity": [10]},
        ],
    )
    problem = problem_from_dict(day)
    travel = build_travel(problem)
    plan = solve(
        problem, travel, options=SolveOptions(time_limit_s=1, is_deterministic=True)
    )
    assert check_plan(problem, plan, travel) == []
    assert [r.vehicle_id for r in plan.routes] == ["any"] and not plan.unplanned


def test_a_route_back_before_its_end_depot_opens_waits_for_it() -> None:
    """Found by the API fuzz run: the route ended at its end depot before it
    opened. The vehicle now waits there: the route ends at the opening and the
    plan passes the checker (whose cost check counts the wait as route time)."""
    day = _depot_hours_day(
        [
            {"id": "a", "location": {"lat": 42.587, "lon": 1.711}},
            {
                "id": "b",
                "location": {"lat": 42.64, "lon": 1.534},
                "opening": [19_800, 86_400],
            },
        ],
        [{"id": "v", "start_depot": "a", "end_depot": "b", "capacity": [10]}],
    )
    problem = problem_from_dict(day)
    travel = build_travel(problem)
    plan = solve(
        problem, travel, options=SolveOptions(time_limit_s=1, is_deterministic=True)
    )
    assert check_plan(problem, plan, travel) == []
    (route,) = plan.routes
    assert route.end_s == 19_800


def test_the_search_leaves_more_time_for_the_finish_on_large_days() -> None:
    """What follows the search (judging candidates, the returned routes'
    objective) grows with the orders: a 1,000-order day's search ends earlier
    than a 12-order day's, never by more than a fifth of the limit, and short
    limits keep their small share."""
    from routing.solver.solve import _finish_reserve

    assert _finish_reserve(12, 10.0) == pytest.approx(0.5)
    assert _finish_reserve(1000, 10.0) > 1.0  # measured: 1.4 s after the search
    assert _finish_reserve(1000, 10.0) < _finish_reserve(2000, 30.0)
    assert _finish_reserve(5000, 10.0) == pytest.approx(2.0)
    assert _finish_reserve(12, 2.0) == pytest.approx(0.1)


def test_an_order_left_out_at_the_time_limit_is_not_said_to_find_the_fleet_full() -> (
    None
):
    """Before the explanation (or where it ran out of time), an order the search
    left out is told the fleet is full only if the search ended by itself; at
    the time limit the reason says a longer limit may plan it."""
    from pathlib import Path

    from routing.formats import load_problem
    from routing.solver.solve import _dropped_reason

    scenario = Path(__file__).parents[3] / "scenarios" / "tutorial.json"
    problem = load_problem(scenario)
    oid = next(o.id for o in problem.orders if not o.is_optional)
    ended = _dropped_reason(problem, oid, True)
    cut = _dropped_reason(problem, oid, True, timed_out=True)
    assert ended.code == cut.code == UnplannedCode.FLEET_FULL
    assert "time limit" not in ended.reason and "fully used" in ended.reason
    assert "longer time limit may plan it" in cut.reason
    assert "fully used" not in cut.reason


def test_a_plan_cut_by_its_time_limit_says_how_many_orders_may_still_fit() -> None:
    """The stop reason of a search cut by its time limit counts the orders left
    out that the explanation found room for (``SEARCH_MISSED``) or did not reach
    (their reason still the one given before it): the limit was short."""
    from routing.domain.plan import Unplanned
    from routing.solver.solve import _short_limit_hint

    def left_out(oid: str, code: UnplannedCode) -> Unplanned:
        return Unplanned(order_id=oid, code=code, reason="...")

    fallbacks = {
        oid: left_out(oid, UnplannedCode.FLEET_FULL) for oid in ("a", "b", "c", "d")
    }
    explained = {
        **fallbacks,  # d: not reached by the explanation
        "a": left_out("a", UnplannedCode.SEARCH_MISSED),  # room found
        "b": left_out("b", UnplannedCode.FLEET_FULL),  # explained: no room
        "c": left_out("c", UnplannedCode.SEARCH_MISSED),
    }
    hint = _short_limit_hint(explained, fallbacks, 20.0)
    assert hint.startswith("; 3 order(s) left out may still fit")
    assert "time limit (20 s) was short" in hint
    no_room = {oid: left_out(oid, UnplannedCode.FLEET_FULL) for oid in fallbacks}
    assert _short_limit_hint(no_room, fallbacks, 20.0) == ""
    assert _short_limit_hint({}, {}, 20.0) == ""
