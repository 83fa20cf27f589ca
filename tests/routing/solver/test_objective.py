"""The plan's cost is the solver's objective: the plan is timed at the cheapest
timing of its sequences under the full objective (``routing.domain.timing``),
and the solver reports the objective of the routes it returns.

The plan's objective is recomputed here independently, in the solver's integer
units, with the model's own rounding (each arc's cost rounded, per-second rates
rounded), so that the comparison can be exact up to a few units per route.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from routing.check import check_plan
from routing.domain.model import Problem
from routing.domain.plan import Plan
from routing.domain.timing import plan_objective, unplanned_penalty
from routing.domain.units import COST_SCALE
from routing.formats import load_problem
from routing.geo import TravelMatrix
from routing.geo.matrix import matrix_for
from routing.geo.providers import build_travel
from routing.solver import SolveOptions, solve

ROOT = Path(__file__).resolve().parents[3]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.json"))
INSTANCES = Path(
    os.environ.get("ROUTING_INSTANCES", ROOT.parent / "shared" / "instances")
)

UNITS_PER_ROUTE = 3
"""Rounding slack per route: OR-Tools' scheduling LP works in whole seconds and
whole units, the plan in the same seconds; a route's terms (span, lateness,
fixed cost) may each differ by one unit of rounding."""


def _model_units(problem: Problem, plan: Plan, travel: object) -> int:
    """The plan's objective in solver units, priced term by term as the OR-Tools
    model prices it (``routing/solver/_ortools.py``)."""
    w = problem.objective
    total = 0
    for route in plan.routes:
        v = problem.vehicle(route.vehicle_id)
        matrix = matrix_for(travel, v.profile)  # type: ignore[arg-type]
        rate = v.cost_per_km * w.distance
        if rate == 0 and v.cost_per_hour * w.duration == 0:
            rate = 1000.0 / COST_SCALE
        rows = [problem.depot_index(v.start_depot)] + [
            problem.order_index(o) for o in route.order_ids
        ]
        if v.end_depot is not None:
            rows.append(problem.depot_index(v.end_depot))
        arcs = np.array(
            [int(matrix.distances_m[a, b]) for a, b in itertools.pairwise(rows)]
        )
        total += int(np.rint(arcs * (rate * COST_SCALE / 1000.0)).sum())
        total += round(v.fixed_cost * w.fixed_cost * COST_SCALE)
        if v.cost_per_hour * w.duration:
            total += round(v.cost_per_hour * w.duration * COST_SCALE / 3600.0) * (
                route.end_s - route.start_s
            )
        for visit in route.visits:
            policy = problem.policy(problem.order(visit.order_id))
            total += (
                round(policy.lateness_cost_per_hour * w.lateness * COST_SCALE / 3600.0)
                * visit.late_s
            )
    total += sum(
        round(unplanned_penalty(problem, problem.order(u.order_id)) * COST_SCALE)
        for u in plan.unplanned
    )
    return total


def _assert_cost_is_objective(problem: Problem, plan: Plan, travel: object) -> None:
    assert check_plan(problem, plan, travel) == []  # type: ignore[arg-type]
    assert plan.stats.get("objective_of_plan") == 1.0, "objective of the plan's routes"
    assert plan.stats.get("objective_from_timing") == 0.0, "priced by the model"
    slack = UNITS_PER_ROUTE * max(1, len(plan.routes))
    assert abs(_model_units(problem, plan, travel) - plan.objective) <= slack
    # In money: the plan's objective (routes + penalties) is the solver's.
    assert plan_objective(problem, plan) == pytest.approx(
        plan.objective / COST_SCALE, abs=1e-3 + len(plan.routes) * 0.2
    )


@cache
def _solved(path: Path) -> tuple[Problem, Mapping[str, TravelMatrix], Plan]:
    problem = load_problem(path)
    travel = build_travel(problem)
    return problem, travel, solve(problem, travel, options=SolveOptions(time_limit_s=2))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_plan_cost_is_the_solver_objective_on_every_scenario(path: Path) -> None:
    """Every example day: the returned plan, priced as the model prices it, is
    the objective the solver reports for it."""
    problem, travel, plan = _solved(path)
    _assert_cost_is_objective(problem, plan, travel)


BENCHMARKS = [
    "solomon/C101.vrp",
    "solomon/RC201.vrp",
    pytest.param("solomon/R202.vrp", marks=pytest.mark.slow),
    pytest.param("mdvrptw/PR11A.vrp", marks=pytest.mark.slow),
    pytest.param("li_lim/instances/lc101.txt", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("name", BENCHMARKS)
def test_plan_cost_is_the_solver_objective_on_benchmark_instances(name: str) -> None:
    """Benchmark families (one or two windows, multi-depot, pickup and delivery):
    the plan's cost is the solver's objective."""
    pytest.importorskip("vrplib", reason="vrplib (dev extra) is not installed")
    from routing.formats.vrplib import read_instance

    path = INSTANCES / name
    if not path.exists():
        pytest.skip(f"benchmark instance {path} not found (set ROUTING_INSTANCES)")
    instance = read_instance(path)
    plan = solve(
        instance.problem, instance.travel, options=SolveOptions(time_limit_s=2)
    )
    _assert_cost_is_objective(instance.problem, plan, instance.travel)


def test_two_slot_pickup_is_timed_in_the_slot_the_solver_chose() -> None:
    """A pair whose pickup has slots 10-12 and 17-19 and whose delivery is due
    17-19: the plan serves the pickup in its second slot (no day-long wait),
    and its cost is the solver's objective."""
    from routing.domain.model import Depot, Order, Pair, Point, TimeWindow, Vehicle
    from routing.geo import Euclidean

    def slot(a: int, b: int) -> TimeWindow:
        return TimeWindow(a * 3600, b * 3600)

    problem = Problem(
        depots=(Depot(id="D", location=Point(0, 0)),),
        vehicles=(
            Vehicle(
                id="V",
                start_depot="D",
                end_depot="D",
                capacity=(10,),
                shift=slot(8, 20),
                cost_per_km=1.0,
                cost_per_hour=24.0,
            ),
        ),
        orders=(
            Order(
                id="P",
                location=Point(600, 0),
                delivery=(0,),
                pickup=(1,),
                service_s=300,
                windows=(slot(10, 12), slot(17, 19)),
            ),
            Order(
                id="Q",
                location=Point(1200, 0),
                delivery=(1,),
                pickup=(0,),
                service_s=300,
                windows=(slot(17, 19),),
            ),
        ),
        pairs=(Pair(id="PQ", pickup="P", delivery="Q"),),
    )
    travel = Euclidean(scale=1, truncate=False).build(problem.locations, profile="van")
    plan = solve(problem, travel, options=SolveOptions(time_limit_s=1))
    assert not plan.unplanned
    (route,) = plan.routes
    pickup = route.visits[0]
    assert pickup.order_id == "P"
    assert 17 * 3600 <= pickup.start_s <= 19 * 3600
    assert route.wait_s == 0
    _assert_cost_is_objective(problem, plan, travel)


def test_plan_cost_is_the_solver_objective_on_the_all_hard_delivery_day() -> None:
    """The delivery day with every slot hard (breaks, pairs, ride limits, no
    lateness to trade): the departure is delayed as far as the waiting allows
    even where the largest delay would move a break (a van waited 39 min at its
    third stop, 15.5 above the objective)."""
    from routing.domain.model import with_hard_slots

    problem = with_hard_slots(
        load_problem(ROOT / "scenarios" / "andorra_delivery_day.json")
    )
    travel = build_travel(problem)
    plan = solve(problem, travel, options=SolveOptions(time_limit_s=3))
    _assert_cost_is_objective(problem, plan, travel)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_routes_priced_by_their_timing_when_no_model_fits_in_time(path: Path) -> None:
    """Past the time limit `solve` prices the returned routes on their timing
    instead of reading them into a model of their own (a 2,000-order day spent
    4 s there): the same objective, up to the model's rounding, and with the
    pre-check's and the search's unplanned orders."""
    from routing.solver._ortools import RawSolution
    from routing.solver.portfolio import _evaluator
    from routing.solver.precheck import precheck
    from routing.solver.solve import _objective_of_routes

    problem, travel, plan = _solved(path)
    matrices = {p: matrix_for(travel, p) for p in problem.profiles}
    pre = precheck(problem, matrices)
    objective_of = _evaluator(problem, matrices, pre.allowed, SolveOptions())
    served = {oid for r in plan.routes for oid in r.order_ids}
    dropped = [oid for oid in pre.allowed if oid not in served]
    other = RawSolution({}, [], "time_limit", 0, True, {"model_s": 0.1})
    priced = {
        how: _objective_of_routes(
            problem,
            plan.routes,
            dropped,
            raw=other,
            objective_of=objective_of,
            model_by=by,
        )
        for how, by in (("model", float("inf")), ("timing", float("-inf")))
    }
    assert [how for _, how in priced.values()] == ["model", "timing"]
    # (in money, as `_assert_cost_is_objective` compares `plan_objective`)
    slack = COST_SCALE * (1e-3 + 0.2 * len(plan.routes))
    assert abs(priced["model"][0] - priced["timing"][0]) <= slack
    penalties = sum(
        round(unplanned_penalty(problem, problem.order(oid)) * COST_SCALE)
        for oid in pre.unplanned
    )
    assert abs(priced["timing"][0] + penalties - plan.objective) <= slack
    assert abs(priced["model"][0] + penalties - plan.objective) <= (
        UNITS_PER_ROUTE * max(1, len(plan.routes))
    )
