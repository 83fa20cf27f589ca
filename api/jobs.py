"""The job runner: a bounded queue, one process per running job, leases, recovery.

How a job lives:

1. A request reserves a place (`JobRunner.reserve`; none left -> `QueueFull`, which
   the API answers with 429 and ``Retry-After``), stores plan and job in one
   transaction (state ``queued``), then hands the id to `JobRunner.submit`.
2. A runner thread (``settings.workers`` of them) *claims* it: one UPDATE sets
   ``running``, ``claimed_by`` (this server: host, pid, random part) and
   ``lease_until``, and only succeeds while the job is still ``queued``, so no
   two servers (or threads) ever run the same job. On SQLite one service process
   owns the queue and the ids travel through an in-process queue; on PostgreSQL
   the table *is* the queue: every server's threads take the oldest queued job
   with ``SELECT ... FOR UPDATE SKIP LOCKED``, so several service processes (and
   hosts) share the work. The job is handed to a ``python -m api.worker`` process
   in a new session (its own process group; a warm spare, started ahead so that
   the engine is imported already) that dies with its server (`_die_with_server`),
   or, with a Dask scheduler configured, to the same worker code on the cluster
   (`api.cluster`; a task outlives a dead server there, so a job taken over
   stops the old run's child before its new run's child starts). The event loop
   never solves.
3. While a job runs, a heartbeat renews its lease (every third of ``lease_s``). A
   ``running`` job whose lease lapsed belongs to a server that is gone: only then
   is it re-queued (or failed and resumable, ``settings.recovery``), by any
   server. A server whose lease on a job was lost stops that job and drops its
   result. Cancels made through another server reach the running one through the
   database (checked every ``poll_s``).
4. The child's progress lines (best cost so far, elapsed) are written to the job
   row; its result is stored with the plan in one transaction (``succeeded``), or
   its error (``failed``). A child that dies without a result (killed, crashed)
   leaves the job failed and resumable (``interrupted``).
5. Cancel marks the job ``cancelled`` and stops the child. A plan or re-plan
   child gets SIGTERM first: when the engine can stop on request it ends its
   search and hands back the best plan found so far, which is stored, stopped
   early (``cancelled by user, best plan so far``), and can be published; after
   ``KEEP_BEST_GRACE_S`` (or at once when the child exits without a plan) its
   whole process group is killed, which really stops the search (portfolio
   searches and what-if pools included). Nothing found yet: cancelled without
   a plan. A cancel answers once the running server is done with the job
   (`JobRunner.settle`), whichever server it was sent to.
6. Stop (SIGTERM): no new job is taken; running jobs get ``stop_grace_s`` to end,
   then their process groups are killed and the jobs go back to ``queued`` (or
   failed and resumable), so that the next start, or another server, runs them.
   On start, jobs left ``queued`` (SQLite) or ``running`` with a lapsed lease are
   re-run, or marked failed and resumable (``settings.recovery``), so none is
   lost.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from datetime import timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
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

SETTLE_POLL_S = 0.1
"""How often a cancel waiting for another server's kept plan reads the job row
(`JobRunner.settle`, PostgreSQL)."""

PR_SET_PDEATHSIG = 1
"""prctl(2) option: the signal a process gets when the thread that started it
exits (linux/prctl.h)."""

SERVER_DIED = signal.SIGHUP
"""What a job process gets when its server dies: `api.worker` answers it by
killing its whole process group (engine children included). Not SIGTERM, which
asks a search to stop and hand back its best plan; not SIGKILL, which would end
the group leader alone."""


class QueueFull(Exception):
    """No place left in the job queue; retry after ``retry_after_s`` seconds."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__("the job queue is full; retry later")
        self.retry_after_s = retry_after_s


def server_name() -> str:
    """A name for this service process, unique across restarts and hosts: host,
    pid and a random part (``claimed_by`` of the jobs it runs)."""
    return f"{socket.gethostname()[:48]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class JobRunner:
    """Runs jobs in worker processes (or on Dask), bounded, cancellable, recoverable.

    Parameters
    ----------
    db
        Where jobs, plans and progress are stored. SQLite: one service process
        owns the queue (in-process). PostgreSQL: the jobs table is a queue shared
        by every service process on that database.
    settings
        ``workers`` (jobs at once), ``queue_size`` (jobs waiting), ``recovery``,
        ``max_attempts``, ``lease_s``, ``poll_s``, ``stop_grace_s``,
        ``dask_scheduler``, ``solver_searches``, ``variant_workers``.
    """

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.server_id = server_name()
        """This process's name in ``claimed_by``."""
        self.is_shared = db.engine.dialect.name != "sqlite"
        """Whether the queue is the jobs table, shared with other processes."""
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._lock = threading.RLock()
        self._reserved = 0
        self._pending = 0
        self._queued: set[str] = set()
        self._running: dict[str, str] = {}
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._dask_running: dict[str, str | None] = {}
        """Jobs running here on Dask: the id of their run (None: a what-if,
        whose variants are plain tasks)."""
        self._futures: dict[str, Future[str]] = {}
        self._cancelled: set[str] = set()
        self._lost: set[str] = set()
        self._threads: list[threading.Thread] = []
        self._halt = threading.Event()
        self._stopping = False
        self._draining = False
        self._deadline: float | None = None
        self._client: Any = None
        self._spare: subprocess.Popen[bytes] | None = None
        self.worker_command: list[str] = [sys.executable, "-m", "api.worker"]
        """The job process (tests put a stand-in engine behind the same
        protocol)."""

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the runner threads and the heartbeat, then recover jobs a
        stopped or dead server left."""
        self._stopping = self._draining = False
        self._deadline = None
        self._halt.clear()
        if self.settings.warm_worker and not self.settings.dask_scheduler:
            self._spare = self._spawn()
        loop = self._loop_shared if self.is_shared else self._loop_local
        for k in range(self.settings.workers):
            thread = threading.Thread(target=loop, name=f"job-runner-{k}", daemon=True)
            thread.start()
            self._threads.append(thread)
        thread = threading.Thread(
            target=self._heartbeat, name="job-heartbeat", daemon=True
        )
        thread.start()
        self._threads.append(thread)
        self.recover(at_start=True)

    @property
    def is_alive(self) -> bool:
        """Whether every runner thread (and the heartbeat) is running and the
        runner is not stopping."""
        return (
            bool(self._threads)
            and not self._draining
            and all(t.is_alive() for t in self._threads)
        )

    def begin_stop(self, grace_s: float | None = None) -> None:
        """Take no new job from now on; running jobs have until ``grace_s``
        (default ``settings.stop_grace_s``) from the first call to end.

        Safe in a signal handler (no lock taken).
        """
        if self._deadline is None:
            grace = self.settings.stop_grace_s if grace_s is None else grace_s
            self._deadline = time.monotonic() + grace
        self._draining = True

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop: take no new job, let running jobs end until the stop deadline
        (`begin_stop`), then kill their process groups; those jobs go back to
        ``queued`` (or failed and resumable) for the next start or another
        server, as do jobs still waiting."""
        self.begin_stop()
        assert self._deadline is not None
        while self._running and time.monotonic() < self._deadline:
            time.sleep(0.05)
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
        for _ in range(self.settings.workers):
            self._queue.put(None)
        self._halt.set()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.1, deadline - time.monotonic()))
        self._threads.clear()
        if self._client is not None:
            self._client.close()
            self._client = None

    def recover(self, *, at_start: bool = False) -> list[str]:
        """Re-queue (or fail, resumable) the jobs whose server is gone: running
        jobs whose lease lapsed and, on start with SQLite, jobs left queued.

        Returns the ids of the jobs re-queued.
        """
        cutoff = now()
        lapsed = (JobRow.state == "running") & or_(
            JobRow.lease_until.is_(None), JobRow.lease_until < cutoff
        )
        where: Any = lapsed
        if at_start and not self.is_shared:
            where = or_(JobRow.state == "queued", lapsed)
        stmt = select(JobRow).where(where).order_by(JobRow.created_at)
        if self.is_shared:
            stmt = stmt.with_for_update(skip_locked=True)
        requeued: list[str] = []
        failed: list[str] = []
        with self.db.session() as session:
            for job in session.scalars(stmt).all():
                with self._lock:
                    if job.id in self._running or (
                        job.state == "queued" and job.id in self._futures
                    ):
                        continue  # ours
                was = job.state
                if was == "running":
                    logger.warning(
                        "job %s: server %s is gone (lease lapsed)",
                        job.id,
                        job.claimed_by,
                    )
                job.claimed_by = job.lease_until = None
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
                    failed.append(job.id)
                    logger.info("recovered job %s (was %s): failed", job.id, was)
        for job_id in failed:
            self._resolve(job_id, "failed")
        for job_id in requeued:
            if self.is_shared:
                self._queue.put(job_id)  # a wake-up: the threads claim from the table
                continue
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
            When ``workers + queue_size`` jobs are already running or waiting in
            this process (SQLite), or waiting in the shared queue (PostgreSQL).
        """
        limit = self.settings.workers + self.settings.queue_size
        with self._lock:
            if self.is_shared:
                if self._waiting_in_table() + self._pending >= limit:
                    raise QueueFull(self.settings.retry_after_s)
                self._pending += 1
                return
            if self._reserved >= limit:
                raise QueueFull(self.settings.retry_after_s)
            self._reserved += 1

    def release(self) -> None:
        """Give back a reservation whose job was not stored."""
        with self._lock:
            if self.is_shared:
                self._pending = max(0, self._pending - 1)
            else:
                self._reserved = max(0, self._reserved - 1)

    def submit(self, job_id: str) -> Future[str]:
        """Queue a stored job (after `reserve`); the future gets its final state
        (also when another server runs it)."""
        with self._lock:
            future = self._futures.get(job_id)
            if future is None or future.done():
                future = self._futures[job_id] = Future()
            if self.is_shared:
                self._pending = max(0, self._pending - 1)
            else:
                self._queued.add(job_id)
        self._queue.put(job_id)
        return future

    def cancel(self, job_id: str) -> str | None:
        """Cancel a job: a queued one never starts, a running one is stopped
        (here, or by the server running it, which reads the cancel).

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
            was = job.state
            job.state = "cancelled"
            job.finished_at = now()
            _set_plan_status(session, job, "cancelled")
        with self._lock:
            if job_id in self._queued:
                self._queued.discard(job_id)
                self._reserved = max(0, self._reserved - 1)
                self._resolve(job_id, "cancelled")
            elif was == "queued" and job_id not in self._running:
                self._resolve(job_id, "cancelled")
        self._stop_job(job_id)
        logger.info("job %s cancelled", job_id)
        return "cancelled"

    def _stop_job(self, job_id: str) -> None:
        """Stop the process (or Dask task) of a cancelled job running here."""
        with self._lock:
            kind = self._running.get(job_id)
            if kind is None:
                return
            self._cancelled.add(job_id)
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
            timer = threading.Timer(grace_s, _kill_group, args=(proc, signal.SIGKILL))
            timer.daemon = True
            timer.start()
        if job_id in self._dask_running:
            self._dask_cancel(job_id)

    def settle(self, job_id: str, timeout_s: float = KEEP_BEST_GRACE_S + 1.0) -> None:
        """Wait up to ``timeout_s`` until the server running a job is done with
        it (a cancelled plan or re-plan handing back its best plan so far).

        SQLite: the job's future (one process runs every job). PostgreSQL: the
        job may run on another server, and the future of a job submitted here
        ends as soon as the row says ``cancelled``, so the row is read instead:
        the running server's `_finish` clears ``lease_until`` once it has stored
        the kept plan, or found that the process ended without one. A lapsed
        lease (that server is gone) ends the wait too.
        """
        if not self.is_shared:
            with self._lock:
                future = self._futures.get(job_id)
            if future is not None:
                with contextlib.suppress(Exception):
                    future.result(timeout=timeout_s)
            return
        deadline = time.monotonic() + timeout_s
        while self._is_held(job_id):
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(SETTLE_POLL_S, left))

    def _is_held(self, job_id: str) -> bool:
        """Whether a server still holds the job: its lease is set and has not
        lapsed."""
        with self.db.session() as session:
            held = session.scalar(
                select(JobRow.id).where(
                    JobRow.id == job_id,
                    JobRow.lease_until.is_not(None),
                    JobRow.lease_until >= now(),
                )
            )
        return held is not None

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
            job.claimed_by = job.lease_until = None
            _set_plan_status(session, job, "pending")
        self.submit(job_id)
        return True

    @property
    def load(self) -> dict[str, int]:
        """Jobs running in this process, jobs waiting (in this process; on
        PostgreSQL in the shared queue), and the capacity."""
        with self._lock:
            running = len(self._running)
            waiting = len(self._queued)
        if self.is_shared:
            waiting = self._waiting_in_table()
        return {
            "running": running,
            "waiting": waiting,
            "capacity": self.settings.workers + self.settings.queue_size,
        }

    def _waiting_in_table(self) -> int:
        with self.db.session() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(JobRow)
                    .where(JobRow.state == "queued")
                )
                or 0
            )

    # --------------------------------------------------------------------- claims

    def _lease_end(self) -> Any:
        return now() + timedelta(seconds=self.settings.lease_s)

    def _claim(self, job_id: str) -> bool:
        """Claim one queued job by id: True if this runner now holds it."""
        with self.db.session() as session:
            result = session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.state == "queued")
                .values(
                    state="running",
                    started_at=now(),
                    attempts=JobRow.attempts + 1,
                    claimed_by=self.server_id,
                    lease_until=self._lease_end(),
                )
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def _claim_next(self) -> str | None:
        """Claim the oldest queued job of the shared queue (None: nothing queued).

        ``FOR UPDATE SKIP LOCKED``: servers claiming at the same moment each get
        a different job, none waits for another's transaction.
        """
        with self.db.session() as session:
            job = session.scalars(
                select(JobRow)
                .where(JobRow.state == "queued")
                .order_by(JobRow.created_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if job is None:
                return None
            job.state = "running"
            job.started_at = now()
            job.attempts += 1
            job.claimed_by = self.server_id
            job.lease_until = self._lease_end()
            return job.id

    # --------------------------------------------------------------------- running

    def _loop_local(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None or self._stopping:
                return
            with self._lock:
                if job_id not in self._queued:
                    continue  # cancelled while waiting
                self._queued.discard(job_id)
            try:
                if self._draining:
                    continue  # stays queued for the next start
                if self._claim(job_id):
                    self._run(job_id)
                else:
                    self._resolve(job_id, self._state_of(job_id) or "failed")
            except Exception:  # keep the runner alive whatever one job does
                self._runner_failed(job_id)
            finally:
                with self._lock:
                    self._reserved = max(0, self._reserved - 1)

    def _loop_shared(self) -> None:
        while not self._stopping:
            job_id = None
            if not self._draining:
                try:
                    job_id = self._claim_next()
                except Exception:
                    logger.exception("could not claim a job (database?)")
            if job_id is None:
                try:  # wake-ups: a job submitted here, or the stop
                    if self._queue.get(timeout=self.settings.poll_s) is None:
                        return
                except queue.Empty:
                    pass
                continue
            try:
                self._run(job_id)
            except Exception:
                self._runner_failed(job_id)

    def _runner_failed(self, job_id: str) -> None:
        logger.exception("job %s: runner error", job_id)
        with self._lock:
            self._running.pop(job_id, None)
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

    def _state_of(self, job_id: str) -> str | None:
        with self.db.session() as session:
            job = session.get(JobRow, job_id)
            return job.state if job is not None else None

    def _run(self, job_id: str) -> None:
        """Run a job this runner has claimed, to its end."""
        with self.db.session() as session:
            job = session.get(JobRow, job_id)
            assert job is not None
            with self._lock:
                self._running[job_id] = job.kind
            attempt = job.attempts
            payload = build_payload(session, job, self.settings)
        try:
            logger.info(
                "job %s (%s) started, attempt %d", job_id, payload["kind"], attempt
            )
            if self.settings.dask_scheduler:
                messages = self._run_dask(job_id, payload, attempt)
            else:
                messages = self._run_local(job_id, payload)
            self._finish(job_id, messages)
        finally:
            with self._lock:
                self._running.pop(job_id, None)
                self._lost.discard(job_id)

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            self.worker_command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,  # its own process group: cancel kills it all
            preexec_fn=_die_with_server() if sys.platform == "linux" else None,
        )

    def _take_process(self) -> subprocess.Popen[bytes]:
        """A job process: the warm spare (engine already imported) if there is
        one, and a new spare is started for the next job."""
        with self._lock:
            proc, self._spare = self._spare, None
        if proc is None or proc.poll() is not None:
            proc = self._spawn()
        if self.settings.warm_worker and not (self._stopping or self._draining):
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
            if job_id in self._cancelled or job_id in self._lost:
                # Its output is closed: whatever it left running (engine
                # children) goes too. Before wait(): the pid stays ours.
                _signal_group(proc.pid, signal.SIGKILL)
            proc.wait()
            if not final:
                code = proc.returncode
                how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
                final.append(
                    {
                        "type": "error",
                        "code": "interrupted",
                        "message": f"the job process ended ({how}) before "
                        f"reporting a result; POST /v1/jobs/{job_id}/resume "
                        "runs it again",
                        "path": "",
                    }
                )
            return final
        finally:
            with self._lock:
                self._procs.pop(job_id, None)

    # ------------------------------------------------------------------ heartbeat

    def _heartbeat(self) -> None:
        """Renew the leases of the jobs running here; on PostgreSQL also carry
        cancels and ends of jobs other servers handle; re-queue jobs of servers
        that are gone."""
        lease_s = self.settings.lease_s
        tick_s = min(self.settings.poll_s, lease_s / 3)
        next_renew = next_reap = 0.0
        while not self._halt.wait(tick_s):
            try:
                t = time.monotonic()
                if t >= next_renew:
                    self._renew()
                    next_renew = t + lease_s / 3
                if self.is_shared:
                    self._watch()
                if t >= next_reap and not self._draining:
                    self.recover()
                    next_reap = t + lease_s / 2
            except Exception as exc:
                logger.warning("job heartbeat: %s", exc)

    def _renew(self) -> None:
        with self._lock:
            mine = dict(self._running)
        if not mine:
            return
        with self.db.session() as session:
            session.execute(
                update(JobRow)
                .where(JobRow.claimed_by == self.server_id, JobRow.state == "running")
                .values(lease_until=self._lease_end())
                .execution_options(synchronize_session=False)
            )
        if not self.is_shared:
            self._watch()

    def _watch(self) -> None:
        """Cancels of (and lost claims on) jobs running here; the end of jobs
        submitted here that another server ran."""
        with self._lock:
            running = dict(self._running)
            waiting = [j for j in self._futures if j not in running]
        ids = [*running, *waiting]
        if not ids:
            return
        with self.db.session() as session:
            rows = session.execute(
                select(JobRow.id, JobRow.state, JobRow.claimed_by).where(
                    JobRow.id.in_(ids)
                )
            ).all()
        for job_id, state, claimed_by in rows:
            if job_id in running:
                if claimed_by != self.server_id:
                    self._lose(job_id)
                elif state == "cancelled" and job_id not in self._cancelled:
                    self._stop_job(job_id)
            elif self.is_shared and state in TERMINAL:
                self._resolve(job_id, state)

    def _lose(self, job_id: str) -> None:
        """Another server took this job over (our lease lapsed): stop our run."""
        with self._lock:
            if job_id in self._lost:
                return
            self._lost.add(job_id)
            proc = self._procs.get(job_id)
        logger.error("job %s: lease lost to another server; stopping it here", job_id)
        if proc is not None:
            _kill_group(proc, signal.SIGKILL)
        self._dask_cancel(job_id)

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
        future, run_id = cluster.submit(
            client, json.dumps(payload).encode(), job_id, attempt
        )
        with self._lock:
            self._dask_running[job_id] = run_id
            is_cancelled = job_id in self._cancelled or job_id in self._lost
        if is_cancelled or self._stopping:  # while it was being submitted
            self._dask_cancel(job_id)
        progress = _distributed().Queue(
            cluster.progress_queue(job_id, run_id), client=client
        )
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
            with contextlib.suppress(Exception):
                progress.close()  # the scheduler forgets it with the task's end
            if future.done():
                try:
                    cluster.forget(client, job_id, run_id)
                except Exception:
                    logger.warning("job %s: could not forget run %s", job_id, run_id)

    def _dask_cancel(self, job_id: str) -> None:
        """Stop this server's run of a job on Dask (its cancel event: the task
        kills its child). What-if variants cannot be stopped."""
        from api import cluster

        with self._lock:
            run_id = self._dask_running.get(job_id)
        if run_id is None:
            return
        try:
            event = cluster.cancel_event(job_id, run_id)
            _distributed().Event(event, client=self._dask()).set()
        except Exception:
            logger.exception("job %s: could not signal the Dask task", job_id)

    def _progress(self, job_id: str, message: Mapping[str, Any]) -> None:
        with self.db.session() as session:
            job = session.get(JobRow, job_id)
            if (
                job is not None
                and job.state == "running"
                and job.claimed_by == self.server_id
            ):
                if message.get("best_cost") is not None:
                    job.best_cost = float(message["best_cost"])
                if message.get("elapsed_s") is not None:
                    job.elapsed_s = float(message["elapsed_s"])
                if message.get("steps_total") is not None:
                    job.steps_done = int(message.get("steps_done") or 0)
                    job.steps_total = int(message["steps_total"])

    def _finish(self, job_id: str, messages: list[dict[str, Any]]) -> None:
        final = messages[-1]
        is_result = final.get("type") == "result"
        with self.db.session() as session:
            job = session.get(JobRow, job_id)
            if job is None:
                return
            if job.claimed_by != self.server_id or job_id in self._lost:
                # Another server took it over (our lease lapsed): its run counts.
                logger.error(
                    "job %s: claimed by %s; result dropped", job_id, job.claimed_by
                )
                state = job.state
            elif job.state == "cancelled" or job_id in self._cancelled:
                state = job.state = "cancelled"
                job.finished_at = job.finished_at or now()
                _set_plan_status(session, job, "cancelled")
                if is_result and keep_best(session, job, final):
                    logger.info("job %s cancelled; its best plan is kept", job_id)
            elif self._stopping and not is_result:
                # Killed by the stop: the next start, or another server, runs it.
                if (
                    self.settings.recovery == "rerun"
                    and job.attempts < self.settings.max_attempts
                ):
                    job.state = "queued"
                    job.claimed_by = None
                    logger.info("job %s interrupted by the stop: re-queued", job_id)
                else:
                    self._fail(
                        session,
                        job,
                        {
                            "code": "interrupted",
                            "message": "the service stopped while this job was "
                            f"running; POST /v1/jobs/{job_id}/resume runs it again",
                            "path": "",
                        },
                        is_resumable=True,
                    )
                state = job.state
            elif is_result:
                apply_result(session, job, final)
                state = job.state
            else:
                error = {k: v for k, v in final.items() if k != "type"}
                resumable = error.get("code") in ("internal", "interrupted")
                self._fail(session, job, error, is_resumable=resumable)
                state = "failed"
            if job.claimed_by == self.server_id:
                job.lease_until = None
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


def _die_with_server() -> Callable[[], None]:
    """A ``preexec_fn``: the child gets `SERVER_DIED` when this process dies
    (Linux ``PR_SET_PDEATHSIG``; as ``routing.solver.portfolio._die_with_parent``),
    even by SIGKILL, and `api.worker` then kills its process group.

    The signal fires when the *thread* that started the child ends: job
    processes are started by the runner threads, which live until `stop`.
    libc is loaded here, in the parent: the child only calls into it.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def _preexec() -> None:  # pragma: no cover - runs in the child
        libc.prctl(PR_SET_PDEATHSIG, int(SERVER_DIED))
        if os.getppid() != parent:  # the server died before prctl
            os._exit(1)

    return _preexec


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
