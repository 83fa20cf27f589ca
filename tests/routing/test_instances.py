"""Tests of the benchmark readers: BKS routes rebuilt in our model are valid and
cost exactly the BKS, and every number is scaled as the conventions say."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest

from routing.check import check_plan
from routing.instances import (
    DIMACS,
    EXACT,
    BenchmarkInstance,
    read_bks,
    read_routes,
    read_vrplib,
)
from routing.model import TimeWindow
from routing.plan import Plan, PlanStatus, summarize
from routing.solver import SolveOptions, solve
from routing.solver.schedule import build_routes

pytest.importorskip("vrplib", reason="vrplib (dev extra) is not installed")

REPO_ROOT = Path(__file__).resolve().parents[2]
INSTANCES = Path(
    os.environ.get("ROUTING_INSTANCES", REPO_ROOT.parent / "shared" / "instances")
)


@pytest.fixture(scope="module")
def instances_dir() -> Path:
    """The shared instances folder ($ROUTING_INSTANCES); skips when it is absent."""
    if not (INSTANCES / "solomon").is_dir():
        pytest.skip(
            f"benchmark instances not found at {INSTANCES} (set ROUTING_INSTANCES)"
        )
    return INSTANCES


def _bks_plan(instance: BenchmarkInstance, sol_path: Path) -> Plan:
    """The ``.sol`` routes as our Plan: route #k on vehicle ``v{k}``."""
    sequences = {
        f"v{k + 1}": [str(node) for node in route]
        for k, route in enumerate(read_routes(sol_path))
        if route
    }
    matrices = {p: instance.travel for p in instance.problem.profiles}
    routes = build_routes(instance.problem, matrices, sequences)
    return Plan(
        status=PlanStatus.SOLVED,
        routes=routes,
        unplanned=(),
        totals=summarize(routes, 0),
        solver_status="bks",
    )


@pytest.mark.parametrize(
    "name", ["solomon/C101", "solomon/R101", "solomon/RC208", "mdvrptw/PR11A"]
)
def test_bks_routes_are_valid_and_cost_the_bks(instances_dir: Path, name: str) -> None:
    """The published best routes pass the checker and cost the BKS within 0.1."""
    instance = read_vrplib(instances_dir / f"{name}.vrp")
    plan = _bks_plan(instance, instances_dir / f"{name}.sol")
    assert check_plan(instance.problem, plan, instance.travel) == []
    assert plan.totals.orders_planned == len(instance.problem.orders)
    assert instance.bks is not None
    assert abs(instance.cost(plan) - instance.bks) <= 0.1


def test_solomon_is_scaled_by_ten_with_truncated_distances(
    instances_dir: Path,
) -> None:
    """C101 times are x10 and its matrix is floor(10 d), durations equal to it."""
    instance = read_vrplib(instances_dir / "solomon" / "C101.vrp")
    problem = instance.problem
    assert instance.convention is DIMACS
    assert len(problem.depots) == 1 and len(problem.orders) == 100
    assert len(problem.vehicles) == 25
    assert {v.capacity for v in problem.vehicles} == {(200,)}
    assert all(
        v.cost_per_km == 1.0 and v.fixed_cost == 0 and v.cost_per_hour == 0
        for v in problem.vehicles
    )
    assert problem.depots[0].opening == TimeWindow(0, 12360)
    first = problem.order("1")  # VRPLIB node 2: (45, 68), window [912, 967]
    assert first.service_s == 900
    assert first.windows == (TimeWindow(9120, 9670),)
    assert first.delivery == (10,)
    # depot (40, 50) to (45, 68): d = 18.68..., floor(186.8) = 186
    assert instance.travel.distances_m[0, problem.order_index("1")] == 186
    assert np.array_equal(instance.travel.distances_m, instance.travel.durations_s)
    assert instance.bks == pytest.approx(827.3)


def test_multi_depot_vehicles_depots_and_durations(instances_dir: Path) -> None:
    """PR11A vehicles start and end at their section's depot, with scaled limits."""
    instance = read_vrplib(instances_dir / "mdvrptw" / "PR11A.vrp")
    problem = instance.problem
    assert instance.convention is EXACT
    assert [d.id for d in problem.depots] == ["D0", "D1", "D2", "D3"]
    assert len(problem.vehicles) == 40 and len(problem.orders) == 360
    assert problem.vehicle("v1").start_depot == "D0"
    assert problem.vehicle("v40").start_depot == "D3"
    assert all(v.end_depot == v.start_depot for v in problem.vehicles)
    assert {v.max_duration_s for v in problem.vehicles} == {450 * EXACT.time_scale}
    a, b = problem.locations[0], problem.locations[1]
    d = math.hypot(a.x - b.x, a.y - b.y)  # type: ignore[union-attr]
    assert instance.travel.distances_m[0, 1] == round(1000 * d)
    assert instance.bks == pytest.approx(6655.548)


def test_read_bks_reads_both_cost_line_styles(tmp_path: Path) -> None:
    """``Cost 827.3`` is read as is and ``Cost: 6655548`` as thousandths (EXACT)."""
    plain = tmp_path / "a.sol"
    plain.write_text("Route #1: 1 2\nCost 827.3\n")
    exact = tmp_path / "b.sol"
    exact.write_text("Route #1: 4 5\nRoute #2:\nCost: 6655548\n")
    assert read_bks(plain) == pytest.approx(827.3)
    assert read_bks(exact, convention=EXACT) == pytest.approx(6655.548)
    assert read_routes(exact) == [[4, 5], []]


def test_solver_objective_converts_to_the_plan_cost(instances_dir: Path) -> None:
    """Our solver's objective on C101, converted, equals the plan's distance cost."""
    instance = read_vrplib(instances_dir / "solomon" / "C101.vrp")
    plan = solve(
        instance.problem,
        instance.travel,
        options=SolveOptions(time_limit_s=5, is_deterministic=True),
    )
    assert check_plan(instance.problem, plan, instance.travel) == []
    assert plan.status is PlanStatus.SOLVED
    assert instance.cost_of_objective(plan.objective) == pytest.approx(
        instance.cost(plan)
    )
    gap = instance.gap(instance.cost(plan))
    assert gap is not None and gap >= 0
