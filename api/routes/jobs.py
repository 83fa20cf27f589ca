"""Jobs: status with progress, cancellation, resuming an interrupted job."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api import store
from api.auth import Dispatcher, Principal, Reader
from api.db import Database, JobRow
from api.deps import DbDep, RunnerDep
from api.errors import ApiError, forbidden, not_found
from api.jobs import KEEPS_BEST
from api.schemas import ErrorResponse, JobOut, job_out

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


def _visible(db: Database, job_id: str, principal: Principal) -> JobRow:
    with db.session() as session:
        job = session.get(JobRow, job_id)
        if job is None or not principal.covers(job.depots):
            raise not_found("job", job_id)
        return job


@router.get(
    "/{job_id}",
    response_model=JobOut,
    summary="Job status and progress",
    responses={404: {"model": ErrorResponse}},
)
def get_job(job_id: str, principal: Reader, db: DbDep) -> JobOut:
    """State, progress (best cost so far, elapsed seconds), the error of a failed
    job; what-if jobs carry their KPI table in ``result``."""
    return job_out(_visible(db, job_id, principal))


@router.post(
    "/{job_id}/cancel",
    response_model=JobOut,
    summary="Cancel a job",
    responses={
        403: {"model": ErrorResponse},
        404: {"model": ErrorResponse},
        409: {"model": ErrorResponse},
    },
)
def cancel_job(job_id: str, principal: Reader, db: DbDep, runner: RunnerDep) -> JobOut:
    """Stop a queued or running job. A running plan or re-plan keeps the best
    plan its search had found (when the engine can stop on request): the answer
    comes once it is stored (at most a few seconds; also when another server
    runs the job), its plan then has routes,
    ``stopped_early`` and a stop reason "cancelled by user, best plan so far",
    and can be inspected and published. Nothing found yet, or other jobs: the
    process is terminated at once, no plan. A job that already finished gives
    409. Planners may cancel what-if jobs only."""
    job = _visible(db, job_id, principal)
    if principal.role != "dispatcher" and job.kind != "whatif":
        raise forbidden("a planner key may cancel what-if jobs only")
    if job.state in ("succeeded", "cancelled") or (
        job.state == "failed" and not job.is_resumable
    ):
        raise ApiError(409, "conflict", f"job {job_id!r} already ended ({job.state})")
    runner.cancel(job_id)
    if job.state == "running" and job.kind in KEEPS_BEST:
        runner.settle(job_id)
    return job_out(_visible(db, job_id, principal))


@router.post(
    "/{job_id}/resume",
    status_code=202,
    response_model=JobOut,
    summary="Run an interrupted job again",
    responses={
        404: {"model": ErrorResponse},
        409: {"model": ErrorResponse},
        429: {"model": ErrorResponse},
    },
)
def resume_job(
    job_id: str, principal: Dispatcher, db: DbDep, runner: RunnerDep
) -> JSONResponse:
    """Queue a failed-and-resumable job (interrupted by a restart or a worker
    crash) again."""
    job = _visible(db, job_id, principal)
    if job.state != "failed" or not job.is_resumable:
        raise ApiError(
            409, "conflict", f"job {job_id!r} is {job.state}, not failed and resumable"
        )
    runner.reserve()
    if not runner.resume(job_id):
        runner.release()
        raise ApiError(409, "conflict", f"job {job_id!r} cannot be resumed now")
    return store.accepted(_visible(db, job_id, principal))
