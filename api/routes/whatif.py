"""What-if: a day and its variants solved side by side, one KPI table."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api import domain, limits, store
from api.auth import Reader
from api.db import JobRow
from api.deps import DbDep, RunnerDep, SettingsDep
from api.errors import ApiError
from api.routes.plans import WaitQuery
from api.schemas import ErrorResponse, JobOut, WhatifCreate, WhatifOut
from routing.domain.errors import InvalidProblemError

router = APIRouter(prefix="/v1/whatif", tags=["whatif"])


@router.post(
    "",
    response_model=WhatifOut,
    responses={
        202: {"model": JobOut, "description": "Still solving: poll the job."},
        413: {"model": ErrorResponse},
        422: {"model": ErrorResponse},
        429: {"model": ErrorResponse},
    },
    summary="Compare what-if variants",
)
def compare_variants(
    body: WhatifCreate,
    principal: Reader,
    db: DbDep,
    runner: RunnerDep,
    settings: SettingsDep,
    wait_s: WaitQuery = None,
) -> WhatifOut | JSONResponse:
    """Solve the day as it is and each variant (more or fewer vehicles, depots
    closed, slots widened, shifts longer), each with ``time_limit_s``; answers
    with the KPI rows when done within the wait limit, else 202 with a job whose
    ``result`` will hold them."""
    problem = store.read_problem(body.problem, settings)
    depots = [d.id for d in problem.depots]
    store.check_scope(principal, depots)
    if len(body.variants) > settings.max_variants:
        raise ApiError(
            413,
            "too_large",
            f"{len(body.variants)} variants; at most {settings.max_variants}",
            path="variants",
        )
    variants = [v.model_dump() for v in body.variants]
    limits.check_variants(limits.size_of(body.problem), variants, settings)
    store.check_text(variants, "variants")
    try:
        domain.variants_of(problem, variants)
    except InvalidProblemError as exc:
        raise ApiError(
            422, "invalid_input", exc.message, path=exc.path, entity_id=exc.entity_id
        ) from None
    limit_s = store.time_limit(body.time_limit_s, settings)
    wait = store.wait_limit(wait_s, settings)
    job, future = store.store_job(
        db,
        runner,
        kind="whatif",
        principal=principal,
        depots=depots,
        request={
            "problem": body.problem,
            "variants": variants,
            "options": body.solve_options(limit_s),
        },
        time_limit_s=limit_s,
    )
    state = store.wait(future, wait)
    with db.session() as session:
        job_row = session.get(JobRow, job.id)
        assert job_row is not None
        if state is None or store.is_pending(job_row):
            return store.accepted(job_row)
        if job_row.state != "succeeded" or job_row.result is None:
            raise store.job_failure(job_row, path_prefix="problem")
        return WhatifOut(
            job_id=job_row.id,
            rows=list(job_row.result.get("rows", [])),
            markdown=str(job_row.result.get("markdown", "")),
        )
