"""Every example scenario solves, and its plan passes the independent checker."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path

import pytest

from routing.check import check_plan
from routing.domain.model import Problem
from routing.domain.plan import Plan, PlanStatus, UnplannedCode
from routing.domain.units import parse_time_s
from routing.formats import load_problem
from routing.geo import TravelMatrix
from routing.geo.providers import build_travel
from routing.solver import SolveOptions, solve
from routing.solver.precheck import precheck

SCENARIOS = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.json"))
DELIVERY_DAY = next(
    (p for p in SCENARIOS if p.stem == "andorra_delivery_day"),
    SCENARIOS[0].with_name("andorra_delivery_day.json"),
)

LUNCH_FROM_S = parse_time_s("12:00")
LUNCH_UNTIL_S = parse_time_s("13:30")
"""Every driver of the delivery day takes 30 minutes inside 12:00-13:30."""


@functools.cache
def _solved(path: Path) -> tuple[Problem, dict[str, TravelMatrix], Plan]:
    """The scenario, its travel data and its plan at 3 s, solved once per session
    (the delivery-day tests reuse the plan of the parametrized test)."""
    problem = load_problem(path)
    travel = build_travel(problem)
    plan = solve(problem, travel, options=SolveOptions(time_limit_s=3))
    return problem, travel, plan


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_solves_with_zero_violations(path: Path) -> None:
    """The scenario yields a verified plan with every order accounted for."""
    problem, travel, plan = _solved(path)
    assert check_plan(problem, plan, travel) == []
    assert plan.status is not PlanStatus.NO_SOLUTION
    assert plan.totals.orders_planned + len(plan.unplanned) == len(problem.orders)
    for unplanned in plan.unplanned:
        assert unplanned.reason


def test_scenario_set_is_complete() -> None:
    """The examples hold a tutorial, three city days, an overbooked day and the
    full delivery day."""
    names = {p.stem for p in SCENARIOS}
    assert "tutorial" in names
    assert "andorra_overbooked" in names
    assert "andorra_delivery_day" in names
    assert len(names) >= 5


def test_overbooked_day_reports_each_kind_of_impossible_order() -> None:
    """The overbooked day plans what it can and explains each impossible order."""
    path = next(p for p in SCENARIOS if p.stem == "andorra_overbooked")
    problem, travel, plan = _solved(path)
    assert check_plan(problem, plan, travel) == []
    assert plan.status is PlanStatus.PARTIAL
    codes = {u.code for u in plan.unplanned}
    assert UnplannedCode.EXCEEDS_CAPACITY in codes
    assert UnplannedCode.MISSING_SKILL in codes
    assert codes & {UnplannedCode.OUTSIDE_SHIFTS, UnplannedCode.UNREACHABLE_IN_TIME}
    assert plan.routes


# --------------------------------------------------------------------------
# The full delivery day: every feature at once.


def test_delivery_day_file_uses_every_feature() -> None:
    """The delivery-day file holds tiers, returns, transfers, a mixed fleet with
    breaks, skills, kinds and route limits."""
    problem = load_problem(DELIVERY_DAY)
    assert len(problem.depots) == 2
    assert 100 <= len(problem.orders) <= 150
    assert {t.id for t in problem.tiers} == {"vip", "standard", "economy"}
    policies = {o.tier: problem.policy(o) for o in problem.orders}
    assert not policies["vip"].is_soft and policies["vip"].priority == 2
    assert policies["standard"].max_lateness_s == 20 * 60
    assert policies["economy"].max_lateness_s == 60 * 60
    assert (
        policies["economy"].lateness_cost_per_hour
        < policies["standard"].lateness_cost_per_hour
    )
    pickup_only = [o for o in problem.orders if not any(o.delivery)]
    with_return = [o for o in problem.orders if any(o.delivery) and any(o.pickup)]
    paired = {p.pickup for p in problem.pairs}
    assert [o for o in pickup_only if o.id not in paired]
    assert with_return
    assert len(problem.pairs) >= 6
    assert any(p.max_ride_s for p in problem.pairs)
    assert any(p.max_ride_s is None for p in problem.pairs)
    kinds = [v.kind for v in problem.vehicles]
    assert kinds.count("cargo_bike") == 2 and kinds.count("partner_van") == 2
    assert all(v.profile == "bike" for v in problem.vehicles if v.kind == "cargo_bike")
    speeds = problem.travel["speeds_kmh"]
    assert isinstance(speeds, Mapping) and "bike" in speeds
    partner_fixed = min(
        v.fixed_cost for v in problem.vehicles if v.kind == "partner_van"
    )
    assert partner_fixed > max(
        v.fixed_cost for v in problem.vehicles if v.kind != "partner_van"
    )
    skills = {"fragile", "cold_chain", "cash_on_delivery"}
    assert skills <= set().union(*(o.skills for o in problem.orders))
    assert skills <= set().union(*(v.skills for v in problem.vehicles))
    assert any(o.vehicle_kinds == {"van", "partner_van"} for o in problem.orders)
    for v in problem.vehicles:
        assert [
            (b.window.start_s, b.window.end_s + b.duration_s) for b in v.breaks
        ] == [(LUNCH_FROM_S, LUNCH_UNTIL_S)]
    assert any(v.max_stops for v in problem.vehicles)
    assert any(v.max_duration_s for v in problem.vehicles)


def test_delivery_day_plan_keeps_every_rule() -> None:
    """The delivery day's plan serves every VIP order in its slot, keeps lunch,
    transfers, kinds, skills, lateness allowances and route limits."""
    problem, travel, plan = _solved(DELIVERY_DAY)
    assert check_plan(problem, plan, travel) == []
    assert plan.status is not PlanStatus.NO_SOLUTION
    assert all(u.reason for u in plan.unplanned)
    where = {v.order_id: (r, k) for r in plan.routes for k, v in enumerate(r.visits)}
    # VIP orders: all planned, none late.
    vip = [o for o in problem.orders if o.tier == "vip"]
    assert vip and all(o.id in where for o in vip)
    # Lateness within each order's allowance; VIP slots are hard.
    for route in plan.routes:
        for visit in route.visits:
            policy = problem.policy(problem.order(visit.order_id))
            assert 0 <= visit.late_s <= policy.max_lateness_s
    # Lunch: a route under way over lunchtime takes 30 minutes inside 12:00-13:30.
    lunch_routes = [
        r for r in plan.routes if r.start_s < LUNCH_FROM_S and r.end_s > LUNCH_UNTIL_S
    ]
    assert lunch_routes
    for route in lunch_routes:
        taken = [
            b
            for b in route.breaks
            if b.start_s >= LUNCH_FROM_S and b.end_s <= LUNCH_UNTIL_S
        ]
        assert [b.duration_s for b in taken] == [30 * 60], route.vehicle_id
    # Transfers: both orders on one vehicle, pickup first, ride within the limit.
    planned_pairs = [p for p in problem.pairs if p.pickup in where]
    assert planned_pairs
    for pair in problem.pairs:
        assert (pair.pickup in where) == (pair.delivery in where), pair.id
        if pair.pickup not in where:
            continue
        (route_p, k_p), (route_d, k_d) = where[pair.pickup], where[pair.delivery]
        assert route_p is route_d and k_p < k_d, pair.id
        if pair.max_ride_s is not None:
            ride_s = route_d.visits[k_d].start_s - route_p.visits[k_p].departure_s
            assert ride_s <= pair.max_ride_s, pair.id
    # Kinds and skills: no bulky order on a bike, every skill on board.
    bulky = [o for o in problem.orders if o.vehicle_kinds]
    assert any(o.id in where for o in bulky)
    for order_id, (route, _) in where.items():
        order, vehicle = problem.order(order_id), problem.vehicle(route.vehicle_id)
        assert not order.vehicle_kinds or vehicle.kind in order.vehicle_kinds
        assert order.skills <= vehicle.skills, order_id
    # (the rule has teeth: the day's bikes may serve some orders, never a bulky one;
    # whether this plan uses a bike at all is the search's choice, by cost)
    allowed = precheck(problem, travel).allowed
    bikes = {k for k, v in enumerate(problem.vehicles) if v.kind == "cargo_bike"}
    assert any(bikes & set(ks) for ks in allowed.values())
    assert all(not bikes & set(allowed[o.id]) for o in bulky if o.id in allowed)
    # Route limits.
    for route in plan.routes:
        vehicle = problem.vehicle(route.vehicle_id)
        if vehicle.max_stops is not None:
            assert len(route.visits) <= vehicle.max_stops
        if vehicle.max_duration_s is not None:
            assert route.duration_s <= vehicle.max_duration_s
        if vehicle.max_distance_m is not None:
            assert route.distance_m <= vehicle.max_distance_m
    # Returns ride back: each route ends with exactly its returns on board.
    for route in plan.routes:
        returns = [
            problem.order(oid).pickup
            for oid in route.order_ids
            if problem.pair_of(oid) is None
        ]
        end_load = tuple(map(sum, zip(*returns, strict=True))) if returns else None
        assert end_load is None or route.visits[-1].load == end_load
    assert any(
        any(problem.order(oid).pickup) and problem.pair_of(oid) is None for oid in where
    )
