"""Tests of the PyVRP warm-start engine: routes are valid, restricted and checked."""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from routing.check import check_plan
from routing.domain.model import (
    Break,
    Depot,
    Order,
    Pair,
    Point,
    Problem,
    TimeWindow,
    Vehicle,
)
from routing.domain.plan import Plan
from routing.domain.timing import plan_from_routes
from routing.domain.units import COST_SCALE
from routing.formats import load_problem
from routing.geo.matrix import TravelMatrix
from routing.geo.providers import build_travel
from routing.solver.engines import pyvrp_engine
from routing.solver.engines.base import EngineResult, Sequences
from routing.solver.engines.pyvrp_engine import (
    CONFIRMING_RUNS,
    DUE_GRID,
    DUE_MAX_SHARE,
    DUE_MIN_SHARE,
    DUE_PACE,
    DUE_PROBE_ITERATIONS,
    EXACT_PRIORITY_SPAN,
    HAND_OVER_SHARE,
    HAND_OVER_WINDOW,
    INFEASIBLE_PATIENCE,
    NO_IMPROVEMENT_S_PER_STOP_SQUARED,
    PENALTY_BUDGET,
    REQUIRED_TRIES,
    PyVRPEngine,
    _break_room,
    _Converged,
    _convert,
    _Deadline,
    _Due,
    _HandOver,
    _local_search,
    _route_to_drop,
    _routes,
    _Run,
    _search,
    _sequences,
    _Snapshot,
    _solution_of,
    _without_vehicle,
)
from routing.solver.precheck import precheck

pytest.importorskip("pyvrp", reason="pyvrp is not installed")

REPO = Path(__file__).resolve().parents[4]
ENGINE = PyVRPEngine()


def _matrices(problem: Problem, speed: float = 1.0) -> dict[str, TravelMatrix]:
    """Euclidean meters between planar points; seconds at ``speed`` m/s."""
    xy = np.array([(p.x, p.y) for p in problem.locations if isinstance(p, Point)])
    d = np.rint(
        np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    )
    matrix = TravelMatrix(d, np.rint(d / speed))
    return {profile: matrix for profile in problem.profiles}


def _order(oid: str, x: float, y: float, **kw: object) -> Order:
    kw.setdefault("delivery", (1,))
    kw.setdefault("pickup", (0,))
    return Order(id=oid, location=Point(x, y), **kw)  # type: ignore[arg-type]


def _van(vid: str = "V1", **kw: object) -> Vehicle:
    kw.setdefault("start_depot", "D")
    kw.setdefault("end_depot", "D")
    kw.setdefault("capacity", (10,))
    kw.setdefault("cost_per_km", 1.0)
    return Vehicle(id=vid, **kw)  # type: ignore[arg-type]


def _problem(orders: list[Order], vehicles: list[Vehicle], **kw: object) -> Problem:
    depots = (Depot(id="D", location=Point(0, 0)),)
    return Problem(depots=depots, vehicles=tuple(vehicles), orders=tuple(orders), **kw)  # type: ignore[arg-type]


def _plan(
    problem: Problem,
    matrices: Mapping[str, TravelMatrix],
    sequences: Mapping[str, Sequence[str]],
) -> Plan:
    """Our Plan for the engine's routes (``schedule.plan_from_routes``)."""
    return plan_from_routes(
        problem, matrices, sequences, solver_status="pyvrp", reason="left out"
    )


def _solve(
    problem: Problem,
    matrices: Mapping[str, TravelMatrix],
    *,
    time_limit_s: float = 1.0,
) -> tuple[EngineResult, Mapping[str, Sequence[int]]]:
    allowed = precheck(problem, matrices).allowed
    result = ENGINE.solve(problem, matrices, allowed, time_limit_s=time_limit_s)
    return result, allowed


def _assert_valid(
    problem: Problem, result: EngineResult, allowed: Mapping[str, Sequence[int]]
) -> None:
    """Each order at most once, only orders of ``allowed``, on allowed vehicles."""
    served = [oid for seq in result.sequences.values() for oid in seq]
    assert len(served) == len(set(served))
    position = {v.id: k for k, v in enumerate(problem.vehicles)}
    for vehicle_id, seq in result.sequences.items():
        assert seq
        for oid in seq:
            assert position[vehicle_id] in allowed[oid], (vehicle_id, oid)


def test_tutorial_round_trip_is_valid_and_quick() -> None:
    """Every order of the tutorial day is served once, the checker accepts the
    plan, and the small day stops on no improvement well before the limit."""
    problem = load_problem(REPO / "scenarios" / "tutorial.json")
    matrices = build_travel(problem)
    result, allowed = _solve(problem, matrices, time_limit_s=5.0)
    _assert_valid(problem, result, allowed)
    served = sorted(oid for seq in result.sequences.values() for oid in seq)
    assert served == sorted(allowed)
    assert (
        check_plan(problem, _plan(problem, matrices, result.sequences), matrices) == []
    )
    assert result.status == "no_improvement"
    # Converged: independent runs (fresh starts, other seeds) found the same best.
    assert result.stats["runs"] >= CONFIRMING_RUNS
    assert result.elapsed_s < 2.5
    assert {"convert_s", "search_s", "extract_s"} <= result.stats.keys()
    assert ENGINE.support(problem).is_exact


def test_cost_is_in_ortools_objective_units() -> None:
    """The reported cost is the plan's money cost times COST_SCALE (up to the
    per-second rounding of the duration price)."""
    problem = load_problem(REPO / "scenarios" / "tutorial.json")
    matrices = build_travel(problem)
    result, _ = _solve(problem, matrices)
    plan = _plan(problem, matrices, result.sequences)
    assert result.cost == pytest.approx(plan.totals.cost * COST_SCALE, rel=1e-3)


def test_solomon_c101_is_exact_and_near_bks(instances_dir: Path) -> None:
    """On Solomon C101 PyVRP solves our exact model: feasible per the checker and
    within 5 % of the best-known distance after 1 s."""
    from routing.formats.vrplib import read_instance

    instance = read_instance(instances_dir / "solomon" / "C101.vrp")
    problem = instance.problem
    assert ENGINE.support(problem).is_exact
    matrices = {p: instance.travel for p in problem.profiles}
    result, allowed = _solve(problem, matrices, time_limit_s=1.0)
    _assert_valid(problem, result, allowed)
    plan = _plan(problem, matrices, result.sequences)
    assert check_plan(problem, plan, matrices) == []
    assert not plan.unplanned
    assert instance.bks is not None
    assert instance.cost(plan) <= 1.05 * instance.bks
    assert result.elapsed_s <= 2.5  # its 1 s budget, with slack for a loaded machine


def test_delivery_day_relaxations_and_restrictions() -> None:
    """A day with breaks, pairs with ride limits, soft slots and skills reports
    each relaxation, and restricted orders ride only on allowed vehicles, pairs
    on one vehicle with the pickup first."""
    problem = load_problem(REPO / "scenarios" / "andorra_delivery_day.json")
    support = ENGINE.support(problem)
    assert support.applies and not support.is_exact
    text = "\n".join(support.relaxations)
    for feature in ("breaks", "soft slots", "max ride time"):
        assert feature in text
    matrices = build_travel(problem)
    result, allowed = _solve(problem, matrices, time_limit_s=1.5)
    assert result.relaxations[: len(support.relaxations)] == support.relaxations
    _assert_valid(problem, result, allowed)
    n = len(problem.vehicles)
    restricted = {oid for oid, ks in allowed.items() if len(ks) < n}
    served = {oid for seq in result.sequences.values() for oid in seq}
    assert restricted & served
    assert len(served) >= 0.9 * len(allowed)
    for pair in problem.pairs:
        where = {
            oid: (vid, seq.index(oid))
            for vid, seq in result.sequences.items()
            for oid in seq
            if oid in (pair.pickup, pair.delivery)
        }
        assert len(where) in (0, 2)
        if where:
            assert where[pair.pickup][0] == where[pair.delivery][0]
            assert where[pair.pickup][1] < where[pair.delivery][1]
    assert result.elapsed_s <= 3.0  # its budget, with slack for a loaded machine


def test_second_window_used_when_first_is_unreachable() -> None:
    """An order with two windows becomes a client group; it is served in the
    reachable one."""
    far = _order("far", 1000, 0, windows=(TimeWindow(0, 500), TimeWindow(2000, 2500)))
    near = _order("near", 10, 0, windows=(TimeWindow(0, 100), TimeWindow(3000, 3500)))
    problem = _problem([far, near], [_van()])
    matrices = _matrices(problem)
    result, allowed = _solve(problem, matrices)
    _assert_valid(problem, result, allowed)
    plan = _plan(problem, matrices, result.sequences)
    assert check_plan(problem, plan, matrices) == []
    assert sorted(result.sequences["V1"]) == ["far", "near"]
    start = {v.order_id: v.start_s for v in plan.routes[0].visits}
    assert 2000 <= start["far"] <= 2500


def test_open_ended_route_ends_at_last_stop() -> None:
    """A vehicle without an end depot drives outward and does not pay the way
    back: stops on a line are served nearest first."""
    orders = [_order(f"o{x}", x, 0) for x in (300, 100, 200)]
    problem = _problem(orders, [_van(end_depot=None)])
    matrices = _matrices(problem)
    result, allowed = _solve(problem, matrices)
    _assert_valid(problem, result, allowed)
    assert result.sequences["V1"] == ["o100", "o200", "o300"]
    plan = _plan(problem, matrices, result.sequences)
    assert check_plan(problem, plan, matrices) == []
    assert plan.totals.distance_m == 300


def test_optional_orders_served_only_when_worth_it() -> None:
    """An optional order far away with a small penalty is left out; one with a
    large penalty is served, as are required orders."""
    orders = [
        _order("req", 10, 0),
        _order("cheap", 5000, 0, is_optional=True, penalty=1.0),
        _order("dear", 0, 3000, is_optional=True, penalty=1000.0),
    ]
    problem = _problem(orders, [_van()])
    matrices = _matrices(problem)
    result, allowed = _solve(problem, matrices)
    _assert_valid(problem, result, allowed)
    served = {oid for seq in result.sequences.values() for oid in seq}
    assert served == {"req", "dear"}
    plan = _plan(problem, matrices, result.sequences)
    assert check_plan(problem, plan, matrices) == []


def test_overbooked_required_orders_give_feasible_routes() -> None:
    """When not all required orders fit, PyVRP still returns feasible routes with
    as many orders as fit, keeping the high-priority ones. More load than the
    van carries is seen before the search: it starts with optional clients."""
    orders = [
        _order(f"o{k}", 100 * np.cos(k), 100 * np.sin(k), delivery=(2,))
        for k in range(8)
    ]
    orders += [_order("vip", 50, 50, delivery=(2,), priority=3)]
    problem = _problem(orders, [_van(capacity=(10,))])
    matrices = _matrices(problem)
    result, allowed = _solve(problem, matrices)
    _assert_valid(problem, result, allowed)
    served = {oid for seq in result.sequences.values() for oid in seq}
    assert len(served) == 5 and "vip" in served
    plan = _plan(problem, matrices, result.sequences)
    assert check_plan(problem, plan, matrices) == []
    assert result.stats["overbooked"] == 1.0
    assert result.stats["pyvrp_feasible"] == 1.0
    assert not result.status.endswith("+repaired")


def test_required_orders_that_do_not_fit_in_time_fall_back_to_optional_clients() -> (
    None
):
    """Slots that no single route meets all of pass the load and hours bound:
    runs with required clients find nothing feasible, the optional-client runs
    that follow do (no stops removed afterwards), keeping the high-priority one."""
    slot = (TimeWindow(0, 150),)
    orders = [
        _order(f"o{k}", 100 * np.cos(k), 100 * np.sin(k), windows=slot)
        for k in range(6)
    ]
    orders += [_order("vip", -100, 0, windows=slot, priority=3)]
    problem = _problem(orders, [_van(capacity=(10,))])
    matrices = _matrices(problem)
    result, allowed = _solve(problem, matrices)
    _assert_valid(problem, result, allowed)
    served = {oid for seq in result.sequences.values() for oid in seq}
    assert "vip" in served and 0 < len(served) < len(orders)
    plan = _plan(problem, matrices, result.sequences)
    assert check_plan(problem, plan, matrices) == []
    assert result.stats["overbooked"] == 0.0
    assert result.stats["runs"] >= REQUIRED_TRIES + 1
    assert result.stats["pyvrp_feasible"] == 1.0
    assert not result.status.endswith("+repaired")


def test_the_optional_client_fallback_restarts_after_the_whole_stall() -> None:
    """The fallback's runs start at the middle of PyVRP's penalty range: they
    restart only after ``stops**2`` seconds idle, not after the day's-scale
    cap of the required-client runs before them (20 orders, 1 s: 0.6 s, not
    0.2 s)."""
    slot = (TimeWindow(0, 150),)
    orders = [
        _order(f"o{k}", 100 * np.cos(k), 100 * np.sin(k), windows=slot)
        for k in range(20)
    ]
    problem = _problem(orders, [_van(capacity=(30,))])
    matrices = _matrices(problem)
    allowed = precheck(problem, matrices).allowed
    assert _convert(problem, matrices, allowed, required=True).at_day_scale
    result = PyVRPEngine().solve(problem, matrices, allowed, time_limit_s=1.0, seed=1)
    assert result.stats["runs"] >= REQUIRED_TRIES + 1  # the fallback ran
    assert result.stats["overbooked"] == 0.0
    assert result.stats["patience_s"] == pytest.approx(
        NO_IMPROVEMENT_S_PER_STOP_SQUARED * 20**2
    )
    _assert_valid(problem, result, allowed)


def test_a_few_priority_levels_are_exact_a_wide_span_is_a_relaxation() -> None:
    """VIP customers (priority 1 beside 0) keep PyVRP exact: their prizes are
    exactly twice the others'; a span wider than EXACT_PRIORITY_SPAN is
    reported as a relaxation."""
    orders = [_order(f"o{k}", 10 * k, 5) for k in range(1, 5)]
    vip = [*orders, _order("vip", 20, 20, priority=1)]
    problem = _problem(vip, [_van()])
    assert ENGINE.support(problem).is_exact
    matrices = _matrices(problem)
    allowed = precheck(problem, matrices).allowed
    conv = _convert(problem, matrices, allowed)
    assert conv.prizes["vip"] == 2 * conv.prizes["o1"]
    assert not conv.relaxations
    wide = [*orders, _order("top", 20, 20, priority=EXACT_PRIORITY_SPAN + 1)]
    relaxations = ENGINE.support(_problem(wide, [_van()])).relaxations
    assert any(line.startswith("priorities of required orders") for line in relaxations)


def test_required_clients_when_every_order_is_required() -> None:
    """A day of required orders is converted to required PyVRP clients (and
    groups for several windows) at PyVRP's own penalty range; with an optional
    order, every order is an optional client with a prize."""
    windows = (TimeWindow(0, 100), TimeWindow(300, 400))
    orders = [_order("a", 10, 0), _order("b", 0, 10, windows=windows)]
    problem = _problem(orders, [_van()])
    matrices = _matrices(problem)
    allowed = precheck(problem, matrices).allowed
    required = _convert(problem, matrices, allowed, required=True)
    assert [c.required for c in required.data.clients()] == [True, False, False]
    assert [g.required for g in required.data.groups()] == [True]
    assert all(c.prize == 0 for c in required.data.clients())
    prized = _convert(problem, matrices, allowed)
    assert not any(c.required for c in prized.data.clients())
    assert all(c.prize > 0 for c in prized.data.clients())
    assert required.penalties[2] < prized.penalties[2]


def test_skills_and_max_stops_are_respected() -> None:
    """Orders needing a skill go to the one vehicle that has it, and no route
    exceeds its max_stops."""
    orders = [_order(f"o{k}", 10 * k, 5) for k in range(1, 7)]
    orders += [_order("cold", 35, -5, skills=frozenset({"cold_chain"}))]
    vehicles = [
        _van("plain", max_stops=4),
        _van("fridge", max_stops=4, skills=frozenset({"cold_chain"})),
    ]
    problem = _problem(orders, vehicles)
    matrices = _matrices(problem)
    result, allowed = _solve(problem, matrices)
    _assert_valid(problem, result, allowed)
    assert "cold" in result.sequences["fridge"]
    assert all(len(seq) <= 4 for seq in result.sequences.values())
    assert sum(len(seq) for seq in result.sequences.values()) == len(orders)
    plan = _plan(problem, matrices, result.sequences)
    assert check_plan(problem, plan, matrices) == []


def test_pairs_are_shipments() -> None:
    """A pickup-and-delivery pair without ride limit is served by one vehicle,
    pickup first, and the load fits; no relaxation is reported for it."""
    orders = [
        _order("p", 100, 0, delivery=(0,), pickup=(8,)),
        _order("d", 50, 0, delivery=(8,), pickup=(0,)),
        _order("x", 0, 100, delivery=(5,)),
    ]
    pair = Pair(id="pair", pickup="p", delivery="d")
    problem = _problem(orders, [_van()], pairs=(pair,))
    assert ENGINE.support(problem).is_exact
    matrices = _matrices(problem)
    result, allowed = _solve(problem, matrices)
    _assert_valid(problem, result, allowed)
    seq = result.sequences["V1"]
    assert sorted(seq) == ["d", "p", "x"]
    assert seq.index("p") < seq.index("d")
    plan = _plan(problem, matrices, result.sequences)
    assert check_plan(problem, plan, matrices) == []


def test_nothing_to_plan() -> None:
    """No orders: the engine does not apply; nothing allowed: empty routes."""
    problem = _problem([], [_van()])
    support = ENGINE.support(problem)
    assert not support.applies and support.reason
    problem = _problem([_order("o", 1, 1)], [_van()])
    result = ENGINE.solve(problem, _matrices(problem), {}, time_limit_s=1.0)
    assert result.sequences == {} and result.status == "empty"


def test_repair_makes_an_infeasible_route_feasible() -> None:
    """The fallback for an infeasible best solution removes stops until the
    route fits, and keeps those that fit."""
    from pyvrp import Activity, ActivityType, Route

    from routing.solver.engines.pyvrp_engine import _convert, _repair

    orders = [_order(f"o{k}", 10 * k, 0, delivery=(4,)) for k in range(1, 5)]
    problem = _problem(orders, [_van(capacity=(10,))])
    matrices = _matrices(problem)
    conv = _convert(problem, matrices, precheck(problem, matrices).allowed)
    route = [Activity(ActivityType.CLIENT, k) for k in range(4)]
    assert not Route(conv.data, route, 0).is_feasible()
    ((vehicle_type, kept),) = _repair(conv.data, [(0, route)])
    assert Route(conv.data, kept, vehicle_type).is_feasible()
    assert len(kept) == 2


def test_converged_stops_on_a_stall_or_on_reaching_the_target() -> None:
    """A run stops after its idle iterations, or at once when it finds the
    earlier runs' best cost again, but not when it goes below it."""
    idle = _Converged(iterations=3, seconds=0.0)
    assert [idle(c) for c in (10.0, 10.0, 10.0, 10.0)] == [False, False, False, True]
    confirm = _Converged(iterations=100, seconds=0.0, target=7.0)
    assert not confirm(9.0)
    assert confirm(7.0)
    beat = _Converged(iterations=100, seconds=0.0, target=7.0)
    assert not beat(6.0) and not beat(5.0)
    # With nothing feasible (PyVRP's cost: the largest int64), a quick run ends
    # after its infeasible iterations, however long its patience otherwise...
    stuck = _Converged(
        iterations=10**6, seconds=1e9, infeasible_iterations=INFEASIBLE_PATIENCE
    )
    infeasible = float(np.iinfo(np.int64).max)
    calls = [stuck(infeasible) for _ in range(INFEASIBLE_PATIENCE + 1)]
    assert calls.index(True) == INFEASIBLE_PATIENCE
    # ... and a run with the full patience after its idle iterations.
    full = _Converged(iterations=3, seconds=1e9)
    assert [full(infeasible) for _ in range(4)] == [False, False, False, True]


def test_a_stalled_run_goes_on_when_a_fresh_one_could_not_catch_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run that took 60 s to find its best and stalls with 10 s left goes on
    (a restart would need about 60 s); one that found its best after 5 s and
    stalls with 80 s left makes way for a fresh run."""
    from routing.solver.engines import pyvrp_engine

    clock = [0.0]
    monkeypatch.setattr(pyvrp_engine.time, "perf_counter", lambda: clock[0])
    late = _Converged(iterations=1, seconds=1.0, deadline=100.0)
    clock[0] = 60.0
    assert not late(10.0)  # its best, found after 60 s
    clock[0] = 90.0
    assert not late(10.0)  # stalled, 10 s left: goes on
    clock[0] = 0.0
    early = _Converged(iterations=1, seconds=1.0, deadline=100.0)
    clock[0] = 5.0
    assert not early(10.0)  # its best, found after 5 s
    clock[0] = 20.0
    assert early(10.0)  # stalled, 80 s left: a fresh run


def _random_problem(n: int, seed: int) -> Problem:
    rng = np.random.default_rng(seed)
    orders = []
    for k in range(n):
        start = int(rng.integers(0, 600))
        orders.append(
            _order(
                f"o{k}",
                float(rng.integers(-100, 100)),
                float(rng.integers(-100, 100)),
                windows=(TimeWindow(start, start + int(rng.integers(60, 400))),),
                service_s=10,
            )
        )
    vans = [_van(f"V{k}", capacity=(8,)) for k in range(8)]
    return _problem(orders, vans, horizon=TimeWindow(0, 2_000))


def _first_order_cold(problem: Problem) -> Problem:
    """``problem`` with its first order needing the skill only its first vehicle
    has: a vehicle restriction (a restriction profile in PyVRP)."""
    return replace(
        problem,
        orders=(replace(problem.orders[0], skills=("cold",)), *problem.orders[1:]),
        vehicles=(
            replace(problem.vehicles[0], skills=("cold",)),
            *problem.vehicles[1:],
        ),
    )


def test_restarts_keep_the_best_of_all_runs() -> None:
    """A stalled run is followed by fresh runs (other seeds) within the deadline,
    and the search returns a solution at least as good as its first run's
    alone (the first run is the same: same seed, same iteration rule)."""
    problem = _random_problem(40, seed=3)
    matrices = _matrices(problem)
    allowed = precheck(problem, matrices).allowed
    conv = _convert(problem, matrices, allowed)
    deadline = time.perf_counter() + 30.0
    searched = _search(conv, deadline, 5, 50, 0.0, max_runs=1)
    first, runs = searched.best, searched.runs
    assert runs == 1
    again = _search(conv, deadline, 5, 50, 0.0, max_runs=8)
    restarted, runs, status = again.best, again.runs, again.status
    assert runs >= 2
    assert _cost(restarted) <= _cost(first)
    # Far from the deadline, the search ends early only when runs agree.
    assert runs == 8 or status == "no_improvement"


def test_required_search_starts_at_the_days_own_penalty_scale_if_unrestricted() -> None:
    """With required clients the penalties start at the cost of an average arc
    per average unit of load, duration and distance (not at the middle of
    PyVRP's range, hundreds to tens of thousands of times higher: ~40,000
    iterations of a 100-customer instance to come down); with vehicle
    restrictions or fixed vehicle costs at the middle, as pyvrp.solve."""
    problem = _random_problem(40, seed=3)
    matrices = _matrices(problem, speed=2.0)
    allowed = precheck(problem, matrices).allowed
    conv = _convert(problem, matrices, allowed, required=True)
    (load,), time_warp, distance = conv.penalties[0]
    low, high = conv.penalties[1:]
    data = conv.data
    d = np.asarray(data.distance_matrix(0), dtype=float)
    t = np.asarray(data.duration_matrix(0), dtype=float)
    van = data.vehicle_type(0)
    arc = van.unit_distance_cost * d.mean() + van.unit_duration_cost * t.mean()
    assert van.unit_distance_cost > 0
    assert time_warp == pytest.approx(arc / t.mean())
    assert distance == pytest.approx(arc / d.mean())
    assert load == pytest.approx(arc / 1.0)  # every order delivers 1
    assert time_warp == pytest.approx(2 * distance, rel=1e-3)  # 2 m/s, rounded
    assert low <= min(load, time_warp, distance)
    assert max(load, time_warp, distance) < 1e-2 * (low + high) / 2
    # A vehicle restriction (a profile whose travel time into the order it may
    # not serve exceeds the horizon) needs high time-warp penalties: the
    # midpoint then, as pyvrp.solve starts; a fixed vehicle cost too.
    skilled = _first_order_cold(problem)
    allowed = precheck(skilled, matrices).allowed
    restricted = _convert(skilled, matrices, allowed, required=True)
    assert restricted.data.num_profiles == 2
    mid = (low + high) / 2
    assert restricted.penalties[0] == ([mid], mid, mid)
    assert not restricted.at_day_scale
    # A fixed vehicle cost, which a violation may save, too.
    fixed = replace(
        problem, vehicles=tuple(replace(v, fixed_cost=50.0) for v in problem.vehicles)
    )
    conv = _convert(fixed, matrices, precheck(fixed, matrices).allowed, required=True)
    mid = sum(conv.penalties[1:]) / 2
    assert conv.penalties[0] == ([mid], mid, mid)
    assert not conv.at_day_scale


def test_runs_from_the_midpoint_restart_only_after_a_long_stall() -> None:
    """A run whose penalties start at the day's scale restarts after
    NO_IMPROVEMENT_SHARE of the time idle; one from the middle of the range
    (here: a vehicle restriction) only after stops**2 seconds: a fresh run
    would start from the middle again and lose what the penalties learnt.
    40 orders, 1 s: 0.2 s against 2.4 s, so the restricted search is one run."""
    problem = _random_problem(40, seed=3)
    matrices = _matrices(problem)
    engine = PyVRPEngine()
    allowed = precheck(problem, matrices).allowed
    assert _convert(problem, matrices, allowed, required=True).at_day_scale
    plain = engine.solve(problem, matrices, allowed, time_limit_s=1.0, seed=1)
    assert plain.stats["patience_s"] == pytest.approx(0.2)
    skilled = _first_order_cold(problem)
    allowed = precheck(skilled, matrices).allowed
    restricted = engine.solve(skilled, matrices, allowed, time_limit_s=1.0, seed=1)
    assert restricted.stats["patience_s"] == pytest.approx(
        NO_IMPROVEMENT_S_PER_STOP_SQUARED * 40**2
    )
    assert restricted.stats["runs"] == 1
    _assert_valid(skilled, restricted, allowed)


def _cost(solution: object) -> float:
    from pyvrp import CostEvaluator

    evaluator = CostEvaluator([10**6], 10**6, 10**6)
    return float(evaluator.cost(solution))  # type: ignore[arg-type]


def test_progress_reports_each_better_cost_in_objective_units() -> None:
    """``on_best`` hears every new best of all runs, decreasing, the last one
    the cost of the routes returned (all orders served: no prizes in it)."""
    problem = _random_problem(30, seed=4)
    matrices = _matrices(problem)
    allowed = precheck(problem, matrices).allowed
    seen: list[float] = []
    result = ENGINE.solve(
        problem, matrices, allowed, time_limit_s=1.0, on_best=seen.append
    )
    assert seen and all(b < a for a, b in itertools.pairwise(seen))
    served = {oid for seq in result.sequences.values() for oid in seq}
    assert served == set(allowed)
    assert seen[-1] == pytest.approx(result.cost)


def test_slots_leave_room_for_the_breaks_where_hours_are_priced() -> None:
    """PyVRP has no breaks: a slot ending after a break's earliest start ends
    earlier by the break's duration (never before its start); slots ending
    before any break, and days without breaks, are unchanged. Where no
    vehicle with a break prices its hours (a distance-only day), slots stay
    whole: its routes keep idle time for the breaks."""
    lunch = Break(window=TimeWindow(43_200, 46_800), duration_s=1_800)
    orders = [_order("a", 10, 0)]
    priced = _van("V1", breaks=(lunch,), cost_per_hour=30.0)
    with_break = _problem(orders, [priced, _van("V2")])
    room = _break_room(with_break)
    assert room(TimeWindow(28_800, 36_000)) == 36_000
    assert room(TimeWindow(40_000, 50_400)) == 48_600
    assert room(TimeWindow(46_000, 46_500)) == 46_000
    assert _break_room(_problem(orders, [_van()]))(TimeWindow(0, 50_400)) == 50_400
    unpriced = _problem(orders, [_van("V1", breaks=(lunch,)), _van("V2")])
    assert _break_room(unpriced)(TimeWindow(40_000, 50_400)) == 50_400
    hours_not_weighed = replace(
        with_break, objective=replace(with_break.objective, duration=0.0)
    )
    assert _break_room(hours_not_weighed)(TimeWindow(40_000, 50_400)) == 50_400


def test_a_break_leaves_the_shift_end_as_it_is() -> None:
    """A lunch break does not cut the end of the route: a slot just before the
    shift ends is served (the break fits in the day's idle time, as our timing
    places it), where taking the break's duration off the shift's end left no
    vehicle able to reach that slot and come back."""
    lunch = Break(window=TimeWindow(43_200, 50_400), duration_s=1_800)
    shift = TimeWindow(28_800, 61_200)
    late = _order("late", 300, 0, windows=(TimeWindow(60_000, 60_300),), service_s=300)
    early = _order("early", 0, 300, windows=(TimeWindow(30_000, 36_000),))
    problem = _problem([early, late], [_van("V1", shift=shift, breaks=(lunch,))])
    matrices = _matrices(problem)
    result, _ = _solve(problem, matrices)
    assert result.sequences == {"V1": ["early", "late"]}
    plan = _plan(problem, matrices, result.sequences)
    assert check_plan(problem, plan, matrices) == []
    assert not plan.unplanned


def _spread_run(
    fixed_cost: float, monkeypatch: pytest.MonkeyPatch
) -> tuple[_Run, object, object]:
    """A `_Run` on 24 orders (no slots) and 8 vans of capacity 8 (3 would do)
    whose elimination is due at once, and its feasible start: every van used,
    3 orders each."""
    from pyvrp import PenaltyManager, PenaltyParams, RandomNumberGenerator, Solution
    from pyvrp.search import NeighbourhoodParams, compute_neighbours

    import routing.solver.engines.pyvrp_engine as engine

    monkeypatch.setattr(engine, "ELIMINATE_AFTER_SHARE", 0.0)
    monkeypatch.setattr(engine, "DUE_PROBE_ITERATIONS", 0)
    monkeypatch.setattr(engine, "DUE_MIN_SHARE", 0.0)
    rng = np.random.default_rng(5)
    problem = _problem(
        [
            _order(f"o{k}", *(float(x) for x in rng.integers(-100, 100, size=2)))
            for k in range(24)
        ],
        [_van(f"V{k}", capacity=(8,), fixed_cost=fixed_cost) for k in range(8)],
    )
    matrices = _matrices(problem)
    conv = _convert(problem, matrices, precheck(problem, matrices).allowed)
    data = conv.data
    pyvrp_rng = RandomNumberGenerator(seed=1)
    neighbours = compute_neighbours(data, NeighbourhoodParams())
    initial, low, high = conv.penalties
    pm = PenaltyManager(initial, PenaltyParams(min_penalty=low, max_penalty=high))
    deadline = time.perf_counter() + 20.0
    run = _Run(
        conv,
        pm,
        _local_search(data, pyvrp_rng, neighbours),
        neighbours,
        seed=1,
        criteria=[_Deadline(deadline)],
        deadline=deadline,
        should_stop=None,
        eliminate=True,
    )
    clients = list(range(data.num_clients))
    start = Solution(data, [clients[k : k + 3] for k in range(0, 24, 3)])
    return run, start, pm


def test_route_elimination_empties_routes_when_vehicles_have_a_fixed_cost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """From a start using all 8 vans, the run drops routes while the smaller
    fleet is cheaper: its best uses fewer vans than the start and costs less."""
    run, start, pm = _spread_run(500.0, monkeypatch)
    best = run.search(start, _Converged(200, 0.0))  # type: ignore[arg-type]
    assert best.is_feasible()
    assert run.attempts >= 1
    assert run.eliminated >= 1
    assert best.num_routes() <= 8 - run.eliminated
    evaluator = pm.max_cost_evaluator()  # type: ignore[attr-defined]
    assert evaluator.cost(best) < evaluator.cost(start)


@pytest.mark.parametrize(
    ("fixed_cost", "eliminate_routes", "tries"),
    [(500.0, True, True), (0.0, True, False), (500.0, False, False)],
)
def test_search_tries_elimination_only_when_vehicles_have_a_fixed_cost(
    fixed_cost: float,
    eliminate_routes: bool,
    tries: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Distance-only days (Solomon, G&H) and the benchmarks' PyVRP peer
    (``eliminate_routes=False``) search as PyVRP does: no attempt."""
    run, _, _ = _spread_run(fixed_cost, monkeypatch)
    conv = run._conv
    searched = _search(
        conv,
        time.perf_counter() + 5.0,
        1,
        200,
        0.0,
        max_runs=1,
        fallback=lambda: conv,
        eliminate_routes=eliminate_routes,
    )
    assert searched.best.is_feasible()
    assert (searched.eliminations_tried > 0) is tries
    if not tries:
        assert searched.routes_eliminated == 0


def test_without_vehicle_takes_one_of_a_group_or_prices_out_the_last() -> None:
    vans = [_van(f"V{k}", fixed_cost=10.0) for k in range(3)]
    bike = _van("B", fixed_cost=5.0, cost_per_km=0.5)
    problem = _problem(
        [_order(f"o{k}", 10.0 * k, 5.0) for k in range(6)], [*vans, bike]
    )
    matrices = _matrices(problem)
    data = _convert(problem, matrices, precheck(problem, matrices).allowed).data
    types = data.vehicle_types()
    group = next(k for k, vt in enumerate(types) if vt.num_available == 3)
    single = next(k for k, vt in enumerate(types) if vt.num_available == 1)
    fewer = _without_vehicle(data, group).vehicle_types()
    assert fewer[group].num_available == 2
    assert fewer[single].fixed_cost == types[single].fixed_cost
    priced_out = _without_vehicle(data, single).vehicle_types()
    assert priced_out[single].num_available == 1
    assert priced_out[single].fixed_cost == PENALTY_BUDGET
    assert priced_out[group].num_available == 3


def test_the_route_to_drop_costs_most_per_stop() -> None:
    from pyvrp import Solution

    problem = _problem(
        [_order(f"o{k}", 10.0 * (k + 1), 0.0) for k in range(5)],
        [_van(f"V{k}", fixed_cost=100.0) for k in range(3)],
    )
    matrices = _matrices(problem)
    data = _convert(problem, matrices, precheck(problem, matrices).allowed).data
    c = list(range(data.num_clients))
    # Routes: 3 near stops, 1 near stop, 1 far stop: the last costs most per stop.
    solution = Solution(data, [[c[0], c[1], c[2]], [c[3]], [c[4]]])
    assert _route_to_drop(data, solution, set()) == 2
    vt = solution.routes()[2].vehicle_type()
    assert _route_to_drop(data, solution, {vt}) is None  # one type, tried
    assert _route_to_drop(data, Solution(data, [c]), set()) is None  # one route


def test_elimination_is_not_due_while_nothing_is_feasible(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run whose best is still infeasible goes on past the elimination point
    (its best is then PyVRP's initial solution, and a restart from it would lose
    the run's progress towards feasibility); once feasible, it tries."""
    from pyvrp import Solution

    run, _, _ = _spread_run(500.0, monkeypatch)
    data = run._conv.data
    overloaded = Solution(data, [list(range(data.num_clients))])  # 24 on 8 places
    assert not overloaded.is_feasible()
    best = run.search(overloaded, _Converged(200, 0.0))
    assert best.is_feasible()
    assert run.attempts >= 1  # without once_feasible: the leg ended at once, none
    infeasible = float(np.iinfo(np.int64).max)
    due = _Due(0.0, 24)  # due at the end of the probe, once feasible
    assert not any(due(infeasible) for _ in range(5))
    assert due(1_000.0)


def test_elimination_is_due_at_a_count_that_does_not_follow_the_pace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The count is the iterations that fit at the reference pace (rounded down
    to DUE_GRID): runs whose pace differs by 30 % agree on it; only a
    pace far from the reference moves it, to the bounds at the run's pace."""
    import routing.solver.engines.pyvrp_engine as engine

    def count(pace_s: float, run_s: float, stops: int) -> int | None:
        clock = [100.0]
        monkeypatch.setattr(engine.time, "perf_counter", lambda: clock[0])
        due = _Due(run_s, stops)
        for _ in range(DUE_PROBE_ITERATIONS + 1):
            due(1_000.0)
            clock[0] += pace_s
        monkeypatch.undo()
        return due.due

    stops = 256  # 256 ** 1.25 = 1024
    # a 25-s run: iterations in its first 10 s (40 %) at the reference pace
    fit = 10.0 * DUE_PACE / 1024
    expected = DUE_GRID * int(fit // DUE_GRID)
    reference_pace_s = 1024 / DUE_PACE
    for factor in (0.77, 1.0, 1.3):
        assert count(factor * reference_pace_s, 25.0, stops) == expected
    # 10 times faster: the count would be due at 4 % of the run; moved up to
    # DUE_MIN_SHARE (10 times slower: down to DUE_MAX_SHARE)
    fast = reference_pace_s / 10
    assert count(fast, 25.0, stops) == round(DUE_MIN_SHARE * 25.0 / fast)
    slow = reference_pace_s * 10
    assert count(slow, 25.0, stops) == round(DUE_MAX_SHARE * 25.0 / slow)
    assert count(reference_pace_s, 0.0, stops) == 0  # due after the probe


def test_a_slowed_run_takes_the_same_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two runs of one seed, one of them slowed to a fraction of the other's
    pace by the machine (here a criterion that sleeps), try the same
    eliminations and end at the same solution after the same iterations:
    nothing but the deadline (and the probe's pace) depends on the clock."""

    class Sleepy:
        def __call__(self, best_cost: float) -> bool:
            time.sleep(0.001)
            return False

    fast, start, pm = _spread_run(500.0, monkeypatch)
    slow, slow_start, _ = _spread_run(500.0, monkeypatch)
    slow._criteria.append(Sleepy())  # type: ignore[arg-type]
    a = fast.search(start, _Converged(200, 0.0))  # type: ignore[arg-type]
    b = slow.search(slow_start, _Converged(200, 0.0))  # type: ignore[arg-type]
    evaluator = pm.max_cost_evaluator()  # type: ignore[attr-defined]
    assert (fast.attempts, fast.eliminated) == (slow.attempts, slow.eliminated)
    assert fast.iterations == slow.iterations
    assert evaluator.cost(a) == evaluator.cost(b)
    assert fast.attempts >= 1


def test_hand_over_fires_only_late_and_idle_and_not_while_held(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The search hands over within the last HAND_OVER_WINDOW idle spans before
    its deadline, once idle_s passed without a better solution; never earlier,
    never while an elimination attempt holds it, and idle time counts again
    from the release."""
    clock = [0.0]
    monkeypatch.setattr(pyvrp_engine.time, "perf_counter", lambda: clock[0])
    handing = _HandOver(deadline=100.0, idle_s=5.0)  # window: from 80 s

    def at(t: float, cost: float) -> bool:
        clock[0] = t
        return handing(cost)

    assert not at(1.0, 10.0)
    assert not at(79.0, 10.0)  # idle for 78 s, but before the window
    assert not at(81.0, 9.0)  # better: idle from 81 s
    assert not at(85.0, 9.0)  # idle 4 s
    handing.hold()
    assert not at(95.0, 9.0)  # idle 14 s, held (an elimination attempt)
    handing.release()  # idle from 95 s
    assert not at(99.0, 9.0)
    assert at(100.5, 9.0) and handing.is_reached
    assert HAND_OVER_WINDOW * HAND_OVER_SHARE < 1  # the window is a stretch


def test_hand_over_only_on_days_the_engine_relaxes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A day PyVRP expresses whole (OR-Tools has nothing to add) is searched to
    the limit; on a relaxed day (breaks) the search gets HAND_OVER_SHARE of the
    limit as its idle span; the benchmarks' peer (hand_over=False) never."""
    seen: list[float | None] = []
    real = pyvrp_engine._search

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(kwargs.get("hand_over"))  # type: ignore[arg-type]
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pyvrp_engine, "_search", spy)
    plain = _random_problem(12, seed=1)
    matrices = _matrices(plain)
    assert PyVRPEngine().support(plain).is_exact
    with_break = replace(
        plain,
        vehicles=tuple(
            replace(v, breaks=(Break(window=TimeWindow(500, 900), duration_s=60),))
            for v in plain.vehicles
        ),
    )
    assert not PyVRPEngine().support(with_break).is_exact
    for engine, problem in (
        (PyVRPEngine(), plain),
        (PyVRPEngine(), with_break),
        (PyVRPEngine(hand_over=False), with_break),
    ):
        allowed = precheck(problem, matrices).allowed
        result = engine.solve(problem, matrices, allowed, time_limit_s=0.5, seed=1)
        _assert_valid(problem, result, allowed)
    assert seen == [None, pytest.approx(HAND_OVER_SHARE * 0.5), None]


def test_a_stalled_search_hands_over_before_its_deadline() -> None:
    """`_search` with a hand-over span: a small day converges at once, so the
    search stalls within its last stretch and ends there, before the deadline,
    with status "handed_over"; without one it searches to the deadline (no
    restarts here: their patience is out of reach)."""
    problem = _first_order_cold(_random_problem(40, seed=3))
    matrices = _matrices(problem)
    conv = _convert(problem, matrices, precheck(problem, matrices).allowed)
    t0 = time.perf_counter()
    handed = _search(conv, t0 + 2.0, 5, 10**9, 1e9, hand_over=0.1)
    handed_s = time.perf_counter() - t0
    assert handed.status == "handed_over"
    assert 2.0 - HAND_OVER_WINDOW * 0.1 <= handed_s < 1.95
    t0 = time.perf_counter()
    full = _search(conv, t0 + 2.0, 5, 10**9, 1e9)
    assert full.status == "time_limit"
    assert time.perf_counter() - t0 >= 1.95
    assert _cost(handed.best) >= _cost(full.best)  # (the same run, cut short)


def test_a_snapshot_hands_on_the_best_so_far_once_and_leaves_the_path_alone() -> None:
    """`_Snapshot` watches a search: once due, it hands on the best feasible
    solution so far, once, with its conversion; the search takes the very
    same path as without it (same iterations, same best); due before the
    first iteration, it hands on the run's start. Through the engine,
    ``take`` gets routes over allowed orders and a cost no lower than the
    final result's."""
    problem = _random_problem(40, seed=3)
    matrices = _matrices(problem)
    allowed = precheck(problem, matrices).allowed
    conv = _convert(problem, matrices, allowed)
    deadline = time.perf_counter() + 30.0
    alone = _search(conv, deadline, 5, 50, 0.0, max_runs=1)
    calls = [0]

    def due() -> bool:
        calls[0] += 1
        return calls[0] >= 30

    taken: list[tuple[object, object]] = []
    snapshot = _Snapshot(due, lambda solution, of: taken.append((solution, of)))
    watched = _search(conv, deadline, 5, 50, 0.0, max_runs=1, snapshot=snapshot)
    assert watched.iterations == alone.iterations > 30
    assert _cost(watched.best) == _cost(alone.best)
    [(solution, of)] = taken
    assert of is conv
    assert solution.is_feasible()  # type: ignore[attr-defined]
    assert _cost(solution) >= _cost(watched.best)

    # Due before the first iteration: the run's (feasible) start is handed on.
    early: list[tuple[object, object]] = []
    first = _Snapshot(lambda: True, lambda solution, of: early.append((solution, of)))
    _search(conv, deadline, 5, 50, 0.0, max_runs=1, snapshot=first)
    [(start, _)] = early
    assert start.is_feasible()  # type: ignore[attr-defined]

    handed: list[tuple[Sequences, float]] = []
    t0 = time.perf_counter()
    engine = PyVRPEngine(
        snapshot=(
            lambda: time.perf_counter() > t0 + 0.4,
            lambda seqs, cost: handed.append((seqs, cost)),
        )
    )
    result = engine.solve(problem, matrices, allowed, time_limit_s=1.0)
    [(sequences, cost)] = handed
    _assert_valid(problem, replace(result, sequences=sequences), allowed)
    assert result.cost is not None and result.cost <= cost


def test_a_start_is_read_as_pyvrp_routes_in_the_slot_it_is_timed_in() -> None:
    """Another engine's routes as a PyVRP solution (`_solution_of`): each
    vehicle on its type, a two-slot order as the client of the slot our timing
    serves it in, a pair as its shipment; read back, the same routes."""
    two = _order("two", 1000, 0, windows=(TimeWindow(0, 100), TimeWindow(2000, 2500)))
    orders = [
        _order("p", 100, 0, delivery=(0,), pickup=(2,)),
        two,
        _order("d", 50, 0, delivery=(2,), pickup=(0,)),
        _order("x", 0, 100),
    ]
    problem = _problem(
        orders,
        [_van("V1"), _van("V2", capacity=(5,))],
        pairs=(Pair(id="pair", pickup="p", delivery="d"),),
        horizon=TimeWindow(0, 5_000),
    )
    matrices = _matrices(problem)
    allowed = precheck(problem, matrices).allowed
    conv = _convert(problem, matrices, allowed)
    start = {"V1": ["p", "two", "d"], "V2": ["x"]}
    solution = _solution_of(problem, matrices, conv, start)
    assert solution is not None
    routes = dict((vt, acts) for vt, acts in _routes(solution))
    assert len(routes) == 2
    slot = [a for a in routes[0] if a.is_client()]
    assert len(slot) == 1
    assert conv.client_orders[slot[0].idx] == "two"
    assert conv.data.clients()[slot[0].idx].tw_early == 2000  # the second slot
    assert [a.is_pickup() for a in routes[0]] == [True, False, False]
    back, dropped = _sequences(problem, matrices, conv, _routes(solution), allowed)
    assert back == start
    assert not any(dropped.values())
    # An order listed twice counts once; an unknown vehicle is left out; the
    # routes of a pair split over two are (no route left: a random start).
    again = _solution_of(problem, matrices, conv, {"V2": ["x", "x"], "V9": ["two"]})
    assert again is not None
    assert [len(acts) for _, acts in _routes(again)] == [1]
    split = {"V1": ["p"], "V2": ["d"]}
    assert _solution_of(problem, matrices, conv, split) is None


def test_a_search_from_a_start_is_no_worse_than_the_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`PyVRPEngine`'s ``start``: the first run starts from those routes, not
    from a random solution (a fresh run after it does), so a short search
    returns routes that cost no more than them."""
    problem = _random_problem(40, seed=3)
    matrices = _matrices(problem)
    allowed = precheck(problem, matrices).allowed
    good = ENGINE.solve(problem, matrices, allowed, time_limit_s=2.0, seed=1)
    assert good.cost is not None

    real = pyvrp_engine.Solution
    randoms: list[int] = []

    class Counting:
        def __new__(cls, *args: object) -> object:
            return real(*args)

        @staticmethod
        def make_random(*args: object) -> object:
            randoms.append(1)
            return real.make_random(*args)

    monkeypatch.setattr(pyvrp_engine, "Solution", Counting)
    engine = PyVRPEngine(start=good.sequences, no_improvement_iterations=1)
    again = engine.solve(problem, matrices, allowed, time_limit_s=0.2, seed=2)
    assert again.cost is not None
    assert again.cost <= good.cost
    served = sorted(oid for seq in again.sequences.values() for oid in seq)
    assert served == sorted(allowed)
    assert len(randoms) == again.stats["runs"] - 1
    randoms.clear()
    alone = PyVRPEngine(no_improvement_iterations=1)
    run = alone.solve(problem, matrices, allowed, time_limit_s=0.2, seed=2)
    assert len(randoms) == run.stats["runs"] >= 1


def test_restrictions_of_reach_alone_need_no_profile() -> None:
    """A vehicle kept off orders only by reach (here its shift ends before their
    slots open) needs no restriction profile: PyVRP's own windows keep it off.
    The day keeps one profile and its own penalty scale, and the routes still
    never give that vehicle those orders. A skill restriction beside it brings
    the profiles back, with every restriction in them."""
    problem = _random_problem(40, seed=3)
    matrices = _matrices(problem)
    short = replace(problem.vehicles[0], shift=TimeWindow(0, 300))
    problem = replace(problem, vehicles=(short, *problem.vehicles[1:]))
    allowed = precheck(problem, matrices).allowed
    off = {oid for oid, ks in allowed.items() if 0 not in ks}
    assert len(off) >= 5  # the orders whose slots open after 300 s or so
    conv = _convert(problem, matrices, allowed, required=True)
    assert conv.data.num_profiles == 1
    assert conv.at_day_scale
    # With prizes (an overbooked day's conversion) the restriction stays a profile.
    assert _convert(problem, matrices, allowed).data.num_profiles == 2
    result = PyVRPEngine().solve(problem, matrices, allowed, time_limit_s=1.0, seed=1)
    assert sum(map(len, result.sequences.values())) == 40
    assert result.stats["dropped_disallowed"] == 0
    assert off.isdisjoint(result.sequences.get(short.id, ()))

    # The first order needs a skill only the second vehicle has.
    first, *rest = problem.orders
    second = replace(problem.vehicles[1], skills=("cold",))
    skilled = replace(
        problem,
        orders=(replace(first, skills=("cold",)), *rest),
        vehicles=(short, second, *problem.vehicles[2:]),
    )
    allowed = precheck(skilled, matrices).allowed
    conv = _convert(skilled, matrices, allowed, required=True)
    assert conv.data.num_profiles == 3  # V0, V1 and the other vans
    assert not conv.at_day_scale
    data = conv.data
    at_v0 = data.duration_matrix(data.vehicle_type(0).profile)
    (k,) = [k for k, c in enumerate(data.clients()) if c.name == sorted(off)[0]]
    assert at_v0[0, data.num_depots + k] > skilled.horizon.end_s
