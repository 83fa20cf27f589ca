"""Tests of the pre-solve bounds: a day whose orders surely cannot all be served."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from routing.domain.model import Depot, Order, Point, Problem, TimeWindow, Vehicle
from routing.formats import load_problem
from routing.geo.matrix import TravelMatrix
from routing.geo.providers import build_travel
from routing.solver.precheck import may_carry, precheck, surely_overbooked

REPO = Path(__file__).resolve().parents[3]


def _day(name: str) -> tuple[Problem, dict[str, tuple[int, ...]]]:
    problem = load_problem(REPO / "scenarios" / f"{name}.json")
    return problem, dict(precheck(problem, build_travel(problem)).allowed)


def test_more_load_than_the_fleet_carries_is_overbooked() -> None:
    """The overbooked example: 3 vans of 50 pieces, 168 pieces ordered (of the
    orders the pre-checks let in)."""
    problem, allowed = _day("andorra_overbooked")
    assert surely_overbooked(problem, allowed)


def test_a_day_that_fits_is_not_overbooked_until_the_fleet_shrinks() -> None:
    """The delivery day fits the bound; with one van of its fleet left, or with
    every stop limit at one stop, it cannot."""
    problem, allowed = _day("andorra_delivery_day")
    assert not surely_overbooked(problem, allowed)
    one = dataclasses.replace(problem, vehicles=problem.vehicles[:1])
    assert surely_overbooked(one, allowed)
    limited = dataclasses.replace(
        problem,
        vehicles=tuple(dataclasses.replace(v, max_stops=1) for v in problem.vehicles),
    )
    assert surely_overbooked(limited, allowed)


def test_no_orders_or_no_vehicles_prove_nothing() -> None:
    problem, allowed = _day("andorra_delivery_day")
    assert not surely_overbooked(problem, {})
    assert not surely_overbooked(dataclasses.replace(problem, vehicles=()), allowed)


def _tiny(orders: list[Order], **van: object) -> tuple[Problem, dict[str, tuple[int]]]:
    """One van of 10 units from depot D; every order allowed on it."""
    van.setdefault("capacity", (10,))
    vehicle = Vehicle(id="V", start_depot="D", end_depot="D", **van)  # type: ignore[arg-type]
    problem = Problem(
        depots=(Depot(id="D", location=Point(0, 0)),),
        vehicles=(vehicle,),
        orders=tuple(orders),
    )
    return problem, {o.id: (0,) for o in orders}


def _at(oid: str, **kw: object) -> Order:
    kw.setdefault("delivery", (0,))
    kw.setdefault("pickup", (0,))
    return Order(id=oid, location=Point(1, 1), **kw)  # type: ignore[arg-type]


def test_each_bound_alone_proves_a_day_overbooked() -> None:
    """Depot loads, returns, service hours and stop limits each prove it on their
    own; just at the fleet's limit, none does."""
    fits = [_at("a", delivery=(5,), pickup=(5,)), _at("b", delivery=(5,), pickup=(5,))]
    assert not surely_overbooked(*_tiny(fits))
    assert surely_overbooked(*_tiny([*fits, _at("c", delivery=(1,))]))
    assert surely_overbooked(*_tiny([*fits, _at("c", pickup=(1,))]))
    hour = [_at("a", service_s=1800), _at("b", service_s=1800)]
    assert not surely_overbooked(*_tiny(hour, shift=TimeWindow(0, 3600)))
    assert surely_overbooked(*_tiny(hour, shift=TimeWindow(0, 3599)))
    assert surely_overbooked(*_tiny(hour, max_duration_s=3000))
    assert not surely_overbooked(*_tiny(hour, max_stops=2))
    assert surely_overbooked(*_tiny(hour, max_stops=1))


def test_may_carry_is_kind_skills_and_capacity_not_reach() -> None:
    """`may_carry` says whether a vehicle may serve an order by kind, skills and
    capacity; a shift that cannot reach the order does not enter it."""
    order = Order(
        id="o",
        location=Point(1000.0, 0.0),
        delivery=(4,),
        pickup=(0,),
        windows=(TimeWindow(3_600, 3_900),),
    )
    van = Vehicle(
        id="v",
        start_depot="D",
        end_depot="D",
        capacity=(5,),
        kind="van",
        skills=frozenset({"cold"}),
        shift=TimeWindow(0, 600),  # over before the slot opens
    )
    assert may_carry(order, van)
    assert not may_carry(dataclasses.replace(order, delivery=(6,)), van)
    assert not may_carry(dataclasses.replace(order, skills=frozenset({"lift"})), van)
    assert may_carry(dataclasses.replace(order, skills=frozenset({"cold"})), van)
    assert not may_carry(
        dataclasses.replace(order, vehicle_kinds=frozenset({"cargo_bike"})), van
    )
    problem = Problem(
        depots=(Depot(id="D", location=Point(0.0, 0.0)),),
        orders=(order,),
        vehicles=(van,),
    )
    legs = np.array([[0, 1000], [1000, 0]])
    matrices = {p: TravelMatrix(legs, legs) for p in problem.profiles}
    assert "o" not in precheck(problem, matrices).allowed
