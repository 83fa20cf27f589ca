"""Tests of the search portfolio: engines warm-start OR-Tools, the plan says what
each engine did, the search stops when converged, soft slots never lose to hard."""

from __future__ import annotations

import functools
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from routing.check import check_plan
from routing.domain.model import Problem, with_hard_slots
from routing.domain.plan import Plan
from routing.domain.timing import build_routes, plan_from_routes, unplanned_penalty
from routing.domain.units import COST_SCALE
from routing.formats import load_problem, problem_from_dict
from routing.geo.matrix import matrix_for
from routing.geo.providers import build_travel
from routing.solver import SolveOptions, solve
from routing.solver._ortools import RawSolution
from routing.solver.engines import ENGINES
from routing.solver.options import KNOWN_ENGINES
from routing.solver.portfolio import (
    RELAXED_FINAL_S,
    RELAXED_FINAL_S_PER_ORDER,
    WARM_SHARE_RELAXED,
    PortfolioResult,
    _on_time,
    _side_by_side,
    _stop_reason,
    _warm_share,
)
from routing.solver.precheck import precheck
from tests.routing.test_cli import _late_and_dropped

REPO = Path(__file__).resolve().parents[3]


@functools.cache
def _generated_day(n_orders: int, seed: int) -> Problem:
    """A generated city day (scenarios/generate.py: depots, mixed fleet, breaks,
    skills, returns, one or two slots, soft tiers)."""
    sys.path.insert(0, str(REPO / "scenarios"))
    try:
        import generate  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    data = json.loads(json.dumps(generate.city_day(n_orders, seed)))
    return problem_from_dict(data)


def _cost_in(problem: Problem, plan: Plan) -> tuple[int, float]:
    """(orders served, cost) of ``plan``'s sequences re-timed in ``problem``."""
    travel = build_travel(problem)
    matrices = {p: matrix_for(travel, p) for p in problem.profiles}
    seqs = {r.vehicle_id: list(r.order_ids) for r in plan.routes}
    routes = build_routes(problem, matrices, seqs)
    return sum(len(r.visits) for r in routes), sum(r.cost for r in routes)


def test_small_day_stops_when_converged_and_reports_the_engines() -> None:
    """The tutorial day (12 orders) stops long before a generous limit because the
    search converged; the plan names the engine that warm-started OR-Tools and why
    the other was skipped, and passes the checker."""
    problem = load_problem(REPO / "scenarios" / "tutorial.json")
    travel = build_travel(problem)
    plan = solve(problem, travel, options=SolveOptions(time_limit_s=60, workers=2))
    assert check_plan(problem, plan, travel) == []
    assert plan.stop_reason.startswith("converged")
    assert plan.stats["total_s"] < 30  # converged, not the 60 s limit
    runs = {r.engine: r for r in plan.engines}
    assert runs["pyvrp"].outcome == "warm_start"
    assert runs["pyvrp"].cost is not None
    assert (
        abs(runs["pyvrp"].cost - plan.objective / 1e5)
        < 1e-6 + 0.05 * runs["pyvrp"].cost
    )
    assert runs["vroom"].outcome == "skipped"
    assert "PyVRP expresses the whole model" in runs["vroom"].reason


def test_relaxed_day_lists_relaxations_and_keeps_every_order_checked() -> None:
    """On a day with breaks, soft slots and skills both engines relax something
    and say what; the final plan is OR-Tools' and passes the checker."""
    problem = _generated_day(30, 3)
    travel = build_travel(problem)
    plan = solve(problem, travel, options=SolveOptions(time_limit_s=6, workers=1))
    assert check_plan(problem, plan, travel) == []
    runs = {r.engine: r for r in plan.engines}
    assert set(runs) == {"pyvrp", "vroom"}
    assert any("breaks" in line for line in runs["pyvrp"].relaxations)
    assert any("soft slots" in line for line in runs["vroom"].relaxations)
    assert any(r.outcome == "warm_start" for r in runs.values())
    assert plan.stats["total_s"] < 6 + 1.0 + 2.0  # limit + 1 s, with CI slack


def test_engines_off_runs_ortools_alone() -> None:
    """``engines=()`` is the OR-Tools-only search: no engine is reported."""
    problem = load_problem(REPO / "scenarios" / "tutorial.json")
    travel = build_travel(problem)
    plan = solve(problem, travel, options=SolveOptions(time_limit_s=1, engines=()))
    assert plan.engines == ()
    assert check_plan(problem, plan, travel) == []


def test_option_names_match_the_engine_registry() -> None:
    """Every engine SolveOptions accepts is registered, and vice versa."""
    assert set(KNOWN_ENGINES) == set(ENGINES)


def test_unknown_engine_name_is_refused() -> None:
    """A typo in the engine list is an error naming the engine, not a silent skip."""
    with pytest.raises(ValueError, match="'pyvpr'"):
        SolveOptions(engines=("pyvpr",))


@pytest.mark.parametrize("seed", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_soft_slots_never_worse_than_hard(seed: int) -> None:
    """A soft slot is a relaxation: the plan of the soft day serves at least as many
    orders and costs no more (under the soft objective) than the plan of the same
    day with every slot hard, re-timed in the soft day."""
    soft = _generated_day(40, seed)
    hard = with_hard_slots(soft)
    assert soft != hard
    options = SolveOptions(time_limit_s=4, workers=1)
    soft_plan = solve(soft, build_travel(soft), options=options)
    hard_plan = solve(hard, build_travel(hard), options=options)
    assert check_plan(soft, soft_plan, build_travel(soft)) == []
    soft_served, soft_cost = _cost_in(soft, soft_plan)
    hard_served, hard_cost = _cost_in(soft, hard_plan)
    assert soft_served >= hard_served
    if soft_served == hard_served:
        assert soft_cost <= hard_cost * 1.005 + 0.01


@pytest.mark.parametrize(
    "n_orders, seed", [(80, 2), pytest.param(120, 5, marks=pytest.mark.slow)]
)
def test_a_deterministic_soft_day_is_never_worse_than_its_all_hard_version(
    n_orders: int, seed: int
) -> None:
    """A deterministic search of a soft day first runs the very descent of its
    all-hard version, then descends in the soft model from there: its plan
    serves at least as many orders and costs no more under the soft objective
    than the all-hard plan re-timed in the soft day (exactly, not within noise:
    both searches are reproducible). Both days failed it before the soft
    search started from the hard one's routes (80 orders: 835.1 against
    832.6; 120: 772.9 against 759.9)."""
    soft = _generated_day(n_orders, seed)
    hard = with_hard_slots(soft)
    options = SolveOptions(time_limit_s=30, is_deterministic=True)
    soft_plan = solve(soft, build_travel(soft), options=options)
    hard_plan = solve(hard, build_travel(hard), options=options)
    assert check_plan(soft, soft_plan, build_travel(soft)) == []
    assert "hard_first_objective" in soft_plan.stats
    assert "hard_first_objective" not in hard_plan.stats
    soft_served, soft_cost = _cost_in(soft, soft_plan)
    hard_served, hard_cost = _cost_in(soft, hard_plan)
    assert soft_served >= hard_served
    if soft_served == hard_served:
        assert soft_cost <= hard_cost + 0.01


def test_child_engines_start_at_once_and_report_it() -> None:
    """On two cores a 60-order day runs both engines in child processes side by
    side: each starts searching within a few seconds (a starved feed once started
    the second search after the time limit) and the plan says when."""
    problem = _generated_day(60, 5)
    travel = build_travel(problem)
    plan = solve(problem, travel, options=SolveOptions(time_limit_s=6, workers=2))
    assert check_plan(problem, plan, travel) == []
    runs = {r.engine: r for r in plan.engines}
    for name in ("pyvrp", "vroom"):
        assert runs[name].outcome in ("warm_start", "ran", "plan"), runs[name]
        assert 0 < runs[name].started_s < 4.0  # child start-up, with CI slack


def test_one_core_gives_a_large_day_to_pyvrp_and_says_why_vroom_did_not_run() -> None:
    """Above IN_PROCESS_MAX_ORDERS orders on one core, PyVRP gets the warm phase;
    VROOM is listed as skipped, with the reason and what it would relax."""
    problem = _generated_day(60, 5)
    travel = build_travel(problem)
    plan = solve(problem, travel, options=SolveOptions(time_limit_s=3, workers=1))
    assert check_plan(problem, plan, travel) == []
    runs = {r.engine: r for r in plan.engines}
    assert runs["vroom"].outcome == "skipped" and "one core" in runs["vroom"].reason
    assert runs["vroom"].relaxations
    assert runs["pyvrp"].outcome in ("warm_start", "ran", "plan")
    assert runs["pyvrp"].iterations > 0 and runs["vroom"].iterations == 0


def test_one_core_runs_vroom_then_pyvrp_from_its_routes_on_a_day_priced_by_km() -> None:
    """On one core, a day VROOM prices as we do (km only: `_chains`) keeps
    VROOM before PyVRP, whose search starts from its routes (`CHAIN_PYVRP`)."""
    from routing.domain.model import Objective

    day = _generated_day(60, 5)
    problem = replace(
        day,
        objective=Objective(duration=0.0),
        vehicles=tuple(
            replace(v, fixed_cost=0.0, cost_per_hour=0.0) for v in day.vehicles
        ),
    )
    travel = build_travel(problem)
    plan = solve(problem, travel, options=SolveOptions(time_limit_s=3, workers=1))
    assert check_plan(problem, plan, travel) == []
    runs = {r.engine: r for r in plan.engines}
    assert runs["vroom"].outcome in ("warm_start", "ran"), runs["vroom"].reason
    assert runs["pyvrp"].iterations > 0
    assert runs["pyvrp"].started_s >= runs["vroom"].started_s + runs["vroom"].elapsed_s
    assert "started from the routes of the engine before it" in runs["pyvrp"].reason


def test_the_core_of_the_short_engines_then_runs_pyvrp_with_another_seed() -> None:
    """Side by side, PyVRP has the first core to itself; VROOM's core goes on
    with PyVRP (seed 1) once VROOM is done, and a third core runs a third seed.
    Without PyVRP (or alone) each engine gets a core."""
    jobs = [("vroom", 0), ("pyvrp", 0)]
    assert _side_by_side(jobs, 2) == [[("pyvrp", 0)], [("vroom", 0), ("pyvrp", 1)]]
    assert _side_by_side(jobs, 3)[2] == [("pyvrp", 2)]
    assert _side_by_side([("vroom", 0)], 2) == [[("vroom", 0)]]
    assert _side_by_side([("pyvrp", 0), ("pyvrp", 1)], 2) == [
        [("pyvrp", 0)],
        [("pyvrp", 1)],
    ]


def test_side_by_side_seeds_start_at_the_options_seed() -> None:
    """With ``SolveOptions.seed`` s, the k-th PyVRP search side by side uses s + k."""
    jobs = [("vroom", 10), ("pyvrp", 10)]
    assert _side_by_side(jobs, 3) == [
        [("pyvrp", 10)],
        [("vroom", 10), ("pyvrp", 11)],
        [("pyvrp", 12)],
    ]


def test_the_seed_reaches_every_engine_and_the_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``SolveOptions(seed=42)``: each engine run is called with seed 42 (one
    search: the tutorial day is exact for PyVRP) and the plan's stats record it;
    the default is 0."""
    from routing.solver import portfolio

    seeds: list[tuple[str, int]] = []
    real = portfolio.get_engine

    class Recording:
        def __init__(self, name: str) -> None:
            self.engine = real(name)

        def support(self, problem: Problem) -> object:
            return self.engine.support(problem)

        def first_answer_s(self, n_orders: int) -> float:
            return self.engine.first_answer_s(n_orders)

        def solve(self, *args: object, seed: int = 0, **kwargs: object) -> object:
            seeds.append((self.engine.name, seed))
            return self.engine.solve(*args, seed=seed, **kwargs)

    monkeypatch.setattr(portfolio, "get_engine", Recording)
    problem = load_problem(REPO / "scenarios" / "tutorial.json")
    travel = build_travel(problem)
    plan = solve(problem, travel, options=SolveOptions(time_limit_s=2, seed=42))
    assert check_plan(problem, plan, travel) == []
    assert seeds and {seed for _, seed in seeds} == {42}
    assert "pyvrp" in {name for name, _ in seeds}
    assert plan.stats["seed"] == 42
    seeds.clear()
    solve(problem, travel, options=SolveOptions(time_limit_s=2))
    assert {seed for _, seed in seeds} == {0}


@pytest.mark.parametrize("seed", [-1, 2**31, True, 1.5])
def test_a_bad_seed_is_refused(seed: object) -> None:
    with pytest.raises(ValueError, match="seed"):
        SolveOptions(seed=seed)  # type: ignore[arg-type]


def test_a_soft_day_gives_the_engines_its_all_hard_instance() -> None:
    """The engines hold soft slots hard, so on a soft day they get the vehicles
    the all-hard day's pre-checks allow (here one van reaches one order only
    late): the same instance, hence the same search, as the all-hard day."""
    problem = _generated_day(40, 2)
    travel = build_travel(problem)
    matrices = {p: matrix_for(travel, p) for p in problem.profiles}
    soft = precheck(problem, matrices).allowed
    hard = precheck(with_hard_slots(problem), matrices).allowed
    assert soft != hard  # the day shows the difference
    assert dict(_on_time(problem, matrices, soft)) == dict(hard)
    plain = with_hard_slots(problem)  # no soft slots: nothing narrowed
    assert _on_time(plain, matrices, hard) is hard


@pytest.mark.parametrize("late_only", [False, True])
def test_a_soft_days_hard_phase_is_its_all_hard_versions_final_search(
    late_only: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The soft day's final phase first searches the all-hard model on the
    vehicles the all-hard day's pre-checks allow (here one van reaches one order
    only late: not in that model), as the all-hard day's final search does, for
    the whole phase; only when some order is reachable only late (the soft
    model must insert it) does it keep HARD_SHARE of the phase."""
    import routing.solver.portfolio as portfolio

    problem = _late_and_dropped() if late_only else _generated_day(40, 2)
    travel = build_travel(problem)
    matrices = {p: matrix_for(travel, p) for p in problem.profiles}
    allowed = precheck(problem, matrices).allowed
    hard_allowed = precheck(with_hard_slots(problem), matrices).allowed
    assert (len(hard_allowed) < len(allowed)) == late_only
    seen: list[tuple[dict[str, object], float, float]] = []
    real = portfolio._hard_phase

    def spy(*args: object, **kwargs: object) -> object:
        phase_left = deadline - time.perf_counter()
        limit_s = kwargs["until"] - time.perf_counter()  # type: ignore[operator]
        seen.append((dict(args[2]), limit_s, phase_left))  # type: ignore[call-overload]
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(portfolio, "_hard_phase", spy)
    monkeypatch.setattr(portfolio, "WARM_SHARE_RELAXED", 0.4)  # a 2.4-s phase
    deadline = time.perf_counter() + 4.0
    portfolio.solve_portfolio(
        problem,
        matrices,
        allowed,
        options=SolveOptions(time_limit_s=4, workers=1),
        deadline=deadline,
    )
    ((hard_phase_allowed, limit_s, phase_left),) = seen
    assert hard_phase_allowed == dict(hard_allowed)
    share = portfolio.HARD_SHARE if late_only else 1.0
    assert limit_s == pytest.approx(share * phase_left, abs=0.05)


def test_an_order_only_reachable_late_is_left_to_ortools_and_served_late() -> None:
    """The van's shift starts at 09:00 and "soft-1" (30 min away) is booked
    09:00-09:05 with an hour's allowance: no engine could serve it in its slot,
    so the engines plan "plain" alone and OR-Tools serves "soft-1" 25 min late
    ("too-heavy" fits no vehicle: unplanned by the pre-checks)."""
    problem = _late_and_dropped()
    travel = build_travel(problem)
    matrices = {p: matrix_for(travel, p) for p in problem.profiles}
    allowed = precheck(problem, matrices).allowed
    assert set(allowed) == {"soft-1", "plain"}
    assert set(_on_time(problem, matrices, allowed)) == {"plain"}
    plan = solve(problem, travel, options=SolveOptions(time_limit_s=2, workers=1))
    assert check_plan(problem, plan, travel) == []
    assert [u.order_id for u in plan.unplanned] == ["too-heavy"]
    (route,) = plan.routes
    late = {v.order_id: v.late_s for v in route.visits if v.late_s}
    assert set(late) == {"soft-1"} and late["soft-1"] >= 25 * 60 - 1
    runs = {r.engine: r for r in plan.engines}
    assert runs["pyvrp"].outcome in ("warm_start", "ran", "plan")


@pytest.mark.parametrize("engines", [("pyvrp", "vroom"), ()])
def test_should_stop_ends_the_search_with_the_best_plan_so_far(
    engines: tuple[str, ...],
) -> None:
    """A cancel (``should_stop`` turning True after one second) ends a 60 s solve
    within seconds, with a checked plan and a stop reason saying so, whether
    the engines or OR-Tools alone are searching."""
    problem = load_problem(REPO / "scenarios" / "andorra_weekday.json")
    travel = build_travel(problem)
    t0 = time.perf_counter()
    plan = solve(
        problem,
        travel,
        options=SolveOptions(time_limit_s=60, engines=engines),
        should_stop=lambda: time.perf_counter() - t0 > 1.0,
    )
    wall_s = time.perf_counter() - t0
    assert wall_s < 10, wall_s
    assert plan.routes
    assert "stopped on request" in plan.stop_reason
    assert check_plan(problem, plan, travel) == []


def test_an_overbooked_day_runs_vroom_before_pyvrp_even_on_one_core() -> None:
    """Where the orders surely cannot all fit, the count served comes first: VROOM
    (which maximises it first) runs before PyVRP on one core, although PyVRP
    expresses the whole day; the plan is no worse in the full model than VROOM's
    routes (a required order left out costs 1e6: so it serves at least as many)."""
    problem = load_problem(REPO / "scenarios" / "andorra_overbooked.json")
    travel = build_travel(problem)
    plan = solve(problem, travel, options=SolveOptions(time_limit_s=4, workers=1))
    assert check_plan(problem, plan, travel) == []
    runs = {r.engine: r for r in plan.engines}
    assert runs["vroom"].outcome in ("ran", "warm_start"), runs["vroom"]
    assert runs["pyvrp"].outcome in ("ran", "warm_start"), runs["pyvrp"]
    assert runs["vroom"].started_s < runs["pyvrp"].started_s
    assert runs["vroom"].objective is not None
    # (the engines' objectives leave out the orders no vehicle can serve alone)
    left_out = precheck(problem, build_travel(problem)).unplanned
    penalty = sum(
        round(COST_SCALE * unplanned_penalty(problem, problem.order(oid)))
        for oid in left_out
    )
    assert plan.objective - penalty <= runs["vroom"].objective + 100 * COST_SCALE


def test_large_relaxed_days_leave_or_tools_seconds_not_a_share() -> None:
    """Above RELAXED_POLISH_MAX_ORDERS orders with PyVRP among the engines, a
    relaxed day's OR-Tools phase is RELAXED_FINAL_S, not a share of the limit
    (PyVRP still improves there, OR-Tools' moves barely do); smaller days, days
    without PyVRP and short limits keep the share. Either way the phase has
    RELAXED_FINAL_S_PER_ORDER per order, to build the model and read the
    routes (a 1,000-order day at 10 s had ended 0.44 s past its deadline)."""
    long = _warm_share(30.0, 500, exact=False, with_pyvrp=True)
    assert long * 30.0 == pytest.approx(30.0 - RELAXED_FINAL_S)
    assert _warm_share(30.0, 250, exact=False, with_pyvrp=True) == WARM_SHARE_RELAXED
    assert _warm_share(30.0, 500, exact=False, with_pyvrp=False) == WARM_SHARE_RELAXED
    assert _warm_share(10.0, 450, exact=False, with_pyvrp=True) == WARM_SHARE_RELAXED
    assert _warm_share(30.0, 500, exact=True, with_pyvrp=True) > long
    for budget, n in ((10.0, 1000), (30.0, 1000), (5.0, 500)):
        final_s = (1 - _warm_share(budget, n, exact=False, with_pyvrp=True)) * budget
        assert final_s == pytest.approx(RELAXED_FINAL_S_PER_ORDER * n)
    assert _warm_share(10.0, 5000, exact=False, with_pyvrp=True) == 0.5


def test_on_two_cores_pyvrps_first_seed_searches_to_the_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two cores, a relaxed 60-order day: PyVRP's first seed runs in a child
    until the search's deadline (not the warm phase's end), as PyVRP alone
    would; this process runs VROOM, PyVRP's next seed and the final phase.
    The plan is the best checked candidate and arrives within the limit."""
    from routing.solver import portfolio

    made: list[tuple[list[tuple[str, int]], float, bool]] = []

    class Recording(portfolio._Child):
        def __init__(self, jobs: list[tuple[str, int]], *args: Any, **kw: Any) -> None:
            made.append((list(jobs), kw["until"], kw.get("to_the_end", False)))
            super().__init__(jobs, *args, **kw)

    monkeypatch.setattr(portfolio, "_Child", Recording)
    problem = _generated_day(60, 5)
    travel = build_travel(problem)
    t0 = time.perf_counter()
    plan = solve(
        problem, travel, options=SolveOptions(time_limit_s=6, workers=2, seed=3)
    )
    assert check_plan(problem, plan, travel) == []
    assert [(jobs, end) for jobs, _, end in made] == [([("pyvrp", 3)], True)]
    warm_s = _warm_share(6.0, 60, exact=False, with_pyvrp=True) * 6.0
    assert made[0][1] - t0 > warm_s + 0.25  # past the warm phase
    assert plan.stats["total_s"] <= 6 + 1
    runs = {r.engine: r for r in plan.engines}
    assert runs["vroom"].outcome in ("warm_start", "ran", "plan")
    assert runs["pyvrp"].outcome in ("warm_start", "ran", "plan")


def test_the_run_to_the_end_does_not_hand_over_and_stands_for_pyvrp_when_cheaper(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No OR-Tools phase follows the run to the end, so its PyVRP is built
    without the hand-over; its result replaces PyVRP's entry in the plan's
    engine list only when its own cost beats the other PyVRP runs' (else the
    entry only says what it did)."""
    from routing.domain.plan import EngineRun
    from routing.solver import portfolio
    from routing.solver.engines.base import EngineResult

    built: list[dict[str, object]] = []

    class Fake:
        name = "pyvrp"

        def solve(self, *args: object, **kwargs: object) -> EngineResult:
            return EngineResult(
                engine="pyvrp",
                sequences={"V": ["o"]},
                status="time_limit",
                elapsed_s=0.1,
                cost=90.0,
            )

    def fake_engine(name: str, **settings: object) -> Fake:
        built.append(settings)
        return Fake()

    monkeypatch.setattr(portfolio, "get_engine", fake_engine)
    problem = load_problem(REPO / "scenarios" / "tutorial.json")
    args = (problem, {}, {})
    kwargs = {"until": time.perf_counter() + 1, "errors": {}, "t0": 0.0}
    [result] = portfolio._run_engines([("pyvrp", 1)], *args, to_the_end=True, **kwargs)  # type: ignore[arg-type]
    portfolio._run_engines([("pyvrp", 1)], *args, **kwargs)  # type: ignore[arg-type]
    assert built == [{"hand_over": False}, {}]

    started = EngineRun("pyvrp", "warm_start", objective=5)
    dearer = EngineResult(
        engine="pyvrp", sequences={"V": ["o"]}, status="", elapsed_s=0.1, cost=100.0
    )
    runs = {"pyvrp": started}
    portfolio._note_to_the_end(runs, result, [dearer])
    assert runs["pyvrp"].outcome == "ran"
    assert "to the end" in runs["pyvrp"].reason
    assert "another seed started the final search" in runs["pyvrp"].reason
    runs = {"pyvrp": started}
    portfolio._note_to_the_end(runs, dearer, [result])
    assert runs["pyvrp"] == replace(started, reason=runs["pyvrp"].reason)
    assert "first seed searched to the end" in runs["pyvrp"].reason
    assert "not the best" in runs["pyvrp"].reason


def test_the_hard_phase_ends_by_its_deadline_model_and_reading_included(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Building the all-hard model and reading routes into it and back count
    within the hard phase's deadline (a 1,000-order day: 1.2 s over the time
    limit when they came on top): each read here takes 0.3 s more."""
    import routing.solver.portfolio as portfolio

    problem = _generated_day(40, 2)
    travel = build_travel(problem)
    matrices = {p: matrix_for(travel, p) for p in problem.profiles}
    allowed = precheck(problem, matrices).allowed
    plan = solve(problem, travel, options=SolveOptions(time_limit_s=1, workers=1))
    search = portfolio.RoutingSearch(
        problem, matrices, allowed, options=SolveOptions(time_limit_s=1)
    )
    best = search.warm_start({r.vehicle_id: list(r.order_ids) for r in plan.routes})
    assert best is not None
    real = portfolio.RoutingSearch.warm_start

    def slow(self: object, *args: object, **kwargs: object) -> object:
        time.sleep(0.3)
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(portfolio.RoutingSearch, "warm_start", slow)
    t0 = time.perf_counter()
    routes, start = portfolio._hard_phase(
        problem,
        matrices,
        _on_time(problem, matrices, allowed),
        SolveOptions(time_limit_s=2),
        search,
        best,
        until=t0 + 1.5,
        patience_s=60.0,
        should_stop=None,
    )
    assert routes is not None
    assert start.objective <= best.objective
    assert time.perf_counter() - t0 <= 1.5 + 0.25


def _record_budgets(
    monkeypatch: pytest.MonkeyPatch,
    *,
    exact: bool = False,
    first_answer: dict[str, float] | None = None,
) -> dict[str, float]:
    """Engines that answer at once, without routes, recording the budget each is
    offered (returned, by engine name); ``first_answer``: their
    `Engine.first_answer_s` by name (default 0)."""
    from routing.solver import portfolio
    from routing.solver.engines.base import EngineResult, Support

    budgets: dict[str, float] = {}
    needs = first_answer if first_answer is not None else {}

    class Fake:
        def __init__(self, name: str) -> None:
            self.name = name

        def support(self, problem: object) -> Support:
            return Support(applies=True, objective_is_exact=exact)

        def first_answer_s(self, n_orders: int) -> float:
            return needs.get(self.name, 0.0)

        def solve(self, *args: object, **kwargs: object) -> EngineResult:
            budgets[self.name] = float(kwargs["time_limit_s"])  # type: ignore[arg-type]
            return EngineResult(
                engine=self.name, sequences={}, status="solved", elapsed_s=0.0
            )

    monkeypatch.setattr(portfolio, "get_engine", lambda name, **_: Fake(name))
    return budgets


@pytest.mark.parametrize(
    ("exact", "count_first"), [(True, False), (False, False), (False, True)]
)
def test_an_engine_pricing_as_the_model_may_take_the_core_it_shares(
    monkeypatch: pytest.MonkeyPatch, exact: bool, count_first: bool
) -> None:
    """Engines sharing a core: one whose objective is the full model's
    (``Support.objective_is_exact``) is offered all the time left (it stops
    when converged), another ``SHORT_ENGINE_SHARE`` of it; the last engine
    gets what is left. On a day that surely cannot serve every order
    (``count_first``), VROOM too is offered all of it."""
    from routing.solver import portfolio

    budgets = _record_budgets(monkeypatch, exact=exact)
    problem = load_problem(REPO / "scenarios" / "tutorial.json")
    until = time.perf_counter() + 10.0
    portfolio._run_engines(
        [("vroom", 1), ("pyvrp", 2)],
        problem,
        {},
        {},
        until=until,
        errors={},
        t0=0.0,
        count_first=count_first,
    )
    share = 1.0 if exact or count_first else portfolio.SHORT_ENGINE_SHARE
    assert budgets["vroom"] == pytest.approx(10.0 * share, abs=0.2)
    assert budgets["pyvrp"] == pytest.approx(10.0, abs=0.2)  # (Fake took no time)


def test_the_core_of_pyvrps_first_seed_improves_its_routes_with_or_tools() -> None:
    """`_polished`: OR-Tools' guided local search from an engine's routes, in the
    all-hard model on a soft day, returns routes no dearer there, which the
    checker accepts in the day as given."""
    from routing.solver import portfolio
    from routing.solver._ortools import RoutingSearch
    from routing.solver.engines.pyvrp_engine import PyVRPEngine

    problem = _generated_day(40, 5)
    travel = build_travel(problem)
    matrices = {p: matrix_for(travel, p) for p in problem.profiles}
    allowed = precheck(problem, matrices).allowed
    on_time = portfolio._on_time(problem, matrices, allowed)
    found = PyVRPEngine().solve(problem, matrices, on_time, time_limit_s=0.5)
    options = SolveOptions(time_limit_s=3)
    polish = portfolio._Polish(time.perf_counter(), options, patience_s=0.5)
    [better] = portfolio._polished(
        [found], problem, matrices, on_time, polish, time.perf_counter() + 2.0
    )
    assert better.status == "polished" and better.stats["polish_s"] > 0
    hard = RoutingSearch(with_hard_slots(problem), matrices, on_time, options=options)
    before, after = (
        hard.objective_of(found.sequences),
        hard.objective_of(better.sequences),
    )
    assert after is not None and (before is None or after <= before)
    plan = plan_from_routes(problem, matrices, better.sequences)
    assert check_plan(problem, plan, matrices) == []


def test_two_cores_polish_pyvrps_first_seed_on_a_relaxed_day() -> None:
    """Two cores, a relaxed 60-order day: the core of PyVRP's first seed hands
    its routes to OR-Tools at `POLISH_FROM_SHARE` of the limit and the plan's
    engine list says so; the plan is checked and arrives within the limit."""
    problem = _generated_day(60, 5)
    travel = build_travel(problem)
    plan = solve(problem, travel, options=SolveOptions(time_limit_s=6, workers=2))
    assert check_plan(problem, plan, travel) == []
    assert plan.stats["total_s"] <= 6 + 1
    runs = {r.engine: r for r in plan.engines}
    assert "improved" in runs["pyvrp"].reason and "OR-Tools" in runs["pyvrp"].reason


def test_two_cores_leave_pyvrp_to_the_end_on_a_day_that_cannot_all_be_served() -> None:
    """Two cores, a relaxed 120-order day with one van of three (more work than
    the fleet can do): PyVRP's first seed is not handed to OR-Tools at
    `POLISH_FROM_SHARE` (its own search inserts more orders: tight-fleet days
    @20 s, 18 paired runs, 10 with 1-7 more served, 7 equal, 1 with one
    fewer); its routes so far start the final search here instead, and the
    plan is checked."""
    day = _generated_day(120, 5)
    vans = [v.id for v in day.vehicles if v.kind == "van"]
    problem = replace(
        day, vehicles=tuple(v for v in day.vehicles if v.id not in vans[1:])
    )
    travel = build_travel(problem)
    plan = solve(problem, travel, options=SolveOptions(time_limit_s=6, workers=2))
    assert check_plan(problem, plan, travel) == []
    assert plan.unplanned  # (the day cannot all be served)
    run = {r.engine: r for r in plan.engines}["pyvrp"]
    assert run.relaxations  # (a relaxed day: the polish would have applied)
    assert "improved" not in run.reason  # (both texts of a polished run say so)
    assert "OR-Tools' final search" in run.reason, run.reason


def test_a_run_to_the_end_hands_on_its_routes_when_asked_and_searches_on() -> None:
    """A child running PyVRP's first seed to the end with ``snapshot``: asked
    mid-run, it writes its best routes so far (checked feasible once timed)
    and goes on; its routes at the end cost no more. A child started without
    ``snapshot`` is not asked. (80 orders: a 60-order day's search converges,
    and its run ends, within 2 s; PyVRP finds the 100- and 150-order days
    feasible only later.)"""
    from routing.solver import portfolio

    problem = _generated_day(80, 5)
    travel = build_travel(problem)
    matrices = {p: matrix_for(travel, p) for p in problem.profiles}
    on_time = portfolio._on_time(problem, matrices, precheck(problem, matrices).allowed)
    t0 = time.perf_counter()
    job = (problem, matrices, dict(on_time))
    child = portfolio._Child(
        [("pyvrp", 1)], job, until=t0 + 4.0, t0=t0, to_the_end=True, snapshot=True
    )
    time.sleep(2.0)
    asked = time.perf_counter()
    snapshot = child.snapshot()
    runs: dict[str, Any] = {}
    [final] = child.collect(errors=runs)
    assert runs == {}
    assert snapshot is not None and snapshot.status == "snapshot"
    assert time.perf_counter() - asked > 1.0  # (it searched on after)
    assert 1.5 < snapshot.stats["snapshot_s"] < 2.0 + portfolio.SNAPSHOT_WAIT_S
    served = [oid for seq in snapshot.sequences.values() for oid in seq]
    assert served and len(served) == len(set(served)) and set(served) <= set(on_time)
    plan = plan_from_routes(problem, matrices, snapshot.sequences)
    assert check_plan(problem, plan, matrices) == []
    assert final.cost is not None and snapshot.cost is not None
    assert final.cost <= snapshot.cost

    quiet = portfolio._Child(
        [("pyvrp", 1)], job, until=time.perf_counter() + 1.0, t0=t0, to_the_end=True
    )
    assert quiet.snapshot() is None
    quiet.stop()
    quiet.collect(errors={})


def test_the_engine_list_says_when_the_run_to_the_end_started_the_final_search() -> (
    None
):
    """`_note_to_the_end` with ``from_snapshot``: the entry of PyVRP says that
    its first seed's routes (at the snapshot's time) started OR-Tools' final
    search on the other core, whether or not that run found better after."""
    from routing.domain.plan import EngineRun
    from routing.solver import portfolio
    from routing.solver.engines.base import EngineResult

    def result(status: str, cost: float) -> EngineResult:
        stats = {"snapshot_s": 26.7} if status == "snapshot" else {}
        return EngineResult(
            engine="pyvrp",
            sequences={"V": ["o"]},
            status=status,
            elapsed_s=1.0,
            cost=cost,
            stats=stats,
        )

    snap, started = result("snapshot", 100.0), EngineRun("pyvrp", "warm_start")
    for final, outcome in ((result("time_limit", 90.0), "ran"), (snap, "warm_start")):
        runs = {"pyvrp": started}
        portfolio._note_to_the_end(runs, final, [snap], from_snapshot=True)
        assert runs["pyvrp"].outcome == outcome
        assert "at 26.7 s started OR-Tools' final search" in runs["pyvrp"].reason
        assert "another seed" not in runs["pyvrp"].reason


@pytest.mark.parametrize(
    ("status", "search_s", "limit_s", "timed_out"),
    [
        ("time_limit", 10.0, 10.0, True),
        ("local_optimum_not_reached", 10.0, 10.0, True),
        ("success", 9.5, 10.0, True),  # (searched until the limit)
        ("success", 2.0, 10.0, False),  # (no move improved the plan)
        # a short final search (2,000 orders at 20 s: 1.0 of 1.4 s, no
        # solution better than its start)
        ("fail", 1.02, 1.42, True),
        ("success", 0.97, 1.1, True),
        ("converged", 3.0, 10.0, False),
        ("stopped", 1.0, 10.0, False),
        ("warm_start", 0.0, 10.0, False),
    ],
)
def test_timed_out_only_where_the_search_reached_its_time_limit(
    status: str, search_s: float, limit_s: float, timed_out: bool
) -> None:
    """`solve` tells orders left out at the time limit that a longer one may
    plan them (`_dropped_reason`); it reads that from the portfolio's flag."""
    raw = RawSolution({}, [], status, 0, True, {"search_s": search_s})
    result = PortfolioResult(raw, (), _stop_reason(raw, limit_s))
    assert result.timed_out is timed_out


def test_an_engine_that_cannot_answer_in_a_short_share_gets_what_it_needs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """VROOM's constructions cannot be cut short (`Engine.first_answer_s`):
    sharing a core, it is offered `FIRST_ANSWER_MARGIN` times them when its
    short share is less, up to all the time left, rather than being skipped;
    the engine after it gets the rest."""
    from routing.solver import portfolio

    first_answer = {"vroom": 4.0, "pyvrp": 0.0}
    budgets = _record_budgets(monkeypatch, first_answer=first_answer)
    problem = load_problem(REPO / "scenarios" / "tutorial.json")
    for needs, offered in ((4.0, 6.0), (8.0, 10.0), (0.5, 2.5)):
        first_answer["vroom"] = needs
        portfolio._run_engines(
            [("vroom", 1), ("pyvrp", 2)],
            problem,
            {},
            {},
            until=time.perf_counter() + 10.0,
            errors={},
            t0=0.0,
        )
        assert portfolio.SHORT_ENGINE_SHARE * 10.0 == 2.5
        assert budgets["vroom"] == pytest.approx(offered, abs=0.2), needs
        assert budgets["pyvrp"] == pytest.approx(10.0, abs=0.2)


def test_vroom_says_how_long_its_constructions_take() -> None:
    """VROOM's first answer is its construction heuristics' time, which grows
    with the square of the orders and shrinks with its threads; PyVRP answers
    within any budget."""
    pytest.importorskip("vroom")
    pytest.importorskip("pyvrp")
    from routing.solver.engines.pyvrp_engine import PyVRPEngine
    from routing.solver.engines.vroom_engine import VroomEngine

    one, four = VroomEngine(nb_threads=1), VroomEngine(nb_threads=4)
    assert one.first_answer_s(2000) == pytest.approx(4 * one.first_answer_s(1000))
    assert four.first_answer_s(2000) == pytest.approx(one.first_answer_s(2000) / 4)
    assert 5.0 < one.first_answer_s(2000) < 20.0  # (measured 9.4 s)
    assert PyVRPEngine().first_answer_s(2000) == 0.0


@pytest.mark.parametrize(
    ("chain", "count_first"), [(True, False), (False, False), (True, True)]
)
def test_a_chained_pyvrp_starts_from_the_routes_of_the_engine_before_it(
    monkeypatch: pytest.MonkeyPatch, chain: bool, count_first: bool
) -> None:
    """``chain`` (`CHAIN_PYVRP`): PyVRP, after VROOM on one core, is given
    VROOM's routes as its start, and VROOM, though its objective is exact,
    gets only `SHORT_ENGINE_SHARE` of the time (`COUNT_FIRST_CHAIN_SHARE` on
    a day that surely cannot serve every order); without it PyVRP starts on
    its own and VROOM may take all the time."""
    from routing.solver import portfolio
    from routing.solver.engines.base import EngineResult, Support

    seen: dict[str, tuple[float, object]] = {}
    vroom_routes = {"V1": ["o1", "o2"]}

    class Fake:
        def __init__(self, name: str, **settings: object) -> None:
            self.name, self.start = name, settings.get("start")

        def support(self, problem: object) -> Support:
            return Support(applies=True, objective_is_exact=self.name == "vroom")

        def first_answer_s(self, n_orders: int) -> float:
            return 0.0

        def solve(self, *args: object, **kwargs: object) -> EngineResult:
            seen[self.name] = (float(kwargs["time_limit_s"]), self.start)  # type: ignore[arg-type]
            routes = vroom_routes if self.name == "vroom" else {}
            return EngineResult(
                engine=self.name, sequences=routes, status="solved", elapsed_s=0.0
            )

    monkeypatch.setattr(portfolio, "get_engine", Fake)
    problem = load_problem(REPO / "scenarios" / "tutorial.json")
    results = portfolio._run_engines(
        [("vroom", 1), ("pyvrp", 2)],
        problem,
        {},
        {},
        until=time.perf_counter() + 10.0,
        errors={},
        t0=0.0,
        chain=chain,
        count_first=count_first,
    )
    vroom_share = (
        portfolio.COUNT_FIRST_CHAIN_SHARE
        if count_first
        else portfolio.SHORT_ENGINE_SHARE
        if chain
        else 1.0
    )
    assert seen["vroom"][0] == pytest.approx(10.0 * vroom_share, abs=0.2)
    assert seen["vroom"][1] is None
    assert seen["pyvrp"][0] == pytest.approx(10.0, abs=0.2)
    assert seen["pyvrp"][1] == (vroom_routes if chain else None)
    flags = {r.engine: r.stats.get("from_routes_before", 0.0) for r in results}
    assert flags == {"vroom": 0.0, "pyvrp": 1.0 if chain else 0.0}


def test_pyvrp_is_chained_only_where_the_engine_before_prices_as_we_do() -> None:
    """`_chains`: with VROOM's objective exact (distance and fixed costs), yes;
    where it is not, no, unless VROOM counts first (a day that surely cannot
    serve every order); with no engine before PyVRP, never."""
    from routing.solver import portfolio
    from routing.solver.engines.base import Support

    exact = {"vroom": Support(True, objective_is_exact=True), "pyvrp": Support(True)}
    priced = {"vroom": Support(True), "pyvrp": Support(True)}
    assert portfolio._chains(exact)
    assert not portfolio._chains(priced)
    assert not portfolio._chains({"pyvrp": Support(True)})
    assert not portfolio._chains({"vroom": exact["vroom"]})
    assert portfolio._chains(priced, overbooked=True)
    assert not portfolio._chains({"pyvrp": Support(True)}, overbooked=True)


@pytest.mark.parametrize("workers", [1, 2])
def test_an_overbooked_day_chains_pyvrp_after_vroom_whatever_the_pricing(
    monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """On a day that surely cannot serve every order, priced by the hour (VROOM's
    objective not ours), VROOM runs first and PyVRP then starts from its routes
    (`CHAIN_PYVRP`): on one core, and on the core beside PyVRP's run to the end,
    where VROOM counts first (`COUNT_FIRST_VROOM`); the plan passes the
    checker."""
    pytest.importorskip("vroom")
    pytest.importorskip("pyvrp")
    from routing.solver import portfolio
    from routing.solver.engines.vroom_engine import VroomEngine

    problem = load_problem(REPO / "scenarios" / "andorra_overbooked.json")
    assert not VroomEngine().support(problem).objective_is_exact
    seen: dict[str, Any] = {}
    real = portfolio._run_engines

    def spy(jobs: Any, *args: Any, **kwargs: Any) -> Any:
        seen.update(kwargs, jobs=[name for name, _ in jobs])
        return real(jobs, *args, **kwargs)

    monkeypatch.setattr(portfolio, "_run_engines", spy)
    travel = build_travel(problem)
    # (two searches side by side from PORTFOLIO_MIN_S, 5 s)
    limit = 5.0 if workers > 1 else 2.0
    options = SolveOptions(time_limit_s=limit, workers=workers, seed=1)
    plan = solve(problem, travel, options=options)
    assert seen["jobs"] == ["vroom", "pyvrp"]
    assert seen["chain"]
    assert seen["count_first"] == (workers > 1)
    assert not check_plan(problem, plan, travel)


def test_a_child_started_ahead_waits_for_its_job_and_is_ended_unused() -> None:
    """`_Spawned`: the child started before its job is known is alive and
    waiting (it does not run or exit on its own); discarded unused, it ends
    and its folder is gone."""
    from routing.solver.portfolio import _Spawned

    spawned = _Spawned()
    try:
        assert spawned.dir.is_dir()
        assert spawned.proc.poll() is None  # waiting for its job file
    finally:
        spawned.discard()
    assert spawned.proc.poll() is not None
    assert not spawned.dir.exists()
