"""Tests of the benchmark readers: BKS routes rebuilt in our model are valid and
cost exactly the BKS, and every number is scaled as the conventions say."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest

from routing.check import check_plan
from routing.domain.errors import InvalidProblemError
from routing.domain.model import Pair, TimeWindow
from routing.domain.plan import Plan, PlanStatus, summarize
from routing.domain.timing import build_routes
from routing.formats.vrplib import (
    DIMACS,
    EXACT,
    LI_LIM,
    BenchmarkInstance,
    instance_files,
    is_li_lim,
    read_bks,
    read_instance,
    read_li_lim,
    read_li_lim_routes,
    read_routes,
    read_vrplib,
)
from routing.solver import SolveOptions, solve

pytest.importorskip("vrplib", reason="vrplib (dev extra) is not installed")

REPO_ROOT = Path(__file__).resolve().parents[3]
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


@pytest.fixture(scope="module")
def li_lim_dir() -> Path:
    """The Li & Lim folder of the shared instances; skips when it is absent."""
    folder = INSTANCES / "li_lim"
    if not (folder / "instances").is_dir():
        pytest.skip(f"Li & Lim instances not found at {folder} (set ROUTING_INSTANCES)")
    return folder


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


# --- Li & Lim PDPTW -------------------------------------------------------------


def _li_lim_bks_plan(instance: BenchmarkInstance, folder: Path) -> Plan:
    """The SINTEF best-known routes as our Plan: route k on vehicle ``v{k}``."""
    sol = folder / "bks_routes" / f"{instance.name}.sol.txt"
    sequences = {
        f"v{k + 1}": [str(node) for node in route]
        for k, route in enumerate(read_li_lim_routes(sol))
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


def test_li_lim_reader_builds_pairs_fleet_and_bks(li_lim_dir: Path) -> None:
    """lc101 has 106 orders in 53 pairs, 25 vehicles of 200, times x100,
    distances round(1000 d), and the BKS 10 vehicles / 828.9369."""
    instance = read_li_lim(li_lim_dir / "instances" / "lc101.txt")
    problem = instance.problem
    assert instance.convention is LI_LIM
    assert len(problem.orders) == 106 and len(problem.pairs) == 53
    assert len(problem.vehicles) == 25
    assert {v.capacity for v in problem.vehicles} == {(200,)}
    assert {v.shift for v in problem.vehicles} == {TimeWindow(0, 123600)}
    # node 3: (42, 66), demand 10, window [65, 146], service 90, delivery node 75
    assert problem.pair_of("3") == Pair(id="3-75", pickup="3", delivery="75")
    pickup, delivery = problem.order("3"), problem.order("75")
    assert pickup.pickup == (10,) and pickup.delivery == (0,)
    assert delivery.delivery == (10,) and delivery.pickup == (0,)
    assert pickup.windows == (TimeWindow(6500, 14600),)
    assert pickup.service_s == 9000
    assert problem.start_load(["3", "75"]) == (0,)
    # depot (40, 50) to node 1 (45, 68): d = 18.6815..., kept to thousandths
    assert instance.travel.distances_m[0, problem.order_index("1")] == 18682
    assert instance.travel.durations_s[0, problem.order_index("1")] == 1868
    assert instance.bks == pytest.approx(828.9369)
    assert instance.bks_vehicles == 10
    assert instance.is_hierarchical
    assert problem.objective.duration == 0


def test_li_lim_vehicle_cost_exceeds_any_total_distance(li_lim_dir: Path) -> None:
    """The fixed cost per vehicle is above the distance of any plan (every node
    left by its longest arc), so the objective ranks vehicles first."""
    instance = read_li_lim(li_lim_dir / "instances" / "lc201.txt")
    d = instance.travel.distances_m / LI_LIM.distance_scale
    bound = len(instance.problem.vehicles) * d[0].max() + d[1:].max(axis=1).sum()
    assert instance.vehicle_cost > bound
    assert {v.fixed_cost for v in instance.problem.vehicles} == {instance.vehicle_cost}
    assert {v.cost_per_km for v in instance.problem.vehicles} == {1.0}


def test_li_lim_cost_of_objective_removes_the_vehicle_costs(li_lim_dir: Path) -> None:
    """An objective of 10 vehicles plus 828.937 distance converts to 828.937."""
    from routing.domain.units import COST_SCALE

    instance = read_li_lim(li_lim_dir / "instances" / "lc101.txt")
    objective = 10 * round(instance.vehicle_cost * COST_SCALE) + 828_937 * 100
    assert instance.cost_of_objective(objective) == pytest.approx(828.937)


@pytest.mark.parametrize("name", ["lc101", "lr106", "lrc102", "lrc208", "lc201"])
def test_li_lim_bks_routes_keep_windows_capacity_and_cost(
    li_lim_dir: Path, name: str
) -> None:
    """The SINTEF best routes, timed on our integer matrix, keep every window,
    the capacity and pickup-before-delivery, and cost the BKS within 0.01.

    lrc102 and lrc208 have a BKS stop with no slack at all, lr106 one of 0.04:
    the time rounding must not break them."""
    instance = read_li_lim(li_lim_dir / "instances" / f"{name}.txt")
    problem = instance.problem
    plan = _li_lim_bks_plan(instance, li_lim_dir)
    assert len(plan.routes) == instance.bks_vehicles
    assert instance.bks is not None
    assert abs(instance.cost(plan) - instance.bks) <= 0.01
    served = [v.order_id for r in plan.routes for v in r.visits]
    assert sorted(served) == sorted(o.id for o in problem.orders)
    capacity = problem.vehicles[0].capacity[0]
    for route in plan.routes:
        assert route.start_load == (0,)
        assert route.end_s <= problem.depots[0].opening.end_s
        position = {v.order_id: k for k, v in enumerate(route.visits)}
        for visit in route.visits:
            (window,) = problem.order(visit.order_id).windows
            assert window.contains(visit.start_s)
            assert 0 <= visit.load[0] <= capacity
            pair = problem.pair_of(visit.order_id)
            assert pair is not None
            assert position[pair.pickup] < position[pair.delivery]


def test_li_lim_bks_routes_pass_the_checker(li_lim_dir: Path) -> None:
    """All 56 SINTEF best routes pass ``routing.check`` with no violation."""
    failures = {}
    for path in sorted((li_lim_dir / "instances").glob("*.txt")):
        instance = read_li_lim(path)
        plan = _li_lim_bks_plan(instance, li_lim_dir)
        violations = check_plan(instance.problem, plan, instance.travel)
        if violations:
            failures[instance.name] = str(violations[0])
    assert failures == {}


def test_read_instance_picks_the_reader_by_format(
    instances_dir: Path, li_lim_dir: Path
) -> None:
    """A SINTEF file goes to the Li & Lim reader, a VRPLIB file to vrplib, and
    each lists the BKS file a remote worker needs."""
    lc101 = li_lim_dir / "instances" / "lc101.txt"
    c101 = instances_dir / "solomon" / "C101.vrp"
    assert is_li_lim(lc101) and not is_li_lim(c101)
    assert read_instance(lc101).convention is LI_LIM
    assert read_instance(c101).convention is DIMACS
    assert instance_files(lc101) == [lc101, li_lim_dir / "bks.csv"]
    assert instance_files(c101) == [c101, c101.with_suffix(".sol")]


def test_li_lim_reader_finds_bks_beside_the_file(tmp_path: Path) -> None:
    """A two-request file with ``bks.csv`` beside it reads; a missing table
    leaves the BKS empty."""
    text = (
        "2\t50\t1\r\n"
        "0\t0\t0\t0\t0\t100\t0\t0\t0\r\n"
        "1\t3\t4\t5\t0\t50\t1\t0\t2\r\n"
        "2\t6\t8\t-5\t0\t60\t1\t1\t0\r\n"
    )
    (tmp_path / "tiny.txt").write_text(text)
    instance = read_li_lim(tmp_path / "tiny.txt")
    assert instance.bks is None and instance.bks_vehicles is None
    assert [p.id for p in instance.problem.pairs] == ["1-2"]
    assert instance.travel.distances_m[0, 2] == 10_000  # (0, 0) to (6, 8)
    (tmp_path / "bks.csv").write_text(
        "instance,bks_vehicles,bks_distance_4dp\ntiny,1,20.0\n"
    )
    instance = read_li_lim(tmp_path / "tiny.txt")
    assert (instance.bks_vehicles, instance.bks) == (1, 20.0)


def test_li_lim_reader_rejects_a_one_sided_sibling(tmp_path: Path) -> None:
    """A pickup whose delivery does not name it back is an InvalidProblemError."""
    text = "2 50 1\n0 0 0 0 0 100 0 0 0\n1 3 4 5 0 50 1 0 2\n2 6 8 -5 0 60 1 0 0\n"
    (tmp_path / "bad.txt").write_text(text)
    with pytest.raises(InvalidProblemError, match="sibling"):
        read_li_lim(tmp_path / "bad.txt")


def test_solver_objective_converts_to_the_plan_cost_on_li_lim(
    li_lim_dir: Path,
) -> None:
    """Our solver's objective on lc101, vehicle costs taken off, equals the
    plan's distance."""
    instance = read_li_lim(li_lim_dir / "instances" / "lc101.txt")
    plan = solve(
        instance.problem,
        instance.travel,
        options=SolveOptions(time_limit_s=2, is_deterministic=True),
    )
    assert plan.status is PlanStatus.SOLVED
    assert instance.cost_of_objective(plan.objective) == pytest.approx(
        instance.cost(plan), abs=1e-3
    )
