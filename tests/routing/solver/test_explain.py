"""Tests of the why-not-planned analysis: each code comes with the nearest fix.

First tiny days where one required order cannot join the only vehicle's route,
for one reason; then orders the search left out although they fit, and
`insertable`; then the screening checked against scheduling every insertion on
random days; then the deadline on a 500-order day. Problems are planar with
travel at 1 m/s (``Euclidean(scale=1)``); solves are deterministic and every
plan is checked.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import re
import time
from pathlib import Path

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
from routing.domain.plan import (
    Plan,
    PlanStatus,
    Route,
    Unplanned,
    UnplannedCode,
    summarize,
)
from routing.domain.timing import build_route, build_routes
from routing.geo import Euclidean
from routing.geo.matrix import TravelMatrix
from routing.solver import SolveOptions, solve
from routing.solver.explain import _faults, explain_unplanned, insertable
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


# --------------------------------------------------------------------------
# Orders the search left out although they fit, and insertable().


def _travel(problem: Problem) -> TravelMatrix:
    return Euclidean(scale=1, truncate=False).build(problem.locations, profile="van")


def _explain(
    problem: Problem, sequences: dict[str, list[str]], dropped: list[str]
) -> tuple[dict[str, Unplanned], tuple[Route, ...]]:
    """Explain ``dropped`` against routes built from ``sequences`` (no search)."""
    travel = _travel(problem)
    routes = build_routes(problem, {"van": travel}, sequences)
    allowed = precheck(problem, {"van": travel}).allowed
    reasons = explain_unplanned(problem, {"van": travel}, routes, dropped, allowed)
    return reasons, routes


def _with_insertions(
    problem: Problem,
    routes: tuple[Route, ...],
    insertions: dict[str, tuple[str, int]],
) -> Plan:
    """The plan after applying ``insertions`` as `insertable` documents it."""
    travel = _travel(problem)
    sequences = {r.vehicle_id: list(r.order_ids) for r in routes}
    for oid, (vid, pos) in insertions.items():
        sequences.setdefault(vid, []).insert(pos, oid)
    new_routes = build_routes(problem, {"van": travel}, sequences)
    served = {oid for r in new_routes for oid in r.order_ids}
    left = tuple(
        Unplanned(order_id=o.id, code=UnplannedCode.FLEET_FULL, reason="test")
        for o in problem.orders
        if o.id not in served
    )
    return Plan(
        status=PlanStatus.PARTIAL if left else PlanStatus.SOLVED,
        routes=new_routes,
        unplanned=left,
        totals=summarize(new_routes, len(left)),
        solver_status="test",
    )


def test_order_that_fits_is_not_called_fleet_full() -> None:
    """An order the search left out although it fits is reported as fitting, with
    the stop and the exact money it adds, not with the fleet-full code."""
    # Reproduces the tester's report: "fits on vehicle V as planned" under code
    # fleet_full, though the order fits at a small extra cost.
    orders = [_order("a", 100), _order("b", 300), _order("c", 200)]
    problem = _problem(orders)
    reasons, routes = _explain(problem, {"van-7": ["a", "b"]}, ["c"])
    u = reasons["c"]
    assert u.code is not UnplannedCode.FLEET_FULL
    assert u.code is UnplannedCode.SEARCH_MISSED
    # c lies between a and b: its stop is the 2nd and it adds no distance.
    assert "fits on vehicle 'van-7' as stop 2 at +0.00 cost" in u.reason
    assert "did not place it" in u.reason
    plan = _with_insertions(problem, routes, {"c": ("van-7", 1)})
    assert_plan_ok(problem, plan, _travel(problem))


def test_fit_cost_is_the_route_cost_it_adds() -> None:
    """The stop and cost in the reason are those of the route with the order
    inserted there: its cost minus the planned route's."""
    orders = [_order("a", 100), _order("b", 300), _order("off", 200, 400)]
    problem = _problem(orders)
    reasons, routes = _explain(problem, {"van-7": ["a", "b"]}, ["off"])
    where = re.search(r"as stop (\d+) at ([+-][\d.]+) cost", reasons["off"].reason)
    assert where is not None
    sequence = ["a", "b"]
    sequence.insert(int(where[1]) - 1, "off")
    travel = _travel(problem)
    with_off = build_routes(problem, {"van": travel}, {"van-7": sequence})
    assert where[2] == f"{with_off[0].cost - routes[0].cost:+.2f}"
    assert with_off[0].cost - routes[0].cost > 0.5


def test_insertable_takes_only_orders_that_fit_together() -> None:
    """Two orders that each fit alone but not both: each is explained as fitting,
    and insertable() inserts one of them; the result passes the checker."""
    orders = [_order("a", 100), _order("b", 200), _order("c", 300)]
    problem = _problem(orders, capacity=(2,))
    reasons, routes = _explain(problem, {"van-7": ["a"]}, ["b", "c"])
    assert {u.code for u in reasons.values()} == {UnplannedCode.SEARCH_MISSED}
    travel = _travel(problem)
    allowed = precheck(problem, {"van": travel}).allowed
    found = insertable(problem, {"van": travel}, routes, ["b", "c"], allowed)
    assert len(found) == 1
    plan = _with_insertions(problem, routes, found)
    assert_plan_ok(problem, plan, travel)


def test_insertable_positions_count_earlier_insertions() -> None:
    """Insertions applied in the order given, each at its position in the
    sequence as it is by then (a pair's pickup before its delivery), give a
    valid plan that serves every order."""
    orders = [
        _order("a", 100),
        _order("b", 500),
        _order("c", 300),
        _order("d", 400),
        _order("p", 150, delivery=(0,), pickup=(2,)),
        _order("q", 450, delivery=(2,)),
    ]
    problem = dataclasses.replace(
        _problem(orders), pairs=(Pair(id="pq", pickup="p", delivery="q"),)
    )
    travel = _travel(problem)
    routes = build_routes(problem, {"van": travel}, {"van-7": ["a", "b"]})
    allowed = precheck(problem, {"van": travel}).allowed
    found = insertable(problem, {"van": travel}, routes, ["c", "d", "p", "q"], allowed)
    assert set(found) == {"c", "d", "p", "q"}
    assert list(found).index("p") < list(found).index("q")
    plan = _with_insertions(problem, routes, found)
    assert plan.status is PlanStatus.SOLVED
    assert_plan_ok(problem, plan, travel)


def test_optional_order_is_inserted_only_below_its_penalty() -> None:
    """An optional order is inserted only when it adds less money than its
    unplanned penalty."""
    far = _order("far", 0, 2000, is_optional=True, penalty=1.0)
    near = _order("near", 200, is_optional=True, penalty=1.0)
    problem = _problem([_order("a", 100), far, near])
    travel = _travel(problem)
    routes = build_routes(problem, {"van": travel}, {"van-7": ["a"]})
    allowed = precheck(problem, {"van": travel}).allowed
    found = insertable(problem, {"van": travel}, routes, ["far", "near"], allowed)
    assert set(found) == {"near"}  # "far" adds 4 km at 1.0/km


def test_shift_fix_names_the_depot_when_it_closes_first() -> None:
    """When the end depot closes before the shift ends, the fix is the depot's
    hours, not the shift."""
    east, west = _order("east", 1000), _order("west", -1000)
    problem = _problem([east, west], shift=TimeWindow(0, 5000))
    depot = dataclasses.replace(problem.depots[0], opening=TimeWindow(0, 3000))
    problem = dataclasses.replace(problem, depots=(depot,))
    reasons, _ = _explain(problem, {"van-7": ["east"]}, ["west"])
    u = reasons["west"]
    assert u.code is UnplannedCode.SHIFT_TOO_SHORT
    assert "depot 'D' stays open 17 min longer" in u.reason


# --------------------------------------------------------------------------
# The screening bounds change the cost, never the answer: same fixes as trying
# every position of every route.


def _brute_force(
    problem: Problem,
    matrices: dict[str, TravelMatrix],
    routes: tuple[Route, ...],
    ids: tuple[str, ...],
    allowed: tuple[int, ...],
) -> tuple[str, object]:
    """The nearest fix by scheduling every insertion (the pre-deadline analysis)."""

    def insertions(seq: list[str]) -> list[list[str]]:
        n = len(seq)
        if len(ids) == 1:
            return [[*seq[:i], ids[0], *seq[i:]] for i in range(n + 1)]
        return [
            [*seq[:i], ids[0], *seq[i:j], ids[1], *seq[j:]]
            for i in range(n + 1)
            for j in range(i, n + 1)
        ]

    by_vehicle = {r.vehicle_id: r for r in routes}
    late: int | None = None
    shift: int | None = None
    displaced: tuple[str, str] | None = None
    mine = problem.policy(problem.order(ids[0])).priority
    has_idle = False
    for k in allowed:
        vehicle = problem.vehicles[k]
        matrix = matrices[vehicle.profile]
        route = by_vehicle.get(vehicle.id)
        has_idle |= route is None
        seq = list(route.order_ids) if route is not None else []
        for trial in insertions(seq):
            faults = _faults(
                problem, vehicle, build_route(problem, matrix, vehicle, trial), ids[0]
            )
            kinds = {f.kind for f in faults}
            if not faults:
                return "fit", None
            if kinds == {"late_self"}:
                amount = sum(f.amount for f in faults)
                late = amount if late is None else min(late, amount)
            if kinds == {"shift"}:
                amount = faults[0].amount
                shift = amount if shift is None else min(shift, amount)
        for other in seq if displaced is None else ():
            order = problem.order(other)
            if problem.pair_of(other) or problem.policy(order).priority <= mine:
                continue
            rest = [o for o in seq if o != other]
            if any(
                not _faults(
                    problem, vehicle, build_route(problem, matrix, vehicle, t), ids[0]
                )
                for t in insertions(rest)
            ):
                displaced = (vehicle.id, other)
                break
    if late is not None:
        return "slot", math.ceil(late / 60)
    if displaced is not None:
        return "displaced", displaced
    if shift is not None:
        return "shift", math.ceil(shift / 60)
    if allowed and not has_idle:
        return "needs_more", None
    return "none", None


def _as_fix(u: Unplanned | None) -> tuple[str, object]:
    if u is None:
        return "none", None
    minutes = re.search(r"(\d+) min (later|longer)", u.reason)
    if u.code is UnplannedCode.SEARCH_MISSED:
        return "fit", None
    if u.code is UnplannedCode.SLOT_TOO_TIGHT:
        assert minutes is not None
        return "slot", int(minutes[1])
    if u.code is UnplannedCode.SHIFT_TOO_SHORT:
        assert minutes is not None
        return "shift", int(minutes[1])
    if u.code is UnplannedCode.DISPLACED:
        names = re.findall(r"'([^']+)'", u.reason)
        return "displaced", (names[1], names[0])
    assert u.code is UnplannedCode.NEEDS_MORE_VEHICLES
    return "needs_more", None


def _random_day(seed: int) -> Problem:
    """A small planar day with every feature the analysis deals with."""
    rng = random.Random(seed)

    def window() -> tuple[TimeWindow, ...]:
        a = rng.randrange(0, 9000, 300)
        shape = rng.random()
        if shape < 0.1:
            return ()
        if shape < 0.25:
            return (TimeWindow(a, a + 600), TimeWindow(a + 2400, a + 3600))
        return (TimeWindow(a, a + rng.choice((300, 900, 1800))),)

    orders = [
        Order(
            id=f"o{i}",
            location=Point(rng.uniform(-1500, 1500), rng.uniform(-1500, 1500)),
            delivery=(rng.randint(0, 3),),
            pickup=(rng.choice((0, 0, 0, 1)),),
            service_s=rng.choice((60, 120, 300)),
            windows=window(),
            tier=rng.choice((None, None, "vip", "soft")),
        )
        for i in range(14)
    ]
    orders += [
        Order(
            id="pick",
            location=Point(rng.uniform(-900, 900), rng.uniform(-900, 900)),
            delivery=(0,),
            pickup=(2,),
            service_s=120,
            windows=(TimeWindow(0, 6000),),
        ),
        Order(
            id="drop",
            location=Point(rng.uniform(-900, 900), rng.uniform(-900, 900)),
            delivery=(2,),
            pickup=(0,),
            service_s=120,
            windows=(TimeWindow(1000, 9000),),
        ),
    ]
    lunch = (Break(window=TimeWindow(4000, 5000), duration_s=600),)
    vehicles = (
        Vehicle(
            id="v0",
            start_depot="D",
            end_depot="D",
            capacity=(8,),
            shift=TimeWindow(0, rng.choice((7000, 9000, 12000))),
            cost_per_km=1.0,
            cost_per_hour=10.0,
            breaks=lunch if rng.random() < 0.5 else (),
        ),
        Vehicle(
            id="v1",
            start_depot="D",
            end_depot=None,
            capacity=(6,),
            shift=TimeWindow(1800, 10800),
            cost_per_km=1.5,
            max_stops=5,
        ),
        Vehicle(
            id="v2",
            start_depot="D",
            end_depot="D",
            capacity=(10,),
            shift=TimeWindow(0, 12000),
            fixed_cost=5.0,
            cost_per_km=1.0,
            max_duration_s=6000,
            max_distance_m=9000,
        ),
    )
    return Problem(
        depots=(Depot(id="D", location=Point(0, 0)),),
        vehicles=vehicles[: rng.choice((2, 3))],
        orders=tuple(orders),
        tiers=(
            Tier(id="vip", priority=2),
            Tier(id="soft", max_lateness_s=600, lateness_cost_per_hour=10.0),
        ),
        pairs=(Pair(id="pd", pickup="pick", delivery="drop", max_ride_s=3000),),
    )


def _check_against_brute_force(seed: int) -> None:
    problem = _random_day(seed)
    travel = _travel(problem)
    matrices = {"van": travel}
    plan = solve(problem, travel, options=FAST)
    allowed = precheck(problem, matrices).allowed
    rng = random.Random(seed)
    sequences = {r.vehicle_id: list(r.order_ids) for r in plan.routes}
    dropped = [u.order_id for u in plan.unplanned if u.order_id in allowed]
    for seq in sequences.values():  # orders the search "missed"
        for oid in list(seq):
            if oid in seq and rng.random() < 0.3:
                pair = problem.pair_of(oid)
                for x in (pair.pickup, pair.delivery) if pair else (oid,):
                    seq.remove(x)
                    dropped.append(x)
    routes = build_routes(problem, matrices, sequences)
    reasons = explain_unplanned(
        problem, matrices, routes, dropped, allowed, deadline=time.perf_counter() + 60
    )
    for oid in dropped:
        if problem.order(oid).is_optional:
            continue
        pair = problem.pair_of(oid)
        ids = (pair.pickup, pair.delivery) if pair else (oid,)
        expected = _brute_force(problem, matrices, routes, ids, allowed[oid])
        assert _as_fix(reasons.get(oid)) == expected, (seed, oid, reasons.get(oid))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_same_fixes_as_trying_every_position(seed: int) -> None:
    """On small random days (slots, lateness, breaks, a pair, limits, an open
    route), the fix found is the one exhaustive scheduling finds."""
    _check_against_brute_force(seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(4, 60))
def test_same_fixes_as_trying_every_position_many_days(seed: int) -> None:
    """As above, on many more random days."""
    _check_against_brute_force(seed)


# --------------------------------------------------------------------------
# The deadline.

BIG_DAY_PLAN = (
    Path(__file__).resolve().parents[2] / "data" / "explain" / "big_day_plan.json"
)


def _big_day() -> Problem:
    """500 orders on a 1 km square for 10 vehicles (breaks, tiers, 3 pairs, two
    windows on some orders, an open route, stop limits), travel at 1 m/s.

    ``tests/data/explain/big_day_plan.json`` holds the routes and dropped orders of
    ``solve(problem, travel, options=SolveOptions(time_limit_s=30, workers=1))``
    (418 planned, 82 dropped: the first solution only, the search had no time
    to improve it).
    """
    rng = random.Random(2026)
    hour = 3600
    vehicles = tuple(
        Vehicle(
            id=f"v{k:02d}",
            start_depot="D",
            end_depot=None if k == 9 else "D",
            capacity=(80,),
            shift=TimeWindow((8 + k % 3) * hour, (16 + k % 3) * hour),
            fixed_cost=50.0,
            cost_per_km=0.4,
            cost_per_hour=20.0,
            max_stops=45 if k % 4 == 3 else None,
            breaks=(
                (Break(window=TimeWindow(12 * hour, 13 * hour), duration_s=1800),)
                if k % 2 == 0
                else ()
            ),
        )
        for k in range(10)
    )
    orders = []
    for i in range(500):
        start = rng.randrange(8 * hour, 17 * hour, 1800)
        length = rng.choice((3600, 7200, 7200))
        windows: tuple[TimeWindow, ...] = (TimeWindow(start, start + length),)
        if i % 25 == 0:
            other = min(start + length + 2 * hour, 19 * hour - 1800)
            if other > start + length:
                windows = (
                    TimeWindow(start, start + length // 2),
                    TimeWindow(other, other + 1800),
                )
        orders.append(
            Order(
                id=f"o{i:03d}",
                location=Point(rng.uniform(0, 1000), rng.uniform(0, 1000)),
                windows=windows,
                service_s=rng.choice((120, 180, 240, 300)),
                delivery=(rng.randint(1, 3),),
                pickup=(0,),
                tier="vip" if i % 10 == 0 else ("economy" if i % 3 == 0 else None),
            )
        )
    pairs = []
    for k in range(3):
        a, b = orders[k * 4 + 1], orders[k * 4 + 3]
        orders[k * 4 + 1] = dataclasses.replace(
            a, windows=(TimeWindow(9 * hour, 13 * hour),), delivery=(0,), pickup=(2,)
        )
        orders[k * 4 + 3] = dataclasses.replace(
            b, windows=(TimeWindow(11 * hour, 16 * hour),), delivery=(2,), pickup=(0,)
        )
        pairs.append(
            Pair(
                id=f"pair-{k}",
                pickup=a.id,
                delivery=b.id,
                max_ride_s=3 * hour if k else None,
            )
        )
    return Problem(
        depots=(Depot(id="D", location=Point(500, 500)),),
        vehicles=vehicles,
        orders=tuple(orders),
        pairs=tuple(pairs),
        tiers=(
            Tier(id="vip", priority=2),
            Tier(id="economy", max_lateness_s=1800, lateness_cost_per_hour=6.0),
        ),
        horizon=TimeWindow(0, 24 * hour),
    )


@pytest.fixture(scope="module")
def big_day() -> tuple[Problem, dict[str, TravelMatrix], tuple[Route, ...], list[str]]:
    """The 500-order day, its travel, its planned routes and dropped orders."""
    problem = _big_day()
    matrices = {"van": _travel(problem)}
    stored = json.loads(BIG_DAY_PLAN.read_text())
    routes = build_routes(problem, matrices, stored["sequences"])
    assert_plan_ok(problem, _with_insertions(problem, routes, {}), matrices)
    return problem, matrices, routes, stored["dropped"]


def test_explain_returns_by_its_deadline_with_a_reason_for_each(
    big_day: tuple[Problem, dict[str, TravelMatrix], tuple[Route, ...], list[str]],
) -> None:
    """With 0.3 s for a 500-order day, the analysis returns within 0.2 s of its
    deadline and every dropped order has a reason; every fit it claims holds."""
    problem, matrices, routes, dropped = big_day
    allowed = precheck(problem, matrices).allowed
    assert len(dropped) >= 50
    t0 = time.perf_counter()
    reasons = explain_unplanned(
        problem, matrices, routes, dropped, allowed, deadline=t0 + 0.3
    )
    assert time.perf_counter() - t0 <= 0.5
    required = [o for o in dropped if not problem.order(o).is_optional]
    assert set(required) <= set(reasons)
    fits = [u for u in reasons.values() if u.code is UnplannedCode.SEARCH_MISSED]
    for u in fits[:5]:
        where = re.search(r"vehicle '([^']+)' as stops? (\d+)", u.reason)
        assert where is not None
        vehicle_id, stop = where[1], int(where[2])
        pair = problem.pair_of(u.order_id)
        if pair is not None:
            continue
        plan = _with_insertions(problem, routes, {u.order_id: (vehicle_id, stop - 1)})
        assert_plan_ok(problem, plan, matrices)


def test_explain_cut_short_keeps_its_deadline(
    big_day: tuple[Problem, dict[str, TravelMatrix], tuple[Route, ...], list[str]],
) -> None:
    """A deadline too short for the whole analysis cuts it, on time; a deadline
    already passed costs nothing and claims nothing."""
    problem, matrices, routes, dropped = big_day
    allowed = precheck(problem, matrices).allowed
    t0 = time.perf_counter()
    some = explain_unplanned(
        problem, matrices, routes, dropped, allowed, deadline=t0 + 0.02
    )
    assert time.perf_counter() - t0 <= 0.6  # 0.02 s + one step, on a loaded machine
    assert set(some) <= set(dropped)
    t0 = time.perf_counter()
    none = explain_unplanned(
        problem, matrices, routes, dropped, allowed, deadline=t0 - 1.0
    )
    assert time.perf_counter() - t0 < 0.05
    assert none == {}


def test_insertable_returns_by_its_deadline(
    big_day: tuple[Problem, dict[str, TravelMatrix], tuple[Route, ...], list[str]],
) -> None:
    """insertable() also keeps its deadline, and what it returns is valid."""
    problem, matrices, routes, dropped = big_day
    allowed = precheck(problem, matrices).allowed
    t0 = time.perf_counter()
    found = insertable(problem, matrices, routes, dropped, allowed, deadline=t0 + 0.3)
    assert time.perf_counter() - t0 <= 0.5
    assert_plan_ok(problem, _with_insertions(problem, routes, found), matrices)
