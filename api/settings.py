"""Settings: every knob of the service, from ``ROUTING_*`` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Service settings, validated when the app is created.

    Every field can be set from the environment with the ``ROUTING_`` prefix, e.g.
    ``ROUTING_DATABASE_URL=postgresql+psycopg://user@host/db`` or
    ``ROUTING_DASK_SCHEDULER=tcp://10.0.0.5:8786``.
    """

    model_config = SettingsConfigDict(env_prefix="ROUTING_", extra="ignore")

    database_path: Path = Field(
        default=Path("routing-api.db"),
        description="SQLite file used when no database_url is given (no setup).",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL, e.g. postgresql+psycopg://user:pw@host/db; "
        "a plain postgresql:// URL is read as psycopg 3.",
    )
    migrate_on_start: bool = Field(
        default=True, description="Run `alembic upgrade head` when the app starts."
    )
    create_database: bool = Field(
        default=False,
        description="Create the SQLite file when it does not exist (mode 0600). "
        "Otherwise a missing file is refused at start: a mistyped path must not "
        "start an empty service. `routing-api` creates the default file itself.",
    )
    wait_s: float = Field(
        default=2.0,
        ge=0,
        le=60,
        description="Default time a create request waits for its solve to finish "
        "before answering 202 with a job id.",
    )
    max_wait_s: float = Field(default=30.0, ge=0, le=600)
    default_time_limit_s: float = Field(default=10.0, gt=0)
    max_time_limit_s: float = Field(default=300.0, gt=0)
    max_orders: int = Field(
        default=2000,
        ge=1,
        description="Orders per request; a re-plan counts the plan's remaining "
        "orders plus the new ones.",
    )
    max_depots: int = Field(default=100, ge=1, description="Depots per request.")
    max_vehicles: int = Field(
        default=500,
        ge=1,
        description="Vehicles per request (what-if: with a variant's added ones).",
    )
    max_locations: int = Field(
        default=2100,
        ge=2,
        description="Travel-matrix rows per request: depots + orders (re-plans: "
        "+ the vehicles' positions).",
    )
    max_matrix_cells: int = Field(
        default=10_000_000,
        ge=1,
        description="Travel-matrix cells per request: locations² x speed "
        "profiles, a geodesic cell counting 200 (api.limits.GEODESIC_CELL_COST). "
        "10 million: 2,100 locations with 2 profiles (about 0.3 GB in a worker).",
    )
    validate_matrix_cells: int = Field(
        default=250_000,
        ge=0,
        description="/v1/validate builds travel times in the service's process "
        "only up to this many (weighted) cells (500 locations: ~10 ms); above, it "
        "reports the findings that hold for any travel times "
        "(travel_checked false).",
    )
    max_variants: int = Field(default=8, ge=1)
    max_body_bytes: int = Field(default=5_000_000, ge=1024)
    workers: int = Field(
        default=1, ge=1, le=64, description="Jobs that run at once (one process each)."
    )
    warm_worker: bool = Field(
        default=True,
        description="Keep one job process started ahead, the engine imported, so "
        "that a job starts at once (saves ~1 s per job).",
    )
    queue_size: int = Field(
        default=16,
        ge=0,
        description="Jobs that may wait for a worker; beyond that: 429.",
    )
    retry_after_s: int = Field(default=10, ge=1)
    solver_searches: int = Field(
        default=1,
        ge=1,
        le=8,
        description="Searches side by side inside one solve (SolveOptions.workers).",
    )
    variant_workers: int = Field(
        default=1,
        ge=1,
        le=16,
        description="What-if variants solved side by side inside one local job.",
    )
    dask_scheduler: str | None = Field(
        default=None,
        description="Address of a Dask scheduler; when set, jobs and what-if "
        "variants run on that cluster instead of local processes.",
    )
    recovery: Literal["rerun", "fail"] = Field(
        default="rerun",
        description="On start, jobs left queued or running by a stopped service are "
        "re-run ('rerun') or marked failed and resumable ('fail').",
    )
    max_attempts: int = Field(default=3, ge=1)
    stop_grace_s: float = Field(
        default=10.0,
        ge=0,
        le=3600,
        description="On stop (SIGTERM): how long running jobs may go on before "
        "they are killed and queued again; the process exits by then.",
    )
    lease_s: float = Field(
        default=30.0,
        ge=0.5,
        le=3600,
        description="A running job's lease, renewed by its server's heartbeat; "
        "a job whose lease lapsed (its server is gone) is re-queued.",
    )
    poll_s: float = Field(
        default=0.5,
        gt=0,
        le=10,
        description="How often servers sharing a PostgreSQL queue look for jobs, "
        "cancels and results of other servers.",
    )
    timezone: str = Field(
        default="UTC", description="Zone of 'today' for drivers' plans."
    )
    retention_days: int | None = Field(
        default=None,
        ge=1,
        description="Delete plans (with their jobs and customers' promises) whose "
        "day is more than this many days before today, at start-up and every "
        "retention_sweep_s; None (the default): keep everything.",
    )
    retention_sweep_s: float = Field(default=3600.0, gt=0)
    log_level: str = "INFO"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.default_time_limit_s > self.max_time_limit_s:
            raise ValueError("default_time_limit_s exceeds max_time_limit_s")
        if self.wait_s > self.max_wait_s:
            raise ValueError("wait_s exceeds max_wait_s")
        return self

    @property
    def url(self) -> str:
        """The SQLAlchemy URL in effect (psycopg 3 for a plain postgresql URL)."""
        if self.database_url:
            url = self.database_url
            for plain in ("postgresql://", "postgres://"):
                if url.startswith(plain):
                    return "postgresql+psycopg://" + url[len(plain) :]
            return url
        return f"sqlite:///{self.database_path}"
