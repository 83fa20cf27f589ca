"""Tests of the routing-api command: migrate and create-key."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.auth import authenticate
from api.cli import main
from api.db import Database, head_revision


def test_migrate_then_create_a_key_printed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`migrate` brings an empty file to head; `create-key` prints a working key
    on stdout (and only a warning on stderr)."""
    path = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("ROUTING_DATABASE_PATH", str(path))
    monkeypatch.delenv("ROUTING_DATABASE_URL", raising=False)
    assert main(["migrate"]) == 0
    assert f"revision {head_revision()}" in capsys.readouterr().out
    assert (
        main(["create-key", "dispatcher", "--depot", "AND-SC", "--name", "desk"]) == 0
    )
    out, err = capsys.readouterr()
    key = out.strip()
    assert key.startswith("rk_") and key not in err and "not shown again" in err
    db = Database(f"sqlite:///{path}")
    principal = authenticate(db, key)
    assert principal is not None and principal.depots == frozenset({"AND-SC"})
    assert main(["revoke-key", key.split("_")[1]]) == 0
    assert authenticate(db, key) is None
    assert main(["create-key", "driver"]) == 2
    assert "vehicle" in capsys.readouterr().err
