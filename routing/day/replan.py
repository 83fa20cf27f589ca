"""Re-planning during the day: the rest of the day as a new Problem.

Given the morning's plan and where each vehicle is now (what it has served, where
it is, where it is driving to, what it carries), `replan_problem` builds the
problem of the rest of the day: served and cancelled orders leave, new orders
join, a vehicle on the road starts from a pseudo-depot at its position, goods on
board stay on their vehicle, and orders whose ETA was promised keep it where they
can. Solving that problem is `routing.day.replan.replan`; this module is pure
domain code and never solves.

Conventions
-----------
- A vehicle is *on the road* when its state has a ``position`` or a
  ``heading_to`` stop; otherwise it is *at its start depot* (not yet left, or back
  from an earlier round with its goods unloaded). Vehicles without a state have
  not left yet and keep their start.
- One ``now`` for the whole fleet (`ReplanRequest.now_s`): no vehicle leaves its
  depot, or resumes from where it is, before it; shifts that started earlier
  start at ``now``, and a vehicle whose shift is over by then is left out.
- Goods for deliveries are loaded at the depot. So a delivery whose goods are on
  board of vehicle V (an undelivered stop of V's old route, V on the road) may
  only go on V: both get the skill ``on-board:V``. Every other delivery (a new
  order, an order of a vehicle still at the depot, an order unplanned before)
  has its goods at the depot: when some vehicle is on the road, such orders and
  the vehicles at their depot get the skill ``at-depot``. Pickup-only orders may
  go on any vehicle.
- Returns collected and still on board take room: they reduce the vehicle's
  capacity for the rest of the day.
- The stop a driver is driving to stays first. It leaves the problem, as
  "served next": the vehicle's pseudo-depot is at that stop, opening when the
  driver will have served it (arrival after the given travel time, waiting for
  the slot if early, plus service).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType

from routing.domain.errors import InvalidProblemError
from routing.domain.eta import EtaChange, Promise, compare_promises
from routing.domain.model import (
    Break,
    Depot,
    Location,
    Order,
    Place,
    Point,
    Problem,
    TimeWindow,
    Vehicle,
)
from routing.domain.plan import Plan, Route, Unplanned
from routing.domain.timing import plan_from_routes, plan_objective, route_violations
from routing.domain.units import COST_SCALE, format_clock
from routing.geo.matrix import TravelData, matrix_for
from routing.solver.options import SolveOptions, remaining
from routing.solver.solve import solve

logger = logging.getLogger(__name__)

__all__ = [
    "AT_DEPOT_SKILL",
    "DEFAULT_MOVE_COST",
    "DEFAULT_PROMISE_COST_PER_HOUR",
    "ON_SCHEDULE_S",
    "RETIMED_MIN_S",
    "OrderMove",
    "ReplanRequest",
    "ReplanResult",
    "ReplanSetup",
    "Retiming",
    "VehicleState",
    "check_request",
    "on_board_skill",
    "pseudo_depot_id",
    "replan",
    "replan_problem",
]

AT_DEPOT_SKILL = "at-depot"
"""Skill of the vehicles still at their depot, and of the deliveries whose goods
are there: only those vehicles can load them."""

DEFAULT_PROMISE_COST_PER_HOUR = 60.0
"""Cost of serving a promised order after its promised range, money per hour: of
the order of a driver-hour (e.g. 25/h) plus the cost of a customer waiting in
vain, so that the search moves a promised ETA only to save more than that."""

DEFAULT_MOVE_COST = 20.0
"""Cost of moving an order to another vehicle than the one the old plan has it
on, money per order: of the order of a driver-hour's share of re-loading and
re-briefing (parcels sorted by route, a driver who knows the stop), so that a
re-plan reshuffles the day only to save more than that per order moved."""

RETIMED_MIN_S = 300
"""A re-plan reports an order as re-timed when its service start moves by more
than this (5 minutes: less is within what drivers and customers notice)."""

ON_SCHEDULE_S = 120
"""A vehicle is where the old plan has it when the remainder of its route,
re-timed from its state, starts every stop within this of the old plan (GPS
positions and reporting delays make exact agreement rare)."""


def on_board_skill(vehicle_id: str) -> str:
    """The skill that ties orders whose goods are on board to their vehicle."""
    return f"on-board:{vehicle_id}"


def pseudo_depot_id(vehicle_id: str) -> str:
    """Id of the depot a vehicle on the road starts the rest of its day from."""
    return f"@{vehicle_id}"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True, kw_only=True)
class VehicleState:
    """Where one vehicle stands at the moment of re-planning.

    Parameters
    ----------
    vehicle_id
        The vehicle.
    time_s
        Now, seconds since midnight (inside the horizon).
    position
        Where the vehicle is; None: still at (or back at) its start depot.
    done
        Orders it has served already (all on its route in the old plan).
    heading_to
        The stop the driver is driving to (on its old route, not done); it
        stays the vehicle's next stop.
    on_board
        What is on board now, one value per quantity (before serving
        ``heading_to``); None: computed from the old plan (the undelivered
        deliveries of its route plus what its served stops collected). More than
        the on-board orders need reduces the capacity.
    breaks_done
        How many of the vehicle's breaks the driver has taken; None: those the
        old plan has over by the time the rest of the day starts (without an old
        route: those whose window has closed).
    """

    vehicle_id: str
    time_s: int
    position: Place | None = None
    done: tuple[str, ...] = ()
    heading_to: str | None = None
    on_board: tuple[int, ...] | None = None
    breaks_done: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.vehicle_id, str) or not self.vehicle_id:
            raise InvalidProblemError(
                f"must be a vehicle id, got {self.vehicle_id!r}", path="vehicle_id"
            )
        vid = self.vehicle_id
        if not _is_int(self.time_s) or self.time_s < 0:
            raise InvalidProblemError(
                f"must be integer seconds >= 0, got {self.time_s!r}",
                path="time_s",
                entity_id=vid,
            )
        if self.position is not None and not isinstance(
            self.position, Location | Point
        ):
            raise InvalidProblemError(
                f"must be a Location(lat, lon), a Point(x, y) or None, got "
                f"{self.position!r}",
                path="position",
                entity_id=vid,
            )
        if not isinstance(self.done, tuple):
            object.__setattr__(self, "done", tuple(self.done))
        for j, oid in enumerate(self.done):
            if not isinstance(oid, str) or not oid:
                raise InvalidProblemError(
                    f"must be an order id, got {oid!r}",
                    path=f"done[{j}]",
                    entity_id=vid,
                )
        if self.heading_to is not None and (
            not isinstance(self.heading_to, str) or not self.heading_to
        ):
            raise InvalidProblemError(
                f"must be an order id or None, got {self.heading_to!r}",
                path="heading_to",
                entity_id=vid,
            )
        if self.on_board is not None:
            if not isinstance(self.on_board, tuple):
                object.__setattr__(self, "on_board", tuple(self.on_board))
            for q, value in enumerate(self.on_board or ()):
                if not _is_int(value) or value < 0:
                    raise InvalidProblemError(
                        f"must be an integer >= 0, got {value!r}",
                        path=f"on_board[{q}]",
                        entity_id=vid,
                    )
        if self.breaks_done is not None and (
            not _is_int(self.breaks_done) or self.breaks_done < 0
        ):
            raise InvalidProblemError(
                f"must be an integer >= 0 or None, got {self.breaks_done!r}",
                path="breaks_done",
                entity_id=vid,
            )

    @property
    def is_on_road(self) -> bool:
        """True when the vehicle has left its depot (a position or a next stop)."""
        return self.position is not None or self.heading_to is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplanRequest:
    """What changed since the plan was made.

    Parameters
    ----------
    states
        One state per vehicle that has moved or whose clock matters; vehicles
        without one have not left their depot and keep their start.
    new_orders
        Orders booked since (their ids must be new).
    cancelled
        Ids of orders cancelled since (not served). Cancelling one order of a
        pickup-and-delivery pair whose pickup is not served cancels the other
        one too.
    promises
        ETAs already given to customers, by order id (`routing.domain.eta.promises`).
        A promised order's slot is narrowed to its promised range; serving it
        later stays allowed up to the end of its booked slot plus its allowed
        lateness, at ``promise_cost_per_hour`` (or the order's own lateness cost
        if higher). Serving it earlier is not allowed (the driver waits).
    promise_cost_per_hour
        Money per hour a promised ETA is overrun (>= 0).
    now_s
        The moment of re-planning, seconds since midnight, one for the whole
        fleet: no vehicle leaves (its depot, or where it resumes) before it, and
        no state's ``time_s`` is after it. None: the latest ``time_s`` of the
        states (required when there are none).
    move_cost
        Money per order served by another vehicle than its own in the old plan
        (>= 0; 0: moving is free). Part of what the search minimises, reported
        apart from the routes' costs (`ReplanResult.move_cost_total`).
    """

    states: tuple[VehicleState, ...]
    new_orders: tuple[Order, ...] = ()
    cancelled: tuple[str, ...] = ()
    promises: Mapping[str, Promise] = field(default_factory=dict)
    promise_cost_per_hour: float = DEFAULT_PROMISE_COST_PER_HOUR
    now_s: int | None = None
    move_cost: float = DEFAULT_MOVE_COST

    def __post_init__(self) -> None:
        for name in ("states", "new_orders", "cancelled"):
            value = getattr(self, name)
            if not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))
        for i, state in enumerate(self.states):
            if not isinstance(state, VehicleState):
                raise InvalidProblemError(
                    f"expected a VehicleState, got {state!r}", path=f"states[{i}]"
                )
        for k, order in enumerate(self.new_orders):
            if not isinstance(order, Order):
                raise InvalidProblemError(
                    f"expected an Order, got {order!r}", path=f"new_orders[{k}]"
                )
        for k, oid in enumerate(self.cancelled):
            if not isinstance(oid, str) or not oid:
                raise InvalidProblemError(
                    f"must be an order id, got {oid!r}", path=f"cancelled[{k}]"
                )
        if not isinstance(self.promises, Mapping):
            raise InvalidProblemError(
                f"must map order ids to Promises, got {self.promises!r}",
                path="promises",
            )
        for oid, promise in self.promises.items():
            path = f"promises.{oid}"
            if not isinstance(promise, Promise):
                raise InvalidProblemError(
                    f"expected a Promise, got {promise!r}", path=path, entity_id=oid
                )
            if promise.order_id != oid:
                raise InvalidProblemError(
                    f"the promise is for order {promise.order_id!r}",
                    path=path,
                    entity_id=oid,
                )
            if not 0 <= promise.window_start_s <= promise.window_end_s:
                raise InvalidProblemError(
                    f"promised range [{promise.window_start_s}, "
                    f"{promise.window_end_s}] s is not a valid interval",
                    path=path,
                    entity_id=oid,
                )
        object.__setattr__(self, "promises", MappingProxyType(dict(self.promises)))
        for name in ("promise_cost_per_hour", "move_cost"):
            cost = getattr(self, name)
            if (
                not isinstance(cost, int | float)
                or isinstance(cost, bool)
                or not math.isfinite(cost)
                or cost < 0
            ):
                raise InvalidProblemError(
                    f"must be a finite number >= 0, got {cost!r}", path=name
                )
        if self.now_s is None:
            if not self.states:
                raise InvalidProblemError(
                    "required when no vehicle state is given: the moment of "
                    "re-planning, seconds since midnight",
                    path="now_s",
                )
            object.__setattr__(self, "now_s", max(s.time_s for s in self.states))
        elif not _is_int(self.now_s) or self.now_s < 0:
            raise InvalidProblemError(
                f"must be integer seconds >= 0 or None, got {self.now_s!r}",
                path="now_s",
            )
        for i, state in enumerate(self.states):
            if state.time_s > self.now:
                raise InvalidProblemError(
                    f"time {state.time_s} s is after now ({self.now} s): a state "
                    "reports the past",
                    path=f"states[{i}].time_s",
                    entity_id=state.vehicle_id,
                )

    @property
    def now(self) -> int:
        """The moment of re-planning (``now_s``, defaulted), seconds."""
        assert self.now_s is not None  # set by __post_init__
        return self.now_s

    def __reduce__(self) -> tuple[object, ...]:
        # promises is a read-only proxy, which does not pickle: rebuild from the
        # constructor's arguments, so requests travel to worker processes.
        kwargs = {f.name: getattr(self, f.name) for f in fields(self)}
        kwargs["promises"] = dict(self.promises)
        return (_rebuild_request, (kwargs,))


def _rebuild_request(kwargs: dict[str, object]) -> ReplanRequest:
    return ReplanRequest(**kwargs)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplanSetup:
    """The rest of the day, ready to solve.

    Parameters
    ----------
    problem
        The problem of the rest of the day.
    done
        Vehicle -> orders it served before (as in the request).
    pinned_first
        Vehicle -> the stop it is driving to, served next, outside ``problem``.
    pinned_start_s
        Vehicle -> when that stop's service starts (its new ETA).
    on_board
        Vehicle on the road -> orders whose goods it carries (only it can serve
        them).
    cancelled
        The orders removed as cancelled, partners of cancelled pair orders
        included.
    off_duty
        Vehicles at their depot whose shift is over: left out of ``problem``.
    """

    problem: Problem
    done: dict[str, tuple[str, ...]]
    pinned_first: dict[str, str]
    pinned_start_s: dict[str, int] = field(default_factory=dict)
    on_board: dict[str, tuple[str, ...]] = field(default_factory=dict)
    cancelled: tuple[str, ...] = ()
    off_duty: tuple[str, ...] = ()


def _fail(message: str, path: str, entity_id: str | None = None) -> InvalidProblemError:
    return InvalidProblemError(message, path=path, entity_id=entity_id)


def _routes_of(problem: Problem, plan: Plan) -> dict[str, str]:
    """Order id -> the vehicle whose route visits it in the old plan."""
    known_vehicles = {v.id for v in problem.vehicles}
    route_of: dict[str, str] = {}
    for i, route in enumerate(plan.routes):
        if route.vehicle_id not in known_vehicles:
            raise _fail(
                "the plan has a route for a vehicle that is not in the problem",
                f"plan.routes[{i}].vehicle_id",
                route.vehicle_id,
            )
        for j, visit in enumerate(route.visits):
            try:
                problem.order(visit.order_id)
            except KeyError:
                raise _fail(
                    "the plan visits an order that is not in the problem",
                    f"plan.routes[{i}].visits[{j}].order_id",
                    visit.order_id,
                ) from None
            route_of.setdefault(visit.order_id, route.vehicle_id)
    return route_of


def check_request(problem: Problem, plan: Plan, request: ReplanRequest) -> None:
    """Check a re-planning request against the problem and its old plan.

    Raises
    ------
    InvalidProblemError
        Naming the field (``states[2].done[0]``, ``cancelled[1]``,
        ``new_orders[0].id``, ``promises.o-7``...) and the entity: an unknown
        vehicle or order, two states for one vehicle, a time outside the horizon,
        a position of the wrong coordinate kind, an order done twice, done by a
        vehicle whose route did not have it, done and cancelled, a pair's
        delivery done (or driven to) before its pickup, a ``heading_to`` that is
        not an open stop of the vehicle's route, an ``on_board`` or new order
        vector of the wrong length, a new order id that exists already, or a
        promise for an unknown order.
    """
    route_of = _routes_of(problem, plan)
    known = {o.id for o in problem.orders}
    horizon = problem.horizon
    cancelled: dict[str, int] = {}
    for k, oid in enumerate(request.cancelled):
        if oid not in known:
            raise _fail("unknown order", f"cancelled[{k}]", oid)
        if oid in cancelled:
            raise _fail(
                f"cancelled twice, first at cancelled[{cancelled[oid]}]",
                f"cancelled[{k}]",
                oid,
            )
        cancelled[oid] = k
    seen_vehicles: dict[str, int] = {}
    done_at: dict[str, str] = {}
    heading_at: dict[str, str] = {}
    n_quantities = len(problem.quantities)
    for i, state in enumerate(request.states):
        p = f"states[{i}]"
        vid = state.vehicle_id
        try:
            vehicle = problem.vehicle(vid)
        except KeyError:
            raise _fail(
                "unknown vehicle; known vehicles: "
                f"{sorted(v.id for v in problem.vehicles)}",
                f"{p}.vehicle_id",
                vid,
            ) from None
        if vid in seen_vehicles:
            raise _fail(
                "a second state for this vehicle "
                f"(first at states[{seen_vehicles[vid]}])",
                f"{p}.vehicle_id",
                vid,
            )
        seen_vehicles[vid] = i
        if not horizon.contains(state.time_s):
            raise _fail(
                f"time {state.time_s} s is outside the horizon "
                f"[{horizon.start_s}, {horizon.end_s}] s",
                f"{p}.time_s",
                vid,
            )
        if state.position is not None and (
            isinstance(state.position, Point) != problem.is_planar
        ):
            kind = "planar Point(x, y)" if problem.is_planar else "Location(lat, lon)"
            raise _fail(
                f"the problem's places are {kind}, got {state.position!r}",
                f"{p}.position",
                vid,
            )
        for j, oid in enumerate(state.done):
            q = f"{p}.done[{j}]"
            if oid not in known:
                raise _fail("unknown order", q, oid)
            if oid in done_at:
                raise _fail(f"order is done twice (also at {done_at[oid]})", q, oid)
            if route_of.get(oid) != vid:
                where = (
                    f"it is on the route of vehicle {route_of[oid]!r}"
                    if oid in route_of
                    else "it is not planned"
                )
                raise _fail(f"vehicle {vid!r} cannot have served it: {where}", q, oid)
            if oid in cancelled:
                raise _fail(
                    f"order is done but also cancelled (cancelled[{cancelled[oid]}])",
                    q,
                    oid,
                )
            done_at[oid] = q
        if state.heading_to is not None:
            q, oid = f"{p}.heading_to", state.heading_to
            if oid not in known:
                raise _fail("unknown order", q, oid)
            if route_of.get(oid) != vid:
                raise _fail(
                    f"not a stop of vehicle {vid!r}'s route in the plan", q, oid
                )
            if oid in done_at:
                raise _fail(f"the stop is done already ({done_at[oid]})", q, oid)
            if oid in cancelled:
                raise _fail(
                    f"the stop is cancelled (cancelled[{cancelled[oid]}])", q, oid
                )
            heading_at[oid] = q
        if state.on_board is not None and len(state.on_board) != n_quantities:
            raise _fail(
                f"has {len(state.on_board)} values but the problem has "
                f"{n_quantities} quantities {list(problem.quantities)}",
                f"{p}.on_board",
                vid,
            )
        if state.breaks_done is not None and state.breaks_done > len(vehicle.breaks):
            raise _fail(
                f"{state.breaks_done} breaks done but the vehicle has "
                f"{len(vehicle.breaks)}",
                f"{p}.breaks_done",
                vid,
            )
    if not horizon.contains(request.now):
        raise _fail(
            f"now {request.now} s is outside the horizon "
            f"[{horizon.start_s}, {horizon.end_s}] s",
            "now_s",
        )
    for pair in problem.pairs:
        if pair.pickup in done_at:
            continue
        for paths in (done_at, heading_at):
            if pair.delivery in paths:
                raise _fail(
                    f"the delivery of pair {pair.id!r} comes before its pickup "
                    f"{pair.pickup!r}, which is not done",
                    paths[pair.delivery],
                    pair.delivery,
                )
    new_ids: dict[str, int] = {}
    for k, order in enumerate(request.new_orders):
        if order.id in known:
            raise _fail(
                "an order with this id is already in the day",
                f"new_orders[{k}].id",
                order.id,
            )
        if order.id in new_ids:
            raise _fail(
                f"duplicate id, first used at new_orders[{new_ids[order.id]}]",
                f"new_orders[{k}].id",
                order.id,
            )
        new_ids[order.id] = k
        for name in ("delivery", "pickup"):
            vector = getattr(order, name)
            if len(vector) != n_quantities:
                raise _fail(
                    f"has {len(vector)} values but the problem has {n_quantities} "
                    f"quantities {list(problem.quantities)}",
                    f"new_orders[{k}].{name}",
                    order.id,
                )
    for oid in request.promises:
        if oid not in known and oid not in new_ids:
            raise _fail("promise for an unknown order", f"promises.{oid}", oid)


def _add(a: Sequence[int], b: Sequence[int], sign: int = 1) -> list[int]:
    return [x + sign * y for x, y in zip(a, b, strict=True)]


def _service_start(problem: Problem, order: Order, arrival_s: int) -> int:
    """Earliest service start at or after ``arrival_s`` (the order's window rule)."""
    return problem.policy(order).service_start(arrival_s)[0]


def _narrowed(problem: Problem, order: Order, promise: Promise, cost: float) -> Order:
    """The order with its slot narrowed to the promised range: later service
    allowed up to the end of its booked slot plus its allowed lateness, at the
    promise's cost per hour (or the order's own lateness cost, if higher)."""
    ws, we = promise.window_start_s, promise.window_end_s
    policy = problem.policy(order)
    if not order.windows:
        limit = problem.horizon.end_s
    else:
        slot = next(
            (w for w in reversed(order.windows) if w.start_s <= we), order.windows[0]
        )
        limit = slot.end_s
        if slot == order.windows[-1]:
            limit = policy.latest_start_s
    limit = max(limit, we)
    return replace(
        order,
        windows=(TimeWindow(ws, we),),
        max_lateness_s=limit - we,
        lateness_cost_per_hour=max(cost, policy.lateness_cost_per_hour),
    )


def _remaining_breaks(
    vehicle: Vehicle, old_route: Route | None, state: VehicleState, t0: int
) -> tuple[Break, ...]:
    """The breaks still to take, their windows opening no earlier than ``t0``
    (an overdue break is taken at ``t0``)."""
    if state.breaks_done is not None:
        taken = state.breaks_done
    elif old_route is not None:
        taken = sum(1 for b in old_route.breaks if b.end_s <= t0)
    else:
        taken = sum(1 for b in vehicle.breaks if b.window.end_s < t0)
    out: list[Break] = []
    for b in vehicle.breaks[min(taken, len(vehicle.breaks)) :]:
        start, end = b.window.start_s, b.window.end_s
        if start < t0:
            out.append(replace(b, window=TimeWindow(t0, max(t0, end))))
        else:
            out.append(b)
    return tuple(out)


def _restarted(
    vehicle: Vehicle,
    old_route: Route | None,
    state: VehicleState,
    *,
    t0: int,
    served: Sequence[str],
) -> Vehicle:
    """The vehicle's shift, breaks and route limits for the rest of the day."""
    limits: dict[str, int | None] = {}
    if old_route is not None and (served or state.is_on_road):
        elapsed = max(0, t0 - old_route.start_s)
        done = set(served)
        driven = sum(v.distance_m for v in old_route.visits if v.order_id in done)
        if vehicle.max_duration_s is not None:
            limits["max_duration_s"] = max(0, vehicle.max_duration_s - elapsed)
        if vehicle.max_distance_m is not None:
            limits["max_distance_m"] = max(0, vehicle.max_distance_m - driven)
    if vehicle.max_stops is not None:
        limits["max_stops"] = max(0, vehicle.max_stops - len(served))
    return replace(
        vehicle,
        shift=TimeWindow(t0, max(t0, vehicle.shift.end_s)),
        breaks=_remaining_breaks(vehicle, old_route, state, t0),
        **limits,  # type: ignore[arg-type]
    )


def replan_problem(
    problem: Problem,
    plan: Plan,
    request: ReplanRequest,
    *,
    travel_s_to: Mapping[str, int] | None = None,
) -> ReplanSetup:
    """Build the problem of the rest of the day.

    Parameters
    ----------
    problem
        The day's problem.
    plan
        The plan the vehicles are driving (solving ``problem``).
    request
        Vehicle states, new and cancelled orders, promises (see the module
        docstring for the rules).
    travel_s_to
        Vehicle -> seconds from its position (its start depot if it has none) to
        its ``heading_to`` stop; missing vehicles arrive at ``time_s``.

    Returns
    -------
    ReplanSetup
        The new problem and what left it. In the problem: served, driven-to and
        cancelled orders are gone (with pairs that lost an order); new orders are
        added; a vehicle on the road starts at depot ``@<vehicle>`` (at its
        position from ``now``, or at its ``heading_to`` stop from when it is
        served, ``now`` at the earliest) with its shift starting then, its
        breaks taken so far removed, its ``max_stops``, ``max_duration_s`` and
        ``max_distance_m`` reduced by what it used (stops served, time since its
        old route left, planned legs to its served stops), its capacity reduced
        by goods on board that no remaining order of it delivers; a vehicle at
        its depot, with a state or without, cannot leave before ``now`` (it is
        left out when its shift is over by then). Skills tie goods to vehicles
        (module docstring); promised orders' slots are narrowed.

    Raises
    ------
    InvalidProblemError
        As `check_request`; also when the rest of the day starts after the
        horizon (``states[i].heading_to``), when ``on_board`` is less than what
        the vehicle's on-board orders deliver (``states[i].on_board``), or when
        ``travel_s_to`` holds a negative or non-integer time.
    """
    check_request(problem, plan, request)
    travel_s_to = travel_s_to or {}
    for vid, seconds in travel_s_to.items():
        if not _is_int(seconds) or seconds < 0:
            raise _fail(
                f"must be integer seconds >= 0, got {seconds!r}",
                f"travel_s_to.{vid}",
                vid,
            )
    horizon = problem.horizon
    n_q = len(problem.quantities)
    state_of = {s.vehicle_id: s for s in request.states}
    index_of = {s.vehicle_id: i for i, s in enumerate(request.states)}
    done = {oid for s in request.states for oid in s.done}
    pinned = {s.heading_to: s.vehicle_id for s in request.states if s.heading_to}
    served = done | set(pinned)

    cancelled = set(request.cancelled)
    for pair in problem.pairs:
        if pair.pickup in cancelled and pair.delivery not in served:
            cancelled.add(pair.delivery)
        if pair.delivery in cancelled and pair.pickup not in served:
            cancelled.add(pair.pickup)
    removed = served | cancelled
    kept_pairs = tuple(
        p
        for p in problem.pairs
        if p.pickup not in removed and p.delivery not in removed
    )
    in_kept_pair = {oid for p in kept_pairs for oid in (p.pickup, p.delivery)}
    has_on_road = any(s.is_on_road for s in request.states)

    depots: list[Depot] = list(problem.depots)
    depot_ids = {d.id for d in problem.depots}
    vehicles: list[Vehicle] = []
    on_board: dict[str, tuple[str, ...]] = {}
    skill_of: dict[str, str] = {}  # order -> on-board skill
    pinned_start: dict[str, int] = {}
    off_duty: list[str] = []
    now = request.now
    for vehicle in problem.vehicles:
        state = state_of.get(vehicle.id)
        at_depot_skills = (
            vehicle.skills | {AT_DEPOT_SKILL} if has_on_road else vehicle.skills
        )
        old_route = plan.route(vehicle.id)
        if state is None:
            if vehicle.shift.start_s >= now:
                vehicles.append(replace(vehicle, skills=at_depot_skills))
                continue
            # Not listed: still at its depot, and it cannot leave in the past.
            # Breaks are judged by their windows (it has driven no old route).
            state, old_route = VehicleState(vehicle_id=vehicle.id, time_s=now), None
        served_here = [*state.done, *([state.heading_to] if state.heading_to else [])]
        if not state.is_on_road:
            t0 = max(vehicle.shift.start_s, now)
            if t0 > vehicle.shift.end_s:
                logger.info("vehicle %s: shift over at %d s, left out", vehicle.id, t0)
                off_duty.append(vehicle.id)
                continue
            restarted = _restarted(vehicle, old_route, state, t0=t0, served=served_here)
            vehicles.append(replace(restarted, skills=at_depot_skills))
            continue
        i = index_of[vehicle.id]

        # On the road: where and when the rest of its day starts.
        start_place: Place = (
            state.position
            if state.position is not None
            else problem.depot(vehicle.start_depot).location
        )
        t0 = now  # where it is reported, it is (at the latest) now
        address = ""
        if state.heading_to is not None:
            target = problem.order(state.heading_to)
            arrival = state.time_s + travel_s_to.get(vehicle.id, 0)
            start = _service_start(problem, target, arrival)
            pinned_start[vehicle.id] = start
            # A stale state (the stop over before now) resumes now.
            t0 = max(start + target.service_s, now)
            start_place = target.location
            address = target.address
        if t0 > horizon.end_s:
            raise _fail(
                f"the vehicle can resume only at {t0} s, after the horizon ends "
                f"({horizon.end_s} s)",
                f"states[{i}].heading_to",
                vehicle.id,
            )
        depot_id = pseudo_depot_id(vehicle.id)
        if depot_id in depot_ids:
            raise _fail(
                f"a depot is named {depot_id!r}, the id reserved for the vehicle's "
                "position",
                f"states[{i}].vehicle_id",
                vehicle.id,
            )
        # It leaves at t0: a driver on the road is on duty, so waiting where he
        # is costs what waiting at the next stop costs; with a later departure
        # allowed, the timing moved every stop of an unchanged route up to its
        # slack (10 min later on the weekday scenario) for no saving.
        depots.append(
            Depot(
                id=depot_id,
                location=start_place,
                opening=TimeWindow(t0, t0),
                address=address,
            )
        )

        # What is on board now, and which remaining orders it is for.
        route_ids = old_route.order_ids if old_route is not None else ()
        done_here = set(state.done)
        load = [0] * n_q
        for oid in route_ids:
            order = problem.order(oid)
            if oid in done_here:
                load = _add(load, order.pickup)
                if problem.is_paired_delivery(oid):
                    load = _add(load, order.delivery, -1)
            elif not problem.is_paired_delivery(oid):
                load = _add(load, order.delivery)  # cancelled goods stay on board
        if state.on_board is not None:
            load = list(state.on_board)
        if state.heading_to is not None:
            target = problem.order(state.heading_to)
            load = _add(_add(load, target.delivery, -1), target.pickup)
        carried: list[str] = []
        for oid in route_ids:
            if oid in removed:
                continue
            its_pair = problem.pair_of(oid)
            if problem.is_paired_delivery(oid):
                if its_pair is not None and its_pair.pickup in served:
                    carried.append(oid)
            elif any(problem.order(oid).delivery):
                carried.append(oid)
        needed = [0] * n_q
        for oid in carried:
            needed = _add(needed, problem.order(oid).delivery)
        extra = _add(load, needed, -1)
        if any(x < 0 for x in extra):
            raise _fail(
                f"{load} on board (after the next stop) is less than the {needed} "
                f"the vehicle's remaining deliveries {carried} hand over; cancel "
                "the orders whose goods are missing",
                f"states[{i}].on_board",
                vehicle.id,
            )
        skill = on_board_skill(vehicle.id)
        on_board[vehicle.id] = tuple(carried)
        skill_of.update(dict.fromkeys(carried, skill))
        restarted = _restarted(vehicle, old_route, state, t0=t0, served=served_here)
        vehicles.append(
            replace(
                restarted,
                start_depot=depot_id,
                capacity=tuple(
                    max(0, c - x) for c, x in zip(vehicle.capacity, extra, strict=True)
                ),
                skills=vehicle.skills | {skill},
            )
        )

    def prepared(order: Order) -> Order:
        skills = order.skills
        if order.id in skill_of:
            skills = skills | {skill_of[order.id]}
        elif (
            has_on_road
            and any(order.delivery)
            and not (order.id in in_kept_pair and problem.is_paired_delivery(order.id))
        ):
            skills = skills | {AT_DEPOT_SKILL}
        if skills != order.skills:
            order = replace(order, skills=skills)
        promise = request.promises.get(order.id)
        if promise is not None:
            order = _narrowed(problem, order, promise, request.promise_cost_per_hour)
        return order

    orders = [prepared(o) for o in problem.orders if o.id not in removed]
    orders += [prepared(o) for o in request.new_orders]
    rest = replace(
        problem,
        depots=tuple(depots),
        vehicles=tuple(vehicles),
        orders=tuple(orders),
        pairs=kept_pairs,
    )
    logger.debug(
        "re-plan: %d orders served, %d cancelled, %d new, %d vehicles on the road",
        len(served),
        len(cancelled),
        len(request.new_orders),
        len(on_board),
    )
    return ReplanSetup(
        problem=rest,
        done={s.vehicle_id: s.done for s in request.states},
        pinned_first={vid: oid for oid, vid in pinned.items()},
        pinned_start_s=pinned_start,
        on_board=on_board,
        cancelled=tuple(o.id for o in problem.orders if o.id in cancelled),
        off_duty=tuple(off_duty),
    )


# ------------------------------------------------ solving the day's variants


@dataclass(frozen=True, slots=True)
class OrderMove:
    """An order the new plan serves with another vehicle than the old plan."""

    order_id: str
    from_vehicle: str
    to_vehicle: str


@dataclass(frozen=True, slots=True)
class Retiming:
    """An order whose service start moves by more than ``RETIMED_MIN_S``."""

    order_id: str
    vehicle_id: str
    old_start_s: int
    new_start_s: int

    @property
    def moved_s(self) -> int:
        """``new_start_s - old_start_s`` (positive: later)."""
        return self.new_start_s - self.old_start_s


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplanResult:
    """The plan of the rest of the day.

    Parameters
    ----------
    plan
        The new plan; it solves ``problem`` (not the original problem).
    problem
        The rest of the day (`routing.day.replan.replan_problem`), with the return
        to the depot made possible for every vehicle (see `_returnable`).
    done
        Vehicle -> orders it served before (as in the request).
    eta_changes
        Promised ETAs the new plan moves or breaks
        (`routing.domain.eta.compare_promises`);
        the stop a driver is driving to is compared with its new service start.
    pinned_first
        Vehicle -> the stop it is driving to, served next (not in ``plan``).
    pinned_start_s
        Vehicle -> service start of that stop.
    travel
        The travel data of ``problem`` (pass it to ``routing.check.check_plan``).
    stranded
        Vehicles that cannot get back to their end depot before it closes (or
        the horizon ends) even without another stop: left out of ``problem``.
    setup
        The setup ``problem`` was built from (on-board orders, cancellations...).
    is_unchanged
        Nothing changed (no new or cancelled orders, every vehicle where the
        old plan has it at ``now``): ``plan`` is the old plan's remainder,
        re-timed, and no search ran.
    reason
        How the plan was made, one sentence (kept as is, or searched from the
        current routes and why).
    moved
        Orders on another vehicle than in the old plan, in the new plan's order.
    retimed
        Orders still planned (and the stops driven to) whose service start
        moved by more than ``RETIMED_MIN_S``.
    dropped
        Orders the old plan had on a route that the new plan leaves unplanned,
        each with its one reason (the new plan's ``unplanned`` entry).
    new_planned
        New order -> the vehicle that serves it (new orders left out are in
        ``plan.unplanned``).
    move_cost_total
        Money the moves cost in the objective: ``move_cost`` per moved order
        whose old vehicle is still in the day (a stranded or off-duty vehicle's
        orders move for free). ``plan.objective / COST_SCALE`` is
        ``timing.plan_objective(problem, plan)`` plus this.
    """

    plan: Plan
    problem: Problem
    done: dict[str, tuple[str, ...]]
    eta_changes: list[EtaChange]
    pinned_first: dict[str, str] = field(default_factory=dict)
    pinned_start_s: dict[str, int] = field(default_factory=dict)
    travel: TravelData | None = None
    stranded: tuple[str, ...] = ()
    setup: ReplanSetup | None = None
    is_unchanged: bool = False
    reason: str = ""
    moved: tuple[OrderMove, ...] = ()
    retimed: tuple[Retiming, ...] = ()
    dropped: tuple[Unplanned, ...] = ()
    new_planned: dict[str, str] = field(default_factory=dict)
    move_cost_total: float = 0.0

    def change_lines(self) -> list[str]:
        """The changes as short texts for a dispatcher, one line per order:
        moved, re-timed, dropped (with its reason), new orders planned."""
        lines = [
            f"{m.order_id}: moved from {m.from_vehicle} to {m.to_vehicle}"
            for m in self.moved
        ]
        lines += [
            f"{r.order_id}: on {r.vehicle_id} at {format_clock(r.new_start_s)} "
            f"instead of {format_clock(r.old_start_s)} "
            f"({round(r.moved_s / 60):+d} min)"
            for r in self.retimed
        ]
        lines += [f"{u.order_id}: dropped ({u.code}): {u.reason}" for u in self.dropped]
        lines += [f"{oid}: new, on {vid}" for oid, vid in self.new_planned.items()]
        return lines


def _travel_to_next(
    problem: Problem,
    request: ReplanRequest,
    travel_for: Callable[[Problem], TravelData],
) -> dict[str, int]:
    """Seconds from each vehicle's position to its ``heading_to`` stop.

    Travel data comes from ``travel_for`` on a tiny problem: one depot per such
    vehicle at its position (its start depot if it has none), the stops it is
    driving to, and the vehicles themselves (for their speed profiles).
    """
    moving = [s for s in request.states if s.heading_to is not None]
    if not moving:
        return {}
    depots = []
    vehicles = []
    for k, state in enumerate(moving):
        vehicle = problem.vehicle(state.vehicle_id)
        place = (
            state.position
            if state.position is not None
            else problem.depot(vehicle.start_depot).location
        )
        depot_id = f"from-{k}"
        depots.append(Depot(id=depot_id, location=place))
        vehicles.append(replace(vehicle, start_depot=depot_id, end_depot=depot_id))
    heading = [s.heading_to for s in moving if s.heading_to is not None]
    tiny = Problem(
        depots=tuple(depots),
        vehicles=tuple(vehicles),
        orders=tuple(problem.order(oid) for oid in heading),
        quantities=problem.quantities,
        horizon=problem.horizon,
        travel=problem.travel,
        tiers=problem.tiers,
    )
    travel = travel_for(tiny)
    out: dict[str, int] = {}
    for k, (state, oid) in enumerate(zip(moving, heading, strict=True)):
        matrix = matrix_for(travel, tiny.vehicles[k].profile)
        seconds = matrix.durations_s[
            tiny.depot_index(f"from-{k}"), tiny.order_index(oid)
        ]
        out[state.vehicle_id] = int(seconds)
    return out


def _returnable(
    problem: Problem, travel: TravelData, vehicle_ids: Collection[str]
) -> tuple[Problem, tuple[str, ...]]:
    """Make an empty day feasible for each re-started vehicle, or leave it out.

    A vehicle re-planned late in its shift may not even have the time to drive
    straight back (plus its remaining breaks); the routing model would then have
    no solution at all. Such a vehicle's shift end, maximum duration and distance
    are extended to what the direct return needs (the overtime is real: it has
    to get back); a vehicle that cannot be back before its end depot closes or
    the horizon ends is left out (stranded).
    """
    horizon = problem.horizon
    vehicles: list[Vehicle] = []
    stranded: list[str] = []
    for v in problem.vehicles:
        if v.id not in vehicle_ids:
            vehicles.append(v)
            continue
        matrix = matrix_for(travel, v.profile)
        start_depot = problem.depot(v.start_depot)
        lo = max(v.shift.start_s, start_depot.opening.start_s, horizon.start_s)
        close = min(start_depot.opening.end_s, horizon.end_s)
        back_s = back_m = 0
        end_close = horizon.end_s
        if v.end_depot is not None:
            a, b = problem.depot_index(v.start_depot), problem.depot_index(v.end_depot)
            back_s = int(matrix.durations_s[a, b])
            back_m = int(matrix.distances_m[a, b])
            end_close = min(end_close, problem.depot(v.end_depot).opening.end_s)
        if lo > close or lo + back_s > end_close:
            logger.warning(
                "vehicle %s cannot leave, or get back, before its depot closes or "
                "the horizon ends; left out",
                v.id,
            )
            stranded.append(v.id)
            continue
        breaks_s = sum(b.duration_s for b in v.breaks)
        needed_end = min(lo + back_s + breaks_s, horizon.end_s)
        if v.shift.end_s < needed_end:
            v = replace(v, shift=TimeWindow(v.shift.start_s, needed_end))
        if v.max_duration_s is not None and v.max_duration_s < back_s + breaks_s:
            v = replace(v, max_duration_s=back_s + breaks_s)
        if v.max_distance_m is not None and v.max_distance_m < back_m:
            v = replace(v, max_distance_m=back_m)
        vehicles.append(v)
    return replace(problem, vehicles=tuple(vehicles)), tuple(stranded)


def replan(
    problem: Problem,
    plan: Plan,
    request: ReplanRequest,
    *,
    travel_for: Callable[[Problem], TravelData],
    options: SolveOptions | None = None,
    on_progress: Callable[[int, float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> ReplanResult:
    """Re-plan the rest of the day.

    Parameters
    ----------
    problem
        The day's problem.
    plan
        The plan the vehicles are driving.
    request
        Vehicle states, new and cancelled orders, promised ETAs
        (`routing.day.replan.ReplanRequest`).
    travel_for
        Travel data for a problem, e.g. ``routing.geo.build_travel``; called on a
        tiny problem for the drive to each ``heading_to`` stop (if any) and on
        the rest of the day. Vehicle positions are new places, so it must build
        travel for any places: a fixed explicit matrix cannot serve a vehicle on
        the road.
    options
        Search settings (default ``SolveOptions()``).
    on_progress, should_stop
        Passed to `routing.solver.solve`: the search's best objective so far,
        and a cancel that keeps the best plan found so far.

    Returns
    -------
    ReplanResult
        The new plan of the rest of the day, the promised ETAs it moves and
        what changed against the old plan (moved, re-timed, dropped and new
        orders).

    Notes
    -----
    When nothing changed (no new or cancelled orders, and every vehicle is
    where the old plan has it at ``now``: the visits done are those the plan
    has finished by then, the stop driven to is its next one, and the
    remainder re-timed from the states starts every stop within
    ``ON_SCHEDULE_S`` of the old plan), the old plan's remainder is the plan,
    re-timed, and no search runs. Otherwise the final search starts from the
    old plan's remaining routes (the engines' routes stay candidates), and
    serving an order with another vehicle costs ``request.move_cost``.

    Raises
    ------
    InvalidProblemError
        If the request does not fit the problem and plan
        (`routing.day.replan.check_request`).
    MatrixError
        If ``travel_for`` fails.
    """
    started_s = time.perf_counter()  # the time limit covers the matrices
    check_request(problem, plan, request)
    travel_s_to = _travel_to_next(problem, request, travel_for)
    setup = replan_problem(problem, plan, request, travel_s_to=travel_s_to)
    travel = travel_for(setup.problem)
    # Every vehicle re-starts at now, listed or not: each must be able to get
    # back (or is left out as stranded).
    rest, stranded = _returnable(
        setup.problem, travel, {v.id for v in setup.problem.vehicles}
    )
    in_day = {v.id for v in rest.vehicles}
    in_problem = {o.id for o in rest.orders}
    remainder = {
        r.vehicle_id: [oid for oid in r.order_ids if oid in in_problem]
        for r in plan.routes
        if r.vehicle_id in in_day
    }
    remainder = {vid: seq for vid, seq in remainder.items() if seq}
    kept, why_not = _unchanged_plan(
        problem, plan, request, setup, rest, travel, remainder
    )
    if kept is not None:
        new_plan = kept
        reason = (
            "nothing changed (no new or cancelled orders, every vehicle where the "
            f"plan has it at {format_clock(request.now)}): the rest of the old "
            "plan is kept as it is, without a search"
        )
    else:
        keep = {oid: vid for vid, seq in remainder.items() for oid in seq}
        new_plan = solve(
            rest,
            travel,
            options=remaining(
                options or SolveOptions(), started_s, time.perf_counter()
            ),
            initial=remainder,
            keep=keep if request.move_cost else None,
            move_cost=request.move_cost,
            on_progress=on_progress,
            should_stop=should_stop,
        )
        reason = (
            f"re-planned ({why_not}): searched from the current routes, moving an "
            f"order to another vehicle at {request.move_cost:g} per order"
        )
    known_starts = {
        setup.pinned_first[vid]: start for vid, start in setup.pinned_start_s.items()
    }
    changes = compare_promises(
        request.promises, rest, new_plan, known_starts=known_starts
    )
    moved, retimed, dropped, new_planned = _changes(
        plan, new_plan, request, known_starts
    )
    charged = sum(1 for m in moved if m.from_vehicle in in_day)
    return ReplanResult(
        plan=new_plan,
        problem=rest,
        done=setup.done,
        eta_changes=changes,
        pinned_first=setup.pinned_first,
        pinned_start_s=setup.pinned_start_s,
        travel=travel,
        stranded=stranded,
        setup=setup,
        is_unchanged=kept is not None,
        reason=reason,
        moved=moved,
        retimed=retimed,
        dropped=dropped,
        new_planned=new_planned,
        move_cost_total=charged * request.move_cost,
    )


def _deviation(problem: Problem, plan: Plan, request: ReplanRequest) -> str | None:
    """What differs from the old plan at ``now`` (None: nothing): new or
    cancelled orders, or a vehicle whose state is not where the plan has it
    (its visits finished by now done, the next one driven to)."""
    if request.new_orders or request.cancelled:
        return (
            f"{len(request.new_orders)} new and {len(request.cancelled)} cancelled "
            "orders"
        )
    now = request.now
    state_of = {s.vehicle_id: s for s in request.states}
    for vehicle in problem.vehicles:
        vid, route, state = vehicle.id, plan.route(vehicle.id), state_of.get(vehicle.id)
        if route is None or route.start_s >= now:
            if state is not None and (state.done or state.is_on_road):
                return f"{vid} has left, the plan has it at its depot"
            continue
        if state is None:
            return (
                f"{vid} has no state, the plan has it on the road since "
                f"{format_clock(route.start_s)}"
            )
        finished = [v.order_id for v in route.visits if v.departure_s <= now]
        if list(state.done) != finished:
            return (
                f"{vid} has done {len(state.done)} stops, the plan "
                f"{len(finished)} by {format_clock(now)}"
            )
        rest = route.order_ids[len(finished) :]
        if rest and state.heading_to != rest[0]:
            return f"{vid} is not driving to {rest[0]}, its next stop in the plan"
    return None


def _unchanged_plan(
    problem: Problem,
    plan: Plan,
    request: ReplanRequest,
    setup: ReplanSetup,
    rest: Problem,
    travel: TravelData,
    remainder: Mapping[str, Sequence[str]],
) -> tuple[Plan | None, str]:
    """The old plan's remainder as the plan of the rest of the day, re-timed,
    when nothing changed; else None and what changed."""
    why = _deviation(problem, plan, request)
    if why is not None:
        return None, why
    old_route_of = {oid: r.vehicle_id for r in plan.routes for oid in r.order_ids}
    old_start = {v.order_id: v.start_s for r in plan.routes for v in r.visits}
    lost = [
        oid
        for oid in (o.id for o in rest.orders)
        if oid in old_route_of and old_route_of[oid] not in remainder
    ]
    if lost:
        return None, f"the vehicle of {lost[0]} is no longer in the day"
    for vid, start in setup.pinned_start_s.items():
        oid = setup.pinned_first[vid]
        if abs(start - old_start[oid]) > ON_SCHEDULE_S:
            return None, f"{vid} reaches {oid} at {format_clock(start)}, not as planned"
    matrices = {p: matrix_for(travel, p) for p in rest.profiles}
    reasons = {u.order_id: u for u in plan.unplanned}
    kept = plan_from_routes(
        rest, matrices, remainder, solver_status="kept", reasons=reasons
    )
    for route in kept.routes:
        if route_violations(rest, route):
            return None, f"the rest of {route.vehicle_id}'s route no longer fits"
        for visit in route.visits:
            if abs(visit.start_s - old_start[visit.order_id]) > ON_SCHEDULE_S:
                return None, (
                    f"{visit.order_id} on {route.vehicle_id} starts at "
                    f"{format_clock(visit.start_s)}, not as planned"
                )
    objective = round(plan_objective(rest, kept) * COST_SCALE)
    return (
        replace(
            kept,
            objective=objective,
            stats={"objective_of_plan": 1.0, "searched": 0.0},
            stop_reason="nothing changed: the old plan's remainder, no search",
        ),
        "",
    )


def _changes(
    old: Plan,
    new: Plan,
    request: ReplanRequest,
    known_starts: Mapping[str, int],
) -> tuple[
    tuple[OrderMove, ...], tuple[Retiming, ...], tuple[Unplanned, ...], dict[str, str]
]:
    """Moved, re-timed and dropped orders and the new orders planned."""
    old_vehicle = {oid: r.vehicle_id for r in old.routes for oid in r.order_ids}
    old_start = {v.order_id: v.start_s for r in old.routes for v in r.visits}
    moved: list[OrderMove] = []
    retimed: list[Retiming] = []
    served: dict[str, str] = {}
    for route in new.routes:
        for visit in route.visits:
            oid, vid = visit.order_id, route.vehicle_id
            served[oid] = vid
            if oid in old_vehicle and old_vehicle[oid] != vid:
                moved.append(OrderMove(oid, old_vehicle[oid], vid))
            if oid in old_start and abs(visit.start_s - old_start[oid]) > RETIMED_MIN_S:
                retimed.append(Retiming(oid, vid, old_start[oid], visit.start_s))
    for oid, start in known_starts.items():
        if abs(start - old_start[oid]) > RETIMED_MIN_S:
            retimed.append(Retiming(oid, old_vehicle[oid], old_start[oid], start))
    dropped = tuple(u for u in new.unplanned if u.order_id in old_vehicle)
    new_planned = {o.id: served[o.id] for o in request.new_orders if o.id in served}
    return tuple(moved), tuple(retimed), dropped, new_planned
