"""Tests of customer ETA notices: promises recorded, ETAs compared with them."""

from __future__ import annotations

from tests.api.conftest import Service, tutorial, visits


def test_notice_records_the_promise(any_service: Service) -> None:
    """An evening notice gives a range around the ETA inside the slot and a
    call-ahead time; a morning notice after it reports the earlier promise."""
    h = any_service.headers("dispatcher")
    plan_id = any_service.plan["id"]
    order_id = visits(any_service.plan, "van-2")[0]["order_id"]
    url = f"/v1/plans/{plan_id}/orders/{order_id}/notice"
    r = any_service.client.post(url, json={"when": "evening"}, headers=h)
    assert r.status_code == 201, r.text
    notice = r.json()
    promise = notice["promise"]
    assert promise["window_start_s"] <= promise["eta_s"] <= promise["window_end_s"]
    assert promise["call_ahead_s"] <= promise["eta_s"]
    assert order_id in notice["text"] and promise["window_start"][:5] in notice["text"]
    r = any_service.client.post(
        url, json={"when": "morning", "width_s": 600}, headers=h
    )
    assert r.status_code == 201
    morning = r.json()
    assert "today" in morning["text"]
    assert morning["previous"] == promise


def test_eta_against_the_promise(any_service: Service) -> None:
    """The ETA endpoint shows the current ETA and the last promise, unbroken in
    the plan it was made from."""
    h = any_service.headers("dispatcher")
    plan_id = any_service.plan["id"]
    order_id = visits(any_service.plan, "van-2")[-1]["order_id"]
    r = any_service.client.get(
        f"/v1/plans/{plan_id}/orders/{order_id}/eta",
        headers=any_service.headers("planner"),
    )
    assert r.status_code == 200 and r.json()["promised"] is None
    any_service.client.post(
        f"/v1/plans/{plan_id}/orders/{order_id}/notice", json={}, headers=h
    )
    body = any_service.client.get(
        f"/v1/plans/{plan_id}/orders/{order_id}/eta", headers=h
    ).json()
    assert body["promised"] == body["current"]
    assert body["is_broken"] is False and body["moved_s"] == 0


def test_unknown_and_unplanned_orders(service: Service) -> None:
    """An unknown order is 404; an unplanned one has no ETA to announce (409)."""
    h = service.headers("dispatcher")
    plan_id = service.plan["id"]
    r = service.client.post(
        f"/v1/plans/{plan_id}/orders/o-99/notice", json={}, headers=h
    )
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    problem = tutorial()
    problem["orders"][0]["delivery"] = [5000, 1]
    problem["date"] = "2031-01-02"  # a day of its own: published for this test
    heavy = service.client.post(
        "/v1/plans",
        json={"problem": problem, "time_limit_s": 1, "deterministic": True},
        headers=h,
    ).json()
    service.publish(heavy["id"])
    r = service.client.post(
        f"/v1/plans/{heavy['id']}/orders/o-01/notice", json={}, headers=h
    )
    assert r.status_code == 409 and r.json()["code"] == "not_planned"
    assert r.json()["entity_id"] == "o-01"
    r = service.client.post(
        f"/v1/plans/{plan_id}/orders/o-01/notice", json={"when": "noon"}, headers=h
    )
    assert r.status_code == 422 and r.json()["path"] == "when"
    r = service.client.post(
        f"/v1/plans/{plan_id}/orders/o-01/notice",
        json={},
        headers=service.headers("planner"),
    )
    assert r.status_code == 403


def test_eta_links_see_only_the_published_plan(republish_after: Service) -> None:
    """A draft of today gives no notice (409 not_published) and its ETA link
    answers from the published plan; once published, links of the replaced
    plan answer from it and the replaced plan gives no notice (409
    superseded); a day with nothing published has no ETA (409
    not_published)."""
    service = republish_after
    h = service.headers("dispatcher")
    shared = service.plan
    order_id = visits(shared, "van-2")[0]["order_id"]
    r = service.client.post(
        "/v1/plans",
        json={"problem": tutorial(), "time_limit_s": 1, "deterministic": True},
        headers=h,
    )
    draft = r.json()
    r = service.client.post(
        f"/v1/plans/{draft['id']}/orders/{order_id}/notice", json={}, headers=h
    )
    assert r.status_code == 409 and r.json()["code"] == "not_published"
    r = service.client.get(f"/v1/plans/{draft['id']}/orders/{order_id}/eta", headers=h)
    assert r.status_code == 200 and r.json()["plan_id"] == shared["id"]
    service.publish(draft["id"])
    r = service.client.get(f"/v1/plans/{shared['id']}/orders/{order_id}/eta", headers=h)
    assert r.status_code == 200 and r.json()["plan_id"] == draft["id"]
    r = service.client.post(
        f"/v1/plans/{shared['id']}/orders/{order_id}/notice", json={}, headers=h
    )
    assert r.status_code == 409 and r.json()["code"] == "superseded"
    other_day = service.client.post(
        "/v1/plans",
        json={
            "problem": tutorial(date="2031-05-05"),
            "time_limit_s": 1,
            "deterministic": True,
        },
        headers=h,
    ).json()
    r = service.client.get(
        f"/v1/plans/{other_day['id']}/orders/{order_id}/eta", headers=h
    )
    assert r.status_code == 409 and r.json()["code"] == "not_published"


def test_ids_with_slash_and_percent_are_addressable(service: Service) -> None:
    """Order and vehicle ids are free text (``ORD/2026/7``, ``50%``): encoded in
    the URL path (``%2F``, ``%25``) they reach their stop list and ETA."""
    from urllib.parse import quote

    h = service.headers("dispatcher")
    problem = tutorial()
    problem["date"] = "2031-01-03"  # a day of its own: published for this test
    problem["orders"][0]["id"] = "ORD/2026/7"
    problem["orders"][1]["id"] = "50%off"
    problem["vehicles"][0]["id"] = "van/1"
    r = service.client.post(
        "/v1/plans",
        json={"problem": problem, "time_limit_s": 1, "deterministic": True},
        headers=h,
    )
    assert r.status_code in (200, 201), r.text
    plan = r.json()
    service.publish(plan["id"])
    served = {v["order_id"] for r in plan["plan"]["routes"] for v in r["visits"]}
    for order_id in {"ORD/2026/7", "50%off"} & served:
        r = service.client.get(
            f"/v1/plans/{plan['id']}/orders/{quote(order_id, safe='')}/eta",
            headers=h,
        )
        assert r.status_code == 200, r.text
        assert r.json()["order_id"] == order_id
    r = service.client.get(
        f"/v1/plans/{plan['id']}/vehicles/{quote('van/1', safe='')}/stops",
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert r.json()["vehicle_id"] == "van/1"
    stops = [s["order_id"] for s in r.json()["stops"]]
    assert stops == [v["order_id"] for v in visits(plan, "van/1")]
    assert served & {"ORD/2026/7", "50%off"}  # the test addressed something
