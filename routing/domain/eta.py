"""Customer ETAs: the arrival range promised per order, changes after a re-plan,
and the notice sent to the customer.

An ETA here is the planned *service start* (``Visit.start_s``): the moment the
driver rings, after any waiting for the slot to open. The promise is a range
around it that is narrower than the booked slot (by default 30 minutes), and a
time at which the driver calls ahead. Pure domain code: it reads a Plan, it never
solves.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from routing.domain.errors import InvalidProblemError
from routing.domain.model import Problem, TimeWindow
from routing.domain.plan import Plan, Route, Visit
from routing.domain.units import format_clock

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_CALL_AHEAD_S",
    "DEFAULT_PROMISE_WIDTH_S",
    "EtaChange",
    "Promise",
    "compare_promises",
    "notice_text",
    "promise_for",
    "promises",
]

DEFAULT_PROMISE_WIDTH_S = 1800
"""Width of the promised arrival range: 30 minutes is what parcel carriers
commonly announce (a 2-hour booked slot is too vague to wait at home for)."""

DEFAULT_CALL_AHEAD_S = 1800
"""The driver calls this long before the ETA, so that the customer can get home."""

NOTICE_WHEN = ("evening", "morning")
"""When a notice is sent: the evening before the delivery day, or its morning."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Promise:
    """The arrival range promised to a customer, and when the driver calls ahead.

    All values are seconds since midnight of the planning day.

    Parameters
    ----------
    order_id
        The order.
    eta_s
        The planned service start (see the module docstring).
    window_start_s, window_end_s
        The promised range (inclusive), containing ``eta_s``.
    call_ahead_s
        When the driver calls the customer (a time of day, not a duration).
    """

    order_id: str
    eta_s: int
    window_start_s: int
    window_end_s: int
    call_ahead_s: int

    def contains(self, t_s: int) -> bool:
        """Whether a service start at ``t_s`` keeps the promise (ends inclusive)."""
        return self.window_start_s <= t_s <= self.window_end_s


@dataclass(frozen=True, slots=True)
class EtaChange:
    """How a promised ETA moved in a new plan.

    Parameters
    ----------
    order_id
        The order.
    old_eta_s
        The promised ETA.
    new_eta_s
        The ETA in the new plan; None if the order is no longer planned.
    moved_s
        ``new_eta_s - old_eta_s`` (positive: later); None if not planned.
    is_broken
        The new ETA falls outside the promised range, or the order is no longer
        planned: the customer must be told.
    """

    order_id: str
    old_eta_s: int
    new_eta_s: int | None
    moved_s: int | None
    is_broken: bool


def _check_duration(value: object, *, path: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidProblemError(
            f"must be an integer number of seconds >= 0, got {value!r}", path=path
        )
    return value


def _visits(plan: Plan) -> dict[str, tuple[Route, Visit]]:
    """Each planned order's route and visit."""
    return {v.order_id: (r, v) for r in plan.routes for v in r.visits}


def call_ahead_time(route: Route, start_s: int, call_ahead_s: int) -> int:
    """When the driver calls before a service starting at ``start_s``:
    ``call_ahead_s`` before it, but never before the route leaves."""
    return max(route.start_s, start_s - call_ahead_s)


def _range(
    windows: tuple[TimeWindow, ...], eta_s: int, width_s: int
) -> tuple[int, int]:
    """A ``width_s`` range centred on ``eta_s``, shifted (or clipped, when the slot
    is narrower) to lie inside the slot containing ``eta_s``; centred and not
    clipped when no slot contains it (a late service: the promise stays honest)."""
    lo = eta_s - width_s // 2
    hi = lo + width_s
    slot = next((w for w in windows if w.contains(eta_s)), None)
    if slot is not None:
        if hi - lo >= slot.end_s - slot.start_s:
            return slot.start_s, slot.end_s
        if lo < slot.start_s:
            lo, hi = slot.start_s, slot.start_s + width_s
        elif hi > slot.end_s:
            lo, hi = slot.end_s - width_s, slot.end_s
    return max(0, lo), hi


def _promise(
    problem: Problem, route: Route, visit: Visit, width_s: int, call_ahead_s: int
) -> Promise:
    order = problem.order(visit.order_id)
    windows = problem.policy(order).windows
    lo, hi = _range(windows, visit.start_s, width_s)
    return Promise(
        order_id=order.id,
        eta_s=visit.start_s,
        window_start_s=lo,
        window_end_s=hi,
        call_ahead_s=call_ahead_time(route, visit.start_s, call_ahead_s),
    )


def promise_for(
    problem: Problem,
    plan: Plan,
    order_id: str,
    *,
    width_s: int = DEFAULT_PROMISE_WIDTH_S,
    call_ahead_s: int = DEFAULT_CALL_AHEAD_S,
) -> Promise | None:
    """The promise to make for one order of a plan.

    Parameters
    ----------
    problem
        The problem the plan solves.
    plan
        The plan.
    order_id
        The order.
    width_s
        Width of the promised range, seconds (>= 0). It is centred on the ETA,
        then shifted to lie inside the booked slot that contains the ETA (the
        whole slot when the slot is narrower). An order without slots uses the
        planning horizon as its slot. A late service (after every slot) gets
        the centred range, outside the slot: a promise must contain the ETA.
    call_ahead_s
        How long before the ETA the driver calls, seconds (>= 0); the call is
        never before the route leaves the depot.

    Returns
    -------
    Promise or None
        None when the order is not planned.

    Raises
    ------
    InvalidProblemError
        If the order is not in the problem (``path`` ``"order_id"``), or a
        duration is negative.
    """
    width_s = _check_duration(width_s, path="width_s")
    call_ahead_s = _check_duration(call_ahead_s, path="call_ahead_s")
    try:
        problem.order(order_id)
    except KeyError:
        raise InvalidProblemError(
            "unknown order", path="order_id", entity_id=str(order_id)
        ) from None
    found = _visits(plan).get(order_id)
    if found is None:
        return None
    return _promise(problem, *found, width_s, call_ahead_s)


def promises(
    problem: Problem,
    plan: Plan,
    *,
    width_s: int = DEFAULT_PROMISE_WIDTH_S,
    call_ahead_s: int = DEFAULT_CALL_AHEAD_S,
) -> dict[str, Promise]:
    """Promises for every planned order, in route and visit order.

    Parameters and errors as for `promise_for`; a visited order that is not in
    the problem raises InvalidProblemError with ``path``
    ``routes[i].visits[j].order_id``.
    """
    width_s = _check_duration(width_s, path="width_s")
    call_ahead_s = _check_duration(call_ahead_s, path="call_ahead_s")
    out: dict[str, Promise] = {}
    for i, route in enumerate(plan.routes):
        for j, visit in enumerate(route.visits):
            try:
                problem.order(visit.order_id)
            except KeyError:
                raise InvalidProblemError(
                    "the plan visits an order that is not in the problem",
                    path=f"routes[{i}].visits[{j}].order_id",
                    entity_id=visit.order_id,
                ) from None
            out[visit.order_id] = _promise(problem, route, visit, width_s, call_ahead_s)
    return out


def compare_promises(
    old: Mapping[str, Promise],
    problem: Problem,
    new_plan: Plan,
    *,
    known_starts: Mapping[str, int] | None = None,
    tolerance_s: int = 0,
) -> list[EtaChange]:
    """The promised ETAs that a new plan moves or breaks.

    Parameters
    ----------
    old
        Promises given to customers, by order id.
    problem
        The problem ``new_plan`` solves. Promised orders that are not in it
        (served or cancelled meanwhile) are skipped.
    new_plan
        The new plan.
    known_starts
        Service starts of promised orders that are not in ``problem`` but still
        to be served, by order id (e.g. the stop a driver is driving to during
        a re-plan); compared like planned ones.
    tolerance_s
        Moves of at most this many seconds that keep the promise are not
        reported (default 0: every move is).

    Returns
    -------
    list[EtaChange]
        In the order of ``old``: the orders whose ETA moved by more than
        ``tolerance_s``, and those whose promise is broken (ETA outside the
        promised range, or no longer planned).
    """
    tolerance_s = _check_duration(tolerance_s, path="tolerance_s")
    known_starts = known_starts or {}
    planned = {oid: visit.start_s for oid, (_, visit) in _visits(new_plan).items()}
    in_problem = {o.id for o in problem.orders}
    changes: list[EtaChange] = []
    for order_id, promise in old.items():
        if order_id in known_starts:
            new_eta: int | None = known_starts[order_id]
        elif order_id in in_problem:
            new_eta = planned.get(order_id)
        else:
            continue
        if new_eta is None:
            changes.append(EtaChange(order_id, promise.eta_s, None, None, True))
            continue
        moved = new_eta - promise.eta_s
        is_broken = not promise.contains(new_eta)
        if is_broken or abs(moved) > tolerance_s:
            changes.append(
                EtaChange(order_id, promise.eta_s, new_eta, moved, is_broken)
            )
    return changes


def _minute_floor(t_s: int) -> str:
    return format_clock(t_s - t_s % 60)


def _minute_ceil(t_s: int) -> str:
    return format_clock(t_s + (-t_s) % 60)


def notice_text(problem: Problem, promise: Promise, *, when: str = "evening") -> str:
    """The message that tells a customer when to expect the driver.

    Parameters
    ----------
    problem
        The problem (for the order's kind and the date).
    promise
        The promise to announce.
    when
        ``"evening"`` for the notice sent the day before, ``"morning"`` for the
        one sent on the day.

    Returns
    -------
    str
        E.g. ``"Your delivery o-17 is planned between 10:15 and 10:45 tomorrow;
        the driver will call you around 09:45."``. Times are whole minutes: the
        range is rounded outwards, the call down. A pickup-only order is a
        "collection".

    Raises
    ------
    InvalidProblemError
        If ``when`` is unknown (``path`` ``"when"``) or the order is not in the
        problem (``path`` ``"order_id"``).
    """
    if when not in NOTICE_WHEN:
        raise InvalidProblemError(
            f"must be one of {list(NOTICE_WHEN)}, got {when!r}", path="when"
        )
    try:
        order = problem.order(promise.order_id)
    except KeyError:
        raise InvalidProblemError(
            "unknown order", path="order_id", entity_id=promise.order_id
        ) from None
    kind = "collection" if any(order.pickup) and not any(order.delivery) else "delivery"
    between = (
        f"between {_minute_floor(promise.window_start_s)} and "
        f"{_minute_ceil(promise.window_end_s)}"
    )
    call = f"the driver will call you around {_minute_floor(promise.call_ahead_s)}."
    if when == "evening":
        day = f"on {problem.date}" if problem.date else "tomorrow"
        return f"Your {kind} {order.id} is planned {day} {between}; {call}"
    return (
        f"Your {kind} {order.id} is on its way today and will arrive {between}; {call}"
    )
