"""Running jobs on a Dask cluster: the same job process, started on a Dask worker.

Workers have the ``routing`` package installed but maybe not this service. As in
``benchmarks/run.py`` (``_run_dask``), the code travels by value: this module and
`api.worker` are registered with cloudpickle, so every task carries the current
code and no stale module on a long-lived worker is used. On the worker the job
still runs in a child process (a Dask worker is daemonic, so ``subprocess`` rather
than ``multiprocessing``), which a cancel can terminate: Dask itself cannot stop
a running task.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

BOOT = (
    "import pickle, sys; "
    "main = pickle.load(sys.stdin.buffer); "  # cloudpickled api.worker.main
    "main()"
)
"""What the child on a Dask worker runs: unpickle `api.worker.main`, call it."""

POLL_S = 0.5
"""How often a task checks whether its job was cancelled."""


def progress_queue(job_id: str) -> str:
    """Name of the Dask queue carrying a job's progress lines."""
    return f"routing-progress-{job_id}"


def cancel_event(job_id: str) -> str:
    """Name of the Dask event that cancels a job."""
    return f"routing-cancel-{job_id}"


def run_job(boot: bytes, payload: bytes, job_id: str) -> list[dict[str, Any]]:
    """Dask task: run one job in a child process; returns its final message(s).

    Progress lines go to the job's Dask queue as they come; the child is
    terminated when the job's cancel event is set.
    """
    dist: Any = importlib.import_module("distributed")
    queue = dist.Queue(progress_queue(job_id))
    cancelled = dist.Event(cancel_event(job_id))
    proc = subprocess.Popen(
        [sys.executable, "-c", BOOT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(boot + payload)
    proc.stdin.close()
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
    while reader.is_alive():
        reader.join(POLL_S)
        if reader.is_alive() and cancelled.is_set():
            os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
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


def submit(client: Any, payload: bytes, job_id: str, attempt: int) -> Any:
    """Submit a job to the cluster; returns the Dask future of `run_job`.

    Call `register_by_value` once before.
    """
    return client.submit(
        run_job,
        boot_bytes(),
        payload,
        job_id,
        key=f"routing-job-{job_id}-{attempt}",
        pure=False,
    )


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
