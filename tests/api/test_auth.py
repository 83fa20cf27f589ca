"""Tests of API keys: stored hashed, roles checked, revocation."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from api.auth import authenticate, create_key, revoke_key
from api.db import ApiKeyRow, Database


@pytest.fixture
def db(sqlite_url: str) -> Database:
    """A migrated SQLite database."""
    database = Database(sqlite_url)
    database.upgrade()
    return database


def test_keys_are_stored_hashed(db: Database) -> None:
    """The database holds a SHA-256 of the key, never the key or its secret."""
    key = create_key(db, "planner", name="ops", depots=["B", "A"])
    with db.session() as session:
        row = session.scalars(select(ApiKeyRow)).one()
        assert key not in (row.key_hash, row.name) and len(row.key_hash) == 64
        assert key.split("_", 2)[2] not in row.key_hash
        assert row.depots == ["A", "B"]
    principal = authenticate(db, key)
    assert principal is not None and principal.role == "planner"
    assert principal.covers(["A"]) and not principal.covers(["A", "C"])


def test_wrong_revoked_and_malformed_keys_are_refused(db: Database) -> None:
    """A changed secret, a revoked key and garbage all authenticate as nobody."""
    key = create_key(db, "dispatcher")
    assert authenticate(db, key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert authenticate(db, "rk_x_y") is None and authenticate(db, "") is None
    assert revoke_key(db, key.split("_")[1]) is True
    assert authenticate(db, key) is None
    assert revoke_key(db, "000000000000") is False


def test_roles_are_checked_when_creating(db: Database) -> None:
    """Unknown roles and driver keys without a vehicle are refused."""
    with pytest.raises(ValueError, match="role"):
        create_key(db, "admin")
    with pytest.raises(ValueError, match="vehicle"):
        create_key(db, "driver")
    principal = authenticate(db, create_key(db, "driver", vehicle_id="van-1"))
    assert principal is not None and principal.vehicle_id == "van-1"
