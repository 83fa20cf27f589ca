"""Tests of the app as a whole: health, readiness, OpenAPI, body limit, errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.deps import get_settings
from tests.api.conftest import Service, tutorial

MakeService = Callable[..., tuple[FastAPI, TestClient, dict[str, str]]]


def test_health_and_readiness(service: Service) -> None:
    """Health is 200 without a key; readiness checks database, schema, runner."""
    assert service.client.get("/v1/health").json() == {"status": "ok", "checks": {}}
    body = service.client.get("/v1/ready").json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == body["checks"]["schema"] == "ok"
    assert body["checks"]["job_runner"] == "ok"


def test_readiness_fails_when_the_runner_stopped(make_service: MakeService) -> None:
    """With the job runner stopped, readiness answers 503 and says why."""
    app, client, _ = make_service()
    app.state.runner.stop()
    r = client.get("/v1/ready")
    assert r.status_code == 503 and r.json()["checks"]["job_runner"] == "stopped"


def test_openapi_has_versioned_paths_and_scenario_examples(service: Service) -> None:
    """Every path is under /v1; the create, validate and what-if bodies carry
    the tutorial scenario as example; the error table is in the description."""
    spec = service.client.get("/openapi.json").json()
    assert all(path.startswith("/v1/") for path in spec["paths"])
    body = spec["paths"]["/v1/plans"]["post"]["requestBody"]["content"]
    example = body["application/json"]["examples"]["tutorial"]["value"]
    assert example["problem"]["orders"] == tutorial()["orders"]
    assert (
        "examples"
        in spec["paths"]["/v1/whatif"]["post"]["requestBody"]["content"][
            "application/json"
        ]
    )
    assert "`queue_full`" in spec["info"]["description"]
    assert spec["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "X-API-Key"


def test_large_bodies_are_413(service: Service) -> None:
    """A body above max_body_bytes is refused before parsing, declared or
    streamed in chunks."""
    h = {**service.headers("dispatcher"), "Content-Type": "application/json"}
    big = b'{"problem": {"name": "' + b"x" * 250_000 + b'"}}'
    r = service.client.post("/v1/validate", content=big, headers=h)
    assert r.status_code == 413 and r.json()["code"] == "too_large"

    def chunks() -> Iterator[bytes]:
        for _ in range(30):
            yield b" " * 10_000

    r = service.client.post("/v1/validate", content=chunks(), headers=h)
    assert r.status_code == 413


def test_unknown_routes_and_methods_use_the_error_format(service: Service) -> None:
    """404 and 405 from routing come as {code, message, path} too."""
    r = service.client.get("/v1/nothing")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = service.client.delete("/v1/plans", headers=service.headers("dispatcher"))
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"


def test_unexpected_errors_are_500_internal_without_details(
    make_service: MakeService,
) -> None:
    """A bug becomes 500 internal in the one format, with no traceback."""
    app, _, h = make_service()

    def broken() -> None:
        raise RuntimeError("secret detail")

    app.dependency_overrides[get_settings] = broken
    client = TestClient(app, raise_server_exceptions=False)
    r = client.post("/v1/validate", json={"problem": tutorial()}, headers=h)
    assert r.status_code == 500
    assert r.json()["code"] == "internal" and "secret" not in r.text


def test_text_no_database_can_store_is_422(any_service: Service) -> None:
    """NUL characters and lone surrogates (valid JSON escapes, refused by
    PostgreSQL) are 422 naming the field, in bodies, paths and queries alike."""
    h = {**any_service.headers("dispatcher"), "Content-Type": "application/json"}
    body = b'{"problem": {"name": "a\\u0000b", "depots": []}}'
    r = any_service.client.post("/v1/plans", content=body, headers=h)
    assert r.status_code == 422 and r.json()["path"] == "problem.name"
    body = b'{"problem": {"name": "a\\ud800b"}}'
    r = any_service.client.post("/v1/validate", content=body, headers=h)
    assert r.status_code == 422 and r.json()["path"] == "problem.name"
    r = any_service.client.post(
        f"/v1/plans/{any_service.plan['id']}/replan",
        content=b'{"cancelled": ["o-\\u0000"]}',
        headers=h,
    )
    assert r.status_code == 422 and r.json()["path"] == "cancelled[0]"
    r = any_service.client.get("/v1/plans/ab%00cd", headers=h)
    assert r.status_code == 422 and r.json()["path"] == "plan_id"
    r = any_service.client.get("/v1/plans?depot=a%00", headers=h)
    assert r.status_code == 422 and r.json()["path"] == "depot"
