"""Every example scenario solves, and its plan passes the independent checker."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.check import check_plan
from routing.geo.providers import build_travel
from routing.io import load_problem
from routing.plan import PlanStatus, UnplannedCode
from routing.solver import SolveOptions, solve

SCENARIOS = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.json"))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_solves_with_zero_violations(path: Path) -> None:
    """The scenario yields a verified plan with every order accounted for."""
    problem = load_problem(path)
    travel = build_travel(problem)
    plan = solve(problem, travel, options=SolveOptions(time_limit_s=3))
    assert check_plan(problem, plan, travel) == []
    assert plan.status is not PlanStatus.NO_SOLUTION
    assert plan.totals.orders_planned + len(plan.unplanned) == len(problem.orders)
    for unplanned in plan.unplanned:
        assert unplanned.reason


def test_scenario_set_is_complete() -> None:
    """The examples hold a tutorial, three city days and an overbooked day."""
    names = {p.stem for p in SCENARIOS}
    assert "tutorial" in names
    assert "andorra_overbooked" in names
    assert len(names) >= 4


def test_overbooked_day_reports_each_kind_of_impossible_order() -> None:
    """The overbooked day plans what it can and explains each impossible order."""
    problem = load_problem(next(p for p in SCENARIOS if p.stem == "andorra_overbooked"))
    travel = build_travel(problem)
    plan = solve(problem, travel, options=SolveOptions(time_limit_s=3))
    assert check_plan(problem, plan, travel) == []
    assert plan.status is PlanStatus.PARTIAL
    codes = {u.code for u in plan.unplanned}
    assert UnplannedCode.EXCEEDS_CAPACITY in codes
    assert UnplannedCode.MISSING_SKILL in codes
    assert codes & {UnplannedCode.OUTSIDE_SHIFTS, UnplannedCode.UNREACHABLE_IN_TIME}
    assert plan.routes
