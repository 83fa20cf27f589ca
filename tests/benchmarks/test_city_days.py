"""Smoke tests of the city-day benchmark (benchmarks/city_days.py) and its day
generator (scenarios.generate.city_day)."""

from __future__ import annotations

import csv
import json
import math
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # benchmarks/ and scenarios/ are not installed
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks import city_days as bench  # noqa: E402
from routing.formats import load_problem, problem_from_dict  # noqa: E402
from scenarios.generate import city_day  # noqa: E402


@pytest.fixture(scope="module")
def smoke() -> tuple[list[bench.Row], dict[str, float], list[bench.Row]]:
    """The tutorial (as given, distance) and a generated 30-order day (as given,
    hard) with every solver at 1 s per run: rows, hard re-costs and summary."""
    days = [
        ("tutorial", load_problem(REPO_ROOT / "scenarios" / "tutorial.json")),
        *bench.city_days([30], [7]),
    ]
    rows: list[bench.Row] = []
    recost: dict[str, float] = {}
    for (day, problem), variants in zip(
        days,
        [(bench.AS_GIVEN, bench.DISTANCE), (bench.AS_GIVEN, bench.HARD)],
        strict=True,
    ):
        day_rows, day_recost = bench.run(
            [(day, problem)], variants=variants, time_limit_s=1.0
        )
        rows += day_rows
        recost.update(day_recost)
    return rows, recost, bench.summarize_runs(rows, recost)


def test_every_solver_gives_a_checked_row_per_day_and_variant(
    smoke: tuple[list[bench.Row], dict[str, float], list[bench.Row]],
) -> None:
    """Each (day, variant) has one row per solver, none failed, every plan was
    checked, and only plans without violations count as served."""
    rows, _, _ = smoke
    keys = [(r["day"], r["variant"], r["solver"]) for r in rows]
    expected = [
        (day, variant, solver)
        for day, variants in (
            ("tutorial", (bench.AS_GIVEN, bench.DISTANCE)),
            ("city-30-s7", (bench.AS_GIVEN, bench.HARD)),
        )
        for variant in variants
        for solver in bench.SOLVERS
    ]
    assert keys == expected
    for row in rows:
        assert row["error"] == "", row
        if row["status"].startswith("not applicable"):
            continue
        assert isinstance(row["violations"], int)
        assert row["served"] == (0 if row["violations"] else row["planned"])
        assert row["planned"] + row["unplanned"] == row["orders"]
        assert math.isfinite(row["cost"]) and math.isfinite(row["wall_s"])
    ours = [r for r in rows if r["solver"] == "ours" and r["day"] == "tutorial"]
    assert all(r["violations"] == 0 and r["served"] == 12 for r in ours)


def test_distance_variant_costs_km_and_summary_judges_each_day(
    smoke: tuple[list[bench.Row], dict[str, float], list[bench.Row]],
) -> None:
    """In the distance variant a plan's cost is its km; the summary has a line
    per (day, variant) and compares soft and hard on the day with soft slots."""
    rows, recost, summary = smoke
    for row in rows:
        if row["variant"] == bench.DISTANCE and row["violations"] == 0:
            assert row["cost"] == pytest.approx(row["km"])
    assert [(s["day"], s["variant"]) for s in summary] == list(
        dict.fromkeys((r["day"], r["variant"]) for r in rows)
    )
    assert "city-30-s7" in recost
    line = next(s for s in summary if s["day"] == "city-30-s7")
    assert line["soft_le_hard"] != ""


def test_report_and_csvs_are_written(
    smoke: tuple[list[bench.Row], dict[str, float], list[bench.Row]],
    tmp_path: Path,
) -> None:
    """The markdown report carries the header, the runs and the targets; the CSVs
    hold one line per run and one per (day, variant)."""
    rows, _, summary = smoke
    written = bench.write_report(
        rows,
        summary,
        [],
        tmp_path / "city.md",
        command="python benchmarks/city_days.py --time-limit 1",
        time_limit_s=1.0,
        cores=1,
        note="test",
        load=(0.0, 0.0),
    )
    md, runs_csv, summary_csv = written
    text = md.read_text()
    assert "- command: `python benchmarks/city_days.py" in text
    assert "## Runs" in text and "## Targets" in text
    with runs_csv.open() as fh:
        assert len(list(csv.DictReader(fh))) == len(rows)
    with summary_csv.open() as fh:
        assert len(list(csv.DictReader(fh))) == len(summary)


def test_hard_and_distance_variants() -> None:
    """``hard`` leaves no soft slot; ``distance`` prices 1 per km and nothing else."""
    problem = problem_from_dict(city_day(40, 3))
    assert bench.has_soft_slots(problem)
    hard = bench.hard_problem(problem)
    assert not bench.has_soft_slots(hard)
    assert [o.id for o in hard.orders] == [o.id for o in problem.orders]
    distance = bench.distance_problem(problem)
    assert not bench.has_soft_slots(distance)
    assert all(
        (v.fixed_cost, v.cost_per_km, v.cost_per_hour) == (0, 1, 0)
        for v in distance.vehicles
    )
    assert distance.objective == bench.DISTANCE_OBJECTIVE
    names = [
        v
        for v, _ in bench.variants_of(
            load_problem(REPO_ROOT / "scenarios" / "tutorial.json")
        )
    ]
    assert names == [bench.AS_GIVEN, bench.DISTANCE]  # no soft slots: no hard run


def test_city_day_is_deterministic_and_has_every_feature() -> None:
    """Same seed, same JSON; the day has several depots, a mixed fleet with
    breaks, skills, returns, two-slot orders and soft slots (hard when asked)."""
    assert json.dumps(city_day(60, 5)) == json.dumps(city_day(60, 5))
    assert json.dumps(city_day(60, 5)) != json.dumps(city_day(60, 6))
    problem = problem_from_dict(city_day(60, 5))
    assert len(problem.orders) == 60
    assert len(problem.depots) >= 2
    assert {v.kind for v in problem.vehicles} == {"van", "cargo_bike", "partner_van"}
    assert all(v.breaks for v in problem.vehicles)
    assert any(o.skills for o in problem.orders)
    assert any(any(o.pickup) for o in problem.orders)
    assert any(not any(o.delivery) for o in problem.orders)  # pickup-only returns
    two = sum(len(o.windows) == 2 for o in problem.orders)
    assert 0.09 * 60 <= two <= 0.16 * 60
    assert bench.has_soft_slots(problem) and not problem.pairs
    assert not bench.has_soft_slots(problem_from_dict(city_day(60, 5, soft=False)))
    with_pairs = problem_from_dict(city_day(60, 5, pairs=True))
    assert len(with_pairs.orders) == 60 and len(with_pairs.pairs) == 6
    depots = {len(problem_from_dict(city_day(30, s)).depots) for s in range(8)}
    assert depots == {2, 3}


def _row(solver: str, seed: int, cost: float, *, violations: int = 0) -> bench.Row:
    row: bench.Row = dict.fromkeys(bench.COLUMNS, "")
    row.update(
        day="d",
        variant=bench.HARD,
        solver=solver,
        seed=seed,
        orders=10,
        served=0 if violations else 10,
        planned=10,
        violations=violations,
        cost=cost,
        km=cost / 10,
        late_stops=0,
    )
    return row


def test_repeated_runs_are_compared_by_their_means() -> None:
    """Two seeds: ours 100 and 110 (mean 105) against PyVRP 104 twice loses,
    though ours won at seed 1; VROOM, cheaper at seed 2 but with violations at
    seed 1, serves 5 on average and is not the best peer."""
    rows = [
        _row("ours", 1, 100.0),
        _row("ours", 2, 110.0),
        _row("pyvrp", 1, 104.0),
        _row("pyvrp", 2, 104.0),
        _row("vroom", 1, 90.0, violations=1),
        _row("vroom", 2, 90.0),
    ]
    (line,) = bench.summarize_runs(rows, {})
    assert line["peer"] == "pyvrp"
    assert line["ours_cost"] == pytest.approx(105.0)
    assert line["peer_cost"] == pytest.approx(104.0)
    assert line["cost_below"] == "NO"
    assert line["served_ge"] == "yes"
    one_seed = bench.summarize_runs(rows[0:1] + rows[2:3], {})
    assert one_seed[0]["cost_below"] == "yes"
    mean = bench.mean_row(rows[4:6])
    assert (mean["served"], mean["violations"], mean["seed"]) == (5.0, 1, "1-2")


def test_the_pyvrp_peer_searches_as_pyvrp_does() -> None:
    """The PyVRP peer runs to the time limit without our route elimination, so
    that the comparison is with PyVRP, not with our search inside its adapter."""
    pytest.importorskip("pyvrp")
    peer = bench.make_engine("pyvrp", cores=1)
    assert peer.eliminate_routes is False
    assert peer.hand_over is False  # (no OR-Tools phase after it)
    assert peer.no_improvement_iterations == bench.PYVRP_NO_IMPROVEMENT


def test_tight_fleet_days_keep_a_share_of_the_vans() -> None:
    """``--vans 0.5``: the same orders with half the vans (bikes and partner vans
    stay), named so in the reports; a share outside (0, 1] is refused."""
    [(full_name, full)] = bench.city_days([60], [3])
    [(name, tight)] = bench.city_days([60], [3], vans=0.5)
    assert name == f"{full_name}-vans50"
    assert tight.orders == full.orders
    vans = [v.id for v in full.vehicles if v.kind == "van"]
    kept = [v.id for v in tight.vehicles if v.kind == "van"]
    assert kept == vans[: len(vans) // 2] and kept
    others = [v.id for v in full.vehicles if v.kind != "van"]
    assert [v.id for v in tight.vehicles if v.kind != "van"] == others
    with pytest.raises(ValueError, match="vans"):
        bench.city_days([60], [3], vans=0.0)
    assert bench.main(["--vans", "1.5", "--no-examples"]) == 2


def test_pair_days_carry_transfers_and_say_so() -> None:
    """``--pairs``: the generated day with its shop-to-customer transfers, named
    so; the plain day has none. A peer's plan of it (PyVRP, shipments) keeps
    each transfer on one route, pickup first, as our checker wants."""
    [(plain_name, plain)] = bench.city_days([60], [3])
    [(name, day)] = bench.city_days([60], [3], pairs=True)
    assert name == f"{plain_name}-pairs"
    assert not plain.pairs and len(day.pairs) == 6
    paired = {oid for pair in day.pairs for oid in (pair.pickup, pair.delivery)}
    assert paired <= {o.id for o in day.orders}
    travel = bench.build_travel(day)
    matrices = {p: bench.matrix_for(travel, p) for p in day.profiles}
    plan, _, status = bench.solve_peer(
        "pyvrp", day, matrices, time_limit_s=1.0, cores=1, seed=1
    )
    assert plan is not None, status
    assert bench.check_plan(day, plan, matrices) == []
    route_of = {oid: r for r in plan.routes for oid in r.order_ids}
    together = [
        pair
        for pair in day.pairs
        if pair.pickup in route_of
        and route_of[pair.pickup] is route_of.get(pair.delivery)
        and route_of[pair.pickup].order_ids.index(pair.pickup)
        < route_of[pair.pickup].order_ids.index(pair.delivery)
    ]
    assert together, "no transfer planned"
    assert all((p.pickup in route_of) == (p.delivery in route_of) for p in day.pairs)


def test_a_peers_routes_lose_the_stops_a_break_makes_late() -> None:
    """A peer that relaxes breaks may hand over a route whose break, once
    placed, makes a hard slot late: that stop is left out (and counted), as
    the peer's user would have to, instead of the whole plan counting as
    serving nothing; a route that keeps every rule is left as it is."""
    from routing.domain.model import (
        Break,
        Depot,
        Order,
        Point,
        Problem,
        TimeWindow,
        Vehicle,
    )
    from routing.geo import Euclidean

    def order(oid: str, x: float, window: TimeWindow) -> Order:
        return Order(
            id=oid, location=Point(x, 0), delivery=(1,), pickup=(0,), windows=(window,)
        )

    lunch = Break(window=TimeWindow(100, 150), duration_s=400)
    vans = tuple(
        Vehicle(id=vid, start_depot="D", end_depot="D", capacity=(5,), breaks=brk)
        for vid, brk in (("V1", (lunch,)), ("V2", ()))
    )
    orders = (
        order("a", 50, TimeWindow(0, 100)),
        order("b", 100, TimeWindow(200, 300)),
        order("c", 150, TimeWindow(0, 2_000)),
    )
    problem = Problem(
        depots=(Depot(id="D", location=Point(0, 0)),), vehicles=vans, orders=orders
    )
    travel = Euclidean(scale=1, truncate=False).build(problem.locations, profile="van")
    matrices = {p: travel for p in problem.profiles}
    sequences, dropped = bench.repaired(problem, matrices, {"V1": ["a", "b", "c"]})
    assert (sequences, dropped) == ({"V1": ["a", "c"]}, 1)
    as_is, none = bench.repaired(problem, matrices, {"V2": ["a", "b", "c"]})
    assert (as_is, none) == ({"V2": ["a", "b", "c"]}, 0)
