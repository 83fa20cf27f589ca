"""Why an order was not planned: the nearest fix, found by trying relaxations.

After the search, each required order left out gets a reason a dispatcher can
act on. For every vehicle allowed to serve it (pre-checks), the order is tried at
positions of that vehicle's planned route, re-timed by the same scheduler the
plan uses; what still goes wrong tells which relaxation would let it in:

- nothing: it fits, at +N cost: the search left it out, not the constraints
  (code ``SEARCH_MISSED``: the search stopped before placing it;
  `insertable` says where to put such orders so that they fit together);
- only its own slot is missed, by X: "fits on V7 if the slot ends X min later";
- it fits once one higher-priority order leaves that route: "displaced by";
- only the shift end is overrun, by X: "fits on V7 if its shift ends X min later";
- every allowed vehicle is in use and it fits alone: "one more vehicle like V3".

Every claim is made on a route re-timed by ``schedule.build_route``; a claimed fit
is also re-checked by ``routing.check``. Positions are first screened by bounds
(Savelsbergh 1992, "The vehicle routing problem with time windows: minimizing
route duration"): the stops before the new one are timed from the earliest
departure with no breaks, which no real timing beats, the push it causes on the
stops after it is absorbed by their waiting only, loads are exact from prefix and
suffix maxima, distance and stop limits are exact. A position the bounds rule out
cannot pass the scheduler, so screening changes the cost, never the answer.

Work is spread over all orders by depth, so that a deadline cuts the deep checks,
not the orders at the end of the list: bounds for every order first (no
scheduling), then the most promising position of each kind, then the complete
searches, then the costliest relaxation (displacement). Pure Python and numpy
over the domain model and the schedule; no OR-Tools.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from routing.domain.model import Order, Problem, Vehicle
from routing.domain.plan import (
    Route,
    Unplanned,
    UnplannedCode,
)
from routing.domain.timing import (
    build_route,
    latest_end,
    overrun_bound,
    route_violations,
    service_start,
)
from routing.geo.matrix import TravelMatrix

MAX_EXPLAIN_S = 5.0
"""Time budget for all explanations when the caller gives no deadline; orders not
explained by then keep the caller's generic reason."""

FIRST_TRIES = 1
"""Positions of each kind (fit, slot, shift) scheduled per order in the first
pass, before any order gets a deeper search."""

SCREEN_CHUNK = 64
"""Orders screened together (one array operation per vehicle); a deadline that
falls during screening leaves the chunks before it screened."""

_FAR = 1 << 40
"""Stands for "no limit" in the integer bounds (seconds or units): far above any
time of day or load, far below int64 overflow when added up."""

Positions = tuple[int, ...]
"""Where the orders of a case go in a route: one index, or (pickup, delivery)
with pickup <= delivery, both counted in the route before insertion."""


class _OutOfTime(Exception):
    """The deadline has passed: stop and report what is known."""


@dataclass(slots=True)
class _Clock:
    """The deadline, as a ``time.perf_counter()`` value."""

    deadline: float

    def check(self) -> None:
        if time.perf_counter() > self.deadline:
            raise _OutOfTime


@dataclass(frozen=True, slots=True)
class _Fault:
    """What goes wrong on a trial route: kind, and by how much (seconds or units)."""

    kind: str  # "late_self", "late_other", "shift", "capacity", "limit", "ride", ...
    amount: int


def _faults(
    problem: Problem, vehicle: Vehicle, route: Route, target: str
) -> list[_Fault]:
    """Every rule the trial route breaks (the checker's rules, summarised)."""
    found: list[_Fault] = []
    loads = [route.start_load, *(v.load for v in route.visits)]
    for load in loads:
        over = max(
            (ld - cap for ld, cap in zip(load, vehicle.capacity, strict=True)),
            default=0,
        )
        if over > 0 or min(load, default=0) < 0:
            found.append(_Fault("capacity", max(over, 1)))
            break
    for visit in route.visits:
        order = problem.order(visit.order_id)
        excess = visit.late_s - problem.policy(order).max_lateness_s
        if excess > 0:
            kind = "late_self" if visit.order_id == target else "late_other"
            found.append(_Fault(kind, excess))
    end_limit = latest_end(problem, vehicle)
    if route.end_s > end_limit:
        found.append(_Fault("shift", route.end_s - end_limit))
    if vehicle.max_duration_s is not None and route.duration_s > vehicle.max_duration_s:
        found.append(_Fault("limit", route.duration_s - vehicle.max_duration_s))
    if vehicle.max_stops is not None and len(route.visits) > vehicle.max_stops:
        found.append(_Fault("limit", len(route.visits) - vehicle.max_stops))
    if vehicle.max_distance_m is not None and route.distance_m > vehicle.max_distance_m:
        found.append(_Fault("limit", route.distance_m - vehicle.max_distance_m))
    for brk, spec in zip(route.breaks, vehicle.breaks, strict=False):
        if brk.start_s > spec.window.end_s:
            found.append(_Fault("break", brk.start_s - spec.window.end_s))
    starts = {v.order_id: v for v in route.visits}
    for visit in route.visits:
        pair = problem.pair_of(visit.order_id)
        if pair is None or pair.delivery != visit.order_id:
            continue
        pickup = starts.get(pair.pickup)
        if pickup is not None and pair.max_ride_s is not None:
            ride = visit.start_s - pickup.departure_s
            if ride > pair.max_ride_s:
                found.append(_Fault("ride", ride - pair.max_ride_s))
    return found


def _minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))


def _latest_start(problem: Problem, order: Order) -> int:
    """Latest service start the order's slot allows (its allowed lateness included)."""
    if not order.windows:
        return _FAR
    return problem.policy(order).latest_start_s


@dataclass(frozen=True, slots=True)
class _Orders:
    """What the bounds need of some orders, as arrays (one row per order).

    Windows are padded to the same count by repeating the last one (the earliest
    open window wins, so a repeat changes nothing); an order without windows gets
    the horizon and no lateness.
    """

    rows: NDArray[np.int64]
    service_s: NDArray[np.int64]
    window_starts: NDArray[np.int64]  # (m, W)
    window_ends: NDArray[np.int64]
    has_windows: NDArray[np.bool_]
    max_late_s: NDArray[np.int64]
    before: NDArray[np.int64]  # (m, Q) added to the load from the depot on
    after: NDArray[np.int64]  # (m, Q) added to the load after the stop

    @staticmethod
    def of(problem: Problem, orders: Sequence[Order]) -> _Orders:
        width = max((len(o.windows) for o in orders), default=1) or 1
        starts, ends, before, after = [], [], [], []
        for order in orders:
            windows = list(problem.policy(order).windows)
            windows += [windows[-1]] * (width - len(windows))
            starts.append([w.start_s for w in windows])
            ends.append([w.end_s for w in windows])
            delivery = np.array(order.delivery, dtype=np.int64)
            loaded = delivery * (not problem.is_paired_delivery(order.id))
            before.append(loaded)
            after.append(loaded - delivery + np.array(order.pickup, dtype=np.int64))
        q = len(problem.quantities)
        return _Orders(
            rows=np.array([problem.order_index(o.id) for o in orders], dtype=np.int64),
            service_s=np.array([o.service_s for o in orders], dtype=np.int64),
            window_starts=np.array(starts, dtype=np.int64).reshape(-1, width),
            window_ends=np.array(ends, dtype=np.int64).reshape(-1, width),
            has_windows=np.array([bool(o.windows) for o in orders], dtype=np.bool_),
            max_late_s=np.array(
                [problem.policy(o).max_lateness_s for o in orders], dtype=np.int64
            ),
            before=np.array(before, dtype=np.int64).reshape(-1, q),
            after=np.array(after, dtype=np.int64).reshape(-1, q),
        )

    def take(self, index: NDArray[np.int64]) -> _Orders:
        return _Orders(
            rows=self.rows[index],
            service_s=self.service_s[index],
            window_starts=self.window_starts[index],
            window_ends=self.window_ends[index],
            has_windows=self.has_windows[index],
            max_late_s=self.max_late_s[index],
            before=self.before[index],
            after=self.after[index],
        )


def _service_starts(
    orders: _Orders, arrival: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """`schedule.service_start` for arrival times ``(m, P)`` of m orders at once:
    the service starts and the lateness."""
    last_end = orders.window_ends[:, -1:]
    late = np.where(orders.has_windows[:, None], np.maximum(arrival - last_end, 0), 0)
    start = arrival.copy()
    for w in range(orders.window_starts.shape[1] - 1, -1, -1):
        is_open = arrival <= orders.window_ends[:, w : w + 1]
        start = np.where(
            is_open, np.maximum(arrival, orders.window_starts[:, w : w + 1]), start
        )
        late = np.where(is_open, 0, late)
    return start, late


@dataclass(slots=True)
class _Base:
    """One vehicle's route (possibly empty) with the bounds that screen insertions.

    Position ``i`` (0..n) means "before stop i" (n: before the return). All times
    are lower bounds: the stops are timed from the earliest departure, without
    breaks, pickups held back for ride limits or a later departure, each of which
    only makes the scheduler's times later.
    """

    k: int
    vehicle: Vehicle
    matrix: TravelMatrix
    sequence: list[str]
    route: Route | None
    prev_rows: NDArray[np.int64]  # matrix row before position i
    next_rows: NDArray[np.int64]  # matrix row after position i; -1: open end
    depart: NDArray[np.int64]  # departure from the place before position i
    arrive: NDArray[np.int64]  # arrival after position i (stop i, or the end)
    tolerance: NDArray[np.int64]  # later arrival at stop i no later stop minds
    waits_after: NDArray[np.int64]  # waiting from stop i on, up to the end
    waits_before: NDArray[np.int64]  # waiting at stops 0..i-1
    slack: NDArray[np.int64]  # how much later stop i could start (n values)
    end_s: int
    end_limit: int
    busy_s: int  # travel and service: the shortest the route can last
    distance_m: int
    loads: NDArray[np.int64]  # (n + 1, Q): at the start, then after each stop
    before_max: NDArray[np.int64]  # max of loads[0..i]
    before_min: NDArray[np.int64]
    after_max: NDArray[np.int64]  # max of loads[i + 1..n]
    after_min: NDArray[np.int64]

    @property
    def cost(self) -> float:
        return self.route.cost if self.route is not None else 0.0

    @property
    def is_open(self) -> NDArray[np.bool_]:
        return self.next_rows < 0

    @property
    def tolerance_until(self) -> NDArray[np.int64]:
        """``[i, j]``: how much later stop i may be reached with only stops
        i..j-1 minding (``tolerance`` for a range; j <= i: no limit)."""
        n1 = len(self.depart)
        out = np.full((n1, n1), _FAR, dtype=np.int64)
        # Stop k minds a push at stop i beyond its slack plus the waiting at i..k.
        reach = self.waits_before[1:] + self.slack
        for i in range(n1 - 1):
            out[i, i + 1 :] = np.minimum.accumulate(reach[i:]) - self.waits_before[i]
        return out


def _base(
    problem: Problem,
    k: int,
    matrix: TravelMatrix,
    sequence: Sequence[str],
    route: Route | None,
) -> _Base:
    vehicle = problem.vehicles[k]
    durations, distances = matrix.durations_s, matrix.distances_m
    n = len(sequence)
    start_row = problem.depot_index(vehicle.start_depot)
    end_row = (
        -1 if vehicle.end_depot is None else problem.depot_index(vehicle.end_depot)
    )
    rows = [problem.order_index(oid) for oid in sequence]
    orders = [problem.order(oid) for oid in sequence]
    t = max(
        vehicle.shift.start_s,
        problem.depot(vehicle.start_depot).opening.start_s,
        problem.horizon.start_s,
    )
    depart, arrive, waits, slack = [t], [], [], []
    prev, busy, distance = start_row, 0, 0
    for order, row in zip(orders, rows, strict=True):
        arrival = t + int(durations[prev, row])
        start, _ = service_start(problem, order, arrival)
        arrive.append(arrival)
        waits.append(start - arrival)
        slack.append(_latest_start(problem, order) - start)
        busy += int(durations[prev, row]) + order.service_s
        distance += int(distances[prev, row])
        t = start + order.service_s
        depart.append(t)
        prev = row
    if end_row >= 0:
        busy += int(durations[prev, end_row])
        distance += int(distances[prev, end_row])
        t += int(durations[prev, end_row])
    arrive.append(t)
    tolerance = [_FAR] * (n + 1)
    waits_after = [0] * (n + 1)
    for i in range(n - 1, -1, -1):
        tolerance[i] = waits[i] + min(slack[i], tolerance[i + 1])
        waits_after[i] = waits[i] + waits_after[i + 1]
    q = len(problem.quantities)
    loads = np.zeros((n + 1, q), dtype=np.int64)
    loads[0] = problem.start_load(sequence)
    for i, order in enumerate(orders, start=1):
        loads[i] = loads[i - 1] - np.array(order.delivery) + np.array(order.pickup)
    far = np.full((1, q), _FAR, dtype=np.int64)
    return _Base(
        k=k,
        vehicle=vehicle,
        matrix=matrix,
        sequence=list(sequence),
        route=route,
        prev_rows=np.array([start_row, *rows], dtype=np.int64),
        next_rows=np.array([*rows, end_row], dtype=np.int64),
        depart=np.array(depart, dtype=np.int64),
        arrive=np.array(arrive, dtype=np.int64),
        tolerance=np.array(tolerance, dtype=np.int64),
        waits_after=np.array(waits_after, dtype=np.int64),
        waits_before=np.concatenate([[0], np.cumsum(waits, dtype=np.int64)]).astype(
            np.int64
        ),
        slack=np.array(slack, dtype=np.int64),
        end_s=t,
        end_limit=latest_end(problem, vehicle),
        busy_s=busy,
        distance_m=distance,
        loads=loads,
        before_max=np.maximum.accumulate(loads, axis=0),
        before_min=np.minimum.accumulate(loads, axis=0),
        after_max=np.concatenate(
            [np.maximum.accumulate(loads[::-1], axis=0)[::-1][1:], -far]
        ),
        after_min=np.concatenate(
            [np.minimum.accumulate(loads[::-1], axis=0)[::-1][1:], far]
        ),
    )


@dataclass(slots=True)
class _Bounds:
    """Bounds for inserting each of m orders alone at each position of one route,
    as ``(m, n + 1)`` arrays."""

    self_over: NDArray[np.int64]  # its own lateness beyond what its slot allows
    end_over: NDArray[np.int64]  # the route's end beyond its limit
    push: NDArray[np.int64]  # how much later the next stop (or the end) is reached
    is_ok: NDArray[np.bool_]  # later stops on time, loads and limits kept
    add_m: NDArray[np.int64]  # extra distance
    add_s: NDArray[np.int64]  # extra travel and service
    depart: NDArray[np.int64]  # its own departure


def _bounds(base: _Base, orders: _Orders) -> _Bounds:
    durations, distances = base.matrix.durations_s, base.matrix.distances_m
    is_open = base.is_open
    nxt = np.where(is_open, 0, base.next_rows)
    to_s = durations[base.prev_rows][:, orders.rows].T
    to_m = distances[base.prev_rows][:, orders.rows].T
    from_s = np.where(is_open, 0, durations[orders.rows][:, nxt])
    from_m = np.where(is_open, 0, distances[orders.rows][:, nxt])
    direct_s = np.where(is_open, 0, durations[base.prev_rows, nxt])
    direct_m = np.where(is_open, 0, distances[base.prev_rows, nxt])
    start, late = _service_starts(orders, base.depart + to_s)
    self_over = np.maximum(late - orders.max_late_s[:, None], 0)
    depart = start + orders.service_s[:, None]
    push = depart + from_s - base.arrive
    end_over = base.end_s + np.maximum(push - base.waits_after, 0) - base.end_limit
    cap = np.array(base.vehicle.capacity, dtype=np.int64)
    before, after = orders.before[:, None, :], orders.after[:, None, :]
    is_load_ok = np.all(
        (base.before_max + before <= cap)
        & (base.before_min + before >= 0)
        & (base.loads + after <= cap)
        & (base.loads + after >= 0)
        & (base.after_max + after <= cap)
        & (base.after_min + after >= 0),
        axis=2,
    )
    add_m = to_m + from_m - direct_m
    add_s = to_s + from_s - direct_s + orders.service_s[:, None]
    is_ok = (
        (push <= base.tolerance) & is_load_ok & _is_within_limits(base, 1, add_m, add_s)
    )
    return _Bounds(self_over, end_over, push, is_ok, add_m, add_s, depart)


def _is_within_limits(
    base: _Base, n_new: int, add_m: NDArray[np.int64], add_s: NDArray[np.int64]
) -> NDArray[np.bool_]:
    """Stops and distance exactly; duration by its travel and service alone."""
    v = base.vehicle
    ok = np.ones(add_m.shape, dtype=np.bool_)
    if v.max_stops is not None and len(base.sequence) + n_new > v.max_stops:
        ok[...] = False
    if v.max_distance_m is not None:
        ok &= base.distance_m + add_m <= v.max_distance_m
    if v.max_duration_s is not None:
        ok &= base.busy_s + add_s <= v.max_duration_s
    return ok


def _estimate(
    base: _Base, add_m: NDArray[np.int64], add_s: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Money an insertion adds, before waiting: the key that orders the tries."""
    v = base.vehicle
    fixed = v.fixed_cost if base.route is None else 0.0
    return np.asarray(
        fixed + v.cost_per_km * add_m / 1000.0 + v.cost_per_hour * add_s / 3600.0,
        dtype=np.float64,
    )


Candidate = tuple[float, int, Positions]
"""(key, vehicle position, positions): key is the estimated cost for a fit, the
least overrun in seconds for a slot or shift miss."""


@dataclass(slots=True)
class _Candidates:
    """Positions that survive the bounds, by the relaxation they could show."""

    fits: list[Candidate] = field(default_factory=list)
    slots: list[Candidate] = field(default_factory=list)
    shifts: list[Candidate] = field(default_factory=list)

    def sort(self) -> None:
        self.fits.sort()
        self.slots.sort()
        self.shifts.sort()


def _classified(
    base: _Base,
    is_ok: NDArray[np.bool_],
    self_over: NDArray[np.int64],
    end_over: NDArray[np.int64],
    add_m: NDArray[np.int64],
    add_s: NDArray[np.int64],
) -> Iterator[tuple[str, tuple[int, ...], float]]:
    """Each surviving cell of the arrays (any shape) as (kind, index, key)."""
    is_on_time, is_in_shift = self_over <= 0, end_over <= 0
    cost = _estimate(base, add_m, add_s)
    for kind, mask, key in (
        ("fits", is_ok & is_on_time & is_in_shift, cost),
        ("slots", is_ok & ~is_on_time & is_in_shift, self_over),
        ("shifts", is_ok & is_on_time & ~is_in_shift, end_over),
    ):
        cells = np.nonzero(mask)
        indices = zip(*(c.tolist() for c in cells), strict=True)
        for index, value in zip(indices, key[cells].tolist(), strict=True):
            yield kind, tuple(index), float(value)


def _screen_singles(base: _Base, orders: _Orders, outs: Sequence[_Candidates]) -> None:
    """Add the positions in ``base`` the bounds leave open, for m single orders
    (``outs[r]`` collects those of order r)."""
    b = _bounds(base, orders)
    for kind, (r, i), key in _classified(
        base, b.is_ok, b.self_over, b.end_over, b.add_m, b.add_s
    ):
        getattr(outs[r], kind).append((key, base.k, (i,)))


def _screen_pair(
    problem: Problem, base: _Base, ids: Sequence[str], out: _Candidates
) -> None:
    """Pickup before stop i, delivery before stop j >= i, as ``(n + 1, n + 1)``
    arrays. The pickup's own timing is exact (the stops before it are unchanged);
    the push it causes runs through the stops before j (their waiting absorbs
    it) and bounds when the delivery can start; the delivery's push bounds the
    rest. No triangle inequality is assumed of the matrix. Loads, stops and
    distance are exact."""
    durations, distances = base.matrix.durations_s, base.matrix.distances_m
    both = _Orders.of(problem, [problem.order(ids[0]), problem.order(ids[1])])
    p = _bounds(base, both.take(np.array([0])))
    d = both.take(np.array([1]))
    p_row, d_row = int(both.rows[0]), int(both.rows[1])
    n1 = len(base.sequence) + 1
    i, j = np.indices((n1, n1))
    is_open = base.is_open
    nxt = np.where(is_open, 0, base.next_rows)
    # When the stop before the delivery is left: the pickup itself when j == i,
    # else stop j - 1, later by the pickup's push less the waiting in between
    # (an earlier arrival may move a stop to an earlier slot: then only "after
    # the pickup" is sure).
    push_p = p.push[0][:, None]
    depart_p = p.depart[0][:, None]
    waited = base.waits_before[j] - base.waits_before[i]
    is_adjacent = j == i
    leave = np.where(
        is_adjacent | (push_p < 0),
        depart_p,
        base.depart[j] + np.maximum(push_p - waited, 0),
    )
    before_d = np.where(is_adjacent, p_row, base.prev_rows[j])
    start, late = _service_starts(d, leave + durations[before_d, d_row])
    push_d = (
        start
        + int(d.service_s[0])
        + np.where(is_open[j], 0, durations[d_row, nxt[j]])
        - base.arrive[j]
    )
    is_ok = (
        (j >= i)
        & (late <= int(d.max_late_s[0]))
        & ((push_p <= base.tolerance_until[i, j]) | (j == i))
        & (push_d <= base.tolerance[j])
    )
    end_over = base.end_s + np.maximum(push_d - base.waits_after[j], 0) - base.end_limit
    direct_m = np.where(is_open, 0, distances[base.prev_rows, nxt])
    direct_s = np.where(is_open, 0, durations[base.prev_rows, nxt])
    d_apart_m = (
        distances[base.prev_rows, d_row]
        + np.where(is_open, 0, distances[d_row, nxt])
        - direct_m
    )
    d_apart_s = (
        durations[base.prev_rows, d_row]
        + np.where(is_open, 0, durations[d_row, nxt])
        - direct_s
        + int(d.service_s[0])
    )
    p_to_m = distances[base.prev_rows, p_row] + int(distances[p_row, d_row])
    p_to_s = durations[base.prev_rows, p_row] + int(durations[p_row, d_row])
    adjacent_m = p_to_m + np.where(is_open, 0, distances[d_row, nxt]) - direct_m
    adjacent_s = (
        p_to_s
        + np.where(is_open, 0, durations[d_row, nxt])
        - direct_s
        + int(both.service_s.sum())
    )
    add_m = np.where(
        is_adjacent, adjacent_m[:, None], p.add_m[0][:, None] + d_apart_m[None, :]
    )
    add_s = np.where(
        is_adjacent, adjacent_s[:, None], p.add_s[0][:, None] + d_apart_s[None, :]
    )
    is_ok &= _is_pair_load_ok(base, both) & _is_within_limits(base, 2, add_m, add_s)
    self_over = np.broadcast_to(p.self_over[0][:, None], (n1, n1))
    for kind, (a, b), key in _classified(
        base, is_ok, self_over, end_over, add_m, add_s
    ):
        getattr(out, kind).append((key, base.k, (a, b)))


def _is_pair_load_ok(base: _Base, both: _Orders) -> NDArray[np.bool_]:
    """Exact loads, ``(n + 1, n + 1)``: pickup before stop i, delivery before j."""
    loads = base.loads
    n1, q = loads.shape
    cap = np.array(base.vehicle.capacity, dtype=np.int64)
    early = both.before[0] + both.before[1]  # from the depot to the pickup
    middle = both.after[0] + both.before[1]  # between the two
    late = both.after[0] + both.after[1]  # after the delivery
    between_max = np.full((n1, n1, q), -_FAR, dtype=np.int64)
    between_min = np.full((n1, n1, q), _FAR, dtype=np.int64)
    for i in range(n1 - 1):  # loads[i + 1..j], for j > i
        between_max[i, i + 1 :] = np.maximum.accumulate(loads[i + 1 :], axis=0)
        between_min[i, i + 1 :] = np.minimum.accumulate(loads[i + 1 :], axis=0)

    def under(values: NDArray[np.int64]) -> NDArray[np.bool_]:
        return np.asarray(np.all(values <= cap, axis=-1), dtype=np.bool_)

    def over(values: NDArray[np.int64]) -> NDArray[np.bool_]:
        return np.asarray(np.all(values >= 0, axis=-1), dtype=np.bool_)

    return (
        (under(base.before_max + early) & over(base.before_min + early))[:, None]
        & (under(loads + middle) & over(loads + middle))[:, None]
        & under(between_max + middle)
        & over(between_min + middle)
        & (under(loads + late) & over(loads + late))[None, :]
        & (under(base.after_max + late) & over(base.after_min + late))[None, :]
    )


def _screen(
    problem: Problem, base: _Base, ids: Sequence[str], out: _Candidates
) -> None:
    """Add the positions of one case in ``base`` that the bounds leave open."""
    if len(ids) == 2:
        _screen_pair(problem, base, ids, out)
    else:
        _screen_singles(base, _Orders.of(problem, [problem.order(ids[0])]), [out])


def _inserted(sequence: Sequence[str], ids: Sequence[str], pos: Positions) -> list[str]:
    if len(ids) == 1:
        return [*sequence[: pos[0]], ids[0], *sequence[pos[0] :]]
    i, j = pos
    return [*sequence[:i], ids[0], *sequence[i:j], ids[1], *sequence[j:]]


@dataclass(slots=True)
class _Fit:
    """A confirmed insertion: where, and the money it adds."""

    k: int
    pos: Positions
    extra_cost: float
    route: Route


@dataclass(slots=True)
class _Case:
    """One dropped required order (or pair) and what is known about it so far."""

    ids: tuple[str, ...]
    allowed: tuple[int, ...]
    candidates: _Candidates | None = None
    tried: set[tuple[int, Positions]] = field(default_factory=set)
    fit: _Fit | None = None
    is_fit_done: bool = False
    best_late: tuple[int, int] | None = None  # (seconds, vehicle)
    is_late_done: bool = False
    best_shift: tuple[int, int] | None = None
    displaced: tuple[str, str] | None = None
    has_idle: bool = False

    @property
    def label(self) -> str:
        if len(self.ids) == 1:
            return f"order {self.ids[0]!r}"
        return f"pair {self.ids[0]!r}->{self.ids[1]!r}"


class _Analysis:
    """Shared state: the routes' bounds (cached) and the deadline."""

    def __init__(
        self,
        problem: Problem,
        matrices: Mapping[str, TravelMatrix],
        routes: Sequence[Route],
        clock: _Clock,
    ) -> None:
        self.problem = problem
        self.matrices = matrices
        self.clock = clock
        self.routes = {r.vehicle_id: r for r in routes}
        self._bases: dict[int, _Base] = {}
        self._reduced: dict[tuple[int, str], _Base] = {}
        self.is_verifying = True  # check each fit found with routing.check
        self.is_fit_only = False  # only whether a trial fits matters (`try_insert`)

    def base(self, k: int) -> _Base:
        if k not in self._bases:
            vehicle = self.problem.vehicles[k]
            route = self.routes.get(vehicle.id)
            sequence = list(route.order_ids) if route is not None else []
            matrix = self.matrices[vehicle.profile]
            self._bases[k] = _base(self.problem, k, matrix, sequence, route)
        return self._bases[k]

    def is_checked_ok(self, route: Route) -> bool:
        """The route, timed as plans are timed, breaks no rule
        (``timing.route_violations``)."""
        return not route_violations(self.problem, route)

    def replace_route(self, k: int, route: Route) -> None:
        vehicle = self.problem.vehicles[k]
        self.routes[vehicle.id] = route
        self._bases.pop(k, None)

    def reduced(self, k: int, other: str) -> _Base:
        """The route of vehicle k without order ``other`` (bounds only)."""
        key = (k, other)
        if key not in self._reduced:
            base = self.base(k)
            sequence = [o for o in base.sequence if o != other]
            self._reduced[key] = _base(self.problem, k, base.matrix, sequence, None)
        return self._reduced[key]

    def try_insert(
        self, base: _Base, ids: Sequence[str], pos: Positions
    ) -> tuple[list[_Fault], Route | None]:
        """Schedule the trial route: the rules it breaks, and the route (None
        when, with ``is_fit_only``, a bound shows it late, back too late or
        with a ride too long before any scheduling: `timing.overrun_bound`, one
        forward pass, where a long route's break search costs several times as
        much; a 47-stop route with transfers: 58 of 61 trials ended there)."""
        self.clock.check()
        trial = _inserted(base.sequence, ids, pos)
        if self.is_fit_only:
            bound = overrun_bound(self.problem, base.matrix, base.vehicle, trial)
            if bound > 0:
                return [_Fault("late_other", bound)], None
        route = build_route(self.problem, base.matrix, base.vehicle, trial)
        return _faults(self.problem, base.vehicle, route, ids[0]), route

    # -- the passes, shallow to deep ------------------------------------------

    def screen(self, cases: Sequence[_Case]) -> None:
        """Bounds at every position of every allowed vehicle; no scheduling.
        Single orders are screened together, one array operation per vehicle."""
        problem = self.problem
        outs = {id(case): _Candidates() for case in cases}
        singles = [case for case in cases if len(case.ids) == 1]
        data = _Orders.of(problem, [problem.order(c.ids[0]) for c in singles])
        members: dict[int, list[int]] = {}
        for r, case in enumerate(singles):
            for k in case.allowed:
                members.setdefault(k, []).append(r)
        for k, rows in members.items():
            self.clock.check()
            _screen_singles(
                self.base(k),
                data.take(np.array(rows, dtype=np.int64)),
                [outs[id(singles[r])] for r in rows],
            )
        for case in cases:
            if len(case.ids) == 2:
                for k in case.allowed:
                    self.clock.check()
                    _screen_pair(problem, self.base(k), case.ids, outs[id(case)])
        for case in cases:
            out = outs[id(case)]
            out.sort()
            case.candidates = out
            case.has_idle = any(self.base(k).route is None for k in case.allowed)
            case.is_fit_done = not out.fits
            case.is_late_done = not out.slots

    def rescreen(self, case: _Case, vehicles: Sequence[int]) -> None:
        """Screen ``vehicles`` again (their routes changed), keeping what is known
        of the others; forget the case's fit."""
        old = case.candidates or _Candidates()
        out = _Candidates(
            fits=[c for c in old.fits if c[1] not in vehicles],
            slots=[c for c in old.slots if c[1] not in vehicles],
            shifts=[c for c in old.shifts if c[1] not in vehicles],
        )
        for k in vehicles:
            self.clock.check()
            _screen(self.problem, self.base(k), case.ids, out)
        out.sort()
        case.candidates = out
        case.tried = {t for t in case.tried if t[0] not in vehicles}
        case.fit = None
        case.is_fit_done = not out.fits

    def search_fit(self, case: _Case, limit: int | None) -> None:
        """Schedule fit candidates, cheapest estimate first, until one fits."""
        if case.candidates is None or case.fit is not None or case.is_fit_done:
            return
        tries = 0
        for _, k, pos in case.candidates.fits:
            if (k, pos) in case.tried:
                continue
            if limit is not None and tries >= limit:
                return
            tries += 1
            self._try(case, k, pos)
            if case.fit is not None:
                return
        case.is_fit_done = True

    def search_late(self, case: _Case, limit: int | None) -> None:
        """Least own-slot overrun (branch and bound on the bound)."""
        if case.candidates is None or case.is_late_done:
            return
        if self._bound_search(
            case, case.candidates.slots, lambda: case.best_late, limit
        ):
            case.is_late_done = True

    def search_shift(self, case: _Case, limit: int | None) -> None:
        """Least end-limit overrun (branch and bound on the bound)."""
        if case.candidates is not None:
            self._bound_search(
                case, case.candidates.shifts, lambda: case.best_shift, limit
            )

    def _bound_search(
        self,
        case: _Case,
        candidates: Sequence[Candidate],
        best: Callable[[], tuple[int, ...] | None],
        limit: int | None,
    ) -> bool:
        """Try (bound, vehicle, position) candidates in bound order until the
        bound cannot beat ``best()``; False if ``limit`` tries ran out first."""
        tries = 0
        for bound, k, pos in candidates:
            found = best()
            if found is not None and bound >= found[0]:
                break
            if (k, pos) in case.tried:
                continue
            if limit is not None and tries >= limit:
                return False
            tries += 1
            self._try(case, k, pos)
        return True

    def search_displaced(self, case: _Case) -> None:
        """A higher-priority order without which this one fits (vehicles in the
        order allowed, their orders in visiting order)."""
        problem = self.problem
        mine = problem.policy(problem.order(case.ids[0])).priority
        for k in case.allowed:
            for other in self.base(k).sequence:
                if problem.pair_of(other) is not None:
                    continue
                if problem.policy(problem.order(other)).priority <= mine:
                    continue
                self.clock.check()
                reduced = self.reduced(k, other)
                out = _Candidates()
                _screen(problem, reduced, case.ids, out)
                out.sort()
                for _, _, pos in out.fits:
                    faults, _ = self.try_insert(reduced, case.ids, pos)
                    if not faults:
                        case.displaced = (reduced.vehicle.id, other)
                        return

    def _try(self, case: _Case, k: int, pos: Positions) -> None:
        """Schedule one candidate and keep what it shows: a fit, or a route that
        misses only the order's own slot or only the route's end limit."""
        base = self.base(k)
        faults, route = self.try_insert(base, case.ids, pos)
        case.tried.add((k, pos))
        kinds = {f.kind for f in faults}
        if not faults:
            assert route is not None  # (a trial without faults was scheduled)
            if case.fit is None and (
                not self.is_verifying or self.is_checked_ok(route)
            ):
                case.fit = _Fit(k, pos, route.cost - base.cost, route)
        elif kinds == {"late_self"}:
            late = sum(f.amount for f in faults)
            if case.best_late is None or late < case.best_late[0]:
                case.best_late = (late, k)
        elif kinds == {"shift"}:
            over = faults[0].amount
            if case.best_shift is None or over < case.best_shift[0]:
                case.best_shift = (over, k)


def _cases(
    problem: Problem,
    dropped: Sequence[str],
    allowed: Mapping[str, Sequence[int]],
    *,
    is_required_only: bool,
) -> list[_Case]:
    cases: list[_Case] = []
    done: set[str] = set()
    for order_id in dropped:
        if order_id in done or order_id not in allowed:
            continue
        order = problem.order(order_id)
        if is_required_only and order.is_optional:
            continue
        pair = problem.pair_of(order_id)
        ids = (pair.pickup, pair.delivery) if pair else (order_id,)
        done.update(ids)
        cases.append(_Case(ids=ids, allowed=tuple(allowed.get(order_id, ()))))
    return cases


def explain_unplanned(
    problem: Problem,
    matrices: Mapping[str, TravelMatrix],
    routes: Sequence[Route],
    dropped: Sequence[str],
    allowed: Mapping[str, Sequence[int]],
    *,
    deadline: float | None = None,
    budget_s: float = MAX_EXPLAIN_S,
) -> dict[str, Unplanned]:
    """The nearest fix for each dropped required order (see the module docstring).

    Parameters
    ----------
    problem, matrices
        The problem and its travel data per speed profile.
    routes
        The planned routes. Each order is explained against them as they are,
        one order at a time: two orders may each fit where only one of them can
        (`insertable` picks a set that fits together).
    dropped
        Orders the search left out (required ones are explained; optional ones
        are skipped, and so are orders not explained by the deadline).
    allowed
        Vehicles (positions in ``problem.vehicles``) allowed per order.
    deadline
        ``time.perf_counter()`` value by which to return. None: ``budget_s``
        seconds from the call. The cheap checks run for every order before any
        order gets the deeper ones, so a short deadline costs precision (the
        least overrun, the displacing order), not orders.
    budget_s
        Seconds allowed when ``deadline`` is None.

    Returns
    -------
    dict
        ``{order_id: Unplanned}`` for the orders explained. An order that fits
        as the routes stand gets code ``SEARCH_MISSED`` (the search, not the
        problem, left it out) and a reason naming the vehicle, the stop and the
        money it adds.
    """
    t0 = time.perf_counter()
    clock = _Clock(t0 + budget_s if deadline is None else deadline)
    analysis = _Analysis(problem, matrices, routes, clock)
    cases = _cases(problem, dropped, allowed, is_required_only=True)
    try:
        for n in range(0, len(cases), SCREEN_CHUNK):
            analysis.screen(cases[n : n + SCREEN_CHUNK])
        for limit in (FIRST_TRIES, None):  # first a few tries each, then the rest
            for case in cases:
                analysis.search_fit(case, limit)
            for case in cases:
                if case.fit is None:
                    analysis.search_late(case, limit)
            for case in cases:
                if case.fit is None and case.best_late is None:
                    analysis.search_shift(case, limit)
        for case in cases:  # the costliest relaxation last
            if case.fit is None and case.best_late is None:
                analysis.search_displaced(case)
    except _OutOfTime:
        pass
    out: dict[str, Unplanned] = {}
    for case in cases:
        reason = _reason(problem, analysis, case)
        if reason is not None:
            for oid in case.ids:
                out[oid] = Unplanned(order_id=oid, code=reason[0], reason=reason[1])
    return out


def _reason(
    problem: Problem, analysis: _Analysis, case: _Case
) -> tuple[UnplannedCode, str] | None:
    """The best-ranked fix known for the case; each one is true when given, even
    if a deeper search would have found a better-ranked one."""
    label = case.label
    if case.fit is not None:
        return UnplannedCode.SEARCH_MISSED, _fit_text(problem, analysis, case, case.fit)
    if case.best_late is not None:
        late, k = case.best_late
        return (
            UnplannedCode.SLOT_TOO_TIGHT,
            f"fits on vehicle {problem.vehicles[k].id!r} if the slot of {label} "
            f"ends {_minutes(late)} min later",
        )
    if case.displaced is not None:
        vehicle_id, other = case.displaced
        return (
            UnplannedCode.DISPLACED,
            f"displaced by higher-priority order {other!r} on vehicle "
            f"{vehicle_id!r}: it fits there without that order",
        )
    if case.best_shift is not None:
        over, k = case.best_shift
        return UnplannedCode.SHIFT_TOO_SHORT, _shift_text(problem, k, over)
    if case.is_fit_done and case.allowed and not case.has_idle:
        like = problem.vehicles[case.allowed[0]].id
        return (
            UnplannedCode.NEEDS_MORE_VEHICLES,
            f"every vehicle able to serve {label} is full; it fits if one more "
            f"vehicle like {like!r} is available",
        )
    return None


def _fit_text(problem: Problem, analysis: _Analysis, case: _Case, fit: _Fit) -> str:
    vehicle = problem.vehicles[fit.k]
    stops = [fit.route.order_ids.index(oid) + 1 for oid in case.ids]
    where = " and ".join(str(s) for s in stops)
    plural = "s" if len(stops) > 1 else ""
    later = (
        "the search did not place it before it stopped (inserting it after the "
        "search, or a longer time limit, should plan it)"
    )
    if analysis.base(fit.k).route is None:
        return (
            f"vehicle {vehicle.id!r} is unused and could serve {case.label} on its "
            f"own at {fit.extra_cost:+.2f} cost (fixed cost included); {later}"
        )
    return (
        f"fits on vehicle {vehicle.id!r} as stop{plural} {where} at "
        f"{fit.extra_cost:+.2f} cost; {later}"
    )


def _shift_text(problem: Problem, k: int, over: int) -> str:
    """Name the limit that binds: the shift, the end depot's hours, the horizon."""
    vehicle = problem.vehicles[k]
    minutes = _minutes(over)
    limit = latest_end(problem, vehicle)
    if vehicle.shift.end_s == limit:
        return f"fits on vehicle {vehicle.id!r} if its shift ends {minutes} min later"
    if vehicle.end_depot is not None:
        depot = problem.depot(vehicle.end_depot)
        if depot.opening.end_s == limit:
            return (
                f"fits on vehicle {vehicle.id!r} if depot {depot.id!r} stays open "
                f"{minutes} min longer"
            )
    return (
        f"fits on vehicle {vehicle.id!r} if the planning horizon ends {minutes} "
        "min later"
    )


def with_inserted(
    routes: Sequence[Route], fits: Mapping[str, tuple[str, int]]
) -> dict[str, list[str]]:
    """The routes' sequences with `insertable`'s fits applied, in their order."""
    sequences = {r.vehicle_id: list(r.order_ids) for r in routes}
    for order_id, (vehicle_id, position) in fits.items():
        sequences.setdefault(vehicle_id, []).insert(position, order_id)
    return sequences


def insertable(
    problem: Problem,
    matrices: Mapping[str, TravelMatrix],
    routes: Sequence[Route],
    dropped: Sequence[str],
    allowed: Mapping[str, Sequence[int]],
    *,
    deadline: float | None = None,
) -> dict[str, tuple[str, int]]:
    """Dropped orders that fit on the routes together, and where to put them.

    Orders are inserted one by one, required before optional, higher priority
    first, then the cheapest; each at the first position the scheduler confirms,
    trying positions by estimated cost, and the route is re-timed before the next
    one (a route that took an order is screened again for the others). An
    optional order is taken only if it adds less money than its unplanned penalty
    (times ``problem.objective.unplanned``); a required one always. Each resulting
    route is re-checked by ``routing.check``.

    Parameters
    ----------
    problem, matrices, routes, dropped, allowed
        As for `explain_unplanned` (optional dropped orders are considered too).
    deadline
        ``time.perf_counter()`` value by which to return (None: no limit); the
        insertions found by then are returned.

    Returns
    -------
    dict
        ``{order_id: (vehicle_id, position)}`` in the order to apply them: insert
        each order into its vehicle's sequence at ``position`` (0 = first stop),
        counting the orders inserted before it; a pickup comes before its
        delivery. For example::

            sequences = {r.vehicle_id: list(r.order_ids) for r in routes}
            for oid, (vid, pos) in insertable(...).items():
                sequences.setdefault(vid, []).insert(pos, oid)
            routes = build_routes(problem, matrices, sequences)
    """
    clock = _Clock(math.inf if deadline is None else deadline)
    analysis = _Analysis(problem, matrices, routes, clock)
    analysis.is_verifying = False  # only the fits taken are checked, when taken
    analysis.is_fit_only = True
    cases = _cases(problem, dropped, allowed, is_required_only=False)
    version = [0] * len(problem.vehicles)  # bumped at each insertion
    seen: list[dict[int, int]] = [{} for _ in cases]  # versions each case screened
    out: dict[str, tuple[str, int]] = {}
    heap: list[tuple[bool, int, float, int, int, int]] = []

    def push(n: int) -> None:
        """Find where case n fits now (re-screening only the routes changed since
        it was last screened) and queue it."""
        case = cases[n]
        changed = [k for k in case.allowed if seen[n].get(k) != version[k]]
        analysis.rescreen(case, changed)
        seen[n].update((k, version[k]) for k in changed)
        analysis.search_fit(case, None)
        fit = case.fit
        if fit is None:
            return
        order = problem.order(case.ids[0])
        if order.is_optional:
            penalty = problem.unplanned_penalty(order) * problem.objective.unplanned
            if fit.extra_cost >= penalty:
                return
        priority = problem.policy(order).priority
        item = (order.is_optional, -priority, fit.extra_cost, n, fit.k, version[fit.k])
        heapq.heappush(heap, item)

    try:
        for start in range(0, len(cases), SCREEN_CHUNK):
            analysis.screen(cases[start : start + SCREEN_CHUNK])
        for n, case in enumerate(cases):
            seen[n] = dict.fromkeys(case.allowed, 0)
            push(n)
        while heap:
            _, _, _, n, k, stamp = heapq.heappop(heap)
            case = cases[n]
            if stamp != version[k]:
                push(n)  # its vehicle took another order since: look again
                continue
            fit = case.fit
            assert fit is not None
            if not analysis.is_checked_ok(fit.route):
                case.fit = None  # stays in case.tried: the search moves on
                push(n)
                continue
            base = analysis.base(k)
            sequence = _inserted(base.sequence, case.ids, fit.pos)
            for oid in case.ids:
                out[oid] = (base.vehicle.id, sequence.index(oid))
            analysis.replace_route(k, fit.route)
            version[k] += 1
    except _OutOfTime:
        pass
    return out
