"""Running jobs on a Dask cluster: the same job process, started on a Dask worker.

Workers have the ``routing`` package installed but maybe not this service. As in
``benchmarks/run.py`` (``_run_dask``), the code travels by value: this module and
`api.worker` are registered with cloudpickle, so every task carries the current
code and no stale module on a long-lived worker is used. On the worker the job
still runs in a child process (a Dask worker is daemonic, so ``subprocess`` rather
than ``multiprocessing``), which a cancel can terminate: Dask itself cannot stop
a running task.

One job, one child at a time. Each submission of a job is a *run* with an id of
its own (attempt and a random part). A task keeps running on the cluster when
the server that submitted it dies, so when another server takes the job over
(its lease lapsed) and submits a new run, the runs meet on the scheduler:

- the job's current run id is a published dataset (`current_run`). `submit`
  reads the one before, sets that run's cancel event (its task kills its child)
  and publishes the new id, all before the new task exists;
- a task runs its child only while it holds the job's `distributed.Lock`
  (`job_lock`), so the new run's child starts after the old run's child has
  ended (the old task releases the lock after ``wait()`` on its killed child),
  whichever server, if any, is still there. A lock lease whose worker died
  expires (``distributed.scheduler.locks.lease-timeout``); the child dies with
  its worker (``PR_SET_PDEATHSIG`` in `BOOT`), so the lock never outlives it;
- a task that gets the lock checks that it is still the job's current run: a
  run superseded before its task started never starts its child.

Cancel events are per run: a cancel, a stop or a takeover ends that run only,
never the job's next run.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any

BOOT = (
    "import os, pickle, sys\n"
    "if sys.platform == 'linux':\n"
    "    import ctypes\n"
    "    ctypes.CDLL(None).prctl(1, 1)\n"  # PR_SET_PDEATHSIG = SIGHUP
    "    if os.getppid() != int(sys.argv[1]):\n"  # the worker died before prctl
    "        sys.exit(1)\n"
    "main = pickle.load(sys.stdin.buffer)\n"  # cloudpickled api.worker.main
    "main()\n"
)
"""What the child on a Dask worker runs: ask for SIGHUP when the worker (its
starting thread) dies, which `api.worker.main` answers by killing its process
group; then unpickle `api.worker.main` and call it. Argument: the worker's pid."""

POLL_S = 0.5
"""How often a task checks whether its run was cancelled (or superseded), and
how long one wait for the job's lock lasts."""


def progress_queue(job_id: str, run_id: str) -> str:
    """Name of the Dask queue carrying a run's progress lines."""
    return f"routing-progress-{job_id}-{run_id}"


def cancel_event(job_id: str, run_id: str) -> str:
    """Name of the Dask event that stops one run of a job (a cancel, a stop, or
    another server taking the job over)."""
    return f"routing-cancel-{job_id}-{run_id}"


def current_run(job_id: str) -> str:
    """Name of the published dataset holding the id of a job's current run (the
    last one submitted): the only run allowed to start its child."""
    return f"routing-run-{job_id}"


def job_lock(job_id: str) -> str:
    """Name of the Dask lock a run holds while its child runs."""
    return f"routing-lock-{job_id}"


def run_job(
    boot: bytes, payload: bytes, job_id: str, run_id: str
) -> list[dict[str, Any]]:
    """Dask task: run one job in a child process; returns its final message(s).

    The child starts once this task holds the job's lock and only if this run is
    still the job's current one; it is killed when the run's cancel event is
    set. Progress lines go to the run's Dask queue as they come.
    """
    dist: Any = importlib.import_module("distributed")
    cancelled = dist.Event(cancel_event(job_id, run_id))
    lock = dist.Lock(job_lock(job_id))
    try:
        if not _acquire(lock, cancelled):
            return [_stopped(cancelled, "before it started")]
        try:
            current = dist.get_client().get_dataset(current_run(job_id), default=None)
            if cancelled.is_set() or current != run_id:
                return [_stopped(cancelled, "before it started")]
            return _run_child(dist, boot, payload, job_id, run_id, cancelled)
        finally:
            with contextlib.suppress(Exception):  # closed: the lease went with it
                lock.release()
    finally:
        with contextlib.suppress(Exception):
            cancelled.clear()  # forgets the event on the scheduler


def _acquire(lock: Any, cancelled: Any) -> bool:
    """Wait for the job's lock (another run's child may still be ending); False
    if this run is cancelled meanwhile, or the lock was closed (the job's run
    ended and was forgotten: this run is stale)."""
    while True:
        try:
            if lock.acquire(timeout=POLL_S):
                return True
        except RuntimeError:  # "Lock ... not known": closed by `forget`
            return False
        if cancelled.is_set():
            return False


def _stopped(cancelled: Any, when: str) -> dict[str, Any]:
    why = "cancelled" if cancelled.is_set() else "superseded by a newer run"
    return {
        "type": "error",
        "code": "cancelled" if cancelled.is_set() else "interrupted",
        "message": f"the job's run on the Dask worker was {why} {when}",
        "path": "",
    }


def _run_child(
    dist: Any, boot: bytes, payload: bytes, job_id: str, run_id: str, cancelled: Any
) -> list[dict[str, Any]]:
    queue = dist.Queue(progress_queue(job_id, run_id))
    proc = subprocess.Popen(
        [sys.executable, "-c", BOOT, str(os.getpid())],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(boot + payload)
        proc.stdin.close()
    except BrokenPipeError:
        pass
    final: list[dict[str, Any]] = []

    def _read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            message = json.loads(line)
            if message.get("type") == "progress":
                queue.put(message)
            else:
                final.append(message)

    reader = threading.Thread(target=_read, daemon=True)
    reader.start()
    try:
        while reader.is_alive():
            reader.join(POLL_S)
            if reader.is_alive() and cancelled.is_set():
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        # Drops this task's reference: the scheduler forgets the queue once the
        # server reading it has closed its end too (`api.jobs`).
        with contextlib.suppress(Exception):
            queue.close()
    if not final:
        final.append(
            {
                "type": "error",
                "code": "cancelled" if cancelled.is_set() else "internal",
                "message": f"job process on the Dask worker exited with code "
                f"{proc.returncode}",
                "path": "",
            }
        )
    return final


SHIPPED = ("api.cluster", "api.domain", "api.worker")
"""Modules shipped by value to the workers (they may not have the service)."""


def register_by_value() -> None:
    """Ship this service's job code by value in every pickle from now on.

    Kept for the client's lifetime: Dask serializes task specs on its own thread,
    after ``submit`` returns, so a registration scoped to the call could end too
    early.
    """
    import cloudpickle

    for name in SHIPPED:
        cloudpickle.register_pickle_by_value(importlib.import_module(name))


def boot_bytes() -> bytes:
    """`api.worker.main` pickled by value, for a child on a Dask worker."""
    import cloudpickle

    from api import worker

    return bytes(cloudpickle.dumps(worker.main))


def submit(client: Any, payload: bytes, job_id: str, attempt: int) -> tuple[Any, str]:
    """Submit a run of a job to the cluster: returns the Dask future of `run_job`
    and the run's id (for `cancel_event`, `progress_queue`, `forget`).

    The new run becomes the job's current run; the run before it (submitted by
    a server that lost the job, maybe gone) is told to stop first, and the new
    run's child waits for the old one's to end (the job's lock). Call
    `register_by_value` once before.
    """
    dist: Any = importlib.import_module("distributed")
    run_id = f"{attempt}-{uuid.uuid4().hex[:8]}"
    name = current_run(job_id)
    previous = client.get_dataset(name, default=None)
    if previous is not None:
        dist.Event(cancel_event(job_id, str(previous)), client=client).set()
    client.publish_dataset(run_id, name=name, override=True)
    future = client.submit(
        run_job,
        boot_bytes(),
        payload,
        job_id,
        run_id,
        key=f"routing-job-{job_id}-{run_id}",
        pure=False,
    )
    return future, run_id


def forget(client: Any, job_id: str, run_id: str) -> None:
    """After a run's task ended: drop the job's current-run record and lock from
    the scheduler, unless a newer run took the job over.

    Not atomic: a takeover in the moment between the check and the removal
    leaves the new run without its record, and it stops (``interrupted``,
    resumable) rather than run beside anything.
    """
    dist: Any = importlib.import_module("distributed")
    name = current_run(job_id)
    if client.get_dataset(name, default=None) != run_id:
        return
    client.unpublish_dataset(name)
    dist.Lock(
        job_lock(job_id), scheduler_rpc=client.scheduler, loop=client.loop
    ).close()


def dask_map(
    client: Any, on_row: Callable[[Any], None] | None = None
) -> Callable[..., list[Any]]:
    """A ``map`` that runs each call as a task on the cluster (what-if variants);
    ``on_row`` gets each result as its task ends (progress)."""

    def _map(fn: Callable[..., Any], *iterables: Iterable[Any]) -> list[Any]:
        futures = client.map(fn, *iterables, pure=False)
        if on_row is not None:
            dist: Any = importlib.import_module("distributed")
            for future in dist.as_completed(futures):
                on_row(future.result())
        return list(client.gather(futures))

    return _map
