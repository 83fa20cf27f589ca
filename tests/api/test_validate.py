"""Tests of validate-only: input errors and pre-solve findings, no solve."""

from __future__ import annotations

from tests.api.conftest import Service, tutorial


def test_valid_problem_lists_orders_no_vehicle_can_serve(service: Service) -> None:
    """An order heavier than any van is a finding with its reason; the others
    are not."""
    problem = tutorial()
    problem["orders"][2]["delivery"] = [9999, 1]
    r = service.client.post(
        "/v1/validate", json={"problem": problem}, headers=service.headers("planner")
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["depots"], body["vehicles"], body["orders"]) == (1, 2, 12)
    assert [(f["order_id"], f["code"]) for f in body["findings"]] == [
        ("o-03", "exceeds_capacity")
    ]


def test_invalid_problems_name_the_field(service: Service) -> None:
    """Unknown keys, bad coordinates and unknown profiles are 422 with a path."""
    h = service.headers("dispatcher")
    problem = tutorial()
    problem["orders"][4]["colour"] = "red"
    r = service.client.post("/v1/validate", json={"problem": problem}, headers=h)
    assert r.status_code == 422
    assert r.json()["path"].startswith("problem.orders[4]")
    assert r.json()["entity_id"] == "o-05"
    problem = tutorial()
    problem["vehicles"][1]["profile"] = "hovercraft"
    r = service.client.post("/v1/validate", json={"problem": problem}, headers=h)
    assert r.status_code == 422 and r.json()["path"] == "problem.vehicles[1].profile"
    r = service.client.post("/v1/validate", json={"problem": []}, headers=h)
    assert r.status_code == 422 and r.json()["path"] == "problem"
    r = service.client.post(
        "/v1/validate", json={"problem": {}}, headers=service.headers("driver")
    )
    assert r.status_code == 403
