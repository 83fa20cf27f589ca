"""Tests of build_route(): the times, breaks, lateness and KPIs of one sequence.

Every problem is planar with travel at 1 m/s (``Euclidean(scale=1)``), so that
distances in meters equal travel times in seconds and every expected time can be
worked out by hand. Each route is also wrapped in a one-route Plan and passed
through the independent checker.
"""

from __future__ import annotations

import pytest

from routing.check import assert_plan_ok
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
from routing.domain.plan import Plan, PlanStatus, Route, RouteBreak, Visit, summarize
from routing.domain.timing import (
    build_route,
    keep_feasible,
    overrun_bound,
    route_violations,
)
from routing.geo import Euclidean, TravelMatrix


def _order(oid: str, x: float, y: float = 0.0, **kw: object) -> Order:
    kw.setdefault("delivery", (1,))
    kw.setdefault("pickup", (0,))
    return Order(id=oid, location=Point(x, y), **kw)  # type: ignore[arg-type]


def _vehicle(**kw: object) -> Vehicle:
    kw.setdefault("capacity", (10,))
    return Vehicle(
        id="V",
        start_depot="D",
        end_depot="D",
        cost_per_km=1.0,
        cost_per_hour=36.0,
        **kw,  # type: ignore[arg-type]
    )


def _problem(
    orders: list[Order], vehicle: Vehicle | None = None, **kw: object
) -> Problem:
    vehicle = vehicle or _vehicle()
    return Problem(
        depots=(Depot(id="D", location=Point(0, 0)),),
        vehicles=(vehicle,),
        orders=tuple(orders),
        **kw,  # type: ignore[arg-type]
    )


def _travel(problem: Problem) -> TravelMatrix:
    """Euclidean meters, rounded; seconds equal meters (1 m/s)."""
    return Euclidean(scale=1, truncate=False).build(problem.locations, profile="van")


def _route(problem: Problem, order_ids: list[str]) -> Route:
    """Schedule the sequence on the problem's only vehicle; check it as a plan."""
    travel = _travel(problem)
    route = build_route(problem, travel, problem.vehicles[0], order_ids)
    served = set(order_ids)
    assert served == {o.id for o in problem.orders}, "test problems hold the route"
    plan = Plan(
        status=PlanStatus.SOLVED,
        routes=(route,),
        unplanned=(),
        totals=summarize((route,), 0),
        solver_status="test",
    )
    assert_plan_ok(problem, plan, travel)
    return route


def _visit(route: Route, order_id: str) -> Visit:
    return next(v for v in route.visits if v.order_id == order_id)


def _with_break(window: TimeWindow, duration_s: int) -> Vehicle:
    return _vehicle(breaks=(Break(window=window, duration_s=duration_s),))


def _overlaps_service(route: Route, brk: RouteBreak) -> bool:
    return any(
        brk.start_s < v.departure_s and v.start_s < brk.end_s
        for v in route.visits
        if v.departure_s > v.start_s
    )


# A tight first stop pins the departure (its slot leaves no slack), so waiting
# further on cannot be absorbed by leaving later.
TIGHT = TimeWindow(0, 100)


def test_waits_when_early_and_starts_at_the_slot() -> None:
    """Arriving before the slot opens, service starts at the slot start; no lateness."""
    a = _order("a", 100, windows=(TIGHT,))
    b = _order("b", 200, windows=(TimeWindow(1000, 1100),))
    route = _route(_problem([a, b]), ["a", "b"])
    vb = _visit(route, "b")
    assert route.start_s == 0
    assert (vb.arrival_s, vb.start_s, vb.wait_s, vb.late_s) == (200, 1000, 800, 0)
    assert route.wait_s == 800
    assert route.late_s == 0
    assert route.end_s == 1200


def test_arrival_between_two_windows_waits_for_the_next() -> None:
    """Between two windows the service waits for the second; it is not late."""
    a = _order("a", 100, windows=(TIGHT,))
    b = _order("b", 300, windows=(TimeWindow(100, 200), TimeWindow(500, 600)))
    route = _route(_problem([a, b]), ["a", "b"])
    vb = _visit(route, "b")
    assert (vb.arrival_s, vb.start_s, vb.wait_s, vb.late_s) == (300, 500, 200, 0)
    assert route.costs.lateness == 0.0


def test_lateness_counts_only_after_the_last_window() -> None:
    """After the last window service starts on arrival, late by the overrun, at
    the order's cost per hour."""
    a = _order("a", 100, windows=(TIGHT,))
    b = _order(
        "b",
        900,
        windows=(TimeWindow(100, 200), TimeWindow(500, 600)),
        max_lateness_s=600,
        lateness_cost_per_hour=36.0,
    )
    route = _route(_problem([a, b]), ["a", "b"])
    vb = _visit(route, "b")
    assert (vb.arrival_s, vb.start_s, vb.wait_s, vb.late_s) == (900, 900, 0, 300)
    assert route.late_s == 300
    assert route.late_stops == 1
    assert route.costs.lateness == pytest.approx(300 / 3600 * 36.0)
    assert route.cost == pytest.approx(route.costs.total)


def test_lateness_cost_comes_from_the_tier_unless_the_order_overrides_it() -> None:
    """A tier's lateness cost applies to its orders; an order's own value wins."""
    tier = Tier(id="flex", max_lateness_s=3600, lateness_cost_per_hour=36.0)
    plain = _order("a", 500, windows=(TimeWindow(0, 400),), tier="flex")
    own = _order(
        "a", 500, windows=(TimeWindow(0, 400),), tier="flex", lateness_cost_per_hour=72
    )
    for order, per_hour in ((plain, 36.0), (own, 72.0)):
        route = _route(_problem([order], tiers=(tier,)), ["a"])
        assert route.late_s == 100
        assert route.costs.lateness == pytest.approx(100 / 3600 * per_hour)


def test_break_is_taken_while_waiting_at_no_cost() -> None:
    """A break that fits in the wait for a slot is taken there, at once, although
    its window stays open long after: nothing moves."""
    a = _order("a", 100, windows=(TIGHT,), service_s=60)
    b = _order("b", 200, windows=(TimeWindow(1000, 1100),), service_s=60)
    without = _route(_problem([a, b]), ["a", "b"])
    with_break = _route(
        _problem([a, b], _with_break(TimeWindow(300, 2000), 300)), ["a", "b"]
    )
    assert with_break.breaks == (RouteBreak(300, 600),)  # waiting at b, 260-1000
    assert [v.start_s for v in with_break.visits] == [v.start_s for v in without.visits]
    assert (with_break.start_s, with_break.end_s) == (without.start_s, without.end_s)
    assert with_break.cost == pytest.approx(without.cost)
    assert with_break.break_s == 300
    assert not _overlaps_service(with_break, with_break.breaks[0])


def test_break_is_forced_at_the_last_gap_its_window_allows() -> None:
    """With no waiting, the break is put off to the last gap that still starts it
    inside its window, and everything after it moves by its duration."""
    orders = [_order(f"o{k}", 100 * k, service_s=100) for k in (1, 2, 3)]
    ids = ["o1", "o2", "o3"]
    without = _route(_problem(orders), ids)
    # o1 100-200, o2 300-400, o3 500-600, back at 900 without a break.
    assert [v.start_s for v in without.visits] == [100, 300, 500]
    route = _route(_problem(orders, _with_break(TimeWindow(0, 450), 60)), ids)
    (brk,) = route.breaks
    assert brk == RouteBreak(400, 460)  # on leaving o2: the last chance before 450
    assert [v.start_s for v in route.visits] == [100, 300, 560]
    assert route.end_s == without.end_s + 60
    assert not _overlaps_service(route, brk)


def test_break_moves_to_an_earlier_gap_when_the_last_one_makes_a_slot_late() -> None:
    """When the last possible gap would make a hard slot late, the break is taken
    in an earlier gap where part of it is absorbed by waiting."""
    a = _order("a", 100, windows=(TIGHT,))
    b = _order("b", 200, windows=(TimeWindow(240, 1000),), service_s=100)
    c = _order("c", 300, windows=(TimeWindow(0, 470),))
    # Without a break: b waits 200-240 and ends at 340, c starts at 440 (30 s
    # slack). A 60 s break on leaving b (the last gap before 400) would make c
    # 30 s late; taken on arrival at b it costs only 20 s.
    vehicle = _with_break(TimeWindow(0, 400), 60)
    route = _route(_problem([a, b, c], vehicle), ["a", "b", "c"])
    assert route.breaks == (RouteBreak(200, 260),)
    assert [v.start_s for v in route.visits] == [100, 260, 460]
    assert route.late_s == 0


def test_break_after_the_end_when_the_route_finishes_before_its_window() -> None:
    """A route over before the break window takes the break off duty, after it."""
    a = _order("a", 100)
    route = _route(_problem([a], _with_break(TimeWindow(1000, 2000), 300)), ["a"])
    assert route.end_s == 200
    assert route.breaks == (RouteBreak(1000, 1300),)
    assert route.break_s == 0
    assert route.duration_s == 200


@pytest.mark.parametrize(
    ("max_lateness_s", "lateness_cost_per_hour"), [(0, 1.0), (3600, 100.0)]
)
def test_departure_delay_absorbs_waiting_up_to_the_slack_when_lateness_does_not_pay(
    max_lateness_s: int, lateness_cost_per_hour: float
) -> None:
    """Leaving later removes waiting only up to the first stop's slack when its
    slot is hard, or when its lateness costs more than the van's hour (36/h)."""
    a = _order(
        "a",
        100,
        windows=(TimeWindow(0, 300),),
        max_lateness_s=max_lateness_s,
        lateness_cost_per_hour=lateness_cost_per_hour,
    )
    b = _order("b", 200, windows=(TimeWindow(1000, 1100),))
    route = _route(_problem([a, b]), ["a", "b"])
    va, vb = route.visits
    assert route.start_s == 200  # a's slack is 200 s: leave 200 s later
    assert (va.start_s, va.late_s) == (300, 0)
    assert (vb.arrival_s, vb.start_s, vb.wait_s) == (400, 1000, 600)
    assert route.late_s == 0
    assert route.end_s == 1200  # the return does not move


def test_departure_delay_runs_late_where_lateness_costs_less_than_waiting() -> None:
    """When the first stop's lateness (1/h) is cheaper than the van's hour
    (36/h), the cheapest timing leaves when no waiting is left, 600 s late
    there, as the solver's objective prices it."""
    a = _order(
        "a",
        100,
        windows=(TimeWindow(0, 300),),
        max_lateness_s=3600,
        lateness_cost_per_hour=1.0,
    )
    b = _order("b", 200, windows=(TimeWindow(1000, 1100),))
    route = _route(_problem([a, b]), ["a", "b"])
    va, vb = route.visits
    assert route.start_s == 800
    assert (va.start_s, va.late_s) == (900, 600)
    assert (vb.start_s, vb.wait_s) == (1000, 0)
    assert route.end_s == 1200


def test_single_late_slot_is_reached_without_waiting() -> None:
    """When nothing limits the delay, all waiting is absorbed by leaving later."""
    a = _order("a", 100, windows=(TimeWindow(5000, 6000),))
    route = _route(_problem([a]), ["a"])
    assert route.wait_s == 0
    assert route.start_s == 4900


def test_ride_limit_retimes_the_pickup() -> None:
    """A pickup whose goods would wait too long on board is collected later, even
    when leaving the depot later cannot help (the first stop has no slack)."""
    a = _order("a", 100, windows=(TIGHT,))
    pickup = _order("p", 200, delivery=(0,), pickup=(3,))
    delivery = _order("d", 300, delivery=(3,), windows=(TimeWindow(1000, 1100),))
    pair = Pair(id="P", pickup="p", delivery="d", max_ride_s=300)
    problem = _problem([a, pickup, delivery], pairs=(pair,))
    route = _route(problem, ["a", "p", "d"])
    _, vp, vd = route.visits
    assert route.start_s == 0
    assert (vp.arrival_s, vp.start_s) == (200, 700)  # waits to collect at 700
    assert vd.start_s == 1000
    assert vd.start_s - vp.departure_s == 300
    assert route.start_load == (1,)  # paired goods are collected, not loaded
    assert [v.load for v in route.visits] == [(0,), (3,), (0,)]


def _ride_and_break_day() -> Problem:
    """A ride-limited pair after three stops, one with a tight slot, and a
    break: valid only with the pickup held back and the break while waiting."""
    a = _order("a", 100, windows=(TIGHT,))
    b = _order("b", 200, windows=(TimeWindow(240, 1000),), service_s=100)
    c = _order("c", 300, windows=(TimeWindow(0, 470),))
    pickup = _order("p", 400, delivery=(0,), pickup=(2,))
    delivery = _order("d", 500, delivery=(2,), windows=(TimeWindow(2000, 2100),))
    pair = Pair(id="P", pickup="p", delivery="d", max_ride_s=300)
    vehicle = _with_break(TimeWindow(0, 400), 60)
    return _problem([a, b, c, pickup, delivery], vehicle, pairs=(pair,))


def test_ride_limit_retiming_keeps_the_break_where_slots_stay_on_time() -> None:
    """Retiming a pickup for its ride limit keeps the break in the gap that keeps
    a hard slot on time (break at b while waiting, c at 460 s, p collected at
    1700 s is a valid timing of this sequence)."""
    problem = _ride_and_break_day()
    route = _route(problem, ["a", "b", "c", "p", "d"])
    visits = {v.order_id: v for v in route.visits}
    assert route.late_s == 0
    assert visits["c"].start_s <= 470
    assert visits["d"].start_s - visits["p"].departure_s <= 300


def test_overrun_bound_is_zero_where_a_timing_keeps_the_rules() -> None:
    """The bound never rules out a sequence that has a valid timing: the
    ride-limited route above (pickup held back, break while waiting) gets 0."""
    problem = _ride_and_break_day()
    sequence = ["a", "b", "c", "p", "d"]
    assert route_violations(problem, _route(problem, sequence)) == []
    vehicle = problem.vehicles[0]
    assert overrun_bound(problem, _travel(problem), vehicle, sequence) == 0


def test_overrun_bound_counts_what_no_timing_can_avoid() -> None:
    """Lateness at the earliest start, the return past the shift and a ride
    that the drives and services in between already make too long: each is
    a lower bound on what `build_route`'s timing breaks."""
    far = _order("far", 500, windows=(TimeWindow(0, 300),))  # reached at 500
    problem = _problem([far])
    travel = _travel(problem)
    vehicle = problem.vehicles[0]
    assert overrun_bound(problem, travel, vehicle, ["far"]) == 200
    assert build_route(problem, travel, vehicle, ["far"]).late_s >= 200

    short = _vehicle(shift=TimeWindow(0, 900))
    problem = _problem([_order("x", 500)], short)
    assert overrun_bound(problem, _travel(problem), short, ["x"]) == 100  # back 1000

    pickup = _order("p", 100, delivery=(0,), pickup=(1,))
    between = _order("m", 200, service_s=50)
    delivery = _order("d", 300, delivery=(1,))
    pair = Pair(id="P", pickup="p", delivery="d", max_ride_s=220)
    problem = _problem([pickup, between, delivery], pairs=(pair,))
    travel = _travel(problem)
    # Drives p->m->d 200 s and m's service 50 s: at least 250 s on board.
    assert overrun_bound(problem, travel, problem.vehicles[0], ["p", "m", "d"]) == 30
    route = build_route(problem, travel, problem.vehicles[0], ["p", "m", "d"])
    assert any("ride" in text for text in route_violations(problem, route))
    assert overrun_bound(problem, travel, problem.vehicles[0], ["p", "d", "m"]) == 0


def test_empty_distance_is_the_last_leg_of_a_delivery_only_route() -> None:
    """Delivering everything, the vehicle drives back empty: that leg alone."""
    a = _order("a", 100, delivery=(2,))
    b = _order("b", 100, 100, delivery=(2,))
    route = _route(_problem([a, b]), ["a", "b"])
    assert route.start_load == (4,)
    assert route.empty_distance_m == route.end_distance_m == 141
    assert 0.0 <= route.mean_load_factor <= route.load_factor <= 1.0


def test_no_empty_distance_when_returns_ride_back() -> None:
    """With returns on board at the end, no leg is driven empty."""
    a = _order("a", 100, delivery=(2,), pickup=(1,))
    route = _route(_problem([a]), ["a"])
    assert route.empty_distance_m == 0


def test_mean_load_factor_weights_legs_by_distance() -> None:
    """Half full on the way out, empty on the way back: a quarter on average."""
    vehicle = _vehicle(capacity=(4,))
    a = _order("a", 100, delivery=(2,))
    route = _route(_problem([a], vehicle), ["a"])
    assert route.load_factor == pytest.approx(0.5)
    assert route.mean_load_factor == pytest.approx(0.25)


def test_two_slot_pickup_is_served_in_the_later_slot_when_that_is_cheaper() -> None:
    """Pickup with slots 10-12 and 17-19, delivery due 17-19: the cheapest
    timing leaves late and takes the pickup's second slot, with no waiting
    (the first slot would mean five hours' wait at the delivery)."""
    pair = Pair(id="PQ", pickup="P", delivery="Q")
    problem = _problem(
        [
            _order(
                "P",
                600,
                delivery=(0,),
                pickup=(1,),
                service_s=300,
                windows=(TimeWindow(36000, 43200), TimeWindow(61200, 68400)),
            ),
            _order("Q", 1200, service_s=300, windows=(TimeWindow(61200, 68400),)),
        ],
        pairs=(pair,),
    )
    route = _route(problem, ["P", "Q"])
    assert _visit(route, "P").start_s == 61200
    assert route.wait_s == 0
    assert route.start_s == 61200 - 600


def test_a_soft_slot_is_missed_when_lateness_costs_less_than_waiting() -> None:
    """A stop whose lateness costs 6/h, on a van that costs 36/h: leaving later
    and arriving 10 min late at the first stop beats waiting an hour for the
    second one."""
    problem = _problem(
        [
            _order(
                "A",
                600,
                windows=(TimeWindow(0, 1800),),
                max_lateness_s=3600,
                lateness_cost_per_hour=6.0,
            ),
            _order("B", 1200, windows=(TimeWindow(6000, 9000),)),
        ]
    )
    route = _route(problem, ["A", "B"])
    a, b = _visit(route, "A"), _visit(route, "B")
    assert route.wait_s == 0
    assert b.start_s == 6000
    assert a.late_s == 6000 - 600 - 1800
    # Cheaper than the on-time timing (serve A at 1800, wait at B).
    on_time_cost = 36.0 * (6000 + 1200 - 1200) / 3600
    assert route.costs.time + route.costs.lateness < on_time_cost


@pytest.mark.parametrize("max_duration_s", [1500, None])
def test_unpriced_hours_still_leave_late_rather_than_wait_at_the_first_stop(
    max_duration_s: int | None,
) -> None:
    """Without an hourly cost every departure costs the same. Leaving at once
    waits 900 s at a; leaving the whole 1200 s of waiting later would push the
    break (taken while waiting at b) past b's slot, so the departure that
    absorbs a's waiting alone is taken: the route lasts 700 s, within a
    1500-s max duration (leaving at once: 1600 s, which the checker refuses),
    and without a max duration the driver still does not wait at a."""
    vehicle = Vehicle(
        id="V",
        start_depot="D",
        end_depot="D",
        capacity=(10,),
        cost_per_km=1.0,
        max_duration_s=max_duration_s,
        breaks=(Break(window=TimeWindow(1000, 1300), duration_s=300),),
    )
    a = _order("a", 100, windows=(TimeWindow(1000, 1100),))
    b = _order("b", 200, windows=(TimeWindow(1400, 1500),))
    route = _route(_problem([a, b], vehicle), ["a", "b"])
    va, vb = route.visits
    assert route.start_s == 900
    assert (va.arrival_s, va.start_s, vb.start_s) == (1000, 1000, 1400)
    assert route.breaks == (RouteBreak(1100, 1400),)
    assert route.duration_s == 700


def test_keep_feasible_leaves_out_what_breaks_a_route_and_nothing_else() -> None:
    """A feasible route comes back as it is; in one where a lunch break pushes
    a stop past its hard slot, only that stop goes, and a pickup that cannot
    be kept takes its delivery with it."""
    lunch = Break(window=TimeWindow(100, 150), duration_s=400)
    a = _order("a", 50, windows=(TimeWindow(0, 100),))
    b = _order("b", 100, windows=(TimeWindow(200, 300),))
    c = _order("c", 150)
    problem = _problem([a, b, c], _vehicle(breaks=(lunch,)))
    travel = _travel(problem)
    vehicle = problem.vehicles[0]
    assert keep_feasible(problem, travel, vehicle, ["a", "c"]) == ["a", "c"]
    # a at 50; lunch (400 s, starting by 150) before b's slot or while
    # waiting for it: b at 500 or later, its slot closed at 300.
    assert route_violations(
        problem, build_route(problem, travel, vehicle, ["a", "b", "c"])
    )
    assert keep_feasible(problem, travel, vehicle, ["a", "b", "c"]) == ["a", "c"]
    pickup = _order(
        "p", 100, windows=(TimeWindow(200, 300),), pickup=(1,), delivery=(0,)
    )
    drop = _order("d", 120)
    paired = _problem(
        [a, pickup, drop, c],
        _vehicle(breaks=(lunch,)),
        pairs=(Pair(id="t", pickup="p", delivery="d"),),
    )
    kept = keep_feasible(
        paired, _travel(paired), paired.vehicles[0], ["a", "p", "c", "d"]
    )
    assert kept == ["a", "c"]
