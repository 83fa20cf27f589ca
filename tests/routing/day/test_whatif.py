"""Tests of what-if variants (pure): how each field changes the day, its errors,
and the KPI row of a plan."""

from __future__ import annotations

import pytest

from routing.check import assert_plan_ok
from routing.day.whatif import (
    KPI_KEYS,
    Variant,
    apply_variant,
    kpi_row,
    variant_from_dict,
    variant_to_dict,
)
from routing.domain.errors import InvalidProblemError
from routing.domain.model import Depot, Order, Point, Problem, TimeWindow, Vehicle
from routing.domain.plan import Plan, PlanStatus, summarize
from routing.domain.timing import build_route
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
    """The row carries every KPI key, in km, hours and minutes."""
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
    row = kpi_row("base", plan)
    assert tuple(row) == KPI_KEYS
    assert row["name"] == "base"
    assert row["status"] == "solved"
    assert (row["orders_planned"], row["orders_unplanned"]) == (2, 0)
    assert row["km"] == pytest.approx(route.distance_m / 1000)
    assert row["driver_hours"] == pytest.approx(route.duration_s / 3600)
    assert row["on_time_rate"] == 1.0
    assert row["late_min"] == 0.0
    assert row["cost"] == pytest.approx(plan.totals.cost)
