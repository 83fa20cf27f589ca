"""Tests of running jobs on a Dask cluster (a local one here; slow: ~6 s)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.auth import create_key
from tests.api.conftest import start_service, test_settings, tutorial
from tests.api.test_plans import poll

distributed = pytest.importorskip(
    "dask.distributed", reason="dask[distributed] is not installed"
)


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A local Dask cluster: one worker process, one thread."""
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
        deadline = time.monotonic() + 20
        while (
            client.get(f"/v1/jobs/{job_id}", headers=h).json()["progress"]["best_cost"]
            is None
        ):
            assert time.monotonic() < deadline
            time.sleep(0.05)
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
    finally:
        client.__exit__(None, None, None)
