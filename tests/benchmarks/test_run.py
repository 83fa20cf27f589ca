"""Smoke tests of the benchmark runner (benchmarks/run.py) via its importable API."""

from __future__ import annotations

import csv
import importlib.util
import math
import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # benchmarks/ is not an installed package
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks import run as bench  # noqa: E402

pytest.importorskip("vrplib", reason="vrplib (dev extra) is not installed")

INSTANCES = Path(
    os.environ.get("ROUTING_INSTANCES", REPO_ROOT.parent / "shared" / "instances")
)


@pytest.fixture(scope="module")
def solomon() -> Path:
    """The Solomon folder of the shared instances; skips when it is absent."""
    folder = INSTANCES / "solomon"
    if not folder.is_dir():
        pytest.skip(
            f"benchmark instances not found at {INSTANCES} (set ROUTING_INSTANCES)"
        )
    return folder


@pytest.fixture(scope="module")
def li_lim() -> Path:
    """The Li & Lim folder of the shared instances; skips when it is absent."""
    folder = INSTANCES / "li_lim"
    if not (folder / "instances").is_dir():
        pytest.skip(f"Li & Lim instances not found at {folder} (set ROUTING_INSTANCES)")
    return folder


def _assert_good(row: bench.Row) -> None:
    assert row["error"] == ""
    assert row["feasible"] is True
    assert row["violations"] == 0 and row["unplanned"] == 0
    assert math.isfinite(row["gap_pct"]) and row["gap_pct"] >= -0.01


def test_two_solomon_instances_give_feasible_rows_and_reports(
    solomon: Path, tmp_path: Path
) -> None:
    """C101 and R101 at 1 s give checked, feasible rows, a CSV and a markdown report."""
    paths = [solomon / "C101.vrp", solomon / "R101.vrp"]
    rows = bench.run(paths, solvers=["ours"], time_limit_s=1.0, progress=False)
    assert [r["instance"] for r in rows] == ["C101", "R101"]
    for row in rows:
        _assert_good(row)
        assert row["cores"] == 1 and row["wall_s"] < 10
    has_matplotlib = importlib.util.find_spec("matplotlib") is not None
    written = bench.write_report(rows, tmp_path / "smoke", plot=has_matplotlib)
    assert ("png" in written) == has_matplotlib
    with written["csv"].open() as fh:
        table = list(csv.DictReader(fh))
    assert [r["instance"] for r in table] == ["C101", "R101"]
    assert list(table[0]) == list(bench.COLUMNS)
    md = written["md"].read_text()
    assert "| C101 | ours | yes |" in md and "## Summary per solver" in md


def test_report_records_the_command_that_made_it(solomon: Path, tmp_path: Path) -> None:
    """The markdown header holds the command line, to re-run a result."""
    argv = [
        "solomon/C101",
        "--instances-dir",
        str(solomon.parent),
        "--time-limit",
        "0.5",
        "--no-progress",
        "--out",
        str(tmp_path / "c101"),
    ]
    assert bench.main(argv) == 0
    md = (tmp_path / "c101.md").read_text()
    assert f"- command: `python benchmarks/run.py {' '.join(argv)}`" in md


def test_instance_specs_resolve_to_files(solomon: Path) -> None:
    """Set names, globs and bare names resolve to .vrp files; a typo is an error."""
    root = solomon.parent
    assert len(bench.resolve_instances(["solomon"], root)) == 56
    r1 = bench.resolve_instances(["solomon/R1*"], root)
    assert len(r1) == 12 and all(p.name.startswith("R1") for p in r1)
    assert [p.name for p in bench.resolve_instances(["C101"], root)] == ["C101.vrp"]
    with pytest.raises(FileNotFoundError, match="matches no instance"):
        bench.resolve_instances(["solomon/X999"], root)


def test_task_reads_shipped_files_when_the_path_is_missing(solomon: Path) -> None:
    """A worker that cannot see the instance path solves the shipped file texts."""
    files = {name: (solomon / name).read_text() for name in ("C101.vrp", "C101.sol")}
    row = bench.run_task("/not/on/this/worker/C101.vrp", "ours", 0.5, 1, files=files)
    _assert_good(row)
    assert row["bks"] == pytest.approx(827.3)


def test_missing_peer_is_reported_with_how_to_install(
    solomon: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A peer solver that is not installed yields a row whose error says what to do."""
    monkeypatch.setitem(sys.modules, "vroom", None)  # import now raises ImportError
    row = bench.run_task(str(solomon / "C101.vrp"), "vroom", 0.5, 1)
    assert row["feasible"] is False
    assert "pip install pyvroom" in row["error"]


@pytest.mark.parametrize(("solver", "module"), [("pyvrp", "pyvrp"), ("vroom", "vroom")])
def test_peer_solutions_are_converted_and_checked(
    solomon: Path, solver: str, module: str
) -> None:
    """A peer's routes become our Plan, pass the checker and cost at least the BKS."""
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (bench extra)")
    row = bench.run_task(str(solomon / "C101.vrp"), solver, 0.5, 1)
    _assert_good(row)


def test_dask_scheduler_path_runs_a_task(solomon: Path) -> None:
    """One instance goes through a local Dask cluster and comes back checked."""
    distributed = pytest.importorskip(
        "dask.distributed", reason="dask[distributed] is not installed"
    )
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        rows = bench.run(
            [solomon / "C101.vrp"],
            time_limit_s=1.0,
            scheduler=cluster.scheduler_address,
            progress=False,
        )
    assert len(rows) == 1
    _assert_good(rows[0])


# --- Li & Lim -------------------------------------------------------------------


def test_li_lim_specs_resolve_to_text_files(li_lim: Path) -> None:
    """The li_lim set, a glob without suffix and a bare name find the .txt files."""
    root = li_lim.parent
    assert len(bench.resolve_instances(["li_lim"], root)) == 56
    lr1 = bench.resolve_instances(["li_lim/instances/lr1*"], root)
    assert len(lr1) == 12 and all(p.name.startswith("lr1") for p in lr1)
    assert [p.name for p in bench.resolve_instances(["lc101"], root)] == ["lc101.txt"]
    assert bench.set_of(li_lim / "instances" / "lc101.txt") == "li_lim"


def test_li_lim_instance_gives_a_feasible_row_with_vehicle_columns(
    li_lim: Path,
) -> None:
    """lc101 at 1 s: every request served, checked feasible, BKS vehicles known,
    and vehicles_equal agrees with the route count."""
    row = bench.run_task(str(li_lim / "instances" / "lc101.txt"), "ours", 1.0, 1)
    assert row["error"] == ""
    assert row["set"] == "li_lim" and row["instance"] == "lc101"
    assert row["unplanned"] == 0 and row["violations"] == 0
    assert row["feasible"] is True
    assert row["bks_vehicles"] == 10 and row["bks"] == pytest.approx(828.9369)
    assert row["routes"] >= 10
    assert row["vehicles_equal"] is (row["routes"] <= 10)
    if row["vehicles_equal"]:
        assert row["gap_pct"] >= -0.01


def test_li_lim_task_reads_shipped_files_with_the_bks_table(li_lim: Path) -> None:
    """A worker without the path gets the instance and bks.csv texts, and finds
    the BKS vehicles and distance in them."""
    from routing.formats.vrplib import instance_files

    path = li_lim / "instances" / "lc101.txt"
    files = {f.name: f.read_text() for f in instance_files(path)}
    assert set(files) == {"lc101.txt", "bks.csv"}
    row = bench.run_task("/not/on/this/worker/lc101.txt", "ours", 0.5, 1, files=files)
    assert row["instance"] == "lc101"
    assert row["bks_vehicles"] == 10 and row["bks"] == pytest.approx(828.9369)


def test_pyvrp_on_li_lim_is_a_row_error(li_lim: Path) -> None:
    """PyVRP has no pickup-and-delivery pairs: its Li & Lim row says so."""
    if importlib.util.find_spec("pyvrp") is None:
        pytest.skip("pyvrp is not installed (bench extra)")
    row = bench.run_task(str(li_lim / "instances" / "lc101.txt"), "pyvrp", 0.5, 1)
    assert row["feasible"] is False
    assert "pickup-and-delivery" in row["error"]


def test_vroom_solves_li_lim_with_shipments(li_lim: Path) -> None:
    """VROOM gets the pairs as shipments: every request is served on a route
    count at least the BKS's."""
    if importlib.util.find_spec("vroom") is None:
        pytest.skip("pyvroom is not installed (bench extra)")
    row = bench.run_task(str(li_lim / "instances" / "lc101.txt"), "vroom", 1.0, 1)
    assert row["error"] == ""
    assert row["unplanned"] == 0
    assert row["routes"] >= row["bks_vehicles"] == 10


def _li_lim_row(instance: str, routes: int, gap: float, **extra: object) -> bench.Row:
    """A made-up Li & Lim result row (BKS 10 vehicles)."""
    row: bench.Row = dict.fromkeys(bench.COLUMNS, None)
    row.update(
        instance=instance,
        set="li_lim",
        solver="ours",
        seed=1,
        repeat=0,
        time_limit_s=30.0,
        feasible=True,
        violations=0,
        unplanned=0,
        routes=routes,
        vehicles=25,
        cost=1000.0 * (1 + gap / 100),
        bks=1000.0,
        bks_vehicles=10,
        vehicles_equal=routes <= 10,
        gap_pct=gap,
        wall_s=30.0,
        cores=1,
        error="",
    )
    row.update(extra)
    return row


def test_li_lim_summary_counts_vehicles_and_gaps_where_equal(tmp_path: Path) -> None:
    """The summary shows the share of Li & Lim runs with the BKS vehicle count
    and averages the distance gap over those runs only; CSV and markdown carry
    the new columns."""
    rows = [
        _li_lim_row("lc101", 10, 1.0),
        _li_lim_row("lc102", 10, 3.0),
        _li_lim_row("lr101", 11, -2.0),  # more vehicles: gap not like for like
        _li_lim_row("lr102", 10, 0.0, feasible=False, vehicles_equal=False),
    ]
    (summary,) = bench.summarize_rows(rows)
    assert summary["hierarchical_runs"] == 4 and summary["vehicles_equal"] == 2
    assert summary["vehicles_equal_pct"] == pytest.approx(50.0)
    assert summary["mean_gap_equal_pct"] == pytest.approx(2.0)
    assert summary["mean_gap_pct"] == pytest.approx(2.0)
    written = bench.write_report(rows, tmp_path / "li", plot=False)
    with written["csv"].open() as fh:
        table = list(csv.DictReader(fh))
    assert table[0]["bks_vehicles"] == "10" and table[0]["vehicles_equal"] == "True"
    md = written["md"].read_text()
    assert "| BKS vehicles | vehicles = BKS |" in md
    assert "| lr101 | ours | yes | 0 | 0 | 11 / 25 | 10 | NO |" in md
    assert "2/4 (50.0 %) | 2.00 |" in md


def test_vrptw_reports_keep_their_columns(tmp_path: Path) -> None:
    """Without Li & Lim rows the markdown has no vehicle-count columns and the
    summary no Li & Lim share."""
    row = _li_lim_row("C101", 10, 0.5, set="solomon", bks_vehicles=None)
    row["vehicles_equal"] = None
    md = bench.write_report([row], tmp_path / "s", plot=False)["md"].read_text()
    assert "vehicles = BKS" not in md and "Li & Lim" not in md
