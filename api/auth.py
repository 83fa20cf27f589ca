"""API keys with roles: dispatcher, planner, driver; only their hashes are stored.

A key reads ``rk_<id>_<secret>``: the id finds the row, the SHA-256 of the whole
key is compared in constant time. The secret has 256 random bits, so a plain
SHA-256 (no slow hash) is enough: it cannot be guessed, only stolen, and the
database holds nothing that works as a key. Keys are made by ``routing-api
create-key``, which prints the key once; none is in the code.

| role | may |
| --- | --- |
| ``dispatcher`` | everything for their depots (plans, jobs, notices, re-plans...) |
| ``planner`` | what-if, validate, read plans and jobs (their depots) |
| ``driver`` | only the stop list of their own vehicle in today's plans |
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from api.db import ApiKeyRow, Database
from api.errors import ApiError, forbidden

ROLES = ("dispatcher", "planner", "driver")
"""The roles a key can have."""

HEADER = "X-API-Key"
"""The request header carrying the key."""

_scheme = APIKeyHeader(name=HEADER, auto_error=False, description="An API key.")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key's id, role and scope.

    ``depots`` None means every depot; ``vehicle_id`` is a driver's vehicle.
    """

    key_id: str
    role: str
    depots: frozenset[str] | None = None
    vehicle_id: str | None = None

    def covers(self, depots: Iterable[str]) -> bool:
        """Whether every one of ``depots`` is in this key's scope."""
        return self.depots is None or set(depots) <= self.depots


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(
    db: Database,
    role: str,
    *,
    name: str = "",
    depots: Iterable[str] | None = None,
    vehicle_id: str | None = None,
) -> str:
    """Create a key and return it; only its hash is stored, so show it once.

    Raises
    ------
    ValueError
        On an unknown role, or a driver key without a vehicle.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {list(ROLES)}, got {role!r}")
    if role == "driver" and not vehicle_id:
        raise ValueError("a driver key needs the driver's vehicle id")
    key_id = secrets.token_hex(6)
    key = f"rk_{key_id}_{secrets.token_urlsafe(32)}"
    with db.session() as session:
        session.add(
            ApiKeyRow(
                id=key_id,
                key_hash=_hash(key),
                name=name,
                role=role,
                depots=sorted(set(depots)) if depots is not None else None,
                vehicle_id=vehicle_id,
                is_revoked=False,
            )
        )
    return key


def revoke_key(db: Database, key_id: str) -> bool:
    """Revoke a key by its id; False if there is none."""
    with db.session() as session:
        row = session.get(ApiKeyRow, key_id)
        if row is None:
            return False
        row.is_revoked = True
        return True


def authenticate(db: Database, key: str) -> Principal | None:
    """The principal of a key, or None if it is unknown, malformed or revoked."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != "rk" or len(parts[1]) != 12:
        return None
    with db.session() as session:
        row = session.get(ApiKeyRow, parts[1])
        if row is None or row.is_revoked:
            return None
        if not hmac.compare_digest(row.key_hash, _hash(key)):
            return None
        return Principal(
            key_id=row.id,
            role=row.role,
            depots=frozenset(row.depots) if row.depots is not None else None,
            vehicle_id=row.vehicle_id,
        )


def current_principal(
    request: Request, key: Annotated[str | None, Depends(_scheme)]
) -> Principal:
    """The caller, from the ``X-API-Key`` header (401 without a valid key)."""
    if not key:
        raise ApiError(401, "unauthorized", f"missing {HEADER} header")
    db: Database = request.app.state.db
    principal = authenticate(db, key)
    if principal is None:
        raise ApiError(401, "unauthorized", "unknown or revoked API key")
    return principal


def require(*roles: str) -> Callable[..., Principal]:
    """A dependency admitting only keys with one of ``roles`` (else 403)."""

    def _check(
        principal: Annotated[Principal, Depends(current_principal)],
    ) -> Principal:
        if principal.role not in roles:
            raise forbidden(
                f"a {principal.role} key may not do this (needs: {', '.join(roles)})"
            )
        return principal

    return _check


Anyone = Annotated[Principal, Depends(current_principal)]
"""Any valid key."""
Dispatcher = Annotated[Principal, Depends(require("dispatcher"))]
"""A dispatcher key."""
Reader = Annotated[Principal, Depends(require("dispatcher", "planner"))]
"""A dispatcher or planner key (reading plans, what-if, validate)."""
Driver = Annotated[Principal, Depends(require("driver"))]
"""A driver key."""
