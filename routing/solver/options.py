"""SolveOptions: how long and how the solver searches."""

from __future__ import annotations

from dataclasses import dataclass

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
    """

    time_limit_s: float = 10.0
    first_solution: str = "parallel_cheapest_insertion"
    metaheuristic: str = "iterated_local_search"
    is_deterministic: bool = False
    solution_limit: int | None = None
    log_search: bool = False

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
        if self.solution_limit is not None and self.solution_limit < 1:
            raise ValueError(f"solution_limit must be >= 1, got {self.solution_limit}")
