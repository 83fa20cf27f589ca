"""Tests of the drivers' stop lists: formats, who may read which route, and
drivers seeing only the published plan of today."""

from __future__ import annotations

import csv
import io
from typing import Any

from api.auth import create_key
from tests.api.conftest import Service, publish, tutorial, visits


def test_stop_list_as_json_csv_and_html(service: Service) -> None:
    """The three formats list the route's stops in order, with slot, ETA,
    call-ahead time and quantities."""
    h = service.headers("dispatcher")
    plan_id = service.plan["id"]
    order_ids = [v["order_id"] for v in visits(service.plan, "van-1")]
    url = f"/v1/plans/{plan_id}/vehicles/van-1/stops"
    body = service.client.get(url, headers=h).json()
    stops = [s for s in body["stops"] if not s["is_break"]]
    assert [s["order_id"] for s in stops] == order_ids
    first = stops[0]
    assert {
        "address",
        "slot",
        "eta",
        "call_ahead",
        "deliver",
        "collect",
        "notes",
    } <= set(first)
    assert first["call_ahead_s"] <= first["start_s"]
    r = service.client.get(url + "?format=csv", headers=h)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["order_id"] for row in rows if row["type"] == "stop"] == order_ids
    r = service.client.get(url + "?format=html", headers=h)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "<table>" in r.text and order_ids[0] in r.text
    r = service.client.get(url + "?format=pdf", headers=h)
    assert r.status_code == 422 and r.json()["path"] == "format"


def test_driver_reads_only_their_own_vehicle(service: Service) -> None:
    """A driver key reads its vehicle's list; another vehicle's route is 403, and
    it reads nothing else (plans: 403)."""
    plan_id = service.plan["id"]
    h = service.headers("driver")
    r = service.client.get(f"/v1/plans/{plan_id}/vehicles/van-1/stops", headers=h)
    assert r.status_code == 200 and r.json()["vehicle_id"] == "van-1"
    r = service.client.get(f"/v1/plans/{plan_id}/vehicles/van-2/stops", headers=h)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = service.client.get(
        f"/v1/plans/{plan_id}/vehicles/van-2/stops?format=csv", headers=h
    )
    assert r.status_code == 403
    assert service.client.get(f"/v1/plans/{plan_id}", headers=h).status_code == 403
    assert service.client.get("/v1/plans", headers=h).status_code == 403


def test_driver_sees_today_only(service: Service) -> None:
    """A plan of another day is invisible to drivers (404), not to dispatchers."""
    problem = service.client.get(
        f"/v1/plans/{service.plan['id']}?include_problem=true",
        headers=service.headers("dispatcher"),
    ).json()["problem"]
    problem["date"] = "2020-01-01"
    r = service.client.post(
        "/v1/plans",
        json={"problem": problem, "time_limit_s": 1, "deterministic": True},
        headers=service.headers("dispatcher"),
    )
    assert r.status_code == 201
    url = f"/v1/plans/{r.json()['id']}/vehicles/van-1/stops"
    assert service.client.get(url, headers=service.headers("driver")).status_code == 404
    assert (
        service.client.get(url, headers=service.headers("dispatcher")).status_code
        == 200
    )


def test_my_stops_finds_todays_plan(service: Service) -> None:
    """/v1/driver/stops gives the driver's list of today's newest plan; it is for
    driver keys only."""
    r = service.client.get("/v1/driver/stops", headers=service.headers("driver2"))
    assert r.status_code == 200 and r.json()["vehicle_id"] == "van-2"
    r = service.client.get(
        "/v1/driver/stops?format=html", headers=service.headers("driver2")
    )
    assert r.status_code == 200 and "van-2" in r.text
    assert (
        service.client.get(
            "/v1/driver/stops", headers=service.headers("planner")
        ).status_code
        == 403
    )
    lost = service.key("driver", vehicle_id="van-99")
    r = service.client.get("/v1/driver/stops", headers=lost)
    assert r.status_code == 404 and r.json()["entity_id"] == "van-99"


def test_unknown_vehicle_is_404(service: Service) -> None:
    """A vehicle not in the plan's problem is 404 not_found."""
    r = service.client.get(
        f"/v1/plans/{service.plan['id']}/vehicles/truck-9/stops",
        headers=service.headers("dispatcher"),
    )
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_replan_list_starts_with_the_stop_driven_to(
    republish_after: Service,
) -> None:
    """After a re-plan, the stop the driver is heading to (pinned, not in the new
    plan's routes) is stop 1 of the driver's list, at its pinned service start,
    with the re-planned stops numbered from 2 (the driver's own list: once the
    re-plan is published)."""
    service = republish_after
    parent = service.plan
    route = max(parent["plan"]["routes"], key=lambda r: len(r["visits"]))
    vid = route["vehicle_id"]
    stops = visits(parent, vid)
    assert len(stops) >= 3
    heading = stops[1]["order_id"]
    body = {
        "states": [
            {
                "vehicle_id": vid,
                "time": stops[0]["departure_s"],
                "position": stops[0].get("location")
                or {"lat": 42.50695, "lon": 1.51975},
                "done": [stops[0]["order_id"]],
                "heading_to": heading,
            }
        ],
        "time_limit_s": 1,
        "deterministic": True,
    }
    r = service.client.post(
        f"/v1/plans/{parent['id']}/replan",
        json=body,
        headers=service.headers("dispatcher"),
    )
    assert r.status_code == 201, r.text
    child = r.json()
    assert child["replan"]["pinned_first"] == {vid: heading}
    start_s = child["replan"]["pinned_start_s"][vid]
    rest = [v["order_id"] for v in visits(child, vid)]
    assert heading not in rest
    url = f"/v1/plans/{child['id']}/vehicles/{vid}/stops"
    listed = service.client.get(url, headers=service.headers("dispatcher")).json()
    lines = [s for s in listed["stops"] if not s["is_break"]]
    assert [(s["sequence"], s["order_id"]) for s in lines] == [
        (k + 1, oid) for k, oid in enumerate([heading, *rest])
    ]
    assert lines[0]["start_s"] == start_s and lines[0]["address"]
    assert lines[0]["departure_s"] > start_s
    service.publish(child["id"])
    mine = service.client.get(
        "/v1/driver/stops", headers=service.key("driver", vehicle_id=vid)
    )
    assert mine.status_code == 200 and mine.json()["plan_id"] == child["id"]
    assert mine.json()["stops"][0]["order_id"] == heading
    r = service.client.get(url + "?format=csv", headers=service.headers("dispatcher"))
    rows = [row for row in csv.DictReader(io.StringIO(r.text)) if row["type"] == "stop"]
    assert (rows[0]["sequence"], rows[0]["order_id"]) == ("1", heading)


def test_driver_never_sees_a_draft_or_replaced_plan(make_service: Any) -> None:
    """Before anything is published the driver's list is 404 not_published; a
    draft stays invisible (404 not_published) while the published plan is
    shown; once a second plan is published the driver gets it, and the
    replaced plan is 410 superseded."""
    app, client, h = make_service()
    driver = {"X-API-Key": create_key(app.state.db, "driver", vehicle_id="van-1")}
    r = client.get("/v1/driver/stops", headers=driver)
    assert r.status_code == 404 and r.json()["code"] == "not_published"

    def plan() -> dict[str, Any]:
        r = client.post(
            "/v1/plans",
            json={"problem": tutorial(), "time_limit_s": 1, "deterministic": True},
            headers=h,
        )
        assert r.status_code == 201, r.text
        return dict(r.json())

    first = plan()
    r = client.get("/v1/driver/stops", headers=driver)
    assert r.status_code == 404 and r.json()["code"] == "not_published"
    r = client.get(f"/v1/plans/{first['id']}/vehicles/van-1/stops", headers=driver)
    assert r.status_code == 404 and r.json()["code"] == "not_published"
    publish(client, first["id"], h)
    r = client.get("/v1/driver/stops", headers=driver)
    assert r.status_code == 200 and r.json()["plan_id"] == first["id"]
    assert r.headers["X-Plan-State"] == "published"

    second = plan()
    r = client.get("/v1/driver/stops", headers=driver)
    assert r.json()["plan_id"] == first["id"]
    r = client.get(f"/v1/plans/{second['id']}/vehicles/van-1/stops", headers=driver)
    assert r.status_code == 404 and r.json()["code"] == "not_published"
    r = client.get(f"/v1/plans/{second['id']}/vehicles/van-1/stops", headers=h)
    assert r.status_code == 200 and r.json()["plan_state"] == "draft"

    publish(client, second["id"], h)
    r = client.get("/v1/driver/stops", headers=driver)
    assert r.status_code == 200 and r.json()["plan_id"] == second["id"]
    r = client.get(f"/v1/plans/{first['id']}/vehicles/van-1/stops", headers=driver)
    assert r.status_code == 410 and r.json()["code"] == "superseded"
    assert second["id"] in r.json()["message"]


def test_emptied_route_gives_an_empty_list_with_a_message(
    republish_after: Service,
) -> None:
    """A vehicle the published plan gives no stops gets 200 with no stops and a
    message (JSON, CSV header only, HTML), never an older plan's stops."""
    service = republish_after
    problem = tutorial()
    problem["vehicles"].append(
        {**problem["vehicles"][0], "id": "van-idle", "capacity": [0, 0]}
    )
    r = service.client.post(
        "/v1/plans",
        json={"problem": problem, "time_limit_s": 1, "deterministic": True},
        headers=service.headers("dispatcher"),
    )
    assert r.status_code == 201, r.text
    plan = r.json()
    assert visits(plan, "van-idle") == []
    service.publish(plan["id"])
    idle = service.key("driver", vehicle_id="van-idle")
    r = service.client.get("/v1/driver/stops", headers=idle)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["plan_id"] == plan["id"] and body["stops"] == []
    assert "no stops in the published plan" in body["message"]
    r = service.client.get("/v1/driver/stops?format=csv", headers=idle)
    assert r.status_code == 200 and len(r.text.strip().splitlines()) == 1
    assert "no stops" in r.headers["X-Route-Message"]
    r = service.client.get("/v1/driver/stops?format=html", headers=idle)
    assert r.status_code == 200 and "no stops in the published plan" in r.text


def test_downloads_have_safe_file_names_for_any_vehicle_id(service: Service) -> None:
    """Vehicle ids with non-Latin-1 text, quotes, semicolons and backslashes
    give CSV and HTML downloads (200) whose Content-Disposition is printable
    ASCII with a quoted fallback and the exact name in ``filename*`` (RFC 6266);
    an empty route's X-Route-Message header stays printable ASCII too."""
    from urllib.parse import quote, unquote

    ids = ["vän-1 東京", 'van "1"; filename=x', "a;b\\c"]
    problem = tutorial()
    base = problem["vehicles"][0]
    problem["vehicles"] = [
        {**base, "id": ids[0]},
        {**base, "id": ids[1]},
        {**base, "id": ids[2], "capacity": [0, 0]},
    ]
    r = service.client.post(
        "/v1/plans",
        json={"problem": problem, "time_limit_s": 1, "deterministic": True},
        headers=service.headers("dispatcher"),
    )
    assert r.status_code == 201, r.text
    plan_id = r.json()["id"]
    for vehicle_id in ids:
        for fmt, disposition in (("csv", "attachment"), ("html", "inline")):
            r = service.client.get(
                f"/v1/plans/{plan_id}/vehicles/{quote(vehicle_id, safe='')}/stops"
                f"?format={fmt}",
                headers=service.headers("dispatcher"),
            )
            assert r.status_code == 200, r.text
            value = r.headers["content-disposition"]
            assert all(" " <= c <= "~" for c in value), value
            kind, fallback, exact = value.split("; ")
            assert kind == disposition
            assert fallback.startswith('filename="') and fallback.endswith('"')
            assert not set(fallback[10:-1]) & set('"\\;/%'), fallback
            assert exact.startswith("filename*=UTF-8''")
            name = unquote(exact.removeprefix("filename*=UTF-8''"), errors="strict")
            assert name == f"stops-{plan_id[:8]}-{vehicle_id}.{fmt}"
            for header in r.headers.values():
                assert all(" " <= c <= "~" for c in header), header
    assert "no stops" in r.headers["x-route-message"]


def test_content_disposition_of_a_name_with_control_characters() -> None:
    """A name with CR/LF (an id stored before ids were checked) gives one
    printable-ASCII header value whose ``filename*`` keeps the exact name."""
    from urllib.parse import unquote

    from api.routes.drivers import content_disposition, header_text

    value = content_disposition("attachment", 'v\r\nX-Evil: 1"; a=b.csv')
    assert all(" " <= c <= "~" for c in value), value
    assert value.startswith('attachment; filename="v__X-Evil: 1__ a=b.csv"; ')
    assert unquote(value.split("filename*=UTF-8''")[1]) == 'v\r\nX-Evil: 1"; a=b.csv'
    assert header_text("vé\r\n東") == "v\\xe9\\r\\n\\u6771"
