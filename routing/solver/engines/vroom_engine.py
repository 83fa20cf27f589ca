"""VROOM (pyvroom) as a warm-start engine: our Problem as a ``vroom.Input``,
VROOM's routes back as order ids per vehicle.

VROOM expresses exactly: multi-depot and open-ended routes, shifts and depot
hours, several time windows per order, service times, capacity vectors with
deliveries and returns, pickup-and-delivery pairs (shipments), allowed vehicles
(as skills), per-profile travel data, route limits on stops and distance, fixed
and distance costs. What it relaxes or tightens is listed by
`VroomEngine.support`, one line per feature present; OR-Tools
(``routing/solver/_ortools.py``) holds the full model and repairs the rest.

Costs follow ``_ortools.py``: per route ``fixed_cost * objective.fixed_cost``,
per km ``cost_per_km * objective.distance``, per hour ``cost_per_hour *
objective.duration`` (one unit per meter when a vehicle prices nothing). VROOM
gets them as one integer cost matrix per (profile, rates) class, in units of
``1 / cost_scale`` money. Not ``per_km``/``per_hour``: VROOM's cost upper bound
(its "infinity" in regret heuristics) counts travel time only, so it is 0 when
only distance is priced, as on the benchmarks.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from routing.domain.model import Break, Order, Problem, Vehicle
from routing.domain.units import COST_SCALE
from routing.geo.matrix import TravelMatrix
from routing.solver.engines.base import NO_TIME, EngineResult, Sequences, Support

logger = logging.getLogger(__name__)

__all__ = ["VroomEngine"]

Slots = list[tuple[int, int]]
"""Time windows ``[(start_s, end_s), ...]``, sorted, both ends inclusive."""

ENGINE_NAME = "vroom"
"""The engine's name in results and logs."""

MAX_PRIORITY = 100
"""VROOM's highest job priority (``MAX_PRIORITY`` in its ``typedefs.h``)."""

COST_BUDGET = 100_000_000
"""Ceiling on VROOM's cost upper bound, in cost units. Per cost matrix VROOM sums
the largest cost leaving (or entering) every task, start and end in ``uint32``
and refuses the problem on overflow ("Too high cost values"); fixed costs come on
top. The money-to-units scale is the largest power of ten keeping that sum plus
all fixed costs under 1e8, 40 times below ``2**32``, so totals also stay exact
through VROOM's internal ``* 360000`` (int64) and its double-precision regrets."""

MAX_COST_SCALE = 1e12
"""Largest money-to-units scale (a problem whose costs are all tiny)."""

UINT32_MAX = 2**32 - 1
"""VROOM's matrices and user-facing durations, distances and costs are uint32."""

TIME_MARGIN_S = 0.05
"""Seconds of the budget kept back for reading VROOM's solution."""

SEARCH_S_PER_TASK_2_1 = 3.5e-6
"""Seconds one VROOM search (construction, then local search to a local optimum)
takes on one core at exploration level 0, per task**2.1. Measured (session 17,
VROOM 1.15 through pyvroom, one thread, no timeout; seconds per search at levels
0/2/5): generated city days of 100, 200, 300 and 500 orders (distance variant)
0.05/0.05/0.06, 0.25/0.26/0.37, 0.58/0.67/1.08, 1.60/2.39/4.09; Solomon R101,
R201, C201, RC105 0.03/0.04/0.09, 0.07/0.08/0.10, 0.01/0.01/0.01,
0.03/0.04/0.10; Gehring & Homberger R1_2_1, RC2_2_1 0.13/0.15/0.33,
0.30/0.33/0.42 (and 7-9 s at level 0 on 1,000 tasks). Level 0 is 3.3-3.6e-6 x
tasks**2.1 on every city day and 0.6-4.4e-6 on the VRPTW sets. Until session 17
the model was 3e-4 x tasks**1.5 at every level: 2-3 times the measured time at
200-300 tasks, so on a 300-order day with 7.5 s on one thread VROOM ran level 0
(482.4 km) where level 2 fits (untimed 8.1 s, 439.9 km)."""

SEARCH_SHARE_PER_LEVEL_PER_TASK = 0.2 / 350
"""Each exploration level adds this share of the level-0 time to one search, per
task (its local search goes deeper, and deeper searches cost more on larger
days): measured level 5 / level 0 per search 1.2, 1.5, 1.9 and 2.6 on city days
of 100, 200, 300 and 500 orders (see `SEARCH_S_PER_TASK_2_1`), about 1 + 5 x
0.2 x orders / 350. Until session 19 a flat 0.2 per level: on a held-out
500-order day at 57 s (one thread) it picked level 4, whose 24 searches VROOM's
even split of the timeout cut to 2.1 s each (531.4 km; level 3, 41 s: 499.9).
VROOM alone, one thread, distance, every held-out case (seeds 99-100) where the
two models pick different levels, flat -> per task: 200 orders @7.5 s 303.6 ->
313.1 and 386.9 -> 368.1, 250 @7.5 s 325.9 -> 295.1 and 359.0 =, 300 @27 s
420.7 -> 430.5 and 353.1 =, 450 @27 s 483.8 -> 478.1 and 493.2 -> 480.6, 600
@56 s 522.1 -> 521.1, 500 @57 s 477.7 -> 467.9: 7 shorter, 2 longer, 2 equal,
1.4 % less in all."""

CONVERGE_RATIO = 1.25
"""The exploration level is the highest whose searches, run one after another on
each thread, would need at most this many times the budget to converge (VROOM then
cuts each search's slice short a little). Measured on generated city days, one
thread, 7.5 s: 300 orders level 2 (8.1 s untimed) 464.2 km, level 3 (about 1.6
times the budget) 481.8, level 5 512.0, level 0 482.4; 200 orders level 5 (1.6
times) 334.0, level 3 (untimed, 4.5 s) 332.3 - a search cut by a third is worth
no more than one level lower."""

HEURISTIC_S_PER_TASK2 = 8e-7
"""Seconds one VROOM construction heuristic takes per squared task (measured
2e-7 to 8e-7: 0.003-0.008 s at 100 tasks, 0.2-0.3 s at 1000). VROOM's timeout
does not interrupt it."""

OVERSHOOT_S = 0.01
"""Seconds a VROOM search may run past its time slice, plus
`OVERSHOOT_S_PER_TASK2` per squared task: its local search looks at the clock
only between moves, and one move scans every route pair (measured: 0.005-0.016 s
per search at 100 tasks, up to 0.7 s at 1000). The timeout given to VROOM is
shortened by this much per search."""

OVERSHOOT_S_PER_TASK2 = 1e-6
"""See `OVERSHOOT_S`."""

HEURISTIC_SHARE = 0.5
"""Largest share of the budget the searches' construction heuristics and
overshoots may take together."""

PLACEMENTS = 9
"""Candidate placements tried per window when a window is cut (a vehicle's for
``max_duration_s``, a pickup's for ``max_ride_s``): its start, its end and seven
evenly spaced points between."""


@dataclass(frozen=True, slots=True)
class _Task:
    """One VROOM job (an order) or shipment (a pickup-and-delivery pair)."""

    order_ids: tuple[str, ...]
    allowed: frozenset[int]
    penalty: float


@dataclass(frozen=True, slots=True)
class _Conversion:
    """The ``vroom.Input`` and what is needed to read its solution back."""

    vroom_input: Any
    created_at: float
    order_of_job: Mapping[tuple[str, int], str]
    n_orders: int
    n_vehicles: int
    cost_scale: float
    is_cost_exact: bool
    breaks_left_out: int


class VroomEngine:
    """Warm-start engine running VROOM (pyvroom) on the expressible model.

    Parameters
    ----------
    nb_threads
        Threads VROOM may use (default 1: the engine runs on one core beside
        other searches).
    exploration_level
        VROOM's exploration level (0-5: 4 to 32 searches); None picks one from
        the problem size and the budget (`_search_plan`).
    tighten_ride
        Cut the slots of pairs with a ``max_ride_s`` so that any schedule keeps
        the limit (default); False leaves the ride unbounded. On
        ``andorra_delivery_day`` at 2 s: 0 checker violations with 2 of 6 pairs
        left out, against 11 to 45 violations with 1 pair left out (a too long
        ride makes the scheduler start the pickup later, and the rest of the
        route runs late).

    Notes
    -----
    VROOM ranks solutions by the sum of the priorities of the orders it serves,
    then by how many it serves, then by cost. It has no random seed: for one
    input and thread count it is deterministic up to where its timeout stops it.

    pyvroom 1.15.2 holds the GIL while it solves, and its timeout does not cover
    the construction heuristics nor the local-search move under way; the budget
    is shared out accordingly (`_search_plan`), but on a very large problem with
    a tiny budget (1000 orders, under about 2 s) it may still end late.

    VROOM 1.15 cannot insert a shipment into a route whose break must come after
    the shipment's delivery window has closed (VROOM issues #1337 and #1345, open):
    such a pair may be left out although it fits; OR-Tools inserts it later.
    """

    name: str = ENGINE_NAME

    def __init__(
        self,
        *,
        nb_threads: int = 1,
        exploration_level: int | None = None,
        tighten_ride: bool = True,
    ) -> None:
        if isinstance(nb_threads, bool) or not isinstance(nb_threads, int):
            raise TypeError(f"nb_threads must be an int, got {nb_threads!r}")
        if not 1 <= nb_threads <= 32:
            raise ValueError(f"nb_threads must be in [1, 32], got {nb_threads}")
        if exploration_level is not None and exploration_level not in range(6):
            raise ValueError(
                f"exploration_level must be in [0, 5] or None, got "
                f"{exploration_level!r}"
            )
        self.nb_threads = nb_threads
        self.exploration_level = exploration_level
        self.tighten_ride = tighten_ride

    def first_answer_s(self, n_orders: int) -> float:
        """Its construction heuristics' time (`_construction_s`)."""
        return _construction_s(n_orders, nb_threads=self.nb_threads)

    def support(self, problem: Problem) -> Support:
        """Whether VROOM can give ``problem`` a useful start, and what it relaxes.

        Parameters
        ----------
        problem
            The problem.

        Returns
        -------
        Support
            Applies unless the problem has no vehicle or no order, or pyvroom is
            missing; ``relaxations`` has one line per feature of this problem
            that VROOM does not express exactly (empty for plain VRPTW benchmark
            instances: same feasible set and cost as OR-Tools).
        """
        if not problem.vehicles:
            return Support(applies=False, reason="the problem has no vehicles")
        if not problem.orders:
            return Support(applies=False, reason="the problem has no orders")
        if _import_vroom() is None:
            return Support(
                applies=False, reason="pyvroom is not installed (pip install pyvroom)"
            )
        relaxations = _relaxations(problem, tighten_ride=self.tighten_ride)
        return Support(
            applies=True,
            relaxations=tuple(relaxations),
            objective_is_exact=_prices_as_ours(problem),
        )

    def solve(
        self,
        problem: Problem,
        matrices: Mapping[str, TravelMatrix],
        allowed: Mapping[str, Sequence[int]],
        *,
        time_limit_s: float,
        seed: int = 0,
        should_stop: Callable[[], bool] | None = None,  # VROOM cannot poll
        on_best: Callable[[float], None] | None = None,  # nor report progress
    ) -> EngineResult:
        """Run VROOM for at most ``time_limit_s`` seconds and return its routes.

        Parameters
        ----------
        problem
            The full problem.
        matrices
            Travel data per speed profile, rows following ``problem.locations``.
        allowed
            The orders to plan, each with the positions in ``problem.vehicles``
            of the vehicles that may serve it.
        time_limit_s
            Wall-clock budget in seconds (> 0), conversion included.
        seed
            Unused: VROOM has no random seed (see the class notes).

        Returns
        -------
        EngineResult
            Routes over allowed orders only, each order at most once and on one
            of its allowed vehicles, a pair's pickup before its delivery on one
            vehicle. ``status``: ``"solved"`` (every order given to VROOM is
            routed), ``"partial"``, ``"nothing_to_plan"``, ``"not_applicable:
            <reason>"`` or ``"error: <VROOM's message>"``. ``cost``: VROOM's
            objective in money (travel and service priced as VROOM sees them,
            plus fixed costs). ``stats``: ``convert_s``, ``search_s``,
            ``read_s`` (seconds); ``orders`` (given to VROOM), ``unassigned``
            (of those, left out), ``exploration_level``, ``timeout_s`` (given to
            VROOM), ``cost_scale`` (VROOM cost units per money unit),
            ``breaks_left_out`` (breaks that cannot fall in their vehicle's
            window).

        Raises
        ------
        ValueError
            If ``time_limit_s`` is not positive.
        """
        del seed  # VROOM has no random seed.
        if not time_limit_s > 0:
            raise ValueError(f"time_limit_s must be > 0, got {time_limit_s!r}")
        t0 = time.perf_counter()
        deadline = t0 + time_limit_s - min(TIME_MARGIN_S, 0.1 * time_limit_s)
        support = self.support(problem)
        relaxations = list(support.relaxations)
        stats: dict[str, float] = {}

        def result(
            sequences: Sequences, status: str, cost: float | None = None
        ) -> EngineResult:
            return EngineResult(
                engine=self.name,
                sequences=sequences,
                status=status,
                elapsed_s=time.perf_counter() - t0,
                relaxations=tuple(relaxations),
                cost=cost,
                stats=stats,
            )

        vroom = _import_vroom()
        if not support.applies or vroom is None:
            return result({}, f"not_applicable: {support.reason}")
        construct_s = self.first_answer_s(len(allowed))
        if construct_s > deadline - time.perf_counter():
            # (VROOM's timeout does not stop its construction heuristics)
            return result(
                {},
                f"{NO_TIME}: its 4 constructions on {len(allowed)} orders "
                f"would take about {construct_s:.0f} s, more than the "
                f"{max(0.0, deadline - time.perf_counter()):.1f} s it has "
                "(VROOM cannot stop them)",
            )

        # pyvroom raises its own exception types (not exported at top level)
        # for input it refuses, at ``add_*`` or at ``solve``.
        errors = (
            vroom._vroom.VroomInputException,
            vroom._vroom.VroomInternalException,
            vroom._vroom.VroomRoutingException,
        )
        try:
            conv = _convert(
                vroom, problem, matrices, allowed, tighten_ride=self.tighten_ride
            )
        except errors as exc:
            logger.warning("VROOM refused the problem: %s", exc)
            stats["convert_s"] = time.perf_counter() - t0
            return result({}, f"error: {exc}")
        if not conv.is_cost_exact:
            relaxations.append(
                "cost rounding: VROOM arc costs are whole units of "
                f"{1 / conv.cost_scale:g} money"
            )
        t_search = time.perf_counter()
        stats.update(
            convert_s=t_search - t0,
            orders=float(conv.n_orders),
            unassigned=float(conv.n_orders),
            cost_scale=conv.cost_scale,
            breaks_left_out=float(conv.breaks_left_out),
            search_s=0.0,
            read_s=0.0,
        )
        if conv.n_orders == 0 or conv.n_vehicles == 0:
            return result({}, "nothing_to_plan")

        level, timeout_s = _search_plan(
            conv.n_orders,
            deadline - t_search,
            nb_threads=self.nb_threads,
            level=self.exploration_level,
        )
        # VROOM's clock starts when its Input is built (it takes its own loading
        # time off the timeout), so the timeout counts from there.
        timeout_s += t_search - conv.created_at
        stats.update(exploration_level=float(level), timeout_s=timeout_s)
        try:
            solution = conv.vroom_input.solve(
                exploration_level=level,
                nb_threads=self.nb_threads,
                timeout=dt.timedelta(seconds=timeout_s),
            )
        except errors as exc:
            logger.warning("VROOM refused the problem: %s", exc)
            stats["search_s"] = time.perf_counter() - t_search
            return result({}, f"error: {exc}")
        t_read = time.perf_counter()
        stats["search_s"] = t_read - t_search
        sequences = _read_routes(solution, conv, problem, allowed)
        n_served = sum(len(seq) for seq in sequences.values())
        stats["unassigned"] = float(conv.n_orders - n_served)
        stats["read_s"] = time.perf_counter() - t_read
        status = "solved" if n_served == conv.n_orders else "partial"
        return result(sequences, status, solution.summary.cost / conv.cost_scale)


def _import_vroom() -> ModuleType | None:
    try:
        return importlib.import_module("vroom")
    except ImportError:
        return None


# --- what VROOM relaxes ---------------------------------------------------------


def _rates(problem: Problem, vehicle: Vehicle) -> tuple[float, float]:
    """Money per km and per hour the objective charges the vehicle (as OR-Tools:
    one unit per meter when it prices neither)."""
    weights = problem.objective
    per_km = vehicle.cost_per_km * weights.distance
    per_hour = vehicle.cost_per_hour * weights.duration
    if per_km == 0 and per_hour == 0:
        per_km = 1000.0 / COST_SCALE
    return per_km, per_hour


def _penalty(problem: Problem, order: Order) -> float:
    """Money cost of leaving the order unplanned, as OR-Tools charges it."""
    penalty = problem.unplanned_penalty(order)
    if order.is_optional:
        penalty *= problem.objective.unplanned
    return penalty


def _relaxations(problem: Problem, *, tighten_ride: bool) -> list[str]:
    """One line per feature of ``problem`` VROOM does not express exactly."""
    lines: list[str] = []
    vehicles = problem.vehicles
    if any(_rates(problem, v)[1] > 0 for v in vehicles):
        lines.append(
            "duration cost: VROOM prices travel and service time at each "
            "vehicle's hourly rate; waiting and break time in the route span "
            "are not priced"
        )
    if any(_duration_is_binding(problem, v) for v in vehicles):
        lines.append(
            "max_duration_s: tightened, the vehicle's window is cut to "
            "max_duration_s placed where its orders' slots are (VROOM's "
            "max_travel_time bounds travel only)"
        )
    if any(v.breaks for v in vehicles):
        lines.append(
            "breaks: VROOM breaks taken during the route (tighter: none before "
            "departure or after the return); a break that cannot fall inside the "
            "vehicle's window is left out (taken off duty)"
        )
    if any(problem.policy(o).is_soft for o in problem.orders if o.windows):
        lines.append(
            "soft slots: tightened to hard at the last window's end (no lateness; "
            "OR-Tools may add some)"
        )
    if any(p.max_ride_s is not None for p in problem.pairs) and not tighten_ride:
        lines.append(
            "max_ride_s: not expressed (shipments keep one vehicle and the pickup "
            "first; the ride is unbounded)"
        )
    elif any(p.max_ride_s is not None for p in problem.pairs):
        lines.append(
            "max_ride_s: tightened, the pickup's slot is cut to [t, t + (max_ride_s "
            "- travel) / 2] and the delivery must start by t + pickup service + "
            "max_ride_s (VROOM has no ride limit; not expressed when no such t fits "
            "both slots)"
        )
    if any(o.is_optional for o in problem.orders):
        lines.append(
            "optional orders: served whenever they fit (VROOM maximises the "
            "priority sum, then the orders served, before cost); priority "
            "proportional to the penalty; OR-Tools decides whether dropping pays"
        )
    required = {_penalty(problem, o) for o in problem.orders if not o.is_optional}
    if len(required) > 1:
        lines.append(
            "priorities: unplanned penalties mapped to VROOM priorities 1-100 "
            "(proportional, rounded), maximised before cost"
        )
    weights = problem.objective
    for name, what in (
        ("waiting_per_hour", "waiting"),
        ("early_per_hour", "service late in its slot"),
        ("balance_per_hour", "an uneven day"),
    ):
        if getattr(weights, name):
            lines.append(f"objective.{name}: not expressed ({what} is not priced)")
    return lines


def _prices_as_ours(problem: Problem) -> bool:
    """VROOM's objective is OR-Tools' (fixed and distance costs only): no vehicle
    has an hourly rate (VROOM would leave waiting and breaks unpriced), no
    waiting, early-service or balance weight is set (VROOM has none) and no
    order is optional (VROOM serves one whenever it fits, OR-Tools only when
    its penalty pays for it). Required orders' priorities rank plans by what
    they serve first, as their penalties do in OR-Tools."""
    weights = problem.objective
    return not (
        any(_rates(problem, v)[1] > 0 for v in problem.vehicles)
        or weights.waiting_per_hour
        or weights.early_per_hour
        or weights.balance_per_hour
        or any(o.is_optional for o in problem.orders)
    )


def _vehicle_window(problem: Problem, vehicle: Vehicle) -> tuple[int, int] | None:
    """When the vehicle may leave and must be back, as OR-Tools bounds it (shift,
    start depot opening, end depot closing, horizon); None if it cannot leave."""
    horizon = problem.horizon
    start_depot = problem.depot(vehicle.start_depot)
    lo = max(vehicle.shift.start_s, start_depot.opening.start_s, horizon.start_s)
    latest_departure = min(
        vehicle.shift.end_s, start_depot.opening.end_s, horizon.end_s
    )
    hi = min(vehicle.shift.end_s, horizon.end_s)
    if vehicle.end_depot is not None:
        hi = min(hi, problem.depot(vehicle.end_depot).opening.end_s)
    # A route feasible from a later departure is feasible from ``lo`` (waiting
    # is allowed everywhere), so the latest departure only needs to exist.
    if lo > hi or lo > latest_departure:
        return None
    return lo, hi


def _duration_is_binding(problem: Problem, vehicle: Vehicle) -> bool:
    window = _vehicle_window(problem, vehicle)
    return (
        vehicle.max_duration_s is not None
        and window is not None
        and vehicle.max_duration_s < window[1] - window[0]
    )


# --- conversion -----------------------------------------------------------------


def _convert(
    vroom: ModuleType,
    problem: Problem,
    matrices: Mapping[str, TravelMatrix],
    allowed: Mapping[str, Sequence[int]],
    *,
    tighten_ride: bool = True,
) -> _Conversion:
    """Build the ``vroom.Input`` for the allowed orders.

    VROOM locations are the depots the vehicles use, then the orders, with
    sub-matrices of ``matrices``; vehicles keep their position in
    ``problem.vehicles`` as id, jobs and shipment steps their location.
    """
    created_at = time.perf_counter()
    inp = vroom.Input()
    vehicles = problem.vehicles
    windows = {
        k: w
        for k, v in enumerate(vehicles)
        if (w := _vehicle_window(problem, v)) is not None
    }
    tasks = _tasks(problem, allowed, frozenset(windows))
    used = sorted(set().union(*(t.allowed for t in tasks)))
    order_ids = [oid for t in tasks for oid in t.order_ids]
    depot_rows = sorted(
        {problem.depot_index(vehicles[k].start_depot) for k in used}
        | {problem.depot_index(e) for k in used if (e := vehicles[k].end_depot)}
    )
    rows = depot_rows + [problem.order_index(oid) for oid in order_ids]
    loc_of_row = {row: loc for loc, row in enumerate(rows)}

    profile_of, scale, is_exact = _add_matrices(
        inp, problem, matrices, used=used, rows=rows, loc_of_row=loc_of_row
    )
    slots_of = _slots(problem, matrices, tasks, windows if tighten_ride else None)
    # Allowed vehicles as skills: one per distinct restricted set.
    skill_of: dict[frozenset[int], int] = {}
    for task in tasks:
        if not frozenset(used) <= task.allowed:
            skill_of.setdefault(task.allowed, len(skill_of))
    windows = _cut_for_duration(problem, used, windows, tasks, slots_of)
    breaks_left_out = _add_vehicles(
        vroom,
        inp,
        problem,
        windows=windows,
        profile_of=profile_of,
        skill_of=skill_of,
        loc_of_row=loc_of_row,
        scale=scale,
    )
    order_of_job = _add_tasks(
        vroom,
        inp,
        problem,
        tasks=tasks,
        slots_of=slots_of,
        skill_of=skill_of,
        loc_of_row=loc_of_row,
    )
    return _Conversion(
        vroom_input=inp,
        created_at=created_at,
        order_of_job=order_of_job,
        n_orders=len(order_ids),
        n_vehicles=len(used),
        cost_scale=scale,
        is_cost_exact=is_exact,
        breaks_left_out=breaks_left_out,
    )


def _add_vehicles(
    vroom: ModuleType,
    inp: Any,
    problem: Problem,
    *,
    windows: Mapping[int, tuple[int, int]],
    profile_of: Mapping[int, str],
    skill_of: Mapping[frozenset[int], int],
    loc_of_row: Mapping[int, int],
    scale: float,
) -> int:
    """Add the vehicles in ``profile_of`` with their (cut) windows; return how
    many breaks had to be left out."""
    vehicles = problem.vehicles
    breaks_left_out = 0
    for k in profile_of:
        v = vehicles[k]
        lo, hi = windows[k]
        kept = _fitting_breaks(v.breaks, lo, hi)
        breaks_left_out += len(v.breaks) - len(kept)
        extra: dict[str, Any] = {}
        if v.max_stops is not None:
            extra["max_tasks"] = v.max_stops
        if v.max_distance_m is not None:
            extra["max_distance"] = min(v.max_distance_m, UINT32_MAX)
        fixed = v.fixed_cost * problem.objective.fixed_cost
        inp.add_vehicle(
            vroom.Vehicle(
                id=k,
                start=loc_of_row[problem.depot_index(v.start_depot)],
                end=None
                if v.end_depot is None
                else loc_of_row[problem.depot_index(v.end_depot)],
                profile=profile_of[k],
                capacity=list(v.capacity),
                skills={s for group, s in skill_of.items() if k in group},
                time_window=vroom.TimeWindow(lo, hi),
                breaks=[
                    vroom.Break(
                        id=j,
                        time_windows=[
                            vroom.TimeWindow(b.window.start_s, b.window.end_s)
                        ],
                        service=b.duration_s,
                    )
                    for j, b in kept
                ],
                costs=vroom.VehicleCosts(fixed=round(fixed * scale)),
                **extra,
            )
        )

    return breaks_left_out


def _add_tasks(
    vroom: ModuleType,
    inp: Any,
    problem: Problem,
    *,
    tasks: Sequence[_Task],
    slots_of: Mapping[str, Slots],
    skill_of: Mapping[frozenset[int], int],
    loc_of_row: Mapping[int, int],
) -> dict[tuple[str, int], str]:
    """Add jobs and shipments; return the order id of each (step kind, id)."""
    order_of_job: dict[tuple[str, int], str] = {}
    for task, priority in zip(tasks, _priorities(problem, tasks), strict=True):
        skills = {skill_of[task.allowed]} if task.allowed in skill_of else set()
        steps = []
        for kind, oid in zip(
            ("job",) if len(task.order_ids) == 1 else ("pickup", "delivery"),
            task.order_ids,
            strict=True,
        ):
            order = problem.order(oid)
            loc = loc_of_row[problem.order_index(oid)]
            order_of_job[kind, loc] = oid
            tws = [vroom.TimeWindow(a, b) for a, b in slots_of[oid]]
            if kind == "job":
                job = vroom.Job(
                    id=loc,
                    location=loc,
                    default_service=order.service_s,
                    delivery=list(order.delivery),
                    pickup=list(order.pickup),
                    skills=skills,
                    priority=priority,
                    time_windows=tws,
                )
                inp.add_job(job)
            else:
                steps.append(
                    vroom.ShipmentStep(
                        id=loc,
                        location=loc,
                        default_service=order.service_s,
                        time_windows=tws,
                    )
                )
        if steps:
            # The goods: what the pickup collects (the delivery hands it over).
            goods = list(problem.order(task.order_ids[0]).pickup)
            inp.add_shipment(
                steps[0],
                steps[1],
                amount=vroom.Amount(goods),
                skills=skills,
                priority=priority,
            )
    return order_of_job


def _order_windows(problem: Problem, order: Order) -> Slots:
    """The order's slots clipped to the horizon (hard: no lateness)."""
    horizon = problem.horizon
    clipped = [
        (max(w.start_s, horizon.start_s), min(w.end_s, horizon.end_s))
        for w in problem.policy(order).windows
    ]
    return [(a, b) for a, b in clipped if a <= b]


def _tasks(
    problem: Problem, allowed: Mapping[str, Sequence[int]], usable: frozenset[int]
) -> list[_Task]:
    """Jobs and shipments for the allowed orders, in problem order; a pair only
    when both its orders are allowed on a common usable vehicle."""
    tasks: list[_Task] = []
    for order in problem.orders:
        oid = order.id
        if oid not in allowed or not _order_windows(problem, order):
            continue
        pair = problem.pair_of(oid)
        if pair is None:
            ok = frozenset(allowed[oid]) & usable
            if ok:
                tasks.append(_Task((oid,), ok, _penalty(problem, order)))
            continue
        if oid != pair.pickup or pair.delivery not in allowed:
            continue  # added with its pickup, or cannot be served legally
        delivery = problem.order(pair.delivery)
        ok = frozenset(allowed[oid]) & frozenset(allowed[pair.delivery]) & usable
        if ok and _order_windows(problem, delivery):
            penalty = _penalty(problem, order) + _penalty(problem, delivery)
            tasks.append(_Task((oid, pair.delivery), ok, penalty))
    return tasks


def _priorities(problem: Problem, tasks: Sequence[_Task]) -> list[int]:
    """VROOM priorities proportional to the penalty per order, 100 for the
    highest, at least 1 for a required order."""
    per_order = [t.penalty / len(t.order_ids) for t in tasks]
    top = max(per_order, default=0.0)
    out: list[int] = []
    for task, penalty in zip(tasks, per_order, strict=True):
        value = round(MAX_PRIORITY * penalty / top) if top > 0 else MAX_PRIORITY
        if not problem.order(task.order_ids[0]).is_optional:
            value = max(1, value)
        out.append(min(MAX_PRIORITY, value))
    return out


def _add_matrices(
    inp: Any,
    problem: Problem,
    matrices: Mapping[str, TravelMatrix],
    *,
    used: Sequence[int],
    rows: Sequence[int],
    loc_of_row: Mapping[int, int],
) -> tuple[dict[int, str], float, bool]:
    """One VROOM profile per (speed profile, rates) class, with durations,
    distances and integer costs.

    Returns each vehicle's VROOM profile, the money-to-units scale, and whether
    the integer costs are exactly proportional to money.
    """
    vehicles = problem.vehicles
    profile_of: dict[int, str] = {}
    classes: dict[tuple[str, float, float], str] = {}
    for k in used:
        key = (vehicles[k].profile, *_rates(problem, vehicles[k]))
        profile_of[k] = classes.setdefault(key, f"{key[0]}#{len(classes)}")
    index = np.ix_(rows, rows)
    service = np.zeros(len(rows), dtype=np.float64)
    for loc, row in enumerate(rows):
        if row >= len(problem.depots):
            service[loc] = problem.orders[row - len(problem.depots)].service_s
    tasks = np.flatnonzero(np.asarray(rows) >= len(problem.depots))
    starts = [loc_of_row[problem.depot_index(vehicles[k].start_depot)] for k in used]
    ends = [
        loc_of_row[problem.depot_index(e)] for k in used if (e := vehicles[k].end_depot)
    ]
    money: dict[str, NDArray[np.float64]] = {}
    sub: dict[str, tuple[NDArray[np.int64], NDArray[np.int64]]] = {}
    for (profile, per_km, per_hour), name in classes.items():
        if profile not in sub:
            sub[profile] = (
                matrices[profile].durations_s[index],
                matrices[profile].distances_m[index],
            )
        durations, distances = sub[profile]
        # The service at the arc's head is priced too: OR-Tools prices the
        # route's whole span at the hourly rate.
        arc = distances * (per_km / 1000.0) + (durations + service[None, :]) * (
            per_hour / 3600.0
        )
        np.fill_diagonal(arc, 0.0)
        money[name] = arc
    bound = max(
        (_cost_bound(m, tasks, starts, ends) for m in money.values()), default=0
    )
    fixed = sum(vehicles[k].fixed_cost * problem.objective.fixed_cost for k in used)
    scale = _cost_scale(bound + fixed)
    is_exact = True
    for (profile, per_km, per_hour), name in classes.items():
        durations, distances = sub[profile]
        inp.set_durations_matrix(profile=name, matrix_input=_as_uint32(durations))
        inp.set_distances_matrix(profile=name, matrix_input=_as_uint32(distances))
        units = np.rint(money[name] * scale).astype(np.uint32)
        inp.set_costs_matrix(profile=name, matrix_input=units)
        for coefficient in (scale * per_km / 1000.0, scale * per_hour / 3600.0):
            if abs(coefficient - round(coefficient)) > 1e-9 * max(1.0, coefficient):
                is_exact = False
    return profile_of, scale, is_exact


def _as_uint32(matrix: NDArray[np.int64]) -> NDArray[np.uint32]:
    return np.clip(matrix, 0, UINT32_MAX).astype(np.uint32)


def _cost_bound(
    money: NDArray[np.float64],
    tasks: Sequence[int] | NDArray[np.intp],
    starts: Sequence[int],
    ends: Sequence[int],
) -> float:
    """VROOM's cost upper bound for one cost matrix (``check_cost_bound``)."""
    max_row = money.max(axis=1)
    max_col = money.max(axis=0)
    jobs = max(float(max_row[tasks].sum()), float(max_col[tasks].sum()))
    return jobs + float(max_row[starts].sum()) + float(max_col[ends].sum())


def _cost_scale(bound_money: float) -> float:
    """Largest power of ten keeping ``bound_money`` under `COST_BUDGET` units."""
    if bound_money <= 0:
        return 1.0
    exponent = math.floor(math.log10(COST_BUDGET / bound_money))
    return min(MAX_COST_SCALE, 10.0**exponent)


def _slots(
    problem: Problem,
    matrices: Mapping[str, TravelMatrix],
    tasks: Sequence[_Task],
    windows: Mapping[int, tuple[int, int]] | None,
) -> dict[str, Slots]:
    """Each task order's slots: hard at their end, cut for a pair's ride limit
    (given the vehicles' ``windows``; None: not cut)."""
    slots_of = {
        oid: _order_windows(problem, problem.order(oid))
        for t in tasks
        for oid in t.order_ids
    }
    for task in tasks:
        pair = problem.pair_of(task.order_ids[0])
        if pair is None or pair.max_ride_s is None or windows is None:
            continue
        row_p = problem.order_index(pair.pickup)
        row_d = problem.order_index(pair.delivery)
        travel_s, earliest_s, latest_s = [], [], []
        for k in task.allowed:
            v = problem.vehicles[k]
            durations = matrices[v.profile].durations_s
            lo, hi = windows[k]
            travel_s.append(int(durations[row_p, row_d]))
            earliest_s.append(
                lo + int(durations[problem.depot_index(v.start_depot), row_p])
            )
            back_s = (
                0
                if v.end_depot is None
                else int(durations[row_d, problem.depot_index(v.end_depot)])
            )
            latest_s.append(hi - problem.order(pair.delivery).service_s - back_s)
        cut = _ride_windows(
            slots_of[pair.pickup],
            slots_of[pair.delivery],
            service_s=problem.order(pair.pickup).service_s,
            travel_s=min(travel_s),
            max_ride_s=pair.max_ride_s,
            reach_s=(min(earliest_s), max(latest_s)),
        )
        if cut is not None:
            slots_of[pair.pickup], slots_of[pair.delivery] = cut
    return slots_of


def _ride_windows(
    pickup: Slots,
    delivery: Slots,
    *,
    service_s: int,
    travel_s: int,
    max_ride_s: int,
    reach_s: tuple[int, int],
) -> tuple[Slots, Slots] | None:
    """Slots for a pair that keep its ride limit whatever VROOM schedules.

    A pickup starting in ``[t, t2]`` and a delivery starting by ``t + service_s +
    max_ride_s`` ride at most ``max_ride_s``. ``t2`` is ``t`` plus half the slack
    ``max_ride_s - travel_s``, so that pickup and delivery keep equal freedom;
    ``t`` is the candidate (`PLACEMENTS` per pickup slot, from the earliest
    arrival ``reach_s[0]`` on) leaving the most of it, with deliveries starting
    by ``reach_s[1]`` (to be back in time); the earliest on ties. None when no
    ``t`` leaves both slots open.
    """
    slack = max_ride_s - travel_s
    if slack < 0:
        return None
    earliest_s, latest_s = reach_s
    best: tuple[Slots, Slots] | None = None
    best_score = -1
    for a, b in pickup:
        first = max(a, min(b, earliest_s - slack // 2))
        for k in range(PLACEMENTS):
            t = first + (b - first) * k // (PLACEMENTS - 1)
            t2 = min(b, t + slack // 2)
            first_d = max(t, earliest_s) + service_s + travel_s  # implied
            last_d = t + service_s + max_ride_s
            open_d = [(c, min(e, last_d)) for c, e in delivery if c <= last_d]
            room = sum(max(0, min(e, latest_s) - max(c, first_d)) for c, e in open_d)
            if any(max(c, first_d) <= min(e, latest_s) for c, e in open_d):
                score = min(t2 - max(t, earliest_s), room)
                if score > best_score:
                    best, best_score = ([(t, t2)], open_d), score
    return best


def _cut_for_duration(
    problem: Problem,
    used: Sequence[int],
    windows: Mapping[int, tuple[int, int]],
    tasks: Sequence[_Task],
    slots_of: Mapping[str, Slots],
) -> dict[int, tuple[int, int]]:
    """Vehicle windows, each cut to its ``max_duration_s`` where it binds.

    A tightening: a route inside such a window lasts no longer. Vehicles are
    placed one after another, each where it covers the largest share of its
    orders' slots (`PLACEMENTS` candidates, the earliest on ties), a slot
    counting less the more vehicles already cover it, so that a fleet of equal
    vehicles spreads over the day instead of all leaving out the same orders.
    """
    out = dict(windows)
    covered: dict[str, float] = {}
    for k in used:
        v = problem.vehicles[k]
        lo, hi = windows[k]
        if v.max_duration_s is None or v.max_duration_s >= hi - lo:
            continue
        own = [oid for t in tasks if k in t.allowed for oid in t.order_ids]
        best: tuple[float, int, dict[str, float]] | None = None
        for j in range(PLACEMENTS):
            start = lo + (hi - lo - v.max_duration_s) * j // (PLACEMENTS - 1)
            end = start + v.max_duration_s
            share = {oid: _share(slots_of[oid], start, end) for oid in own}
            score = sum(x / (1.0 + covered.get(o, 0.0)) for o, x in share.items())
            if best is None or score > best[0] + 1e-9:
                best = (score, start, share)
        if best is not None:
            _, start, share = best
            out[k] = (start, start + v.max_duration_s)
            for oid, x in share.items():
                covered[oid] = covered.get(oid, 0.0) + x
    return out


def _share(slots: Slots, start: int, end: int) -> float:
    """Share of the slots' length that lies inside ``[start, end]``."""
    total = sum(b - a + 1 for a, b in slots)
    inside = sum(max(0, min(end, b) - max(start, a) + 1) for a, b in slots)
    return inside / total if total else 0.0


def _fitting_breaks(
    breaks: Sequence[Break], lo: int, hi: int
) -> list[tuple[int, Break]]:
    """The breaks VROOM can place one after the other in ``[lo, hi]``, with their
    index (VROOM rejects a vehicle otherwise: "Inconsistent breaks"); a break
    that does not fit is left out, greedily in order."""
    kept: list[tuple[int, Break]] = []
    for k, brk in enumerate(breaks):
        if _breaks_fit([b for _, b in kept] + [brk], lo, hi):
            kept.append((k, brk))
    return kept


def _breaks_fit(breaks: Sequence[Break], lo: int, hi: int) -> bool:
    """VROOM's check (``TWRoute`` constructor): earliest starts forward from
    ``lo``, latest starts backward from ``hi``, each within its window."""
    earliest: list[int] = []
    t = lo
    for b in breaks:
        if t > b.window.end_s:
            return False
        earliest.append(max(t, b.window.start_s))
        t = earliest[-1] + b.duration_s
    t = hi
    for b, first in zip(reversed(breaks), reversed(earliest), strict=True):
        t -= b.duration_s
        if t < b.window.start_s:
            return False
        t = min(t, b.window.end_s)
        if t < first:
            return False
    return True


# --- search and read-back -------------------------------------------------------


def _search_plan(
    n_tasks: int, budget_s: float, *, nb_threads: int, level: int | None
) -> tuple[int, float]:
    """Exploration level and VROOM timeout (seconds) for a budget.

    VROOM runs ``_nb_searches(level)`` searches, ``nb_threads`` at a time, and
    splits its timeout evenly over each thread's share. Each search builds a full
    solution first (not interrupted) and overshoots its slice a little, so the
    level is the highest whose searches would roughly converge in the budget
    (`CONVERGE_RATIO`) while their heuristics and overshoots take at most
    `HEURISTIC_SHARE` of it; the timeout is the budget less the expected
    overshoot. Level 0 (4 searches, no local search if no time is left) is the
    floor: on a very large problem with a tiny budget VROOM may still run late.
    """
    converge_s = SEARCH_S_PER_TASK_2_1 * n_tasks**2.1
    per_level = SEARCH_SHARE_PER_LEVEL_PER_TASK * n_tasks
    overshoot_s = OVERSHOOT_S + OVERSHOOT_S_PER_TASK2 * n_tasks**2
    overhead_s = HEURISTIC_S_PER_TASK2 * n_tasks**2 + overshoot_s

    def rounds(lvl: int) -> int:
        return math.ceil(_nb_searches(lvl) / nb_threads)

    if level is None:
        level = next(
            (
                lvl
                for lvl in range(5, 0, -1)
                if rounds(lvl) * converge_s * (1 + per_level * lvl)
                <= CONVERGE_RATIO * budget_s
                and rounds(lvl) * overhead_s <= HEURISTIC_SHARE * budget_s
            ),
            0,
        )
    return level, max(0.0, budget_s - rounds(level) * overshoot_s)


def _construction_s(n_tasks: int, *, nb_threads: int) -> float:
    """Seconds VROOM's construction heuristics take at exploration level 0
    (`HEURISTIC_S_PER_TASK2`), which its timeout does not interrupt: VROOM
    cannot answer sooner (a 2,000-order day with 3.5 s: 18.6 s)."""
    rounds = math.ceil(_nb_searches(0) / nb_threads)
    return rounds * HEURISTIC_S_PER_TASK2 * n_tasks**2


def _nb_searches(level: int) -> int:
    """Searches VROOM runs at an exploration level (``get_nb_searches``)."""
    n = 4 * (level + 1)
    if level >= 4:
        n += 4
    if level == 5:
        n += 4
    return n


def _read_routes(
    solution: Any,
    conv: _Conversion,
    problem: Problem,
    allowed: Mapping[str, Sequence[int]],
) -> Sequences:
    """VROOM's routes as order ids per vehicle id.

    The result is checked, not trusted: an order off its allowed vehicles, seen
    twice, or a pair split or reversed would be a conversion bug; such orders
    (with their pair partners) are dropped and logged.
    """
    frame = solution.routes
    sequences: Sequences = {}
    if len(frame) and "id" in frame:  # pyvroom drops the column when all NA
        for vehicle, kind, job_id in zip(
            frame["vehicle_id"].tolist(),
            frame["type"].astype(str).tolist(),
            frame["id"].tolist(),
            strict=True,
        ):
            if kind in ("job", "pickup", "delivery"):
                vehicle_id = problem.vehicles[int(vehicle)].id
                order_id = conv.order_of_job[kind, int(job_id)]
                sequences.setdefault(vehicle_id, []).append(order_id)
    bad = _misplaced(problem, sequences, allowed)
    if bad:
        logger.error("VROOM routes broke the model for %s; dropped", sorted(bad))
        sequences = {
            vid: kept
            for vid, seq in sequences.items()
            if (kept := [oid for oid in seq if oid not in bad])
        }
    return sequences


def _misplaced(
    problem: Problem, sequences: Sequences, allowed: Mapping[str, Sequence[int]]
) -> set[str]:
    """Orders (and their pair partners) that break the engine's contract."""
    position_of = {v.id: k for k, v in enumerate(problem.vehicles)}
    seen: dict[str, tuple[str, int]] = {}
    bad: set[str] = set()
    for vid, seq in sequences.items():
        for position, oid in enumerate(seq):
            if (
                oid in seen
                or oid not in allowed
                or position_of[vid] not in allowed[oid]
            ):
                bad.add(oid)
            seen[oid] = (vid, position)
    for pair in problem.pairs:
        p, d = seen.get(pair.pickup), seen.get(pair.delivery)
        if (p is None) != (d is None) or (
            p is not None and d is not None and (p[0] != d[0] or p[1] > d[1])
        ):
            bad.update((pair.pickup, pair.delivery))
    for oid in list(bad):
        partner = problem.pair_of(oid)
        if partner is not None:
            bad.update((partner.pickup, partner.delivery))
    return bad
