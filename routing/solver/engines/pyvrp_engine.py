"""PyVRP warm-start engine: our Problem as ``pyvrp.ProblemData``, searched by PyVRP.

`PyVRPEngine` converts the orders in ``allowed`` into a PyVRP 0.14 instance, runs
PyVRP's iterated local search within the time limit and returns ordered routes
per vehicle id for OR-Tools (``routing/solver/_ortools.py``) to read as its
starting assignment.

How the model maps
------------------
- Locations are our depots, the planned orders and, when some vehicle has no end
  depot, one dummy end depot reached at zero distance and time from everywhere
  (as in ``_ortools.py``).
- Vehicles: one ``VehicleType`` per group of identical vehicles (``num_available``);
  shift, start depot opening and horizon give ``tw_early``/``start_late``/``tw_late``;
  ``max_duration_s`` is ``shift_duration``, ``max_distance_m`` is
  ``max_distance``, ``max_stops`` an extra load dimension in which every client
  delivers 1.
- Deliveries are loaded at the depot and pickups (returns) carried to the end:
  PyVRP's simultaneous delivery and pickup. Pickup-and-delivery pairs are PyVRP
  shipments (same vehicle, pickup first, the goods on board in between).
- An order with several windows is one client per window in a mutually
  exclusive, optional client group.
- Vehicle restrictions (``allowed``: skills, kinds, pre-checks): when some order
  may not use every vehicle, each distinct (speed profile, set of forbidden
  orders) gets its own PyVRP profile whose travel time into a forbidden order is
  longer than the horizon, so a route using it always has time warp and is never
  PyVRP's (feasible) best solution. Returned routes are filtered again anyway.
  Where every order is required and every restriction is one of reach alone
  (the vehicle could carry the order but not reach it in its shift or limits),
  PyVRP's own windows and limits enforce them and no profile is added
  (`_reach_only`).
- Costs are those of ``_ortools.py`` in ``routing.domain.units.COST_SCALE`` units (one
  unit per meter for a vehicle with nothing priced), divided by their greatest
  common divisor so that PyVRP sees small integers (a benchmark's 1 per km
  becomes 1 per matrix unit, PyVRP's own setting); ``EngineResult.cost`` is
  converted back to ``_ortools.py`` objective units.

Required orders
---------------
PyVRP returns its best *feasible* solution: ``cost()`` is infinite for an
infeasible one, so when the required clients do not all fit, the search never
improves on its initial solution and returns an infeasible plan (measured: 30
clients with room for 20, ``required=True``: best infeasible, 10 units of
excess load). So when every order of the day is required, the first run uses
required clients at PyVRP's own penalty range (its fastest search), starting at
the day's own scale unless vehicle restrictions or fixed vehicle costs need high
penalties (`_start_penalties`); if a run ends with no feasible solution (or
finds none in its first idle iterations), the next runs use the
*optional-client* conversion: every order an optional client with a prize,
required ones a large prize (at least `REQUIRED_PRIZE_MARGIN` times any
insertion cost, ``2**priority`` apart), and
PyVRP's largest penalty raised to at least the largest prize. At the largest
penalty one unit of time warp or excess load costs more than leaving any order
out, so the initial solution (local search at the largest penalties, as
``pyvrp.solve`` builds it) is feasible, and so is the best one. Days with
optional orders use that conversion from the start. Penalty times the worst
possible violation stays below `PENALTY_BUDGET` (int64). If the best solution
is infeasible all the same, stops are removed from its infeasible routes until
they are feasible (``status`` ends in ``"+repaired"``).

Search
------
PyVRP's iterated local search (as ``pyvrp.solve``), restarted with another
seed when a run stalls (`_search`). When vehicles have a fixed cost, each run
also tries to do without its least productive routes (`_Run`: route
elimination), which PyVRP's own moves rarely achieve.

Relaxations (one `Support.relaxations` line per feature present)
----------------------------------------------------------------
- breaks: left out; where the hours of the vehicles with breaks are priced, a
  slot ending after a break's earliest start ends earlier by the break's
  duration (`_break_room`), so that routes leave room for them;
  the route's latest end and ``max_duration_s`` stay the vehicle's
  (`_time_limits`: a break that does not fit the route's idle time
  may push its last stops or its return late; OR-Tools repairs that).
- soft slots: hard at the last window's end (a tightening; OR-Tools may add
  lateness).
- max ride time: the pair's two windows are narrowed so that any service times
  inside them keep the ride within the limit (a tightening); a pair still too
  long once our scheduler places the breaks is dropped (OR-Tools re-inserts it).
- pairs whose orders have several windows: one window for each stop (shipment
  steps take one), the widest combination that keeps the order and the ride
  limit (a tightening).
- ``max_stops`` with pairs: shipment stops are not counted.
- waiting, early-service and balance objective terms: not priced.
- priorities of required orders spanning more than `EXACT_PRIORITY_SPAN` steps
  (or a day whose prize range is too narrow for theirs): ``2**priority`` prize
  ratios only within the int64-safe range.
- more restriction patterns than `MAX_PROFILE_BYTES` allows: restrictions only
  filtered afterwards (reported by ``solve``).
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray
from pyvrp import (
    Activity,
    ActivityType,
    Client,
    ClientGroup,
    CostEvaluator,
    Depot,
    IteratedLocalSearch,
    IteratedLocalSearchCallbacks,
    IteratedLocalSearchParams,
    Location,
    PenaltyManager,
    PenaltyParams,
    ProblemData,
    RandomNumberGenerator,
    Route,
    Shipment,
    Solution,
    VehicleType,
)
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.search import (
    OPERATORS,
    LocalSearch,
    NeighbourhoodParams,
    PerturbationManager,
    PerturbationParams,
    compute_neighbours,
)
from pyvrp.stop import MaxIterations, MultipleCriteria, StoppingCriterion

from routing.domain.model import Order, Pair, Place, Point, Problem, TimeWindow, Vehicle
from routing.domain.timing import build_route, latest_end
from routing.domain.units import COST_SCALE
from routing.geo.matrix import TravelMatrix
from routing.solver.engines.base import EngineResult, Sequences, Support
from routing.solver.precheck import may_carry, surely_overbooked

logger = logging.getLogger(__name__)

__all__ = ["NO_IMPROVEMENT_MIN_ITERATIONS", "NO_IMPROVEMENT_PER_STOP", "PyVRPEngine"]

NO_IMPROVEMENT_SHARE = 0.2
NO_IMPROVEMENT_S_PER_STOP_SQUARED = 0.0015
"""... and, at the same time, no better solution for
``min(NO_IMPROVEMENT_SHARE * time limit, NO_IMPROVEMENT_S_PER_STOP_SQUARED *
stops**2)`` seconds (``_Converged``): 0.2 s for 12 orders, 6 s for 100 at a
30-s limit, 12 s for 200 at 60 s. Such a run has stalled: a fresh run with
another seed follows (``_search``). PyVRP's runs stall on different local
optima; Solomon's 12 instances where PyVRP alone beat us at 30 s (1 core):
mean gap 0.62 % with one run stopped after 15 s idle, 0.35 % with restarts
after 15 s idle, 0.16 % with restarts after 6 s idle (PyVRP alone, one 30-s
run: 0.15 %). Replayed from single 29-s runs (13 Solomon instances, 6 seeds
each, session 8, penalties starting at the day's scale): restarts after 3, 4.5,
6, 7.5, 9 and 12 s idle 0.15, 0.14, 0.13, 0.14, 0.14 and 0.15 %; no restart
0.24 %.

The share applies only to runs whose penalties start at the day's scale
(``_Conversion.at_day_scale``: required clients, no restriction profiles, no
fixed vehicle costs). A run from the middle of the penalty range (every city
day, Li & Lim) needs its first many iterations to bring the penalties down,
and a fresh run starts there again: it stalls for ``stops**2`` seconds alone
(12 s for 90 orders, so on a 20-s limit hardly ever; small days still
converge and confirm in a fraction of a second). Session 8's replays already
ranked one long run from the midpoint first (0.27 % against 0.39 % with
restarts after 6 s idle); measured on city days @20-30 s, 1 core, the same
seed both ways (session 13): the overbooked example day (optional clients)
cheaper on 4 of 6 seeds (675.4 vs 685.5, 673.6 vs 682.1, 674.1 vs 682.1,
681.5 vs 682.1), dearer on 1 (695.1 vs 693.8), the distance variant of a
150-order generated day 241.7 vs 245.0 and 251.3 vs 258.2; 20 other runs
(the other example days, 150-250-order days) equal or within 0.6 %."""

NO_IMPROVEMENT_MIN_ITERATIONS = 1_000
NO_IMPROVEMENT_PER_STOP = 20
"""A run has stalled once ``max(NO_IMPROVEMENT_MIN_ITERATIONS,
NO_IMPROVEMENT_PER_STOP * stops)`` PyVRP iterations in a row found no better
solution (and the seconds rule below holds); the search ends at the time limit
or once `CONFIRMING_RUNS` runs agree. A warm start need not be polished
(OR-Tools goes on from it), and small days converge at once: the 12-order
tutorial's best is PyVRP's initial solution, and 1 000 idle iterations take
0.25-0.4 s on a loaded 2-core machine (about 4 000 iterations/s). Larger days
keep searching longer, since their iterations are slower and improvements
rarer (R101 @5 s, measured: after 1 000 idle iterations 1639.0-1639.6, to the
limit 1637.7-1639.3)."""

EXTRACT_RESERVE_S = 0.05
"""Seconds kept back from the time limit for reading PyVRP's routes and
filtering them, so that the engine returns by the limit."""

PENALTY_BUDGET = 10**17
"""Upper bound on penalty x violation for any single term of PyVRP's penalised
cost: int64 holds 9.2e18, so ~90 such terms still cannot overflow. PyVRP warns
that too large penalties overflow its native code (``PenaltyParams``)."""

REQUIRED_PRIZE_MARGIN = 4
"""A required order's prize is at least this many times the most one insertion
can cost (fixed cost, a detour of twice the longest arc, a whole shift of
duration), so PyVRP serves it whenever it fits."""

MAX_PROFILE_BYTES = 512 * 2**20
"""Largest memory for restriction profiles (two int64 matrices each); beyond it
restrictions are enforced only by filtering the routes afterwards."""

PYVRP_MIN_PENALTY = 0.1
"""PyVRP's default smallest penalty (``PenaltyParams``), scaled as below."""

PYVRP_MAX_PENALTY = 100_000.0
"""PyVRP's default penalty range (``PenaltyParams``), tuned for instances where
one cost unit is one distance unit; scaled here by the cost of one distance unit."""

_PRICE_MULTIPLIERS = (1, 10, 100, 1000)
"""Tried in turn to make the per-meter distance prices integers (cost_per_km with
more decimals is rounded at the last one)."""


_Penalties = tuple[list[float], float, float]
"""PyVRP penalties per unit of excess load (per dimension), time warp and
excess distance."""


def _start_penalties(
    data: ProblemData,
    distances: NDArray[np.int64],
    durations: NDArray[np.int64],
    low: float,
    high: float,
) -> _Penalties:
    """Initial penalties at the instance's own scale: the cost of an average
    arc per average unit of load, duration and distance, within [``low``,
    ``high``]; PyVRP's own updates tune them from there.

    PyVRP 0.14 starts at the middle of its range instead, thousands to tens of
    thousands of times these on Solomon, and lowers them by 10 % every 500
    iterations when the search is feasible enough: about 40,000 iterations (15 s
    of a 30-s limit on 100 customers, more than the whole limit on a 250-order
    city day) before the search crosses infeasible space at all. Nearly every
    late improvement of a 29-s run came right after that (RC108, six seeds: best
    found at 10-27 s from the midpoint, at 1.2-10.4 s from these), and runs that
    converge early make restarts pay (benchmarks/README, session 8).

    Used only without restriction profiles: on generated city days (skills,
    vehicle kinds: 9-11 profiles, 3,000-5,000 iterations in 20 s) starting
    here left PyVRP's best infeasible on one 250-order day and 23 % dearer on a
    500-order day; 10 and 100 times higher: dearer than from the midpoint on 2
    of 3 days. Nor with fixed vehicle costs: a violation that saves a vehicle
    saves its fixed cost, far above an arc's, and the search stayed among
    infeasible routes (Li & Lim @30 s, where a vehicle costs more than any
    plan's total distance: 36 of 56 instances at the best-known fleet; lr104,
    lr108, lrc102, lrc105 2 vehicles above it, from the midpoint at the
    best-known fleet and distance)."""
    types = [data.vehicle_type(t) for t in range(data.num_vehicle_types)]
    mean_distance = float(distances.mean())
    mean_duration = float(durations.mean())
    arc = float(
        np.mean(
            [
                t.unit_distance_cost * mean_distance
                + t.unit_duration_cost * mean_duration
                for t in types
            ]
        )
    )
    amounts = [
        [max(d, p) for d, p in zip(c.delivery, c.pickup, strict=True)]
        for c in data.clients()
    ] + [list(s.amount) for s in data.shipments()]
    mean_load = (
        np.asarray(amounts, dtype=float).mean(axis=0)
        if amounts
        else np.zeros(data.num_load_dimensions)
    )

    def clip(value: float) -> float:
        return min(max(value, low), high)

    return (
        [clip(arc / max(1.0, q)) for q in mean_load],
        clip(arc / max(1.0, mean_duration)),
        clip(arc / max(1.0, mean_distance)),
    )


@dataclass(frozen=True, slots=True)
class _Conversion:
    """A PyVRP instance and how to read its solutions back."""

    data: ProblemData
    client_orders: tuple[str, ...]
    """Order id of each PyVRP client (a multi-window order has several)."""
    shipment_pairs: tuple[Pair, ...]
    """The pair of each PyVRP shipment."""
    pools: tuple[tuple[int, ...], ...]
    """Positions in ``problem.vehicles`` of each vehicle type's vehicles."""
    penalties: tuple[_Penalties, float, float]
    """Initial PyVRP penalties, minimum and maximum penalty."""
    cost_unit: float
    """``_ortools.py`` objective units per PyVRP cost unit."""
    prizes: Mapping[str, int]
    """PyVRP prize of each planned order (a shipment's is its two orders')."""
    relaxations: tuple[str, ...] = ()
    """Relaxations decided at conversion (beyond `PyVRPEngine.support`'s)."""
    stats: dict[str, float] = field(default_factory=dict)
    at_day_scale: bool = False
    """Whether the penalties start at the day's scale (`_start_penalties`);
    else at the middle of their range, as in ``pyvrp.solve``."""


class PyVRPEngine:
    """Warm starts from PyVRP's iterated local search (PyVRP 0.14).

    Parameters
    ----------
    no_improvement_iterations
        Stop after this many iterations without a better solution; None: the
        rule of `NO_IMPROVEMENT_PER_STOP`.
    eliminate_routes
        Let runs try to do without routes when vehicles have a fixed cost
        (`_Run`); False: PyVRP's own search (the benchmarks' PyVRP peer).
    hand_over
        On a day PyVRP relaxes, end the search early once it stalls near the
        end (`_HandOver`), leaving the time to the full OR-Tools model; False:
        search to the time limit (the benchmarks' PyVRP peer, which has no
        OR-Tools phase after it).
    snapshot
        ``(due, take)``: once ``due()`` is true (asked at every iteration) the
        search calls ``take(sequences, cost)`` once with its best routes so
        far (``cost`` as `solve`'s result's; not called while none is
        feasible) and goes on, its path unchanged: with two cores, the run of
        PyVRP's first seed that searches to the end hands its routes to
        OR-Tools' final search on the other core (``routing.solver.portfolio``).
    start
        Routes (vehicle id -> order ids, another engine's) the first run starts
        from instead of a random solution (`_solution_of`; fresh runs after it
        start at random as usual): the portfolio's ``CHAIN_PYVRP``.

    Notes
    -----
    The module docstring lists how each part of the model maps onto PyVRP and
    what is relaxed. PyVRP runs on one core.
    """

    name: str = "pyvrp"

    def __init__(
        self,
        *,
        no_improvement_iterations: int | None = None,
        eliminate_routes: bool = True,
        hand_over: bool = True,
        snapshot: tuple[Callable[[], bool], Callable[[Sequences, float], None]]
        | None = None,
        start: Sequences | None = None,
    ) -> None:
        if no_improvement_iterations is not None and no_improvement_iterations < 1:
            raise ValueError(
                f"no_improvement_iterations must be >= 1, got "
                f"{no_improvement_iterations}"
            )
        self.no_improvement_iterations = no_improvement_iterations
        self.eliminate_routes = eliminate_routes
        self.hand_over = hand_over
        self.snapshot = snapshot
        self.start = start

    def first_answer_s(self, n_orders: int) -> float:
        """0: it returns its best routes so far when its time is up."""
        return 0.0

    def support(self, problem: Problem) -> Support:
        """Whether PyVRP can give a warm start for ``problem``, and what it relaxes.

        Parameters
        ----------
        problem
            The full problem.

        Returns
        -------
        Support
            Applies unless there are no orders or no vehicles; one relaxation
            line per model feature present in ``problem`` that PyVRP does not
            express exactly (none for plain VRPTW benchmark instances).
        """
        if not problem.orders:
            return Support(applies=False, reason="no orders to plan")
        if not problem.vehicles:
            return Support(applies=False, reason="no vehicles")
        return Support(applies=True, relaxations=_relaxations(problem))

    def solve(
        self,
        problem: Problem,
        matrices: Mapping[str, TravelMatrix],
        allowed: Mapping[str, Sequence[int]],
        *,
        time_limit_s: float,
        seed: int = 0,
        should_stop: Callable[[], bool] | None = None,
        on_best: Callable[[float], None] | None = None,
    ) -> EngineResult:
        """Search with PyVRP for at most ``time_limit_s`` seconds; return routes.

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
            Wall-clock budget in seconds (> 0), model conversion included. The
            one exception: PyVRP's initial local search cannot be interrupted
            (about a second on 1 000 orders).
        seed
            PyVRP's random seed.

        Returns
        -------
        EngineResult
            ``sequences`` holds each order of ``allowed`` at most once, on a
            vehicle allowed for it. ``status`` is ``"time_limit"``,
            ``"no_improvement"`` or ``"handed_over"`` (how PyVRP's search
            stopped), or ``"empty"``;
            ``cost`` is PyVRP's routing cost plus the prizes of the planned
            orders left out, in ``_ortools.py`` objective units. ``stats``
            times the stages (``convert_s``, ``search_s``, ``extract_s``) and
            counts iterations and dropped stops.
        """
        if time_limit_s <= 0:
            raise ValueError(f"time_limit_s must be > 0, got {time_limit_s}")
        t0 = time.perf_counter()
        base = self.support(problem).relaxations
        if not allowed or not problem.vehicles:
            return EngineResult(
                engine=self.name,
                sequences={},
                status="empty",
                elapsed_s=time.perf_counter() - t0,
                relaxations=base,
            )
        every_required = all(not problem.order(oid).is_optional for oid in allowed)
        # An overbooked day (more load or service time than the fleet has)
        # starts in the optional-client conversion: runs with required clients
        # could only end infeasible (overbooked example day @18 s: 4.5 s of them).
        overbooked = every_required and surely_overbooked(problem, allowed)
        every_required = every_required and not overbooked
        conv = _convert(problem, matrices, allowed, required=every_required)
        convert_s = time.perf_counter() - t0
        if not conv.prizes:  # e.g. a paired order whose partner is not allowed
            return EngineResult(
                engine=self.name,
                sequences={},
                status="empty",
                elapsed_s=time.perf_counter() - t0,
                relaxations=base + conv.relaxations,
                stats=dict(conv.stats, convert_s=convert_s),
            )

        t_search = time.perf_counter()
        patience = self.no_improvement_iterations or max(
            NO_IMPROVEMENT_MIN_ITERATIONS,
            round(NO_IMPROVEMENT_PER_STOP * conv.stats["orders"]),
        )
        deadline = t0 + time_limit_s - EXTRACT_RESERVE_S
        snapshot = None
        if self.snapshot is not None:
            due, take = self.snapshot

            def hand_on(solution: Solution, of: _Conversion) -> None:
                sequences, _ = _sequences(
                    problem, matrices, of, _routes(solution), allowed
                )
                take(sequences, _money(solution, of, sequences))

            snapshot = _Snapshot(due, hand_on)
        found = _search(
            conv,
            deadline,
            seed,
            patience,
            _restart_patience_s(conv, time_limit_s),
            should_stop=should_stop,
            on_best=on_best,
            eliminate_routes=self.eliminate_routes,
            hand_over=(
                HAND_OVER_SHARE * time_limit_s
                if self.hand_over and base  # a relaxation: OR-Tools has more to do
                else None
            ),
            fallback=(lambda: _convert(problem, matrices, allowed))
            if every_required
            else None,
            snapshot=snapshot,
            start=_solution_of(problem, matrices, conv, self.start)
            if self.start
            else None,
        )
        search_s = time.perf_counter() - t_search
        best, conv, status = found.best, found.conv, found.status

        t_extract = time.perf_counter()
        is_feasible = best.is_feasible()
        routes = _routes(best)
        if not is_feasible:
            routes = _repair(conv.data, routes)
            status += "+repaired"
        sequences, dropped = _sequences(problem, matrices, conv, routes, allowed)
        served = {oid for seq in sequences.values() for oid in seq}
        stats = dict(conv.stats)
        stats.update(
            convert_s=convert_s,
            search_s=search_s,
            extract_s=time.perf_counter() - t_extract,
            iterations=float(found.iterations),
            runs=float(found.runs),
            eliminations_tried=float(found.eliminations_tried),
            routes_eliminated=float(found.routes_eliminated),
            patience=float(patience),
            patience_s=found.patience_s,
            overbooked=float(overbooked),
            pyvrp_feasible=float(is_feasible),
            served=float(len(served)),
            **{f"dropped_{k}": float(v) for k, v in dropped.items()},
        )
        logger.debug(
            "pyvrp: %d of %d orders served, %d iterations, %s",
            len(served),
            len(conv.prizes),
            found.iterations,
            status,
        )
        return EngineResult(
            engine=self.name,
            sequences=sequences,
            status=status,
            elapsed_s=time.perf_counter() - t0,
            relaxations=base + conv.relaxations,
            cost=_money(best, conv, sequences),
            stats=stats,
        )


def _money(solution: Solution, conv: _Conversion, sequences: Sequences) -> float:
    """PyVRP's routing cost of ``solution`` plus the prizes of the planned
    orders ``sequences`` leaves out, in ``_ortools.py`` objective units."""
    served = {oid for seq in sequences.values() for oid in seq}
    unserved = sum(p for oid, p in conv.prizes.items() if oid not in served)
    return (_routing_cost(solution) + unserved) * conv.cost_unit


def _routing_cost(solution: Solution) -> float:
    """PyVRP's distance, duration and fixed vehicle costs of ``solution``."""
    return float(
        solution.distance_cost()
        + solution.duration_cost()
        + solution.fixed_vehicle_cost()
    )


# --- relaxations ---------------------------------------------------------------


def _has_soft_slot(problem: Problem, order: Order) -> bool:
    return bool(order.windows) and problem.policy(order).is_soft


def _has_several_windows(problem: Problem, pair: Pair) -> bool:
    return any(len(problem.order(oid).windows) > 1 for oid in _pair_orders(pair))


def _pair_orders(pair: Pair) -> tuple[str, str]:
    """The pickup and delivery order ids of a pair."""
    return pair.pickup, pair.delivery


EXACT_PRIORITY_SPAN = 8
"""Required orders whose priorities span at most this many steps keep their
prizes exactly ``2**priority`` apart in PyVRP (the prize range between the
smallest prize that outweighs any insertion and the int64-safe cap is wider
than 2**8 on the example and generated days); the conversion reports the
relaxation anyway when a day's range turns out narrower. Prizes replace the
1e6 penalty of a required order: both serve an order whenever it fits and
drop the lower priorities first, so the search decides alike."""

PRIORITY_RELAXATION = (
    "priorities of required orders: prizes 2**priority apart only within "
    "PyVRP's int64-safe range (a prize replaces the 1e6 penalty)"
)


def _relaxations(problem: Problem) -> tuple[str, ...]:
    lines: list[str] = []
    with_breaks = sum(1 for v in problem.vehicles if v.breaks)
    if with_breaks:
        lines.append(
            f"breaks ({with_breaks} vehicles): left out; where their hours are "
            "priced, slots ending after a break's earliest start end earlier by "
            "its duration, so routes leave room for them (a tightening); the "
            "route's latest end and max duration are not shortened (OR-Tools "
            "repairs a route a break pushes past a limit)"
        )
    soft = sum(1 for o in problem.orders if _has_soft_slot(problem, o))
    if soft:
        lines.append(
            f"soft slots ({soft} orders): hard at the last window's end (a "
            "tightening; OR-Tools may add lateness)"
        )
    several = sum(1 for p in problem.pairs if _has_several_windows(problem, p))
    if several:
        lines.append(
            f"pairs with several windows ({several}): one window for each stop, "
            "the widest compatible combination (a tightening)"
        )
    ride = sum(1 for p in problem.pairs if p.max_ride_s is not None)
    if ride:
        lines.append(
            f"max ride time ({ride} pairs): pickup and delivery windows narrowed "
            "so that any service times inside them keep the ride short enough (a "
            "tightening); a pair still riding too long once breaks are placed is "
            "dropped (OR-Tools re-inserts it)"
        )
    if problem.pairs and any(v.max_stops is not None for v in problem.vehicles):
        lines.append("max stops: the stops of pickup-and-delivery pairs not counted")
    weights = problem.objective
    for name, label in (
        ("waiting_per_hour", "waiting"),
        ("early_per_hour", "early service"),
        ("balance_per_hour", "balance"),
    ):
        if getattr(weights, name):
            lines.append(f"objective term {label} ({name}): not priced")
    if _has_wide_priority_span(problem):
        lines.append(PRIORITY_RELAXATION)
    return tuple(lines)


def _has_wide_priority_span(problem: Problem) -> bool:
    """Required orders' priorities span more than `EXACT_PRIORITY_SPAN` steps."""
    levels = {problem.policy(o).priority for o in problem.orders if not o.is_optional}
    return bool(levels) and max(levels) - min(levels) > EXACT_PRIORITY_SPAN


# --- conversion ----------------------------------------------------------------


def _xy(place: Place) -> tuple[float, float]:
    return (place.x, place.y) if isinstance(place, Point) else (place.lon, place.lat)


def _prices(
    problem: Problem,
) -> tuple[list[int], list[int], list[int], float]:
    """Per vehicle: distance cost per meter, duration cost per second and fixed
    cost, in PyVRP units; and ``_ortools.py`` objective units per PyVRP unit."""
    weights = problem.objective
    per_m: list[float] = []
    per_s: list[int] = []
    fixed: list[float] = []
    for v in problem.vehicles:
        rate = v.cost_per_km * weights.distance
        if rate == 0 and v.cost_per_hour * weights.duration == 0:
            rate = 1000.0 / COST_SCALE  # nothing priced: one unit per meter
        per_m.append(rate * COST_SCALE / 1000.0)
        # Rounded per second as _ortools.py's span cost coefficient.
        per_s.append(round(v.cost_per_hour * weights.duration * COST_SCALE / 3600.0))
        fixed.append(v.fixed_cost * weights.fixed_cost * COST_SCALE)
    multiplier = _PRICE_MULTIPLIERS[-1]
    for m in _PRICE_MULTIPLIERS:
        if all(abs(p * m - round(p * m)) < 1e-6 for p in per_m):
            multiplier = m
            break
    dist = [round(p * multiplier) for p in per_m]
    dur = [p * multiplier for p in per_s]
    divisor = math.gcd(*dist, *dur) or 1
    return (
        [d // divisor for d in dist],
        [d // divisor for d in dur],
        [round(f * multiplier / divisor) for f in fixed],
        divisor / multiplier,
    )


def _time_limits(problem: Problem, v: Vehicle) -> tuple[int, int, int, int | None]:
    """Earliest start, latest start, latest end and max duration of a route:
    the vehicle's own, breaks or not (the slots leave room for them:
    `_break_room`).

    Until session 20 the latest end and the max duration were shortened by
    the total break duration as well: with a 30-min lunch a van of a 10-19
    shift had to be back at 18:30, when its 17-19 slots (less the lunch)
    ended too, so the day's last slots were all but closed to PyVRP. Breaks
    mostly fall in a route's idle time; where one does not, OR-Tools' repair
    of the routes in the full model drops what the break pushes out and its
    search re-inserts it. PyVRP alone (the benchmarks' peer, 15 s, two runs
    side by side), shortened -> not: held-out city-250-s94 distance 404.0 ->
    281.6 km (247 served, none late; VROOM 303.4), city-300-s92 406.4 ->
    366.6, city-500-s94 505.3 -> 479.9, city-200-s100 194 -> 198 served;
    ours at 2 cores: benchmarks/README, session 20."""
    depot = problem.depot(v.start_depot)
    lo = max(v.shift.start_s, depot.opening.start_s, problem.horizon.start_s)
    start_hi = min(v.shift.end_s, depot.opening.end_s, problem.horizon.end_s)
    end_hi = max(lo, latest_end(problem, v))
    return lo, max(lo, min(start_hi, end_hi)), end_hi, v.max_duration_s


def _break_room(problem: Problem) -> Callable[[TimeWindow], int]:
    """A window's latest service start, less the breaks that may fall before it.

    PyVRP has no breaks. A break of vehicle v may start at its window's start
    ``a``; every stop after it is then served up to its duration later. So a
    window ending after ``a`` ends that much earlier for PyVRP (the most any
    vehicle's breaks starting before the window's end take, never before the
    window's start): a PyVRP route then keeps its slots once the breaks are
    placed, where before they pushed later stops out of their slots (city-500,
    all slots hard: 39 of PyVRP's stops late once the breaks were placed).

    Only the breaks of vehicles whose hours are priced count: where route
    time costs nothing (a distance-only day) the search leaves routes their
    idle time, which the breaks fill, and the room only narrowed the day.
    Ours at 2 cores, distance only, with the room -> without (session 20):
    city-250-s94 @30 s 278.4 -> 274.4 km, city-500-s94 443.8 -> 389.2,
    city-500-s93 411.6 -> 412.5, city-150-s91 @10 s 293.3 -> 252.6,
    city-200-s100 388.3 -> 363.5, the delivery day 234.2 -> 229.0,
    city-300-s92 equal. Where hours are priced, routes are squeezed and the
    room pays on some days: as given, without it, city-300-s92 @10 s 1,607.1
    -> 1,730.4 and @20 s 1,506.5 -> 1,661.6, city-200-s100 +2-3 %, though
    11 other runs were 0.8-7.3 % cheaper (benchmarks/README, session 20).
    """
    spans = [
        [(b.window.start_s, b.duration_s) for b in v.breaks]
        for v in problem.vehicles
        if v.breaks and v.cost_per_hour * problem.objective.duration > 0
    ]
    if not spans:
        return lambda window: window.end_s

    def room(window: TimeWindow) -> int:
        taken = max(sum(d for a, d in bs if a < window.end_s) for bs in spans)
        return max(window.start_s, window.end_s - taken)

    return room


def _pair_windows(problem: Problem, pair: Pair) -> tuple[TimeWindow, TimeWindow]:
    """One window for the pair's pickup and one for its delivery (PyVRP's
    shipment steps take one each): of all combinations, narrowed for the ride
    limit (`_ride_windows`), the one whose narrower window is widest."""
    pickup, delivery = problem.order(pair.pickup), problem.order(pair.delivery)
    best: tuple[int, TimeWindow, TimeWindow] | None = None
    for wp in problem.policy(pickup).windows:
        for wd in problem.policy(delivery).windows:
            if wd.end_s < wp.start_s:
                continue  # the delivery would precede the pickup
            narrowed = _ride_windows(wp, wd, pickup.service_s, pair.max_ride_s)
            if narrowed is None:
                continue
            np_, nd = narrowed
            width = min(np_.end_s - np_.start_s, nd.end_s - nd.start_s)
            if best is None or width > best[0]:
                best = (width, np_, nd)
    if best is None:  # nothing keeps the limit: the post-check drops the pair
        return problem.policy(pickup).windows[0], problem.policy(delivery).windows[-1]
    return best[1], best[2]


def _ride_windows(
    wp: TimeWindow, wd: TimeWindow, service_s: int, max_ride_s: int | None
) -> tuple[TimeWindow, TimeWindow] | None:
    """Pickup window ``wp`` and delivery window ``wd`` narrowed so that *any*
    service starts inside them keep the ride within ``max_ride_s``; None if no
    start can.

    With ``L = max_ride_s + pickup service``, pickup window ``[x, b_p]`` and
    delivery window ``[a_d, min(b_d, x + L)]`` bound the ride (delivery start
    minus pickup departure) by ``max_ride_s``; ``x`` balances the two widths.
    """
    if max_ride_s is None:
        return wp, wd
    reach = max_ride_s + service_s
    lo = max(wp.start_s, wd.start_s - reach)
    hi = max(lo, min(wp.end_s, wd.end_s - reach))
    x = min(hi, max(lo, (wp.end_s + wd.start_s - reach) // 2))
    if x > wp.end_s or x + reach < wd.start_s:
        return None
    return TimeWindow(x, wp.end_s), TimeWindow(wd.start_s, min(wd.end_s, x + reach))


def _convert(
    problem: Problem,
    matrices: Mapping[str, TravelMatrix],
    allowed: Mapping[str, Sequence[int]],
    *,
    required: bool = False,
) -> _Conversion:
    """Build the PyVRP instance for the orders in ``allowed``: every order an
    optional client with a prize (module docstring), or with ``required``
    (for days whose orders are all required) required clients, groups and
    shipments at PyVRP's own penalty range. PyVRP searches the latter much
    faster (G&H R1_10_1 @60 s: 21,900 iterations and 55,324 against 13,600
    and 55,807 with prizes: the moves that add and remove optional clients)
    but returns an infeasible solution when not everything fits."""
    vehicles = problem.vehicles
    n_depots = len(problem.depots)
    horizon = problem.horizon
    relaxations: list[str] = []

    # Which orders are clients and which are shipments.
    pairs: list[Pair] = []
    single: list[Order] = []
    for oid in allowed:
        pair = problem.pair_of(oid)
        if pair is None:
            single.append(problem.order(oid))
        elif oid == pair.pickup and pair.delivery in allowed:
            pairs.append(pair)
    planned = [o.id for o in single] + [oid for p in pairs for oid in _pair_orders(p)]
    has_open_end = any(v.end_depot is None for v in vehicles)
    # Location k of PyVRP is matrix row rows[k]; the dummy end depot is last.
    rows = list(range(n_depots)) + [problem.order_index(oid) for oid in planned]
    location_of = {oid: n_depots + k for k, oid in enumerate(planned)}
    dummy = len(rows) if has_open_end else -1
    n_loc = len(rows) + int(has_open_end)
    row_index = np.array(rows, dtype=np.int64)

    def sub(matrix: NDArray[np.int64]) -> NDArray[np.int64]:
        out = np.zeros((n_loc, n_loc), dtype=np.int64)
        out[: len(rows), : len(rows)] = matrix[np.ix_(row_index, row_index)]
        np.fill_diagonal(out, 0)
        return out  # the dummy's row and column stay zero

    base = {
        p: (sub(matrices[p].distances_m), sub(matrices[p].durations_s))
        for p in problem.profiles
    }

    # Profiles: one per speed profile, or per (speed profile, forbidden orders).
    n_vehicles = len(vehicles)
    forbidden: list[frozenset[int]] = [frozenset()] * n_vehicles
    may = [set(allowed[oid]) for oid in planned]
    if not (required and _reach_only(problem, planned, may)):
        forbidden = [
            frozenset(n_depots + j for j, ks in enumerate(may) if k not in ks)
            for k in range(n_vehicles)
        ]
    keys = list(
        dict.fromkeys((v.profile, forbidden[k]) for k, v in enumerate(vehicles))
    )
    if len(keys) * n_loc * n_loc * 16 > MAX_PROFILE_BYTES:
        relaxations.append(
            f"vehicle restrictions: {len(keys)} patterns exceed the memory bound; "
            "not in the search, disallowed stops dropped from the routes"
        )
        keys = [(p, frozenset()) for p in problem.profiles]
        forbidden = [frozenset()] * n_vehicles
    profile_of = {key: i for i, key in enumerate(keys)}
    # Longer than the horizon: a route using it ends after its latest end.
    prohibitive_s = horizon.end_s + 1
    distance_mats: list[NDArray[np.int64]] = []
    duration_mats: list[NDArray[np.int64]] = []
    for speed, cols in keys:
        dist, dur = base[speed]
        if cols:
            dur = dur.copy()
            index = np.fromiter(sorted(cols), dtype=np.int64)
            dur[:, index] = prohibitive_s
            dur[index, index] = 0
        distance_mats.append(dist)
        duration_mats.append(dur)

    # Prices and the scale of one distance unit (for PyVRP's penalty range).
    per_m, per_s, fixed, cost_unit = _prices(problem)
    ratio = {
        p: float(d[1].sum()) / max(1.0, float(d[0].sum())) for p, d in base.items()
    }
    unit_scale = max(
        1.0,
        median(per_m[k] + per_s[k] * ratio[v.profile] for k, v in enumerate(vehicles)),
    )

    # Vehicle types: one per group of identical vehicles.
    with_stops = any(v.max_stops is not None for v in vehicles)
    n_clients_max = len(planned) + 1
    limits = [_time_limits(problem, v) for v in vehicles]
    type_of: dict[tuple[object, ...], tuple[dict[str, Any], list[int]]] = {}
    for k, v in enumerate(vehicles):
        capacity = list(v.capacity)
        if with_stops:
            capacity.append(v.max_stops if v.max_stops is not None else n_clients_max)
        lo, start_hi, end_hi, max_duration = limits[k]
        spec: dict[str, Any] = {
            "capacity": capacity,
            "start_depot": problem.depot_index(v.start_depot),
            "end_depot": (
                problem.depot_index(v.end_depot)
                if v.end_depot is not None
                else n_depots  # the open-end depot, listed last
            ),
            "fixed_cost": fixed[k],
            "tw_early": lo,
            "start_late": start_hi,
            "tw_late": end_hi,
            "unit_distance_cost": per_m[k],
            "unit_duration_cost": per_s[k],
            "profile": profile_of[(v.profile, forbidden[k])],
        }
        if max_duration is not None:
            spec["shift_duration"] = max_duration
        if v.max_distance_m is not None:
            spec["max_distance"] = v.max_distance_m
        key = tuple(
            (n, tuple(x) if isinstance(x, list) else x) for n, x in spec.items()
        )
        type_of.setdefault(key, (spec, []))[1].append(k)
    vehicle_types = [
        VehicleType(
            num_available=len(ks), name=",".join(vehicles[k].id for k in ks), **spec
        )
        for spec, ks in type_of.values()
    ]

    # Prizes: safe for int64 (see PENALTY_BUDGET), required ones above any
    # insertion cost.
    n_stops = len(single) + 2 * len(pairs)
    max_service = max((problem.order(oid).service_s for oid in planned), default=0)
    max_dur = max(int(m.max()) for m in duration_mats)
    max_dist = max(int(m.max()) for m in distance_mats)
    loads = [
        sum(
            problem.order(oid).delivery[q] + problem.order(oid).pickup[q]
            for oid in planned
        )
        for q in range(len(problem.quantities))
    ]
    worst_violation = max(
        (n_stops + n_vehicles) * (max_dur + max_service) + n_vehicles * horizon.end_s,
        (n_stops + n_vehicles) * max_dist,
        *loads,
        n_stops,
        1,
    )
    cap = max(1, PENALTY_BUDGET // worst_violation)
    insertion = max(
        fixed[k] + 2 * max_dist * per_m[k] + (limits[k][2] - limits[k][0]) * per_s[k]
        for k in range(n_vehicles)
    )
    floor = min(cap, REQUIRED_PRIZE_MARGIN * max(1, insertion))
    top = max(  # the highest priority of a required order
        (
            problem.policy(o).priority
            for o in map(problem.order, planned)
            if not o.is_optional
        ),
        default=0,
    )

    def prize(order: Order) -> int:
        true = problem.unplanned_penalty(order) * COST_SCALE / cost_unit
        if order.is_optional:
            return int(min(cap, round(true * problem.objective.unplanned)))
        scaled = cap >> (top - problem.policy(order).priority)
        return int(min(true, max(scaled, floor)))

    prizes = {oid: prize(problem.order(oid)) for oid in planned}
    per_level = [
        prizes[o.id] / 2.0 ** problem.policy(o).priority
        for o in map(problem.order, planned)
        if not o.is_optional
    ]
    if (
        per_level
        and max(per_level) > min(per_level) * (1 + 1e-6) + 1
        and not _has_wide_priority_span(problem)  # (else support() says so)
    ):
        relaxations.append(PRIORITY_RELAXATION)  # the span did not fit after all

    room = _break_room(problem)

    # Clients (a copy per window) and shipments.
    clients: list[Client] = []
    client_orders: list[str] = []
    groups: list[ClientGroup] = []
    for order in single:
        delivery, pickup = list(order.delivery), list(order.pickup)
        if with_stops:
            delivery.append(1)
            pickup.append(0)
        windows = problem.policy(order).windows
        group = len(groups) if len(windows) > 1 else None
        if group is not None:
            groups.append(
                ClientGroup(
                    list(range(len(clients), len(clients) + len(windows))),
                    required=required,
                    name=order.id,
                )
            )
        for window in windows:
            clients.append(
                Client(
                    location=location_of[order.id],
                    delivery=delivery,
                    pickup=pickup,
                    service_duration=order.service_s,
                    tw_early=window.start_s,
                    tw_late=room(window),
                    prize=0 if required else prizes[order.id],
                    required=required and group is None,
                    group=group,
                    name=order.id,
                )
            )
            client_orders.append(order.id)
    shipments: list[Shipment] = []
    for pair in pairs:
        p, d = problem.order(pair.pickup), problem.order(pair.delivery)
        wp, wd = _pair_windows(problem, pair)
        amount = list(p.pickup) + ([0] if with_stops else [])
        shipments.append(
            Shipment(
                location_of[p.id],
                location_of[d.id],
                pickup_tw_early=wp.start_s,
                pickup_tw_late=room(wp),
                pickup_service_duration=p.service_s,
                delivery_tw_early=wd.start_s,
                delivery_tw_late=room(wd),
                delivery_service_duration=d.service_s,
                amount=amount,
                prize=0 if required else min(cap, prizes[p.id] + prizes[d.id]),
                required=required,
                name=pair.id,
            )
        )

    places = problem.locations
    locations = [Location(*_xy(places[r])) for r in rows]
    if has_open_end:
        locations.append(Location(*_xy(places[0]), name="open end"))
    depots = [Depot(location=i, name=d.id) for i, d in enumerate(problem.depots)]
    if has_open_end:
        depots.append(Depot(location=dummy, name="open end"))
    data = ProblemData(
        locations,
        clients,
        depots,
        vehicle_types,
        # PyVRP's stub types the matrices as ``np.ndarray[int]``.
        cast(Any, distance_mats),
        cast(Any, duration_mats),
        groups=groups,
        shipments=shipments,
    )
    max_prize = max(
        [c.prize for c in clients] + [s.prize for s in shipments], default=0
    )
    low = PYVRP_MIN_PENALTY * unit_scale
    high = max(low, float(min(cap, max(PYVRP_MAX_PENALTY * unit_scale, max_prize))))
    if required:  # pyvrp.solve's range, in our units
        low, high = PYVRP_MIN_PENALTY * unit_scale, PYVRP_MAX_PENALTY * unit_scale
    # PyVRP starts at the middle of the range (``midpoint_penalties``). Measured
    # with prizes on R101 @2 s: starting at its default 5e4 instead, far below
    # the prizes, ran 2.5x fewer iterations and ended 1.0-1.4 % above the BKS
    # (vs 0.1-0.2 %).
    mid = (low + high) / 2
    initial: _Penalties = ([mid] * data.num_load_dimensions, mid, mid)
    at_day_scale = False
    if required and not any(cols for _, cols in keys) and not any(fixed):
        # The day's own scale; not with restriction profiles, which keep routes
        # off forbidden orders by time warp alone, nor with fixed vehicle
        # costs, which a violation may save (see _start_penalties).
        initial = _start_penalties(data, *base[problem.profiles[0]], low, high)
        at_day_scale = True
    return _Conversion(
        data=data,
        client_orders=tuple(client_orders),
        shipment_pairs=tuple(pairs),
        pools=tuple(tuple(ks) for _, ks in type_of.values()),
        penalties=(initial, min(low, high), high),
        cost_unit=cost_unit,
        prizes=prizes,
        relaxations=tuple(relaxations),
        at_day_scale=at_day_scale,
        stats={
            "orders": float(len(planned)),
            "clients": float(len(clients)),
            "shipments": float(len(shipments)),
            "profiles": float(len(keys)),
            "vehicle_types": float(len(vehicle_types)),
        },
    )


def _reach_only(
    problem: Problem, planned: Sequence[str], may: Sequence[set[int]]
) -> bool:
    """Whether every vehicle an order may not use (``may``: the positions of
    those it may) is kept off it only by reach: its kind, skills and capacity
    would do (`precheck.may_carry`), but not its shift, route limits or the
    order's slots. PyVRP's own windows and limits keep such vehicles off, so no
    restriction profile is needed (a plain multi-depot instance, PR14A: one
    depot's vehicles cannot reach one far order within their max duration; with
    a second profile the search lost the day's own penalty scale). Only for
    required clients: with prizes (an overbooked day) the profiles stay, as the
    search there went both ways without them (the overbooked example day @10 s,
    distance only, seeds 1-5: 2 runs shorter, 3 longer, one serving an order
    fewer; as given 3 of 3 cheaper)."""
    vehicles = problem.vehicles
    # One vehicle per (kind, skills, capacity), all `may_carry` looks at: any
    # vehicle of a key answers for the others.
    alike = [(v.kind, v.skills, v.capacity) for v in vehicles]
    one_of = dict(zip(alike, vehicles, strict=True))
    return all(
        may_carry(problem.order(oid), one_of[key])
        for oid, ks in zip(planned, may, strict=True)
        if len(ks) < len(vehicles)
        for key in {alike[k] for k in range(len(vehicles)) if k not in ks}
    )


# --- search --------------------------------------------------------------------


def _restart_patience_s(conv: _Conversion, time_limit_s: float) -> float:
    """Seconds without a better solution after which a run of ``conv`` has
    stalled (with `NO_IMPROVEMENT_MIN_ITERATIONS`): ``stops**2`` times
    `NO_IMPROVEMENT_S_PER_STOP_SQUARED`, and at most `NO_IMPROVEMENT_SHARE`
    of the time limit for runs whose penalties start at the day's scale (a run
    from the midpoint keeps the whole stall: see `NO_IMPROVEMENT_SHARE`)."""
    stall = NO_IMPROVEMENT_S_PER_STOP_SQUARED * conv.stats["orders"] ** 2
    if conv.at_day_scale:
        return min(NO_IMPROVEMENT_SHARE * time_limit_s, stall)
    return stall


class _Deadline:
    """Stopping criterion: stop when the next iteration would likely end after
    ``deadline`` (a ``time.perf_counter()`` value).

    ``pyvrp.stop.MaxRuntime`` starts its clock at its first call, after PyVRP's
    initial local search, and lets the last iteration run past the limit; this
    one counts from the caller's start and keeps the longest iteration seen in
    hand.
    """

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.is_reached = False
        self._last: float | None = None
        self._longest_s = 0.0

    def restart(self) -> None:
        """A new run starts: the gap since the last call is not an iteration."""
        self._last = None

    def __call__(self, best_cost: float) -> bool:
        now = time.perf_counter()
        if self._last is not None:
            self._longest_s = max(self._longest_s, now - self._last)
        self._last = now
        self.is_reached = now + self._longest_s > self.deadline
        return self.is_reached


class _Converged:
    """Stopping criterion of one run: no better solution for ``iterations``
    iterations *and* ``seconds`` seconds in a row (iterations alone stopped
    200-customer instances after ~10 s of a 60-s budget, 0.46 % above
    best-known where the full minute reaches 0.00 %; seconds alone would keep
    small days waiting), or the run has reached ``target`` (the best cost of
    earlier runs: a restart that finds it again confirms it). A stalled run
    goes on when less time is left before ``deadline`` than it took to find its
    best: a fresh run could not catch up (1 core, seed 1: RC1_10_1, 1000
    customers, @300 s, restarted after 60 s idle, ended at 46,607.7, the cost
    its first run had at 118 s; that run going on reached 46,543.8)."""

    def __init__(
        self,
        iterations: int,
        seconds: float,
        target: float | None = None,
        infeasible_iterations: int | None = None,
        deadline: float | None = None,
    ) -> None:
        self._iterations, self._seconds = iterations, seconds
        self._infeasible = (
            iterations if infeasible_iterations is None else infeasible_iterations
        )
        self._target = target
        self._deadline = deadline
        self._best = float("inf")
        self._since = 0
        self._t_start = self._t_best = time.perf_counter()

    def is_confirmed(self, cost: float) -> bool:
        """Whether ``cost`` is the target (an earlier run's best)."""
        return self._target is not None and _same_cost(cost, self._target)

    def restart(self) -> None:
        """Count idle iterations and seconds from now (a new leg of the run)."""
        self._since, self._t_best = 0, time.perf_counter()

    def __call__(self, best_cost: float) -> bool:
        now = time.perf_counter()
        if best_cost < self._best:
            self._best, self._since, self._t_best = best_cost, 0, now
            return self._target is not None and _same_cost(best_cost, self._target)
        self._since += 1
        if self._best >= _NO_FEASIBLE_COST and self._since >= self._infeasible:
            return True  # nothing feasible yet: another seed, or the fallback
        if self._since < self._iterations or now - self._t_best < self._seconds:
            return False
        # Stalled. A fresh run needs about as long as this one took to find its
        # best; with less time left, this run goes on.
        return self._deadline is None or (
            self._deadline - now >= self._t_best - self._t_start
        )


_NO_FEASIBLE_COST = 0.99 * float(np.iinfo(np.int64).max)
"""PyVRP's cost of an infeasible best solution is the largest int64."""


def _same_cost(a: float, b: float) -> bool:
    if math.isinf(a) or math.isinf(b):
        return False  # infeasible solutions confirm nothing
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


class _Progress:
    """Stopping criterion that never stops: reports each new best feasible cost
    (over all runs) to ``on_best``, converted by ``cost_unit``."""

    def __init__(
        self, on_best: Callable[[float], None] | None, cost_unit: float
    ) -> None:
        self._on_best = on_best
        self._best = _NO_FEASIBLE_COST
        self._cost_unit = cost_unit

    def __call__(self, best_cost: float) -> bool:
        if self._on_best is not None and best_cost < self._best:
            self._best = best_cost
            self._on_best(best_cost * self._cost_unit)
        return False


class _Requested:
    """Stopping criterion: the caller asked to stop (a cancel)."""

    def __init__(self, should_stop: Callable[[], bool]) -> None:
        self._should_stop = should_stop

    def __call__(self, best_cost: float) -> bool:
        return self._should_stop()


class _Snapshot(IteratedLocalSearchCallbacks):
    """Stopping criterion that never stops, and a callback of PyVRP's search:
    once ``due()`` is true (asked at every iteration) it hands the best
    feasible solution of all runs so far, with the conversion it belongs to,
    to ``take``, once, and the search goes on. It only watches: the search's
    path is the same with or without it (`PyVRPEngine`'s ``snapshot``)."""

    def __init__(
        self, due: Callable[[], bool], take: Callable[[Solution, _Conversion], None]
    ) -> None:
        self._due, self._take = due, take
        self.conv: _Conversion | None = None  # (set by `_search` at each run)
        self._best: tuple[Solution, _Conversion] | None = None
        self._best_cost = math.inf
        self.is_taken = False

    def on_best(self, best: Solution) -> None:
        if self.conv is None or not best.is_feasible():
            return
        cost = _routing_cost(best) + best.uncollected_prizes()
        if cost < self._best_cost:
            self._best, self._best_cost = (best, self.conv), cost

    def __call__(self, best_cost: float) -> bool:
        if not self.is_taken and self._due():
            self.is_taken = True
            if self._best is not None:
                self._take(*self._best)
        return False


HAND_OVER_SHARE = 0.05
"""On a day PyVRP relaxes (breaks, soft slots, pairs' ride limits...), a search
that has found nothing better for this share of its time limit, within its
last `HAND_OVER_WINDOW` of it, ends there: the full OR-Tools model gets the
rest (`_HandOver`)."""

HAND_OVER_WINDOW = 4
"""See `HAND_OVER_SHARE`: the window is this many times the idle span (the
last 20 % of the engine's time)."""


class _HandOver:
    """Stopping criterion: within the last ``HAND_OVER_WINDOW * idle_s``
    seconds before ``deadline``, stop once no better solution came for
    ``idle_s`` seconds. PyVRP's search on a relaxation then leaves its time to
    the full model, whose search from its routes gains more than PyVRP's last
    seconds: distance-only 500-order days @30 s, 1 core, PyVRP's best at 25.2
    and 27.2 s 497.1/496.6, 448.7/448.7, 480.5/480.5, 449.7/449.3 km, while
    OR-Tools' final phase given 4 s instead of 2 s ended 4.7, 2.0, 2.8 and
    9.9 km lower (session 13)."""

    def __init__(self, deadline: float, idle_s: float) -> None:
        self._from = deadline - HAND_OVER_WINDOW * idle_s
        self._idle_s = idle_s
        self._best = math.inf
        self._t_best = time.perf_counter()
        self._held = False
        self.is_reached = False

    def hold(self) -> None:
        """No hand-over until `release` (a route elimination attempt, whose
        success comes after idle iterations and is worth more than them)."""
        self._held = True

    def release(self) -> None:
        """Count idle time again, from now."""
        self._held, self._t_best = False, time.perf_counter()

    def __call__(self, best_cost: float) -> bool:
        now = time.perf_counter()
        if best_cost < self._best:
            self._best, self._t_best = best_cost, now
        elif (
            not self._held and now >= self._from and now - self._t_best >= self._idle_s
        ):
            self.is_reached = True
        return self.is_reached


ELIMINATE_AFTER_SHARE = 0.4
"""Route elimination: once a run has searched about this share of its time,
counted in iterations (`_Due`), or has stalled earlier, it tries to do without
one of its routes (`_Run`)."""

ELIMINATE_SPAN_SHARE = 0.25
"""On success, the search that follows an elimination attempt in the smaller
fleet, before it is compared with the run's best, gets at most this many
iterations per iteration the run searched before elimination was due (until
session 12: 10 % of the run's time, a quarter of the 40 % before the first
attempt)."""

ELIMINATE_ATTEMPT_SHARE = 0.1
"""An elimination attempt looks for a feasible solution for at most this share
of its run's time (`_Run._attempt`). Seconds here, as iterations without a
feasible solution are slow and their pace varies (generated 500-order days:
30-53 of them took 2.5-6 s); capped in iterations instead (the whole span, or
a quarter of it), the engine ran fewer iterations (500-order days: 540-1,030
against 1,020-1,500) and the 250/500-order days' plans cost up to 2 % more on
average (full solves @30 s, seeds 1-3, session 12; within the runs' spread)."""

DUE_PACE = 80_000.0
"""Reference pace of PyVRP's iterations (`_Due`): ``DUE_PACE / stops ** 1.25``
per second. Measured on this 2-core machine, generated city days, hard slots,
25.5 s, two runs side by side: 250 orders 1,500-3,600 iterations, 500 orders
540-1,650 (the pace varies twofold with the load); the geometric means are
about 90,000 / stops ** 1.25 per second, and elimination is due at 40 % of
the time at 0.9 times that pace (the bounds below: 1.7 to 2.4 times slower or
faster before they apply)."""

DUE_PROBE_ITERATIONS = 50
"""`_Due` times this many iterations to check the reference pace."""

DUE_GRID = 50
"""`_Due` rounds its count down to a multiple of this."""

DUE_MIN_SHARE = 0.15
DUE_MAX_SHARE = 0.7
"""Bounds on the share of a run's time before elimination is due, at the
run's own pace (`_Due`)."""

ELIMINATE_PATIENCE = 200
"""An elimination attempt fails after this many iterations without a feasible
solution, and its search in the smaller fleet ends after as many without a
better one (small days: a fraction of a second). On generated 250/500-order
days (hard slots, 25 s) the attempts that succeeded did so within 1-74
iterations; failed ones ran 30-53 iterations in their 2.5-6 s (infeasible
iterations are slow there)."""

ELIMINATE_MAX_FAILURES = 2
"""A run stops trying to eliminate routes after this many failed attempts."""


class _Due:
    """Stopping criterion: route elimination is due (`_Run`), at an iteration
    count that does not depend on the machine's pace, so that two runs of one
    seed on one instance take the same path whatever the load (a point in time
    did not: a soft-slot day and its all-hard version, same PyVRP input and
    seed, parted at the first attempt and ended 5.5 % apart; a count from the
    run's own pace parted runs whose pace differed by 30 %, as two solves on
    a loaded 2-core machine do).

    The count is the iterations that fit in `ELIMINATE_AFTER_SHARE` of the
    run's ``run_s`` seconds at a reference pace of `DUE_PACE` / ``stops **
    1.25`` iterations per second (this machine's pace on generated city days);
    once `DUE_PROBE_ITERATIONS` iterations have timed the run, a count that
    would fall outside [`DUE_MIN_SHARE`, `DUE_MAX_SHARE`] x ``run_s`` at the
    run's pace (a much faster or slower machine) is moved to that bound. It is
    due once the run also has a feasible solution."""

    def __init__(self, run_s: float, stops: int) -> None:
        self._run_s = run_s
        # (on a grid: runs whose time limits differ by milliseconds agree)
        fit = ELIMINATE_AFTER_SHARE * run_s * DUE_PACE / max(1, stops) ** 1.25
        self._count = DUE_GRID * math.floor(fit / DUE_GRID)
        self._t_first: float | None = None
        self.iterations = 0
        self.due: int | None = None
        self.is_reached = False

    def __call__(self, best_cost: float) -> bool:
        self.iterations += 1
        now = time.perf_counter()
        if self._t_first is None:
            self._t_first = now
        if self.due is None and self.iterations > DUE_PROBE_ITERATIONS:
            pace_s = max(1e-9, (now - self._t_first) / max(1, DUE_PROBE_ITERATIONS))
            low = DUE_MIN_SHARE * self._run_s / pace_s
            high = DUE_MAX_SHARE * self._run_s / pace_s
            self.due = round(min(max(self._count, low), high))
        self.is_reached = (
            self.due is not None
            and self.iterations >= self.due
            and best_cost < _NO_FEASIBLE_COST
        )
        return self.is_reached


class _At:
    """Stopping criterion: a point in time (``time.perf_counter()``)."""

    def __init__(self, at: float) -> None:
        self.at = at

    def __call__(self, best_cost: float) -> bool:
        return time.perf_counter() >= self.at


class _Feasible:
    """Stopping criterion of an elimination attempt: a feasible solution, or
    ``patience`` iterations without one."""

    def __init__(self, patience: int) -> None:
        self._patience = patience
        self._since = 0

    def __call__(self, best_cost: float) -> bool:
        if best_cost < _NO_FEASIBLE_COST:
            return True
        self._since += 1
        return self._since > self._patience


def _cost(solution: Solution, evaluator: CostEvaluator) -> float:
    """Routing cost plus the prizes of the clients left out (the same under any
    penalties for a feasible solution); inf if infeasible (PyVRP's own
    ``cost()`` is then the largest int64)."""
    return float(evaluator.cost(solution)) if solution.is_feasible() else math.inf


def _without_vehicle(data: ProblemData, vehicle_type: int) -> ProblemData:
    """``data`` with one vehicle of ``vehicle_type`` fewer: its ``num_available``
    less one, or, for the last one, a fixed cost (`PENALTY_BUDGET`) no route can
    repay (PyVRP needs ``num_available > 0``; the type indices stay valid)."""
    types = list(data.vehicle_types())
    vt = types[vehicle_type]
    if vt.num_available > 1:
        types[vehicle_type] = vt.replace(num_available=vt.num_available - 1)
    else:
        types[vehicle_type] = vt.replace(fixed_cost=PENALTY_BUDGET)
    return data.replace(vehicle_types=types)


def _route_to_drop(
    data: ProblemData, solution: Solution, tried: set[int]
) -> int | None:
    """Index in ``solution.routes()`` of the route that costs most per stop
    (fixed, distance and duration cost), of a vehicle type with a fixed cost not
    in ``tried``; None when there is no such route or only one route."""
    routes = solution.routes()
    if len(routes) < 2:
        return None
    costs = {
        k: (
            data.vehicle_type(r.vehicle_type()).fixed_cost
            + r.distance_cost()
            + r.duration_cost()
        )
        / max(1, sum(not a.is_depot() for a in r))
        for k, r in enumerate(routes)
        if data.vehicle_type(r.vehicle_type()).fixed_cost > 0
        and r.vehicle_type() not in tried
    }
    return max(costs, key=lambda k: costs[k]) if costs else None


def _local_search(
    data: ProblemData,
    rng: RandomNumberGenerator,
    neighbours: dict[Activity, list[Activity]],
) -> LocalSearch:
    """PyVRP's local search with every operator that supports ``data``, as in
    ``pyvrp.solve``."""
    ls = LocalSearch(data, rng, neighbours, PerturbationManager(PerturbationParams()))
    for op in OPERATORS:
        if op.supports(data):
            ls.add_operator(op(data))
    return ls


def _penalty_manager(conv: _Conversion) -> PenaltyManager:
    """PyVRP's penalty manager at the conversion's initial penalties and range."""
    initial, low, high = conv.penalties
    return PenaltyManager(initial, PenaltyParams(min_penalty=low, max_penalty=high))


class _Run:
    """One run of PyVRP's iterated local search, with route elimination.

    PyVRP's moves rarely empty a route, so a run keeps about the fleet its
    random start used; yet a vehicle's fixed cost and hours are often worth
    more than the detours of serving its orders with the others (generated
    500-order day: PyVRP's one 15-vehicle plan was 4.7 % cheaper than its
    16-vehicle ones). So, when vehicles have a fixed cost, a run that has
    searched about `ELIMINATE_AFTER_SHARE` of its time (`_Due`; or stalled
    before) drops the route that costs most per stop and searches the day
    without that vehicle, from the other routes (PyVRP re-inserts the required
    orders, penalising what does not fit), until it finds a feasible solution;
    it then searches on in the smaller fleet for a while (`ELIMINATE_SPAN_SHARE`).
    If that beats the run's best, the fleet stays smaller and the next route is
    tried; otherwise the run goes back to its best and tries another route, up
    to `ELIMINATE_MAX_FAILURES` failures. The steps count iterations (but the
    search for a feasible solution, `ELIMINATE_ATTEMPT_SHARE`), and each
    attempt draws from its own generator: two runs of one seed take the same
    path whatever the machine's load (`_Due`).

    Measured with ``PyVRPEngine.solve`` alone, every slot hard, mean cost in
    millions of PyVRP units; the run restarted from its best at the same point
    without -> with elimination, generated days at 25.5 s, seeds 1-3:
    city-500-s1 288.5 -> 275.7, city-500-s2 (seeds 1-2; seed 3 found nothing
    feasible either way) 275.5 -> 254.3, city-250-s2 151.4 -> 142.9,
    city-250-s1 151.5 -> 152.2; the delivery day at 17 s, seeds 1-8: 85.62 ->
    85.18 (one run to the limit, as before: 86.65).
    """

    def __init__(
        self,
        conv: _Conversion,
        pm: PenaltyManager,
        ls: LocalSearch,
        neighbours: dict[Activity, list[Activity]],
        *,
        seed: int,
        criteria: list[StoppingCriterion],
        deadline: float,
        should_stop: Callable[[], bool] | None,
        eliminate: bool,
        callbacks: IteratedLocalSearchCallbacks | None = None,
    ) -> None:
        self._conv = conv
        self._callbacks = callbacks or IteratedLocalSearchCallbacks()
        self._eliminate = eliminate
        self._pm, self._ls = pm, ls
        self._neighbours = neighbours
        self._seed = seed  # (the run's own generator is in ``ls``)
        self._criteria = criteria  # end every leg: progress, deadline, requests
        self._deadline = deadline
        self._should_stop = should_stop
        self._evaluator = pm.max_cost_evaluator()
        self.iterations = 0
        self.eliminated = 0
        self.attempts = 0

    def search(self, init: Solution, stalled: _Converged) -> Solution:
        """The run's best solution (feasible if it found one). ``stalled`` ends
        the run's legs in the whole (or smaller) fleet."""
        data, pm, ls = self._conv.data, self._pm, self._ls
        if not self._eliminate:
            return self._leg(data, pm, ls, init, stalled)
        run_s = max(0.0, self._deadline - time.perf_counter())
        attempt_s = ELIMINATE_ATTEMPT_SHARE * run_s
        # Not while nothing is feasible: PyVRP's best is then still its initial
        # solution, and a leg restarted from it would lose the run's progress
        # (city-500-s2, seed 3: 498 of 500 served where PyVRP alone got 500).
        due = _Due(run_s, int(self._conv.stats["orders"]))
        best = self._leg(data, pm, ls, init, stalled, due)
        span = max(ELIMINATE_PATIENCE, round(ELIMINATE_SPAN_SHARE * due.iterations))
        # (a run that found an earlier run's best again would repeat its tries)
        confirmed = stalled.is_confirmed(_cost(best, self._evaluator))
        failures = ELIMINATE_MAX_FAILURES if confirmed else 0
        tried: set[int] = set()
        while failures < ELIMINATE_MAX_FAILURES and not self._is_over():
            k = _route_to_drop(data, best, tried) if best.is_feasible() else None
            if k is None:
                break
            vt = best.routes()[k].vehicle_type()
            tried.add(vt)
            smaller = _without_vehicle(data, vt)
            self.attempts += 1
            found = self._attempt(smaller, best, k, span, attempt_s)
            if found is not None and _cost(found[0], self._evaluator) < _cost(
                best, self._evaluator
            ):
                (best, pm, ls), data = found, smaller
                self.eliminated += 1
                tried.clear()
            else:
                failures += 1
        if not self._is_over() and (due.is_reached or data is not self._conv.data):
            # Search on (in the smaller fleet, if any) until the run stalls.
            stalled.restart()
            again = self._leg(data, pm, ls, best, stalled)
            if _cost(again, self._evaluator) <= _cost(best, self._evaluator):
                best = again
        return best

    def _leg(
        self,
        data: ProblemData,
        pm: PenaltyManager,
        ls: LocalSearch,
        start: Solution,
        *extra: StoppingCriterion,
    ) -> Solution:
        """PyVRP's iterated local search from ``start`` until a criterion holds."""
        for criterion in self._criteria:
            if isinstance(criterion, _Deadline):
                criterion.restart()
        params = IteratedLocalSearchParams(callbacks=self._callbacks)
        algo = IteratedLocalSearch(data, pm, ls, start, params)
        result = algo.run(
            MultipleCriteria([*self._criteria, *extra]), collect_stats=False
        )
        self.iterations += result.num_iterations
        return result.best

    def _is_over(self) -> bool:
        return time.perf_counter() >= self._deadline or (
            self._should_stop is not None and self._should_stop()
        )

    def _attempt(
        self,
        smaller: ProblemData,
        best: Solution,
        dropped: int,
        span: int,
        attempt_s: float,
    ) -> tuple[Solution, PenaltyManager, LocalSearch] | None:
        """A feasible solution in ``smaller`` from ``best`` without its route
        ``dropped``, searched on for ``span`` iterations (or until
        `ELIMINATE_PATIENCE` iterations find nothing better), with the penalties
        and local search that found it; None when none was found in
        `ELIMINATE_PATIENCE` iterations or ``attempt_s`` seconds. The search on
        is counted in iterations, not seconds (until session 12: 10 % of the
        run's time), so that two runs of one seed agree whatever their pace
        (`_Due`); the search for a feasible solution ends in seconds (a success
        after them in one run and before in another parts the two: rare,
        successes took 1-74 iterations).

        The attempt draws from a generator of its own (seeded by the run's seed
        and the attempt's number): a failed one, however far it got, leaves the
        run's random path as it was, so that two runs of one seed agree after
        it (`_Due`)."""
        start = Solution(
            smaller,
            [
                Route(
                    smaller,
                    [Activity(a.type, a.idx) for a in r if not a.is_depot()],
                    r.vehicle_type(),
                )
                for k, r in enumerate(best.routes())
                if k != dropped
            ],
        )
        pm = _penalty_manager(self._conv)
        rng = RandomNumberGenerator(
            seed=(self._seed + ATTEMPT_SEED_STEP * self.attempts) % 2**32
        )
        ls = _local_search(smaller, rng, self._neighbours)
        handing = [c for c in self._criteria if isinstance(c, _HandOver)]
        for criterion in handing:
            criterion.hold()
        try:
            return self._attempt_from(smaller, start, pm, ls, span, attempt_s)
        finally:
            for criterion in handing:
                criterion.release()

    def _attempt_from(
        self,
        smaller: ProblemData,
        start: Solution,
        pm: PenaltyManager,
        ls: LocalSearch,
        span: int,
        attempt_s: float,
    ) -> tuple[Solution, PenaltyManager, LocalSearch] | None:
        """`_attempt`'s two legs: a feasible solution from ``start``, then the
        search on from it."""
        found = self._leg(
            smaller,
            pm,
            ls,
            start,
            _Feasible(ELIMINATE_PATIENCE),
            _At(time.perf_counter() + attempt_s),
        )
        if not found.is_feasible():
            return None
        if not self._is_over():
            found = self._leg(
                smaller,
                pm,
                ls,
                found,
                MaxIterations(span),
                _Converged(ELIMINATE_PATIENCE, 0.0),
            )
        return found, pm, ls


ATTEMPT_SEED_STEP = 104_729
"""An elimination attempt's seed is its run's seed plus this many times the
attempt's number (`_Run._attempt`)."""

RESTART_SEED_STEP = 7919
"""A restart's seed is the engine's seed plus this many times the restart count
(distinct from the seeds of engines running side by side, 0..cores-1)."""

INFEASIBLE_PATIENCE = 400
"""A run with required clients (but the last of `REQUIRED_TRIES`) ends when it
has found no feasible solution in this many iterations, and a run with another
seed follows. Generated city days of 250 and 500 orders (required clients, all
of them fitting): 10 of 13 runs found their first feasible solution within 400
iterations (24-396), the others at 802, 1,376 or not in 20 s."""

REQUIRED_TRIES = 3
"""Runs with required clients that may end with nothing feasible before the
optional-client conversion (``fallback``) takes over (required orders that do
not all fit: no run with required clients finds a feasible solution). The last
of them has the full idle patience: on tight days the optional-client search
served fewer orders in the time left than a long required-client run, repaired
(city-250-s1 hard @30 s, PyVRP alone: 238 of 248 against 248). Measured, PyVRP
alone, three generated days with every slot hard, seeds 0-1, 20 s: with two
quick runs first, better on 2 of 6 runs (city-250-s1: 155.0M vs 171.1M
objective units; city-500-s2: feasible, 296.8M, against infeasible and 498 of
500 served once repaired), the same on 4."""

CONFIRMING_RUNS = 3
"""The search has converged once this many independent runs (different seeds,
fresh random starts) reached the same best cost."""


@dataclass(frozen=True, slots=True)
class _Searched:
    """What `_search` found."""

    best: Solution
    conv: _Conversion
    iterations: int
    runs: int
    status: str
    eliminations_tried: int
    routes_eliminated: int
    patience_s: float
    """The restart patience of the last conversion searched (`_restart_patience_s`)."""


def _search(
    conv: _Conversion,
    deadline: float,
    seed: int,
    patience: int,
    patience_s: float,
    *,
    should_stop: Callable[[], bool] | None = None,
    max_runs: int | None = None,
    fallback: Callable[[], _Conversion] | None = None,
    on_best: Callable[[float], None] | None = None,
    eliminate_routes: bool = True,
    hand_over: float | None = None,
    snapshot: _Snapshot | None = None,
    start: Solution | None = None,
) -> _Searched:
    """PyVRP's ``solve()`` on ``conv``, restarted when it stalls.

    One run is PyVRP's iterated local search from a random start, as in
    ``pyvrp.solve``, until it finds nothing better for ``patience``
    iterations and ``patience_s`` seconds. PyVRP's runs stall on different
    local optima (R208 @28 s, three seeds: 711.9, 705.8, 702.4; none improved
    after its second second), so a stalled run is followed by a fresh one with
    another seed; the best solution of all runs is kept. The search ends at the
    deadline, on request, once `CONFIRMING_RUNS` runs reached the same best
    cost (small days: the optimum, found again in a few iterations), or after
    ``max_runs`` runs.

    ``fallback`` gives the conversion to use from the next run on once
    `REQUIRED_TRIES` runs ended with no feasible solution (``conv`` with
    required orders that may not all fit: then the optional-client conversion,
    which always has one). All but the last of those runs end after
    `INFEASIBLE_PATIENCE` iterations without a feasible solution.

    Returns the best solution (feasible if any run found one), the conversion
    it belongs to, the number of iterations of all runs, the number of runs,
    why the search stopped (``"time_limit"`` or ``"no_improvement"``, the
    latter when the runs confirmed their best) and the route eliminations
    tried and kept (`_Run`).

    ``on_best`` is called with each new best feasible cost of all runs, in
    ``_ortools.py`` objective units (`_Progress`).

    ``hand_over``: seconds without a better solution after which the search
    ends within its last stretch (`_HandOver`); None: to the deadline. The
    status is then ``"handed_over"``.

    ``snapshot``: watches the runs and hands their best feasible solution so
    far on once, when due (`_Snapshot`; each run's start is shown to it too,
    so a feasible start no iteration improved is not missed).

    ``eliminate_routes``: runs in the required-client conversion (``conv``
    while ``fallback`` is set) of a day whose vehicles have a fixed cost try to
    do without routes (`_Run`); other runs are PyVRP's search alone.
    """
    until = _Deadline(deadline)
    requested: list[StoppingCriterion] = []
    stop = should_stop  # a cancel, or (below) a hand-over
    if hand_over:
        handing = _HandOver(deadline, hand_over)
        requested.append(handing)
        stop = lambda: handing.is_reached or bool(should_stop and should_stop())  # noqa: E731
    if stop is not None:
        requested.append(_Requested(stop))
    if snapshot is not None:
        requested.append(snapshot)
    # (both conversions price alike: one cost unit for all runs)
    progress = _Progress(on_best, conv.cost_unit)
    best: tuple[Solution, _Conversion] | None = None
    best_cost = math.inf
    confirmations = iterations = runs = failures = attempts = eliminated = 0
    status = "time_limit"
    init_s = 0.0
    neighbours = compute_neighbours(conv.data, NeighbourhoodParams())
    while runs == 0 or time.perf_counter() + 2 * init_s < deadline:
        # (a restart needs time for its initial local search, at least)
        t_init = time.perf_counter()
        data = conv.data
        rng = RandomNumberGenerator(seed=(seed + RESTART_SEED_STEP * runs) % 2**32)
        runs += 1
        ls = _local_search(data, rng, neighbours)
        pm = _penalty_manager(conv)
        if snapshot is not None:
            snapshot.conv = conv
        quick = fallback is not None and failures < REQUIRED_TRIES - 1
        stalled = _Converged(
            patience,
            patience_s,
            best_cost if best else None,
            infeasible_iterations=min(patience, INFEASIBLE_PATIENCE) if quick else None,
            deadline=deadline,
        )
        with warnings.catch_warnings():
            # Raised when the penalties reach their maximum: expected when not
            # all orders fit (then leaving orders out is what we want).
            warnings.simplefilter("ignore", PenaltyBoundWarning)
            # The initial solution as in pyvrp.solve(): local search at the
            # largest penalties (with optional orders: feasible, see the module
            # docstring).
            init = ls(
                start
                if start is not None and runs == 1
                else Solution.make_random(data, rng),
                pm.max_cost_evaluator(),
                exhaustive=True,
            )
            init_s = max(init_s, time.perf_counter() - t_init)
            if snapshot is not None:  # (PyVRP reports only the bests after it)
                snapshot.on_best(init)
            until.restart()
            run = _Run(
                conv,
                pm,
                ls,
                neighbours,
                seed=seed + RESTART_SEED_STEP * runs,
                criteria=[progress, until, *requested],
                deadline=deadline,
                should_stop=stop,
                # (with optional clients the fleet is full: the day is overbooked)
                eliminate=eliminate_routes
                and fallback is not None
                and any(vt.fixed_cost > 0 for vt in data.vehicle_types()),
                callbacks=snapshot,
            )
            run_best = run.search(init, stalled)
        iterations += run.iterations
        attempts += run.attempts
        eliminated += run.eliminated
        # Comparable across conversions: routing cost plus the prizes of the
        # orders left out.
        cost = _cost(run_best, pm.max_cost_evaluator())
        if best is None or (cost < best_cost and not _same_cost(cost, best_cost)):
            best, best_cost, confirmations = (run_best, conv), cost, 1
        elif math.isfinite(cost) and _same_cost(cost, best_cost):
            confirmations += 1
        if until.is_reached or (stop is not None and stop()):
            break
        failures += not math.isfinite(cost)
        if failures >= REQUIRED_TRIES and fallback is not None:
            conv, fallback = fallback(), None
            # (from the midpoint: the whole stall, whatever the first's cap)
            patience_s = max(patience_s, _restart_patience_s(conv, math.inf))
            neighbours = compute_neighbours(conv.data, NeighbourhoodParams())
            confirmations = 0
        elif confirmations >= CONFIRMING_RUNS:
            status = "no_improvement"
            break
        if max_runs is not None and runs >= max_runs:
            break
    assert best is not None
    if hand_over and handing.is_reached:
        status = "handed_over"
    return _Searched(
        best[0], best[1], iterations, runs, status, attempts, eliminated, patience_s
    )


def _solution_of(
    problem: Problem,
    matrices: Mapping[str, TravelMatrix],
    conv: _Conversion,
    sequences: Sequences,
) -> Solution | None:
    """Routes (vehicle id -> order ids, another engine's) as a PyVRP solution of
    ``conv``, to start its search from (`PyVRPEngine`'s ``start``): each vehicle
    on a route of its type, each order as the client of the slot our timing
    (`build_route`) serves it in, a pair as its shipment; orders ``conv`` does
    not plan, an order's repeats and routes PyVRP refuses (a pair's stops on
    two routes) are left out. None when no route remains (the search then
    starts as usual)."""
    type_of = {k: vt for vt, pool in enumerate(conv.pools) for k in pool}
    position = {v.id: k for k, v in enumerate(problem.vehicles)}
    clients: dict[str, list[int]] = {}
    for idx, oid in enumerate(conv.client_orders):
        clients.setdefault(oid, []).append(idx)
    shipment = {}
    for idx, pair in enumerate(conv.shipment_pairs):
        shipment[pair.pickup] = Activity(ActivityType.PICKUP, idx)
        shipment[pair.delivery] = Activity(ActivityType.DELIVERY, idx)
    windows = [(c.tw_early, c.tw_late) for c in conv.data.clients()]
    placed: set[str] = set()
    routes: list[Route] = []
    for vehicle_id, seq in sequences.items():
        k = position.get(vehicle_id)
        if k is None or k not in type_of:
            continue
        vehicle = problem.vehicles[k]
        timed = build_route(problem, matrices[vehicle.profile], vehicle, seq)
        starts = {v.order_id: v.start_s for v in timed.visits}
        acts: list[Activity] = []
        for oid in seq:
            if oid in placed:
                continue
            placed.add(oid)
            if oid in shipment:
                acts.append(shipment[oid])
            elif oid in clients:
                t = starts.get(oid, 0)
                idx = min(
                    clients[oid],
                    key=lambda i: max(0, windows[i][0] - t, t - windows[i][1]),
                )
                acts.append(Activity(ActivityType.CLIENT, idx))
        if acts:
            try:
                routes.append(Route(conv.data, acts, type_of[k]))
            except ValueError as exc:  # e.g. a pair's stops on two routes
                logger.debug("pyvrp: route of %s left out of the start: %s", k, exc)
    if not routes:
        return None
    try:
        return Solution(conv.data, routes)
    except RuntimeError as exc:  # e.g. more routes than vehicles of a type
        logger.warning("pyvrp: start not usable (%s); a random one instead", exc)
        return None


# --- extraction ----------------------------------------------------------------

_RouteActs = tuple[int, list[Activity]]
"""A route as (vehicle type, client and shipment activities in visit order)."""


def _routes(solution: Solution) -> list[_RouteActs]:
    return [
        (
            route.vehicle_type(),
            [Activity(a.type, a.idx) for a in route if not a.is_depot()],
        )
        for route in solution.routes()
    ]


def _violation(route: Route) -> int:
    return route.time_warp() + sum(route.excess_load()) + route.excess_distance()


def _without(acts: list[Activity], act: Activity) -> list[Activity]:
    if act.is_pickup():  # a shipment leaves with both of its stops
        return [a for a in acts if not (a.is_shipment() and a.idx == act.idx)]
    return [a for a in acts if a != act]


def _repair(data: ProblemData, routes: list[_RouteActs]) -> list[_RouteActs]:
    """Remove stops (a shipment's two at once) from each infeasible route, the one
    whose removal leaves the least violation first, until the route is feasible."""
    repaired: list[_RouteActs] = []
    for vt, acts in routes:
        while acts and not Route(data, acts, vt).is_feasible():
            options = [_without(acts, a) for a in acts if not a.is_delivery()]
            acts = min(
                options,
                key=lambda rest: _violation(Route(data, rest, vt)) if rest else 0,
            )
        repaired.append((vt, acts))
    return repaired


def _sequences(
    problem: Problem,
    matrices: Mapping[str, TravelMatrix],
    conv: _Conversion,
    routes: list[_RouteActs],
    allowed: Mapping[str, Sequence[int]],
) -> tuple[Sequences, dict[str, int]]:
    """Vehicle ids and order ids for PyVRP's routes: each order once, on an allowed
    vehicle, a pair's two stops together and within its ride limit."""
    pools = [list(ks) for ks in conv.pools]
    sequences: Sequences = {}
    seen: set[str] = set()
    dropped = {"disallowed": 0, "twice": 0, "ride": 0}
    for vt, acts in routes:
        if not acts:
            continue
        k = pools[vt].pop(0)
        vehicle = problem.vehicles[k]
        kept: set[int] = set()  # shipments whose pickup was kept
        seq: list[str] = []
        for a in acts:
            if a.is_delivery():
                if a.idx in kept:
                    seq.append(conv.shipment_pairs[a.idx].delivery)
                continue
            if a.is_client():
                oids: tuple[str, ...] = (conv.client_orders[a.idx],)
            else:
                oids = _pair_orders(conv.shipment_pairs[a.idx])
            if any(k not in allowed[oid] for oid in oids):
                dropped["disallowed"] += len(oids)
            elif any(oid in seen for oid in oids):
                dropped["twice"] += len(oids)
            else:
                seen.update(oids)
                seq.append(oids[0])
                if a.is_pickup():
                    kept.add(a.idx)
        seq, too_long = _within_ride_limits(
            problem, matrices[vehicle.profile], vehicle, seq
        )
        dropped["ride"] += too_long
        if seq:
            sequences[vehicle.id] = seq
    return sequences, dropped


def _within_ride_limits(
    problem: Problem, matrix: TravelMatrix, vehicle: Vehicle, seq: list[str]
) -> tuple[list[str], int]:
    """Drop the pairs whose goods ride longer than their limit when our scheduler
    (``schedule.build_route``, breaks included) times the route; and how many
    stops that removed."""
    limited = [
        pair
        for oid in seq
        if (pair := problem.pair_of(oid)) is not None
        and pair.pickup == oid
        and pair.max_ride_s is not None
    ]
    if not limited:
        return seq, 0
    visits = {v.order_id: v for v in build_route(problem, matrix, vehicle, seq).visits}
    too_long = {
        oid
        for pair in limited
        if visits[pair.delivery].start_s
        - visits[pair.pickup].start_s
        - problem.order(pair.pickup).service_s
        > (pair.max_ride_s or 0)
        for oid in _pair_orders(pair)
    }
    return [oid for oid in seq if oid not in too_long], len(too_long)
