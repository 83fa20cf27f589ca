"""Tests of the typed OpenAPI document: scenario and plan schemas generated from
the readers' key tables, and every error status documented per operation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from api import contract
from routing.formats import _json, plan_file, scenario
from tests.api.conftest import REPO, Service, tutorial


def _validator(document: dict[str, Any], name: str) -> Any:
    """A JSON Schema validator of one component of the document."""
    return jsonschema_rs.Draft202012Validator(
        {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    )


@pytest.fixture(scope="module")
def document(service: Service) -> dict[str, Any]:
    """The service's OpenAPI document."""
    r = service.client.get("/openapi.json")
    assert r.status_code == 200
    return dict(r.json())


def test_every_reader_key_has_a_kind_and_no_other() -> None:
    """The schemas are the readers' key tables: each scenario and plan object
    has exactly the reader's keys (a key added to a reader without a kind here,
    or a kind without a key, fails)."""
    tables = {
        name: keys
        for name, (keys, _, _) in {
            **contract.SCENARIO_KINDS,
            **contract.PLAN_KINDS,
        }.items()
    }
    for name, (keys, kinds, required) in {
        **contract.SCENARIO_KINDS,
        **contract.PLAN_KINDS,
    }.items():
        assert set(kinds) == set(keys), name
        assert set(required) <= set(keys), name
    assert tables["Scenario"] is scenario._TOP_KEYS
    assert tables["Order"] is scenario._ORDER_KEYS
    assert tables["Vehicle"] is scenario._VEHICLE_KEYS
    assert tables["Plan"] is plan_file._PLAN_FIELDS
    assert contract.MAX_ID_LENGTH == _json.MAX_ID_LENGTH


def test_example_scenarios_and_a_stored_plan_match_the_schemas(
    document: dict[str, Any], service: Service
) -> None:
    """Every scenarios/*.json is a valid Scenario (without the test service's
    50-order limit), the service's plan body a valid Plan; an unknown key or a
    window of three times is not a Scenario, nor 51 orders for this service."""
    unbounded = {"components": {"schemas": contract.scenario_schemas()}}
    scenarios = _validator(unbounded, "Scenario")
    files = sorted((REPO / "scenarios").glob("*.json"))
    assert len(files) >= 5
    for path in files:
        errors = [str(e) for e in scenarios.iter_errors(json.loads(path.read_text()))]
        assert errors == [], (path.name, errors[:3])
    assert _validator(document, "Plan").is_valid(service.plan["plan"])
    assert not scenarios.is_valid({**tutorial(), "colour": "red"})
    bad = tutorial()
    bad["orders"][0]["windows"] = [["09:00", "10:00", "11:00"]]
    assert not scenarios.is_valid(bad)
    many = tutorial()
    many["orders"] = [{**many["orders"][0], "id": f"o-{k}"} for k in range(51)]
    assert scenarios.is_valid(many)
    assert not _validator(document, "Scenario").is_valid(many)


def test_problem_and_plan_bodies_are_typed(document: dict[str, Any]) -> None:
    """``problem`` in plan, validate and what-if requests refers to Scenario;
    a plan's ``plan`` to Plan; Order keys carry the README's descriptions."""
    schemas = document["components"]["schemas"]
    for model in ("PlanCreate", "ValidateRequest", "WhatifCreate"):
        ref = schemas[model]["properties"]["problem"]["$ref"]
        assert ref == "#/components/schemas/Scenario", model
    plan = schemas["PlanOut"]["properties"]["plan"]
    assert {"$ref": "#/components/schemas/Plan"} in plan["anyOf"]
    windows = schemas["Order"]["properties"]["windows"]
    assert "service starts in one" in windows["description"]
    assert schemas["Order"]["additionalProperties"] is False


def test_every_operation_documents_its_errors(document: dict[str, Any]) -> None:
    """Each operation lists 405, 422, 503; keyed ones 401 and 403; those with
    a path id 404; those with a body 400, 413 and 415; job-making ones 429;
    every error response is an ErrorResponse."""
    seen = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            expected = {"405", "422", "503"}
            if path not in ("/v1/health", "/v1/ready"):
                expected |= {"401", "403"}
            if "{" in path:
                expected.add("404")
            if "requestBody" in operation:
                expected |= {"400", "413", "415"}
            if method == "post" and path in ("/v1/plans", "/v1/whatif"):
                expected.add("429")
            assert expected <= set(responses), (method, path)
            for status, response in responses.items():
                if int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorResponse"}
            seen += 1
    assert seen >= 15


def test_documented_error_statuses_are_answered(service: Service) -> None:
    """The statuses documented for any operation are real: no key 401, a wrong
    method 405, a non-JSON body 415, a body that is not UTF-8 400, each in the
    error format."""
    h = service.headers("planner")
    cases = [
        (service.client.get("/v1/plans"), 401, "unauthorized"),
        (service.client.put("/v1/plans", headers=h), 405, "method_not_allowed"),
        (
            service.client.post(
                "/v1/validate",
                content=b"problem=1",
                headers={**h, "Content-Type": "application/x-www-form-urlencoded"},
            ),
            415,
            "unsupported_media_type",
        ),
        (
            service.client.post(
                "/v1/validate",
                content=b'{"problem": "\xff"}',
                headers={**h, "Content-Type": "application/json; charset=latin-1"},
            ),
            400,
            "bad_request",
        ),
    ]
    for response, status, code in cases:
        assert response.status_code == status, response.text
        assert response.json()["code"] == code
        assert {"code", "message", "path"} <= set(response.json())


def test_the_document_is_written_once(service: Service) -> None:
    """The document is built once per app (typed schemas are not rebuilt per
    request) and names this file's readers as its source."""
    assert service.app.openapi() is service.app.openapi()
    assert Path(contract.__file__).name == "contract.py"
