"""Smoke tests of the empty-running benchmark (benchmarks/empty_running.py)."""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # benchmarks/ and scenarios/ are not installed
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks import empty_running as bench  # noqa: E402
from routing.check import check_plan  # noqa: E402
from routing.formats import load_problem  # noqa: E402
from routing.geo.providers import build_travel  # noqa: E402
from scenarios.generate import DeliveryMix  # noqa: E402

TINY_MIX = DeliveryMix(
    n_orders=12,
    n_pickup_only=3,
    n_with_return=3,
    n_vip=1,
    n_cold=0,
    n_fragile=1,
    n_cash=1,
    n_bulky=1,
    n_economy=2,
)
"""Twelve orders, six of them with a return: solves in well under a second."""

FIGURES = {
    "solves",
    "km",
    "empty_km",
    "empty_share",
    "mean_fill",
    "vehicles_used",
    "vehicle_runs",
    "driver_hours",
    "cost",
    "on_time_rate",
    "stops_planned",
    "stops_unplanned",
    "violations",
    "wall_s",
    "statuses",
}


def test_split_moves_returns_to_their_own_pickup_only_stops() -> None:
    """Deliveries lose their pickups, each return becomes an empty-handed stop, and
    transfers stay whole on the delivery side."""
    problem = load_problem(REPO_ROOT / "scenarios" / "andorra_delivery_day.json")
    deliveries, returns = bench.split_returns(problem)
    paired = {oid for p in problem.pairs for oid in (p.pickup, p.delivery)}
    assert deliveries.pairs == problem.pairs and returns.pairs == ()
    assert all(not any(o.pickup) for o in deliveries.orders if o.id not in paired)
    assert all(any(o.delivery) for o in deliveries.orders if o.id not in paired)
    assert all(any(o.pickup) and not any(o.delivery) for o in returns.orders)
    assert {o.id for o in returns.orders} == {
        o.id for o in problem.orders if any(o.pickup) and o.id not in paired
    }
    assert returns.vehicles == problem.vehicles == deliveries.vehicles


def test_benchmark_runs_on_a_tiny_day_and_both_plans_pass_the_checker(
    tmp_path: Path,
) -> None:
    """At 1 s per solve the comparison has every figure, checked plans and a
    markdown report."""
    problem = bench.returns_heavy_problem(mix=TINY_MIX)
    assert len(problem.orders) == 12
    result = bench.run(problem, time_limit_s=1.0)
    for key in ("combined", "separate", "separate_deliveries", "separate_returns"):
        assert set(result[key]) == FIGURES
        assert result[key]["violations"] == 0
    assert result["combined"]["solves"] == 1 and result["separate"]["solves"] == 2
    assert result["returns"] == 6
    assert result["combined"]["stops_planned"] == 12
    assert result["separate"]["stops_planned"] == 12 + 3  # 3 orders visited twice
    for pct in ("empty_km_reduction_pct", "km_reduction_pct", "cost_reduction_pct"):
        assert isinstance(result[pct], float)
    # The plans pass the checker against the problem each was solved for.
    deliveries, returns = bench.split_returns(problem)
    plans = result["plans"]
    for key, variant in (
        ("combined", problem),
        ("separate_deliveries", deliveries),
        ("separate_returns", returns),
    ):
        (plan,) = plans[key]
        assert check_plan(variant, plan, build_travel(variant)) == []
    # Return runs leave the depot empty; delivery-only rounds come back empty.
    (return_plan,) = plans["separate_returns"]
    assert all(not any(r.start_load) for r in return_plan.routes)
    (delivery_plan,) = plans["separate_deliveries"]
    assert all(not any(r.visits[-1].load) for r in delivery_plan.routes)
    path = bench.write_report(
        result, tmp_path / "er.md", command="pytest", scenario="tiny"
    )
    text = path.read_text()
    assert "| (a) combined | 1 |" in text and "| (b) separate: total | 2 |" in text
    assert "2 cores, shared with other work" in text
    assert "reduction of" in text
