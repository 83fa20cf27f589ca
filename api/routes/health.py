"""Health (the process answers) and readiness (database, schema, job runner)."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import select, text

from api.db import JobRow, head_revision
from api.deps import DbDep, RunnerDep
from api.schemas import Health

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/v1", tags=["health"])


@router.get("/health", response_model=Health, summary="Liveness")
async def health() -> Health:
    """200 while the process serves requests (on the event loop: it answers even
    when every worker thread waits for a solve)."""
    return Health(status="ok")


@router.get(
    "/ready",
    response_model=Health,
    summary="Readiness",
    responses={503: {"model": Health, "description": "Not ready."}},
)
def ready(db: DbDep, runner: RunnerDep) -> Health | JSONResponse:
    """200 when the database answers (a SQLite file still where it was), its
    schema is at the newest migration, the jobs table can be read and the job
    runner is alive (not stopping); 503 otherwise, saying which check failed."""
    checks: dict[str, object] = {}
    if db.is_missing():
        # A new connection would create an empty file: do not even try.
        logger.warning("readiness: the database file is gone")
        checks["database"] = "missing file"
    else:
        try:
            with db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            checks["database"] = "ok"
            current, head = db.revision(), head_revision()
            checks["schema"] = "ok" if current == head else f"at {current}, head {head}"
            if checks["schema"] == "ok":
                with db.engine.connect() as connection:
                    connection.execute(select(JobRow.id).limit(1)).all()
        except Exception as exc:
            logger.warning("readiness: database check failed: %s", exc)
            checks["database"] = "unavailable"
    checks["job_runner"] = "ok" if runner.is_alive else "stopped"
    try:
        checks["jobs"] = runner.load
    except Exception:
        checks["jobs"] = None
    is_ready = all(checks[k] == "ok" for k in ("database", "job_runner")) and (
        checks.get("schema") == "ok"
    )
    if is_ready:
        return Health(status="ok", checks=checks)
    return JSONResponse(
        status_code=503,
        content=Health(status="unavailable", checks=checks).model_dump(),
    )
