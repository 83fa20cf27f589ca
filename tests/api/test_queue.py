"""Tests of the job queue shared by servers: claims, leases, several processes."""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.auth import create_key
from api.db import Database, JobRow, now
from api.jobs import JobRunner
from tests.api.conftest import (
    PG_ENV,
    REPO,
    _drop_pg_schema,
    _pg_schema_url,
    start_service,
    test_settings,
    tutorial,
)
from tests.api.test_plans import poll

COUNTING_WORKER = (
    "import io, json, os, sys; sys.path.insert(0, {repo!r}); "
    "data = sys.stdin.buffer.read(); "
    "fd = os.open({log!r}, os.O_WRONLY | os.O_APPEND | os.O_CREAT); "
    "name = json.loads(data)['problem']['name']; "
    "os.write(fd, (name + ' ' + {server!r} + '\\n').encode()); "
    "sys.stdin = io.TextIOWrapper(io.BytesIO(data)); "
    "from api.worker import main; main()"
)
"""A job process that appends its problem's name and its server to a log, then
runs the job: one line per run of a job."""


def test_two_servers_share_the_queue_and_run_every_job_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two servers (one worker each) on one PostgreSQL database, jobs submitted
    to the first before the second starts, then to both in turn: every job
    succeeds and ran exactly once (one worker run, attempts 1), and both servers
    ran jobs."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"the shared queue needs PostgreSQL ({PG_ENV})")
    schema = f"api_test_{uuid.uuid4().hex[:10]}"
    url = _pg_schema_url(base, schema)
    log = tmp_path / "runs.log"
    settings = test_settings(url, poll_s=0.1, queue_size=12)
    services: list[tuple[FastAPI, TestClient]] = []

    real_start = JobRunner.start
    naming: list[str] = []

    def counting_start(runner: JobRunner) -> None:
        # Before the runner threads start: a new server claims at once.
        runner.worker_command = [
            sys.executable,
            "-c",
            COUNTING_WORKER.format(repo=str(REPO), log=str(log), server=naming[-1]),
        ]
        real_start(runner)

    monkeypatch.setattr(JobRunner, "start", counting_start)

    def start(name: str) -> None:
        naming.append(name)
        services.append(start_service(settings))

    def submit(client: TestClient, k: int) -> str:
        r = client.post(
            "/v1/plans?wait_s=0",
            json={
                "problem": tutorial(name=f"job-{k}"),
                "time_limit_s": 0.5,
                "deterministic": True,
            },
            headers=h,
        )
        assert r.status_code == 202, r.text
        return str(r.json()["id"])

    try:
        start("A")
        h = {"X-API-Key": create_key(services[0][0].state.db, "dispatcher")}
        jobs = [submit(services[0][1], k) for k in range(4)]
        start("B")  # its start must not run A's queued or running jobs again
        jobs += [submit(services[k % 2][1], k) for k in range(4, 10)]
        for k, job_id in enumerate(jobs):
            done = poll(services[(k + 1) % 2][1], job_id, h)
            assert done["state"] == "succeeded" and done["attempts"] == 1, done
        runs = [line.split() for line in log.read_text().splitlines()]
        assert Counter(name for name, _ in runs) == {f"job-{k}": 1 for k in range(10)}
        by_server = {name: server for name, server in runs}
        assert {by_server[f"job-{k}"] for k in range(4, 10)} == {"A", "B"}
    finally:
        for _, client in services:
            client.__exit__(None, None, None)
        _drop_pg_schema(base, schema)


def test_a_job_leased_by_a_live_server_is_left_alone(fresh_url: str) -> None:
    """A starting server leaves a running job whose lease is still valid (its
    server may be alive) alone: no second run at once; once the lease lapses,
    the job is re-queued and run here (attempts 2). SQLite and PostgreSQL."""
    app, client = start_service(test_settings(fresh_url))
    h = {"X-API-Key": create_key(app.state.db, "dispatcher")}
    r = client.post(
        "/v1/plans",
        json={"problem": tutorial(), "time_limit_s": 1, "deterministic": True},
        headers=h,
    )
    plan_id = r.json()["id"]
    client.__exit__(None, None, None)
    db = Database(test_settings(fresh_url).url)
    with db.session() as session:  # as a live server running it would show it
        job = session.scalars(select(JobRow).where(JobRow.plan_id == plan_id)).one()
        job.state, job.attempts = "running", 1
        job.claimed_by = "elsewhere:1:abcd"
        job.lease_until = now() + timedelta(seconds=2)
        job_id = job.id
    db.dispose()

    app, client = start_service(test_settings(fresh_url, lease_s=1, poll_s=0.1))
    try:
        time.sleep(1.0)
        job_out = client.get(f"/v1/jobs/{job_id}", headers=h).json()
        assert job_out["state"] == "running" and job_out["attempts"] == 1
        assert app.state.runner.load["running"] == 0
        done = poll(client, job_id, h)
        assert done["state"] == "succeeded" and done["attempts"] == 2
        with app.state.db.session() as session:
            row = session.get(JobRow, job_id)
            assert row is not None
            assert row.claimed_by == app.state.runner.server_id
    finally:
        client.__exit__(None, None, None)


def test_a_claim_is_taken_once(fresh_url: str) -> None:
    """Claiming the same queued job twice (two threads, two servers) succeeds
    once: the second claim finds it running."""
    app, client = start_service(test_settings(fresh_url, workers=1))
    try:
        h = {"X-API-Key": create_key(app.state.db, "dispatcher")}
        r = client.post(
            "/v1/plans", json={"problem": tutorial(), "deterministic": True}, headers=h
        )
        runner = app.state.runner
        with app.state.db.session() as session:
            job = session.scalars(
                select(JobRow).where(JobRow.plan_id == r.json()["id"])
            ).one()
            job.state = "queued"
            job_id = job.id
        assert runner._claim(job_id) is True
        assert runner._claim(job_id) is False
    finally:
        client.__exit__(None, None, None)
