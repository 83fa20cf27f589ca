"""Retention: plans older than ``Settings.retention_days`` are deleted, with
their jobs and their customers' promises, at start-up and then periodically."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, delete, or_, select

from api import store
from api.db import Database, JobRow, PlanRow
from api.settings import Settings

logger = logging.getLogger(__name__)


def cutoff_day(settings: Settings) -> str | None:
    """The first day kept (ISO), or None when retention is off."""
    if settings.retention_days is None:
        return None
    first = date.fromisoformat(store.today(settings))
    return (first - timedelta(days=settings.retention_days)).isoformat()


def sweep(db: Database, settings: Settings) -> dict[str, int]:
    """Delete what is older than the retention: plans whose day (else the day
    they were made) is before `cutoff_day`, with their re-plans, jobs and
    promises, and finished what-if jobs made before it. A plan with a queued or
    running job is kept, with the plans it was re-planned from.

    Returns the counts of deleted rows (empty when retention is off).
    """
    first = cutoff_day(settings)
    if first is None:
        return {}
    since = datetime.combine(date.fromisoformat(first), time(), tzinfo=UTC)
    with db.session() as session:
        old = session.scalars(
            select(PlanRow.id).where(
                or_(
                    and_(PlanRow.day.is_not(None), PlanRow.day < first),
                    and_(PlanRow.day.is_(None), PlanRow.created_at < since),
                )
            )
        ).all()
        ids = store.with_replans(session, old)
        keep = {job.plan_id for job in store.active_jobs(session, ids)}
        frontier = list(keep)
        while frontier:  # keep the plans a busy re-plan was made from
            parents = session.scalars(
                select(PlanRow.parent_id).where(
                    PlanRow.id.in_(frontier), PlanRow.parent_id.is_not(None)
                )
            ).all()
            frontier = [p for p in parents if p is not None and p not in keep]
            keep.update(frontier)
        counts = store.delete_plans(session, [i for i in ids if i not in keep])
        whatif = session.execute(
            delete(JobRow).where(
                JobRow.plan_id.is_(None),
                JobRow.created_at < since,
                JobRow.state.not_in(store.ACTIVE_JOB_STATES),
            ),
            execution_options={"synchronize_session": False},
        )
        counts["jobs"] += int(getattr(whatif, "rowcount", 0) or 0)
    if counts["plans"] or counts["jobs"]:
        logger.info("retention (days before %s): deleted %s", first, counts)
    return counts


class RetentionSweeper:
    """Runs `sweep` now and then every ``retention_sweep_s`` in a daemon thread
    (nothing when retention is off).

    Parameters
    ----------
    db, settings
        The service's database and settings.
    """

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Sweep once now (before requests are served), then periodically."""
        if self.settings.retention_days is None:
            return
        self._run_once()
        self._thread = threading.Thread(
            target=self._loop, name="retention", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """End the periodic sweep."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self.settings.retention_sweep_s):
            self._run_once()

    def _run_once(self) -> None:
        try:
            sweep(self.db, self.settings)
        except Exception:  # a failed sweep must not stop the service
            logger.exception("retention sweep failed")
