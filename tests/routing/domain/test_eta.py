"""Tests of customer ETAs: promised ranges, changes after a re-plan, notices.

Plans are built from fixed sequences with the scheduler (no search) on a planar
line with travel at 1 m/s, so every time is known: the van leaves D at 08:50 and
starts serving a at 09:00, b at 09:15, c at 09:30 and d (late) at 09:45. Every
plan passes the independent checker.
"""

from __future__ import annotations

import pytest

from routing.check import assert_plan_ok
from routing.domain.errors import InvalidProblemError
from routing.domain.eta import (
    EtaChange,
    Promise,
    compare_promises,
    notice_text,
    promise_for,
    promises,
)
from routing.domain.model import Depot, Order, Point, Problem, TimeWindow, Vehicle
from routing.domain.plan import Plan, PlanStatus, Unplanned, UnplannedCode, summarize
from routing.domain.timing import build_route
from routing.geo import Euclidean, TravelMatrix

H = 3600
M = 60


def _order(oid: str, x: float, **kw: object) -> Order:
    kw.setdefault("delivery", (1,))
    kw.setdefault("pickup", (0,))
    kw.setdefault("service_s", 300)
    return Order(id=oid, location=Point(x, 0), **kw)  # type: ignore[arg-type]


def _problem(**kw: object) -> Problem:
    orders = (
        _order("a", 600, windows=(TimeWindow(9 * H, 11 * H),)),
        _order("b", 1200, windows=(TimeWindow(9 * H, 9 * H + 20 * M),)),
        _order("c", 1800, windows=(TimeWindow(9 * H, 12 * H),)),
        _order(
            "d",
            2400,
            windows=(TimeWindow(8 * H, 9 * H),),
            max_lateness_s=H,
            lateness_cost_per_hour=10.0,
        ),
        _order("e", 3000, windows=(TimeWindow(14 * H, 15 * H),), is_optional=True),
        _order("ret", 300, delivery=(0,), pickup=(2,)),
    )
    van = Vehicle(
        id="V",
        start_depot="D",
        end_depot="D",
        capacity=(10,),
        shift=TimeWindow(8 * H, 18 * H),
    )
    return Problem(
        depots=(Depot(id="D", location=Point(0, 0)),),
        vehicles=(van,),
        orders=orders,
        **kw,  # type: ignore[arg-type]
    )


def _travel(problem: Problem) -> TravelMatrix:
    return Euclidean(scale=1, truncate=False).build(problem.locations, profile="van")


def _plan(problem: Problem, sequence: list[str]) -> Plan:
    """The only vehicle drives ``sequence``; the other orders are unplanned."""
    travel = _travel(problem)
    route = build_route(problem, travel, problem.vehicles[0], sequence)
    unplanned = tuple(
        Unplanned(order_id=o.id, code=UnplannedCode.NOT_WORTH_SERVING, reason="test")
        for o in problem.orders
        if o.id not in sequence
    )
    plan = Plan(
        status=PlanStatus.PARTIAL if unplanned else PlanStatus.SOLVED,
        routes=(route,),
        unplanned=unplanned,
        totals=summarize((route,), len(unplanned)),
        solver_status="test",
    )
    assert_plan_ok(problem, plan, travel)
    return plan


@pytest.fixture(scope="module")
def day() -> tuple[Problem, Plan]:
    """The line day, served a, b, c, d (e and ret unplanned)."""
    problem = _problem()
    return problem, _plan(problem, ["a", "b", "c", "d"])


def test_promise_is_shifted_into_the_slot(day: tuple[Problem, Plan]) -> None:
    """An ETA at the slot start gets the first 30 minutes of the slot, not a range
    reaching before it."""
    problem, plan = day
    promise = promise_for(problem, plan, "a")
    assert promise == Promise(
        order_id="a",
        eta_s=9 * H,
        window_start_s=9 * H,
        window_end_s=9 * H + 30 * M,
        call_ahead_s=8 * H + 50 * M,  # not 08:30: the van leaves at 08:50
    )


def test_promise_is_centred_in_a_wide_slot(day: tuple[Problem, Plan]) -> None:
    """An ETA in the middle of a wide slot gets a range centred on it."""
    problem, plan = day
    promise = promise_for(problem, plan, "c")
    assert promise is not None
    assert promise.eta_s == 9 * H + 30 * M
    assert (promise.window_start_s, promise.window_end_s) == (
        9 * H + 15 * M,
        9 * H + 45 * M,
    )
    assert promise.call_ahead_s == 9 * H


def test_promise_is_clipped_to_a_narrow_slot(day: tuple[Problem, Plan]) -> None:
    """A slot narrower than the promise width is promised whole."""
    problem, plan = day
    promise = promise_for(problem, plan, "b")
    assert promise is not None
    assert (promise.window_start_s, promise.window_end_s) == (9 * H, 9 * H + 20 * M)
    assert promise.contains(promise.eta_s)


def test_late_service_gets_an_honest_promise(day: tuple[Problem, Plan]) -> None:
    """A service planned after its slot is promised around its real ETA."""
    problem, plan = day
    promise = promise_for(problem, plan, "d")
    assert promise is not None
    assert promise.eta_s == 9 * H + 45 * M
    assert promise.contains(promise.eta_s)
    assert promise.window_end_s - promise.window_start_s == 30 * M


def test_width_and_call_ahead_are_parameters(day: tuple[Problem, Plan]) -> None:
    """A 10-minute width and a 5-minute call-ahead are honoured."""
    problem, plan = day
    promise = promise_for(problem, plan, "c", width_s=600, call_ahead_s=300)
    assert promise is not None
    assert (promise.window_start_s, promise.window_end_s) == (
        9 * H + 25 * M,
        9 * H + 35 * M,
    )
    assert promise.call_ahead_s == 9 * H + 25 * M


def test_unplanned_order_has_no_promise(day: tuple[Problem, Plan]) -> None:
    """An order the plan leaves out gets None."""
    problem, plan = day
    assert promise_for(problem, plan, "e") is None


def test_unknown_order_is_an_input_error(day: tuple[Problem, Plan]) -> None:
    """An order id the problem does not know raises with path and id."""
    problem, plan = day
    with pytest.raises(InvalidProblemError) as info:
        promise_for(problem, plan, "nope")
    assert info.value.path == "order_id"
    assert info.value.entity_id == "nope"


def test_negative_width_is_an_input_error(day: tuple[Problem, Plan]) -> None:
    """A negative width is rejected, naming the parameter."""
    problem, plan = day
    with pytest.raises(InvalidProblemError) as info:
        promises(problem, plan, width_s=-1)
    assert info.value.path == "width_s"


def test_promises_cover_every_planned_order(day: tuple[Problem, Plan]) -> None:
    """promises() has one entry per visit, equal to promise_for's."""
    problem, plan = day
    given = promises(problem, plan)
    assert list(given) == ["a", "b", "c", "d"]
    for oid, promise in given.items():
        assert promise == promise_for(problem, plan, oid)


def test_compare_flags_moved_and_broken_etas(day: tuple[Problem, Plan]) -> None:
    """A small move inside the range is reported unbroken, a move outside it and
    a dropped order are broken, an unmoved ETA is not reported."""
    problem, plan = day  # a 09:00, b 09:15, c 09:30, d 09:45
    old = {
        "a": Promise(
            order_id="a",
            eta_s=9 * H,
            window_start_s=9 * H,
            window_end_s=9 * H + 30 * M,
            call_ahead_s=8 * H + 50 * M,
        ),
        "b": Promise(
            order_id="b",
            eta_s=9 * H + 10 * M,
            window_start_s=9 * H,
            window_end_s=9 * H + 20 * M,
            call_ahead_s=8 * H + 50 * M,
        ),
        "c": Promise(
            order_id="c",
            eta_s=9 * H,
            window_start_s=8 * H + 50 * M,
            window_end_s=9 * H + 20 * M,
            call_ahead_s=8 * H + 50 * M,
        ),
        "e": Promise(
            order_id="e",
            eta_s=14 * H,
            window_start_s=14 * H,
            window_end_s=14 * H + 30 * M,
            call_ahead_s=13 * H + 30 * M,
        ),
    }
    changes = compare_promises(old, problem, plan)
    assert changes == [
        EtaChange("b", 9 * H + 10 * M, 9 * H + 15 * M, 5 * M, False),
        EtaChange("c", 9 * H, 9 * H + 30 * M, 30 * M, True),
        EtaChange("e", 14 * H, None, None, True),
    ]
    quiet = compare_promises(old, problem, plan, tolerance_s=5 * M)
    assert [c.order_id for c in quiet] == ["c", "e"]


def test_compare_skips_removed_orders_and_uses_known_starts(
    day: tuple[Problem, Plan],
) -> None:
    """A promised order no longer in the problem is skipped unless its start is
    known (the stop a driver is driving to)."""
    problem, plan = day
    gone = Promise(
        order_id="gone",
        eta_s=10 * H,
        window_start_s=10 * H,
        window_end_s=10 * H + 30 * M,
        call_ahead_s=9 * H + 30 * M,
    )
    assert compare_promises({"gone": gone}, problem, plan) == []
    changes = compare_promises(
        {"gone": gone}, problem, plan, known_starts={"gone": 11 * H}
    )
    assert changes == [EtaChange("gone", 10 * H, 11 * H, H, True)]


def test_notice_text_evening_and_morning(day: tuple[Problem, Plan]) -> None:
    """The evening notice says tomorrow, the morning one today; both give the
    range and the call time."""
    problem, plan = day
    promise = promise_for(problem, plan, "c")
    assert promise is not None
    evening = notice_text(problem, promise)
    assert evening == (
        "Your delivery c is planned tomorrow between 09:15 and 09:45; "
        "the driver will call you around 09:00."
    )
    morning = notice_text(problem, promise, when="morning")
    assert "today" in morning
    assert "between 09:15 and 09:45" in morning
    assert "09:00" in morning


def test_notice_text_rounds_to_minutes_and_names_the_date() -> None:
    """Seconds are rounded outwards to whole minutes; a dated problem names the
    date; a pickup-only order is a collection."""
    problem = _problem(date="2024-05-14")
    promise = Promise(
        order_id="ret",
        eta_s=10 * H + 20,
        window_start_s=10 * H - 10,
        window_end_s=10 * H + 30 * M + 1,
        call_ahead_s=9 * H + 30 * M + 59,
    )
    text = notice_text(problem, promise)
    assert text == (
        "Your collection ret is planned on 2024-05-14 between 09:59 and 10:31; "
        "the driver will call you around 09:30."
    )


def test_notice_text_rejects_unknown_when(day: tuple[Problem, Plan]) -> None:
    """Only "evening" and "morning" are known moments."""
    problem, plan = day
    promise = promise_for(problem, plan, "a")
    assert promise is not None
    with pytest.raises(InvalidProblemError) as info:
        notice_text(problem, promise, when="noon")
    assert info.value.path == "when"
