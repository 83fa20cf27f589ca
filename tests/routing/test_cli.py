"""Tests of the routing command: solve, check and validate scenario files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from routing import cli
from routing.check import assert_plan_ok
from routing.cli import main
from routing.domain.model import Depot, Order, Point, Problem, TimeWindow, Vehicle
from routing.formats import load_plan, problem_to_dict
from routing.geo import build_travel

REPO = Path(__file__).resolve().parents[2]
TUTORIAL = REPO / "scenarios" / "tutorial.json"
OVERBOOKED = REPO / "scenarios" / "andorra_overbooked.json"
H = 3600


def _late_and_dropped(extra_heavy: int = 0) -> Problem:
    """One van (4 parcels, shift from 09:00) on a plane at 1 m/s: "soft-1" is
    1.8 km out and booked 09:00-09:05 with an hour's allowance, so it is served
    25 min late; "too-heavy" (10 parcels) fits no vehicle; "plain" is served."""
    orders = [
        Order(
            id="soft-1",
            location=Point(1800, 0),
            delivery=(1,),
            pickup=(0,),
            windows=(TimeWindow(9 * H, 9 * H + 300),),
            max_lateness_s=H,
            lateness_cost_per_hour=10.0,
        ),
        Order(id="plain", location=Point(0, 900), delivery=(1,), pickup=(0,)),
        Order(id="too-heavy", location=Point(-900, 0), delivery=(10,), pickup=(0,)),
    ]
    orders += [
        Order(id=f"heavy-{k:02d}", location=Point(-900, k), delivery=(9,), pickup=(0,))
        for k in range(extra_heavy)
    ]
    return Problem(
        name="late-and-dropped",
        depots=(Depot(id="D", location=Point(0, 0)),),
        vehicles=(
            Vehicle(
                id="van",
                start_depot="D",
                end_depot="D",
                capacity=(4,),
                shift=TimeWindow(9 * H, 17 * H),
                cost_per_km=1.0,
                cost_per_hour=20.0,
            ),
        ),
        orders=tuple(orders),
        travel={"provider": "euclidean", "scale": 1, "truncate": False},
    )


def _write(tmp_path: Path, problem: Problem) -> Path:
    path = tmp_path / "day.json"
    path.write_text(json.dumps(problem_to_dict(problem)))
    return path


def test_solve_prints_summary_and_writes_a_plan_that_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`solve --out` prints per-vehicle lines and writes a plan `check` accepts."""
    out = tmp_path / "plan.json"
    assert main(["solve", str(TUTORIAL), "--time-limit", "1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "vehicle" in text and "km" in text and "peak %" in text
    assert "on time:" in text and "empty running:" in text and "cost: fixed" in text
    assert "0 violations" in text
    plan = json.loads(out.read_text())
    assert plan["routes"] and plan["routes"][0]["visits"][0]["arrival"]
    assert main(["check", str(TUTORIAL), str(out)]) == 0


def test_solve_passes_the_seed_and_rejects_a_bad_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`solve --seed 7` searches with seed 7 (the plan's stats say so); a negative
    seed is a usage error naming the option, not a traceback."""
    out = tmp_path / "plan.json"
    args = ["solve", str(TUTORIAL), "--time-limit", "1", "--quiet", "--out", str(out)]
    assert main([*args, "--seed", "7"]) == 0
    assert json.loads(out.read_text())["stats"]["seed"] == 7
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main([*args, "--seed", "-1"])
    assert exc.value.code == 2
    assert "--seed" in capsys.readouterr().err


def test_check_reports_a_tampered_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A plan with a hand-edited arrival time fails `routing check` (exit 1)."""
    out = tmp_path / "plan.json"
    main(["solve", str(TUTORIAL), "--time-limit", "1", "--out", str(out), "--quiet"])
    plan = json.loads(out.read_text())
    plan["routes"][0]["visits"][0]["arrival_s"] -= 600
    out.write_text(json.dumps(plan))
    capsys.readouterr()
    assert main(["check", str(TUTORIAL), str(out)]) == 1
    assert "arrival" in capsys.readouterr().out


def test_overbooked_summary_lists_unplanned_with_reasons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The summary of an overbooked day names each unplanned order and its reason."""
    out = tmp_path / "plan.json"
    args = ["solve", str(OVERBOOKED), "--time-limit", "2", "--quiet", "--out", str(out)]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "unplanned orders" in text
    assert "exceeds every vehicle's capacity" in text
    unplanned = json.loads(out.read_text())["unplanned"]
    reasons = {u["order_id"]: u["reason"] for u in unplanned}
    assert "exceeds every vehicle's capacity" in reasons["ob-heavy"]


def test_validate_lists_impossible_orders_without_solving(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`routing validate` reports the orders no vehicle can serve."""
    assert main(["validate", str(OVERBOOKED)]) == 0
    text = capsys.readouterr().out
    assert "valid" in text and "no vehicle can serve" in text


def test_bad_input_exits_2_naming_field_and_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A scenario with a window ending before it starts exits 2 with the path and id."""
    data = json.loads(TUTORIAL.read_text())
    data["orders"][1]["windows"] = [["11:00", "09:00"]]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    assert main(["solve", str(bad), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "orders[1].windows[0]" in err
    assert data["orders"][1]["id"] in err
    assert "Traceback" not in err


def test_solve_lists_late_and_unplanned_orders_by_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After the vehicle table the summary lists the late order (id, vehicle,
    minutes late, slot) and the unplanned one (id, code, reason), and prices the
    unplanned order into a total; `check` repeats both lists."""
    problem = _late_and_dropped()
    scenario = _write(tmp_path, problem)
    out = tmp_path / "plan.json"
    args = ["solve", str(scenario), "--time-limit", "1", "--deterministic"]
    assert main([*args, "--quiet", "--out", str(out)]) == 0
    plan = load_plan(out)
    assert_plan_ok(problem, plan, build_travel(problem))
    text = capsys.readouterr().out
    lines = text.splitlines()
    table_end = next(k for k, ln in enumerate(lines) if ln.startswith("total"))
    late_at = lines.index("late orders (1):")
    unplanned_at = lines.index("unplanned orders (1):")
    assert table_end < late_at < unplanned_at
    assert lines[late_at + 1].split() == ["order", "vehicle", "min", "late", "slot"]
    assert lines[late_at + 2].split() == ["soft-1", "van", "25", "09:00-09:05"]
    assert lines[unplanned_at + 1].split() == ["order", "code", "reason"]
    heavy = lines[unplanned_at + 2].split(maxsplit=2)
    assert heavy[:2] == ["too-heavy", "exceeds_capacity"]
    assert "exceeds every vehicle's capacity" in heavy[2]
    route_cost = sum(r.cost for r in plan.routes)
    assert (
        f"penalty 1,000,000.00 (1 required, at 1,000,000 each, doubled per priority "
        f"step); total with penalty {route_cost + 1_000_000:,.2f}"
    ) in text
    assert main(["check", str(scenario), str(out)]) == 0
    checked = capsys.readouterr().out.splitlines()
    assert "late orders (1):" in checked and "unplanned orders (1):" in checked
    assert any(ln.split()[:2] == ["too-heavy", "exceeds_capacity"] for ln in checked)


def test_long_lists_are_capped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past LIST_LIMIT orders a list stops and says how many more there are and
    where to find them."""
    monkeypatch.setattr(cli, "LIST_LIMIT", 3)
    problem = _late_and_dropped(extra_heavy=4)
    scenario = _write(tmp_path, problem)
    out = tmp_path / "plan.json"
    args = ["solve", str(scenario), "--time-limit", "1", "--deterministic", "--quiet"]
    assert main([*args, "--out", str(out)]) == 0
    assert_plan_ok(problem, load_plan(out), build_travel(problem))
    lines = capsys.readouterr().out.splitlines()
    at = lines.index("unplanned orders (5):")
    assert len([ln for ln in lines[at + 2 : at + 5] if "exceeds_capacity" in ln]) == 3
    assert lines[at + 5] == f"  ... 2 more (see the plan file {out})"
    assert main(args) == 0
    assert "  ... 2 more (write the plan with --out to see them all)" in (
        capsys.readouterr().out.splitlines()
    )
