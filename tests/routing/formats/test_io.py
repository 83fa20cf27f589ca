"""Tests for routing.formats: scenario JSON <-> Problem and Plan <-> JSON."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import math
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import routing.formats.scenario
from routing.domain.errors import InvalidProblemError
from routing.domain.model import (
    ALL_DAY,
    OBJECTIVE_FIELDS,
    Break,
    Depot,
    Objective,
    Order,
    Pair,
    Point,
    Problem,
    Tier,
    TimeWindow,
    Vehicle,
)
from routing.domain.plan import (
    Costs,
    EngineRun,
    Plan,
    PlanStatus,
    Route,
    RouteBreak,
    Unplanned,
    UnplannedCode,
    Visit,
    summarize,
)
from routing.formats import (
    load_plan,
    load_problem,
    plan_from_dict,
    plan_to_dict,
    problem_from_dict,
    problem_to_dict,
    save_plan,
)

DATA = Path(__file__).resolve().parents[2] / "data"
SMALL = DATA / "small_valid.json"
README = Path(__file__).resolve().parents[3] / "scenarios" / "README.md"


@pytest.fixture(scope="module")
def small() -> Problem:
    """The small valid scenario, loaded once per module."""
    return load_problem(SMALL)


def _raw_small() -> dict[str, object]:
    data = json.loads(SMALL.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


# ------------------------------------------------------------------ valid input


def test_small_valid_top_level(small: Problem) -> None:
    """Top-level keys are parsed: clock text becomes seconds, travel passes through."""
    assert small.name == "small-valid"
    assert small.date == "2024-05-14"
    assert small.quantities == ("kg", "parcels")
    assert small.horizon == TimeWindow(6 * 3600, 22 * 3600)
    assert dict(small.travel) == {
        "provider": "haversine",
        "detour_factor": 1.3,
        "speeds_kmh": {"van": 30, "bike": 15},
    }
    assert [d.id for d in small.depots] == ["AND-1", "ESC-2"]
    assert [v.id for v in small.vehicles] == ["van-1", "van-2", "bike-1"]
    assert [o.id for o in small.orders] == ["o-1", "o-2", "o-3", "o-4", "o-5", "o-6"]


def test_small_valid_depots(small: Problem) -> None:
    """A depot without an opening is open for the whole horizon, not the whole day."""
    and1, esc2 = small.depots
    assert and1.opening == TimeWindow(25200, 72000)
    assert and1.address.startswith("Av. Meritxell")
    assert and1.location.lat == pytest.approx(42.4965)  # type: ignore[union-attr]
    assert esc2.opening == small.horizon
    assert esc2.address == ""


def test_small_valid_vehicles(small: Problem) -> None:
    """Vehicle keys map to the model: end_depot default and null, km, durations."""
    van1, van2, bike = small.vehicles
    assert van1.end_depot == "AND-1"  # omitted: back to the start depot
    assert van1.shift == TimeWindow(8 * 3600, 17 * 3600)
    assert van1.max_duration_s == 8 * 3600 + 30 * 60
    assert van1.skills == frozenset({"cold_chain"})
    assert (van1.fixed_cost, van1.cost_per_km, van1.cost_per_hour) == (50, 0.35, 24)
    assert van2.end_depot == "ESC-2"
    assert van2.shift == small.horizon
    assert van2.max_stops == 12
    assert van2.profile == "van"
    assert bike.end_depot is None
    assert bike.is_open_ended
    assert bike.max_distance_m == 12_500
    assert bike.profile == "bike"
    assert bike.capacity == (30, 8)


def test_small_valid_orders(small: Problem) -> None:
    """Order windows, durations, default vectors and optional flags are parsed."""
    o1, o2, o3, o4, o5, o6 = small.orders
    assert o1.windows == (TimeWindow(34200, 39600),)  # "09:30" -> 34200
    assert o1.service_s == 180
    assert (o1.delivery, o1.pickup) == ((12, 1), (3, 1))
    assert o2.windows == (TimeWindow(32400, 36000), TimeWindow(50400, 57600))
    assert o2.service_s == 300  # "0:05"
    assert o2.pickup == (0, 0)  # omitted -> zeros of the right length
    assert o3.delivery == (0, 0)
    assert o3.windows == ()
    assert o3.notes == "return: two parcels"
    assert o4.skills == frozenset({"cold_chain"})
    assert o4.priority == 2
    assert o5.windows == (TimeWindow(36030, 41400),)  # "10:00:30" and seconds
    assert o5.is_optional
    assert o5.penalty == 250
    assert o6.is_optional
    assert o6.penalty is None


def test_minimal_scenario_defaults() -> None:
    """Omitted optional keys take the README defaults."""
    problem = problem_from_dict(
        {
            "depots": [{"id": "D", "location": {"x": 0, "y": 0}}],
            "vehicles": [{"id": "V", "start_depot": "D", "capacity": [10]}],
            "orders": [{"id": "O", "location": {"x": 3, "y": 4}}],
        }
    )
    assert problem.name == ""
    assert problem.date is None
    assert problem.quantities == ("units",)
    assert problem.horizon == ALL_DAY
    assert dict(problem.travel) == {}
    assert problem.is_planar
    vehicle, order = problem.vehicles[0], problem.orders[0]
    assert vehicle.end_depot == "D"
    assert vehicle.shift == ALL_DAY
    assert vehicle.max_duration_s is None
    assert (order.delivery, order.pickup, order.service_s) == ((0,), (0,), 0)
    assert not order.is_optional


def test_empty_fleet_is_valid() -> None:
    """A scenario with no vehicles loads (nothing will be planned)."""
    problem = problem_from_dict(
        {
            "depots": [{"id": "D", "location": {"x": 0, "y": 0}}],
            "vehicles": [],
            "orders": [],
        }
    )
    assert problem.vehicles == ()


# ----------------------------------------------------------------- round trips


def test_problem_round_trip(small: Problem) -> None:
    """problem_from_dict(problem_to_dict(p)) == p, also through JSON text."""
    data = problem_to_dict(small)
    assert problem_from_dict(data) == small
    assert problem_from_dict(json.loads(json.dumps(data))) == small


def test_problem_to_dict_uses_clock_text_and_omits_defaults(small: Problem) -> None:
    """Whole-minute times are written "HH:MM", others as seconds; defaults omitted."""
    data = problem_to_dict(small)
    assert data["horizon"] == ["06:00", "22:00"]
    depots, vehicles, orders = data["depots"], data["vehicles"], data["orders"]
    assert isinstance(depots, list)
    assert isinstance(vehicles, list)
    assert isinstance(orders, list)
    assert depots[0]["opening"] == ["07:00", "20:00"]
    assert "opening" not in depots[1]  # equals the horizon
    assert "end_depot" not in vehicles[0]  # equals start_depot
    assert vehicles[0]["max_duration"] == "08:30"
    assert vehicles[2]["end_depot"] is None  # open-ended stays explicit
    assert vehicles[2]["max_distance_km"] == 12.5
    assert orders[1]["windows"] == [["09:00", "10:00"], ["14:00", "16:00"]]
    assert orders[2]["pickup"] == [8, 2]
    assert "delivery" not in orders[2]
    assert orders[4]["windows"] == [[36030, "11:30"]]


def test_python_built_problem_round_trip() -> None:
    """A problem built in code (planar, night horizon, odd seconds) round-trips."""
    problem = Problem(
        depots=(Depot(id="D", location=Point(0.5, 1.0)),),  # opening = ALL_DAY
        vehicles=(
            Vehicle(
                id="V",
                start_depot="D",
                end_depot=None,
                capacity=(5, 7),
                shift=TimeWindow(20 * 3600, 30 * 3600 + 1),
                max_duration_s=3601,
                max_distance_m=1234,
                skills=frozenset({"b", "a"}),
            ),
        ),
        orders=(
            Order(
                id="O",
                location=Point(3, 4),
                delivery=(1, 0),
                pickup=(0, 2),
                service_s=61,
                windows=(TimeWindow(22 * 3600 + 7, 25 * 3600),),
                is_optional=True,
            ),
        ),
        quantities=("kg", "crates"),
        horizon=TimeWindow(18 * 3600, 32 * 3600),
        travel={"provider": "euclidean", "scale": 10, "truncate": True},
    )
    assert problem_from_dict(json.loads(json.dumps(problem_to_dict(problem)))) == (
        problem
    )


# ------------------------------------------------------- delivery-day features


def _delivery_day_scenario() -> dict[str, Any]:
    """A scenario using every delivery-day key: tiers, pairs, kinds, breaks."""
    return {
        "name": "delivery-day",
        "quantities": ["kg", "parcels"],
        "objective": {
            "lateness": 2,
            "waiting_per_hour": 5,
            "early_per_hour": 1.5,
            "balance_per_hour": 10,
        },
        "tiers": [
            {
                "id": "vip",
                "max_lateness": "00:00",
                "lateness_cost_per_hour": 60,
                "priority": 3,
            },
            {"id": "standard", "max_lateness": "00:30", "lateness_cost_per_hour": 20},
            {"id": "economy", "max_lateness": 5400},
        ],
        "depots": [{"id": "AND-1", "location": {"lat": 42.4965, "lon": 1.4995}}],
        "vehicles": [
            {
                "id": "van-1",
                "start_depot": "AND-1",
                "shift": ["08:00", "17:00"],
                "capacity": [600, 60],
                "breaks": [
                    {"window": ["12:00", "13:30"], "duration": "00:30"},
                    {"window": ["15:00", "15:30"], "duration": 601},
                ],
            },
            {
                "id": "partner-1",
                "start_depot": "AND-1",
                "capacity": [600, 60],
                "fixed_cost": 250,
                "kind": "partner_van",
            },
            {
                "id": "bike-1",
                "start_depot": "AND-1",
                "capacity": [30, 8],
                "profile": "bike",
                "kind": "cargo_bike",
            },
        ],
        "orders": [
            {
                "id": "o-1",
                "location": {"lat": 42.5078, "lon": 1.5211},
                "windows": [["09:00", "11:00"]],
                "delivery": [12, 1],
                "tier": "vip",
            },
            {
                "id": "o-2",
                "location": {"lat": 42.5102, "lon": 1.535},
                "windows": [["13:00", "15:00"]],
                "delivery": [5, 1],
                "tier": "standard",
                "max_lateness": "00:20",
                "lateness_cost_per_hour": 30,
                "vehicle_kinds": ["van", "partner_van"],
            },
            {
                "id": "o-3",
                "location": {"lat": 42.5436, "lon": 1.5133},
                "pickup": [3, 1],
                "tier": "vip",
                "priority": 0,
            },
            {
                "id": "o-4",
                "location": {"lat": 42.5001, "lon": 1.512},
                "delivery": [3, 1],
                "max_lateness": 1234,
            },
            {
                "id": "o-5",
                "location": {"lat": 42.4990, "lon": 1.4901},
                "pickup": [1, 1],
                "tier": "economy",
            },
            {
                "id": "o-6",
                "location": {"lat": 42.5152, "lon": 1.5402},
                "delivery": [1, 1],
                "max_lateness": "00:00",
            },
        ],
        "pairs": [
            {"id": "p1", "pickup": "o-3", "delivery": "o-4", "max_ride": "01:00"},
            {"id": "p2", "pickup": "o-5", "delivery": "o-6"},
        ],
    }


def test_delivery_day_keys_are_read() -> None:
    """Tiers, pairs, kinds, breaks and the new order and objective keys are parsed."""
    problem = problem_from_dict(_delivery_day_scenario())
    assert problem.objective == Objective(
        lateness=2.0, waiting_per_hour=5.0, early_per_hour=1.5, balance_per_hour=10.0
    )
    assert problem.tiers == (
        Tier(id="vip", max_lateness_s=0, lateness_cost_per_hour=60.0, priority=3),
        Tier(id="standard", max_lateness_s=1800, lateness_cost_per_hour=20.0),
        Tier(id="economy", max_lateness_s=5400),
    )
    assert problem.pairs == (
        Pair(id="p1", pickup="o-3", delivery="o-4", max_ride_s=3600),
        Pair(id="p2", pickup="o-5", delivery="o-6"),
    )
    van, partner, bike = problem.vehicles
    assert van.kind == "van"  # the default
    assert van.breaks == (
        Break(window=TimeWindow(43200, 48600), duration_s=1800),
        Break(window=TimeWindow(54000, 55800), duration_s=601),
    )
    assert (partner.kind, partner.breaks) == ("partner_van", ())
    assert (bike.kind, bike.profile) == ("cargo_bike", "bike")
    o1, o2, o3, o4, o5, o6 = problem.orders
    assert (o1.tier, o1.priority, o1.max_lateness_s) == ("vip", None, None)
    assert o1.lateness_cost_per_hour is None
    assert o1.vehicle_kinds == frozenset()
    assert (o2.max_lateness_s, o2.lateness_cost_per_hour) == (1200, 30.0)
    assert o2.vehicle_kinds == frozenset({"van", "partner_van"})
    assert o3.priority == 0  # explicit 0 overrides the tier's 3
    assert (o4.tier, o4.max_lateness_s) == (None, 1234)
    assert o6.max_lateness_s == 0
    # The tiers' values reach the orders through the problem.
    assert problem.policy(o1).priority == 3
    assert problem.policy(o3).priority == 0
    assert problem.policy(o2).max_lateness_s == 1200
    assert problem.policy(o5).max_lateness_s == 5400
    assert problem.is_paired_delivery("o-4")


def test_delivery_day_round_trip() -> None:
    """A problem using every delivery-day key round-trips, also through JSON text."""
    problem = problem_from_dict(_delivery_day_scenario())
    data = problem_to_dict(problem)
    assert problem_from_dict(data) == problem
    assert problem_from_dict(json.loads(json.dumps(data))) == problem


def test_delivery_day_written_keys() -> None:
    """Durations are clock text; defaults are left out, explicit overrides kept."""
    data: dict[str, Any] = problem_to_dict(problem_from_dict(_delivery_day_scenario()))
    assert list(data)[-4:] == ["depots", "vehicles", "orders", "pairs"]
    assert data["tiers"][0] == {
        "id": "vip",
        "lateness_cost_per_hour": 60.0,
        "priority": 3,
    }
    assert data["tiers"][2] == {"id": "economy", "max_lateness": "01:30"}
    vehicles = data["vehicles"]
    assert "kind" not in vehicles[0]
    assert vehicles[0]["breaks"] == [
        {"window": ["12:00", "13:30"], "duration": "00:30"},
        {"window": ["15:00", "15:30"], "duration": 601},
    ]
    assert vehicles[2]["kind"] == "cargo_bike"
    orders = data["orders"]
    assert "priority" not in orders[0]
    assert orders[2]["priority"] == 0
    assert orders[1]["max_lateness"] == "00:20"
    assert orders[1]["vehicle_kinds"] == ["partner_van", "van"]
    assert orders[3]["max_lateness"] == 1234
    assert orders[5]["max_lateness"] == "00:00"
    assert data["pairs"] == [
        {"id": "p1", "pickup": "o-3", "delivery": "o-4", "max_ride": "01:00"},
        {"id": "p2", "pickup": "o-5", "delivery": "o-6"},
    ]
    assert data["objective"] == {
        "lateness": 2.0,
        "waiting_per_hour": 5.0,
        "early_per_hour": 1.5,
        "balance_per_hour": 10.0,
    }


def test_absent_and_null_order_keys_defer_to_the_tier() -> None:
    """An order's priority, tier and lateness keys read absent or null as None."""
    data = _delivery_day_scenario()
    data["orders"][0].update(
        priority=None, max_lateness=None, lateness_cost_per_hour=None
    )
    data["orders"][3].update(tier=None)
    data["pairs"][0].update(max_ride=None)
    problem = problem_from_dict(data)
    o1, o4 = problem.orders[0], problem.orders[3]
    assert (o1.priority, o1.max_lateness_s, o1.lateness_cost_per_hour) == (
        None,
        None,
        None,
    )
    assert o4.tier is None
    assert problem.pairs[0].max_ride_s is None


def test_python_built_delivery_day_round_trip() -> None:
    """A problem built in code with odd-second breaks and overrides round-trips."""
    problem = Problem(
        depots=(Depot(id="D", location=Point(0, 0)),),
        vehicles=(
            Vehicle(
                id="V",
                start_depot="D",
                end_depot="D",
                capacity=(5,),
                kind="cargo_bike",
                breaks=(Break(window=TimeWindow(3601, 7200), duration_s=59),),
            ),
        ),
        orders=(
            Order(id="A", location=Point(1, 0), delivery=(0,), pickup=(2,)),
            Order(
                id="B",
                location=Point(2, 0),
                delivery=(2,),
                pickup=(0,),
                tier="t",
                priority=0,
                max_lateness_s=0,
                lateness_cost_per_hour=0.0,
                vehicle_kinds=frozenset({"cargo_bike"}),
            ),
        ),
        objective=Objective(balance_per_hour=3.25),
        tiers=(Tier(id="t", max_lateness_s=61, priority=1),),
        pairs=(Pair(id="P", pickup="A", delivery="B", max_ride_s=0),),
    )
    data = json.loads(json.dumps(problem_to_dict(problem)))
    assert problem_from_dict(data) == problem
    assert data["orders"][1]["lateness_cost_per_hour"] == 0.0
    assert data["pairs"][0]["max_ride"] == "00:00"


def test_objective_reads_every_field() -> None:
    """The objective block accepts exactly model.OBJECTIVE_FIELDS."""
    data = _raw_small()
    data["objective"] = {key: 0.5 for key in OBJECTIVE_FIELDS}
    problem = problem_from_dict(data)
    assert problem.objective == Objective(**{key: 0.5 for key in OBJECTIVE_FIELDS})
    assert problem_from_dict(problem_to_dict(problem)) == problem


def _hand_built_plan() -> Plan:
    van = Route(
        vehicle_id="van-1",
        start_depot="AND-1",
        end_depot="AND-1",
        start_s=31200,
        end_s=36000,
        visits=(
            Visit(
                order_id="o-1",
                arrival_s=34320,
                wait_s=0,
                start_s=34320,
                departure_s=34500,
                load=(40, 3),
                travel_s=3120,
                distance_m=26000,
            ),
            Visit(
                order_id="o-4",
                arrival_s=35100,
                wait_s=0,
                start_s=35100,
                departure_s=35340,
                load=(0, 0),
                travel_s=600,
                distance_m=5000,
            ),
        ),
        start_load=(52, 4),
        distance_m=36000,
        travel_s=4380,
        service_s=420,
        wait_s=0,
        load_factor=0.0866666666666667,
        cost=82.8,
        end_travel_s=660,
        end_distance_m=5000,
    )
    bike = Route(
        vehicle_id="bike-1",
        start_depot="ESC-2",
        end_depot=None,
        start_s=32400,
        end_s=33005,
        visits=(
            Visit(
                order_id="o-3",
                arrival_s=33005,
                wait_s=0,
                start_s=33005,
                departure_s=33005,
                load=(8, 2),
                travel_s=605,
                distance_m=2500,
            ),
        ),
        start_load=(0, 0),
        distance_m=2500,
        travel_s=605,
        service_s=0,
        wait_s=0,
        load_factor=0.26666666666666666,
        cost=0.0,
    )
    unplanned = (
        Unplanned(
            order_id="o-2",
            code=UnplannedCode.NO_VEHICLE_FITS,
            reason="no vehicle reaches it inside 09:00-10:00 or 14:00-16:00",
        ),
        Unplanned(
            order_id="o-5",
            code=UnplannedCode.NOT_WORTH_SERVING,
            reason="penalty 250 is below the detour cost",
        ),
    )
    routes = (van, bike)
    return Plan(
        status=PlanStatus.PARTIAL,
        routes=routes,
        unplanned=unplanned,
        totals=summarize(routes, len(unplanned)),
        solver_status="success",
        objective=8_280_000,
        stats={"validate_s": 0.001, "solve_s": 1.25, "solutions": 17},
        problem_name="small-valid",
    )


def test_plan_round_trip() -> None:
    """plan_from_dict(plan_to_dict(p)) == p, also through JSON text."""
    plan = _hand_built_plan()
    data = plan_to_dict(plan)
    assert plan_from_dict(data) == plan
    assert plan_from_dict(json.loads(json.dumps(data))) == plan


def test_plan_round_trip_keeps_search_report() -> None:
    """What each engine did and why the search stopped survive the plan file."""
    plan = dataclasses.replace(
        _hand_built_plan(),
        stop_reason="converged: no better plan for the patience period",
        engines=(
            EngineRun(
                engine="pyvrp",
                outcome="warm_start",
                relaxations=("breaks (2 vehicles): left out",),
                elapsed_s=1.5,
                objective=12_345,
                repaired=2,
                started_s=0.4,
                iterations=9_517,
                routes_eliminated=1,
            ),
            EngineRun(engine="vroom", outcome="skipped", reason="not installed"),
        ),
    )
    data = json.loads(json.dumps(plan_to_dict(plan)))
    assert data["search"]["engines"][0]["cost"] == 12_345 / 100_000
    assert plan_from_dict(data) == plan


def test_plan_dict_has_integers_and_clock_text() -> None:
    """The plan dict keeps integer seconds and meters and adds clock text to times."""
    data = plan_to_dict(_hand_built_plan())
    assert data["status"] == "partial"
    assert data["solver_status"] == "success"
    assert data["objective"] == 8_280_000
    assert data["stats"] == {"validate_s": 0.001, "solve_s": 1.25, "solutions": 17}
    totals = data["totals"]
    assert isinstance(totals, dict)
    assert totals["distance_m"] == 38500
    assert totals["orders_unplanned"] == 2
    routes = data["routes"]
    assert isinstance(routes, list)
    van, bike = routes
    assert (van["start_s"], van["start"], van["end"]) == (31200, "08:40", "10:00")
    assert van["duration"] == "01:20"
    visit = van["visits"][0]
    assert (visit["arrival_s"], visit["arrival"]) == (34320, "09:32")
    assert (visit["departure_s"], visit["departure"]) == (34500, "09:35")
    assert visit["load"] == [40, 3]
    assert "address" not in visit  # only with a problem
    assert bike["end_depot"] is None
    assert bike["visits"][0]["arrival"] == "09:10:05"
    assert data["unplanned"] == [
        {
            "order_id": "o-2",
            "code": "no_vehicle_fits",
            "reason": "no vehicle reaches it inside 09:00-10:00 or 14:00-16:00",
        },
        {
            "order_id": "o-5",
            "code": "not_worth_serving",
            "reason": "penalty 250 is below the detour cost",
        },
    ]


def test_plan_with_problem_adds_visit_fields(small: Problem) -> None:
    """Given the problem, visits carry address and clock windows, ignored on read."""
    plan = _hand_built_plan()
    data = plan_to_dict(plan, small)
    routes = data["routes"]
    assert isinstance(routes, list)
    visit = routes[0]["visits"][0]
    assert visit["address"] == "Carrer Major 5"
    assert visit["windows"] == [["09:30", "11:00"]]
    assert routes[1]["visits"][0]["notes"] == "return: two parcels"
    assert plan_from_dict(data) == plan


def test_save_and_load_plan(small: Problem, tmp_path: Path) -> None:
    """save_plan writes readable JSON that load_plan reads back to an equal plan."""
    plan = _hand_built_plan()
    path = tmp_path / "plan.json"
    save_plan(plan, path, problem=small)
    text = path.read_text(encoding="utf-8")
    assert '"arrival": "09:32"' in text
    assert '"load": [40, 3]' in text  # short vectors stay on one line
    assert json.loads(text)["status"] == "partial"
    assert load_plan(path) == plan


def test_plan_to_dict_rejects_foreign_order(small: Problem) -> None:
    """A visit to an order the problem does not have is reported, not a KeyError."""
    plan = _hand_built_plan()
    other = problem_from_dict(
        {
            "depots": [{"id": "AND-1", "location": {"lat": 42.5, "lon": 1.5}}],
            "vehicles": [],
            "orders": [],
        }
    )
    with pytest.raises(InvalidProblemError) as info:
        plan_to_dict(plan, other)
    assert info.value.path == "routes[0].visits[0].order_id"
    assert info.value.entity_id == "o-1"


@pytest.mark.parametrize(
    ("edit", "path", "entity_id"),
    [
        (lambda d: d.update(status="done"), "status", None),
        (lambda d: d.update(colour="red"), "colour", None),
        (lambda d: d.pop("totals"), "totals", None),
        (
            lambda d: d["routes"][0]["visits"][1].pop("arrival_s"),
            "routes[0].visits[1].arrival_s",
            "o-4",
        ),
        (
            lambda d: d["routes"][1].update(cost="free"),
            "routes[1].cost",
            "bike-1",
        ),
        (
            lambda d: d["unplanned"][0].update(code="lost"),
            "unplanned[0].code",
            "o-2",
        ),
        (lambda d: d["stats"].update(solve_s=None), "stats.solve_s", None),
    ],
)
def test_plan_from_dict_errors(
    edit: Callable[[dict[str, Any]], object], path: str, entity_id: str | None
) -> None:
    """A broken plan dict raises InvalidProblemError pointing at the bad value."""
    data = copy.deepcopy(plan_to_dict(_hand_built_plan()))
    edit(data)
    with pytest.raises(InvalidProblemError) as info:
        plan_from_dict(data)
    assert (info.value.path, info.value.entity_id) == (path, entity_id)


def _delivery_day_plan() -> Plan:
    """The hand-built plan with lateness, a break, empty km and split costs."""
    plan = _hand_built_plan()
    van, bike = plan.routes
    late_visit = dataclasses.replace(van.visits[1], late_s=720)
    van = dataclasses.replace(
        van,
        visits=(van.visits[0], late_visit),
        empty_distance_m=5000,
        mean_load_factor=0.061,
        late_s=720,
        breaks=(RouteBreak(34500, 34800),),
        costs=Costs(fixed=50.0, distance=12.6, time=16.0, lateness=4.2),
    )
    bike = dataclasses.replace(bike, mean_load_factor=0.2667, costs=Costs())
    routes = (van, bike)
    return dataclasses.replace(
        plan, routes=routes, totals=summarize(routes, len(plan.unplanned))
    )


def test_delivery_day_plan_round_trip() -> None:
    """A plan with late visits, breaks and split costs reads back equal."""
    plan = _delivery_day_plan()
    assert plan.totals.late_stops == 1
    data = plan_to_dict(plan)
    assert plan_from_dict(data) == plan
    assert plan_from_dict(json.loads(json.dumps(data))) == plan


def test_delivery_day_plan_keys() -> None:
    """Plan JSON carries late_s, breaks with clock text, costs and the KPIs."""
    data: dict[str, Any] = plan_to_dict(_delivery_day_plan())
    van = data["routes"][0]
    assert van["late_s"] == 720
    assert van["empty_distance_m"] == 5000
    assert van["mean_load_factor"] == 0.061
    assert van["breaks"] == [
        {"start_s": 34500, "start": "09:35", "end_s": 34800, "end": "09:40"}
    ]
    assert van["costs"] == {
        "fixed": 50.0,
        "distance": 12.6,
        "time": 16.0,
        "lateness": 4.2,
    }
    on_time, late = van["visits"]
    assert (on_time["late_s"], "late" in on_time) == (0, False)
    assert (late["late_s"], late["late"]) == (720, "00:12")
    totals = data["totals"]
    assert (totals["late_stops"], totals["late_s"]) == (1, 720)
    assert totals["empty_distance_m"] == 5000
    assert totals["on_time_rate"] == pytest.approx(2 / 3)
    assert totals["driver_hours"] == pytest.approx((4800 + 605) / 3600)
    assert totals["costs"]["fixed"] == 50.0


def test_plan_without_delivery_day_keys_still_reads() -> None:
    """A plan file written before the delivery-day keys reads with their defaults."""
    plan = _hand_built_plan()
    data: dict[str, Any] = copy.deepcopy(plan_to_dict(plan))
    for key in ("empty_distance_m", "late_stops", "late_s", "costs"):
        del data["totals"][key]
    for key in ("on_time_rate", "driver_hours"):
        del data["totals"][key]
    for route in data["routes"]:
        for key in ("empty_distance_m", "mean_load_factor", "late_s", "breaks"):
            del route[key]
        del route["costs"]
        for visit in route["visits"]:
            del visit["late_s"]
    assert plan_from_dict(data) == plan


@pytest.mark.parametrize(
    ("edit", "path", "entity_id"),
    [
        (
            lambda d: d["routes"][0]["breaks"][0].update(length=300),
            "routes[0].breaks[0].length",
            "van-1",
        ),
        (
            lambda d: d["routes"][0]["breaks"][0].pop("end_s"),
            "routes[0].breaks[0].end_s",
            "van-1",
        ),
        (
            lambda d: d["routes"][0]["breaks"][0].update(start_s="09:35"),
            "routes[0].breaks[0].start_s",
            "van-1",
        ),
        (
            lambda d: d["routes"][0].update(breaks={}),
            "routes[0].breaks",
            "van-1",
        ),
        (
            lambda d: d["routes"][0]["costs"].pop("lateness"),
            "routes[0].costs.lateness",
            "van-1",
        ),
        (
            lambda d: d["routes"][0]["costs"].update(tolls=3.5),
            "routes[0].costs.tolls",
            "van-1",
        ),
        (
            lambda d: d["routes"][1].update(costs=None),
            "routes[1].costs",
            "bike-1",
        ),
        (
            lambda d: d["routes"][1].update(mean_load_factor=math.nan),
            "routes[1].mean_load_factor",
            "bike-1",
        ),
        (
            lambda d: d["routes"][0]["visits"][1].update(late_s=12.5),
            "routes[0].visits[1].late_s",
            "o-4",
        ),
        (lambda d: d["totals"].update(late_stops=True), "totals.late_stops", None),
        (lambda d: d["totals"]["costs"].update(time="x"), "totals.costs.time", None),
        (lambda d: d["totals"].update(on_time=1.0), "totals.on_time", None),
    ],
)
def test_delivery_day_plan_errors(
    edit: Callable[[dict[str, Any]], object], path: str, entity_id: str | None
) -> None:
    """Broken plan breaks, costs and lateness raise with their path and entity."""
    data = copy.deepcopy(plan_to_dict(_delivery_day_plan()))
    edit(data)
    with pytest.raises(InvalidProblemError) as info:
        plan_from_dict(data)
    assert (info.value.path, info.value.entity_id) == (path, entity_id)


def test_load_plan_malformed_json(tmp_path: Path) -> None:
    """A plan file with a JSON syntax error raises InvalidProblemError with position."""
    path = tmp_path / "plan.json"
    path.write_text('{"status": "solved",\n "routes": [}', encoding="utf-8")
    with pytest.raises(InvalidProblemError, match="line 2, column"):
        load_plan(path)


# --------------------------------------------------------------- invalid input

INVALID = {
    "bad_clock_time": ("orders[0].windows[0][1]", "o-1"),
    "bad_date": ("date", None),
    "bad_skill": ("vehicles[0].skills[1]", "van-1"),
    "bool_as_number": ("orders[1].service", "o-2"),
    "break_missing_duration": ("vehicles[0].breaks[0].duration", "van-1"),
    "break_negative_duration": ("vehicles[0].breaks[0].duration", "van-1"),
    "break_not_object": ("vehicles[0].breaks[0]", "van-1"),
    "break_outside_shift": ("vehicles[0].breaks[0].window", "van-1"),
    "break_unknown_key": ("vehicles[0].breaks[0].length", "van-1"),
    "break_window_bad_clock": ("vehicles[0].breaks[0].window[1]", "van-1"),
    "break_window_malformed": ("vehicles[0].breaks[0].window", "van-1"),
    "break_zero_duration": ("vehicles[0].breaks[0].duration", "van-1"),
    "capacity_wrong_length": ("vehicles[1].capacity", "van-2"),
    "duplicate_depot_id": ("depots[1].id", "AND-1"),
    "duplicate_order_id": ("orders[2].id", "o-1"),
    "duplicate_quantity_name": ("quantities", None),
    "duplicate_tier_id": ("tiers[1].id", "vip"),
    "duplicate_vehicle_id": ("vehicles[1].id", "van-1"),
    "empty_id": ("orders[0].id", None),
    "horizon_end_before_start": ("horizon", None),
    "latitude_out_of_range": ("depots[0].location.lat", "AND-1"),
    "list_instead_of_object": ("orders[0].location", "o-1"),
    "malformed_json": ("", None),
    "missing_id": ("vehicles[0].id", None),
    "missing_orders": ("orders", None),
    "missing_required_field": ("orders[1].location", "o-2"),
    "mixed_coordinates": ("orders[1].location", "o-2"),
    "nan_coordinate": ("orders[2].location.lat", "o-3"),
    "negative_cost": ("vehicles[0].cost_per_km", "van-1"),
    "negative_max_distance": ("vehicles[1].max_distance_km", "van-2"),
    "negative_max_stops": ("vehicles[1].max_stops", "van-2"),
    "negative_quantity": ("orders[2].delivery[1]", "o-3"),
    "negative_service": ("orders[0].service", "o-1"),
    "no_depots": ("depots", None),
    "not_an_object": ("", None),
    "objective_negative_weight": ("objective.waiting_per_hour", None),
    "objective_wrong_type": ("objective.balance_per_hour", None),
    "optional_not_bool": ("orders[3].optional", "o-4"),
    "order_in_two_pairs": ("pairs[1].pickup", "p2"),
    "order_negative_lateness_cost": ("orders[0].lateness_cost_per_hour", "o-1"),
    "order_negative_max_lateness": ("orders[1].max_lateness", "o-2"),
    "overlapping_windows": ("orders[0].windows", "o-1"),
    "pair_goods_mismatch": ("pairs[0]", "p1"),
    "pair_missing_delivery": ("pairs[0].delivery", "p1"),
    "pair_negative_max_ride": ("pairs[0].max_ride", "p1"),
    "pair_same_order": ("pairs[0].delivery", "p1"),
    "pair_unknown_key": ("pairs[0].max_ride_s", "p1"),
    "pair_unknown_order": ("pairs[0].delivery", "p1"),
    "priority_out_of_range": ("orders[2].priority", "o-3"),
    "quantity_vector_wrong_length": ("orders[1].pickup", "o-2"),
    "repeated_json_key": ("orders[0].windows", "o-1"),
    "shift_outside_horizon": ("vehicles[0].shift", "van-1"),
    "tier_negative_max_lateness": ("tiers[1].max_lateness", "standard"),
    "tier_priority_out_of_range": ("tiers[0].priority", "vip"),
    "tier_unknown_key": ("tiers[0].max_late", "vip"),
    "tier_wrong_type": ("tiers[0].lateness_cost_per_hour", "vip"),
    "tiers_not_array": ("tiers", None),
    "time_beyond_max_horizon": ("orders[0].windows[0][1]", "o-1"),
    "travel_not_object": ("travel", None),
    "tw_start_after_end": ("orders[3].windows[0]", "o-4"),
    "unknown_coordinate_key": ("orders[0].location.lng", "o-1"),
    "unknown_depot": ("vehicles[1].start_depot", "van-2"),
    "unknown_end_depot": ("vehicles[0].end_depot", "van-1"),
    "unknown_key": ("orders[3].windws", "o-4"),
    "unknown_tier": ("orders[1].tier", "o-2"),
    "unknown_top_level_key": ("vehicle", None),
    "vehicle_kind_empty": ("vehicles[2].kind", "bike-1"),
    "vehicle_kind_wrong_type": ("vehicles[1].kind", "van-2"),
    "vehicle_kinds_not_array": ("orders[1].vehicle_kinds", "o-2"),
    "window_not_pair": ("orders[0].windows[0]", "o-1"),
    "wrong_type": ("vehicles[0].capacity[0]", "van-1"),
}
"""Invalid fixture name -> (expected error path, expected entity id)."""


@pytest.mark.parametrize(("name", "expected"), sorted(INVALID.items()))
def test_invalid_fixture(name: str, expected: tuple[str, str | None]) -> None:
    """Each invalid fixture raises InvalidProblemError with its exact path and id."""
    path, entity_id = expected
    with pytest.raises(InvalidProblemError) as info:
        load_problem(DATA / f"{name}.json")
    error = info.value
    assert (error.path, error.entity_id) == (path, entity_id)
    if entity_id is not None:
        assert f'id="{entity_id}"' in str(error)
    assert str(error).startswith(path)


def test_every_invalid_fixture_is_tested() -> None:
    """Every file in tests/data but the valid one has an entry in INVALID."""
    names = {p.stem for p in DATA.glob("*.json")} - {"small_valid"}
    assert names == set(INVALID)


def test_malformed_json_reports_line_and_column() -> None:
    """A JSON syntax error names the file, the line and the column."""
    with pytest.raises(InvalidProblemError) as info:
        load_problem(DATA / "malformed_json.json")
    assert "malformed_json.json" in str(info.value)
    assert "line 34, column 7" in str(info.value)


def test_unknown_key_lists_known_keys() -> None:
    """An unknown key is rejected with a suggestion and the list of known keys."""
    with pytest.raises(InvalidProblemError) as info:
        load_problem(DATA / "unknown_key.json")
    message = str(info.value)
    assert 'did you mean "windows"' in message
    assert "known keys: id, location, service, windows" in message


def test_problem_from_dict_rejects_non_object() -> None:
    """A top level that is not an object is an InvalidProblemError at path ""."""
    with pytest.raises(InvalidProblemError) as info:
        problem_from_dict([])  # type: ignore[arg-type]
    assert info.value.path == ""


@pytest.mark.parametrize(
    ("key", "value", "path"),
    [
        ("service", math.inf, "orders[0].service"),
        ("service", math.nan, "orders[0].service"),
        ("service", "1:5", "orders[0].service"),
        ("priority", True, "orders[0].priority"),
        ("priority", 1.0, "orders[0].priority"),
        ("penalty", math.inf, "orders[0].penalty"),
        ("location", {"lat": 10**400, "lon": 0}, "orders[0].location.lat"),
        ("location", {"lat": 1}, "orders[0].location.lon"),
        ("location", {}, "orders[0].location"),
        ("windows", {"start": "09:00"}, "orders[0].windows"),
        ("windows", ["09:00", "10:00"], "orders[0].windows[0]"),
        ("delivery", 5, "orders[0].delivery"),
        ("delivery", [1.5, 0], "orders[0].delivery[0]"),
        ("skills", "fragile", "orders[0].skills"),
        ("address", None, "orders[0].address"),
        ("priority", "high", "orders[0].priority"),
        ("tier", "", "orders[0].tier"),
        ("tier", 3, "orders[0].tier"),
        ("tier", "gold", "orders[0].tier"),  # the scenario has no tiers
        ("max_lateness", "20 min", "orders[0].max_lateness"),
        ("max_lateness", True, "orders[0].max_lateness"),
        ("max_lateness", 10**30, "orders[0].max_lateness"),
        ("lateness_cost_per_hour", math.nan, "orders[0].lateness_cost_per_hour"),
        ("lateness_cost_per_hour", "30", "orders[0].lateness_cost_per_hour"),
        ("vehicle_kinds", ["van", ""], "orders[0].vehicle_kinds[1]"),
        ("vehicle_kinds", [None], "orders[0].vehicle_kinds[0]"),
    ],
)
def test_order_value_errors(key: str, value: object, path: str) -> None:
    """Values a JSON file (or caller) can hold in an order fail with their path."""
    data = _raw_small()
    orders = data["orders"]
    assert isinstance(orders, list)
    orders[0][key] = value
    with pytest.raises(InvalidProblemError) as info:
        problem_from_dict(data)
    assert (info.value.path, info.value.entity_id) == (path, "o-1")


def _leaf_paths(
    value: object, prefix: tuple[object, ...] = ()
) -> Iterator[tuple[object, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaf_paths(item, (*prefix, key))
    elif isinstance(value, list):
        for k, item in enumerate(value):
            yield from _leaf_paths(item, (*prefix, k))
    yield prefix


@pytest.mark.parametrize(
    "make_base", [_raw_small, _delivery_day_scenario], ids=["small", "delivery_day"]
)
def test_no_stray_exceptions_from_any_bad_value(
    make_base: Callable[[], dict[str, Any]],
) -> None:
    """Junk in place of any scenario value gives a Problem or InvalidProblemError."""
    junk: list[object] = [None, True, "x", "", [], {}, -1, 1.5, math.nan, 10**30]
    base = make_base()
    for path in _leaf_paths(base):
        if path and path[0] == "travel":
            continue  # free-form: validated by the travel provider
        for value in junk:
            data = copy.deepcopy(base)
            if not path:
                data = value  # type: ignore[assignment]
            else:
                target: object = data
                for step in path[:-1]:
                    target = target[step]  # type: ignore[index]
                target[path[-1]] = value  # type: ignore[index]
            with contextlib.suppress(InvalidProblemError):
                problem_from_dict(data)


def test_objective_block_round_trips_and_rejects_typos() -> None:
    """Objective weights load, round-trip, and a misspelt weight names its path."""
    data = json.loads((DATA / "small_valid.json").read_text())
    data["objective"] = {"duration": 0, "fixed_cost": 2.5}
    problem = problem_from_dict(data)
    assert problem.objective == Objective(duration=0.0, fixed_cost=2.5)
    assert problem_from_dict(problem_to_dict(problem)) == problem
    data["objective"] = {"durration": 1}
    with pytest.raises(InvalidProblemError) as info:
        problem_from_dict(data)
    assert info.value.path == "objective.durration"


# ---------------------------------------------------------------- format reference


def _readme_section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else len(text)]


@pytest.mark.parametrize(
    ("title", "known"),
    [
        ("Top level", routing.formats.scenario._TOP_KEYS),
        ("Objective", routing.formats.scenario._OBJECTIVE_KEYS),
        ("Tier", routing.formats.scenario._TIER_KEYS),
        ("Pair", routing.formats.scenario._PAIR_KEYS),
        ("Depot", routing.formats.scenario._DEPOT_KEYS),
        ("Vehicle", routing.formats.scenario._VEHICLE_KEYS),
        ("Break (in a vehicle's `breaks`)", routing.formats.scenario._BREAK_KEYS),
        ("Order", routing.formats.scenario._ORDER_KEYS),
    ],
)
def test_readme_tables_list_every_key(title: str, known: tuple[str, ...]) -> None:
    """Each key table in scenarios/README.md names exactly the keys the reader knows."""
    rows = [
        line.split("|")[1]
        for line in _readme_section(title).splitlines()
        if line.startswith("| `")
    ]
    documented = [key for cell in rows for key in re.findall(r"`(\w+)`", cell)]
    assert documented == list(known)


@pytest.mark.parametrize("title", ["Delivery-day features", "Example"])
def test_readme_examples_load(title: str) -> None:
    """The scenarios in the README's examples are valid and round-trip."""
    section = _readme_section(title)
    start = section.index("```json") + len("```json")
    problem = problem_from_dict(
        json.loads(section[start : section.index("```", start)])
    )
    assert problem_from_dict(problem_to_dict(problem)) == problem
