"""A job process whose engine can stop on request, the contract asked of routing
in issue 11: the real ``api.worker`` with ``routing.solver.solve`` replaced by a
stand-in that takes ``should_stop``.

The stand-in plans the day for real (a short deterministic solve), then keeps
"searching" (reporting its best objective) until it is asked to stop or its
time limit ends, and returns that plan with its stop reason.
Run as ``python tests/api/standin_worker.py`` (JobRunner.worker_command).
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import routing.solver
from routing.domain.plan import Plan

_real_solve = routing.solver.solve


def solve(
    problem: Any,
    travel: Any,
    *,
    options: Any = None,
    on_progress: Any = None,
    should_stop: Any = None,
) -> Plan:
    """The real plan of a 1-s deterministic search, handed back when stopped."""
    plan = _real_solve(
        problem,
        travel,
        options=replace(options, time_limit_s=1.0, is_deterministic=True),
    )
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < options.time_limit_s:
        if should_stop is not None and should_stop():
            return replace(plan, stop_reason="stopped on request")
        if on_progress is not None:
            on_progress(plan.objective, time.perf_counter() - t0)
        time.sleep(0.05)
    return plan


routing.solver.solve = solve  # type: ignore[assignment]

if __name__ == "__main__":
    from api.worker import main

    main()
