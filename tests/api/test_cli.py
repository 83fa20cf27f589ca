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
    """A configured database file that does not exist is refused (exit 2, nothing
    created); `migrate --create` creates it (mode 0600) and brings it to head;
    `create-key` prints a working key on stdout (and only a warning on stderr)."""
    path = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("ROUTING_DATABASE_PATH", str(path))
    monkeypatch.delenv("ROUTING_DATABASE_URL", raising=False)
    monkeypatch.delenv("ROUTING_CREATE_DATABASE", raising=False)
    assert main(["migrate"]) == 2
    assert "does not exist" in capsys.readouterr().err and not path.exists()
    assert main(["create-key", "dispatcher"]) == 2 and not path.exists()
    capsys.readouterr()
    assert main(["migrate", "--create"]) == 0
    assert path.stat().st_mode & 0o777 == 0o600
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


def test_the_default_file_is_created_on_first_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With no database configured (the README's first command), `create-key`
    creates ./routing-api.db, readable by its owner only; a configured URL to a
    missing file in a missing folder is refused naming the folder."""
    monkeypatch.chdir(tmp_path)
    for name in ("ROUTING_DATABASE_PATH", "ROUTING_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    assert main(["create-key", "dispatcher"]) == 0
    path = tmp_path / "routing-api.db"
    assert path.stat().st_mode & 0o777 == 0o600
    assert capsys.readouterr().out.startswith("rk_")
    monkeypatch.setenv("ROUTING_DATABASE_URL", f"sqlite:///{tmp_path}/nope/x.db")
    assert main(["migrate", "--create"]) == 2
    assert "folder" in capsys.readouterr().err
