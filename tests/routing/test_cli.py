"""Tests of the routing command: solve, check and validate scenario files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from routing.cli import main

REPO = Path(__file__).resolve().parents[2]
TUTORIAL = REPO / "scenarios" / "tutorial.json"
OVERBOOKED = REPO / "scenarios" / "andorra_overbooked.json"


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
