"""Tests of orders with several slots: one model node per slot, at most one
visited (``_ortools._slot_nodes``), soft lateness only after the last slot."""

from __future__ import annotations

import numpy as np

from routing.check import check_plan
from routing.domain.model import Depot, Order, Pair, Point, Problem, TimeWindow, Vehicle
from routing.geo.matrix import TravelMatrix
from routing.solver import SolveOptions, solve
from routing.solver._ortools import RoutingSearch
from routing.solver.precheck import precheck

FAST = SolveOptions(time_limit_s=5, is_deterministic=True)
TWO_SLOTS = (TimeWindow(0, 500), TimeWindow(2000, 2500))


def _matrix(problem: Problem) -> TravelMatrix:
    """Euclidean meters between planar points; one second per meter."""
    xy = np.array([(p.x, p.y) for p in problem.locations if isinstance(p, Point)])
    d = np.rint(
        np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    )
    return TravelMatrix(d, d)


def _problem(*orders: Order, pairs: tuple[Pair, ...] = ()) -> Problem:
    return Problem(
        depots=(Depot(id="D", location=Point(0, 0)),),
        vehicles=(
            Vehicle(
                id="V", start_depot="D", end_depot="D", capacity=(9,), cost_per_km=1
            ),
        ),
        orders=orders,
        pairs=pairs,
    )


def _order(oid: str, x: float, **kw: object) -> Order:
    kw.setdefault("delivery", (1,))
    kw.setdefault("pickup", (0,))
    return Order(id=oid, location=Point(x, 0), **kw)  # type: ignore[arg-type]


def test_soft_two_slot_order_is_late_after_its_last_slot_only() -> None:
    """Reachable at 2600 at the earliest: after both slots; served late, within
    the allowed lateness, after the *second* slot (never between the slots)."""
    order = _order(
        "o",
        2600,
        windows=TWO_SLOTS,
        max_lateness_s=300,
        lateness_cost_per_hour=36,
    )
    problem = _problem(order)
    travel = _matrix(problem)
    plan = solve(problem, travel, options=FAST)
    assert check_plan(problem, plan, travel) == []
    visit = plan.routes[0].visits[0]
    assert visit.start_s == 2600
    assert visit.late_s == 100


def test_first_slot_of_a_soft_order_stays_hard() -> None:
    """Reachable at 700: too late for slot 1 (lateness applies to the last slot
    only), so it waits for slot 2 rather than being 200 s late in slot 1."""
    order = _order(
        "o", 700, windows=TWO_SLOTS, max_lateness_s=600, lateness_cost_per_hour=1
    )
    problem = _problem(order)
    travel = _matrix(problem)
    plan = solve(problem, travel, options=FAST)
    assert check_plan(problem, plan, travel) == []
    visit = plan.routes[0].visits[0]
    assert visit.start_s == 2000
    assert visit.late_s == 0


def test_warm_start_reads_a_second_slot_visit_into_its_slot_node() -> None:
    """Routes given as order ids: the visit timed in slot 2 is read into the
    slot-2 node, so nothing is dropped and the objective has no penalty."""
    problem = _problem(_order("a", 100), _order("b", 1900, windows=TWO_SLOTS))
    matrices = {"van": _matrix(problem)}
    allowed = precheck(problem, matrices).allowed
    search = RoutingSearch(problem, matrices, allowed, options=FAST)
    start = search.warm_start({"V": ["a", "b"]})
    assert start is not None
    assert start.dropped == []
    assert search.solution_of(start).sequences == {"V": ["a", "b"]}


def test_objective_of_timed_routes_takes_their_service_starts() -> None:
    """Routes already timed (a plan's visits): their service starts pick each
    two-slot order's slot node, without timing the route again, and give the
    same objective as timing it; a start in the other slot reads it there."""
    import routing.solver._ortools as ortools

    problem = _problem(_order("a", 100), _order("b", 1900, windows=TWO_SLOTS))
    matrices = {"van": _matrix(problem)}
    allowed = precheck(problem, matrices).allowed
    routes = {"V": ["a", "b"]}
    timed = RoutingSearch(problem, matrices, allowed, options=FAST).objective_of(routes)
    assert timed is not None
    starts = {"a": 100, "b": 2000}  # (as the plan times them: b waits for slot 2)
    search = RoutingSearch(problem, matrices, allowed, options=FAST)
    build_route = ortools.build_route
    try:
        ortools.build_route = None  # type: ignore[assignment]  # (not called)
        assert search.objective_of(routes, starts) == timed
    finally:
        ortools.build_route = build_route
    elsewhere = RoutingSearch(problem, matrices, allowed, options=FAST)
    assert elsewhere.objective_of(routes, {"a": 100, "b": 300}) != timed


def test_paired_order_with_two_slots_keeps_one_node() -> None:
    """Pair constraints address one node: a paired two-slot order keeps its
    single node (slots as one domain with a hole) and is still planned."""
    pickup = _order("p", 100, delivery=(0,), pickup=(1,))
    delivery = _order("d", 1900, windows=TWO_SLOTS)
    problem = _problem(
        pickup, delivery, pairs=(Pair(id="pd", pickup="p", delivery="d"),)
    )
    travel = _matrix(problem)
    plan = solve(problem, travel, options=FAST)
    assert check_plan(problem, plan, travel) == []
    assert plan.routes[0].order_ids == ("p", "d")
    assert 2000 <= plan.routes[0].visits[1].start_s <= 2500
