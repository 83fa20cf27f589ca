"""Tests of /v1/plans: create (at once or as a job), fetch, list, limits, scopes."""

from __future__ import annotations

import time
from typing import Any

import httpx
from fastapi.testclient import TestClient

from routing.check import check_plan
from routing.formats import plan_from_dict, problem_from_dict
from routing.geo import build_travel
from tests.api.conftest import Service, tutorial


def poll(
    client: TestClient, job_id: str, headers: dict[str, str], timeout_s: float = 30
) -> dict[str, Any]:
    """The job once it has ended."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}", headers=headers).json()
        if job["state"] not in ("queued", "running"):
            return dict(job)
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still running after {timeout_s} s")


def wait_for_progress(
    client: httpx.Client,
    job_id: str,
    headers: dict[str, str],
    timeout_s: float = 20,
) -> None:
    """Return once the running job reports a best cost (its search has a plan)."""
    deadline = time.monotonic() + timeout_s
    while (
        client.get(f"/v1/jobs/{job_id}", headers=headers).json()["progress"][
            "best_cost"
        ]
        is None
    ):
        assert time.monotonic() < deadline, f"job {job_id}: no progress reported"
        time.sleep(0.05)


def test_create_answers_with_a_checked_plan(any_service: Service) -> None:
    """A quick solve answers 201 with a plan that passes the independent checker."""
    body = any_service.plan
    assert body["status"] == "solved" and body["kind"] == "solve"
    assert body["depots"] == ["AND-SC"] and body["orders"] == 12
    assert body["job"]["state"] == "succeeded"
    problem = problem_from_dict(tutorial())
    plan = plan_from_dict(body["plan"])
    assert check_plan(problem, plan, build_travel(problem)) == []


def test_slow_solve_answers_202_and_the_job_reports_progress(
    any_service: Service,
) -> None:
    """With no time to wait, the answer is 202 with a job; polling it ends in a
    stored plan, with the best cost and elapsed time recorded."""
    h = any_service.headers("dispatcher")
    r = any_service.client.post(
        "/v1/plans?wait_s=0",
        json={"problem": tutorial(), "time_limit_s": 1.5},
        headers=h,
    )
    assert r.status_code == 202, r.text
    assert r.headers["Location"] == f"/v1/jobs/{r.json()['id']}"
    job = poll(any_service.client, r.json()["id"], h)
    assert job["state"] == "succeeded"
    assert job["progress"]["best_cost"] > 0 and job["progress"]["elapsed_s"] > 0
    plan = any_service.client.get(f"/v1/plans/{job['plan_id']}", headers=h).json()
    assert plan["status"] == "solved" and plan["job"]["id"] == job["id"]


def test_invalid_problem_is_422_naming_field_and_entity(service: Service) -> None:
    """A slot that ends before it starts: 422 invalid_input with the path inside
    the request and the order's id."""
    problem = tutorial()
    problem["orders"][1]["windows"] = [["11:00", "09:00"]]
    r = service.client.post(
        "/v1/plans", json={"problem": problem}, headers=service.headers("dispatcher")
    )
    assert r.status_code == 422
    assert r.json() == {
        "code": "invalid_input",
        "message": "time window start 39600 s is after end 32400 s",
        "path": "problem.orders[1].windows[0]",
        "entity_id": "o-02",
    }


def test_schema_errors_are_422_with_the_field(service: Service) -> None:
    """A body that is not the schema: 422 naming the field, in the one format."""
    r = service.client.post(
        "/v1/plans",
        json={"problem": tutorial(), "time_limit_s": "soon"},
        headers=service.headers("dispatcher"),
    )
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_input" and r.json()["path"] == "time_limit_s"
    r = service.client.post(
        "/v1/plans", content=b"{not json", headers=service.headers("dispatcher")
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_input"


def test_the_seed_is_used_and_a_bad_one_is_refused(service: Service) -> None:
    """``seed`` reaches the search (the plan's stats record it); a negative one is
    422 naming the field."""
    h = service.headers("dispatcher")
    r = service.client.post(
        "/v1/plans",
        json={"problem": tutorial(), "time_limit_s": 1, "seed": 7},
        headers=h,
    )
    assert r.status_code == 201, r.text
    assert r.json()["plan"]["stats"]["seed"] == 7
    r = service.client.post(
        "/v1/plans", json={"problem": tutorial(), "seed": -1}, headers=h
    )
    assert r.status_code == 422 and r.json()["path"] == "seed"


def test_infeasible_order_gives_a_plan_with_a_reason(service: Service) -> None:
    """An order too heavy for every van is not an error: 201, listed unplanned."""
    problem = tutorial()
    problem["orders"][0]["delivery"] = [5000, 1]
    r = service.client.post(
        "/v1/plans",
        json={"problem": problem, "time_limit_s": 1, "deterministic": True},
        headers=service.headers("dispatcher"),
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "partial" and body["unplanned"] == 1
    (unplanned,) = body["plan"]["unplanned"]
    assert unplanned["order_id"] == "o-01"
    assert unplanned["code"] == "exceeds_capacity" and unplanned["reason"]


def test_limits_on_orders_time_and_wait(service: Service) -> None:
    """Too many orders is 413; a time limit or wait above the maximum is 422."""
    h = service.headers("dispatcher")
    problem = tutorial()
    problem["orders"] = [{**problem["orders"][0], "id": f"o-{k}"} for k in range(51)]
    r = service.client.post("/v1/plans", json={"problem": problem}, headers=h)
    assert r.status_code == 413 and r.json()["code"] == "too_large"
    assert r.json()["path"] == "problem.orders"
    r = service.client.post(
        "/v1/plans", json={"problem": tutorial(), "time_limit_s": 600}, headers=h
    )
    assert r.status_code == 422 and r.json()["path"] == "time_limit_s"
    r = service.client.post(
        "/v1/plans?wait_s=3600", json={"problem": tutorial()}, headers=h
    )
    assert r.status_code == 422 and r.json()["path"] == "wait_s"


def test_fetch_a_plan_with_its_problem(any_service: Service) -> None:
    """GET returns the stored plan, with the problem on request; unknown is 404."""
    h = any_service.headers("planner")
    plan_id = any_service.plan["id"]
    body = any_service.client.get(f"/v1/plans/{plan_id}", headers=h).json()
    assert body["plan"] == any_service.plan["plan"] and body["problem"] is None
    body = any_service.client.get(
        f"/v1/plans/{plan_id}?include_problem=true", headers=h
    ).json()
    assert body["problem"]["orders"][0]["id"] == "o-01"
    r = any_service.client.get("/v1/plans/nope", headers=h)
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_list_filters_by_day_depot_and_status(any_service: Service) -> None:
    """Listing finds the plan by its day, depot and status, and not by others."""
    h = any_service.headers("dispatcher")
    day = any_service.plan["day"]

    def ids(query: str) -> set[str]:
        r = any_service.client.get(f"/v1/plans{query}", headers=h)
        assert r.status_code == 200, r.text
        return {p["id"] for p in r.json()}

    plan_id = any_service.plan["id"]
    assert plan_id in ids("")
    assert plan_id in ids(f"?day={day}&depot=AND-SC&status=solved")
    assert plan_id not in ids("?day=1999-01-01")
    assert plan_id not in ids("?depot=elsewhere")
    assert plan_id not in ids("?status=failed")
    r = any_service.client.get("/v1/plans?day=tomorrow", headers=h)
    assert r.status_code == 422 and r.json()["path"] == "day"


def test_depot_scoped_keys_see_and_plan_only_their_depots(any_service: Service) -> None:
    """A dispatcher of another depot cannot see the plan (404), list it, or plan
    for this depot (403); a planner cannot create plans (403)."""
    h = any_service.headers("other_depot")
    plan_id = any_service.plan["id"]
    assert any_service.client.get(f"/v1/plans/{plan_id}", headers=h).status_code == 404
    listed = any_service.client.get("/v1/plans", headers=h).json()
    assert plan_id not in {p["id"] for p in listed}
    r = any_service.client.post("/v1/plans", json={"problem": tutorial()}, headers=h)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = any_service.client.post(
        "/v1/plans",
        json={"problem": tutorial()},
        headers=any_service.headers("planner"),
    )
    assert r.status_code == 403


def test_requests_without_a_valid_key_are_401(service: Service) -> None:
    """No key, a malformed key and an unknown key are all 401 unauthorized."""
    for headers in ({}, {"X-API-Key": "hello"}, {"X-API-Key": "rk_000000000000_x"}):
        r = service.client.get("/v1/plans", headers=headers)
        assert r.status_code == 401 and r.json()["code"] == "unauthorized"


def _plan_of(service: Service, day: str) -> dict[str, Any]:
    """A new solved (draft) plan of the tutorial on ``day``."""
    r = service.client.post(
        "/v1/plans",
        json={
            "problem": tutorial(date=day),
            "time_limit_s": 1,
            "deterministic": True,
        },
        headers=service.headers("dispatcher"),
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_publish_supersedes_the_days_published_plan(any_service: Service) -> None:
    """Plans are drafts; publishing one records who and when, publishing a second
    plan of the day supersedes the first, the list filters by state, and
    publishing the superseded plan again goes back to it."""
    h = any_service.headers("dispatcher")
    day = "2031-03-03"  # a day of its own: today's shared plan stays published
    first, second = _plan_of(any_service, day), _plan_of(any_service, day)
    assert first["state"] == "draft" and first["published_at"] is None
    published = any_service.publish(first["id"])
    assert published["state"] == "published" and published["published_at"]
    assert published["published_by"] and published["superseded_at"] is None
    assert (
        any_service.publish(first["id"])["published_at"] == (published["published_at"])
    )
    now_published = any_service.publish(second["id"])
    assert now_published["state"] == "published"
    old = any_service.client.get(f"/v1/plans/{first['id']}", headers=h).json()
    assert old["state"] == "superseded" and old["superseded_by"] == second["id"]

    def ids(state: str) -> set[str]:
        r = any_service.client.get(f"/v1/plans?day={day}&state={state}", headers=h)
        assert r.status_code == 200, r.text
        return {p["id"] for p in r.json()}

    assert ids("published") == {second["id"]}
    assert ids("superseded") == {first["id"]}
    assert ids("draft") == set()
    any_service.publish(first["id"])
    assert ids("published") == {first["id"]}
    assert ids("superseded") == {second["id"]}
    assert any_service.plan["id"] not in ids("superseded")


def test_only_finished_plans_with_routes_can_be_published(
    make_service: Any,
) -> None:
    """A plan still solving, or cancelled before any plan was found, is 409
    not_publishable; planners may not publish (403), unknown plans are 404."""
    app, client, h = make_service()
    r = client.post(
        "/v1/plans?wait_s=0",
        json={"problem": tutorial(), "time_limit_s": 4},
        headers=h,
    )
    assert r.status_code == 202
    job = r.json()
    r = client.post(f"/v1/plans/{job['plan_id']}/publish", headers=h)
    assert r.status_code == 409 and r.json()["code"] == "not_publishable"
    assert "has not finished" in r.json()["message"]
    client.post(f"/v1/jobs/{job['id']}/cancel", headers=h)
    poll(client, job["id"], h)
    r = client.post(f"/v1/plans/{job['plan_id']}/publish", headers=h)
    assert r.status_code == 409 and r.json()["code"] == "not_publishable"
    assert "cancelled" in r.json()["message"]
    from api.auth import create_key

    planner = {"X-API-Key": create_key(app.state.db, "planner")}
    r = client.post(f"/v1/plans/{job['plan_id']}/publish", headers=planner)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = client.post("/v1/plans/nope/publish", headers=h)
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def _rows(app: Any, table: str, plan_ids: list[str]) -> int:
    """Rows of ``table`` that belong to these plans (``plan_id``, or ``id`` for
    plans)."""
    from sqlalchemy import text

    column = "id" if table == "plans" else "plan_id"
    marks = ", ".join(f":p{k}" for k in range(len(plan_ids)))
    with app.state.db.engine.connect() as conn:
        return int(
            conn.execute(
                text(f"SELECT COUNT(*) FROM {table} WHERE {column} IN ({marks})"),
                {f"p{k}": p for k, p in enumerate(plan_ids)},
            ).scalar_one()
        )


def test_delete_removes_a_plan_its_replans_jobs_and_promises(
    fresh_url: str, make_service: Any
) -> None:
    """DELETE (dispatcher) removes the plan, the re-plans made from it, their
    jobs, promises and depot rows; a planner gets 403, another depot's key and
    a second DELETE 404; drivers then see nothing published (SQLite,
    PostgreSQL)."""
    from api.auth import create_key

    app, client, h = make_service(url=fresh_url)
    plan = _plan_of_service(client, h)
    publish_plan(client, plan["id"], h)
    order_id = plan["plan"]["routes"][0]["visits"][0]["order_id"]
    r = client.post(
        f"/v1/plans/{plan['id']}/orders/{order_id}/notice", json={}, headers=h
    )
    assert r.status_code == 201, r.text
    r = client.post(
        f"/v1/plans/{plan['id']}/replan",
        json={
            "cancelled": [order_id],
            "now": 7 * 3600,
            "time_limit_s": 1,
            "deterministic": True,
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    child = r.json()
    ids = [plan["id"], child["id"]]
    assert _rows(app, "promises", ids) == 1 and _rows(app, "jobs", ids) == 2
    planner = {"X-API-Key": create_key(app.state.db, "planner")}
    other = {"X-API-Key": create_key(app.state.db, "dispatcher", depots=["AND-XX"])}
    r = client.delete(f"/v1/plans/{plan['id']}", headers=planner)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = client.delete(f"/v1/plans/{plan['id']}", headers=other)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = client.delete(f"/v1/plans/{plan['id']}", headers=h)
    assert r.status_code == 200, r.text
    assert r.json() == {"deleted": ids, "plans": 2, "jobs": 2, "promises": 1}
    for table in ("plans", "jobs", "promises", "plan_depots"):
        assert _rows(app, table, ids) == 0, table
    assert client.get(f"/v1/plans/{plan['id']}", headers=h).status_code == 404
    assert client.get(f"/v1/plans/{child['id']}", headers=h).status_code == 404
    r = client.delete(f"/v1/plans/{plan['id']}", headers=h)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    driver = {"X-API-Key": create_key(app.state.db, "driver", vehicle_id="van-1")}
    r = client.get("/v1/driver/stops", headers=driver)
    assert r.status_code == 404 and r.json()["code"] == "not_published"


def test_delete_refuses_a_plan_whose_job_runs(make_service: Any) -> None:
    """A plan still solving is 409 conflict (cancel first); once its job is
    cancelled it can be deleted."""
    _app, client, h = make_service()
    r = client.post(
        "/v1/plans?wait_s=0",
        json={"problem": tutorial(), "time_limit_s": 4},
        headers=h,
    )
    assert r.status_code == 202, r.text
    job = r.json()
    r = client.delete(f"/v1/plans/{job['plan_id']}", headers=h)
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    assert "/cancel" in r.json()["message"]
    client.post(f"/v1/jobs/{job['id']}/cancel", headers=h)
    poll(client, job["id"], h)
    r = client.delete(f"/v1/plans/{job['plan_id']}", headers=h)
    assert r.status_code == 200 and r.json()["deleted"] == [job["plan_id"]]
    assert client.get(f"/v1/jobs/{job['id']}", headers=h).status_code == 404


def test_retention_deletes_plans_of_old_days(make_service: Any) -> None:
    """With ROUTING_RETENTION_DAYS the sweep deletes plans whose day is older
    (with their jobs) and keeps the others; a service started with the setting
    sweeps at start-up; without it nothing is deleted."""
    from api.retention import sweep
    from tests.api.conftest import test_settings

    app, client, h = make_service()
    old = _plan_of_service(client, h, day="2020-01-01")
    recent = _plan_of_service(client, h)
    url = app.state.settings.url
    assert sweep(app.state.db, test_settings(url)) == {}
    counts = sweep(app.state.db, test_settings(url, retention_days=3650))
    assert counts["plans"] == 0
    old2 = _plan_of_service(client, h, day="2021-06-01")
    counts = sweep(app.state.db, test_settings(url, retention_days=30))
    assert counts == {"plans": 2, "jobs": 2, "promises": 0}
    for gone in (old, old2):
        assert client.get(f"/v1/plans/{gone['id']}", headers=h).status_code == 404
    assert client.get(f"/v1/plans/{recent['id']}", headers=h).status_code == 200
    old3 = _plan_of_service(client, h, day="2020-05-05")
    _app2, client2, h2 = make_service(retention_days=30)
    assert client2.get(f"/v1/plans/{old3['id']}", headers=h2).status_code == 404
    assert client2.get(f"/v1/plans/{recent['id']}", headers=h2).status_code == 200


def _plan_of_service(
    client: TestClient, headers: dict[str, str], *, day: str | None = None
) -> dict[str, Any]:
    """A new solved draft plan of the tutorial (of ``day``, default today)."""
    problem = tutorial(date=day) if day else tutorial()
    r = client.post(
        "/v1/plans",
        json={"problem": problem, "time_limit_s": 1, "deterministic": True},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def publish_plan(
    client: TestClient, plan_id: str, headers: dict[str, str]
) -> dict[str, Any]:
    """Publish a plan on a private service."""
    r = client.post(f"/v1/plans/{plan_id}/publish", headers=headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_list_and_driver_lookup_read_no_plan_bodies(make_service: Any) -> None:
    """GET /v1/plans reads plans in one query, whatever their number, and never
    their JSON bodies; a driver's list reads the body of its one plan once,
    then (rendered) none; GET of one plan reads its bodies (issue 12 point 8)."""
    import re

    from sqlalchemy import event

    app, client, h = make_service()
    plans = [_plan_of_service(client, h) for _ in range(3)]
    publish_plan(client, plans[0]["id"], h)
    from api.auth import create_key

    driver = {"X-API-Key": create_key(app.state.db, "driver", vehicle_id="van-1")}
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    bodies = re.compile(r"plans\.(problem|plan|eta_changes|replan)\b")

    def reads(path: str, headers: dict[str, str]) -> list[str]:
        statements.clear()
        event.listen(app.state.db.engine, "before_cursor_execute", record)
        try:
            r = client.get(path, headers=headers)
        finally:
            event.remove(app.state.db.engine, "before_cursor_execute", record)
        assert r.status_code == 200, r.text
        return [s for s in statements if re.search(r"\bplans\b", s)]

    listed = reads("/v1/plans?limit=50", h)
    assert len(listed) == 1 and not bodies.search(listed[0]), listed
    first = reads("/v1/driver/stops", driver)
    assert sum(bool(bodies.search(s)) for s in first) == 1, first
    again = reads("/v1/driver/stops", driver)
    assert not any(bodies.search(s) for s in again), again
    one = reads(f"/v1/plans/{plans[1]['id']}", h)
    assert any(bodies.search(s) for s in one)


def test_upgrade_to_0004_backfills_the_summary_columns(fresh_url: str) -> None:
    """A plan and its re-plan stored at revision 0003 get depot ids, vehicle ids
    (the re-plan's with its lineage's) and the stop reason when migrating to
    0004 (SQLite, PostgreSQL)."""
    import json as json_

    from alembic import command
    from sqlalchemy import text

    from api.db import Database, PlanRow, alembic_config

    db = Database(fresh_url)
    try:
        problem = tutorial()
        child_problem = {**problem, "vehicles": problem["vehicles"][:1]}
        with db.engine.begin() as connection:
            config = alembic_config(fresh_url)
            config.attributes["connection"] = connection
            command.upgrade(config, "0003")
            insert = text(
                "INSERT INTO plans (id, created_at, name, status, kind, lineage_id, "
                "parent_id, problem, plan, orders, is_stopped_early) VALUES (:id, "
                "CURRENT_TIMESTAMP, 'old', 'solved', :kind, 'p1', :parent, "
                ":problem, :plan, 12, false)"
            )
            connection.execute(
                insert,
                {
                    "id": "p1",
                    "kind": "solve",
                    "parent": None,
                    "problem": json_.dumps(problem),
                    "plan": json_.dumps({"search": {"stop_reason": "time limit"}}),
                },
            )
            connection.execute(
                insert,
                {
                    "id": "p2",
                    "kind": "replan",
                    "parent": "p1",
                    "problem": json_.dumps(child_problem),
                    "plan": json_.dumps({}),
                },
            )
        db.upgrade()
        with db.session() as session:
            first, child = session.get(PlanRow, "p1"), session.get(PlanRow, "p2")
            assert first is not None and child is not None
            assert first.depot_ids == ["AND-SC"] and child.depot_ids == ["AND-SC"]
            assert first.vehicle_ids == ["van-1", "van-2"]
            assert child.vehicle_ids == ["van-1", "van-2"]  # its lineage's too
            assert first.stop_reason == "time limit" and child.stop_reason is None
    finally:
        db.dispose()
