"""Tests of what-if comparisons: one KPI row per variant, checked variants."""

from __future__ import annotations

from tests.api.conftest import Service, tutorial


def test_variants_side_by_side_in_one_table(service: Service) -> None:
    """The base row comes first, then each variant; one van less plans no more
    orders with fewer vehicles, a closed depot plans nothing."""
    r = service.client.post(
        "/v1/whatif",
        json={
            "problem": tutorial(),
            "time_limit_s": 1,
            "deterministic": True,
            "variants": [
                {"name": "one van less", "remove_vehicles": ["van-2"]},
                {"name": "depot closed", "close_depots": ["AND-SC"]},
            ],
        },
        headers=service.headers("planner"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    rows = {row["name"]: row for row in body["rows"]}
    assert [row["name"] for row in body["rows"]] == [
        "base",
        "one van less",
        "depot closed",
    ]
    assert rows["base"]["orders_planned"] == 12
    assert rows["one van less"]["vehicles_used"] <= 1
    assert rows["one van less"]["orders_planned"] <= 12
    assert rows["depot closed"]["orders_planned"] == 0
    assert {"km", "driver_hours", "on_time_rate", "cost"} <= set(rows["base"])
    assert body["markdown"].startswith("| name |")
    job = service.client.get(
        f"/v1/jobs/{body['job_id']}", headers=service.headers("planner")
    ).json()
    assert job["kind"] == "whatif" and job["result"]["rows"] == body["rows"]


def test_invalid_variants_are_422(service: Service) -> None:
    """An unknown vehicle, a repeated name and a bad field name the variant."""
    h = service.headers("planner")
    cases = [
        (
            [{"name": "x", "remove_vehicles": ["truck"]}],
            "variants[0].remove_vehicles[0]",
            "truck",
        ),
        ([{"name": "x"}, {"name": "x"}], "variants[1].name", "x"),
        ([{"name": "base"}], "variants[0].name", "base"),
    ]
    for variants, path, entity in cases:
        r = service.client.post(
            "/v1/whatif", json={"problem": tutorial(), "variants": variants}, headers=h
        )
        assert r.status_code == 422, r.text
        assert (r.json()["path"], r.json()["entity_id"]) == (path, entity)
    r = service.client.post(
        "/v1/whatif",
        json={"problem": tutorial(), "variants": [{"name": "x", "add_vehicles": -1}]},
        headers=h,
    )
    assert r.status_code == 422 and r.json()["path"] == "variants[0].add_vehicles"
    r = service.client.post(
        "/v1/whatif",
        json={"problem": tutorial(), "variants": [{"name": str(k)} for k in range(9)]},
        headers=h,
    )
    assert r.status_code == 413 and r.json()["path"] == "variants"
    r = service.client.post(
        "/v1/whatif",
        json={"problem": tutorial(), "variants": [{"name": "x"}]},
        headers=service.headers("driver"),
    )
    assert r.status_code == 403


def test_whatif_job_reports_progress(service: Service) -> None:
    """A what-if answered as a job counts its solves (all done at the end), its
    elapsed time and the base day's total cost through the job status."""
    from tests.api.test_plans import poll

    h = service.headers("planner")
    r = service.client.post(
        "/v1/whatif?wait_s=0",
        json={
            "problem": tutorial(),
            "time_limit_s": 1,
            "deterministic": True,
            "variants": [{"name": "one van less", "remove_vehicles": ["van-2"]}],
        },
        headers=h,
    )
    assert r.status_code == 202, r.text
    job = poll(service.client, r.json()["id"], h)
    assert job["state"] == "succeeded"
    progress = job["progress"]
    assert progress["steps_done"] == progress["steps_total"] == 2
    assert progress["elapsed_s"] > 0
    base = job["result"]["rows"][0]
    assert progress["best_cost"] == base.get("total_cost", base["cost"])
