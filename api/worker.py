"""The job process: reads one job as JSON on stdin, solves it, reports on stdout.

Every solve, re-plan and what-if comparison runs in a process of its own started
with ``python -m api.worker`` (or, on a Dask worker, the same `main` shipped by
value), never in the service's process: the search is CPU-bound and holds the GIL,
and a process can really be stopped (cancel = terminate its process group).

Protocol: one JSON object in (``{"kind": "solve" | "replan" | "whatif", ...}``),
JSON lines out, each ``{"type": "progress", "best_cost", "elapsed_s"}`` (what-if
also ``steps_done``, ``steps_total``), then one ``{"type": "result", ...}`` or
``{"type": "error", "code", "message", "path", "entity_id"}``. Anything else the
engine prints goes to stderr.

Dying with the server: the service starts this process in a process group of
its own with ``PR_SET_PDEATHSIG`` = SIGHUP (`api.jobs`); SIGHUP kills the group.

Stopping: SIGTERM asks a plan or re-plan to stop. When the engine can stop on
request (its ``solve``/``replan`` takes ``should_stop``, see `can_stop`), the
search ends and the result (``"stopped": true``) carries the best plan found so
far; otherwise SIGTERM ends the process at once, as it always did.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from typing import IO, Any

from api import domain
from routing.domain.errors import InvalidProblemError, MatrixError, RoutingError

logger = logging.getLogger(__name__)

PROGRESS_EVERY_S = 0.25
"""Progress lines at most this often: OR-Tools accepts many solutions a second."""

Emit = Callable[[dict[str, Any]], None]


class StopRequest:
    """Set by SIGTERM: the service cancelled the job. Called by an engine that
    can stop on request (True: end the search, return the best plan so far)."""

    def __init__(self) -> None:
        self.is_set = False

    def set(self, *_: object) -> None:
        """Ask the search to stop (usable as a signal handler)."""
        self.is_set = True

    def __call__(self) -> bool:
        return self.is_set


def can_stop(kind: str) -> bool:
    """Whether a job of this kind can end early with its best plan on SIGTERM:
    the engine's ``solve`` (plans) or ``replan`` (re-plans) takes a
    ``should_stop`` callback."""
    if kind == "solve":
        from routing.solver import solve

        return domain.accepts(solve, "should_stop")
    if kind == "replan":
        from routing.day.replan import replan

        return domain.accepts(replan, "should_stop")
    return False


def error_body(exc: BaseException) -> dict[str, Any]:
    """The ``{code, message, path, entity_id}`` of an exception a job raised."""
    if isinstance(exc, InvalidProblemError):
        return {
            "code": "invalid_input",
            "message": exc.message,
            "path": exc.path,
            "entity_id": exc.entity_id,
        }
    if isinstance(exc, MatrixError | RoutingError):
        return {"code": "routing_error", "message": str(exc), "path": ""}
    if isinstance(exc, ValueError):
        return {"code": "invalid_input", "message": str(exc), "path": ""}
    return {"code": "internal", "message": f"{type(exc).__name__}: {exc}", "path": ""}


def _options(raw: Mapping[str, Any], *, spent_s: float = 0.0) -> Any:
    """The job's solve options; ``spent_s`` (building the travel matrix) is taken
    off its time limit (`routing.solver.options.remaining`)."""
    from routing.solver import SolveOptions
    from routing.solver.options import remaining

    options = SolveOptions(
        time_limit_s=float(raw.get("time_limit_s", 10.0)),
        is_deterministic=bool(raw.get("is_deterministic", False)),
        workers=raw.get("workers"),
        seed=int(raw.get("seed", 0)),
    )
    return remaining(options, 0.0, spent_s)


class _Throttle:
    """Forwards (best objective, elapsed) as progress lines, at most every 0.25 s."""

    def __init__(self, emit: Emit) -> None:
        self.emit = emit
        self.last = -1.0

    def __call__(self, objective: int, elapsed_s: float) -> None:
        from routing.domain.units import COST_SCALE

        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY_S:
            return
        self.last = now
        self.emit(
            {
                "type": "progress",
                "best_cost": objective / COST_SCALE,
                "elapsed_s": round(elapsed_s, 3),
            }
        )


def run_solve(job: Mapping[str, Any], emit: Emit, stop: StopRequest) -> dict[str, Any]:
    """Solve a problem; the result holds the plan dict and checker findings."""
    from routing.check import check_plan
    from routing.formats import plan_to_dict, problem_from_dict
    from routing.geo.providers import build_travel
    from routing.solver import solve

    started = time.monotonic()
    problem = problem_from_dict(job["problem"])
    travel = build_travel(problem)  # counted in the job's time limit
    options = _options(job["options"], spent_s=time.monotonic() - started)
    extra: dict[str, Any] = {}
    if domain.accepts(solve, "should_stop"):
        extra["should_stop"] = stop
    plan = solve(
        problem,
        travel,
        options=options,
        on_progress=_Throttle(emit),
        **extra,
    )
    violations = [str(v) for v in check_plan(problem, plan, travel)]
    if violations:
        logger.warning("plan failed the checker: %s", violations[:5])
    return {
        "plan": plan_to_dict(plan, problem),
        "violations": violations,
        "stopped": stop.is_set,
    }


def run_replan(job: Mapping[str, Any], emit: Emit, stop: StopRequest) -> dict[str, Any]:
    """Re-plan during the day from the parent plan, vehicle states and order
    changes, reporting the search's progress like a solve."""
    result = domain.run_replan(
        job,
        options=_options(job["options"]),
        on_progress=_Throttle(emit),
        should_stop=stop,
    )
    return {**result, "stopped": stop.is_set}


class WhatifSteps:
    """Progress of a what-if: solves finished of all, elapsed time and, once the
    base day is solved, its total cost (what the variants are compared with)."""

    def __init__(self, emit: Emit, total: int) -> None:
        self.emit = emit
        self.total = total
        self.done = 0
        self.base_cost: float | None = None
        self.t0 = time.monotonic()
        self._report()

    def __call__(self, row: Any) -> None:
        self.done += 1
        from routing.day.whatif import BASE_NAME

        if isinstance(row, Mapping) and row.get("name") == BASE_NAME:
            cost = row.get("total_cost", row.get("cost"))
            if isinstance(cost, int | float) and not isinstance(cost, bool):
                self.base_cost = float(cost)
        self._report()

    def _report(self) -> None:
        self.emit(
            {
                "type": "progress",
                "best_cost": self.base_cost,
                "elapsed_s": round(time.monotonic() - self.t0, 3),
                "steps_done": self.done,
                "steps_total": self.total,
            }
        )


def run_whatif(job: Mapping[str, Any], emit: Emit, stop: StopRequest) -> dict[str, Any]:
    """Solve the variants of a base problem; the result is the KPI table.
    Progress: solves finished of all (base day included)."""
    steps = WhatifSteps(emit, 1 + len(job["variants"]))
    workers = int(job.get("variant_workers", 1))
    if workers <= 1:
        return domain.run_whatif(
            job, options=_options(job["options"]), map_fn=_counting_map(steps)
        )
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # Children of this process share its process group: a cancel stops them too.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return domain.run_whatif(
            job, options=_options(job["options"]), map_fn=_pool_map(pool, steps)
        )


def _counting_map(on_row: Callable[[Any], None]) -> domain.MapFn:
    """``map`` in this process, one call after the other, reporting each."""

    def _map(fn: Callable[..., Any], *iterables: Iterable[Any]) -> list[Any]:
        out = []
        for args in zip(*iterables, strict=True):
            out.append(fn(*args))
            on_row(out[-1])
        return out

    return _map


def _pool_map(pool: Any, on_row: Callable[[Any], None]) -> domain.MapFn:
    """``map`` on a process pool, reporting each call as it ends; results in
    order."""
    from concurrent.futures import as_completed

    def _map(fn: Callable[..., Any], *iterables: Iterable[Any]) -> list[Any]:
        futures = [pool.submit(fn, *args) for args in zip(*iterables, strict=True)]
        for future in as_completed(futures):
            on_row(future.result())
        return [f.result() for f in futures]

    return _map


RUNNERS: dict[str, Callable[[Mapping[str, Any], Emit, StopRequest], dict[str, Any]]] = {
    "solve": run_solve,
    "replan": run_replan,
    "whatif": run_whatif,
}
"""Job kind -> the function that runs it."""


def execute(
    job: Mapping[str, Any], emit: Emit, stop: StopRequest | None = None
) -> None:
    """Run one job, emitting progress, then its result or its error."""
    try:
        result = RUNNERS[job["kind"]](job, emit, stop or StopRequest())
    except Exception as exc:
        logger.exception("job failed")
        emit({"type": "error", **error_body(exc)})
        return
    emit({"type": "result", **result})


def _end_group(*_: object) -> None:
    """The server died (its ``PR_SET_PDEATHSIG``): end this job's whole process
    group, engine children and what-if pools included, this process last."""
    os.killpg(0, signal.SIGKILL)


def main() -> None:
    """Entry point of a job process: stdin JSON in, JSON lines out."""
    # First: the service's job runner asks for SIGHUP when the service dies.
    signal.signal(signal.SIGHUP, _end_group)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    # The protocol owns the real stdout; anything printed goes to stderr.
    out: IO[str] = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    data = sys.stdin.buffer.read()
    if not data:  # a warm spare whose service stopped: nothing to do
        return
    job = json.loads(data)

    def emit(message: dict[str, Any]) -> None:
        out.write(json.dumps(message, separators=(",", ":")) + "\n")
        out.flush()

    stop = StopRequest()
    if can_stop(job.get("kind", "")):
        signal.signal(signal.SIGTERM, stop.set)
    execute(job, emit, stop)
    out.close()


if __name__ == "__main__":
    main()
