"""Tests of compare(): the base and each variant solved, one checked KPI row each,
with the solves shippable to other processes.

Days are tiny and planar (travel at 1 m/s); solves are deterministic. Every row
reports the independent checker's verdict on its plan (``violations``).
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from functools import partial

import pytest

from routing.check import assert_plan_ok
from routing.day.whatif import (
    KPI_KEYS,
    Variant,
    compare,
    markdown_table,
    solve_variant,
    variant_to_dict,
)
from routing.domain.errors import InvalidProblemError
from routing.domain.model import Depot, Order, Point, Problem, TimeWindow, Vehicle
from routing.formats import problem_to_dict
from routing.geo import Euclidean, build_travel
from routing.solver import SolveOptions, solve

H = 3600
FAST = SolveOptions(time_limit_s=1, is_deterministic=True)
TRAVEL = partial(build_travel, provider=Euclidean(scale=1, truncate=False))
"""Picklable travel: it ships to worker processes as it is."""


def _vehicle(vid: str, depot: str) -> Vehicle:
    return Vehicle(
        id=vid,
        start_depot=depot,
        end_depot=depot,
        capacity=(4,),
        shift=TimeWindow(8 * H, 17 * H),
        cost_per_km=1.0,
        cost_per_hour=20.0,
    )


def _overbooked() -> Problem:
    """Two vans of 4 parcels each, ten parcels to deliver."""
    orders = tuple(
        Order(
            id=f"o{k}",
            location=Point(300 * math.cos(k), 300 * math.sin(k)),
            delivery=(1,),
            pickup=(0,),
            service_s=120,
        )
        for k in range(10)
    )
    return Problem(
        depots=(
            Depot(id="N", location=Point(0, 500)),
            Depot(id="S", location=Point(0, -500)),
        ),
        vehicles=(_vehicle("van-n", "N"), _vehicle("van-s", "S")),
        orders=orders,
    )


def _tight_slots() -> Problem:
    """One van, three customers 1.5 km apart all booked for 09:00-09:05."""
    orders = tuple(
        Order(
            id=f"t{k}",
            location=Point(1500 * k, 0),
            delivery=(1,),
            pickup=(0,),
            windows=(TimeWindow(9 * H, 9 * H + 300),),
        )
        for k in range(3)
    )
    return Problem(
        depots=(Depot(id="D", location=Point(0, 0)),),
        vehicles=(_vehicle("van", "D"),),
        orders=orders,
    )


def _shipping_map(
    func: Callable[..., dict[str, object]], *columns: Iterable[object]
) -> list[Future[dict[str, object]]]:
    """Pickles the work like a process pool would, and answers with futures."""
    shipped = pickle.loads(pickle.dumps(func))
    out: list[Future[dict[str, object]]] = []
    for args in zip(*columns, strict=True):
        future: Future[dict[str, object]] = Future()
        future.set_result(shipped(*pickle.loads(pickle.dumps(args))))
        out.append(future)
    return out


@pytest.fixture(scope="module")
def fleet_rows() -> list[dict[str, object]]:
    """The overbooked day compared with one more van and with depot S closed,
    the solves shipped through pickle."""
    return compare(
        _overbooked(),
        [
            Variant(name="one more van", add_vehicles=1),
            Variant(name="S closed", close_depots=("S",)),
        ],
        travel_for=TRAVEL,
        options=FAST,
        map_fn=_shipping_map,
    )


def test_rows_come_base_first_with_every_key(
    fleet_rows: list[dict[str, object]],
) -> None:
    """One row per solve, base first, each with the KPI keys in column order and
    a clean check."""
    assert [r["name"] for r in fleet_rows] == ["base", "one more van", "S closed"]
    for row in fleet_rows:
        assert tuple(row) == KPI_KEYS
        assert row["violations"] == 0


def test_row_totals_include_the_unplanned_penalty(
    fleet_rows: list[dict[str, object]],
) -> None:
    """Every order of the overbooked day is required (1e6 each when left out):
    total_cost = cost + 1e6 x unplanned, and each unplanned order is listed with
    its code and reason."""
    ids = {o.id for o in _overbooked().orders}
    for row in fleet_rows:
        unplanned = row["unplanned_orders"]
        assert isinstance(unplanned, list)
        assert len(unplanned) == row["orders_unplanned"]
        assert {u["order_id"] for u in unplanned} <= ids
        for u in unplanned:
            assert u["code"] and u["reason"] and u["is_optional"] is False
        penalty = 1_000_000.0 * len(unplanned)
        assert row["unplanned_penalty"] == pytest.approx(penalty)
        assert row["total_cost"] == pytest.approx(row["cost"] + penalty)


def test_row_matches_its_plan() -> None:
    """The base row's cost, penalty and unplanned ids equal those computed here
    from the plan of the same deterministic solve (checked by routing.check)."""
    problem = _overbooked()
    travel = TRAVEL(problem)
    plan = solve(problem, travel, options=FAST)
    assert_plan_ok(problem, plan, travel)
    cost = sum(r.cost for r in plan.routes)
    penalty = 0.0
    for u in plan.unplanned:
        order = problem.order(u.order_id)
        weight = problem.objective.unplanned if order.is_optional else 1.0
        penalty += problem.unplanned_penalty(order) * weight
    row = solve_variant(
        problem_to_dict(problem),
        variant_to_dict(Variant(name="base")),
        FAST,
        travel_for=TRAVEL,
    )
    assert row["violations"] == 0
    assert row["cost"] == pytest.approx(cost)
    assert row["unplanned_penalty"] == pytest.approx(penalty) and penalty > 0
    assert row["total_cost"] == pytest.approx(cost + penalty)
    assert row["unplanned_orders"] == [
        {
            "order_id": u.order_id,
            "code": u.code.value,
            "reason": u.reason,
            "is_optional": False,
            "penalty": pytest.approx(1_000_000.0),
        }
        for u in plan.unplanned
    ]


def test_a_variant_that_drops_orders_ranks_below_the_base(
    fleet_rows: list[dict[str, object]],
) -> None:
    """Closing S costs less in routes but leaves four more orders out: with the
    penalty it ranks below the base; the extra van serves all and ranks first."""
    base, more, closed = fleet_rows
    assert closed["cost"] < base["cost"]
    assert closed["total_cost"] > base["total_cost"]
    assert (more["rank"], base["rank"], closed["rank"]) == (1, 2, 3)
    assert base["total_vs_base"] == 0.0
    assert closed["total_vs_base"] == pytest.approx(
        closed["total_cost"] - base["total_cost"]
    )
    assert more["total_vs_base"] < 0


def test_markdown_names_every_unplanned_order_and_reason(
    fleet_rows: list[dict[str, object]],
) -> None:
    """The Markdown of the compared rows lists each row's unplanned ids and, below
    the table, each one's code and reason."""
    text = markdown_table(fleet_rows)
    table, _, below = text.partition("\n\n")
    assert table.splitlines()[0].startswith("| name | rank | status |")
    for row in fleet_rows:
        unplanned = row["unplanned_orders"]
        assert isinstance(unplanned, list)
        line = next(
            ln for ln in table.splitlines() if ln.startswith(f"| {row['name']} |")
        )
        for u in unplanned:
            assert u["order_id"] in line
            assert f"`{u['order_id']}` ({u['code']}): {u['reason']}" in below
    assert "**one more van**" not in below
    assert "**S closed**: 6 unplanned" in below


def test_ranks_put_faulted_plans_last_and_share_ties() -> None:
    """Equal totals share a rank; a plan the checker faults ranks after every
    sound one however cheap it is."""
    totals = {"base": 100.0, "a": 100.0, "b": 50.0, "c": 80.0}
    faulted = {"b"}

    def canned(
        func: object, problems: list[object], variants: list[dict[str, object]]
    ) -> list[dict[str, object]]:
        """Rows as a solver would give them, without solving."""
        return [
            {
                "name": v["name"],
                "total_cost": totals[str(v["name"])],
                "violations": int(v["name"] in faulted),
            }
            for v in variants
        ]

    rows = compare(
        _overbooked(),
        [Variant(name=n) for n in ("a", "b", "c")],
        travel_for=TRAVEL,
        map_fn=canned,
    )
    assert {r["name"]: r["rank"] for r in rows} == {"base": 2, "a": 2, "b": 4, "c": 1}
    assert [r["total_vs_base"] for r in rows] == [0.0, 0.0, -50.0, -20.0]


def test_another_van_serves_the_overbooked_day(
    fleet_rows: list[dict[str, object]],
) -> None:
    """Eight places for ten parcels leave two unplanned; a third van none."""
    base, more, _ = fleet_rows
    assert (base["orders_planned"], base["orders_unplanned"]) == (8, 2)
    assert (more["orders_planned"], more["orders_unplanned"]) == (10, 0)
    assert more["vehicles_used"] == 3


def test_closing_a_depot_loses_its_van(fleet_rows: list[dict[str, object]]) -> None:
    """With S closed only van-n drives: four parcels planned, six not."""
    closed = fleet_rows[2]
    assert closed["vehicles_used"] == 1
    assert (closed["orders_planned"], closed["orders_unplanned"]) == (4, 6)


def test_wider_slots_plan_more_orders() -> None:
    """Three customers booked for the same five minutes, far apart: one van serves
    one; with slots an hour longer it serves all three."""
    rows = compare(
        _tight_slots(),
        [Variant(name="+1h slots", widen_slots_s=H)],
        travel_for=TRAVEL,
        options=FAST,
    )
    base, wide = rows
    assert base["orders_unplanned"] == 2
    assert wide["orders_unplanned"] == 0
    assert base["violations"] == wide["violations"] == 0


def test_bad_variants_fail_before_any_solve() -> None:
    """Unknown ids and repeated names are input errors naming the variant, and
    nothing is solved."""

    def no_map(*_: object) -> list[object]:
        raise AssertionError("must not solve")

    cases = [
        (
            [Variant(name="x", remove_vehicles=("ghost",))],
            "variants[0].remove_vehicles[0]",
        ),
        ([Variant(name="a"), Variant(name="a")], "variants[1].name"),
        ([Variant(name="base")], "variants[0].name"),
    ]
    for variants, path in cases:
        with pytest.raises(InvalidProblemError) as info:
            compare(_overbooked(), variants, travel_for=TRAVEL, map_fn=no_map)
        assert info.value.path == path


def test_solve_variant_takes_builtins() -> None:
    """The worker function accepts dicts only (options included)."""
    from routing.day.whatif import variant_to_dict
    from routing.formats import problem_to_dict

    row = solve_variant(
        problem_to_dict(_tight_slots()),
        variant_to_dict(Variant(name="plain")),
        {"time_limit_s": 1, "is_deterministic": True},
        travel_for=TRAVEL,
    )
    assert row["name"] == "plain"
    assert row["orders_planned"] == 1
    assert row["violations"] == 0


def test_markdown_table_layout() -> None:
    """Header, alignment row (numbers right), two-decimal floats, escaped pipes."""
    table = markdown_table(
        [
            {"name": "base", "km": 1.23456, "orders_unplanned": 2},
            {"name": "a|b", "km": 2.0, "orders_unplanned": 0, "extra": True},
        ]
    )
    lines = table.splitlines()
    assert lines[0] == "| name | orders_unplanned | km | extra |"
    assert lines[1] == "|---|---:|---:|---|"
    assert lines[2] == "| base | 2 | 1.23 |  |"
    assert lines[3] == "| a\\|b | 0 | 2.00 | yes |"
    assert markdown_table([]) == ""


@pytest.mark.slow
def test_compare_on_a_process_pool() -> None:
    """The solves run in real worker processes and give the same rows."""
    with ProcessPoolExecutor(max_workers=1) as pool:
        rows = compare(
            _tight_slots(),
            [Variant(name="+1h slots", widen_slots_s=H)],
            travel_for=TRAVEL,
            options=FAST,
            map_fn=pool.map,
        )
    assert [r["orders_unplanned"] for r in rows] == [2, 0]


def _slow_travel(problem: Problem) -> object:
    """Travel data that takes a second to build (module level: picklable)."""
    import time

    time.sleep(1.0)
    return TRAVEL(problem)


def test_a_variants_time_limit_covers_its_travel_matrix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A variant whose travel data takes 1 s to build, with a 1.5 s limit,
    gives its search only the rest (about 0.5 s), not the whole limit again."""
    import routing.day.whatif as whatif_module
    from routing.day.whatif import variant_to_dict
    from routing.formats import problem_to_dict

    limits: list[float] = []

    def recording_solve(*args: object, **kwargs: object) -> object:
        limits.append(kwargs["options"].time_limit_s)  # type: ignore[attr-defined]
        return solve(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(whatif_module, "solve", recording_solve)
    row = solve_variant(
        problem_to_dict(_tight_slots()),
        variant_to_dict(Variant(name="plain")),
        {"time_limit_s": 1.5},
        travel_for=_slow_travel,
    )
    assert row["violations"] == 0
    (limit,) = limits
    assert 0.2 <= limit <= 0.55
