"""Several differently-tuned searches side by side, in processes; the best wins.

OR-Tools' iterated local search ends in quite different places depending on its
settings (benchmarks/README, "What we tried"), so with a second core the cheapest
gain is to run a second, differently-tuned search and keep the better plan.
"""

from __future__ import annotations

import logging
import pickle
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace

from routing.geo.matrix import TravelMatrix
from routing.model import Problem
from routing.solver._ortools import ProgressCallback, RawSolution, solve_routing
from routing.solver.options import SolveOptions

logger = logging.getLogger(__name__)

MIN_MEMBER_S = 1.0
"""A member that would have less than this left once started does not search."""


def solve_portfolio(
    problem: Problem,
    matrices: Mapping[str, TravelMatrix],
    allowed: Mapping[str, Sequence[int]],
    *,
    options: SolveOptions,
    on_progress: ProgressCallback | None = None,
) -> RawSolution:
    """Run ``options.searches`` searches until the same deadline; keep the best.

    Member 0 runs in this process (and reports progress); each other member runs
    in a fresh ``python -m routing.solver.portfolio`` process fed by a pipe, which
    works from scripts, notebooks and daemon workers alike. A member that fails
    is logged and ignored, so the result is never worse than the single search.
    """
    n = options.searches
    if n <= 1:
        return solve_routing(
            problem, matrices, allowed, options=options, on_progress=on_progress
        )
    deadline = time.time() + options.time_limit_s
    job = (problem, dict(matrices), dict(allowed), options, deadline)
    try:
        payload = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        logger.warning("portfolio unavailable (%s): one search only", exc)
        payload = b""
    members = [_Member(k, payload) for k in range(1, n)] if payload else []
    results = [
        (
            0,
            solve_routing(
                problem, matrices, allowed, options=options, on_progress=on_progress
            ),
        )
    ]
    for member in members:
        raw = member.result(timeout=max(5.0, deadline - time.time() + 30.0))
        if raw is not None:
            results.append((member.variant, raw))
    winner, best = min(results, key=lambda kr: _rank(kr[1]))
    stats = dict(best.stats)
    stats.update(searches=float(len(results)), winner=float(winner))
    return replace(best, stats=stats)


def _rank(raw: RawSolution) -> tuple[bool, int]:
    return (not raw.has_solution, raw.objective)


class _Member:
    """One portfolio search in a child process, driven from a thread."""

    def __init__(self, variant: int, payload: bytes) -> None:
        self.variant = variant
        self._raw: RawSolution | None = None
        self._payload = str(variant).encode() + b"\n" + payload
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._proc: subprocess.Popen[bytes] | None = None
        self._thread.start()

    def _run(self) -> None:
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "routing.solver.portfolio"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            out, err = self._proc.communicate(self._payload)
            if self._proc.returncode != 0:
                logger.warning(
                    "portfolio search %d failed (exit %s): %s",
                    self.variant,
                    self._proc.returncode,
                    err.decode(errors="replace")[-500:],
                )
                return
            raw = pickle.loads(out)
            if isinstance(raw, RawSolution):
                self._raw = raw
        except Exception as exc:  # a failed member never sinks the solve
            logger.warning("portfolio search %d failed: %s", self.variant, exc)

    def result(self, timeout: float) -> RawSolution | None:
        self._thread.join(timeout)
        if self._thread.is_alive() and self._proc is not None:
            logger.warning("portfolio search %d overran; stopped", self.variant)
            self._proc.kill()
            self._thread.join(5.0)
        return self._raw


def _member_main() -> None:
    """Child process: read a job from stdin, search, write the RawSolution."""
    variant = int(sys.stdin.buffer.readline())
    problem, matrices, allowed, options, deadline = pickle.loads(
        sys.stdin.buffer.read()
    )
    remaining = deadline - time.time()
    raw: RawSolution | None = None
    if remaining >= MIN_MEMBER_S:
        raw = solve_routing(
            problem,
            matrices,
            allowed,
            options=replace(options, time_limit_s=remaining),
            variant=variant,
        )
    sys.stdout.buffer.write(pickle.dumps(raw, protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    _member_main()
