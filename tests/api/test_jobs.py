"""Tests of the job runner through the API: progress, cancel (keeping the best
plan so far), bounded queue, resuming a job whose worker died."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.db import Database, JobRow, PlanRow
from api.jobs import keep_best
from routing.check import check_plan
from routing.formats import plan_from_dict, problem_from_dict
from routing.geo import build_travel
from tests.api.conftest import tutorial
from tests.api.test_plans import poll, wait_for_progress

MakeService = Callable[..., tuple[FastAPI, TestClient, dict[str, str]]]


def _running_pid(app: FastAPI, job_id: str, timeout_s: float = 15) -> int:
    """The pid of the job's process once it runs."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        proc = app.state.runner._procs.get(job_id)
        if proc is not None:
            return int(proc.pid)
        time.sleep(0.05)
    raise AssertionError("the job never started")


def _is_gone(pid: int, timeout_s: float = 10) -> bool:
    """Whether the process has exited and been reaped (by the runner)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def _start(client: TestClient, h: dict[str, str], **body: Any) -> dict[str, Any]:
    r = client.post(
        "/v1/plans?wait_s=0", json={"problem": tutorial(), **body}, headers=h
    )
    assert r.status_code == 202, r.text
    return dict(r.json())


def test_cancel_stops_the_process_and_a_full_queue_answers_429(
    make_service: MakeService,
) -> None:
    """With one worker and no waiting room, a second job is refused with 429 and
    Retry-After; cancelling the running one ends its process within seconds,
    keeps a plan only if the search had found one (stopped early), frees the
    place, and a second cancel is 409."""
    app, client, h = make_service(queue_size=0)
    job = _start(client, h, time_limit_s=5)
    pid = _running_pid(app, job["id"])
    r = client.post("/v1/plans?wait_s=0", json={"problem": tutorial()}, headers=h)
    assert r.status_code == 429 and r.json()["code"] == "queue_full"
    assert r.headers["Retry-After"] == "7"
    t0 = time.monotonic()
    r = client.post(f"/v1/jobs/{job['id']}/cancel", headers=h)
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    assert _is_gone(pid) and time.monotonic() - t0 < 3
    plan = client.get(f"/v1/plans/{job['plan_id']}", headers=h).json()
    if plan["plan"] is None:  # cancelled before the search found a plan
        assert plan["status"] == "cancelled"
    else:
        assert plan["stopped_early"] is True
    r = client.post(f"/v1/jobs/{job['id']}/cancel", headers=h)
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    deadline = time.monotonic() + 5
    while app.state.runner.load["running"] and time.monotonic() < deadline:
        time.sleep(0.05)
    r = client.post(
        "/v1/plans", json={"problem": tutorial(), "deterministic": True}, headers=h
    )
    assert r.status_code == 201, r.text


def test_cancel_a_queued_job_before_it_starts(make_service: MakeService) -> None:
    """A job waiting behind another is cancelled without ever running."""
    _app, client, h = make_service()
    first = _start(client, h, time_limit_s=3)
    second = _start(client, h, time_limit_s=1)
    r = client.post(f"/v1/jobs/{second['id']}/cancel", headers=h)
    assert r.json()["state"] == "cancelled" and r.json()["started_at"] is None
    client.post(f"/v1/jobs/{first['id']}/cancel", headers=h)
    assert poll(client, second["id"], h)["attempts"] == 0


def _kill_first_job_process(app: FastAPI) -> threading.Thread:
    """A thread that SIGKILLs the process group of the first job that runs."""

    def kill() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            procs = list(app.state.runner._procs.values())
            if procs:
                os.killpg(procs[0].pid, signal.SIGKILL)
                return
            time.sleep(0.02)

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    return thread


def test_a_killed_worker_answers_the_waiting_client_with_a_resumable_job(
    make_service: MakeService,
) -> None:
    """A create call waiting (`wait_s`) on a job whose process is killed gets 202
    with the job failed, resumable (code `interrupted`, the signal named, a resume
    link), never a 500; resuming it produces the plan, a second resume is 409."""
    app, client, h = make_service()
    killer = _kill_first_job_process(app)
    r = client.post(
        "/v1/plans?wait_s=20",
        json={"problem": tutorial(), "time_limit_s": 3},
        headers=h,
    )
    killer.join()
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["state"] == "failed" and job["is_resumable"] is True
    assert job["error"]["code"] == "interrupted"
    assert "signal 9" in job["error"]["message"]
    assert job["links"]["resume"] == f"/v1/jobs/{job['id']}/resume"
    r = client.post(f"/v1/jobs/{job['id']}/resume", headers=h)
    assert r.status_code == 202 and r.json()["state"] in ("queued", "running")
    done = poll(client, job["id"], h)
    assert done["state"] == "succeeded"
    plan = client.get(f"/v1/plans/{job['plan_id']}", headers=h).json()
    assert plan["status"] == "solved"
    r = client.post(f"/v1/jobs/{job['id']}/resume", headers=h)
    assert r.status_code == 409


def test_a_killed_whatif_worker_answers_with_a_resumable_job(
    make_service: MakeService,
) -> None:
    """The same for a what-if comparison waiting on a killed process: 202, the
    job failed and resumable."""
    app, client, h = make_service()
    killer = _kill_first_job_process(app)
    r = client.post(
        "/v1/whatif?wait_s=20",
        json={
            "problem": tutorial(),
            "time_limit_s": 2,
            "variants": [{"name": "slots +1h", "widen_slots_s": 3600}],
        },
        headers=h,
    )
    killer.join()
    assert r.status_code == 202, r.text
    assert r.json()["state"] == "failed" and r.json()["is_resumable"] is True


def test_jobs_are_scoped(make_service: MakeService) -> None:
    """Unknown jobs are 404; a planner may not cancel a solve (403), a driver may
    not read jobs (403)."""
    app, client, h = make_service()
    from api.auth import create_key

    assert client.get("/v1/jobs/nope", headers=h).status_code == 404
    job = _start(client, h, time_limit_s=1, deterministic=True)
    planner = {"X-API-Key": create_key(app.state.db, "planner")}
    driver = {"X-API-Key": create_key(app.state.db, "driver", vehicle_id="van-1")}
    assert client.get(f"/v1/jobs/{job['id']}", headers=planner).status_code == 200
    assert (
        client.post(f"/v1/jobs/{job['id']}/cancel", headers=planner).status_code == 403
    )
    assert client.get(f"/v1/jobs/{job['id']}", headers=driver).status_code == 403
    poll(client, job["id"], h)


STANDIN = Path(__file__).resolve().parent / "standin_worker.py"


def test_cancel_keeps_the_best_plan_so_far(make_service: MakeService) -> None:
    """With an engine that can stop on request (stand-in), cancelling a running
    solve stores the best plan found so far, stopped early with the reason
    "cancelled by user, best plan so far", valid and publishable."""
    app, client, h = make_service()
    app.state.runner.worker_command = [sys.executable, str(STANDIN)]
    job = _start(client, h, time_limit_s=5)
    wait_for_progress(client, job["id"], h)
    t0 = time.monotonic()
    r = client.post(f"/v1/jobs/{job['id']}/cancel", headers=h)
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    assert time.monotonic() - t0 < 4
    assert r.json()["result"]["stopped_early"] is True
    plan = client.get(f"/v1/plans/{job['plan_id']}", headers=h).json()
    assert plan["status"] == "solved" and plan["stopped_early"] is True
    assert plan["stop_reason"].startswith("cancelled by user, best plan so far")
    assert plan["state"] == "draft"
    problem = problem_from_dict(tutorial())
    kept = plan_from_dict(plan["plan"])
    assert check_plan(problem, kept, build_travel(problem)) == []
    r = client.post(f"/v1/plans/{job['plan_id']}/publish", headers=h)
    assert r.status_code == 200 and r.json()["state"] == "published"


def test_a_client_waiting_on_a_cancelled_plan_gets_the_kept_plan(
    make_service: MakeService,
) -> None:
    """A client waiting for its plan (``wait_s``) whose job is cancelled meanwhile
    is answered with the best plan so far (201, stopped early), not a 409."""
    app, client, h = make_service()
    app.state.runner.worker_command = [sys.executable, str(STANDIN)]
    answers: list[Any] = []

    def wait_for_plan() -> None:
        answers.append(
            client.post(
                "/v1/plans?wait_s=20",
                json={"problem": tutorial(), "time_limit_s": 5},
                headers=h,
            )
        )

    waiting = threading.Thread(target=wait_for_plan)
    waiting.start()
    deadline = time.monotonic() + 20
    job_id = None
    while job_id is None:  # the waiting request's job, once it runs
        assert time.monotonic() < deadline, f"no running job: {answers}"
        time.sleep(0.05)
        with app.state.db.session() as session:
            job_id = session.scalar(select(JobRow.id).where(JobRow.state == "running"))
    wait_for_progress(client, job_id, h)
    assert client.post(f"/v1/jobs/{job_id}/cancel", headers=h).status_code == 200
    waiting.join(timeout=20)
    (r,) = answers
    assert r.status_code == 201, r.text
    assert r.json()["stopped_early"] is True
    assert r.json()["stop_reason"].startswith("cancelled by user, best plan so far")


def test_cancel_without_a_plan_found_keeps_nothing(sqlite_url: str) -> None:
    """A cancelled job whose engine handed back no routes (nothing found yet)
    stays cancelled without a plan; what-if jobs never keep one."""
    db = Database(sqlite_url)
    db.upgrade()
    with db.session() as session:
        plan = PlanRow(
            id="p1", name="", status="cancelled", lineage_id="p1", problem={}
        )
        session.add(plan)
        session.flush()
        job = JobRow(
            id="j1",
            kind="solve",
            state="cancelled",
            plan_id="p1",
            request={},
            time_limit_s=1.0,
        )
        session.add(job)
        session.flush()
        found_nothing = {"plan": {"status": "no_solution", "routes": []}}
        assert keep_best(session, job, found_nothing) is False
        assert plan.plan is None and plan.status == "cancelled"
        job.kind = "whatif"
        assert keep_best(session, job, {"plan": {"status": "solved"}}) is False
    db.dispose()


def test_cancel_keeps_the_engines_best_plan(make_service: MakeService) -> None:
    """The real engine stops on request: cancelling a 60 s solve of a 120-order
    day once it has reported a best cost stores that search's best plan within
    seconds, stopped early, valid under the independent checker."""
    import json

    day = json.loads(
        (
            Path(__file__).resolve().parents[2] / "scenarios" / "andorra_weekday.json"
        ).read_text()
    )
    day["date"] = tutorial()["date"]
    _app, client, h = make_service(max_orders=200, max_time_limit_s=60.0)
    r = client.post(
        "/v1/plans?wait_s=0", json={"problem": day, "time_limit_s": 60}, headers=h
    )
    assert r.status_code == 202, r.text
    job = r.json()
    wait_for_progress(client, job["id"], h, timeout_s=40)
    t0 = time.monotonic()
    r = client.post(f"/v1/jobs/{job['id']}/cancel", headers=h)
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    assert time.monotonic() - t0 < 5
    plan = client.get(f"/v1/plans/{job['plan_id']}", headers=h).json()
    assert plan["stopped_early"] is True, plan["status"]
    assert plan["stop_reason"].startswith("cancelled by user, best plan so far")
    problem = problem_from_dict(day)
    kept = plan_from_dict(plan["plan"])
    assert kept.routes
    assert check_plan(problem, kept, build_travel(problem)) == []
