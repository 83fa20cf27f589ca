"""Plans: create from a problem (answered at once or as a job), fetch, list,
publish, delete."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from sqlalchemy import exists, select

from api import store
from api.auth import Dispatcher, Reader
from api.db import PlanDepotRow, PlanRow
from api.deps import DbDep, RunnerDep, SettingsDep
from api.schemas import (
    ErrorResponse,
    JobOut,
    PlanCreate,
    PlanDeleted,
    PlanOut,
    PlanSummary,
)

router = APIRouter(prefix="/v1/plans", tags=["plans"])

WaitQuery = Annotated[
    float | None,
    Query(
        ge=0,
        description="Seconds to wait for the solve before answering 202 with a job "
        "(default: the service's wait_s).",
    ),
]

PlanStatusName = Literal[
    "pending", "solved", "partial", "no_solution", "failed", "cancelled"
]

PlanStateName = Literal["draft", "published", "superseded"]


@router.post(
    "",
    status_code=201,
    response_model=PlanOut,
    responses={
        202: {"model": JobOut, "description": "Still solving: poll the job."},
        403: {"model": ErrorResponse},
        413: {"model": ErrorResponse},
        422: {"model": ErrorResponse},
        429: {"model": ErrorResponse, "description": "Queue full; see Retry-After."},
    },
    summary="Plan a day",
)
def create_plan(
    body: PlanCreate,
    principal: Dispatcher,
    db: DbDep,
    runner: RunnerDep,
    settings: SettingsDep,
    wait_s: WaitQuery = None,
) -> PlanOut | JSONResponse:
    """Solve a problem. Answers 201 with the plan when the solve ends within the
    wait limit, else 202 with the job to poll (``GET /v1/jobs/{id}``). An
    infeasible but valid problem gives a plan whose unplanned orders carry
    reasons. A job cancelled while the client waits answers with the best plan
    its search had found (``stopped_early``), or 409 when it had none."""
    problem = store.read_problem(body.problem, settings)
    depots = [d.id for d in problem.depots]
    store.check_scope(principal, depots)
    limit_s = store.time_limit(body.time_limit_s, settings)
    wait = store.wait_limit(wait_s, settings)
    row = store.new_plan_row(problem, body.problem, principal=principal)
    job, future = store.store_job(
        db,
        runner,
        kind="solve",
        principal=principal,
        depots=depots,
        request={"options": body.solve_options(limit_s)},
        time_limit_s=limit_s,
        plan=row,
    )
    return store.answer_plan_job(
        db, future, wait, job.id, row.id, path_prefix="problem", runner=runner
    )


@router.get(
    "",
    response_model=list[PlanSummary],
    summary="List plans",
    responses={422: {"model": ErrorResponse}},
)
def list_plans(
    principal: Reader,
    db: DbDep,
    day: Annotated[
        str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD")
    ] = None,
    depot: Annotated[str | None, Query(max_length=200)] = None,
    status: PlanStatusName | None = None,
    state: PlanStateName | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[PlanSummary]:
    """Plans newest first, filtered by day, depot, status and state (draft,
    published, superseded); only those whose depots the key covers."""
    query = select(PlanRow)
    if day is not None:
        query = query.where(PlanRow.day == day)
    if status is not None:
        query = query.where(PlanRow.status == status)
    if state == "draft":
        query = query.where(PlanRow.published_at.is_(None))
    elif state == "published":
        query = query.where(
            PlanRow.published_at.is_not(None), PlanRow.superseded_at.is_(None)
        )
    elif state == "superseded":
        query = query.where(PlanRow.superseded_at.is_not(None))
    if depot is not None:
        query = query.where(
            exists().where(
                PlanDepotRow.plan_id == PlanRow.id, PlanDepotRow.depot_id == depot
            )
        )
    if principal.depots is not None:
        query = query.where(
            ~exists().where(
                PlanDepotRow.plan_id == PlanRow.id,
                PlanDepotRow.depot_id.not_in(sorted(principal.depots)),
            )
        )
    query = query.order_by(PlanRow.created_at.desc(), PlanRow.id).limit(limit)
    query = query.offset(offset)
    with db.session() as session:
        return store.plan_summaries(session, query)


@router.get(
    "/{plan_id}",
    response_model=PlanOut,
    summary="Fetch a plan",
    responses={404: {"model": ErrorResponse}},
)
def get_plan(
    plan_id: str,
    principal: Reader,
    db: DbDep,
    include_problem: bool = False,
) -> PlanOut:
    """A plan with its routes (``plan``), its job and, for a re-plan, the ETA
    changes; ``include_problem=true`` adds the problem."""
    with db.session() as session:
        row = store.visible_plan(session, plan_id, principal)
        return store.plan_out_of(
            session, row, store.job_of(session, row.id), with_problem=include_problem
        )


@router.post(
    "/{plan_id}/publish",
    response_model=PlanOut,
    summary="Publish a plan to drivers and customers",
    responses={
        403: {"model": ErrorResponse},
        404: {"model": ErrorResponse},
        409: {
            "model": ErrorResponse,
            "description": "not_publishable: no routes (pending, failed, "
            "cancelled before any plan was found, no_solution).",
        },
    },
)
def publish_plan(plan_id: str, principal: Dispatcher, db: DbDep) -> PlanOut:
    """Make a plan (or re-plan) the one drivers and customers of its day see.
    Plans are drafts until published; the plan of the same day (and depot)
    published before is superseded: its drivers' lists and ETA links move to
    this one. A finished plan with routes can be published: solved, partial, or
    stopped early by a cancel with the best plan found so far. Publishing the
    published plan again changes nothing; a superseded plan can be published
    again (going back to it)."""
    return store.publish(db, plan_id, principal)


@router.delete(
    "/{plan_id}",
    response_model=PlanDeleted,
    summary="Delete a plan and its customer data",
    responses={
        403: {"model": ErrorResponse},
        404: {"model": ErrorResponse},
        409: {
            "model": ErrorResponse,
            "description": "conflict: a job of the plan (or of a re-plan of it) "
            "is queued or running; cancel it first.",
        },
    },
)
def delete_plan(plan_id: str, principal: Dispatcher, db: DbDep) -> PlanDeleted:
    """Delete a plan for good, with every re-plan made from it, their jobs
    (whose requests hold the problem) and the promises of the notices sent
    from them: nothing of its customers' addresses stays in the service.
    Refused with 409 while a job of one of them is queued or running (cancel
    it first, ``POST /v1/jobs/{id}/cancel``), so that no job writes a deleted
    plan. A deleted published plan leaves its day unpublished (drivers: 404
    ``not_published``); the plan it had superseded stays superseded until
    published again. Plans older than the service's retention
    (``ROUTING_RETENTION_DAYS``) are deleted the same way by a sweep."""
    return PlanDeleted(**store.delete_plan(db, plan_id, principal))
