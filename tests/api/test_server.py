"""The real server: uvicorn in a subprocess on a free local port, driven over HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from api.auth import create_key
from api.db import Database, JobRow
from api.jobs import KEEP_BEST_GRACE_S, STOPPED_EARLY
from tests.api.conftest import (
    PG_ENV,
    REPO,
    _drop_pg_schema,
    _pg_schema_url,
    tutorial,
)
from tests.api.test_plans import wait_for_progress


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _server(
    db_path: Path | str, port: int, **extra_env: str
) -> Iterator[tuple[httpx.Client, subprocess.Popen[bytes]]]:
    """`routing-api serve` on 127.0.0.1:port until the block ends (or it is
    killed inside it); ``db_path``: a SQLite file or a database URL;
    ``extra_env`` adds ROUTING_* variables."""
    is_url = isinstance(db_path, str) and "://" in db_path
    env = {
        **os.environ,
        "ROUTING_DATABASE_PATH": "" if is_url else str(db_path),
        "ROUTING_DEFAULT_TIME_LIMIT_S": "1",
        "ROUTING_MAX_TIME_LIMIT_S": "5",
        "ROUTING_LOG_LEVEL": "WARNING",
        "ROUTING_LEASE_S": "2",  # a killed server's jobs run again 2 s later
        "ROUTING_STOP_GRACE_S": "2",
        **extra_env,
    }
    env.pop("ROUTING_DATABASE_URL", None)
    if is_url:
        env.pop("ROUTING_DATABASE_PATH")
        env["ROUTING_DATABASE_URL"] = str(db_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        cwd=REPO,
        env=env,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if client.get("/v1/ready").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert proc.poll() is None, "the server exited"
                assert time.monotonic() < deadline, "the server never got ready"
                time.sleep(0.1)
            yield client, proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _poll(client: httpx.Client, job_id: str, h: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    seen_progress = False
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}", headers=h).json()
        seen_progress |= job["progress"]["best_cost"] is not None
        if job["state"] not in ("queued", "running"):
            return {**job, "seen_progress": seen_progress}
        time.sleep(0.1)
    raise AssertionError("job did not finish")


def test_real_server_end_to_end_and_restart(tmp_path: Path) -> None:
    """Over HTTP: create a job, poll it, publish the plan, fetch a driver's list,
    issue a notice, re-plan, compare variants; then kill the server mid-solve
    and restart it: the interrupted job is re-run, not lost."""
    db_path = tmp_path / "server.sqlite3"
    db = Database(f"sqlite:///{db_path}")
    db.upgrade()
    h = {"X-API-Key": create_key(db, "dispatcher")}
    driver = {"X-API-Key": create_key(db, "driver", vehicle_id="van-1")}
    db.dispose()
    port = _free_port()
    with _server(db_path, port) as (client, server):
        r = client.post(
            "/v1/plans?wait_s=0",
            json={"problem": tutorial(), "time_limit_s": 1, "deterministic": True},
            headers=h,
        )
        assert r.status_code == 202, r.text
        job = _poll(client, r.json()["id"], h)
        assert job["state"] == "succeeded" and job["progress"]["best_cost"] > 0
        plan = client.get(f"/v1/plans/{job['plan_id']}", headers=h).json()
        van1 = next(r for r in plan["plan"]["routes"] if r["vehicle_id"] == "van-1")

        r = client.get("/v1/driver/stops?format=csv", headers=driver)
        assert r.status_code == 404 and r.json()["code"] == "not_published"
        r = client.post(f"/v1/plans/{plan['id']}/publish", headers=h)
        assert r.status_code == 200 and r.json()["state"] == "published"
        r = client.get("/v1/driver/stops?format=csv", headers=driver)
        assert r.status_code == 200 and van1["visits"][0]["order_id"] in r.text
        r = client.get(f"/v1/plans/{plan['id']}/vehicles/van-2/stops", headers=driver)
        assert r.status_code == 403

        first = van1["visits"][0]
        target = van1["visits"][1]["order_id"]
        r = client.post(
            f"/v1/plans/{plan['id']}/orders/{target}/notice", json={}, headers=h
        )
        assert r.status_code == 201
        r = client.post(
            f"/v1/plans/{plan['id']}/replan?wait_s=25",
            json={
                "states": [
                    {
                        "vehicle_id": "van-1",
                        "time": first["departure_s"] + 900,
                        "done": [first["order_id"]],
                    }
                ],
                "time_limit_s": 1,
                "deterministic": True,
            },
            headers=h,
        )
        assert r.status_code == 201, r.text
        assert r.json()["parent_id"] == plan["id"]
        assert target in {c["order_id"] for c in r.json()["eta_changes"]}

        r = client.post(
            "/v1/whatif?wait_s=25",
            json={
                "problem": tutorial(),
                "time_limit_s": 1,
                "deterministic": True,
                "variants": [{"name": "slots +1h", "widen_slots_s": 3600}],
            },
            headers=h,
        )
        assert r.status_code == 200, r.text
        assert [row["name"] for row in r.json()["rows"]] == ["base", "slots +1h"]

        # A long job, then the server dies without any shutdown.
        r = client.post(
            "/v1/plans?wait_s=0",
            json={"problem": tutorial(), "time_limit_s": 2},
            headers=h,
        )
        interrupted = r.json()["id"]
        deadline = time.monotonic() + 20
        while (
            client.get(f"/v1/jobs/{interrupted}", headers=h).json()["state"]
            != "running"
        ):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        server.kill()
        server.wait()

    with _server(db_path, port) as (client, _):
        job = _poll(client, interrupted, h)
        assert job["state"] == "succeeded" and job["attempts"] == 2
        plan = client.get(f"/v1/plans/{job['plan_id']}", headers=h).json()
        assert plan["status"] == "solved"


def job_processes(server_pid: int) -> list[int]:
    """Pids of the server's job processes (``api.worker``, warm spare included)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == server_pid and b"api.worker" in cmdline:
            pids.append(int(entry.name))
    return pids


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_a_killed_server_takes_its_job_processes_with_it(tmp_path: Path) -> None:
    """kill -9 of the server mid-job ends its job processes within 2 s: a what-if
    solving its base day writes nothing for seconds, so it would solve on unseen
    (no broken pipe to end it) and run a second time beside its re-run."""
    db_path = tmp_path / "server.sqlite3"
    db = Database(f"sqlite:///{db_path}")
    db.upgrade()
    h = {"X-API-Key": create_key(db, "dispatcher")}
    db.dispose()
    with _server(db_path, _free_port()) as (client, server):
        day = json.loads((REPO / "scenarios" / "andorra_weekday.json").read_text())
        day["date"] = tutorial()["date"]
        r = client.post(
            "/v1/whatif?wait_s=0",
            json={
                "problem": day,
                "time_limit_s": 5,
                "variants": [{"name": "slots +1h", "widen_slots_s": 3600}],
            },
            headers=h,
        )
        job_id = r.json()["id"]
        deadline = time.monotonic() + 20
        while client.get(f"/v1/jobs/{job_id}", headers=h).json()["state"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.5)  # the job process has read its job
        workers = job_processes(server.pid)
        assert workers, "no job process found"
        server.kill()
        server.wait()
        deadline = time.monotonic() + 2
        while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [pid for pid in workers if alive(pid)], "job processes outlived"


def test_two_uvicorn_servers_share_one_postgresql_queue(tmp_path: Path) -> None:
    """Two real servers (`routing-api serve`, separate processes) on one
    PostgreSQL database: jobs submitted to both in turn, each polled through the
    other server, all succeed on their first attempt, and both servers ran some
    (``claimed_by`` names the server that ran a job)."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"the shared queue needs PostgreSQL ({PG_ENV})")
    schema = f"api_test_{uuid.uuid4().hex[:10]}"
    url = _pg_schema_url(base, schema)
    try:
        db = Database(url)
        db.upgrade()
        h = {"X-API-Key": create_key(db, "dispatcher")}
        ports = [_free_port(), _free_port()]
        with (
            _server(url, ports[0], ROUTING_WORKERS="1") as (a, _),
            _server(url, ports[1], ROUTING_WORKERS="1") as (b, _),
        ):
            clients = [a, b]
            jobs = []
            for k in range(8):
                r = clients[k % 2].post(
                    "/v1/plans?wait_s=0",
                    json={
                        "problem": tutorial(name=f"job-{k}"),
                        "time_limit_s": 1,
                        "deterministic": True,
                    },
                    headers=h,
                )
                assert r.status_code == 202, r.text
                jobs.append(r.json()["id"])
            for k, job_id in enumerate(jobs):
                job = _poll(clients[(k + 1) % 2], job_id, h)
                assert job["state"] == "succeeded" and job["attempts"] == 1, job
        with db.session() as session:
            rows = session.scalars(select(JobRow).where(JobRow.id.in_(jobs))).all()
            assert len(rows) == 8 and all(r.attempts == 1 for r in rows)
            ran_by = {r.claimed_by for r in rows}
        assert None not in ran_by and len(ran_by) == 2, ran_by
        db.dispose()
    finally:
        _drop_pg_schema(base, schema)


@pytest.mark.slow
def test_a_cancel_through_another_server_answers_with_the_kept_plan(
    tmp_path: Path,
) -> None:
    """Two real servers on one PostgreSQL database: a plan running on A,
    cancelled through B (which neither submitted nor runs it), answers with the
    best plan A's search kept (routes, stopped early), not before A stored it."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"two servers share a job on PostgreSQL only ({PG_ENV})")
    schema = f"api_test_{uuid.uuid4().hex[:10]}"
    url = _pg_schema_url(base, schema)
    day = json.loads((REPO / "scenarios" / "andorra_weekday.json").read_text())
    day["date"] = tutorial()["date"]
    env = {
        "ROUTING_WORKERS": "1",
        "ROUTING_MAX_ORDERS": "200",
        "ROUTING_MAX_TIME_LIMIT_S": "60",
        "ROUTING_SOLVER_SEARCHES": "1",
        "ROUTING_LEASE_S": "10",
    }
    try:
        db = Database(url)
        db.upgrade()
        h = {"X-API-Key": create_key(db, "dispatcher")}
        with _server(url, _free_port(), **env) as (a, server_a):
            r = a.post(
                "/v1/plans?wait_s=0",
                json={"problem": day, "time_limit_s": 60},
                headers=h,
            )
            assert r.status_code == 202, r.text
            job_id, plan_id = r.json()["id"], r.json()["plan_id"]
            wait_for_progress(a, job_id, h, timeout_s=60)
            with db.session() as session:
                job = session.get(JobRow, job_id)
                assert job is not None and job.claimed_by is not None
                runner = job.claimed_by
            assert runner.split(":")[1] == str(server_a.pid)
            # B starts now: it can neither have submitted nor claimed the job.
            with _server(url, _free_port(), **env) as (b, _):
                t0 = time.monotonic()
                r = b.post(f"/v1/jobs/{job_id}/cancel", headers=h)
                took_s = time.monotonic() - t0
                assert r.status_code == 200, r.text
                job_out = r.json()
                assert job_out["state"] == "cancelled"
                assert job_out["result"] and job_out["result"]["stopped_early"], job_out
                assert took_s < KEEP_BEST_GRACE_S + 2
                plan = b.get(f"/v1/plans/{plan_id}", headers=h).json()
                assert plan["stopped_early"] is True and plan["plan"]["routes"]
                assert plan["stop_reason"].startswith(STOPPED_EARLY)
        with db.session() as session:
            job = session.get(JobRow, job_id)
            assert job is not None and job.claimed_by == runner
        db.dispose()
    finally:
        _drop_pg_schema(base, schema)
