"""The job runner: a bounded queue, one process per running job, recovery on start.

How a job lives:

1. A request reserves a place (`JobRunner.reserve`; none left -> `QueueFull`, which
   the API answers with 429 and ``Retry-After``), stores plan and job in one
   transaction (state ``queued``), then hands the id to `JobRunner.submit`.
2. One of ``settings.workers`` runner threads takes it, marks it ``running`` and
   hands it to a ``python -m api.worker`` process in a new session (its own
   process group; a warm spare, started ahead so that the engine is imported
   already), or, with a Dask scheduler configured, to the same worker code on
   the cluster (`api.cluster`). The event loop never solves.
3. The child's progress lines (best cost so far, elapsed) are written to the job
   row; its result is stored with the plan in one transaction (``succeeded``), or
   its error (``failed``).
4. Cancel marks the job ``cancelled`` and stops the child. A plan or re-plan
   child gets SIGTERM first: when the engine can stop on request it ends its
   search and hands back the best plan found so far, which is stored, stopped
   early (``cancelled by user, best plan so far``), and can be published; after
   ``KEEP_BEST_GRACE_S`` (or at once when the child exits without a plan) its
   whole process group is killed, which really stops the search (portfolio
   searches and what-if pools included). Nothing found yet: cancelled without
   a plan.
5. On shutdown running children are killed and their jobs put back to ``queued``;
   on start, jobs left ``queued`` or ``running`` (also after a crash) are re-run,
   or marked failed and resumable (``settings.recovery``), so none is lost.

One service process owns the queue: run uvicorn with one worker process and scale
solves with ``ROUTING_WORKERS`` (or a Dask cluster).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import Database, JobRow, PlanRow, PromiseRow, now
from api.settings import Settings

logger = logging.getLogger(__name__)

TERMINAL = frozenset({"succeeded", "failed", "cancelled"})
"""Job states that never change again (except failed-and-resumable -> queued)."""

KILL_GRACE_S = 2.0
"""After SIGTERM, how long a job process may take before SIGKILL."""

KEEP_BEST_GRACE_S = 3.0
"""After SIGTERM, how long a plan or re-plan process may take to hand back its
best plan so far (the engine times the routes and explains unplanned orders)
before its process group is killed."""

STOPPED_EARLY = "cancelled by user, best plan so far"
"""The stop reason a plan kept from a cancelled search starts with."""

KEEPS_BEST = frozenset({"solve", "replan"})
"""Job kinds whose best plan so far is kept when they are cancelled."""


class QueueFull(Exception):
    """No place left in the job queue; retry after ``retry_after_s`` seconds."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__("the job queue is full; retry later")
        self.retry_after_s = retry_after_s


class JobRunner:
    """Runs jobs in worker processes (or on Dask), bounded, cancellable, recoverable.

    Parameters
    ----------
    db
        Where jobs, plans and progress are stored.
    settings
        ``workers`` (jobs at once), ``queue_size`` (jobs waiting), ``recovery``,
        ``max_attempts``, ``dask_scheduler``, ``solver_searches``,
        ``variant_workers``.
    """

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._lock = threading.RLock()
        self._reserved = 0
        self._queued: set[str] = set()
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._dask_running: dict[str, Any] = {}
        self._futures: dict[str, Future[str]] = {}
        self._cancelled: set[str] = set()
        self._threads: list[threading.Thread] = []
        self._stopping = False
        self._client: Any = None
        self._spare: subprocess.Popen[bytes] | None = None
        self.worker_command: list[str] = [sys.executable, "-m", "api.worker"]
        """The job process (tests put a stand-in engine behind the same
        protocol)."""

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the runner threads, then recover jobs a stopped service left."""
        self._stopping = False
        if self.settings.warm_worker and not self.settings.dask_scheduler:
            self._spare = self._spawn()
        for k in range(self.settings.workers):
            thread = threading.Thread(
                target=self._loop, name=f"job-runner-{k}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        self.recover()

    @property
    def is_alive(self) -> bool:
        """Whether every runner thread is running."""
        return bool(self._threads) and all(t.is_alive() for t in self._threads)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop: kill running job processes; their jobs stay queued for the next
        start, as do jobs still waiting."""
        self._stopping = True
        with self._lock:
            procs = list(self._procs.values())
            spare, self._spare = self._spare, None
            dask_jobs = list(self._dask_running)
        for proc in procs:
            _kill_group(proc, signal.SIGKILL)
        if spare is not None:
            _kill_group(spare, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                spare.wait(5)
        for job_id in dask_jobs:
            self._dask_cancel(job_id)
        for _ in self._threads:
            self._queue.put(None)
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.1, deadline - time.monotonic()))
        self._threads.clear()
        if self._client is not None:
            self._client.close()
            self._client = None

    def recover(self) -> list[str]:
        """Re-queue (or fail, resumable) the jobs left queued or running.

        Returns the ids of the jobs re-queued.
        """
        requeued: list[str] = []
        with self.db.session() as session:
            rows = session.scalars(
                select(JobRow)
                .where(JobRow.state.in_(("queued", "running")))
                .order_by(JobRow.created_at)
            ).all()
            for job in rows:
                if job.id in self._futures:
                    continue  # already ours
                was = job.state
                if (
                    self.settings.recovery == "rerun"
                    and job.attempts < self.settings.max_attempts
                ):
                    job.state = "queued"
                    job.best_cost = job.elapsed_s = None
                    requeued.append(job.id)
                    logger.info("recovered job %s (was %s): re-run", job.id, was)
                else:
                    self._fail(
                        session,
                        job,
                        {
                            "code": "interrupted",
                            "message": "the service stopped while this job was "
                            f"{was}; POST /v1/jobs/{job.id}/resume runs it again",
                            "path": "",
                        },
                        is_resumable=True,
                    )
                    logger.info("recovered job %s (was %s): failed", job.id, was)
        for job_id in requeued:
            with self._lock:
                self._reserved += 1
            self.submit(job_id)
        return requeued

    # -------------------------------------------------------------------- queueing

    def reserve(self) -> None:
        """Take a place in the queue for a job about to be stored.

        Raises
        ------
        QueueFull
            When ``workers + queue_size`` jobs are already running or waiting.
        """
        with self._lock:
            if self._reserved >= self.settings.workers + self.settings.queue_size:
                raise QueueFull(self.settings.retry_after_s)
            self._reserved += 1

    def release(self) -> None:
        """Give back a reservation whose job was not stored."""
        with self._lock:
            self._reserved = max(0, self._reserved - 1)

    def submit(self, job_id: str) -> Future[str]:
        """Queue a stored job (after `reserve`); the future gets its final state."""
        future: Future[str] = Future()
        with self._lock:
            self._futures[job_id] = future
            self._queued.add(job_id)
        self._queue.put(job_id)
        return future

    def cancel(self, job_id: str) -> str | None:
        """Cancel a job: a queued one never starts, a running one is killed.

        Returns the job's state afterwards, or None if there is no such job.
        """
        with self.db.session() as session:
            job = session.get(JobRow, job_id)
            if job is None:
                return None
            if job.state in TERMINAL:
                if job.state == "failed" and job.is_resumable:
                    job.is_resumable = False
                    job.state = "cancelled"
                    _set_plan_status(session, job, "cancelled")
                return job.state
            job.state = "cancelled"
            job.finished_at = now()
            _set_plan_status(session, job, "cancelled")
            kind = job.kind
        with self._lock:
            self._cancelled.add(job_id)
            if job_id in self._queued:
                self._queued.discard(job_id)
                self._reserved = max(0, self._reserved - 1)
                self._resolve(job_id, "cancelled")
            proc = self._procs.get(job_id)
        if proc is not None:
            if kind in KEEPS_BEST:
                # The leader only: it may end its search and report its best
                # plan; `_run_local` kills the group once it has exited.
                _signal_leader(proc, signal.SIGTERM)
                grace_s = KEEP_BEST_GRACE_S
            else:
                _kill_group(proc, signal.SIGTERM)
                grace_s = KILL_GRACE_S
            threading.Timer(grace_s, _kill_group, args=(proc, signal.SIGKILL)).start()
        if job_id in self._dask_running:
            self._dask_cancel(job_id)
        logger.info("job %s cancelled", job_id)
        return "cancelled"

    def settle(self, job_id: str, timeout_s: float) -> None:
        """Wait up to ``timeout_s`` for a job this runner holds to end (a
        cancelled job handing back its best plan)."""
        with self._lock:
            future = self._futures.get(job_id)
        if future is not None:
            with contextlib.suppress(Exception):
                future.result(timeout=timeout_s)

    def resume(self, job_id: str) -> bool:
        """Queue a failed-and-resumable job again (after `reserve`)."""
        with self.db.session() as session:
            job = session.get(JobRow, job_id)
            if job is None or job.state != "failed" or not job.is_resumable:
                return False
            job.state = "queued"
            job.error = None
            job.is_resumable = False
            job.attempts = 0
            job.finished_at = None
            _set_plan_status(session, job, "pending")
        self.submit(job_id)
        return True

    @property
    def load(self) -> dict[str, int]:
        """Jobs running and waiting in this runner, and the capacity."""
        with self._lock:
            return {
                "running": len(self._procs) + len(self._dask_running),
                "waiting": len(self._queued),
                "capacity": self.settings.workers + self.settings.queue_size,
            }

    # --------------------------------------------------------------------- running

    def _loop(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None or self._stopping:
                return
            with self._lock:
                if job_id not in self._queued:
                    continue  # cancelled while waiting
                self._queued.discard(job_id)
            try:
                self._run(job_id)
            except Exception:  # keep the runner alive whatever one job does
                logger.exception("job %s: runner error", job_id)
                with self.db.session() as session:
                    job = session.get(JobRow, job_id)
                    if job is not None and job.state not in TERMINAL:
                        self._fail(
                            session,
                            job,
                            {
                                "code": "internal",
                                "message": "the job runner failed",
                                "path": "",
                            },
                            is_resumable=True,
                        )
                self._resolve(job_id, "failed")
            finally:
                with self._lock:
                    self._reserved = max(0, self._reserved - 1)

    def _run(self, job_id: str) -> None:
        with self.db.session() as session:
            job = session.get(JobRow, job_id)
            if job is None or job.state != "queued":
                self._resolve(job_id, job.state if job else "failed")
                return
            job.state = "running"
            job.started_at = now()
            job.attempts += 1
            attempt = job.attempts
            payload = build_payload(session, job, self.settings)
        logger.info("job %s (%s) started, attempt %d", job_id, payload["kind"], attempt)
        if self.settings.dask_scheduler:
            messages = self._run_dask(job_id, payload, attempt)
        else:
            messages = self._run_local(job_id, payload)
        self._finish(job_id, messages)

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            self.worker_command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,  # its own process group: cancel kills it all
        )

    def _take_process(self) -> subprocess.Popen[bytes]:
        """A job process: the warm spare (engine already imported) if there is
        one, and a new spare is started for the next job."""
        with self._lock:
            proc, self._spare = self._spare, None
        if proc is None or proc.poll() is not None:
            proc = self._spawn()
        if self.settings.warm_worker and not self._stopping:
            spare = self._spawn()
            with self._lock:
                self._spare = spare
        return proc

    def _run_local(
        self, job_id: str, payload: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        proc = self._take_process()
        with self._lock:
            self._procs[job_id] = proc
        try:
            if job_id in self._cancelled or self._stopping:
                _kill_group(proc, signal.SIGKILL)
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(json.dumps(payload).encode())
                proc.stdin.close()
            except BrokenPipeError:
                pass
            final: list[dict[str, Any]] = []
            for line in proc.stdout:
                message = json.loads(line)
                if message.get("type") == "progress":
                    self._progress(job_id, message)
                else:
                    final.append(message)
            if job_id in self._cancelled:
                # Its output is closed: whatever it left running (engine
                # children) goes too. Before wait(): the pid stays ours.
                _signal_group(proc.pid, signal.SIGKILL)
            proc.wait()
            if not final:
                final.append(
                    {
                        "type": "error",
                        "code": "internal",
                        "message": f"the job process exited with code "
                        f"{proc.returncode} before reporting a result",
                        "path": "",
                    }
                )
            return final
        finally:
            with self._lock:
                self._procs.pop(job_id, None)

    def _dask(self) -> Any:
        if self._client is None:
            from api.cluster import register_by_value

            register_by_value()
            self._client = _distributed().Client(self.settings.dask_scheduler)
        return self._client

    def _run_dask(
        self, job_id: str, payload: Mapping[str, Any], attempt: int
    ) -> list[dict[str, Any]]:
        from api import cluster

        client = self._dask()
        if payload["kind"] == "whatif":
            # Variants run side by side as tasks on the cluster; the comparison
            # itself (cheap) runs here.
            from api import domain
            from api.worker import error_body

            with self._lock:
                self._dask_running[job_id] = None
            try:
                from api.worker import WhatifSteps, _options

                steps = WhatifSteps(
                    lambda message: self._progress(job_id, message),
                    1 + len(payload["variants"]),
                )
                result = domain.run_whatif(
                    payload,
                    options=_options(payload["options"]),
                    map_fn=cluster.dask_map(client, on_row=steps),
                )
                return [{"type": "result", **result}]
            except Exception as exc:
                return [{"type": "error", **error_body(exc)}]
            finally:
                with self._lock:
                    self._dask_running.pop(job_id, None)
        progress = _distributed().Queue(cluster.progress_queue(job_id), client=client)
        future = cluster.submit(client, json.dumps(payload).encode(), job_id, attempt)
        with self._lock:
            self._dask_running[job_id] = future
        try:
            while not future.done():
                try:
                    message = progress.get(timeout=0.5)
                except TimeoutError:
                    continue
                except Exception:  # the queue's own timeout type varies by version
                    continue
                self._progress(job_id, message)
            final: list[dict[str, Any]] = future.result()
            return final
        except Exception as exc:
            return [
                {
                    "type": "error",
                    "code": "internal",
                    "message": f"Dask task failed: {type(exc).__name__}: {exc}",
                    "path": "",
                }
            ]
        finally:
            with self._lock:
                self._dask_running.pop(job_id, None)

    def _dask_cancel(self, job_id: str) -> None:
        from api import cluster

        try:
            event = cluster.cancel_event(job_id)
            _distributed().Event(event, client=self._dask()).set()
        except Exception:
            logger.exception("job %s: could not signal the Dask task", job_id)

    def _progress(self, job_id: str, message: Mapping[str, Any]) -> None:
        with self.db.session() as session:
            job = session.get(JobRow, job_id)
            if job is not None and job.state == "running":
                if message.get("best_cost") is not None:
                    job.best_cost = float(message["best_cost"])
                if message.get("elapsed_s") is not None:
                    job.elapsed_s = float(message["elapsed_s"])
                if message.get("steps_total") is not None:
                    job.steps_done = int(message.get("steps_done") or 0)
                    job.steps_total = int(message["steps_total"])

    def _finish(self, job_id: str, messages: list[dict[str, Any]]) -> None:
        final = messages[-1]
        with self.db.session() as session:
            job = session.get(JobRow, job_id)
            if job is None:
                return
            if job.state == "cancelled" or job_id in self._cancelled:
                state = job.state = "cancelled"
                job.finished_at = job.finished_at or now()
                _set_plan_status(session, job, "cancelled")
                if final.get("type") == "result" and keep_best(session, job, final):
                    logger.info("job %s cancelled; its best plan is kept", job_id)
            elif self._stopping and final.get("type") != "result":
                # Killed by the shutdown: leave it for the next start.
                job.state = "queued"
                state = "queued"
                logger.info("job %s interrupted by shutdown; re-runs on start", job_id)
            elif final.get("type") == "result":
                apply_result(session, job, final)
                state = job.state
            else:
                error = {k: v for k, v in final.items() if k != "type"}
                resumable = error.get("code") == "internal"
                self._fail(session, job, error, is_resumable=resumable)
                state = "failed"
        self._resolve(job_id, state)
        logger.info("job %s finished: %s", job_id, state)

    def _fail(
        self,
        session: Session,
        job: JobRow,
        error: dict[str, Any],
        *,
        is_resumable: bool,
    ) -> None:
        job.state = "failed"
        job.error = error
        job.is_resumable = is_resumable
        job.finished_at = now()
        _set_plan_status(session, job, "failed")

    def _resolve(self, job_id: str, state: str) -> None:
        with self._lock:
            future = self._futures.pop(job_id, None)
            self._cancelled.discard(job_id)
        if future is not None and not future.done():
            future.set_result(state)


def _distributed() -> Any:
    """The dask.distributed module (optional; untyped)."""
    import importlib

    return importlib.import_module("distributed")


def _kill_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    if proc.poll() is not None:
        return
    _signal_group(proc.pid, sig)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    """Signal a process group, also after its leader exited (not reaped yet)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _signal_leader(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(proc.pid, sig)


def _set_plan_status(session: Session, job: JobRow, status: str) -> None:
    if job.plan_id is None:
        return
    plan = session.get(PlanRow, job.plan_id)
    if plan is not None:
        plan.status = status


def latest_promises(session: Session, lineage_id: str) -> dict[str, dict[str, Any]]:
    """The newest promise given to each order of a plan lineage, by order id."""
    rows = session.scalars(
        select(PromiseRow)
        .where(PromiseRow.lineage_id == lineage_id)
        .order_by(PromiseRow.issued_at, PromiseRow.id)
    ).all()
    return {row.order_id: dict(row.promise) for row in rows}


def build_payload(session: Session, job: JobRow, settings: Settings) -> dict[str, Any]:
    """Everything the job process needs, read from the database."""
    options = dict(job.request.get("options", {}))
    options.setdefault("workers", settings.solver_searches)
    if job.kind == "solve":
        plan = session.get(PlanRow, job.plan_id)
        assert plan is not None
        return {"kind": "solve", "problem": plan.problem, "options": options}
    if job.kind == "replan":
        parent = session.get(PlanRow, job.request["parent_plan_id"])
        assert parent is not None and parent.plan is not None
        return {
            "kind": "replan",
            "plan": parent.plan,
            "request": job.request["replan"],
            "problem": job.request["base_problem"],
            "chain": job.request.get("chain"),
            "promises": latest_promises(session, parent.lineage_id),
            "options": options,
        }
    if job.kind == "whatif":
        return {
            "kind": "whatif",
            "problem": job.request["problem"],
            "variants": job.request["variants"],
            "options": options,
            "variant_workers": settings.variant_workers,
        }
    raise ValueError(f"unknown job kind {job.kind!r}")


def apply_result(session: Session, job: JobRow, result: Mapping[str, Any]) -> None:
    """Store a job's result: plan (and problem, ETA changes) or the what-if table."""
    job.state = "succeeded"
    job.finished_at = now()
    if job.kind == "whatif":
        job.result = {"rows": result["rows"], "markdown": result.get("markdown", "")}
        return
    _store_plan(session, job, result)
    job.result = {"violations": list(result.get("violations", []))}


def keep_best(session: Session, job: JobRow, result: Mapping[str, Any]) -> bool:
    """Store the best plan a cancelled plan or re-plan job handed back, stopped
    early (its stop reason starts with `STOPPED_EARLY`); the job stays
    cancelled. A result without routes (nothing found yet) is dropped.

    Returns whether a plan was kept.
    """
    plan = result.get("plan")
    if (
        job.kind not in KEEPS_BEST
        or not isinstance(plan, Mapping)
        or plan.get("status") not in ("solved", "partial")
    ):
        return False
    plan_dict = dict(plan)
    search = dict(plan_dict.get("search") or {})
    reason = str(search.get("stop_reason") or "")
    search["stop_reason"] = f"{STOPPED_EARLY}; {reason}" if reason else STOPPED_EARLY
    plan_dict["search"] = search
    _store_plan(session, job, {**result, "plan": plan_dict})
    row = session.get(PlanRow, job.plan_id)
    assert row is not None
    row.is_stopped_early = True
    job.result = {
        "violations": list(result.get("violations", [])),
        "stopped_early": True,
    }
    return True


def _store_plan(session: Session, job: JobRow, result: Mapping[str, Any]) -> None:
    plan = session.get(PlanRow, job.plan_id)
    assert plan is not None
    plan_dict = dict(result["plan"])
    plan.plan = plan_dict
    plan.status = str(plan_dict["status"])
    totals = plan_dict.get("totals")
    if isinstance(totals, Mapping):
        plan.cost = float(totals.get("cost", 0.0))
    unplanned = plan_dict.get("unplanned")
    plan.unplanned = len(unplanned) if isinstance(unplanned, list) else 0
    if job.kind == "replan":
        plan.problem = dict(result["problem"])
        plan.eta_changes = list(result.get("eta_changes", []))
        plan.replan = dict(result.get("replan", {}))
        orders = plan.problem.get("orders")
        plan.orders = len(orders) if isinstance(orders, list) else 0
