"""The warm-start engine seam: what a compiled search declares and returns.

A warm-start engine (PyVRP, VROOM) solves the part of a Problem it can express,
relaxing the rest, and returns ordered routes. It never returns a Plan: OR-Tools
(``routing/solver/_ortools.py``) holds the full model, reads the routes as a
starting assignment, repairs what the relaxation broke and has the final word;
``routing/check.py`` re-checks the plan.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from routing.domain.model import Problem
from routing.geo.matrix import TravelMatrix

Sequences = dict[str, list[str]]
"""Vehicle id -> order ids in visiting order (vehicles with no stops left out)."""


NO_TIME = "no_time"
"""Status prefix of a result an engine did not search for because it could not
answer within its budget (VROOM's constructions on a very large day); the text
after ``"no_time: "`` says why, and the plan's engine list shows the engine as
skipped with it."""


@dataclass(frozen=True, slots=True)
class Support:
    """Whether an engine applies to a problem, and what it must relax.

    Parameters
    ----------
    applies
        False: the engine cannot give a useful warm start; ``reason`` says why.
    reason
        Why it does not apply ("" when it applies).
    relaxations
        One line per model feature the engine does not express exactly, saying
        how it is relaxed, e.g. ``"breaks: left out (OR-Tools places them)"``.
        Empty: the engine solves the same problem as OR-Tools.
    objective_is_exact
        The engine's objective is the full model's (what it relaxes is which
        routes are feasible, not what they cost), so its own search ranks
        routes as OR-Tools does and is worth running to its end.
    """

    applies: bool
    reason: str = ""
    relaxations: tuple[str, ...] = ()
    objective_is_exact: bool = False

    @property
    def is_exact(self) -> bool:
        """The engine expresses the whole model (same feasible set and cost)."""
        return self.applies and not self.relaxations


@dataclass(frozen=True, slots=True)
class EngineResult:
    """Routes from one engine run.

    Parameters
    ----------
    engine
        The engine's name.
    sequences
        Vehicle id -> order ids in visiting order; only orders that were in
        ``allowed``, each at most once, each on a vehicle allowed for it.
    status
        The engine's own word for how its search ended.
    elapsed_s
        Wall time of the run (model conversion included).
    relaxations
        As in ``Support``.
    cost
        The engine's own objective (its units; informative only).
    """

    engine: str
    sequences: Sequences
    status: str
    elapsed_s: float
    relaxations: tuple[str, ...] = ()
    cost: float | None = None
    stats: dict[str, float] = field(default_factory=dict)


class Engine(Protocol):
    """A compiled search that gives OR-Tools a starting plan."""

    name: str

    def support(self, problem: Problem) -> Support:
        """Whether this engine applies to ``problem`` and what it relaxes."""
        ...

    def first_answer_s(self, n_orders: int) -> float:
        """Seconds the engine needs on ``n_orders`` orders before it can
        return any routes (work its time limit cannot cut short); 0: it
        answers within any budget."""
        ...

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
        """Search for at most ``time_limit_s`` seconds and return routes.

        Parameters
        ----------
        problem
            The full problem.
        matrices
            Travel data per speed profile (``problem.profiles``), rows following
            ``problem.locations`` (depots, then orders).
        allowed
            The orders to plan (those that passed the pre-checks), each with the
            positions in ``problem.vehicles`` of the vehicles that may serve it
            (skills, vehicle kinds, capacity, shifts already applied). Orders not
            in it must not appear in the result.
        time_limit_s
            Wall-clock budget in seconds (> 0); the engine returns by then.
        seed
            Random seed, for reproducible runs.
        should_stop
            Polled where the engine can stop early (a cancel): True returns the
            best routes so far. An engine that cannot poll ends at its budget.
        on_best
            Called with the engine's best cost in ``_ortools.py`` objective
            units each time it improves (progress for the caller, who sees
            nothing else of a search that may take most of the time limit); an
            engine that cannot report during its search does not call it.
        """
        ...
