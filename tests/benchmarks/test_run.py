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
