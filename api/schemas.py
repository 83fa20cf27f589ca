"""Request and response bodies (pydantic v2) and the row -> response converters.

Problems travel in the scenario format of ``scenarios/README.md`` and are
validated by the engine (`routing.formats.problem_from_dict`), which names the field and
the entity of any error; the schema here only says "an object".
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, overload

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
)

from api.db import JobRow, PlanRow
from routing.domain.model import MAX_MONEY
from routing.solver.options import MAX_SEED

Problem = dict[str, Any]


class ErrorResponse(BaseModel):
    """Every error: ``{code, message, path}``, plus ``entity_id`` when known."""

    code: str = Field(description="Machine-readable, e.g. invalid_input, not_found.")
    message: str
    path: str = Field(
        "", description="Where in the request, e.g. problem.orders[3].windows[0]."
    )
    entity_id: str | None = Field(
        None, description="The id of the depot, vehicle or order concerned."
    )


class SolveSettings(BaseModel):
    """How long and how the solver searches."""

    model_config = ConfigDict(extra="forbid")

    time_limit_s: StrictFloat | None = Field(
        None,
        gt=0,
        allow_inf_nan=False,
        description="Search time in seconds (default: the service's; at most its "
        "max_time_limit_s).",
    )
    deterministic: StrictBool = Field(
        False, description="Reproducible search: stops at the first local optimum."
    )
    seed: StrictInt = Field(
        0,
        ge=0,
        le=MAX_SEED,
        description="Random seed of the search engines: fix it to compare what-if "
        "variants or runs like with like (the search still stops on the clock).",
    )

    def solve_options(self, time_limit_s: float) -> dict[str, Any]:
        """The solve options a job stores (``api/worker.py`` reads them back)."""
        return {
            "time_limit_s": time_limit_s,
            "is_deterministic": self.deterministic,
            "seed": self.seed,
        }


class PlanCreate(SolveSettings):
    """A problem to plan."""

    problem: Problem = Field(description="A scenario (scenarios/README.md).")


class ValidateRequest(BaseModel):
    """A problem to check without solving."""

    model_config = ConfigDict(extra="forbid")

    problem: Problem


class Finding(BaseModel):
    """An order no vehicle can serve, found before solving."""

    order_id: str
    code: str
    reason: str


class ValidateResponse(BaseModel):
    """The problem is valid; these orders cannot be served by any vehicle alone."""

    valid: bool = True
    depots: int
    vehicles: int
    orders: int
    findings: list[Finding]
    travel_checked: bool = Field(
        True,
        description="Whether travel times were used. False above the service's "
        "validate_matrix_cells: the findings hold for any travel times, but "
        "slots out of reach in time and route limits are not looked for.",
    )


class Progress(BaseModel):
    """How far a running search is."""

    best_cost: float | None = Field(
        None, description="Solver objective of the best plan so far, money."
    )
    elapsed_s: float | None = None
    time_limit_s: float
    steps_done: int | None = Field(
        None, description="What-if: solves finished (the base day included)."
    )
    steps_total: int | None = Field(
        None, description="What-if: solves in all (the base day and each variant)."
    )


class JobOut(BaseModel):
    """A background job: a solve, a re-plan or a what-if comparison.

    ``state``: queued, running, succeeded, failed, cancelled. A failed job with
    ``is_resumable`` (interrupted, worker crash) can be run again with
    ``POST /v1/jobs/{id}/resume``. A cancelled plan or re-plan job whose search
    had found routes keeps them: its plan is stored, stopped early.
    """

    id: str
    kind: Literal["solve", "replan", "whatif"]
    state: str
    plan_id: str | None
    progress: Progress
    attempts: int
    is_resumable: bool
    error: ErrorResponse | None
    result: dict[str, Any] | None = Field(
        None, description="What-if: the KPI rows; solves: checker findings."
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    links: dict[str, str]


PlanState = Literal["draft", "published", "superseded"]
"""Where a plan stands for drivers and customers."""


class PlanSummary(BaseModel):
    """A stored plan without its body (for lists)."""

    id: str
    name: str
    day: str | None
    status: str = Field(
        description="pending (solving), solved, partial, no_solution, failed, "
        "cancelled."
    )
    kind: Literal["solve", "replan"]
    parent_id: str | None
    lineage_id: str
    depots: list[str]
    orders: int
    unplanned: int | None
    cost: float | None
    created_at: datetime
    job_id: str | None
    state: PlanState = Field(
        description="draft (not shown to drivers and customers), published (what "
        "drivers and customers of its day see), superseded (a later plan of its "
        "day was published)."
    )
    published_at: datetime | None = None
    published_by: str | None = Field(None, description="The key that published it.")
    superseded_at: datetime | None = None
    superseded_by: str | None = Field(
        None, description="The plan whose publishing replaced this one."
    )
    stopped_early: bool = Field(
        False,
        description="Its job was cancelled and the best plan found so far was "
        "kept (see stop_reason).",
    )
    stop_reason: str | None = Field(
        None,
        description="Why the search stopped, e.g. 'cancelled by user, best "
        "plan so far; ...'.",
    )


class PlanOut(PlanSummary):
    """A stored plan: its routes (``plan``), problem and, after a re-plan, which
    promised ETAs moved."""

    plan: dict[str, Any] | None = Field(
        None, description="Routes, visits with ETAs, unplanned orders with reasons."
    )
    problem: Problem | None = None
    eta_changes: list[dict[str, Any]] | None = Field(
        None,
        description="Re-plans: promised ETAs that moved (moved_s) or broke.",
    )
    replan: dict[str, Any] | None = Field(
        None,
        description="Re-plans: orders done per vehicle, stops pinned first "
        "(driven to), vehicles left out, the changes since the first plan.",
    )
    job: JobOut | None = None


class NoticeRequest(BaseModel):
    """Issue a customer's ETA notice (and record the promise)."""

    model_config = ConfigDict(extra="forbid")

    when: Literal["evening", "morning"] = Field(
        "evening", description="Sent the evening before, or the morning of the day."
    )
    width_s: StrictInt = Field(
        1800, ge=0, le=86400, description="Promised range width."
    )
    call_ahead_s: StrictInt = Field(
        1800, ge=0, le=86400, description="The driver calls this long before."
    )


class PlanDeleted(BaseModel):
    """What deleting a plan removed: the plan and the re-plans made from it,
    with their jobs and the promises (notices) given to customers from them."""

    deleted: list[str] = Field(description="Plan ids: the plan, then its re-plans.")
    plans: int
    jobs: int
    promises: int


class PromiseOut(BaseModel):
    """An arrival range and call-ahead time, seconds and clock text."""

    order_id: str
    eta_s: int
    window_start_s: int
    window_end_s: int
    call_ahead_s: int
    eta: str
    window_start: str
    window_end: str
    call_ahead: str


class NoticeOut(BaseModel):
    """The notice as sent to the customer, and the promise it records."""

    plan_id: str
    order_id: str
    when: str
    text: str
    promise: PromiseOut
    previous: PromiseOut | None = Field(
        None, description="The promise given before this one, if any."
    )
    issued_at: datetime


class EtaOut(BaseModel):
    """An order's current ETA against the last promise the customer was given."""

    plan_id: str
    order_id: str
    current: PromiseOut | None = Field(None, description="None: not planned.")
    promised: PromiseOut | None = None
    is_broken: bool = Field(
        description="The current ETA is outside the promised range, or the order "
        "is no longer planned."
    )
    moved_s: int | None


class Health(BaseModel):
    """Liveness or readiness."""

    status: Literal["ok", "unavailable"]
    checks: dict[str, Any] = Field(default_factory=dict)


@overload
def utc(value: datetime) -> datetime: ...
@overload
def utc(value: None) -> None: ...
def utc(value: datetime | None) -> datetime | None:
    """A stored time as timezone-aware UTC (SQLite returns it naive)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def job_out(job: JobRow) -> JobOut:
    """The response for a job row."""
    error = ErrorResponse(**job.error) if job.error else None
    links = {"self": f"/v1/jobs/{job.id}"}
    if job.plan_id:
        links["plan"] = f"/v1/plans/{job.plan_id}"
    if job.state in ("queued", "running"):
        links["cancel"] = f"/v1/jobs/{job.id}/cancel"
    if job.state == "failed" and job.is_resumable:
        links["resume"] = f"/v1/jobs/{job.id}/resume"
    return JobOut(
        id=job.id,
        kind=job.kind,  # type: ignore[arg-type]
        state=job.state,
        plan_id=job.plan_id,
        progress=Progress(
            best_cost=job.best_cost,
            elapsed_s=job.elapsed_s,
            time_limit_s=job.time_limit_s,
            steps_done=job.steps_done,
            steps_total=job.steps_total,
        ),
        attempts=job.attempts,
        is_resumable=job.is_resumable,
        error=error,
        result=job.result,
        created_at=utc(job.created_at),
        started_at=utc(job.started_at),
        finished_at=utc(job.finished_at),
        links=links,
    )


def plan_state(row: PlanRow) -> PlanState:
    """draft, published or superseded."""
    if row.published_at is None:
        return "draft"
    return "superseded" if row.superseded_at is not None else "published"


def plan_summary(row: PlanRow, depots: list[str], job_id: str | None) -> PlanSummary:
    """The list entry for a plan row."""
    return PlanSummary(
        id=row.id,
        name=row.name,
        day=row.day,
        status=row.status,
        kind=row.kind,  # type: ignore[arg-type]
        parent_id=row.parent_id,
        lineage_id=row.lineage_id,
        depots=depots,
        orders=row.orders,
        unplanned=row.unplanned,
        cost=row.cost,
        created_at=utc(row.created_at),
        job_id=job_id,
        state=plan_state(row),
        published_at=utc(row.published_at),
        published_by=row.published_by,
        superseded_at=utc(row.superseded_at),
        superseded_by=row.superseded_by,
        stopped_early=bool(row.is_stopped_early),
        stop_reason=row.stop_reason,
    )


def plan_out(
    row: PlanRow,
    depots: list[str],
    job: JobRow | None,
    *,
    with_problem: bool = False,
) -> PlanOut:
    """The full response for a plan row."""
    summary = plan_summary(row, depots, job.id if job else None)
    return PlanOut(
        **summary.model_dump(),
        plan=row.plan,
        problem=row.problem if with_problem else None,
        eta_changes=row.eta_changes,
        replan=row.replan,
        job=job_out(job) if job else None,
    )


Coordinate = Annotated[float, Field(strict=True, allow_inf_nan=False)]
"""A finite number, not a boolean (the engine checks the range)."""


def _not_bool(value: object) -> object:
    """Booleans are not numbers here (``true`` is not 1 second)."""
    if isinstance(value, bool):
        raise ValueError('expected "HH:MM" text or integer seconds, got a boolean')
    return value


class VehicleStateIn(BaseModel):
    """Where one vehicle stands now."""

    model_config = ConfigDict(extra="forbid")

    vehicle_id: str = Field(min_length=1, max_length=200)
    time: Annotated[str | int, BeforeValidator(_not_bool)] = Field(
        description='Now: "HH:MM" or seconds since midnight of the planning day.'
    )
    position: dict[str, Coordinate] | None = Field(
        None,
        description='{"lat", "lon"} (or {"x", "y"}); none: at its start depot.',
    )
    done: list[str] = Field(
        default_factory=list, description="Orders served already (on its route)."
    )
    heading_to: str | None = Field(
        None, description="The stop the driver is driving to: it stays first."
    )
    on_board: list[StrictInt] | None = Field(
        None,
        description="What is on board, per quantity (default: from the plan).",
    )
    breaks_done: StrictInt | None = Field(None, ge=0)


class ReplanCreate(SolveSettings):
    """What changed since the plan was made."""

    states: list[VehicleStateIn] = Field(
        default_factory=list,
        description="Vehicles that have left or whose clock matters; others keep "
        "their start.",
    )
    new_orders: list[dict[str, Any]] = Field(
        default_factory=list, description="Orders booked since (scenario format)."
    )
    cancelled: list[str] = Field(
        default_factory=list, description="Ids of orders cancelled since."
    )
    promise_cost_per_hour: StrictFloat | None = Field(
        None,
        ge=0,
        le=MAX_MONEY,
        allow_inf_nan=False,
        description="Money per hour a promised ETA is overrun (default 60).",
    )
    now: Annotated[str | int, BeforeValidator(_not_bool)] | None = Field(
        None,
        description="The moment of the re-plan for the whole fleet (clock text or "
        "seconds): no vehicle leaves before it. Default: the latest `states[].time`; "
        "required when no state is given.",
    )
    move_cost: StrictFloat | None = Field(
        None,
        ge=0,
        le=MAX_MONEY,
        allow_inf_nan=False,
        description="Money charged per order moved to another vehicle than the "
        "one it was planned on (default 20; 0: moves are free).",
    )


class VariantIn(BaseModel):
    """One what-if variant of the day."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    add_vehicles: StrictInt = Field(
        0, ge=0, le=1000, description="Clones per vehicle kind."
    )
    remove_vehicles: list[str] = Field(default_factory=list)
    close_depots: list[str] = Field(default_factory=list)
    widen_slots_s: StrictInt = Field(
        0, ge=0, le=86400, description="Added to slot ends."
    )
    extend_shifts_s: StrictInt = Field(
        0, ge=0, le=86400, description="Added to shifts."
    )


class WhatifCreate(SolveSettings):
    """A day and its variants, solved side by side."""

    problem: Problem
    variants: list[VariantIn] = Field(min_length=1)


class WhatifOut(BaseModel):
    """One KPI row per solve, the day as it is (``base``) first."""

    job_id: str
    rows: list[dict[str, Any]]
    markdown: str = Field("", description="The rows as a Markdown table.")
