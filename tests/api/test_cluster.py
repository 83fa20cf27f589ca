"""Tests of running jobs on a Dask cluster (a local one here; slow: ~6 s)."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from api import cluster
from api.auth import create_key
from api.db import Database, JobRow, PlanRow, now
from api.jobs import build_payload
from tests.api.conftest import REPO, start_service, test_settings, tutorial
from tests.api.test_plans import poll, wait_for_progress
from tests.api.test_server import alive

distributed = pytest.importorskip(
    "dask.distributed", reason="dask[distributed] is not installed"
)


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A local Dask cluster: one worker process, two threads."""
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=True, dashboard_address=":0"
    ) as cluster:
        yield cluster.scheduler_address


@pytest.mark.slow
def test_jobs_and_variants_run_on_the_cluster(scheduler: str, tmp_path: Path) -> None:
    """With a scheduler configured, a solve reports progress and stores its plan,
    what-if variants come back as one table, and cancel stops a running job."""
    settings = test_settings(
        f"sqlite:///{tmp_path / 'dask.sqlite3'}", dask_scheduler=scheduler, workers=2
    )
    app, client = start_service(settings)
    try:
        h = {"X-API-Key": create_key(app.state.db, "dispatcher")}
        r = client.post(
            "/v1/plans?wait_s=0",
            json={"problem": tutorial(), "time_limit_s": 1.5},
            headers=h,
        )
        assert r.status_code == 202
        job = poll(client, r.json()["id"], h)
        assert job["state"] == "succeeded", job
        assert job["progress"]["best_cost"] > 0
        plan: dict[str, Any] = client.get(
            f"/v1/plans/{job['plan_id']}", headers=h
        ).json()
        assert plan["status"] == "solved"

        r = client.post(
            "/v1/whatif",
            json={
                "problem": tutorial(),
                "time_limit_s": 1,
                "deterministic": True,
                "variants": [{"name": "one van", "remove_vehicles": ["van-1"]}],
            },
            headers=h,
        )
        assert r.status_code == 200, r.text
        assert [row["name"] for row in r.json()["rows"]] == ["base", "one van"]

        r = client.post(
            "/v1/plans?wait_s=0",
            json={"problem": tutorial(), "time_limit_s": 5},
            headers=h,
        )
        job_id = r.json()["id"]
        wait_for_progress(client, job_id, h)
        t0 = time.monotonic()
        assert client.post(f"/v1/jobs/{job_id}/cancel", headers=h).status_code == 200
        deadline = time.monotonic() + 10
        while app.state.runner.load["running"]:
            assert time.monotonic() < deadline, "the Dask task did not stop"
            time.sleep(0.05)
        assert time.monotonic() - t0 < 4
        assert (
            client.get(f"/v1/jobs/{job_id}", headers=h).json()["state"] == "cancelled"
        )
        # Nothing of the finished runs stays on the scheduler: no progress queue,
        # no published current run.
        deadline = time.monotonic() + 10
        while left := _routing_state(scheduler):
            assert time.monotonic() < deadline, f"left on the scheduler: {left}"
            time.sleep(0.1)
    finally:
        client.__exit__(None, None, None)


@pytest.mark.slow
def test_a_job_stopped_with_its_server_runs_again_on_the_cluster(
    scheduler: str, tmp_path: Path
) -> None:
    """Stopping the service mid-solve stops the job's Dask run and queues the job
    again; the next start runs it to a plan on the cluster: the stop signalled
    that run only, not every later run of the job (attempt 2 succeeds).

    The weekday (120 orders) searches its whole limit; the 12-order tutorial
    converged within a second, often before the stop, and the job had then
    succeeded at its first attempt."""
    day = json.loads((REPO / "scenarios" / "andorra_weekday.json").read_text())
    day["date"] = tutorial()["date"]
    settings = test_settings(
        f"sqlite:///{tmp_path / 'dask.sqlite3'}",
        dask_scheduler=scheduler,
        max_orders=200,
    )
    app, client = start_service(settings)
    h = {"X-API-Key": create_key(app.state.db, "dispatcher")}
    r = client.post(
        "/v1/plans?wait_s=0",
        json={"problem": day, "time_limit_s": 5},
        headers=h,
    )
    job_id = r.json()["id"]
    wait_for_progress(client, job_id, h)
    client.__exit__(None, None, None)  # the service stops mid-solve

    db = Database(settings.url)
    with db.session() as session:
        job = session.get(JobRow, job_id)
        assert job is not None and job.state == "queued" and job.attempts == 1
    db.dispose()

    app, client = start_service(settings)
    try:
        job = poll(client, job_id, h)
        assert job["state"] == "succeeded" and job["attempts"] == 2, job
        plan = client.get(f"/v1/plans/{job['plan_id']}", headers=h).json()
        assert plan["status"] == "solved" and plan["plan"]["routes"]
    finally:
        client.__exit__(None, None, None)


def _routing_state(address: str) -> list[str]:
    """Names of this service's queues and datasets still on the scheduler."""

    def names(dask_scheduler: Any) -> list[str]:
        queues = list(dask_scheduler.extensions["queues"].queues)
        datasets = [str(k) for k in dask_scheduler.extensions["publish"].datasets]
        return sorted(n for n in queues + datasets if n.startswith("routing-"))

    with distributed.Client(address) as client:
        return list(client.run_on_scheduler(names))


BOOT_MARK = b"pickle.load(sys.stdin.buffer)"
"""What the command line of a job process on a Dask worker holds (`cluster.BOOT`)."""


def _dask_job_processes() -> frozenset[int]:
    """Pids of the live job processes started on Dask workers (zombies have no
    command line)."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if BOOT_MARK in cmdline:
            pids.add(int(entry.name))
    return frozenset(pids)


class _Sampler(threading.Thread):
    """Samples the live Dask job processes every 20 ms until stopped."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[frozenset[int]] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            self.samples.append(_dask_job_processes())
            time.sleep(0.02)

    def seen(self) -> list[int]:
        """Every pid seen, in the order they first appeared."""
        order: list[int] = []
        for sample in list(self.samples):
            order += sorted(p for p in sample if p not in order)
        return order

    def wait_for(self, count: int, timeout_s: float) -> list[int]:
        """The pids seen once there are ``count`` of them."""
        deadline = time.monotonic() + timeout_s
        while len(self.seen()) < count:
            assert time.monotonic() < deadline, f"saw {self.seen()}, not {count}"
            time.sleep(0.05)
        return self.seen()


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="watches processes in /proc")
def test_a_job_taken_over_from_a_dead_server_never_runs_twice(
    scheduler: str, tmp_path: Path
) -> None:
    """A run whose server died (its Dask client gone, its lease lapsed) keeps
    running on the cluster; the server that takes the job over stops it before
    its own run's child starts, so the job's two processes never run at once,
    and a cancel still stops the new run."""
    day = json.loads((REPO / "scenarios" / "andorra_weekday.json").read_text())
    day["date"] = tutorial()["date"]
    settings = test_settings(
        f"sqlite:///{tmp_path / 'dask.sqlite3'}",
        dask_scheduler=scheduler,
        max_orders=200,
        max_time_limit_s=60.0,
        solver_searches=1,
    )
    db = Database(settings.url)
    db.upgrade()
    h = {"X-API-Key": create_key(db, "dispatcher")}
    with db.session() as session:  # as a server that then died left it
        session.add(
            PlanRow(id="p1", name="day", status="pending", lineage_id="p1", problem=day)
        )
        session.flush()
        job = JobRow(
            id="j1",
            kind="solve",
            state="running",
            plan_id="p1",
            request={"options": {"time_limit_s": 30.0, "is_deterministic": False}},
            time_limit_s=30.0,
            attempts=1,
            started_at=now(),
            claimed_by="gone:1:deadbeef",
            lease_until=now() - timedelta(seconds=1),
        )
        session.add(job)
        session.flush()
        payload = json.dumps(build_payload(session, job, settings)).encode()
    sampler = _Sampler()
    sampler.start()
    try:
        dead = distributed.Client(scheduler, set_as_default=False)
        try:
            cluster.register_by_value()
            cluster.submit(dead, payload, "j1", 1)
            [first] = sampler.wait_for(1, timeout_s=30)
        finally:
            dead.close()  # the server is gone: nothing of it stops the task
        time.sleep(1.0)
        assert alive(first), "the first run did not outlive its server"

        _app, client = start_service(settings)  # takes the lapsed job over
        try:
            first_, second = sampler.wait_for(2, timeout_s=60)
            assert first_ == first
            time.sleep(1.5)  # a run left beside it would show by now
            samples = list(sampler.samples)
            since = next(k for k, s in enumerate(samples) if second in s)
            # A sample is no snapshot (/proc is read pid by pid): the first run
            # seen in a later sample than the second's first one ran beside it.
            beside = [s for s in samples[since + 1 :] if first in s]
            assert not beside, f"the job ran twice at once ({len(beside)} samples)"
            assert not alive(first)
            job_out = client.get("/v1/jobs/j1", headers=h).json()
            assert job_out["state"] == "running" and job_out["attempts"] == 2

            r = client.post("/v1/jobs/j1/cancel", headers=h)
            assert r.status_code == 200 and r.json()["state"] == "cancelled"
            deadline = time.monotonic() + 10
            while alive(second):
                assert time.monotonic() < deadline, "the cancel did not stop the run"
                time.sleep(0.05)
        finally:
            client.__exit__(None, None, None)
    finally:
        sampler.halt.set()
        sampler.join()
        db.dispose()
