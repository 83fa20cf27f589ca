"""Tests of operating the service: a missing database, readiness, file mode,
graceful stop."""

from __future__ import annotations

import json
import logging
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import create_key
from api.db import Database, MissingDatabase
from tests.api.conftest import REPO, test_settings, tutorial
from tests.api.test_server import _free_port, _server, alive, job_processes

MakeService = Callable[..., tuple[FastAPI, TestClient, dict[str, str]]]


def test_a_missing_database_file_is_refused_at_start(tmp_path: Path) -> None:
    """A configured SQLite file that does not exist stops the start with a clear
    error (nothing created); with create_database it is created, mode 0600."""
    path = tmp_path / "typo.sqlite3"
    settings = test_settings(f"sqlite:///{path}", create_database=False)
    with (
        pytest.raises(MissingDatabase, match="does not exist"),
        TestClient(create_app(settings)),
    ):
        pass
    assert not path.exists()
    with TestClient(create_app(test_settings(f"sqlite:///{path}"))) as client:
        assert client.get("/v1/ready").status_code == 200
    assert path.stat().st_mode & 0o777 == 0o600
    for side in ("-wal", "-shm"):
        other = Path(f"{path}{side}")
        assert not other.exists() or other.stat().st_mode & 0o077 == 0


def test_ready_is_503_when_the_database_file_is_gone(
    make_service: MakeService, sqlite_url: str
) -> None:
    """A SQLite file moved away under a running service: /ready says not ready
    (503, database 'missing file') and no empty file is created in its place."""
    _, client, _ = make_service()
    assert client.get("/v1/ready").status_code == 200
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    path.rename(path.with_suffix(".moved"))
    r = client.get("/v1/ready")
    assert r.status_code == 503 and r.json()["checks"]["database"] == "missing file"
    assert not path.exists()


def test_ready_is_503_when_the_schema_is_unreadable(make_service: MakeService) -> None:
    """A database whose jobs table is gone is not ready."""
    app, client, _ = make_service()
    from sqlalchemy import text

    with app.state.db.engine.begin() as connection:
        connection.execute(text("DROP TABLE jobs"))
    r = client.get("/v1/ready")
    assert r.status_code == 503 and r.json()["checks"]["database"] == "unavailable"


def test_readiness_is_quiet(
    make_service: MakeService, caplog: pytest.LogCaptureFixture
) -> None:
    """Probing /ready logs nothing (no Alembic lines per probe)."""
    _, client, _ = make_service()
    with caplog.at_level(logging.DEBUG):
        for _ in range(3):
            assert client.get("/v1/ready").status_code == 200
    assert [
        r.getMessage() for r in caplog.records if r.name.startswith("alembic")
    ] == []


def test_sigterm_gives_running_jobs_the_grace_then_requeues(tmp_path: Path) -> None:
    """SIGTERM with stop_grace_s=3 and two running jobs: the short one finishes
    (succeeded), the long one is killed at the deadline and queued again
    (attempts 1, its process gone); /ready says not ready meanwhile, and the
    server exits within the grace plus a margin."""
    db_path = tmp_path / "stop.sqlite3"
    db = Database(f"sqlite:///{db_path}")
    db.upgrade()
    h = {"X-API-Key": create_key(db, "dispatcher")}
    port = _free_port()
    env = {"ROUTING_STOP_GRACE_S": "3", "ROUTING_WORKERS": "2"}
    with _server(db_path, port, **env) as (client, server):
        ids = []
        day = json.loads((REPO / "scenarios" / "andorra_weekday.json").read_text())
        day["date"] = tutorial()["date"]
        for problem, limit_s in ((tutorial(), 1), (day, 5)):
            r = client.post(
                "/v1/plans?wait_s=0",
                json={"problem": problem, "time_limit_s": limit_s},
                headers=h,
            )
            ids.append(r.json()["id"])
        deadline = time.monotonic() + 20
        while any(
            client.get(f"/v1/jobs/{i}", headers=h).json()["state"] != "running"
            for i in ids
        ):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        workers = job_processes(server.pid)
        t0 = time.monotonic()
        os.kill(server.pid, signal.SIGTERM)
        server.wait(15)
        took_s = time.monotonic() - t0
    assert took_s < 3 + 3, took_s
    assert not [pid for pid in workers if alive(pid)]
    from api.db import JobRow

    with db.session() as session:
        short, long = (session.get(JobRow, i) for i in ids)
        assert short is not None and long is not None
        assert short.state == "succeeded"
        assert long.state == "queued" and long.attempts == 1
        assert long.claimed_by is None
    db.dispose()
