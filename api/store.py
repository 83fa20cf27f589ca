"""What several routes share: reading problems within limits, finding plans a key
may see, publishing, storing plan and job together, waiting for a job."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import ScalarSelect, Select, select
from sqlalchemy.orm import Session, defer

from api import limits
from api.auth import Principal
from api.db import Database, JobRow, PlanDepotRow, PlanRow, new_id, now
from api.errors import ApiError, forbidden, not_found, problem_error
from api.jobs import JobRunner
from api.schemas import (
    PlanOut,
    PlanSummary,
    job_out,
    plan_out,
    plan_state,
    plan_summary,
)
from api.settings import Settings
from routing.domain.errors import InvalidProblemError
from routing.domain.model import Problem
from routing.formats import problem_from_dict
from routing.geo.providers import provider_from_settings


def check_text(value: object, path: str) -> None:
    """422 for text no database can store: NUL characters, lone surrogates.

    JSON allows both (``"\\u0000"``, ``"\\ud800"``); PostgreSQL rejects them, so they
    are refused here, naming the field, before anything is stored.
    """
    if isinstance(value, str):
        bad = "\x00" in value
        if not bad:
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                bad = True
        if bad:
            raise ApiError(
                422,
                "invalid_input",
                "text contains a NUL character or a lone surrogate",
                path=path,
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key, path)
            check_text(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for k, item in enumerate(value):
            check_text(item, f"{path}[{k}]")


def read_problem(
    data: Mapping[str, Any], settings: Settings, *, field: str = "problem"
) -> Problem:
    """The problem of a request, within the service's limits.

    Raises
    ------
    ApiError
        413 ``too_large`` beyond a size limit (`api.limits`: depots, vehicles,
        orders, locations, matrix cells); 422 ``invalid_input`` naming the
        field (under ``field``) and the entity for anything invalid.
    """
    limits.check_problem(data, settings, field=field)
    check_text(dict(data), field)
    try:
        problem = problem_from_dict(data)
        provider_from_settings(problem.travel)
    except InvalidProblemError as exc:
        raise problem_error(exc, field) from None
    return problem


def time_limit(value: float | None, settings: Settings) -> float:
    """The search time of a request: its own or the default, at most the maximum."""
    if value is None:
        return settings.default_time_limit_s
    if value > settings.max_time_limit_s:
        raise ApiError(
            422,
            "invalid_input",
            f"time_limit_s {value:g} exceeds this service's maximum of "
            f"{settings.max_time_limit_s:g} s",
            path="time_limit_s",
        )
    return value


def wait_limit(value: float | None, settings: Settings) -> float:
    """How long a request waits for its job: its own or the default, capped."""
    if value is None:
        return settings.wait_s
    if value > settings.max_wait_s:
        raise ApiError(
            422,
            "invalid_input",
            f"wait_s {value:g} exceeds the maximum of {settings.max_wait_s:g} s",
            path="wait_s",
        )
    return value


def today(settings: Settings) -> str:
    """Today's date (ISO) in the service's time zone."""
    return datetime.now(ZoneInfo(settings.timezone)).date().isoformat()


def depots_of(session: Session, plan_id: str) -> list[str]:
    """The depots a plan involves, sorted."""
    return sorted(
        session.scalars(
            select(PlanDepotRow.depot_id).where(PlanDepotRow.plan_id == plan_id)
        ).all()
    )


def depots(session: Session, row: PlanRow) -> list[str]:
    """The depots of a plan row: its summary column (no query), else the
    plan_depots rows."""
    if row.depot_ids is not None:
        return list(row.depot_ids)
    return depots_of(session, row.id)


BODIES = ("problem", "plan", "eta_changes", "replan")
"""The JSON columns of a plan (up to megabytes each): lists and lookups never
read them, only the summary columns stored beside them (migration 0004)."""


def summaries_only(query: Select[Any], *, strict: bool = True) -> Select[Any]:
    """``query`` on plans loading no JSON body; ``strict``: touching one raises
    (a list that did would read megabytes per row), else it loads on access."""
    return query.options(
        *(defer(getattr(PlanRow, name), raiseload=strict) for name in BODIES)
    )


def latest_job_id() -> ScalarSelect[Any]:
    """The id of the newest job of the outer query's plan (a correlated
    subquery, so that a list is one query)."""
    return (
        select(JobRow.id)
        .where(JobRow.plan_id == PlanRow.id)
        .order_by(JobRow.created_at.desc())
        .limit(1)
        .correlate(PlanRow)
        .scalar_subquery()
    )


def plan_summaries(session: Session, query: Select[Any]) -> list[PlanSummary]:
    """The list entries of a plans query, read in one query from the summary
    columns (the JSON bodies stay on disk)."""
    rows = session.execute(
        summaries_only(query).add_columns(latest_job_id().label("job_id"))
    ).all()
    return [plan_summary(row, depots(session, row), job_id) for row, job_id in rows]


def job_of(session: Session, plan_id: str) -> JobRow | None:
    """The job that made a plan."""
    return session.scalars(
        select(JobRow)
        .where(JobRow.plan_id == plan_id)
        .order_by(JobRow.created_at.desc())
        .limit(1)
    ).first()


def visible_plan(session: Session, plan_id: str, principal: Principal) -> PlanRow:
    """A plan the key may see (dispatchers and planners: their depots).

    Raises ApiError 404 when there is none, or it is outside the key's depots.
    """
    row = get_plan(session, plan_id)
    if row is None or not principal.covers(depots(session, row)):
        raise not_found("plan", plan_id)
    return row


def get_plan(session: Session, plan_id: str) -> PlanRow | None:
    """A plan row by id, its JSON bodies loaded only when first touched."""
    return session.get(
        PlanRow,
        plan_id,
        options=[defer(getattr(PlanRow, name)) for name in BODIES],
    )


def solved(row: PlanRow) -> dict[str, Any]:
    """The plan body of a row, or 409 when it has none (yet)."""
    if row.plan is None:
        raise ApiError(
            409,
            "conflict",
            f"plan {row.id!r} has no routes yet (status {row.status})",
            path="plan_id",
        )
    return row.plan


PUBLISHABLE = frozenset({"solved", "partial"})
"""Plan statuses that may be published: a finished search with routes (also a
cancelled one that kept its best plan). Not ``no_solution``: publishing it
would empty every driver's list."""

_PUBLISHING = threading.Lock()
"""Publishing reads the day's published plan and replaces it in one transaction:
one at a time (one service process owns the database, see README), so that a
day never ends up with two published plans."""


def plan_day(row: PlanRow) -> str:
    """The day a plan is for: its problem's date, else the day it was made (UTC)."""
    if row.day:
        return row.day
    return row.created_at.date().isoformat()


def published_plans(
    session: Session, day: str, depot_ids: Sequence[str] | None = None
) -> list[PlanRow]:
    """The plans of ``day`` published and not superseded, newest published first;
    with ``depot_ids``, those that share a depot with them. One query on the
    summary columns: a body (``problem``, ``plan``) loads when first touched.

    One a day per depot: each publish supersedes the plans of its day that
    share a depot with it (`publish`).
    """
    rows = session.scalars(
        summaries_only(
            select(PlanRow)
            .where(PlanRow.published_at.is_not(None), PlanRow.superseded_at.is_(None))
            .where((PlanRow.day == day) | PlanRow.day.is_(None))
            .order_by(PlanRow.published_at.desc(), PlanRow.id),
            strict=False,
        )
    ).all()
    out = [r for r in rows if plan_day(r) == day]
    if depot_ids is not None:
        wanted = set(depot_ids)
        out = [r for r in out if wanted & set(depots(session, r))]
    return out


def publish(db: Database, plan_id: str, principal: Principal) -> PlanOut:
    """Publish a plan: it becomes what drivers and customers of its day see; the
    plans of that day published before (sharing a depot) are superseded.

    Publishing the published plan again changes nothing; publishing a
    superseded one makes it the published plan again.

    Raises
    ------
    ApiError
        404 for a plan the key may not see; 409 ``not_publishable`` unless the
        plan has routes (solved, partial, or stopped early with a plan); 403
        when a plan it would supersede is outside the key's depots.
    """
    with _PUBLISHING, db.session() as session:
        row = visible_plan(session, plan_id, principal)
        if row.plan is None or row.status not in PUBLISHABLE:
            why = {
                "pending": "its job has not finished",
                "failed": "its job failed",
                "cancelled": "its job was cancelled before any plan was found",
                "no_solution": "it has no routes",
            }.get(row.status, f"its status is {row.status}")
            raise ApiError(
                409,
                "not_publishable",
                f"plan {row.id!r} cannot be published: {why} (status "
                f"{row.status}); only a finished plan with routes can be",
                path="plan_id",
            )
        if plan_state(row) != "published":
            replaced = [
                r
                for r in published_plans(session, plan_day(row), depots(session, row))
                if r.id != row.id
            ]
            for old in replaced:
                if not principal.covers(depots(session, old)):
                    raise forbidden(
                        f"publishing would supersede plan {old.id!r}, whose depots "
                        "this key does not cover"
                    )
            at = now()
            for old in replaced:
                old.superseded_at, old.superseded_by = at, row.id
            row.published_at, row.published_by = at, principal.key_id
            row.superseded_at = row.superseded_by = None
            session.flush()
        return plan_out_of(session, row, job_of(session, row.id))


ACTIVE_JOB_STATES = ("queued", "running")
"""Job states of a plan that cannot be deleted (cancel the job first)."""


def with_replans(session: Session, plan_ids: Sequence[str]) -> list[str]:
    """The plans and every re-plan made from them (their children, theirs...)."""
    found = list(dict.fromkeys(plan_ids))
    frontier = list(found)
    while frontier:
        children = session.scalars(
            select(PlanRow.id).where(PlanRow.parent_id.in_(frontier))
        ).all()
        frontier = [c for c in children if c not in found]
        found += frontier
    return found


def delete_plans(session: Session, plan_ids: Sequence[str]) -> dict[str, int]:
    """Delete plans with everything that holds their customers' data: their
    jobs (requests hold the problem), promises (notices sent), depot rows.

    The caller passes whole re-plan chains (`with_replans`) and has checked
    that no job of them is queued or running. Counts of deleted rows by table.
    """
    from sqlalchemy import delete

    from api.db import PromiseRow

    ids = list(plan_ids)
    if not ids:
        return {"plans": 0, "jobs": 0, "promises": 0}
    counts = {}
    for name, statement in (
        ("promises", delete(PromiseRow).where(PromiseRow.plan_id.in_(ids))),
        ("jobs", delete(JobRow).where(JobRow.plan_id.in_(ids))),
        ("depots", delete(PlanDepotRow).where(PlanDepotRow.plan_id.in_(ids))),
        ("plans", delete(PlanRow).where(PlanRow.id.in_(ids))),
    ):
        result = session.execute(
            statement, execution_options={"synchronize_session": False}
        )
        counts[name] = int(getattr(result, "rowcount", 0) or 0)
    counts.pop("depots")
    return counts


def active_jobs(session: Session, plan_ids: Sequence[str]) -> list[JobRow]:
    """The queued or running jobs of these plans."""
    return list(
        session.scalars(
            select(JobRow).where(
                JobRow.plan_id.in_(list(plan_ids)),
                JobRow.state.in_(ACTIVE_JOB_STATES),
            )
        ).all()
    )


def delete_plan(db: Database, plan_id: str, principal: Principal) -> dict[str, Any]:
    """Delete a plan the key may see and the re-plans made from it.

    Raises
    ------
    ApiError
        404 for a plan the key may not see; 403 when a re-plan of it is outside
        the key's depots; 409 ``conflict`` while a job of one of them is queued
        or running (cancel it first: ``POST /v1/jobs/{id}/cancel``).
    """
    with _PUBLISHING, db.session() as session:
        row = visible_plan(session, plan_id, principal)
        ids = with_replans(session, [row.id])
        for other in ids[1:]:
            other_row = get_plan(session, other)
            if other_row is not None and not principal.covers(
                depots(session, other_row)
            ):
                raise forbidden(
                    f"plan {plan_id!r} has re-plan {other!r}, whose depots this "
                    "key does not cover"
                )
        running = active_jobs(session, ids)
        if running:
            job = running[0]
            raise ApiError(
                409,
                "conflict",
                f"plan {job.plan_id!r} has a {job.state} job {job.id!r}: cancel it "
                f"(POST /v1/jobs/{job.id}/cancel) before deleting the plan",
                path="plan_id",
            )
        counts = delete_plans(session, ids)
        return {"deleted": ids, **counts}


def check_scope(principal: Principal, depots: Sequence[str]) -> None:
    """403 unless the key covers every depot of a problem."""
    if not principal.covers(depots):
        outside = sorted(set(depots) - (principal.depots or set()))
        raise forbidden(f"this key does not cover depot(s) {outside}")


def store_job(
    db: Database,
    runner: JobRunner,
    *,
    kind: str,
    principal: Principal,
    depots: Sequence[str],
    request: dict[str, Any],
    time_limit_s: float,
    plan: PlanRow | None = None,
) -> tuple[JobRow, Future[str]]:
    """Store a job (and its plan) in one transaction and queue it.

    Raises QueueFull (429) when no place is left; nothing is stored then.
    """
    runner.reserve()
    try:
        with db.session() as session:
            if plan is not None:
                session.add(plan)
                session.flush()
                session.add_all(
                    PlanDepotRow(plan_id=plan.id, depot_id=d)
                    for d in sorted(set(depots))
                )
            job = JobRow(
                id=new_id(),
                kind=kind,
                state="queued",
                plan_id=plan.id if plan is not None else None,
                depots=sorted(set(depots)),
                request=request,
                time_limit_s=time_limit_s,
                attempts=0,
                is_resumable=False,
                created_at=now(),
                created_by=principal.key_id,
            )
            session.add(job)
    except BaseException:
        runner.release()
        raise
    return job, runner.submit(job.id)


def new_plan_row(
    problem: Problem,
    data: Mapping[str, Any],
    *,
    principal: Principal,
    kind: str = "solve",
    parent: PlanRow | None = None,
) -> PlanRow:
    """A pending plan row for a problem (a re-plan: linked to its parent)."""
    plan_id = new_id()
    return PlanRow(
        id=plan_id,
        created_at=now(),
        name=problem.name[:200],
        day=problem.date,
        status="pending",
        kind=kind,
        parent_id=parent.id if parent else None,
        lineage_id=parent.lineage_id if parent else plan_id,
        problem=dict(data),
        orders=len(problem.orders),
        created_by=principal.key_id,
    )


def wait(future: Future[str], wait_s: float) -> str | None:
    """The job's final state if it ends within ``wait_s``, else None."""
    if wait_s <= 0:
        return future.result() if future.done() else None
    try:
        return future.result(timeout=wait_s)
    except FutureTimeout:
        return None


def accepted(job: JobRow) -> JSONResponse:
    """202 with the job and a Location to poll."""
    return JSONResponse(
        status_code=202,
        content=jsonable_encoder(job_out(job)),
        headers={"Location": f"/v1/jobs/{job.id}"},
    )


def is_pending(job: JobRow) -> bool:
    """Whether a create request answers with the job (202) rather than a result
    or an error: still queued or running, or failed and resumable (its worker
    died; the client resumes it), never a 500 for a job that can go on."""
    return job.state in ("queued", "running") or (
        job.state == "failed" and job.is_resumable
    )


def job_failure(job: JobRow, *, path_prefix: str = "") -> ApiError:
    """The error of a job that ended without a result, as the request's answer."""
    if job.state == "cancelled":
        return ApiError(409, "conflict", f"job {job.id!r} was cancelled")
    error = job.error or {}
    code = str(error.get("code", "internal"))
    message = str(error.get("message", "the job failed"))
    path = str(error.get("path", ""))
    if code in ("invalid_input", "routing_error"):
        if path_prefix:
            path = f"{path_prefix}.{path}" if path else path_prefix
        return ApiError(422, code, message, path=path, entity_id=error.get("entity_id"))
    return ApiError(500, "internal", f"job {job.id!r} failed: {message}")


def plan_summary_of(session: Session, row: PlanRow, job_id: str | None) -> PlanSummary:
    """The list entry of a plan row."""
    return plan_summary(row, depots(session, row), job_id)


def answer_plan_job(
    db: Database,
    future: Future[str],
    wait_s: float,
    job_id: str,
    plan_id: str,
    *,
    runner: JobRunner,
    path_prefix: str = "",
) -> PlanOut | JSONResponse:
    """Wait up to ``wait_s`` for a plan's job: the plan when it is done, 202 with
    the job to poll when it is not, the job's error when it failed. A job
    cancelled meanwhile answers with the best plan its search had found (stopped
    early) once the server running it has stored it, or 409 when it kept none."""
    state = wait(future, wait_s)
    if state == "cancelled":
        runner.settle(job_id)
    with db.session() as session:
        job_row = session.get(JobRow, job_id)
        plan_row = session.get(PlanRow, plan_id)
        assert job_row is not None and plan_row is not None
        if state is None or is_pending(job_row):
            return accepted(job_row)
        kept = job_row.state == "cancelled" and plan_row.is_stopped_early
        if job_row.state != "succeeded" and not kept:
            raise job_failure(job_row, path_prefix=path_prefix)
        return plan_out_of(session, plan_row, job_row)


def plan_out_of(
    session: Session, row: PlanRow, job: JobRow | None, *, with_problem: bool = False
) -> PlanOut:
    """The full response of a plan row."""
    return plan_out(row, depots(session, row), job, with_problem=with_problem)
