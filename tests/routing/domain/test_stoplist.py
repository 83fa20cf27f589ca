"""Tests of driver stop lists: order, quantities, breaks, and the CSV, HTML and
JSON renderings.

The day is a planar line with travel at 1 m/s, scheduled from a fixed sequence:
the van leaves D at 08:50, serves a 09:00, b 09:15, breaks 09:20-09:30 before
driving on, serves c 09:40 and is back at 10:15; its second break (16:00) is off
duty. Every plan passes the independent checker.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace

import pytest

from routing.check import assert_plan_ok
from routing.domain.errors import InvalidProblemError
from routing.domain.model import (
    Break,
    Depot,
    Location,
    Order,
    Point,
    Problem,
    TimeWindow,
    Vehicle,
)
from routing.domain.plan import Plan, PlanStatus, summarize
from routing.domain.stoplist import StopList, stop_list, to_csv, to_dict, to_html
from routing.domain.timing import build_route
from routing.geo import Euclidean, Haversine
from routing.geo.matrix import TravelMatrix

H = 3600
M = 60
SCRIPT = '<script>alert("x")</script>'


def _problem() -> Problem:
    orders = (
        Order(
            id="a",
            location=Point(600, 0),
            service_s=300,
            windows=(TimeWindow(9 * H, 11 * H),),
            delivery=(12, 1),
            pickup=(0, 0),
            address="1 Main St",
            notes="ring twice",
        ),
        Order(
            id="b",
            location=Point(1200, 0),
            service_s=300,
            windows=(TimeWindow(9 * H, 9 * H + 20 * M),),
            delivery=(0, 0),
            pickup=(3, 1),
            address="Rue & Co",
            notes=SCRIPT,
        ),
        Order(
            id="c",
            location=Point(1800, 0),
            service_s=300,
            windows=(TimeWindow(9 * H, 10 * H), TimeWindow(14 * H, 15 * H)),
            delivery=(5, 1),
            pickup=(2, 1),
            notes='=HYPERLINK("http://evil")',
        ),
    )
    van = Vehicle(
        id="V",
        start_depot="D",
        end_depot="D",
        capacity=(100, 10),
        shift=TimeWindow(8 * H, 18 * H),
        breaks=(
            Break(window=TimeWindow(9 * H + 20 * M, 9 * H + 25 * M), duration_s=600),
            Break(window=TimeWindow(16 * H, 17 * H), duration_s=1800),
        ),
    )
    spare = Vehicle(id="W", start_depot="D", end_depot="D", capacity=(100, 10))
    return Problem(
        depots=(Depot(id="D", location=Point(0, 0)),),
        vehicles=(van, spare),
        orders=orders,
        quantities=("kg", "parcels"),
        date="2024-05-14",
    )


def _plan(problem: Problem, travel: TravelMatrix, sequence: list[str]) -> Plan:
    route = build_route(problem, travel, problem.vehicles[0], sequence)
    plan = Plan(
        status=PlanStatus.SOLVED,
        routes=(route,),
        unplanned=(),
        totals=summarize((route,), 0),
        solver_status="test",
    )
    assert_plan_ok(problem, plan, travel)
    return plan


@pytest.fixture(scope="module")
def sheet() -> StopList:
    """The stop list of van V on the line day."""
    problem = _problem()
    travel = Euclidean(scale=1, truncate=False).build(problem.locations, profile="van")
    result = stop_list(problem, _plan(problem, travel, ["a", "b", "c"]), "V")
    assert result is not None
    return result


def test_lines_follow_the_route_with_the_break_in_place(sheet: StopList) -> None:
    """Stops come in visiting order, numbered 1..n; the break taken after b is a
    line of its own (sequence 0) at b's place; the off-duty break is left out."""
    assert [(s.sequence, s.order_id, s.is_break) for s in sheet.stops] == [
        (1, "a", False),
        (2, "b", False),
        (0, "", True),
        (3, "c", False),
    ]
    brk = sheet.stops[2]
    assert (brk.eta_s, brk.departure_s) == (9 * H + 20 * M, 9 * H + 30 * M)
    assert brk.location == (1200.0, 0.0)
    assert (sheet.start_s, sheet.end_s) == (8 * H + 50 * M, 10 * H + 15 * M)
    assert sheet.date == "2024-05-14"
    assert (sheet.start_depot, sheet.end_depot) == ("D", "D")


def test_deliver_and_collect_are_split(sheet: StopList) -> None:
    """Deliveries and returns appear in separate columns, by quantity name, with
    zero amounts left out."""
    a, b, _, c = sheet.stops
    assert (a.deliver, a.collect) == ({"kg": 12, "parcels": 1}, {})
    assert (b.deliver, b.collect) == ({}, {"kg": 3, "parcels": 1})
    assert (c.deliver, c.collect) == ({"kg": 5, "parcels": 1}, {"kg": 2, "parcels": 1})


def test_times_slots_and_call_ahead(sheet: StopList) -> None:
    """ETA is the service start (arrival shown besides), the slot is clock text,
    and the call is 30 minutes
    before the service start but never before the van leaves."""
    a, b, _, c = sheet.stops
    assert a.slot == "09:00-11:00"
    assert c.slot == "09:00-10:00, 14:00-15:00"
    assert (c.arrival_s, c.eta_s, c.departure_s) == (
        9 * H + 40 * M,
        9 * H + 40 * M,
        9 * H + 45 * M,
    )
    assert c.call_ahead_s == 9 * H + 10 * M
    assert a.call_ahead_s == sheet.start_s  # 08:30 would be before leaving
    assert a.address == "1 Main St"
    assert b.notes == SCRIPT


def test_unknown_vehicle_and_unused_vehicle() -> None:
    """An unknown vehicle is an input error naming it; a vehicle without a route
    has no stop list."""
    problem = _problem()
    travel = Euclidean(scale=1, truncate=False).build(problem.locations, profile="van")
    plan = _plan(problem, travel, ["a", "b", "c"])
    assert stop_list(problem, plan, "W") is None
    with pytest.raises(InvalidProblemError) as info:
        stop_list(problem, plan, "X")
    assert (info.value.path, info.value.entity_id) == ("vehicle_id", "X")


def test_csv_parses_back(sheet: StopList) -> None:
    """The CSV has a header and one row per line, clock times and one column per
    quantity; a formula-like note is defused with an apostrophe."""
    rows = list(csv.DictReader(io.StringIO(to_csv(sheet))))
    assert [r["type"] for r in rows] == ["stop", "stop", "break", "stop"]
    assert [r["sequence"] for r in rows] == ["1", "2", "0", "3"]
    a, b, brk, c = rows
    assert (a["eta"], a["call_ahead"], a["slot"]) == ("09:00", "08:50", "09:00-11:00")
    assert (a["deliver_kg"], a["collect_kg"]) == ("12", "0")
    assert (b["collect_kg"], b["collect_parcels"]) == ("3", "1")
    assert b["address"] == "Rue & Co"
    assert b["notes"] == SCRIPT
    assert c["notes"].startswith("'=")
    assert (brk["eta"], brk["departure"], brk["call_ahead"]) == ("09:20", "09:30", "")
    assert (float(c["x"]), float(c["y"])) == (1800.0, 0.0)


def test_html_is_escaped_and_printable(sheet: StopList) -> None:
    """Customer text cannot inject markup; the page carries its own print CSS."""
    page = to_html(sheet, title="Route <V>")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "Rue &amp; Co" in page
    assert "<title>Route &lt;V&gt;</title>" in page
    assert "@media print" in page
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<tr") == 1 + len(sheet.stops)
    assert "src=" not in page and "href=" not in page


def test_dict_is_json_ready_with_both_time_forms(sheet: StopList) -> None:
    """to_dict survives JSON; times come as seconds and clock text."""
    data = json.loads(json.dumps(to_dict(sheet)))
    assert data["vehicle_id"] == "V"
    assert (data["start_s"], data["start"]) == (8 * H + 50 * M, "08:50")
    first = data["stops"][0]
    assert (first["eta_s"], first["eta"]) == (9 * H, "09:00")
    assert first["location"] == {"x": 600.0, "y": 0.0}
    assert first["deliver"] == {"kg": 12, "parcels": 1}
    assert data["stops"][2]["is_break"] is True


def test_geographic_locations_are_lat_lon() -> None:
    """With lat/lon places, lines carry (lat, lon) and the JSON names them."""
    order = Order(id="o", location=Location(42.51, 1.52), delivery=(1,), pickup=(0,))
    problem = Problem(
        depots=(Depot(id="D", location=Location(42.50, 1.50)),),
        vehicles=(Vehicle(id="V", start_depot="D", end_depot="D", capacity=(5,)),),
        orders=(order,),
    )
    travel = Haversine().build(problem.locations, profile="van")
    sheet = stop_list(problem, _plan(problem, travel, ["o"]), "V")
    assert sheet is not None
    assert sheet.stops[0].location == (42.51, 1.52)
    assert to_dict(sheet)["stops"][0]["location"] == {"lat": 42.51, "lon": 1.52}  # type: ignore[index]
    assert to_csv(sheet).splitlines()[0].split(",")[4:6] == ["lat", "lon"]


def test_first_stop_of_a_replan_is_stop_one() -> None:
    """A re-plan's pinned stop (the one the driver is driving to, not in the new
    route) comes first as stop 1, its ETA and start at the pinned service start;
    the route's stops are renumbered from 2; an order in both is refused."""
    day = _problem()
    pinned = day.order("a")  # the re-plan problem no longer has it
    problem = replace(day, orders=tuple(o for o in day.orders if o.id != "a"))
    travel = Euclidean(scale=1, truncate=False).build(problem.locations, profile="van")
    plan = _plan(problem, travel, ["b", "c"])
    start = 8 * H + 30 * M
    sl = stop_list(problem, plan, "V", first_stop=(pinned, start), call_ahead_s=600)
    assert sl is not None
    assert [(s.sequence, s.order_id) for s in sl.stops if not s.is_break] == [
        (1, "a"),
        (2, "b"),
        (3, "c"),
    ]
    first = sl.stops[0]
    assert (first.arrival_s, first.eta_s, first.departure_s) == (
        start,
        start,
        start + 300,
    )
    assert first.call_ahead_s == start - 600
    assert (first.address, first.notes, first.slot) == (
        "1 Main St",
        "ring twice",
        "09:00-11:00",
    )
    assert (first.deliver, first.late_s) == ({"kg": 12, "parcels": 1}, 0)
    assert sl.start_s == start
    late = stop_list(problem, plan, "V", first_stop=(pinned, 11 * H + 10 * M))
    assert late is not None and late.stops[0].late_s == 10 * M
    with pytest.raises(InvalidProblemError) as err:
        stop_list(problem, plan, "V", first_stop=(problem.order("b"), start))
    assert err.value.path == "first_stop"
