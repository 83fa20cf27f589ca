"""Tests of re-planning during the day: the rest-of-day problem
(`routing.day.replan.replan_problem`) and its solve (`routing.day.replan.replan`).

The morning plans are built from fixed sequences with the scheduler, so the
starting point is known; the re-plans are solved (deterministic, tiny). Days are
planar with travel at 1 m/s. Every new plan passes the independent checker on
the rest-of-day problem.
"""

from __future__ import annotations

import pickle
from functools import partial

import pytest

from routing.check import assert_plan_ok
from routing.day.replan import (
    AT_DEPOT_SKILL,
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
from routing.domain.timing import build_route
from routing.geo import Euclidean, build_travel
from routing.solver import SolveOptions

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
    setup = replan_problem(problem, plan, ReplanRequest(states=(), cancelled=("qp",)))
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
        ({"states": (), "cancelled": ("nope",)}, "cancelled[0]", "nope"),
        ({"states": (), "new_orders": (_order("e1", 5, 5),)}, "new_orders[0].id", "e1"),
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
