"""Tests of re-planning during the day: the rest-of-day problem
(`routing.day.replan.replan_problem`) and its solve (`routing.day.replan.replan`).

The morning plans are built from fixed sequences with the scheduler, so the
starting point is known; the re-plans are solved (deterministic, tiny). Days are
planar with travel at 1 m/s. Every new plan passes the independent checker on
the rest-of-day problem.
"""

from __future__ import annotations

import pickle
from dataclasses import replace
from functools import partial
from pathlib import Path

import pytest

from routing.check import assert_plan_ok
from routing.day.replan import (
    AT_DEPOT_SKILL,
    RETIMED_MIN_S,
    OrderMove,
    ReplanRequest,
    ReplanResult,
    VehicleState,
    on_board_skill,
    replan,
    replan_problem,
)
from routing.domain.errors import InvalidProblemError
from routing.domain.eta import Promise, compare_promises, promises
from routing.domain.model import (
    Break,
    Depot,
    Order,
    Pair,
    Point,
    Problem,
    TimeWindow,
    Vehicle,
)
from routing.domain.plan import Plan, PlanStatus, Unplanned, UnplannedCode, summarize
from routing.domain.timing import build_route, plan_objective
from routing.domain.units import COST_SCALE
from routing.formats import load_problem
from routing.geo import Euclidean, TravelData, build_travel
from routing.solver import SolveOptions, solve

H = 3600
M = 60
FAST = SolveOptions(time_limit_s=1, is_deterministic=True)
TRAVEL = partial(build_travel, provider=Euclidean(scale=1, truncate=False))


def _order(oid: str, x: float, y: float = 0.0, **kw: object) -> Order:
    kw.setdefault("delivery", (1,))
    kw.setdefault("pickup", (0,))
    kw.setdefault("service_s", 300)
    return Order(id=oid, location=Point(x, y), **kw)  # type: ignore[arg-type]


def _van(vid: str, **kw: object) -> Vehicle:
    kw.setdefault("capacity", (10,))
    kw.setdefault("shift", TimeWindow(8 * H, 18 * H))
    kw.setdefault("end_depot", "D")
    return Vehicle(
        id=vid,
        start_depot="D",
        cost_per_km=1.0,
        cost_per_hour=20.0,
        **kw,  # type: ignore[arg-type]
    )


def _morning(problem: Problem, sequences: dict[str, list[str]]) -> Plan:
    """The plan the vehicles drive: fixed sequences, scheduled and checked."""
    travel = TRAVEL(problem)
    routes = tuple(
        build_route(problem, travel["van"], problem.vehicle(vid), seq)
        for vid, seq in sequences.items()
    )
    served = {oid for seq in sequences.values() for oid in seq}
    unplanned = tuple(
        Unplanned(order_id=o.id, code=UnplannedCode.FLEET_FULL, reason="test")
        for o in problem.orders
        if o.id not in served
    )
    plan = Plan(
        status=PlanStatus.PARTIAL if unplanned else PlanStatus.SOLVED,
        routes=routes,
        unplanned=unplanned,
        totals=summarize(routes, len(unplanned)),
        solver_status="test",
    )
    assert_plan_ok(problem, plan, travel)
    return plan


def _checked(result: ReplanResult) -> ReplanResult:
    assert result.travel is not None
    assert_plan_ok(result.problem, result.plan, result.travel)
    return result


def _vehicle_of(plan: Plan, order_id: str) -> str | None:
    for route in plan.routes:
        if order_id in route.order_ids:
            return route.vehicle_id
    return None


# ----------------------------------------------------------------------------------
# The main day: V1 drives east (e1, r2 returns, e2, e3, e4); V2 starts at 09:00 west.
# At 08:44 V1 has served e1 and r2 and drives to e2; e4 is cancelled; a delivery
# and a pickup are booked near V1's last stop.


def _day() -> Problem:
    orders = (
        _order("e1", 1000),
        _order("r2", 2000, 100, delivery=(0,), pickup=(3,)),
        _order("e2", 2000),
        _order("e3", 3000),
        _order("e4", 4000),
        _order("w1", -1000),
        _order("w2", -2000),
    )
    return Problem(
        depots=(Depot(id="D", location=Point(0, 0)),),
        vehicles=(_van("V1"), _van("V2", shift=TimeWindow(9 * H, 18 * H))),
        orders=orders,
    )


def _day_plan(problem: Problem) -> Plan:
    return _morning(problem, {"V1": ["e1", "r2", "e2", "e3", "e4"], "V2": ["w1", "w2"]})


NOW = 8 * H + 44 * M
NEW = (
    _order("n_del", 3100, 100),
    _order("n_pick", 3100, -100, delivery=(0,), pickup=(1,)),
)


def _request(**kw: object) -> ReplanRequest:
    kw.setdefault(
        "states",
        (
            VehicleState(
                vehicle_id="V1",
                time_s=NOW,
                position=Point(2000, 60),
                done=("e1", "r2"),
                heading_to="e2",
            ),
            VehicleState(vehicle_id="V2", time_s=NOW),
        ),
    )
    kw.setdefault("new_orders", NEW)
    kw.setdefault("cancelled", ("e4",))
    return ReplanRequest(**kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def day_result() -> tuple[Problem, Plan, ReplanResult]:
    """The main day, its morning plan and the re-plan at 08:44 (with promises)."""
    problem = _day()
    plan = _day_plan(problem)
    request = _request(promises=promises(problem, plan))
    return (
        problem,
        plan,
        _checked(replan(problem, plan, request, travel_for=TRAVEL, options=FAST)),
    )


def test_done_driven_to_and_cancelled_orders_leave(
    day_result: tuple[Problem, Plan, ReplanResult],
) -> None:
    """Served (e1, r2), driven-to (e2) and cancelled (e4) orders are not in the
    rest of the day; the others and the new ones are, and all are planned."""
    _, _, result = day_result
    ids = {o.id for o in result.problem.orders}
    assert ids == {"e3", "w1", "w2", "n_del", "n_pick"}
    assert result.done == {"V1": ("e1", "r2"), "V2": ()}
    assert result.plan.status is PlanStatus.SOLVED


def test_heading_to_stays_first(
    day_result: tuple[Problem, Plan, ReplanResult],
) -> None:
    """The stop V1 drives to is served next: V1 resumes from e2's place once e2
    is served, and its new ETA is the old one plus the extra minute."""
    problem, plan, result = day_result
    assert result.pinned_first == {"V1": "e2"}
    old_e2 = plan.routes[0].visits[2]
    # From (2000, 60) to e2 at (2000, 0): 60 s, from 08:44:00.
    assert result.pinned_start_s == {"V1": NOW + 60}
    depot = result.problem.depot("@V1")
    assert depot.location == problem.order("e2").location
    assert depot.opening.start_s == NOW + 60 + 300
    route = result.plan.route("V1")
    assert route is not None
    assert route.start_depot == "@V1"
    assert route.start_s >= NOW + 360
    change = next(c for c in result.eta_changes if c.order_id == "e2")
    assert change.new_eta_s == NOW + 60
    assert change.moved_s == NOW + 60 - old_e2.start_s
    assert not change.is_broken


def test_on_board_goods_stay_on_their_vehicle(
    day_result: tuple[Problem, Plan, ReplanResult],
) -> None:
    """e3's parcel is in V1: e3 may only go on V1 and does."""
    _, _, result = day_result
    assert result.problem.order("e3").skills == {on_board_skill("V1")}
    assert _vehicle_of(result.plan, "e3") == "V1"
    assert result.setup is not None
    assert result.setup.on_board == {"V1": ("e3",)}


def test_returns_and_cancelled_goods_on_board_take_room(
    day_result: tuple[Problem, Plan, ReplanResult],
) -> None:
    """V1 carries r2's 3 returns, e4's cancelled parcel and e3's parcel (e2 is
    handed over first): 4 units that no remaining order unloads."""
    _, _, result = day_result
    assert result.problem.vehicle("V1").capacity == (6,)
    assert result.problem.vehicle("V2").capacity == (10,)


def test_new_delivery_goes_to_a_vehicle_at_the_depot(
    day_result: tuple[Problem, Plan, ReplanResult],
) -> None:
    """n_del's goods are at the depot: only V2 (not left yet) can take it, though
    V1 passes next to it; the pickup-only order may go on any vehicle."""
    _, _, result = day_result
    assert AT_DEPOT_SKILL in result.problem.order("n_del").skills
    assert AT_DEPOT_SKILL in result.problem.vehicle("V2").skills
    assert AT_DEPOT_SKILL not in result.problem.vehicle("V1").skills
    assert _vehicle_of(result.plan, "n_del") == "V2"
    assert result.problem.order("n_pick").skills == frozenset()


def test_vehicle_at_depot_cannot_leave_before_its_time(
    day_result: tuple[Problem, Plan, ReplanResult],
) -> None:
    """V2 keeps its 09:00 shift start (later than now) and leaves no earlier."""
    _, _, result = day_result
    assert result.problem.vehicle("V2").shift.start_s == 9 * H
    route = result.plan.route("V2")
    assert route is not None and route.start_s >= 9 * H


def test_no_skills_are_added_while_no_vehicle_has_left() -> None:
    """Control: when every vehicle is still at the depot, all goods are there and
    nothing is tied to a vehicle: no order or vehicle gets a skill."""
    problem = _day()
    plan = _day_plan(problem)
    request = _request(
        states=(VehicleState(vehicle_id="V2", time_s=NOW),), cancelled=()
    )
    setup = replan_problem(problem, plan, request)
    assert all(not o.skills for o in setup.problem.orders)
    assert all(not v.skills for v in setup.problem.vehicles)


# ----------------------------------------------------------------------------------
# Promises: V1 serves a, then c; it ends at depot E in the east. At 08:30, with a
# done, a pickup n is booked half-way with a long service: served before c it
# would make c 20 minutes late; after c it costs a detour.


def _promise_day() -> Problem:
    return Problem(
        depots=(
            Depot(id="D", location=Point(0, 0)),
            Depot(id="E", location=Point(4000, 0)),
        ),
        vehicles=(
            Vehicle(
                id="V1",
                start_depot="D",
                end_depot="E",
                capacity=(10,),
                shift=TimeWindow(8 * H, 18 * H),
                cost_per_km=1.0,
            ),
        ),
        orders=(_order("a", 1000), _order("c", 3000)),
    )


def _promise_replan(with_promises: bool) -> tuple[dict[str, Promise], ReplanResult]:
    problem = _promise_day()
    plan = _morning(problem, {"V1": ["a", "c"]})
    given = promises(problem, plan)
    after_a = plan.routes[0].visits[0].departure_s
    request = ReplanRequest(
        states=(
            VehicleState(
                vehicle_id="V1", time_s=after_a, position=Point(1000, 0), done=("a",)
            ),
        ),
        new_orders=(
            _order("n", 2000, 300, delivery=(0,), pickup=(1,), service_s=1200),
        ),
        promises=given if with_promises else {},
    )
    return given, _checked(
        replan(problem, plan, request, travel_for=TRAVEL, options=FAST)
    )


def test_a_promised_eta_is_kept_when_possible() -> None:
    """With c's promise, the pickup is served after c and c stays in its range;
    without it, the cheaper order breaks c's promise."""
    given, kept = _promise_replan(with_promises=True)
    route = kept.plan.route("V1")
    assert route is not None
    assert route.order_ids == ("c", "n")
    assert not any(c.is_broken for c in kept.eta_changes)
    c_start = route.visits[0].start_s
    assert given["c"].contains(c_start)

    _, free = _promise_replan(with_promises=False)
    route = free.plan.route("V1")
    assert route is not None
    assert route.order_ids == ("n", "c")
    broken = compare_promises(given, free.problem, free.plan)
    assert [c.order_id for c in broken if c.is_broken] == ["c"]


def test_promised_slot_is_narrowed_softly() -> None:
    """A promised order's slot becomes its promised range, lateness allowed up to
    the end of its booked slot at the promise cost."""
    problem = _day()
    plan = _day_plan(problem)
    given = promises(problem, plan)
    setup = replan_problem(problem, plan, _request(promises=given))
    e3 = setup.problem.order("e3")
    p = given["e3"]
    assert e3.windows == (TimeWindow(p.window_start_s, p.window_end_s),)
    # No booked slot: lateness is allowed to the horizon end.
    assert e3.max_lateness_s == problem.horizon.end_s - p.window_end_s
    assert e3.lateness_cost_per_hour == 60.0


# ----------------------------------------------------------------------------------
# Pairs, late re-plans and errors.


def _pair_day() -> Problem:
    return Problem(
        depots=(Depot(id="D", location=Point(0, 0)),),
        vehicles=(_van("V1"), _van("V2")),
        orders=(
            _order("pp", 1000, delivery=(0,), pickup=(2,)),
            _order("pd", 2000, delivery=(2,), pickup=(0,)),
            _order("qp", -1000, delivery=(0,), pickup=(1,)),
            _order("qd", -2000, delivery=(1,), pickup=(0,)),
        ),
        pairs=(
            Pair(id="P", pickup="pp", delivery="pd"),
            Pair(id="Q", pickup="qp", delivery="qd"),
        ),
    )


def test_delivery_of_a_collected_pair_stays_on_board() -> None:
    """Once pp is collected, pair P is dropped and pd rides with V1; pair Q, not
    started, stays a pair."""
    problem = _pair_day()
    plan = _morning(problem, {"V1": ["pp", "pd"], "V2": ["qp", "qd"]})
    after_pp = plan.routes[0].visits[0].departure_s
    request = ReplanRequest(
        states=(
            VehicleState(
                vehicle_id="V1", time_s=after_pp, position=Point(1000, 0), done=("pp",)
            ),
        )
    )
    result = _checked(replan(problem, plan, request, travel_for=TRAVEL, options=FAST))
    assert [p.id for p in result.problem.pairs] == ["Q"]
    assert on_board_skill("V1") in result.problem.order("pd").skills
    assert _vehicle_of(result.plan, "pd") == "V1"
    assert result.problem.vehicle("V1").capacity == (10,)  # pd unloads what pp took


def test_cancelling_a_pickup_cancels_its_delivery() -> None:
    """Nothing to hand over without the pickup: both leave the day."""
    problem = _pair_day()
    plan = _morning(problem, {"V1": ["pp", "pd"], "V2": ["qp", "qd"]})
    request = ReplanRequest(states=(), cancelled=("qp",), now_s=8 * H)
    setup = replan_problem(problem, plan, request)
    assert setup.cancelled == ("qp", "qd")
    assert {o.id for o in setup.problem.orders} == {"pp", "pd"}


def test_late_replan_extends_the_shift_to_get_home() -> None:
    """A van still 3 km out at 17:55, its break not taken, gets just the overtime
    to take the break and drive back; its remaining stop would need more, so it
    is reported unplanned (the model stays solvable)."""
    problem = Problem(
        depots=(Depot(id="D", location=Point(0, 0)),),
        vehicles=(
            _van(
                "V1",
                breaks=(Break(window=TimeWindow(12 * H, 14 * H), duration_s=1800),),
            ),
        ),
        orders=(_order("x", 3000), _order("y", 3500)),
    )
    plan = _morning(problem, {"V1": ["x", "y"]})
    request = ReplanRequest(
        states=(
            VehicleState(
                vehicle_id="V1",
                time_s=17 * H + 55 * M,
                position=Point(3000, 0),
                done=("x",),
                breaks_done=0,
            ),
        )
    )
    result = _checked(replan(problem, plan, request, travel_for=TRAVEL, options=FAST))
    shift = result.problem.vehicle("V1").shift
    assert shift.end_s >= 17 * H + 55 * M + 3000 + 1800
    assert result.problem.vehicle("V1").breaks[0].window == TimeWindow(
        17 * H + 55 * M, 17 * H + 55 * M
    )
    assert result.stranded == ()
    # Serving y as well would end at 19:36, past even the extended shift.
    assert result.plan.unplanned_ids == ("y",)


def test_stranded_vehicle_is_reported() -> None:
    """When the end depot closes before the van can be back, the van is left
    out and its on-board stop is reported unplanned."""
    problem = Problem(
        depots=(
            Depot(id="D", location=Point(0, 0), opening=TimeWindow(7 * H, 18 * H)),
        ),
        vehicles=(_van("V1"), _van("V2")),
        orders=(_order("x", 3000), _order("y", 3500)),
    )
    plan = _morning(problem, {"V1": ["x", "y"]})
    request = ReplanRequest(
        states=(
            VehicleState(
                vehicle_id="V1",
                time_s=17 * H + 59 * M,
                position=Point(3000, 0),
                done=("x",),
            ),
        )
    )
    result = _checked(replan(problem, plan, request, travel_for=TRAVEL, options=FAST))
    assert result.stranded == ("V1",)
    assert result.plan.unplanned_ids == ("y",)
    assert result.plan.unplanned[0].code is UnplannedCode.MISSING_SKILL


@pytest.mark.parametrize(
    ("change", "path", "entity_id"),
    [
        (
            {"states": (VehicleState(vehicle_id="V9", time_s=NOW),)},
            "states[0].vehicle_id",
            "V9",
        ),
        (
            {"states": (VehicleState(vehicle_id="V1", time_s=NOW, done=("zz",)),)},
            "states[0].done[0]",
            "zz",
        ),
        (
            {"states": (VehicleState(vehicle_id="V1", time_s=NOW, done=("e1", "e1")),)},
            "states[0].done[1]",
            "e1",
        ),
        (
            {
                "states": (
                    VehicleState(vehicle_id="V1", time_s=NOW),
                    VehicleState(vehicle_id="V2", time_s=NOW, done=("e1",)),
                )
            },
            "states[1].done[0]",
            "e1",
        ),
        (
            {
                "states": (VehicleState(vehicle_id="V1", time_s=NOW, done=("e1",)),),
                "cancelled": ("e1",),
            },
            "states[0].done[0]",
            "e1",
        ),
        (
            {
                "states": (
                    VehicleState(
                        vehicle_id="V1", time_s=NOW, done=("e1",), heading_to="e1"
                    ),
                )
            },
            "states[0].heading_to",
            "e1",
        ),
        (
            {
                "states": (
                    VehicleState(
                        vehicle_id="V1",
                        time_s=NOW,
                        position=Point(0, 0),
                        on_board=(1, 2),
                    ),
                )
            },
            "states[0].on_board",
            "V1",
        ),
        (
            {"states": (), "now_s": NOW, "cancelled": ("nope",)},
            "cancelled[0]",
            "nope",
        ),
        (
            {"states": (), "now_s": NOW, "new_orders": (_order("e1", 5, 5),)},
            "new_orders[0].id",
            "e1",
        ),
        ({"states": (), "now_s": 8 * 86400}, "now_s", None),
        (
            {"states": (VehicleState(vehicle_id="V1", time_s=8 * 86400),)},
            "states[0].time_s",
            "V1",
        ),
    ],
)
def test_request_errors_name_path_and_id(
    change: dict[str, object], path: str, entity_id: str
) -> None:
    """Each inconsistent request is rejected, naming the field and the entity."""
    problem = _day()
    plan = _day_plan(problem)
    kw: dict[str, object] = {"new_orders": (), "cancelled": ()}
    kw.update(change)
    with pytest.raises(InvalidProblemError) as info:
        replan_problem(problem, plan, ReplanRequest(**kw))  # type: ignore[arg-type]
    assert (info.value.path, info.value.entity_id) == (path, entity_id)


def test_too_little_on_board_is_an_error() -> None:
    """Claiming less on board than the remaining on-board deliveries need is
    rejected (their goods would be missing)."""
    problem = _day()
    plan = _day_plan(problem)
    request = _request(
        states=(
            VehicleState(
                vehicle_id="V1",
                time_s=NOW,
                position=Point(2000, 60),
                done=("e1", "r2"),
                on_board=(1,),
            ),
        ),
        cancelled=(),
    )
    with pytest.raises(InvalidProblemError) as info:
        replan_problem(problem, plan, request)
    assert (info.value.path, info.value.entity_id) == ("states[0].on_board", "V1")


def test_request_pickles() -> None:
    """A request (promises included) travels to worker processes."""
    problem = _day()
    request = _request(promises=promises(problem, _day_plan(problem)))
    copy = pickle.loads(pickle.dumps(request))
    assert copy == request
    assert dict(copy.promises) == dict(request.promises)


# ----------------------------------------------------------------------------------
# Keeping the day (issue 11 point 3): one `now`, a start from the current routes,
# priced moves, nothing changed -> the same plan, and the changes listed.

WEEKDAY = Path(__file__).resolve().parents[3] / "scenarios" / "andorra_weekday.json"
ELEVEN = 11 * H


def _states_at(problem: Problem, plan: Plan, now_s: int) -> tuple[VehicleState, ...]:
    """Each vehicle on the road exactly where the plan has it at ``now_s``: the
    visits it has finished done, driving to the next one from the last place it
    left (the depot: no position), at the time it left."""
    states = []
    for route in plan.routes:
        if route.start_s >= now_s:
            continue
        done = [v for v in route.visits if v.departure_s <= now_s]
        ids = tuple(v.order_id for v in done)
        if len(done) == len(route.visits):
            states.append(
                VehicleState(vehicle_id=route.vehicle_id, time_s=now_s, done=ids)
            )
            continue
        last = done[-1] if done else None
        states.append(
            VehicleState(
                vehicle_id=route.vehicle_id,
                time_s=last.departure_s if last else route.start_s,
                position=problem.order(last.order_id).location if last else None,
                done=ids,
                heading_to=route.visits[len(done)].order_id,
            )
        )
    return tuple(states)


@pytest.fixture(scope="module")
def weekday() -> tuple[Problem, TravelData, Plan]:
    """The weekday scenario and its plan (deterministic, short)."""
    problem = load_problem(WEEKDAY)
    travel = build_travel(problem)
    plan = solve(
        problem, travel, options=SolveOptions(time_limit_s=2, is_deterministic=True)
    )
    assert_plan_ok(problem, plan, travel)
    return problem, travel, plan


@pytest.fixture(scope="module")
def weekday_changed(
    weekday: tuple[Problem, TravelData, Plan],
) -> tuple[ReplanRequest, ReplanResult]:
    """The weekday re-planned at 11:00, every vehicle on schedule and every ETA
    promised, with one new order and one cancelled order (of a vehicle not yet
    left)."""
    problem, _, plan = weekday
    later = next(r for r in plan.routes if r.start_s > ELEVEN)
    new = replace(problem.order(later.order_ids[1]), id="new-1")
    request = ReplanRequest(
        states=_states_at(problem, plan, ELEVEN),
        now_s=ELEVEN,
        new_orders=(new,),
        cancelled=(later.order_ids[0],),
        promises=promises(problem, plan),
    )
    options = SolveOptions(time_limit_s=3, is_deterministic=True)
    result = replan(problem, plan, request, travel_for=build_travel, options=options)
    return request, _checked(result)


def test_nothing_changed_returns_the_same_routes_and_times(
    weekday: tuple[Problem, TravelData, Plan],
) -> None:
    """Re-planning the weekday at 11:00 with every vehicle where the plan has
    it and nothing new: the same vehicles, the same orders in the same order,
    the same service starts, without a search."""
    problem, _, plan = weekday
    request = ReplanRequest(states=_states_at(problem, plan, ELEVEN), now_s=ELEVEN)
    result = _checked(
        replan(problem, plan, request, travel_for=build_travel, options=FAST)
    )
    assert result.is_unchanged
    assert "nothing changed" in result.reason
    assert result.plan.stats["searched"] == 0.0
    gone = {oid for done in result.done.values() for oid in done}
    gone |= set(result.pinned_first.values())
    expected = {
        r.vehicle_id: [
            (v.order_id, v.start_s) for v in r.visits if v.order_id not in gone
        ]
        for r in plan.routes
    }
    got = {
        r.vehicle_id: [(v.order_id, v.start_s) for v in r.visits]
        for r in result.plan.routes
    }
    assert got == {vid: visits for vid, visits in expected.items() if visits}
    for vid, oid in result.pinned_first.items():
        old = next(v for r in plan.routes for v in r.visits if v.order_id == oid)
        assert result.pinned_start_s[vid] == old.start_s
    assert not (result.moved or result.retimed or result.dropped or result.eta_changes)
    assert plan_objective(result.problem, result.plan) == pytest.approx(
        result.plan.objective / COST_SCALE, abs=1e-3
    )


def test_a_vehicle_behind_schedule_is_re_planned(
    weekday: tuple[Problem, TravelData, Plan],
) -> None:
    """Control: a vehicle 20 minutes behind its plan is a change: the search
    runs (from the current routes) and the reason names the vehicle."""
    problem, _, plan = weekday
    states = list(_states_at(problem, plan, ELEVEN))
    k = next(i for i, s in enumerate(states) if s.heading_to)
    states[k] = replace(states[k], time_s=states[k].time_s + 20 * M)
    request = ReplanRequest(states=tuple(states), now_s=ELEVEN + 20 * M)
    result = _checked(
        replan(problem, plan, request, travel_for=build_travel, options=FAST)
    )
    assert not result.is_unchanged
    assert states[k].vehicle_id in result.reason
    assert "current_objective" in result.plan.stats  # it started from them


def test_on_board_orders_are_neither_dropped_nor_moved(
    weekday_changed: tuple[ReplanRequest, ReplanResult],
) -> None:
    """With a new and a cancelled order, every order whose goods are on board
    of a vehicle on the road is planned, on that vehicle."""
    _, result = weekday_changed
    assert result.setup is not None
    carried = {oid: vid for vid, ids in result.setup.on_board.items() for oid in ids}
    assert carried
    for oid, vid in carried.items():
        assert _vehicle_of(result.plan, oid) == vid, oid


def test_promised_orders_are_neither_dropped_nor_moved(
    weekday_changed: tuple[ReplanRequest, ReplanResult],
    weekday: tuple[Problem, TravelData, Plan],
) -> None:
    """Every promised order that still fits keeps its vehicle and its promise
    (one new and one cancelled order); the new order is planned."""
    request, result = weekday_changed
    _, _, plan = weekday
    assert not result.plan.unplanned
    for oid in request.promises:
        if oid in {o.id for o in result.problem.orders}:
            assert _vehicle_of(result.plan, oid) == _vehicle_of(plan, oid), oid
    assert not any(c.is_broken for c in result.eta_changes)
    assert not result.moved and not result.dropped
    assert set(result.new_planned) == {"new-1"}


def test_plan_objective_is_the_routes_plus_the_moves(
    weekday_changed: tuple[ReplanRequest, ReplanResult],
) -> None:
    """The solver's objective of the re-plan is the timed plan's objective plus
    ``move_cost`` per moved order (the model's rounding aside)."""
    _, result = weekday_changed
    plan = result.plan
    assert plan.stats.get("objective_of_plan") == 1.0
    assert plan_objective(result.problem, plan) + result.move_cost_total == (
        pytest.approx(plan.objective / COST_SCALE, abs=1e-3 + len(plan.routes) * 0.2)
    )


def _two_vans() -> Problem:
    """V1 east, V2 west; x lies west but the morning plan gave it to V1."""
    return Problem(
        depots=(Depot(id="D", location=Point(0, 0)),),
        vehicles=(_van("V1"), _van("V2")),
        orders=(
            _order("e1", 1000),
            _order("x", -1000, 100),
            _order("w1", -1000),
            _order("w2", -1500),
        ),
    )


@pytest.mark.parametrize(("move_cost", "is_moved"), [(0.0, True), (50.0, False)])
def test_moving_an_order_costs_move_cost(move_cost: float, is_moved: bool) -> None:
    """x saves about 2 km and 33 min (about 13) on V2: free to move, it moves;
    at 50 per move nothing moves. Moves are listed and priced, and the
    objective is the plan's plus the moves'."""
    problem = _two_vans()
    plan = _morning(problem, {"V1": ["e1", "x"], "V2": ["w1", "w2"]})
    request = ReplanRequest(
        states=(), now_s=8 * H, cancelled=("w2",), move_cost=move_cost
    )
    result = _checked(replan(problem, plan, request, travel_for=TRAVEL, options=FAST))
    assert _vehicle_of(result.plan, "x") == ("V2" if is_moved else "V1")
    if is_moved:  # free moves: one van may well take the lot
        assert OrderMove("x", "V1", "V2") in result.moved
    else:
        assert result.moved == ()
    assert result.move_cost_total == move_cost * len(result.moved)
    assert ("x: moved from V1 to V2" in result.change_lines()) is is_moved
    assert plan_objective(result.problem, result.plan) + result.move_cost_total == (
        pytest.approx(
            result.plan.objective / COST_SCALE, abs=0.2 * len(result.plan.routes)
        )
    )


def test_no_vehicle_departs_before_now() -> None:
    """At 09:30, V1 (listed, reported at 09:20 at the depot) and V2 (not listed,
    shift from 09:00) both leave at 09:30 at the earliest."""
    problem = _day()
    plan = _day_plan(problem)
    now = 9 * H + 30 * M
    request = ReplanRequest(
        states=(VehicleState(vehicle_id="V1", time_s=now - 10 * M),), now_s=now
    )
    result = _checked(replan(problem, plan, request, travel_for=TRAVEL, options=FAST))
    assert {v.id for v in result.problem.vehicles} == {"V1", "V2"}
    assert all(v.shift.start_s >= now for v in result.problem.vehicles)
    assert {r.vehicle_id for r in result.plan.routes} == {"V1", "V2"}
    assert all(r.start_s >= now for r in result.plan.routes)


def test_unlisted_vehicles_on_the_weekday_leave_at_now(
    weekday: tuple[Problem, TravelData, Plan],
) -> None:
    """Only one vehicle listed at 11:00: every other one, its shift begun at
    08:00 or 10:00, departs at 11:00 at the earliest."""
    problem, _, plan = weekday
    state = next(s for s in _states_at(problem, plan, ELEVEN) if s.heading_to)
    request = ReplanRequest(states=(replace(state, time_s=ELEVEN),))
    assert request.now_s == ELEVEN  # the latest state's time
    result = _checked(
        replan(problem, plan, request, travel_for=build_travel, options=FAST)
    )
    assert all(r.start_s >= ELEVEN for r in result.plan.routes)


def test_now_is_required_without_states_and_no_state_is_after_it() -> None:
    """Without states ``now_s`` must be given; a state after it is an error."""
    with pytest.raises(InvalidProblemError) as info:
        ReplanRequest(states=())
    assert info.value.path == "now_s"
    with pytest.raises(InvalidProblemError) as info:
        ReplanRequest(
            states=(VehicleState(vehicle_id="V1", time_s=NOW + 1),), now_s=NOW
        )
    assert (info.value.path, info.value.entity_id) == ("states[0].time_s", "V1")


def test_changes_list_moves_retimings_drops_and_new_orders_once(
    day_result: tuple[Problem, Plan, ReplanResult],
) -> None:
    """The main day's re-plan: the new orders are listed with their vehicle,
    re-timings by more than 5 minutes with old and new start, and no order is
    listed twice or as both kept and dropped."""
    _, plan, result = day_result
    assert set(result.new_planned) == {"n_del", "n_pick"}
    assert result.new_planned["n_del"] == "V2"
    starts = {v.order_id: v.start_s for r in result.plan.routes for v in r.visits}
    starts.update(
        {oid: result.pinned_start_s[v] for v, oid in result.pinned_first.items()}
    )
    old = {v.order_id: v.start_s for r in plan.routes for v in r.visits}
    assert {r.order_id for r in result.retimed} == {
        oid
        for oid in starts
        if oid in old and abs(starts[oid] - old[oid]) > RETIMED_MIN_S
    }
    for r in result.retimed:
        assert (r.old_start_s, r.new_start_s) == (old[r.order_id], starts[r.order_id])
    assert not result.dropped
    lines = result.change_lines()
    assert len(lines) == len(result.moved) + len(result.retimed) + 2


def test_a_dropped_order_gets_one_reason() -> None:
    """An order of the old plan that no longer fits is listed as dropped once,
    with the reason the new plan gives it, and is neither moved nor re-timed."""
    problem = Problem(
        depots=(Depot(id="D", location=Point(0, 0)),),
        vehicles=(_van("V1"),),
        orders=(_order("x", 3000), _order("y", 3500)),
    )
    plan = _morning(problem, {"V1": ["x", "y"]})
    request = ReplanRequest(
        states=(
            VehicleState(
                vehicle_id="V1",
                time_s=17 * H + 50 * M,
                position=Point(3000, 0),
                done=("x",),
            ),
        )
    )
    result = _checked(replan(problem, plan, request, travel_for=TRAVEL, options=FAST))
    assert [u.order_id for u in result.dropped] == ["y"]
    assert result.dropped == result.plan.unplanned
    assert not result.moved and not result.retimed
    (line,) = [ln for ln in result.change_lines() if ln.startswith("y:")]
    assert result.dropped[0].reason in line


def test_one_vehicle_on_schedule_keeps_its_route(
    weekday: tuple[Problem, TravelData, Plan],
) -> None:
    """The reported case: the first vehicle out, on schedule after two stops,
    is the only one listed. Its remaining route is kept as it is (its goods are
    on board) and no order of the old plan is dropped."""
    problem, _, plan = weekday
    route = min(plan.routes, key=lambda r: r.start_s)
    second = route.visits[1]
    state = VehicleState(
        vehicle_id=route.vehicle_id,
        time_s=second.departure_s,
        position=problem.order(second.order_id).location,
        done=route.order_ids[:2],
        heading_to=route.order_ids[2],
    )
    request = ReplanRequest(states=(state,))
    result = _checked(
        replan(problem, plan, request, travel_for=build_travel, options=FAST)
    )
    kept = result.plan.route(route.vehicle_id)
    assert kept is not None and kept.order_ids == route.order_ids[3:]
    assert not result.dropped and not result.plan.unplanned
    assert all(m.from_vehicle != route.vehicle_id for m in result.moved)
