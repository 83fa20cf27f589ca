"""Fixtures of the service tests: databases (SQLite always, PostgreSQL when
ROUTING_TEST_POSTGRES_URL is set), settings, a running app with keys and a
solved and published plan of today's tutorial day."""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from api.app import create_app
from api.auth import create_key
from api.settings import Settings
from api.store import today

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # test modules import helpers from tests.api.*,
    sys.path.insert(0, str(REPO))  # also when run as `pytest` (importlib mode)
TUTORIAL = REPO / "scenarios" / "tutorial.json"
PG_ENV = "ROUTING_TEST_POSTGRES_URL"


def tutorial(**changes: Any) -> dict[str, Any]:
    """scenarios/tutorial.json dated today (UTC, the test settings' zone)."""
    problem: dict[str, Any] = json.loads(TUTORIAL.read_text())
    problem["date"] = today(Settings())
    problem.update(changes)
    return problem


def test_settings(url: str, **overrides: Any) -> Settings:
    """Settings for tests: tiny time limits, quick answers, a small queue."""
    values: dict[str, Any] = {
        "database_url": url,
        "wait_s": 20.0,
        "max_wait_s": 30.0,
        "default_time_limit_s": 1.0,
        "max_time_limit_s": 5.0,
        "max_orders": 50,
        "max_body_bytes": 200_000,
        "workers": 1,
        "queue_size": 4,
        "retry_after_s": 7,
        "warm_worker": False,  # short-lived test services: no spare to pay for
        "create_database": True,  # tests start on new files
        "stop_grace_s": 0.0,  # a stop kills running jobs at once (tests of it opt in)
    }
    values.update(overrides)
    return Settings(**values)


test_settings.__test__ = False  # type: ignore[attr-defined]


def _pg_schema_url(base: str, schema: str) -> str:
    """A new empty schema in the test database; skips when PostgreSQL is down."""
    engine = create_engine(_psycopg(base))
    try:
        engine.connect().close()
    except OperationalError as exc:
        engine.dispose()
        pytest.skip(f"{PG_ENV} is set but PostgreSQL does not answer: {exc.orig}")
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    sep = "&" if "?" in base else "?"
    return f"{_psycopg(base)}{sep}options=-csearch_path%3D{schema}"


def _drop_pg_schema(base: str, schema: str) -> None:
    engine = create_engine(_psycopg(base))
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def _psycopg(url: str) -> str:
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain) :]
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a new SQLite file, or a new PostgreSQL schema (skipped
    without ROUTING_TEST_POSTGRES_URL)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'api.sqlite3'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(
            f"PostgreSQL tests need {PG_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/test)"
        )
    schema = f"api_test_{uuid.uuid4().hex[:10]}"
    yield _pg_schema_url(base, schema)
    _drop_pg_schema(base, schema)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """An empty SQLite database file."""
    return f"sqlite:///{tmp_path / 'api.sqlite3'}"


@dataclass
class Service:
    """A running app (TestClient inside its lifespan) with a key per role and a
    solved plan of today's tutorial day, published (tests that publish another
    plan of today put it back with `republish`)."""

    app: FastAPI
    client: TestClient
    settings: Settings
    keys: dict[str, str]
    plan: dict[str, Any]

    def headers(self, role: str) -> dict[str, str]:
        """The X-API-Key header of a role's key."""
        return {"X-API-Key": self.keys[role]}

    def key(self, role: str, **kw: Any) -> dict[str, str]:
        """A new key's header."""
        return {"X-API-Key": create_key(self.app.state.db, role, **kw)}

    def publish(self, plan_id: str) -> dict[str, Any]:
        """Publish a plan (dispatcher key); the published plan."""
        r = self.client.post(
            f"/v1/plans/{plan_id}/publish", headers=self.headers("dispatcher")
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    def republish(self) -> None:
        """Make the shared plan today's published plan again."""
        self.publish(self.plan["id"])


def start_service(settings: Settings) -> tuple[FastAPI, TestClient]:
    """An app and a TestClient that has run its startup."""
    app = create_app(settings)
    client = TestClient(app)
    client.__enter__()
    return app, client


def _service(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    schema = ""
    base = os.environ.get(PG_ENV, "")
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('service') / 'api.sqlite3'}"
    else:
        if not base:
            pytest.skip(f"PostgreSQL tests need {PG_ENV}")
        schema = f"api_test_{uuid.uuid4().hex[:10]}"
        url = _pg_schema_url(base, schema)
    settings = test_settings(url, warm_worker=True)
    app, client = start_service(settings)
    db = app.state.db
    keys = {
        "dispatcher": create_key(db, "dispatcher", name="all depots"),
        "planner": create_key(db, "planner"),
        "driver": create_key(db, "driver", vehicle_id="van-1"),
        "driver2": create_key(db, "driver", vehicle_id="van-2"),
        "other_depot": create_key(db, "dispatcher", depots=["AND-XX"]),
    }
    response = client.post(
        "/v1/plans",
        json={"problem": tutorial(), "time_limit_s": 2, "deterministic": True},
        headers={"X-API-Key": keys["dispatcher"]},
    )
    assert response.status_code == 201, response.text
    shared = Service(app, client, settings, keys, response.json())
    shared.publish(shared.plan["id"])
    try:
        yield shared
    finally:
        client.__exit__(None, None, None)
        if schema:
            _drop_pg_schema(base, schema)


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The shared service on SQLite, with a key per role and one plan."""
    yield from _service("sqlite", tmp_path_factory)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def any_service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    """The shared service once per database backend (PostgreSQL only with
    ROUTING_TEST_POSTGRES_URL): for the tests of what is stored."""
    if request.param == "sqlite":
        yield from _service_once(request, tmp_path_factory)
    else:
        yield from _service("postgres", tmp_path_factory)


def _service_once(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    """The SQLite service, shared with the `service` fixture."""
    yield request.getfixturevalue("service")


@pytest.fixture
def make_service(
    sqlite_url: str,
) -> Iterator[Callable[..., tuple[FastAPI, TestClient, dict[str, str]]]]:
    """A factory of private services on one SQLite file (stopped at the end);
    returns app, client and a dispatcher key header."""
    started: list[TestClient] = []

    def make(**overrides: Any) -> tuple[FastAPI, TestClient, dict[str, str]]:
        app, client = start_service(
            test_settings(overrides.pop("url", sqlite_url), **overrides)
        )
        started.append(client)
        key = create_key(app.state.db, "dispatcher")
        return app, client, {"X-API-Key": key}

    yield make
    for client in started:
        client.__exit__(None, None, None)


@pytest.fixture
def republish_after(any_service: Service) -> Iterator[Service]:
    """The shared service; the shared plan is published again afterwards (for
    tests that publish other plans of today)."""
    yield any_service
    any_service.republish()


def publish(
    client: TestClient, plan_id: str, headers: dict[str, str]
) -> dict[str, Any]:
    """Publish a plan on a private service; the published plan."""
    r = client.post(f"/v1/plans/{plan_id}/publish", headers=headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def visits(plan: dict[str, Any], vehicle_id: str) -> list[dict[str, Any]]:
    """The visits of a vehicle's route in a plan response."""
    for route in plan["plan"]["routes"]:
        if route["vehicle_id"] == vehicle_id:
            return list(route["visits"])
    return []
