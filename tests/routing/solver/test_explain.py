"""Tests of the why-not-planned analysis: each code comes with the nearest fix.

Each case is a tiny day where one required order cannot join the only vehicle's
route, for one reason. Problems are planar with travel at 1 m/s
(``Euclidean(scale=1)``); solves are deterministic and every plan is checked.
"""

from __future__ import annotations

from routing.check import assert_plan_ok
from routing.geo import Euclidean
from routing.model import Depot, Order, Point, Problem, Tier, TimeWindow, Vehicle
from routing.plan import Plan, PlanStatus, Unplanned, UnplannedCode
from routing.solver import SolveOptions, solve
from routing.solver.explain import explain_unplanned
from routing.solver.precheck import precheck

FAST = SolveOptions(time_limit_s=1, is_deterministic=True)


def _order(oid: str, x: float, y: float = 0.0, **kw: object) -> Order:
    kw.setdefault("delivery", (1,))
    kw.setdefault("pickup", (0,))
    return Order(id=oid, location=Point(x, y), **kw)  # type: ignore[arg-type]


def _problem(orders: list[Order], **vehicle: object) -> Problem:
    vehicle.setdefault("capacity", (10,))
    van = Vehicle(
        id="van-7",
        start_depot="D",
        end_depot="D",
        cost_per_km=1.0,
        **vehicle,  # type: ignore[arg-type]
    )
    tiers = (Tier(id="vip", priority=3),)
    return Problem(
        depots=(Depot(id="D", location=Point(0, 0)),),
        vehicles=(van,),
        orders=tuple(orders),
        tiers=tiers,
    )


def _solve(problem: Problem) -> Plan:
    travel = Euclidean(scale=1, truncate=False).build(problem.locations, profile="van")
    plan = solve(problem, travel, options=FAST)
    assert_plan_ok(problem, plan, travel)
    return plan


def _only_unplanned(plan: Plan) -> Unplanned:
    assert plan.status is PlanStatus.PARTIAL
    (u,) = plan.unplanned
    assert "'van-7'" in u.reason  # names the vehicle to act on
    return u


def test_slot_too_tight_says_how_many_minutes_later() -> None:
    """Two orders booked for the same moment at distant places: the one left out
    fits if its slot ends as much later as the drive between them takes."""
    # "vip" is served at 1000 s; "b" is 1414 m further, reached at 2414 s, 1314 s
    # (22 min, rounded up) after its slot ends. Serving "b" first makes "vip" late.
    vip = _order("vip", 1000, windows=(TimeWindow(1000, 1100),), tier="vip")
    b = _order("b", 0, 1000, windows=(TimeWindow(1000, 1100),))
    u = _only_unplanned(_solve(_problem([vip, b])))
    assert (u.order_id, u.code) == ("b", UnplannedCode.SLOT_TOO_TIGHT)
    assert "22 min later" in u.reason
    assert "slot" in u.reason


def test_shift_too_short_says_how_many_minutes_later() -> None:
    """Two orders each reachable alone overrun the shift together: the shift end is
    the fix, by the overrun rounded up to minutes."""
    # Alone: 2000 s each; together 4000 s, 1000 s (17 min) past the 3000 s shift.
    east, west = _order("east", 1000), _order("west", -1000)
    u = _only_unplanned(_solve(_problem([east, west], shift=TimeWindow(0, 3000))))
    assert u.order_id in {"east", "west"}
    assert u.code is UnplannedCode.SHIFT_TOO_SHORT
    assert "shift ends 17 min later" in u.reason


def test_full_vehicle_needs_one_more_like_it() -> None:
    """When the only vehicle is full, the fix is one more vehicle like it."""
    orders = [_order(f"o{k}", 100 * (k + 1)) for k in range(3)]
    u = _only_unplanned(_solve(_problem(orders, capacity=(2,))))
    assert u.code is UnplannedCode.NEEDS_MORE_VEHICLES
    assert "one more vehicle like 'van-7'" in u.reason


def test_vip_order_displaces_a_normal_one_from_the_only_slot() -> None:
    """A higher-priority order takes the only vehicle's one possible slot; the
    other is reported as displaced by it."""
    # Same place, same instant, 600 s of service each, and the shift ends when
    # one visit is done: only one of them can be served at all.
    slot = (TimeWindow(1000, 1000),)
    vip = _order("vip", 1000, windows=slot, service_s=600, tier="vip")
    normal = _order("normal", 1000, windows=slot, service_s=600)
    plan = _solve(_problem([normal, vip], shift=TimeWindow(0, 2600)))
    assert plan.routes[0].order_ids == ("vip",)
    u = _only_unplanned(plan)
    assert (u.order_id, u.code) == ("normal", UnplannedCode.DISPLACED)
    assert "'vip'" in u.reason


def test_explain_leaves_optional_orders_alone() -> None:
    """Optional orders keep the solver's reason; only required ones are explained."""
    orders = [
        _order("o0", 100),
        _order("o1", 200),
        _order("extra", 300, is_optional=True),
    ]
    problem = _problem(orders, capacity=(2,))
    travel = Euclidean(scale=1, truncate=False).build(problem.locations, profile="van")
    plan = solve(problem, travel, options=FAST)
    assert_plan_ok(problem, plan, travel)
    (u,) = plan.unplanned
    assert (u.order_id, u.code) == ("extra", UnplannedCode.NOT_WORTH_SERVING)
    pre = precheck(problem, {"van": travel})
    assert (
        explain_unplanned(problem, {"van": travel}, plan.routes, ["extra"], pre.allowed)
        == {}
    )
