"""Tests of re-planning during the day: state kept, promises compared, chains."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Service, visits

NEW_ORDER = {
    "id": "o-new",
    "address": "Plaça del Poble, Andorra la Vella",
    "location": {"lat": 42.5075, "lon": 1.5218},
    "windows": [["12:00", "17:00"]],
    "service": 120,
    "delivery": [3, 1],
}


def _starts(plan: dict[str, Any]) -> dict[str, int]:
    return {
        v["order_id"]: v["start_s"] for r in plan["plan"]["routes"] for v in r["visits"]
    }


def test_replan_keeps_done_and_next_stops_and_reports_moved_etas(
    republish_after: Service,
) -> None:
    """Done stops leave the day, the stop driven to stays first, a cancelled
    order goes, a new one joins; promised ETAs that move are reported with the
    move (once the re-plan is published), and the new plan is stored, a draft,
    linked to its parent."""
    any_service = republish_after
    h = any_service.headers("dispatcher")
    parent = any_service.plan
    routes = sorted(parent["plan"]["routes"], key=lambda r: -len(r["visits"]))
    vid, other_vid = routes[0]["vehicle_id"], routes[1]["vehicle_id"]
    stops = visits(parent, vid)
    assert len(stops) >= 5
    done = [stops[0]["order_id"], stops[1]["order_id"]]
    heading = stops[2]["order_id"]
    promised = [s["order_id"] for s in stops[2:5]]
    for order_id in promised:
        r = any_service.client.post(
            f"/v1/plans/{parent['id']}/orders/{order_id}/notice", json={}, headers=h
        )
        assert r.status_code == 201
    cancelled = visits(parent, other_vid)[0]["order_id"]
    late_s = 1500  # the driver is 25 minutes behind
    body = {
        "states": [
            {
                "vehicle_id": vid,
                "time": stops[1]["departure_s"] + late_s,
                "position": stops[1].get("location")
                or {"lat": 42.50695, "lon": 1.51975},
                "done": done,
                "heading_to": heading,
            }
        ],
        "new_orders": [NEW_ORDER],
        "cancelled": [cancelled],
        "time_limit_s": 1,
        "deterministic": True,
    }
    r = any_service.client.post(
        f"/v1/plans/{parent['id']}/replan", json=body, headers=h
    )
    assert r.status_code == 201, r.text
    child = r.json()
    assert child["kind"] == "replan" and child["parent_id"] == parent["id"]
    assert child["state"] == "draft" and child["published_at"] is None
    assert child["lineage_id"] == parent["lineage_id"]
    starts = _starts(child)
    planned = set(starts) | {u["order_id"] for u in child["plan"]["unplanned"]}
    assert not set(done) & planned and heading not in planned
    assert cancelled not in planned and "o-new" in planned
    assert child["replan"]["pinned_first"] == {vid: heading}
    assert child["replan"]["done"] == {vid: done}
    assert child["replan"]["cancelled"] == [cancelled]
    starts[heading] = child["replan"]["pinned_start_s"][vid]
    changes = {c["order_id"]: c for c in child["eta_changes"]}
    for order_id, stop in zip(promised, stops[2:5], strict=True):
        new = starts.get(order_id)
        if new is not None and new != stop["start_s"]:
            assert changes[order_id]["moved_s"] == new - stop["start_s"]
            assert changes[order_id]["new_eta_s"] == new
    assert changes, "a 25-minute delay moves some promised ETA"
    stored = any_service.client.get(f"/v1/plans/{child['id']}", headers=h).json()
    assert stored["eta_changes"] == child["eta_changes"]

    # The ETA endpoint of the new plan compares with what customers were told,
    # once it is published; until then customers still see the parent's ETAs.
    moved = next(
        (oid for oid in promised[1:] if oid in starts and oid in changes), None
    )
    if moved is not None:
        eta = any_service.client.get(
            f"/v1/plans/{child['id']}/orders/{moved}/eta", headers=h
        ).json()
        assert eta["plan_id"] == parent["id"] and eta["moved_s"] == 0
    any_service.publish(child["id"])
    if moved is not None:
        eta = any_service.client.get(
            f"/v1/plans/{child['id']}/orders/{moved}/eta", headers=h
        ).json()
        assert eta["promised"] is not None
        assert eta["moved_s"] == changes[moved]["moved_s"]
        assert eta["is_broken"] == changes[moved]["is_broken"]

    # Re-plan the re-plan: the van has served the stop it was heading to and the
    # next one.
    route = visits(child, vid)
    second_done = [route[0]["order_id"]] if route else []
    r = any_service.client.post(
        f"/v1/plans/{child['id']}/replan",
        json={
            "states": [
                {
                    "vehicle_id": vid,
                    "time": route[0]["departure_s"] if route else starts[heading] + 600,
                    "done": second_done,
                }
            ],
            "time_limit_s": 1,
            "deterministic": True,
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    grandchild = r.json()
    gone = {*done, heading, cancelled, *second_done}
    assert not gone & set(_starts(grandchild))
    assert grandchild["parent_id"] == child["id"]
    assert set(grandchild["replan"]["chain"]["served"]) == {
        *done,
        heading,
        *second_done,
    }

    # Drivers get the published plan of the day: the child until the grandchild
    # is published.
    driver = any_service.key("driver", vehicle_id=vid)
    r = any_service.client.get("/v1/driver/stops", headers=driver)
    assert r.status_code == 200 and r.json()["plan_id"] == child["id"]
    any_service.publish(grandchild["id"])
    r = any_service.client.get("/v1/driver/stops", headers=driver)
    assert r.status_code == 200 and r.json()["plan_id"] == grandchild["id"]
    assert r.json()["plan_state"] == "published"


def test_invalid_states_are_422_naming_field_and_entity(service: Service) -> None:
    """Unknown vehicle, a stop not on the vehicle's route, a bad time and a
    duplicate new order: 422 with the request path and the entity."""
    h = service.headers("dispatcher")
    plan_id = service.plan["id"]
    routes = service.plan["plan"]["routes"]
    other = next(r for r in routes if r["vehicle_id"] != "van-1")["visits"][0][
        "order_id"
    ]
    cases = [
        (
            {"states": [{"vehicle_id": "van-9", "time": "10:00"}]},
            "states[0].vehicle_id",
            "van-9",
        ),
        (
            {"states": [{"vehicle_id": "van-1", "time": "10:00", "done": [other]}]},
            "states[0].done[0]",
            other,
        ),
        (
            {"states": [{"vehicle_id": "van-1", "time": "ten"}]},
            "states[0].time",
            "van-1",
        ),
        (
            {"now": "09:00", "new_orders": [{**NEW_ORDER, "id": "o-01"}]},
            "new_orders[0].id",
            "o-01",
        ),
        (
            {"now": "09:00", "new_orders": [{**NEW_ORDER, "delivery": [1]}]},
            "new_orders[0].delivery",
            "o-new",
        ),
        ({"now": "09:00", "cancelled": ["o-77"]}, "cancelled[0]", "o-77"),
        ({"cancelled": ["o-01"]}, "now", None),  # one now for the fleet: required
        ({"now": "nine"}, "now", None),
    ]
    for body, path, entity in cases:
        r = service.client.post(f"/v1/plans/{plan_id}/replan", json=body, headers=h)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["path"] == path, r.json()
        assert r.json().get("entity_id") == entity, r.json()
    r = service.client.post(
        f"/v1/plans/{plan_id}/replan", json={}, headers=service.headers("planner")
    )
    assert r.status_code == 403
    r = service.client.post("/v1/plans/nope/replan", json={}, headers=h)
    assert r.status_code == 404


def test_replan_job_reports_progress(service: Service) -> None:
    """A re-plan answered as a job reports its search's best cost and elapsed
    time through the job status, like a plan job."""
    from tests.api.test_plans import poll

    h = service.headers("dispatcher")
    r = service.client.post(
        f"/v1/plans/{service.plan['id']}/replan?wait_s=0",
        json={"now": "09:00", "new_orders": [NEW_ORDER], "time_limit_s": 1.5},
        headers=h,
    )
    assert r.status_code == 202, r.text
    job = poll(service.client, r.json()["id"], h)
    assert job["kind"] == "replan" and job["state"] == "succeeded"
    assert job["progress"]["best_cost"] > 0 and job["progress"]["elapsed_s"] > 0
