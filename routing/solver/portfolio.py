"""The search portfolio: compiled engines warm-start the full OR-Tools model.

OR-Tools holds every constraint we support, but its own construction and moves
are slow on long routes and large days (benchmarks/README). PyVRP and VROOM
search much faster on the part of the model they express. So, within one
deadline:

1. **Warm starts.** Each applicable engine (``routing/solver/engines/``) runs on
   its relaxation of the day: side by side, one per core, PyVRP in this process
   and the others in child processes started at once (their input is written to
   a file before they start, so no feeding thread can starve while OR-Tools
   holds the GIL; a core whose engine is done runs PyVRP with another seed), or
   in turn in this process on one core (above ``IN_PROCESS_MAX_ORDERS`` orders,
   PyVRP alone: its search gains most from the time). When PyVRP expresses the
   whole model (plain VRPTW, or days whose features it all models) it
   gets every core (one seed each) and most of the time: OR-Tools moves found
   nothing to improve on its routes in our trials (a 200-customer instance: 63
   guided-local-search solutions in 10 s, none better). With no engine, OR-Tools'
   own iterated local search runs alone, as before. On days with soft slots the
   engines get the all-hard day's vehicles and orders (``_on_time``): they hold
   soft slots hard, so a soft day and its all-hard version search the same
   instance; orders only reachable late are left to OR-Tools. On a day PyVRP
   relaxes, its search ends early when it stalls near the end of its share
   (``pyvrp_engine._HandOver``): the final phase below then gets the rest.
   With two cores or more (days over ``IN_PROCESS_MAX_ORDERS`` orders),
   PyVRP's first seed keeps a core to itself until the deadline instead, as
   PyVRP alone would, and its routes are a candidate at the end
   (``_note_to_the_end``); this process runs the next core's engines. On a
   relaxed day of at most ``RELAXED_POLISH_MAX_ORDERS`` orders that core
   hands PyVRP's routes to OR-Tools at ``POLISH_FROM_SHARE`` of the limit
   (``_polished``): two final searches from different starts, one per core.
   On larger relaxed days this process asks that run for its best routes so
   far when its own warm phase ends (`SNAPSHOT_WAIT_S`): they are one more
   start for OR-Tools' final phase here while the run searches on.
2. **Full model.** Every candidate's routes are read into the full OR-Tools
   model (``RoutingSearch.warm_start``, which drops the stops that make a route
   infeasible there); the cheapest under the full objective is kept.
3. **Final word.** OR-Tools improves it by guided local search until the
   deadline or until it has converged (no better plan for ``patience_s``).

The plan's stats say which engines ran, which were skipped and why, and what
each contributed (``EngineRun``).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import importlib
import logging
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from routing.domain.model import Problem, has_soft_slots, with_hard_slots
from routing.domain.plan import EngineRun
from routing.domain.timing import build_routes
from routing.geo.matrix import TravelMatrix
from routing.solver._ortools import (
    ProgressCallback,
    RawSolution,
    RoutingSearch,
    WarmStart,
    guided_local_search,
)
from routing.solver.engines import (
    ENGINES,
    EngineResult,
    Sequences,
    Support,
    get_engine,
)
from routing.solver.engines.base import NO_TIME
from routing.solver.explain import insertable, with_inserted
from routing.solver.options import SolveOptions
from routing.solver.precheck import precheck, surely_overbooked

logger = logging.getLogger(__name__)

WARM_SHARE_EXACT = 0.95
"""Share of the time limit the engines get when PyVRP expresses the whole model:
its own search is then the strongest we have (Solomon @10 s: PyVRP 0.17 % above
best-known, OR-Tools 1.37 %), OR-Tools only confirms and polishes."""

EXACT_FINAL_S = 1.0
"""When PyVRP expresses the whole model, the OR-Tools phase after it gets this
many seconds, or ``1 - WARM_SHARE_EXACT`` of a short limit: it reads and
confirms PyVRP's routes, and its guided local search from them found nothing
better in our trials (module docstring), so on long limits the time is PyVRP's
(until session 6 it got 5 %, 2 % above ``POLISH_MAX_ORDERS`` orders: 3 s of 60
and 6 s of 300)."""

WARM_SHARE_EXACT_MAX = 0.995
"""Largest share of the time limit for the engines (see ``EXACT_FINAL_S``):
building the model and reading 1 000 orders' routes into it took 0.25 s
(R1_10_1), so 1.5 s of a 300-s limit is ample."""

WARM_SHARE_RELAXED = 0.85
"""Share of the time limit for the warm starts when every engine relaxes part of
the model (breaks, soft slots, pairs...): OR-Tools then repairs and improves in
the full objective. On a 250-order city day (breaks, skills, soft slots) at 20 s,
VROOM's own search gained far more with more time (3.6 s: 2503, 10 s: 2392, 20 s
alone: 2300) than OR-Tools' guided local search did from its routes (2503 -> 2460
in 8 s; from the 10-s routes, 1 solution and no gain in 6 s)."""

RELAXED_POLISH_MAX_ORDERS = 400
"""Above this many orders, on a day PyVRP relaxes (breaks, soft slots...), the
OR-Tools phase after the engines gets `RELAXED_FINAL_S` (or the
``1 - WARM_SHARE_RELAXED`` share of a short limit) instead of that share.
Measured @30 s on generated days: PyVRP alone (all-hard day, one run giving both
figures) improved its best between 25.5 and 28.5 s by 0-60 (mean 19.5) on seven
400-500-order runs, by 8.1 and 13.0 on a 350-order day, 0 on 300-order days and
0-5 on 120-250; OR-Tools' final phase (4.5 s) improved its start by 0-1.4 on
350-500-order days, 0.4-3.6 on 150-250. Full solves, before -> after, seeds 1-3
(benchmarks/README, session 11): the 500-order days' three variants 1.8 % cheaper
on average (13 of 18 runs); with the threshold at 300 the 350-order days were
1.3 % dearer (4 of 6 runs, one seed)."""

RELAXED_FINAL_S = 2.0
"""See `RELAXED_POLISH_MAX_ORDERS`: reading and repairing 500 orders' routes
takes well under a second (1,000 orders: 0.25 s); the rest is polish."""

RELAXED_FINAL_S_PER_ORDER = 3e-3
"""... and at least this long per order: the phase builds the full model and
reads every engine's routes into it before it searches. A generated
1,000-order day at 10 s (2 cores, as given): this process's engines ended at
7.26 s (0.57 s past the warm phase), the model was built at 7.92 s, the three
starts read at 9.13 s, 0.44 s past the search's deadline; with the finish
after it, the plan came at 11.4 s. With this phase (3 s there, instead of
15 % of the limit): the portfolio ended at 8.0-8.2 s of its 8.7, the plan at
10.2-10.4 s (700 orders: 9.6 s), same plans (session 18)."""

SHORT_ENGINE_SHARE = 0.25
"""When engines share one core, each but the last (``_engine_order``) gets at
most this share of the time left; the last gets the rest. An engine whose
objective is the full model's (``Support.objective_is_exact``: VROOM on days
priced by fixed and distance costs only) may take all the time left: it ends
when its search has converged, and its longer search pays. Distance-only
held-out days (100-200 orders, 2 cores @20 s), VROOM on its core's whole share
(exploration level 5, 8.5 s of 16 on a 150-order day) instead of 25 % (level
1, 1 s): seed 1, 4 of 8 days 3.9-10.1 km shorter, 4 equal; seed 2, 5 of 8
shorter, 1 longer (benchmarks/README, session 16). On days with hourly rates
the same change made 4 of 8 dearer (PyVRP's second seed, which it squeezed,
gave the better start there). Since session 21 PyVRP's search after it starts
from its routes on such days (`CHAIN_PYVRP`), and VROOM is back to this share
there: the two together beat VROOM's longer search."""

FIRST_ANSWER_MARGIN = 1.5
"""An engine sharing a core whose `Engine.first_answer_s` exceeds its short
share (`SHORT_ENGINE_SHARE`) is offered this many times that, up to all the
time left, instead of being skipped for want of time: VROOM's constructions on
a generated 2,000-order day (9.4 s measured alone, modelled 12.8) did not fit
25 % of a 30-s limit's warm phase (5 s), while VROOM alone (one thread) serves
1,979 orders there in 9.5 s and ours at 30 s (2 cores, as given) served 1,910."""

COUNT_FIRST_VROOM = True
"""On a day that surely cannot serve every order, with PyVRP's first seed
searching to the end on a core of its own, VROOM (whose first objective is
orders served) gets the whole warm phase of the next core, not
`SHORT_ENGINE_SHARE` of it; PyVRP's next seed there gets what VROOM's
search leaves (VROOM picks the exploration level that fits). Paired at 2
cores @20 s, generated days of 180-380 orders with 50-65 % of their vans, as
given (VROOM's objective is exact on the distance variant: unchanged), seeds 1
and 2, 14 runs (session 18): 8 served 1-4 more orders, 5 as many, 1 three
fewer (city-300-s61, seed 1: 260 -> 257; seed 2 equal). Where PyVRP starts
from VROOM's routes (`CHAIN_PYVRP`), VROOM gets `COUNT_FIRST_CHAIN_SHARE`."""

CHAIN_PYVRP = True
"""Where PyVRP follows another engine on one core (VROOM, then PyVRP's next
seed: `_side_by_side`), its search starts from that engine's routes instead of
a random solution, and the engine before it gets `SHORT_ENGINE_SHARE` of the
time even where its objective is exact. On generated city days PyVRP's own
start (random, penalties at the middle of their range: restriction profiles)
takes seconds to reach good routes. Engines alone, one core each side by side,
distance variant, 8 s: VROOM (1.6 s) then PyVRP from its routes against PyVRP
alone: city-150-s91 275.4 vs 286.0 and 290.3 vs 285.3 km (seeds 1, 2),
city-150-s92 248.4 vs 260.3 and 252.2 vs 256.3, city-300-s92 337.0 vs 387.0
and 349.6 vs 364.4 (PyVRP alone: 295 and 298 of 300 served once its routes are
timed with the breaks; the chain 300), while VROOM alone at 2 threads, 9 s,
drove 366.9-367.9 there (benchmarks/README, session 21).

Only where the engine before PyVRP prices as we do (VROOM's objective is
exact: distance and fixed costs, `_chains`). Where hours are priced, VROOM's
routes (which do not price waiting, and break PyVRP's room for the breaks)
led its search astray as often as not: as given @10 s, 2 cores, 150-order days
4 of 4 dearer (0.5-4.7 %), 250-400-order days 4 cheaper (2.8-6.0 %), 2 dearer
(6.7 %, 8.6 %), 1 equal; @30 s a 250- and a 500-order day within 0.4 %.

Except on days that surely cannot serve every order, where VROOM runs first
on any core count (`COUNT_FIRST_VROOM`): orders served come first there, and
PyVRP's prize-collecting search from VROOM's routes inserts orders VROOM left
out, whatever the pricing. Paired @10 s, as given, days with 55-60 % of their
vans, seeds 1-2 (session 22): at 2 cores, 8 days, 12 of 16 runs served 1-10
more orders, 4 as many, none fewer (4,058 -> 4,101 served); at one core (VROOM
`SHORT_ENGINE_SHARE`, then PyVRP from its routes instead of a random start), 8
days, 12 of 16 runs served 1-16 more, 3 as many, 1 one fewer (3,732 -> 3,813).
The overbooked example day (82 served either way), seeds 1-3: 1.8-16.6 %
cheaper at 2 cores, 19 % at one."""

COUNT_FIRST_CHAIN_SHARE = 0.5
"""On a day that surely cannot serve every order (`COUNT_FIRST_VROOM`) where
PyVRP starts from VROOM's routes (`CHAIN_PYVRP`), VROOM gets this share of its
core's warm phase instead of all of it, and PyVRP the rest: PyVRP inserts
orders into VROOM's routes that VROOM's longer search did not (city-200-s96 at
60 % of the vans, distance @10 s: VROOM 6.4 s, 152 served, then PyVRP 0.9 s
from its routes, 156). Paired @10 s, 2 cores, distance variant, five days with
55-60 % of their vans, seeds 1-2 (session 21): 6 of 10 runs served 1-4 more
orders, 3 as many, 1 one fewer; 2,139 -> 2,149 served in all."""

COMPLETE_START_S = 0.1
"""Seconds, for each engine's routes, to insert the required orders they
leave out where these still fit on our timing (`_completed`), before the
cheapest start is chosen. A start that lost required stops when read into
the full model (a relaxation: PyVRP has no breaks) is priced at their full
penalty and loses to any complete start, however dear: on a 200-order day
with transfers, as given, PyVRP's routes without 2-3 transfers lost to
VROOM's (plans of 1,679-1,760 with 194-198 served, where one run from
PyVRP's reached 1,527.8 with 198); completed (0.07-0.18 s each), PyVRP's
start served every order and three runs ended at 1,609.7 with 198. Not on a
day that surely cannot serve every order (its starts leave out what does not
fit, and the search weighs which)."""

IN_PROCESS_MAX_ORDERS = 40
"""Up to this many orders, the engines run in this process one after another:
starting a child process (~0.5 s of imports) would cost more than the search."""

PATIENCE_S_PER_ORDER = 0.02
"""Convergence rule: the final search stops once it has found no better plan
for ``PATIENCE_S_PER_ORDER`` s per order, clamped to [``PATIENCE_MIN_S``,
``PATIENCE_SHARE`` x the time limit]."""

PATIENCE_MIN_S = 0.2
"""Shortest patience (tiny days converge in a fraction of a second)."""

PATIENCE_SHARE = 0.25
"""Longest patience, as a share of the time limit."""

POLISH_MAX_ORDERS = 400
"""Above this many orders, when PyVRP expresses the whole model, OR-Tools reads
and confirms its routes but does not search from them: on G&H 1000 instances its
guided local search, given 15 s, returned after 53 s (wall 338 s for a 300-s
limit) and improved the cost by 0.01 %."""

CHILD_GRACE_S = 1.5
"""A child engine still running this long after its budget is killed."""

CHILD_JOB_WAIT_S = 3600.0
"""Longest a started child waits for its job before it ends by itself."""

CHILD_POLL_S = 0.002
"""How often a started child looks for its job file."""

CHILD_WRITE_S = 0.2
"""A child's engines finish this long before its deadline, to write results."""

SNAPSHOT_WAIT_S = 0.5
"""With two cores or more, on a relaxed day without the polish of
`POLISH_FROM_SHARE` (over `RELAXED_POLISH_MAX_ORDERS` orders), this process
asks the run of PyVRP's first seed, which searches to the end on its own core,
for its best routes so far once its own warm phase is over, and waits at most
this long for them (``PyVRPEngine``'s ``snapshot``: after the iteration under
way): they join the starts of OR-Tools' final search here while that run
searches on; its routes at the end and the final search's are both
candidates. Until session 17 the final search here started only from VROOM's
or the second seed's routes, and the first seed's run (usually the best: it
had the whole time) was a candidate as found, never improved by OR-Tools nor
repaired: on a held-out 800-order day (distance only, 2 cores @30 s) its raw
routes lost once timed with breaks and VROOM's start gave 702.5 km; its routes
at 27.3 s read into the model gave 656.0. Paired on nine more runs of 450-600
orders: within 0.6 % either way but one (+1.2 %, a day with two basins whose
re-runs were equal; benchmarks/README, session 17). The child answers
within about 10 ms (the iteration under way, then reading its routes)."""

SNAPSHOT_FILES = ("snapshot-asked", "snapshot.pickle")
"""A child's files of `SNAPSHOT_WAIT_S`: the parent's request (empty), the
child's answer."""


POLISH_FROM_SHARE = 0.7
"""With two cores or more, on a day PyVRP relaxes (breaks, soft slots...) of at
most `RELAXED_POLISH_MAX_ORDERS` orders, PyVRP's first seed searches on its own
core until this share of the time limit; then OR-Tools' guided local search
improves its routes there, in the full model (all-hard on soft days), until the
deadline (`_polished`). Both the improved and the raw routes are candidates.
Before (session 14), that seed searched to the end and its raw routes were a
candidate. OR-Tools' search gains much on such days, slowly: from PyVRP's 12-s
routes of held-out 150- and 180-order days it reached 1,057-1,237 in 12 s
(after 3 s: 1,208-1,355, or orders still missing). Paired at 2 cores @20 s,
held-out days of 60-300 orders (benchmarks/README, session 16): as given, 18
runs (seeds 1-2), 12 cheaper (0.01-5.9 %), 2 dearer (city-150-s6 +0.8 %,
city-180-s11 seed 2 +13.9 %), 4 equal (and the benchmark's city-250-s2 @30 s,
seed 1, 1,318.0 -> 1,422.6: PyVRP's raw routes from its last stretch had been
the plan; seed 2 equal); distance only, 6 days, 3 shorter
(2.1-6.5 %), 3 equal. At 0.5: 12 of 22 cheaper, 5 dearer, city-180-s11 by
11-14 % on both seeds (PyVRP's last half found what OR-Tools did not). This
process's own warm phase and final search are unchanged.

Not on days that surely cannot serve every order (``surely_overbooked``):
there orders served come first, and PyVRP's prize-collecting search inserts
more of them than OR-Tools' from its routes; that core runs PyVRP to the end
and hands on its routes (`SNAPSHOT_WAIT_S`) instead. Paired at 2 cores @20 s
on generated days with 50-65 % of their vans (benchmarks' ``--vans``), 150-350
orders, as given and distance, 18 runs (session 18): 10 served 1-7 more orders
(city-320-s73 at half the vans: 257 -> 264 as given, 264 -> 268 distance), 7
as many, 1 one fewer (city-350-s64 as given, 299 -> 298)."""


@dataclass(frozen=True, slots=True)
class _Polish:
    """The final phase of the core of PyVRP's first seed (`POLISH_FROM_SHARE`)."""

    from_: float
    """``time.perf_counter()`` value at which PyVRP hands over to OR-Tools."""
    options: SolveOptions
    patience_s: float


Evaluator = Callable[[Sequences, Mapping[str, int] | None], int | None]
"""The full model's objective of routes (None: rejected), given each order's
service start where the routes are already timed (else None)."""


@dataclass(frozen=True, slots=True)
class PortfolioResult:
    """The final search's solution plus what each engine did."""

    raw: RawSolution
    engines: tuple[EngineRun, ...]
    stop_reason: str
    candidates: tuple[tuple[str, Sequences], ...] = ()
    """Other feasible starts (engine name, routes as read into the full model),
    for the caller to compare as timed plans."""
    objective_of: Evaluator | None = None
    """The full model's objective of any routes (None: rejected), for the
    routes finally returned: (routes, each order's service start if already
    timed, else None)."""

    @property
    def timed_out(self) -> bool:
        """The search ended at its time limit (not converged, not stopped):
        orders it left out might be planned with a longer one."""
        return self.stop_reason == TIME_LIMIT_REACHED


def _evaluator(
    problem: Problem,
    matrices: Mapping[str, TravelMatrix],
    allowed: Mapping[str, Sequence[int]],
    options: SolveOptions,
    *,
    keep: Mapping[str, str] | None = None,
    move_cost: float = 0.0,
) -> Evaluator:
    """The full model's objective of given routes, in a model of its own: once
    a model has searched, OR-Tools 9.15 reads no more routes into it
    (``ReadAssignmentFromRoutes`` returns None, even for routes a new model
    accepts)."""

    def objective_of(
        sequences: Sequences, starts: Mapping[str, int] | None = None
    ) -> int | None:
        model = RoutingSearch(
            problem, matrices, allowed, options=options, keep=keep, move_cost=move_cost
        )
        return model.objective_of(sequences, starts)

    return objective_of


def patience_for(n_orders: int, time_limit_s: float) -> float:
    """Seconds without improvement after which the final search stops."""
    return max(
        PATIENCE_MIN_S,
        min(PATIENCE_S_PER_ORDER * n_orders, PATIENCE_SHARE * time_limit_s),
    )


def solve_portfolio(
    problem: Problem,
    matrices: Mapping[str, TravelMatrix],
    allowed: Mapping[str, Sequence[int]],
    *,
    options: SolveOptions,
    deadline: float | None = None,
    on_progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    initial: Mapping[str, Sequence[str]] | None = None,
    keep: Mapping[str, str] | None = None,
    move_cost: float = 0.0,
) -> PortfolioResult:
    """Warm starts from the engines, then OR-Tools in the full model.

    Parameters
    ----------
    problem, matrices, allowed
        The problem, its travel data per profile and the orders to plan with
        the vehicles allowed for each (from the pre-checks).
    options
        Search settings; ``options.engines`` names the engines to try and
        ``options.searches`` the cores to use.
    deadline
        ``time.perf_counter()`` value by which the search must end (default:
        now + ``options.time_limit_s``).
    on_progress
        Called with (best objective so far, elapsed seconds).
    initial
        Routes to start from (a re-plan's current routes), read into the full
        model like an engine's (label ``"current"``): the final search starts
        from them, the engines' routes stay candidates for the caller.
    keep, move_cost
        Priced moves (``RoutingSearch``): an order of ``keep`` served by another
        vehicle than its own costs ``move_cost``.
    should_stop
        Asked between phases, by OR-Tools at every solution and by PyVRP at
        every iteration; True ends the search with the best plan so far (a
        cancel). Engines in child processes are stopped.
    """
    t0 = time.perf_counter()
    deadline = deadline if deadline is not None else t0 + options.time_limit_s
    objective_of = _evaluator(
        problem, matrices, allowed, options, keep=keep, move_cost=move_cost
    )
    budget = max(0.05, deadline - t0)
    n_orders = len(allowed)
    if options.is_deterministic or not options.engines:
        why = "deterministic search" if options.is_deterministic else "disabled"
        alone = RoutingSearch(
            problem,
            matrices,
            allowed,
            options=replace(options, time_limit_s=budget),
            keep=keep,
            move_cost=move_cost,
        )
        alone.should_stop = should_stop
        if options.is_deterministic and initial is None and has_soft_slots(problem):
            raw = _hard_first(
                problem, matrices, allowed, options, alone, deadline, on_progress
            )
        else:
            raw = _search_from(alone, initial, budget, on_progress, options)
        skipped = tuple(
            EngineRun(engine=name, outcome="skipped", reason=why)
            for name in options.engines
        )
        return PortfolioResult(
            raw,
            skipped,
            _stop_reason(raw, budget),
            objective_of=objective_of,
        )

    # The child for PyVRP's first seed on a core of its own (below) starts
    # now and imports the engines while this process checks them (`_Spawned`).
    spawned = (
        _Spawned()
        if options.searches >= 2
        and n_orders > IN_PROCESS_MAX_ORDERS
        and "pyvrp" in options.engines
        else None
    )
    runs: dict[str, EngineRun] = {}
    supports: dict[str, Support] = {}
    for name in options.engines:
        try:
            support = get_engine(name).support(problem)
        except ImportError as exc:
            runs[name] = EngineRun(name, "skipped", f"not installed ({exc})")
            continue
        except Exception as exc:  # a broken engine never sinks the solve
            logger.warning("engine %s unusable: %s", name, exc)
            runs[name] = EngineRun(name, "failed", f"{type(exc).__name__}: {exc}")
            continue
        if support.applies:
            supports[name] = support
        else:
            runs[name] = EngineRun(
                name, "skipped", support.reason, relaxations=support.relaxations
            )
    cores = options.searches
    # Where the orders surely cannot all be served, orders served come first
    # and VROOM (whose first objective is the count) runs before PyVRP on any
    # day: PyVRP's prize-collecting runs can stay one order short for seconds
    # (overbooked example day, one core @8 s: 81 served, VROOM 82 in 1 s).
    surely_full = surely_overbooked(problem, allowed)
    overbooked = "vroom" in supports and surely_full
    exact = "pyvrp" in supports and supports["pyvrp"].is_exact
    pyvrp_alone = exact and not overbooked  # (PyVRP's seeds on every core)
    share = _warm_share(budget, n_orders, exact=exact, with_pyvrp="pyvrp" in supports)
    warm_until = t0 + share * budget

    # 1. Warm starts: children first (they run while this process builds the
    # model and, with a spare core, searches on its own).
    jobs: list[tuple[str, int]] = []  # (engine, seed)
    if pyvrp_alone:
        jobs = [("pyvrp", options.seed + k) for k in range(cores)]
        for name in supports:
            if name != "pyvrp":
                runs[name] = EngineRun(
                    name,
                    "skipped",
                    "PyVRP expresses the whole model: it took every core "
                    "(its search is the strongest on that model)",
                )
        supports = {"pyvrp": supports["pyvrp"]}
    else:
        jobs = [(name, options.seed) for name in _engine_order(supports)]
        if (
            cores == 1
            and n_orders > IN_PROCESS_MAX_ORDERS
            and "pyvrp" in supports
            and not overbooked
            and not _chains(supports)
        ):
            # One core: PyVRP's search gains more from the time than a second
            # opinion adds (generated 250/500-order days @30 s, against VROOM
            # first for up to 25 %: 5 of 8 day/variant pairs cheaper, 3 equal).
            # Small days keep both: they converge within the limit anyway; so
            # do days where PyVRP starts from VROOM's routes (`CHAIN_PYVRP`).
            for name, _ in jobs:
                if name != "pyvrp":
                    runs[name] = EngineRun(
                        name,
                        "skipped",
                        "one core: PyVRP's search got the time (it gains more "
                        "from it than a second search adds)",
                        relaxations=supports[name].relaxations,
                    )
            jobs = [("pyvrp", options.seed)]
    # On one core nothing runs beside the engines: run them here, in turn,
    # without the ~0.5-1 s a child loses to starting Python and imports.
    in_process = cores == 1 or n_orders <= IN_PROCESS_MAX_ORDERS or not jobs
    if in_process and pyvrp_alone:
        jobs = jobs[:1]  # one core's worth: seeds only pay off side by side
    children: list[_Child] = []
    to_the_end: _Child | None = None  # (its routes: a candidate at the end)
    here = jobs if in_process else []
    on_time = _on_time(problem, matrices, allowed) if jobs else allowed
    if not in_process:
        job = (problem, dict(matrices), dict(on_time))
        # One engine per core side by side, or in turn. The first group runs in
        # this process, which is idle meanwhile: no start-up delay for it.
        groups = _side_by_side(jobs, cores)
        if len(groups) > 1 and groups[0] == [("pyvrp", options.seed)]:
            # PyVRP's first seed searches to the end on its own core, as PyVRP
            # alone would; this process runs the next group and OR-Tools'
            # final phase from it (`_note_to_the_end`).
            # On a relaxed day of at most RELAXED_POLISH_MAX_ORDERS orders
            # (a fresh plan), that core's final phase is OR-Tools' from its
            # routes (`POLISH_FROM_SHARE`).
            # Larger such days, and days that surely cannot serve every
            # order (PyVRP's search inserts more of them than OR-Tools'),
            # ask that core for its routes instead (`SNAPSHOT_WAIT_S`).
            fresh_relaxed = not exact and initial is None and not keep
            polish = None
            if (
                fresh_relaxed
                and n_orders <= RELAXED_POLISH_MAX_ORDERS
                and not surely_full
            ):
                polish = _Polish(
                    t0 + POLISH_FROM_SHARE * budget,
                    options,
                    patience_for(len(on_time), budget),
                )
            to_the_end = _Child(
                groups[0],
                job,
                until=deadline,
                t0=t0,
                to_the_end=True,
                polish=polish,
                snapshot=fresh_relaxed and polish is None,
                spawned=spawned,
            )
            spawned = None
            groups = groups[1:]
        here = groups[0]
        for group in groups[1:]:
            children.append(_Child(group, job, until=warm_until, t0=t0))
    if spawned is not None:  # (no run to the end on this day)
        spawned.discard()

    results: list[EngineResult] = []
    # (beside PyVRP's run to the end: its search has the other core)
    count_first = COUNT_FIRST_VROOM and overbooked and to_the_end is not None
    if here:
        results += _run_engines(
            here,
            problem,
            matrices,
            on_time,
            until=warm_until,
            errors=runs,
            t0=t0,
            should_stop=should_stop,
            on_progress=on_progress,
            count_first=count_first,
            chain=_chains(supports, overbooked=overbooked),
        )
    search = RoutingSearch(
        problem, matrices, allowed, options=options, keep=keep, move_cost=move_cost
    )
    search.should_stop = should_stop
    is_stopped = should_stop is not None and should_stop()
    if not jobs:
        # No engine applies: OR-Tools' own iterated local search, all the time
        # (or guided local search from the current routes, when given).
        raw = _search_from(
            search,
            initial,
            max(0.05, deadline - time.perf_counter()),
            on_progress,
            options,
        )
        return PortfolioResult(
            raw,
            _ordered(runs, options),
            _stop_reason(raw, budget),
            objective_of=objective_of,
        )
    for child in children:
        if should_stop is not None and should_stop():
            child.stop()
            is_stopped = True
        results += child.collect(errors=runs)
    if to_the_end is not None and is_stopped:
        to_the_end.stop()
    snapshot = to_the_end.snapshot() if to_the_end is not None else None
    if snapshot is not None:
        relaxations = supports["pyvrp"].relaxations
        results.append(replace(snapshot, relaxations=relaxations))

    # 2. Read every candidate into the full model; keep the cheapest.
    starts: list[tuple[str, WarmStart]] = []
    snap_start: WarmStart | None = None
    read_s = 0.0  # (the longest read: `_hard_phase` reads routes in and back)
    for result in results:
        t_read = time.perf_counter()
        start = search.warm_start(result.sequences) if result.sequences else None
        read_s = max(read_s, time.perf_counter() - t_read)
        if start is not None and not surely_full:
            until = time.perf_counter() + COMPLETE_START_S
            start = _completed(search, allowed, start, until=until)
        previous = runs.get(result.engine)
        outcome, reason = "ran", ""
        if result.stats.get("from_routes_before"):
            reason = "its search started from the routes of the engine before it"
        if start is None and result.status.startswith(NO_TIME):
            outcome, reason = "skipped", result.status.removeprefix(NO_TIME + ": ")
        elif start is None:
            outcome = "failed"
            reason = (
                "its routes could not be read"
                if result.sequences
                else f"no routes ({result.status})"
            )
        run = EngineRun(
            engine=result.engine,
            outcome=outcome,
            reason=reason,
            relaxations=result.relaxations,
            elapsed_s=result.elapsed_s,
            started_s=result.stats.get("started_s", 0.0),
            objective=start.objective if start else None,
            repaired=len(start.dropped) if start else 0,
            iterations=int(result.stats.get("iterations", 0)),
            routes_eliminated=int(result.stats.get("routes_eliminated", 0)),
        )
        if previous is None or (
            run.objective is not None
            and (previous.objective is None or run.objective < previous.objective)
        ):
            runs[result.engine] = run
        if start is not None:
            starts.append((result.engine, start))
            if result.status == "snapshot":
                snap_start = start

    current = search.warm_start(initial) if initial else None
    if current is not None:
        starts.append(("current", current))

    # 3. Final word: OR-Tools from the best start, in the full objective.
    remaining = deadline - time.perf_counter()
    if not starts:  # every engine failed: OR-Tools alone for the rest
        raw = search.search(time_limit_s=max(0.05, remaining), on_progress=on_progress)
        last = _finish(to_the_end, runs, results, should_stop)
        return PortfolioResult(
            raw,
            _ordered(runs, options),
            _stop_reason(raw, budget),
            tuple((r.engine, r.sequences) for r in last if r.sequences),
            objective_of=objective_of,
        )
    engine, best = min(starts, key=lambda es: es[1].objective)
    final_limit_s = budget  # (the final search's own, where it runs)
    from_snapshot = snap_start is not None and best is snap_start
    if current is not None:
        # The current routes are what the drivers have: the final search starts
        # from them even when a fresh start looks cheaper (read with repairs, a
        # late vehicle's current route drops what its delay no longer lets in,
        # each at its full penalty); the engines' routes stay candidates. From
        # PyVRP's start, a re-plan of the weekday at 09:03 dropped an order
        # whose goods were on board: it no longer fit the reordered route.
        engine, best = "current", current
    if engine in runs:
        runs[engine] = replace(runs[engine], outcome="warm_start")
    if on_progress is not None:
        on_progress(best.objective, time.perf_counter() - t0)
    if is_stopped or (should_stop is not None and should_stop()):
        raw = replace(search.solution_of(best), status="stopped")
    elif exact and n_orders > POLISH_MAX_ORDERS:
        # OR-Tools has read and confirmed PyVRP's routes in the full model; its
        # guided local search is not run: it overran its time limit there.
        raw = search.solution_of(best)
    else:
        hard_routes: Sequences | None = None
        hard_overhead_s = search.model_s + 2 * read_s
        if (
            current is None
            and has_soft_slots(problem)
            and remaining > max(HARD_PHASE_MIN_S, hard_overhead_s + HARD_SEARCH_MIN_S)
        ):
            # Soft slots are a relaxation of hard ones, yet from the same start
            # the search in the soft model inserted fewer orders than the same
            # search with every slot hard (delivery day, 20 s: 116 vs 120 of
            # 120 served). So the all-hard day's final search runs first, for
            # the whole phase (HARD_SHARE of it when orders only reachable late
            # need the soft model); its routes (feasible in the soft model too)
            # start the soft search when better there, and stay a candidate.
            late_only = len(on_time) < len(allowed)
            hard_routes, best = _hard_phase(
                problem,
                matrices,
                on_time,
                options,
                search,
                best,
                until=time.perf_counter()
                + (HARD_SHARE if late_only else 1.0) * remaining,
                patience_s=patience_for(len(on_time), budget),
                should_stop=should_stop,
            )
            remaining = deadline - time.perf_counter()
        guided_local_search(search)
        final_limit_s = max(0.05, remaining)
        raw = search.search(
            time_limit_s=final_limit_s,
            initial=best,
            on_progress=on_progress,
            patience_s=patience_for(n_orders, budget),
        )
        if raw.objective > best.objective or not raw.has_solution:
            raw = search.solution_of(best)
        if hard_routes:
            results.append(
                EngineResult(
                    engine="hard slots", sequences=hard_routes, status="", elapsed_s=0.0
                )
            )
    results += _finish(
        to_the_end, runs, results, should_stop, from_snapshot=from_snapshot
    )
    # Both the engines' own routes and their repaired versions: an engine's
    # routes the full model rejected (breaks it left out, say) may still be the
    # best plan once timed as plans are timed; the checker decides.
    candidates: dict[str, tuple[str, Sequences]] = {}
    for name, sequences in [
        *((name, search.solution_of(st).sequences) for name, st in starts),
        *((r.engine, r.sequences) for r in results if r.sequences),
    ]:
        candidates.setdefault(repr(sorted(sequences.items())), (name, sequences))
    stats = dict(raw.stats)
    stats.update(
        warm_start_objective=float(best.objective),
        warm_start_is_current=float(engine == "current"),
        warm_start_repaired=float(len(best.dropped)),
        final_improvement=float(best.objective - raw.objective),
        warm_phase_s=float(share * budget),
    )
    raw = replace(raw, stats=stats)
    return PortfolioResult(
        raw,
        _ordered(runs, options),
        _stop_reason(raw, final_limit_s),
        tuple(candidates.values()),
        objective_of=objective_of,
    )


def _completed(
    search: RoutingSearch,
    allowed: Mapping[str, Sequence[int]],
    start: WarmStart,
    *,
    until: float,
) -> WarmStart:
    """``start`` with the required orders it leaves out inserted where they
    still fit on our timing (`explain.insertable`, until ``until``), read into
    the full model again (`COMPLETE_START_S`); ``start`` itself when none
    fits or the model prices the result no lower."""
    problem, matrices = search.problem, search.matrices
    planned = search.solution_of(start).sequences
    served = {oid for sequence in planned.values() for oid in sequence}
    missing = [
        oid
        for oid in allowed
        if oid not in served and not problem.order(oid).is_optional
    ]
    if not missing:
        return start
    routes = build_routes(problem, matrices, planned)
    fits = insertable(problem, matrices, routes, missing, allowed, deadline=until)
    if not fits:
        return start
    again = search.warm_start(with_inserted(routes, fits))
    if again is None or again.objective >= start.objective:
        return start
    kept = [oid for oid in start.dropped if oid not in fits]
    return replace(again, dropped=kept + again.dropped)


def _warm_share(
    budget: float, n_orders: int, *, exact: bool, with_pyvrp: bool
) -> float:
    """The share of the time limit the engines get (the rest is OR-Tools')."""
    if exact:
        # OR-Tools reads, confirms and (up to POLISH_MAX_ORDERS) polishes:
        # seconds, not a share of a long limit.
        final_s, share = EXACT_FINAL_S, WARM_SHARE_EXACT
    elif with_pyvrp and n_orders > RELAXED_POLISH_MAX_ORDERS:
        # PyVRP still descends at the end of the warm phase; OR-Tools' moves
        # barely move so many orders: it gets seconds to repair and polish,
        # and at least the time to build the model and read the routes.
        share = max(WARM_SHARE_RELAXED, 1 - RELAXED_FINAL_S / budget)
        reading = RELAXED_FINAL_S_PER_ORDER * n_orders / budget
        return min(WARM_SHARE_EXACT_MAX, share, max(0.5, 1 - reading))
    else:
        return WARM_SHARE_RELAXED
    return min(WARM_SHARE_EXACT_MAX, max(share, 1 - final_s / budget))


def _on_time(
    problem: Problem,
    matrices: Mapping[str, TravelMatrix],
    allowed: Mapping[str, Sequence[int]],
) -> Mapping[str, Sequence[int]]:
    """The orders and vehicles the engines get: ``allowed``, narrowed on days with
    soft slots to what the all-hard day's pre-checks allow (vehicles that reach
    an order within its slots; orders no vehicle reaches on time are left to
    OR-Tools, which may serve them late).

    The engines hold soft slots hard at the last window's end (a tightening), so
    a vehicle that reaches an order only late cannot serve it there anyway, and
    an order only reachable late made every required-client PyVRP run
    infeasible. Listing them only changed the engines' restriction profiles,
    and so their search, between a soft day and its all-hard version: measured
    on a generated 500-order day, same seed and time, PyVRP's routes cost 6 %
    more on the soft day (benchmarks/README, session 7)."""
    if not has_soft_slots(problem):
        return allowed
    hard = precheck(with_hard_slots(problem), matrices).allowed
    narrowed: dict[str, Sequence[int]] = {}
    for oid, vehicles in allowed.items():
        reach = set(hard.get(oid, ()))
        kept = tuple(k for k in vehicles if k in reach)
        if kept:
            narrowed[oid] = kept
    return narrowed


HARD_SHARE = 0.8
"""Share of the final search's time spent in the all-hard model on soft days
with orders that only the soft model can serve (reachable only late). On other
soft days the all-hard model gets the whole final phase, and the soft model
what the hard search's convergence leaves: with the engines' routes equal on a
soft day and its all-hard version (``_on_time``, PyVRP's `_Due`), the 80/20
split made the soft plan dearer than the hard one on 8 of 15 such pairs (by
0.1-6.1; generated 250/500-order days @30 s), equal on 4, cheaper on 3 (its
lateness trades: at most 0.7; session 12)."""


HARD_PHASE_MIN_S = 1.0
"""The all-hard model's final search (`_hard_phase`) runs only with at least
this long left of the final phase ..."""

HARD_SEARCH_MIN_S = 0.5
"""... and this long left for its search once its model is built and routes are
read into it and back (estimated from the soft model's build and the longest
read of an engine's routes). A generated 2,000-order day at 20 s (2 cores):
1.9 s were left, building the all-hard model and reading took 5 s, and the plan
came at 22 s, past the time limit + 1 s."""


def _hard_phase(
    problem: Problem,
    matrices: Mapping[str, TravelMatrix],
    allowed: Mapping[str, Sequence[int]],
    options: SolveOptions,
    search: RoutingSearch,
    best: WarmStart,
    *,
    until: float,
    patience_s: float,
    should_stop: Callable[[], bool] | None,
) -> tuple[Sequences | None, WarmStart]:
    """Guided local search in the all-hard model from ``best``'s routes; returns
    its routes and the better start for the soft model (``best`` or them), by
    ``until`` (a ``time.perf_counter()`` value): building the model and reading
    routes into it and back count (on a 1,000-order day 0.6 + 0.3 + 0.3 s, which
    had overrun the time limit by 1.2 s).

    ``allowed`` is what the all-hard day's pre-checks allow (`_on_time`) and
    ``patience_s`` its final search's patience: the very model and search the
    all-hard day's final phase runs, from the same start when the engines
    returned the same routes."""
    hard = RoutingSearch(with_hard_slots(problem), matrices, allowed, options=options)
    hard.should_stop = should_stop
    t_read = time.perf_counter()
    start = hard.warm_start(search.solution_of(best).sequences)
    if start is None:
        return None, best
    read_s = time.perf_counter() - t_read  # (reading back costs about as much)
    guided_local_search(hard)
    raw = hard.search(
        time_limit_s=max(0.05, until - time.perf_counter() - read_s),
        initial=start,
        patience_s=patience_s,
    )
    if not raw.has_solution:
        return None, best
    back = search.warm_start(raw.sequences)
    if back is not None and back.objective < best.objective:
        return raw.sequences, back
    return raw.sequences, best


def _hard_first(
    problem: Problem,
    matrices: Mapping[str, TravelMatrix],
    allowed: Mapping[str, Sequence[int]],
    options: SolveOptions,
    search: RoutingSearch,
    deadline: float,
    on_progress: ProgressCallback | None,
) -> RawSolution:
    """The deterministic search of a day with soft slots: first the very descent
    its all-hard version runs (the all-hard model on the all-hard pre-checks'
    vehicles, `_on_time`), then a descent in the soft model (``search``) from its
    routes. A descent only accepts better plans, so the plan is never worse
    under the soft objective than the all-hard day's deterministic plan, which
    it also serves at least as fully (while neither search hits the time limit,
    a safety net here)."""
    budget = max(0.05, deadline - time.perf_counter())
    hard = RoutingSearch(
        with_hard_slots(problem),
        matrices,
        _on_time(problem, matrices, allowed),
        options=replace(options, time_limit_s=budget),
    )
    hard.should_stop = search.should_stop
    first = _search_from(hard, None, budget, None, options)
    left = max(0.05, deadline - time.perf_counter())
    if not first.has_solution:
        return _search_from(search, None, left, on_progress, options)
    raw = _search_from(search, first.sequences, left, on_progress, options)
    stats = dict(raw.stats, hard_first_objective=float(first.objective))
    return replace(raw, stats=stats)


def _search_from(
    search: RoutingSearch,
    initial: Mapping[str, Sequence[str]] | None,
    time_limit_s: float,
    on_progress: ProgressCallback | None,
    options: SolveOptions,
) -> RawSolution:
    """One search in the model: from ``initial`` (read and repaired) if given,
    else from the model's own construction. Iterated local search starts only
    from its own construction in 9.15, so a start switches a non-deterministic
    search to guided local search; the start is the answer if nothing beats it."""
    start = search.warm_start(initial) if initial else None
    if start is None:
        return search.search(time_limit_s=time_limit_s, on_progress=on_progress)
    if not options.is_deterministic:
        guided_local_search(search)
    raw = search.search(
        time_limit_s=time_limit_s, initial=start, on_progress=on_progress
    )
    if not raw.has_solution or raw.objective > start.objective:
        raw = search.solution_of(start)
    stats = dict(raw.stats, current_objective=float(start.objective))
    return replace(raw, stats=stats)


TIME_LIMIT_REACHED = "time limit reached"
"""`PortfolioResult.stop_reason` when the search ran to its time limit."""


def _stop_reason(raw: RawSolution, limit_s: float) -> str:
    """Why the search that gave ``raw`` ended; ``limit_s``: its time limit."""
    if not raw.has_solution:
        return "no plan found within the time limit"
    if raw.status == "converged":
        return "converged: no better plan for the patience period"
    if raw.status in ("time_limit", "local_optimum_not_reached", "fail"):
        # ("fail": guided local search from a start found no solution before
        # its limit - it does not end by itself - and the start is the plan:
        # 2,000 orders, 1.0 s of a 1.4-s final search)
        return TIME_LIMIT_REACHED
    if raw.status == "stopped":
        return "stopped on request: the best plan found so far"
    if raw.status == "warm_start":
        return "the best warm start, read and confirmed in the full model, is the plan"
    if raw.stats.get("search_s", 0.0) < min(0.9 * limit_s, limit_s - 0.25):
        return "search finished: no move improves the plan"
    return TIME_LIMIT_REACHED


def _finish(
    child: _Child | None,
    runs: dict[str, EngineRun],
    results: Sequence[EngineResult],
    should_stop: Callable[[], bool] | None,
    *,
    from_snapshot: bool = False,
) -> list[EngineResult]:
    """The results of the run to the end (`_note_to_the_end`), if any: not read
    into the model (no time is left), candidates as they are. ``from_snapshot``:
    that run's routes before the end (`SNAPSHOT_WAIT_S`) started the final
    search here."""
    if child is None:
        return []
    if should_stop is not None and should_stop():
        child.stop()
    found = child.collect(errors=runs)
    polished = any(r.status == "polished" for r in found)
    for result in found:
        if result.status != "polished":
            _note_to_the_end(
                runs, result, results, polished=polished, from_snapshot=from_snapshot
            )
    return found


def _note_to_the_end(
    runs: dict[str, EngineRun],
    result: EngineResult,
    others: Sequence[EngineResult],
    *,
    polished: bool = False,
    from_snapshot: bool = False,
) -> None:
    """Record the run of PyVRP's first seed that searched to the end.

    With two cores or more, on days of more than `IN_PROCESS_MAX_ORDERS`
    orders, that run has a core to itself until the final phase ends, as
    PyVRP alone would (no hand-over: no OR-Tools phase follows it); this
    process runs the other engines (VROOM, then PyVRP's next seed) and
    OR-Tools' final phase from their routes; the run's routes join the
    candidates as they are (no time is left to read them into the model), and
    the plan is the best checked one. Until then (session 13), PyVRP's first
    seed ran here and handed over to OR-Tools, and the second core sat idle
    in the final phase: at 2 cores the distance-only 500-order days ended
    above PyVRP alone at 1 core (city-500-s1 477.4 vs 457.1 km: PyVRP's run
    handed over at 22 s at 491.6, the peer's same seed went on to 457.1).

    It stands for PyVRP in the plan's engine list when its own cost beats that
    of every other run of it (``others``: the engines' results so far); else
    the list keeps the run that started the final phase. ``polished``: on its
    core, OR-Tools then improved its routes (`POLISH_FROM_SHARE`); the entry
    says so either way. ``from_snapshot``: its routes before the end
    (`SNAPSHOT_WAIT_S`, a result of status ``"snapshot"`` among ``others``)
    started the final search here; the entry says so either way. Otherwise
    the entry of the better run says what the first seed's did."""
    name = result.engine
    costs = [r.cost for r in others if r.engine == name and r.cost is not None]
    snapshot = next((r for r in others if r.status == "snapshot"), None)
    snapshot_note = (
        f"its routes at {snapshot.stats.get('snapshot_s', 0.0):.1f} s "
        "started OR-Tools' final search on the other core"
        if from_snapshot and snapshot is not None
        else ""
    )
    if result.sequences and (
        not costs or (result.cost is not None and result.cost < min(costs))
    ):
        before = runs.get(name)
        started = before is not None and before.outcome == "warm_start"
        runs[name] = EngineRun(
            engine=name,
            outcome="ran",
            reason=(
                "searched on a core of its own, then OR-Tools' final search "
                "improved its routes there: both are candidates"
                if polished
                else "searched to the end on a core of its own: its routes are a "
                "candidate as found (not read into the model)"
            )
            + (
                f"; {snapshot_note}"
                if snapshot_note
                else "; a run with another seed started the final search"
                if started
                else ""
            ),
            relaxations=result.relaxations,
            elapsed_s=result.elapsed_s,
            started_s=result.stats.get("started_s", 0.0),
            iterations=int(result.stats.get("iterations", 0)),
            routes_eliminated=int(result.stats.get("routes_eliminated", 0)),
        )
    elif polished and name in runs:
        before = runs[name]
        runs[name] = replace(
            before,
            reason=(before.reason + "; " if before.reason else "")
            + "its first seed's run, on a core of its own, was improved there "
            "by OR-Tools' final search: a candidate",
        )
    elif snapshot_note and name in runs:
        before = runs[name]
        runs[name] = replace(
            before,
            reason=(before.reason + "; " if before.reason else "")
            + f"the run of its first seed, on a core of its own: {snapshot_note}, "
            "and it found nothing better after",
        )
    elif name in runs:
        before = runs[name]
        asked = (
            f" (its routes at {snapshot.stats.get('snapshot_s', 0.0):.1f} s were "
            "one more start for OR-Tools' final search)"
            if snapshot is not None
            else ""
        )
        runs[name] = replace(
            before,
            reason=(before.reason + "; " if before.reason else "")
            + "the run of its first seed searched to the end on a core of its "
            f"own{asked}: a candidate, not the best",
        )


def _ordered(
    runs: Mapping[str, EngineRun], options: SolveOptions
) -> tuple[EngineRun, ...]:
    return tuple(runs[n] for n in options.engines if n in runs)


def _engine_order(supports: Mapping[str, Support]) -> list[str]:
    """The order engines run in when they share one core (days of at most
    ``IN_PROCESS_MAX_ORDERS`` orders; larger ones give PyVRP the core alone):
    VROOM first, for at most ``SHORT_ENGINE_SHARE`` of the warm phase (its search
    is short and ends by itself), then PyVRP with all the time left.

    PyVRP's search is the one that keeps improving with time (a generated
    250-order day at 20 s: about 1,300 iterations, still descending), and its
    plans cost 30-50 % less than VROOM's under our objective (VROOM does not
    price waiting or fixed costs); VROOM stays as a second opinion that models
    breaks. Running it first gives PyVRP the time VROOM leaves (PyVRP first left
    it to OR-Tools, which converged early: overbooked example day @20 s, one
    order fewer served than PyVRP alone). The first progress report waits for
    VROOM's run. Measurements: benchmarks/README, session 6."""
    return sorted(supports, key=lambda n: (n == "pyvrp", n))


def _chains(supports: Mapping[str, Support], *, overbooked: bool = False) -> bool:
    """Whether PyVRP starts from the routes of the engine before it on a core
    (`CHAIN_PYVRP`): where that engine prices as we do, or, on a day that
    surely cannot serve every order (``overbooked``: VROOM runs first), on any."""
    if not CHAIN_PYVRP or "pyvrp" not in supports or len(supports) < 2:
        return False
    return overbooked or any(
        s.objective_is_exact for n, s in supports.items() if n != "pyvrp"
    )


def _side_by_side(
    jobs: Sequence[tuple[str, int]], cores: int
) -> list[list[tuple[str, int]]]:
    """The engine runs of each core: one engine per core, or all in turn on
    one. With PyVRP among several engines, PyVRP (the long search) has the
    first core to itself (`solve_portfolio` runs it to the end in a child:
    `_note_to_the_end`); the short engines share the next core, which then
    runs PyVRP with another seed for the rest of the warm phase (VROOM alone
    left it idle after a few seconds), from VROOM's routes where VROOM prices
    as we do (`CHAIN_PYVRP`); further cores run more seeds (PyVRP's job's
    seed + k on the k-th core)."""
    seeds = [seed for name, seed in jobs if name == "pyvrp"]
    if not seeds or len(jobs) < 2:
        return [[j] for j in jobs] if cores >= len(jobs) else [list(jobs)]
    seed = seeds[0]
    others = [j for j in jobs if j[0] != "pyvrp"]
    groups = [[("pyvrp", seed)], [*others, ("pyvrp", seed + 1)]]
    return groups + [[("pyvrp", seed + k)] for k in range(2, cores)]


def _run_engines(
    jobs: Sequence[tuple[str, int]],
    problem: Problem,
    matrices: Mapping[str, TravelMatrix],
    allowed: Mapping[str, Sequence[int]],
    *,
    until: float,
    errors: dict[str, EngineRun],
    t0: float,
    should_stop: Callable[[], bool] | None = None,
    on_progress: ProgressCallback | None = None,
    to_the_end: bool = False,
    snapshot: tuple[Path, Path] | None = None,
    count_first: bool = False,
    chain: bool = False,
) -> list[EngineResult]:
    """Run engines one after another, sharing the time left until ``until``;
    ``t0`` is when the solve started (stats ``started_s``: how long after it
    each engine began to search). ``on_progress`` gets each engine's new best
    costs as it finds them (its own objective: on a relaxed model, an estimate
    until the full model's search reports), so that a caller sees progress
    during the warm starts, which take most of the time limit. ``to_the_end``:
    no OR-Tools phase follows (`_note_to_the_end`), so PyVRP does not hand over;
    ``snapshot`` = (asked, answer): once the file ``asked`` exists, PyVRP's
    best routes so far are written to ``answer`` as a result of status
    ``"snapshot"`` (`SNAPSHOT_WAIT_S`). ``count_first``: VROOM may take all
    the time left, as an engine whose objective is exact does
    (`COUNT_FIRST_VROOM`). ``chain``: PyVRP starts from the routes of the
    engine before it, which gets a short share (`CHAIN_PYVRP`;
    `COUNT_FIRST_CHAIN_SHARE` with ``count_first``)."""
    results: list[EngineResult] = []
    reported = [float("inf")]

    def on_best(cost: float) -> None:
        assert on_progress is not None  # (passed to engines only then)
        if cost < reported[0]:
            reported[0] = cost
            on_progress(round(cost), time.perf_counter() - t0)

    for k, (name, seed) in enumerate(jobs):
        if should_stop is not None and should_stop():
            errors[name] = EngineRun(name, "skipped", "stopped on request")
            continue
        t = time.perf_counter()
        try:
            settings: dict[str, object] = {}
            if to_the_end and name == "pyvrp":
                settings["hand_over"] = False
                if snapshot is not None:
                    asked, answer = snapshot
                    settings["snapshot"] = (
                        asked.exists,
                        functools.partial(_write_snapshot, answer, t0, t, seed),
                    )
            before = [r.sequences for r in results if r.sequences]
            if chain and name == "pyvrp" and before:
                # PyVRP's search starts from the routes of the engine before it
                # on this core (`CHAIN_PYVRP`).
                settings["start"] = before[-1]
            engine = get_engine(name, **settings)
            left = until - time.perf_counter()
            counts_first = count_first and name == "vroom"
            if k == len(jobs) - 1:
                share = left
            elif chain and any(n == "pyvrp" for n, _ in jobs[k + 1 :]):
                share = left * (
                    COUNT_FIRST_CHAIN_SHARE if counts_first else SHORT_ENGINE_SHARE
                )
            elif counts_first or engine.support(problem).objective_is_exact:
                share = left
            else:
                share = left * SHORT_ENGINE_SHARE
            if share < left:
                # An engine that cannot answer within a short share gets what
                # it needs, up to all the time left (`FIRST_ANSWER_MARGIN`).
                needed = FIRST_ANSWER_MARGIN * engine.first_answer_s(len(allowed))
                share = min(left, max(share, needed))
            if share < 0.05:
                errors[name] = EngineRun(name, "skipped", "no time left")
                continue
            result = engine.solve(
                problem,
                matrices,
                allowed,
                time_limit_s=share,
                seed=seed,
                should_stop=should_stop,
                on_best=on_best if on_progress is not None else None,
            )
        except Exception as exc:  # an engine failure never sinks the solve
            logger.warning("engine %s failed: %s", name, exc)
            errors[name] = EngineRun(
                name,
                "failed",
                f"{type(exc).__name__}: {exc}"[:300],
                elapsed_s=time.perf_counter() - t,
            )
            continue
        stats = dict(result.stats, seed=float(seed), started_s=t - t0)
        if "start" in settings:
            stats["from_routes_before"] = 1.0
        results.append(replace(result, stats=stats))
    return results


def _write_snapshot(
    path: Path, t0: float, started: float, seed: int, sequences: Sequences, cost: float
) -> None:
    """Write PyVRP's routes so far as a result (`_run_engines`' ``snapshot``)."""
    now = time.perf_counter()
    stats = {"started_s": started - t0, "seed": float(seed), "snapshot_s": now - t0}
    _write(
        path,
        EngineResult(
            engine="pyvrp",
            sequences=sequences,
            status="snapshot",
            elapsed_s=now - started,
            cost=cost,
            stats=stats,
        ),
    )


def _polished(
    results: Sequence[EngineResult],
    problem: Problem,
    matrices: Mapping[str, TravelMatrix],
    allowed: Mapping[str, Sequence[int]],
    polish: _Polish,
    until: float,
) -> list[EngineResult]:
    """OR-Tools' guided local search from each engine's routes, until
    ``until``: the final phase of the core that ran PyVRP's first seed
    (`POLISH_FROM_SHARE`), each improved run a result of its own (status
    ``"polished"``, stats ``polish_s``). On a day with soft slots the model is
    the all-hard day's (``allowed``: `_on_time`), as in `_hard_phase`, so that
    the all-hard version of the day runs the very same search."""
    options, patience_s = polish.options, polish.patience_s
    model_problem = with_hard_slots(problem) if has_soft_slots(problem) else problem
    out: list[EngineResult] = []
    for result in results:
        if not result.sequences:
            continue
        t = time.perf_counter()
        search = RoutingSearch(model_problem, matrices, allowed, options=options)
        start = search.warm_start(result.sequences)
        if start is None:
            continue
        guided_local_search(search)
        raw = search.search(
            time_limit_s=max(0.05, until - time.perf_counter()),
            initial=start,
            patience_s=patience_s,
        )
        if raw.has_solution and raw.objective <= start.objective:
            stats = dict(result.stats, polish_s=time.perf_counter() - t)
            out.append(
                replace(result, sequences=raw.sequences, status="polished", stats=stats)
            )
    return out


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Linux: the child gets SIGKILL when the process that started it dies."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)


class _Spawned:
    """A child process started before its job is known (`_Child`): it imports
    the engines, then waits for its input file. A solve on two cores starts
    it first thing, so that the half second a fresh Python takes to import
    the engines passes while this process checks the engines and builds the
    job (a 300-order day: PyVRP's first seed searched from 0.94 s, its
    process having been started at 0.44 s). `discard` ends it unused."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="routing-engine-"))
        inp, out = self.dir / "in.pickle", self.dir / "out.pickle"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "routing.solver.portfolio", str(inp), str(out)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )

    def discard(self) -> None:
        """End the unused child and remove its folder."""
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        self.proc.communicate()
        self.remove_dir()

    def remove_dir(self) -> None:
        """Remove the folder of the child's input and output files."""
        for path in self.dir.iterdir():
            path.unlink()
        self.dir.rmdir()


class _Child:
    """Engines run in a child process (started here, or before: `_Spawned`),
    its input written to a file it waits for."""

    def __init__(
        self,
        jobs: Sequence[tuple[str, int]],
        payload: tuple[object, ...],
        *,
        until: float,
        t0: float,
        to_the_end: bool = False,
        polish: _Polish | None = None,
        snapshot: bool = False,
        spawned: _Spawned | None = None,
    ) -> None:
        self.jobs = list(jobs)
        self.has_snapshot = snapshot
        self.until = until
        self._process = spawned if spawned is not None else _Spawned()
        self._dir, self._proc = self._process.dir, self._process.proc
        inp, self._out = self._dir / "in.pickle", self._dir / "out.pickle"
        # An absolute deadline, not a budget: a child slow to start (imports
        # on a loaded machine take seconds) must not run past its parent's
        # deadline and be killed with its results. perf_counter() is the
        # system-wide monotonic clock on Linux, so both processes share it.
        # (Written at once: the child may already be waiting for it.)
        _write(inp, (self.jobs, until, t0, to_the_end, polish, snapshot, *payload))

    def snapshot(self) -> EngineResult | None:
        """PyVRP's best routes so far (status ``"snapshot"``), asked of a child
        started with ``snapshot``: None if it has none within `SNAPSHOT_WAIT_S`
        (nothing feasible yet, or its initial search under way)."""
        if not self.has_snapshot:
            return None
        asked, answer = (self._dir / name for name in SNAPSHOT_FILES)
        asked.touch()
        until = time.perf_counter() + SNAPSHOT_WAIT_S
        while not answer.exists():
            if time.perf_counter() >= until or self._proc.poll() is not None:
                return None
            time.sleep(0.005)
        with answer.open("rb") as f:
            result: EngineResult = pickle.load(f)
        return result

    def stop(self) -> None:
        """End the child now (a cancel): what it wrote so far is lost."""
        with contextlib.suppress(ProcessLookupError):
            self._proc.kill()

    def collect(self, *, errors: dict[str, EngineRun]) -> list[EngineResult]:
        """Wait for the child (killing it past its budget) and read its results."""
        names = ", ".join(n for n, _ in self.jobs)
        try:
            timeout = max(0.0, self.until - time.perf_counter()) + CHILD_GRACE_S
            try:
                _, err = self._proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                _, err = self._proc.communicate()
                logger.warning("engines %s overran their budget; stopped", names)
            if not self._out.exists():
                for name, _ in self.jobs:
                    errors.setdefault(
                        name,
                        EngineRun(
                            name,
                            "failed",
                            f"child process ended with {self._proc.returncode}: "
                            + err.decode(errors="replace")[-300:],
                        ),
                    )
                return []
            with self._out.open("rb") as f:
                results, failures = pickle.load(f)
            for name, text in failures:
                errors[name] = EngineRun(name, "failed", text)
            return list(results)
        finally:
            self._process.remove_dir()


def _child_main(inp: str, out: str) -> None:
    """Child process: import the engines, wait for the job file (`_Spawned`:
    started before its job was known), run its engines, write their results."""
    for module, _ in ENGINES.values():
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    job_file = Path(inp)
    waited = time.perf_counter()
    while not job_file.exists():
        if time.perf_counter() - waited > CHILD_JOB_WAIT_S:
            return  # (its parent gave up on it without ending it)
        time.sleep(CHILD_POLL_S)
    with open(inp, "rb") as f:
        jobs, until, t0, to_the_end, polish, snapshot, *job = pickle.load(f)
    problem, matrices, allowed = job
    until -= CHILD_WRITE_S
    asked, answer = (Path(out).with_name(name) for name in SNAPSHOT_FILES)
    failures: dict[str, EngineRun] = {}
    results = _run_engines(
        jobs,
        problem,
        matrices,
        allowed,
        until=until if polish is None else polish.from_,
        errors=failures,
        t0=t0,
        to_the_end=to_the_end,
        snapshot=(asked, answer) if snapshot else None,
    )
    if polish is not None:
        results += _polished(results, problem, matrices, allowed, polish, until)
    _write(Path(out), (results, [(n, r.reason) for n, r in failures.items()]))


def _write(path: Path, data: object) -> None:
    """Pickle ``data`` to ``path`` at once (a reader sees all of it or nothing)."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as f:
        pickle.dump(data, f, pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)


if __name__ == "__main__":
    _child_main(sys.argv[1], sys.argv[2])
