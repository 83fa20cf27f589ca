"""SolveOptions: how long and how the solver searches."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

FIRST_SOLUTION_STRATEGIES = (
    "automatic",
    "path_cheapest_arc",
    "parallel_cheapest_insertion",
    "local_cheapest_insertion",
    "local_cheapest_cost_insertion",
    "sequential_cheapest_insertion",
    "global_cheapest_arc",
    "savings",
    "parallel_savings",
    "christofides",
    "best_insertion",
    "path_most_constrained_arc",
)
"""OR-Tools first-solution strategies, by lowercase name."""

METAHEURISTICS = (
    "automatic",
    "greedy_descent",
    "guided_local_search",
    "simulated_annealing",
    "tabu_search",
    "generic_tabu_search",
    "iterated_local_search",
)
"""OR-Tools local-search metaheuristics, by lowercase name."""


KNOWN_ENGINES = ("pyvrp", "vroom")
"""Names of ``routing.solver.engines.ENGINES`` (checked by a test)."""

DEFAULT_ENGINES = KNOWN_ENGINES
"""Warm-start engines tried by default (``routing/solver/engines/``)."""

MAX_AUTO_WORKERS = 2
"""Searches run side by side by default (one per core, at most this many)."""

MAX_SEED = 2**31 - 1
"""Largest ``SolveOptions.seed`` (PyVRP's generator takes 32-bit seeds; restarts
and side-by-side searches add small offsets, see
``routing.solver.engines.pyvrp_engine.RESTART_SEED_STEP``)."""

PORTFOLIO_MIN_S = 5.0
"""Below this time limit a single search runs: starting processes costs ~1 s."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SolveOptions:
    """How the solver searches.

    Parameters
    ----------
    time_limit_s
        Wall-clock budget for the search, seconds (> 0). The solver always stops
        by then and returns the best plan found.
    first_solution
        Construction heuristic, one of ``FIRST_SOLUTION_STRATEGIES``.
    metaheuristic
        Improvement strategy, one of ``METAHEURISTICS``.
    is_deterministic
        For tests and reproducible runs: plain descent to the first local
        optimum, independent of machine speed (``time_limit_s`` then only bounds
        it as a safety net).
    solution_limit
        Stop after this many improving solutions (None: no limit).
    log_search
        Let OR-Tools print its search log to stderr.
    workers
        Cores the search uses: warm-start engines run side by side in child
        processes, one per core (``routing/solver/portfolio.py``). None: one per
        core, at most ``MAX_AUTO_WORKERS``. One core below ``PORTFOLIO_MIN_S`` or
        for a deterministic search.
    engines
        Compiled searches that warm-start OR-Tools (names in
        ``routing.solver.engines.ENGINES``); ``()`` runs OR-Tools alone.
    seed
        Random seed of the warm-start engines (PyVRP; the k-th search side by
        side uses ``seed + k``). A planner comparing what-if variants or a
        benchmark comparing solvers fixes it; the searches still stop on the
        clock, so the same seed on a busier machine may end elsewhere.
        ``is_deterministic`` gives identical plans.
    """

    time_limit_s: float = 10.0
    first_solution: str = "parallel_cheapest_insertion"
    metaheuristic: str = "iterated_local_search"
    is_deterministic: bool = False
    solution_limit: int | None = None
    log_search: bool = False
    workers: int | None = None
    engines: tuple[str, ...] = DEFAULT_ENGINES
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.time_limit_s > 0:
            raise ValueError(f"time_limit_s must be > 0, got {self.time_limit_s!r}")
        if self.first_solution not in FIRST_SOLUTION_STRATEGIES:
            raise ValueError(
                f"first_solution {self.first_solution!r} is not one of "
                f"{list(FIRST_SOLUTION_STRATEGIES)}"
            )
        if self.metaheuristic not in METAHEURISTICS:
            raise ValueError(
                f"metaheuristic {self.metaheuristic!r} is not one of "
                f"{list(METAHEURISTICS)}"
            )
        if self.workers is not None and not 1 <= self.workers <= 64:
            raise ValueError(f"workers must be in [1, 64] or None, got {self.workers}")
        if isinstance(self.engines, str) or not all(
            isinstance(e, str) for e in self.engines
        ):
            raise ValueError(f"engines must be a tuple of names, got {self.engines!r}")
        for name in self.engines:
            if name not in KNOWN_ENGINES:
                raise ValueError(f"engine {name!r} is not one of {list(KNOWN_ENGINES)}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError(f"seed must be an integer, got {self.seed!r}")
        if not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"seed must be in [0, {MAX_SEED}], got {self.seed}")
        if self.solution_limit is not None and self.solution_limit < 1:
            raise ValueError(f"solution_limit must be >= 1, got {self.solution_limit}")

    @property
    def searches(self) -> int:
        """How many searches run side by side with these options."""
        if self.is_deterministic or self.time_limit_s < PORTFOLIO_MIN_S:
            return 1
        if self.workers is not None:
            return self.workers
        return max(1, min(MAX_AUTO_WORKERS, os.cpu_count() or 1))


MIN_SEARCH_S = 0.2
"""Search time a solve keeps when preparing it (travel matrices) used up its
time limit: enough for a first solution."""


def remaining(options: SolveOptions, started_s: float, now_s: float) -> SolveOptions:
    """``options`` with the time limit reduced by the time spent since
    ``started_s`` (``time.perf_counter()`` values), at least `MIN_SEARCH_S`:
    a re-plan's or variant's time limit covers its travel matrices too."""
    left = options.time_limit_s - (now_s - started_s)
    return replace(options, time_limit_s=max(MIN_SEARCH_S, left))
