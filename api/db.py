"""Storage: the engine, sessions, ORM models and schema migrations (Alembic)."""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    create_engine,
    event,
    inspect,
    make_url,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    sessionmaker,
)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
"""The Alembic script folder (env.py and versions/)."""

Json = JSON().with_variant(JSONB(), "postgresql")
"""JSON everywhere, JSONB on PostgreSQL (indexable, compact)."""


def now() -> datetime:
    """The current time, timezone-aware UTC (stored as such)."""
    return datetime.now(UTC)


def new_id() -> str:
    """A new opaque id: 32 hex digits."""
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    """Base class of the ORM models."""


class PlanRow(Base):
    """A plan with its problem: the unit dispatchers read, re-plan and notify from.

    ``status`` is ``pending`` while its job runs, then the plan's own status
    (``solved``, ``partial``, ``no_solution``), or ``failed`` / ``cancelled``. A
    job cancelled after its search found routes keeps them: the plan then has
    its own status and ``is_stopped_early``.

    Every plan is a draft until a dispatcher publishes it (``published_at``,
    ``published_by``); publishing a plan of a day supersedes the plan of that
    day published before (``superseded_at``, ``superseded_by``: the plan that
    replaced it). Drivers and customers see only published plans.
    ``lineage_id`` is the id of the first plan of a chain of re-plans (its own id
    for an original plan): customers' promises are kept per lineage. A re-plan's
    ``replan`` says what it started from: orders done, stops pinned first,
    vehicles left out, and ``chain``, every change since the lineage's first plan
    (served, cancelled and new orders), from which the next re-plan starts.
    """

    __tablename__ = "plans"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=now, index=True
    )
    name: Mapped[str] = mapped_column(String(200), default="")
    day: Mapped[str | None] = mapped_column(String(10), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    kind: Mapped[str] = mapped_column(String(10), default="solve")
    parent_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("plans.id"), index=True
    )
    lineage_id: Mapped[str] = mapped_column(String(32), index=True)
    problem: Mapped[dict[str, Any]] = mapped_column(Json)
    plan: Mapped[dict[str, Any] | None] = mapped_column(Json)
    eta_changes: Mapped[list[Any] | None] = mapped_column(Json)
    replan: Mapped[dict[str, Any] | None] = mapped_column(Json)
    cost: Mapped[float | None] = mapped_column(Float)
    orders: Mapped[int] = mapped_column(Integer, default=0)
    unplanned: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str | None] = mapped_column(String(32))
    is_stopped_early: Mapped[bool] = mapped_column(Boolean, default=False)
    published_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), index=True
    )
    published_by: Mapped[str | None] = mapped_column(String(32))
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    superseded_by: Mapped[str | None] = mapped_column(String(32))
    # Summary columns (migration 0004), kept by `_summarize` whenever a plan is
    # written, so that lists and driver lookups never read the JSON bodies.
    depot_ids: Mapped[list[str] | None] = mapped_column(Json)
    vehicle_ids: Mapped[list[str] | None] = mapped_column(Json)
    stop_reason: Mapped[str | None] = mapped_column(String(200))


SUMMARY_SOURCES = ("problem", "plan", "replan", "lineage_id", "kind")
"""The PlanRow attributes the summary columns are derived from."""


def summary_of(
    problem: Any, plan: Any, *, root_vehicles: list[str] | None = None
) -> dict[str, Any]:
    """The summary columns of a plan: sorted depot ids, vehicle ids (a re-plan's
    with those of its lineage's first plan, whose drivers it may serve), the
    search's stop reason (``plan.search.stop_reason``)."""
    problem = problem if isinstance(problem, dict) else {}

    def ids(key: str) -> list[str]:
        items = problem.get(key)
        if not isinstance(items, list):
            return []
        return [str(x["id"]) for x in items if isinstance(x, dict) and "id" in x]

    search = plan.get("search") if isinstance(plan, dict) else None
    reason = search.get("stop_reason") if isinstance(search, dict) else None
    return {
        "depot_ids": sorted(set(ids("depots"))),
        "vehicle_ids": sorted(set(ids("vehicles")) | set(root_vehicles or [])),
        "stop_reason": str(reason)[:200] if reason else None,
    }


@event.listens_for(PlanRow, "before_insert")
@event.listens_for(PlanRow, "before_update")
def _summarize(_mapper: Any, connection: Any, target: PlanRow) -> None:
    """Fill a plan's summary columns from its problem and plan as it is written
    (any write through the ORM: jobs storing results, re-plans, publishing)."""
    from sqlalchemy import inspect as sa_inspect
    from sqlalchemy import select

    state = sa_inspect(target)
    if state.persistent and not any(
        state.attrs[name].history.has_changes() for name in SUMMARY_SOURCES
    ):
        return
    root_vehicles = None
    if target.kind == "replan" and target.lineage_id != target.id:
        root_vehicles = connection.execute(
            select(PlanRow.vehicle_ids).where(PlanRow.id == target.lineage_id)
        ).scalar()
    values = summary_of(target.problem, target.plan, root_vehicles=root_vehicles)
    for key, value in values.items():
        setattr(target, key, value)


class PlanDepotRow(Base):
    """Which depots a plan involves (for listing by depot and key scopes)."""

    __tablename__ = "plan_depots"

    plan_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True
    )
    depot_id: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)


class JobRow(Base):
    """A unit of background work: a solve, a re-plan or a what-if comparison.

    ``state`` is ``queued``, ``running``, ``succeeded``, ``failed`` or
    ``cancelled``. ``request`` holds everything needed to run it again after a
    restart; ``result`` the outcome of jobs that produce no plan (what-if).
    Progress: ``best_cost`` and ``elapsed_s`` of the search; what-if jobs also
    count their solves (``steps_done`` of ``steps_total``). A running job is
    held by one server process (``claimed_by``) until ``lease_until``, which
    that server's heartbeat renews; a lapsed lease means the server is gone.
    """

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(12), index=True)
    plan_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("plans.id"), index=True
    )
    depots: Mapped[list[str]] = mapped_column(Json, default=list)
    request: Mapped[dict[str, Any]] = mapped_column(Json)
    result: Mapped[dict[str, Any] | None] = mapped_column(Json)
    error: Mapped[dict[str, Any] | None] = mapped_column(Json)
    is_resumable: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    best_cost: Mapped[float | None] = mapped_column(Float)
    elapsed_s: Mapped[float | None] = mapped_column(Float)
    steps_done: Mapped[int | None] = mapped_column(Integer)
    steps_total: Mapped[int | None] = mapped_column(Integer)
    time_limit_s: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str | None] = mapped_column(String(32))
    claimed_by: Mapped[str | None] = mapped_column(String(80), index=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PromiseRow(Base):
    """What a customer was told: the arrival range and call-ahead time of a notice.

    Kept per plan lineage and order; re-plans compare their new ETAs with the
    latest promise of each order.
    """

    __tablename__ = "promises"
    __table_args__ = (Index("ix_promises_lineage_order", "lineage_id", "order_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lineage_id: Mapped[str] = mapped_column(String(32))
    plan_id: Mapped[str] = mapped_column(String(32), ForeignKey("plans.id"))
    order_id: Mapped[str] = mapped_column(String(200))
    moment: Mapped[str] = mapped_column(String(10))
    promise: Mapped[dict[str, Any]] = mapped_column(Json)
    text: Mapped[str] = mapped_column(Text, default="")
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class ApiKeyRow(Base):
    """An API key: only a SHA-256 of the secret is kept, never the key itself.

    ``depots`` limits dispatcher and planner keys to those depots (None: all);
    ``vehicle_id`` binds a driver key to one vehicle.
    """

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(12))
    depots: Mapped[list[str] | None] = mapped_column(Json)
    vehicle_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    is_revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class MissingDatabase(ValueError):
    """The SQLite file the settings name does not exist (and creating it was not
    asked for)."""


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None: not SQLite, or in memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def create_sqlite_file(path: Path) -> bool:
    """Create an empty SQLite file readable by its owner only (0600); an empty
    file is an empty database. Returns False when it existed already."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def check_database(url: str, *, create: bool) -> None:
    """Refuse a SQLite URL whose file is missing, unless ``create``: then
    create it (0600). Other databases are checked when connecting.

    Raises
    ------
    MissingDatabase
        The file does not exist and ``create`` is False, or its folder is
        missing.
    """
    path = sqlite_file(url)
    if path is None or path.exists():
        return
    if not path.parent.is_dir():
        raise MissingDatabase(
            f"database folder {str(path.parent)!r} does not exist (database {url})"
        )
    if not create:
        raise MissingDatabase(
            f"database file {str(path)!r} does not exist; check ROUTING_DATABASE_URL "
            "/ ROUTING_DATABASE_PATH, or create it: `routing-api migrate --create` "
            "or ROUTING_CREATE_DATABASE=true"
        )
    create_sqlite_file(path)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and foreign keys.

    The service writes from request threads and the job runner at once; WAL lets
    readers go on while one writes, and the timeout makes writers wait their turn
    instead of failing with "database is locked".
    """
    if url.startswith("sqlite"):
        path = sqlite_file(url)
        if path is not None and path.parent.is_dir():
            # Plans hold customers' addresses: whoever creates the file, it is
            # the owner's only (SQLite gives -wal and -shm the file's mode).
            create_sqlite_file(path)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


class Database:
    """An engine and its session factory.

    Parameters
    ----------
    url
        SQLAlchemy URL.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success, rolled back on error: one transaction."""
        with self._sessions() as session, session.begin():
            yield session

    def upgrade(self) -> None:
        """Bring the schema to the newest migration (`alembic upgrade head`)."""
        from alembic import command

        with self.engine.begin() as connection:
            config = alembic_config(self.url)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def revision(self) -> str | None:
        """The schema's current Alembic revision (None for an empty database).

        Read from ``alembic_version`` directly: Alembic's MigrationContext logs
        two lines per call, and readiness asks on every probe.
        """
        with self.engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            row = connection.execute(
                text("SELECT version_num FROM alembic_version")
            ).first()
            return None if row is None else str(row[0])

    def is_missing(self) -> bool:
        """Whether this is a SQLite database whose file is gone (moved or
        deleted under a running service)."""
        path = sqlite_file(self.url)
        return path is not None and not path.exists()

    def dispose(self) -> None:
        """Close the pooled connections."""
        self.engine.dispose()


@functools.cache
def head_revision() -> str | None:
    """The newest migration in ``api/migrations/versions``."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def alembic_config(url: str) -> Any:
    """An Alembic Config for our migrations folder and ``url``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config
