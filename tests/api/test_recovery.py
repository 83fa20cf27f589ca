"""Tests of recovery: jobs interrupted by a service stop are not lost."""

from __future__ import annotations

import time

from sqlalchemy import select

from api.auth import create_key
from api.db import Database, JobRow
from tests.api.conftest import start_service, test_settings, tutorial
from tests.api.test_jobs import _running_pid
from tests.api.test_plans import poll


def test_a_job_running_at_shutdown_is_rerun_on_start(fresh_url: str) -> None:
    """Stopping the service kills the running job's process and leaves the job
    queued; the next start runs it again to a stored plan (SQLite and
    PostgreSQL)."""
    app, client = start_service(test_settings(fresh_url))
    h = {"X-API-Key": create_key(app.state.db, "dispatcher")}
    r = client.post(
        "/v1/plans?wait_s=0",
        json={"problem": tutorial(), "time_limit_s": 1.5},
        headers=h,
    )
    job_id = r.json()["id"]
    _running_pid(app, job_id)
    client.__exit__(None, None, None)  # the service stops mid-solve

    db = Database(test_settings(fresh_url).url)
    with db.session() as session:
        job = session.get(JobRow, job_id)
        assert job is not None and job.state == "queued" and job.attempts == 1
    db.dispose()

    app, client = start_service(test_settings(fresh_url))
    try:
        job = poll(client, job_id, h)
        assert job["state"] == "succeeded" and job["attempts"] == 2
        plan = client.get(f"/v1/plans/{job['plan_id']}", headers=h).json()
        assert plan["status"] == "solved" and plan["plan"]["routes"]
    finally:
        client.__exit__(None, None, None)


def test_a_crash_leaves_jobs_that_recovery_finds(sqlite_url: str) -> None:
    """A job left 'running' by a crash (no shutdown at all) is re-run; with
    recovery='fail' it becomes failed-and-resumable instead, and resumes."""
    app, client = start_service(test_settings(sqlite_url))
    h = {"X-API-Key": create_key(app.state.db, "dispatcher")}
    r = client.post(
        "/v1/plans",
        json={"problem": tutorial(), "time_limit_s": 1, "deterministic": True},
        headers=h,
    )
    plan_id = r.json()["id"]
    client.__exit__(None, None, None)
    db = Database(test_settings(sqlite_url).url)
    with db.session() as session:  # as a crash mid-solve would have left it
        job = session.scalars(select(JobRow).where(JobRow.plan_id == plan_id)).one()
        job.state, job.attempts = "running", 1
        job_id = job.id
    db.dispose()

    app, client = start_service(test_settings(sqlite_url, recovery="fail"))
    try:
        job_out = client.get(f"/v1/jobs/{job_id}", headers=h).json()
        assert job_out["state"] == "failed" and job_out["is_resumable"]
        assert job_out["error"]["code"] == "interrupted"
        assert client.post(f"/v1/jobs/{job_id}/resume", headers=h).status_code == 202
        assert poll(client, job_id, h)["state"] == "succeeded"
    finally:
        client.__exit__(None, None, None)

    db = Database(test_settings(sqlite_url).url)
    with db.session() as session:
        job = session.get(JobRow, job_id)
        assert job is not None
        job.state = "running"
    db.dispose()
    t0 = time.monotonic()
    app, client = start_service(test_settings(sqlite_url))
    try:
        assert poll(client, job_id, h)["state"] == "succeeded"
        assert time.monotonic() - t0 < 20
    finally:
        client.__exit__(None, None, None)
