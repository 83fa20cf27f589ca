"""Tests of what-if variants (pure): how each field changes the day, its errors,
and the KPI row of a plan."""

from __future__ import annotations

import pytest

from routing.check import assert_plan_ok
from routing.day.whatif import (
    COMPARE_KEYS,
    KPI_KEYS,
    Variant,
    apply_variant,
    kpi_row,
    markdown_table,
    variant_from_dict,
    variant_to_dict,
)
from routing.domain.errors import InvalidProblemError
from routing.domain.model import (
    Depot,
    Objective,
    Order,
    Point,
    Problem,
    TimeWindow,
    Vehicle,
)
from routing.domain.plan import (
    Plan,
    PlanStatus,
    Unplanned,
    UnplannedCode,
    summarize,
)
from routing.domain.timing import build_route, unplanned_penalty
from routing.geo import Euclidean

H = 3600


def _vehicle(vid: str, depot: str, kind: str = "van", **kw: object) -> Vehicle:
    kw.setdefault("capacity", (10,))
    return Vehicle(
        id=vid,
        start_depot=depot,
        end_depot=depot,
        kind=kind,
        shift=TimeWindow(8 * H, 17 * H),
        **kw,  # type: ignore[arg-type]
    )


def _problem() -> Problem:
    return Problem(
        depots=(
            Depot(id="N", location=Point(0, 1000)),
            Depot(id="S", location=Point(0, -1000)),
        ),
        vehicles=(
            _vehicle("van-1", "N"),
            _vehicle("bike-1", "N", kind="bike"),
            _vehicle("van-2", "S"),
            _vehicle("van-3", "S"),
        ),
        orders=(
            Order(
                id="o1",
                location=Point(100, 0),
                delivery=(1,),
                pickup=(0,),
                windows=(TimeWindow(9 * H, 10 * H), TimeWindow(11 * H, 12 * H)),
            ),
            Order(id="o2", location=Point(200, 0), delivery=(1,), pickup=(0,)),
        ),
        horizon=TimeWindow(0, 20 * H),
    )


def test_closing_a_depot_removes_its_vehicles_and_keeps_orders() -> None:
    """Vehicles based at a closed depot leave the fleet; orders all stay."""
    day = apply_variant(_problem(), Variant(name="no-south", close_depots=("S",)))
    assert [v.id for v in day.vehicles] == ["van-1", "bike-1"]
    assert [o.id for o in day.orders] == ["o1", "o2"]


def test_added_vehicles_clone_each_kind_round_robin() -> None:
    """Clones copy the first vehicle of each kind in turn, with new ids."""
    day = apply_variant(_problem(), Variant(name="more", add_vehicles=3))
    added = day.vehicles[4:]
    assert [v.id for v in added] == ["van-1+1", "bike-1+1", "van-1+2"]
    assert [v.kind for v in added] == ["van", "bike", "van"]
    assert added[0].capacity == day.vehicle("van-1").capacity


def test_clones_come_from_the_fleet_left() -> None:
    """After removing van-1 and closing N, the van template is van-2."""
    day = apply_variant(
        _problem(),
        Variant(
            name="swap", remove_vehicles=("van-1",), close_depots=("N",), add_vehicles=1
        ),
    )
    assert [v.id for v in day.vehicles] == ["van-2", "van-3", "van-2+1"]
    assert day.vehicle("van-2+1").start_depot == "S"


def test_widen_slots_moves_ends_and_merges() -> None:
    """Slot ends move later by the given seconds; slots that meet are merged;
    orders without slots are unchanged."""
    day = apply_variant(_problem(), Variant(name="wide", widen_slots_s=H))
    assert day.order("o1").windows == (TimeWindow(9 * H, 13 * H),)
    assert day.order("o2").windows == ()
    small = apply_variant(_problem(), Variant(name="w", widen_slots_s=1800))
    assert small.order("o1").windows == (
        TimeWindow(9 * H, 10 * H + 1800),
        TimeWindow(11 * H, 12 * H + 1800),
    )


def test_extend_shifts_is_capped_at_the_horizon() -> None:
    """Shift ends move later, but not past the horizon end."""
    day = apply_variant(_problem(), Variant(name="long", extend_shifts_s=2 * H))
    assert {v.shift for v in day.vehicles} == {TimeWindow(8 * H, 19 * H)}
    capped = apply_variant(_problem(), Variant(name="longer", extend_shifts_s=5 * H))
    assert {v.shift.end_s for v in capped.vehicles} == {20 * H}


def test_unknown_ids_name_the_variant_path() -> None:
    """An unknown vehicle or depot is reported at variants[i].<field>[k]."""
    with pytest.raises(InvalidProblemError) as info:
        apply_variant(
            _problem(), Variant(name="x", remove_vehicles=("van-1", "ghost")), index=1
        )
    assert info.value.path == "variants[1].remove_vehicles[1]"
    assert info.value.entity_id == "ghost"
    with pytest.raises(InvalidProblemError) as info:
        apply_variant(_problem(), Variant(name="x", close_depots=("W",)))
    assert (info.value.path, info.value.entity_id) == ("close_depots[0]", "W")


def test_adding_with_nothing_to_clone_is_an_error() -> None:
    """When every vehicle sits at a closed depot there is no template."""
    with pytest.raises(InvalidProblemError) as info:
        apply_variant(
            _problem(),
            Variant(name="x", close_depots=("N", "S"), add_vehicles=1),
            index=0,
        )
    assert info.value.path == "variants[0].add_vehicles"


@pytest.mark.parametrize(
    ("field", "value"),
    [("add_vehicles", -1), ("widen_slots_s", -60), ("extend_shifts_s", 1.5)],
)
def test_negative_or_fractional_values_are_rejected(field: str, value: object) -> None:
    """Counts and seconds must be integers >= 0; the error names the field."""
    with pytest.raises(InvalidProblemError) as info:
        Variant(name="bad", **{field: value})  # type: ignore[arg-type]
    assert (info.value.path, info.value.entity_id) == (field, "bad")


def test_variant_dict_round_trip_and_error_prefix() -> None:
    """variant_to_dict/variant_from_dict round-trip; errors get the prefix."""
    variant = Variant(name="v", add_vehicles=2, remove_vehicles=("van-1",))
    assert variant_from_dict(variant_to_dict(variant)) == variant
    with pytest.raises(InvalidProblemError) as info:
        variant_from_dict({"name": "v", "widen_slots_s": -1}, path="variants[2]")
    assert info.value.path == "variants[2].widen_slots_s"
    with pytest.raises(InvalidProblemError) as info:
        variant_from_dict({"name": "v", "more_vans": 1})
    assert "more_vans" in info.value.message


def test_kpi_row_has_the_keys_and_values() -> None:
    """The row carries every KPI key but the comparison's, in km, hours and
    minutes; with nothing unplanned the total is the planned cost."""
    problem = _problem()
    travel = Euclidean(scale=1, truncate=False).build(problem.locations, profile="van")
    route = build_route(problem, travel, problem.vehicle("van-1"), ["o1", "o2"])
    plan = Plan(
        status=PlanStatus.SOLVED,
        routes=(route,),
        unplanned=(),
        totals=summarize((route,), 0),
        solver_status="test",
    )
    assert_plan_ok(problem, plan, travel)
    row = kpi_row("base", plan, problem=problem)
    assert tuple(row) == tuple(k for k in KPI_KEYS if k not in COMPARE_KEYS)
    assert row["name"] == "base"
    assert row["status"] == "solved"
    assert (row["orders_planned"], row["orders_unplanned"]) == (2, 0)
    assert row["unplanned_orders"] == []
    assert row["km"] == pytest.approx(route.distance_m / 1000)
    assert row["driver_hours"] == pytest.approx(route.duration_s / 3600)
    assert row["on_time_rate"] == 1.0
    assert row["late_min"] == 0.0
    assert row["cost"] == pytest.approx(plan.totals.cost)
    assert row["unplanned_penalty"] == 0.0
    assert isinstance(row["unplanned_penalty"], float)  # a float column throughout
    assert row["total_cost"] == pytest.approx(plan.totals.cost)


def _day_with_drops() -> Problem:
    """The day plus an optional order (penalty 250, priority 1) and a required
    one, with the objective's unplanned weight at 2."""
    base = _problem()
    extra = (
        Order(
            id="opt",
            location=Point(300, 0),
            delivery=(1,),
            pickup=(0,),
            is_optional=True,
            penalty=250.0,
            priority=1,
        ),
        Order(id="req", location=Point(400, 0), delivery=(1,), pickup=(0,)),
    )
    return Problem(
        depots=base.depots,
        vehicles=base.vehicles,
        orders=base.orders + extra,
        horizon=base.horizon,
        objective=Objective(unplanned=2.0),
    )


def _plan_with_drops(problem: Problem) -> Plan:
    """o1 and o2 served by van-1; "opt" and "req" left out, each with a reason."""
    travel = Euclidean(scale=1, truncate=False).build(problem.locations, profile="van")
    route = build_route(problem, travel, problem.vehicle("van-1"), ["o1", "o2"])
    unplanned = (
        Unplanned(
            order_id="opt",
            code=UnplannedCode.NOT_WORTH_SERVING,
            reason="optional: serving it would cost more than its penalty",
        ),
        Unplanned(
            order_id="req",
            code=UnplannedCode.FLEET_FULL,
            reason="each vehicle able to serve it is fully used",
        ),
    )
    plan = Plan(
        status=PlanStatus.PARTIAL,
        routes=(route,),
        unplanned=unplanned,
        totals=summarize((route,), len(unplanned)),
        solver_status="test",
    )
    assert_plan_ok(problem, plan, travel)
    return plan


def test_kpi_row_prices_unplanned_orders_as_the_solver_does() -> None:
    """An optional order costs penalty x 2^priority x the unplanned weight; a
    required one REQUIRED_PENALTY (1e6) unscaled; total = route cost + both."""
    problem = _day_with_drops()
    plan = _plan_with_drops(problem)
    row = kpi_row("base", plan, problem=problem)
    route_cost = sum(r.cost for r in plan.routes)
    expected_penalty = 250.0 * 2 * 2.0 + 1_000_000.0  # written out, not recomputed
    assert row["cost"] == pytest.approx(route_cost)
    assert row["unplanned_penalty"] == pytest.approx(expected_penalty)
    assert row["total_cost"] == pytest.approx(route_cost + expected_penalty)
    assert (row["orders_planned"], row["orders_unplanned"]) == (2, 2)
    assert row["unplanned_orders"] == [
        {
            "order_id": "opt",
            "code": "not_worth_serving",
            "reason": "optional: serving it would cost more than its penalty",
            "is_optional": True,
            "penalty": pytest.approx(1000.0),
        },
        {
            "order_id": "req",
            "code": "fleet_full",
            "reason": "each vehicle able to serve it is fully used",
            "is_optional": False,
            "penalty": pytest.approx(1_000_000.0),
        },
    ]
    assert unplanned_penalty(problem, problem.order("opt")) == pytest.approx(1000.0)


def test_markdown_lists_unplanned_ids_and_reasons() -> None:
    """The table's unplanned_orders cell names the ids; a section below the
    table gives each one's code and reason; no section when nothing is dropped."""
    problem = _day_with_drops()
    plan = _plan_with_drops(problem)
    text = markdown_table([kpi_row("fewer vans", plan, problem=problem)])
    table, _, below = text.partition("\n\n")
    header = [c.strip() for c in table.splitlines()[0].strip("|").split("|")]
    cells = [c.strip() for c in table.splitlines()[2].strip("|").split("|")]
    row = dict(zip(header, cells, strict=True))
    assert row["unplanned_orders"] == "opt, req"
    assert row["unplanned_penalty"] == "1,001,000.00"
    assert below.startswith("Unplanned orders and why:")
    assert "**fewer vans**: 2 unplanned" in below
    assert "`opt` (not_worth_serving): optional: serving it would cost" in below
    assert "`req` (fleet_full): each vehicle able to serve it is fully used" in below
    served = _problem()
    travel = Euclidean(scale=1, truncate=False).build(served.locations, profile="van")
    route = build_route(served, travel, served.vehicle("van-1"), ["o1", "o2"])
    full = Plan(
        status=PlanStatus.SOLVED,
        routes=(route,),
        unplanned=(),
        totals=summarize((route,), 0),
        solver_status="test",
    )
    assert_plan_ok(served, full, travel)
    clean = markdown_table([kpi_row("base", full, problem=served)])
    assert "Unplanned orders and why" not in clean
    assert "\n\n" not in clean


def test_markdown_caps_long_unplanned_lists() -> None:
    """Past 20 ids the cell says how many more; past 50 reasons the section
    does too."""
    unplanned = [
        {"order_id": f"o{k}", "code": "fleet_full", "reason": "full"} for k in range(60)
    ]
    text = markdown_table([{"name": "big", "unplanned_orders": unplanned}])
    assert "o19, +40 more |" in text
    assert "`o49` (fleet_full): full" in text
    assert "`o50`" not in text
    assert "... 10 more" in text
