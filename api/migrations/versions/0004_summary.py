"""Plan summary columns: depots, vehicles and the search's stop reason of every
plan, stored when it is written, so that lists and drivers' lookups read no
plan bodies; an index on ``created_at`` for the newest-first list. Existing
plans are backfilled from their stored problem and plan.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")

_plans = sa.table(
    "plans",
    sa.column("id", sa.String),
    sa.column("kind", sa.String),
    sa.column("lineage_id", sa.String),
    sa.column("created_at", sa.DateTime),
    sa.column("problem", Json),
    sa.column("plan", Json),
    sa.column("depot_ids", Json),
    sa.column("vehicle_ids", Json),
    sa.column("stop_reason", sa.String),
)


def _ids(problem: Any, key: str) -> set[str]:
    items = problem.get(key) if isinstance(problem, dict) else None
    if not isinstance(items, list):
        return set()
    return {str(x["id"]) for x in items if isinstance(x, dict) and "id" in x}


def _backfill() -> None:
    """Summaries of the stored plans, one row at a time (bodies may be large);
    first plans before re-plans, which add their lineage's vehicles."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(_plans.c.id, _plans.c.kind, _plans.c.lineage_id).order_by(
            (_plans.c.kind == "replan").asc(), _plans.c.created_at, _plans.c.id
        )
    ).all()
    vehicles_of: dict[str, list[str]] = {}
    for plan_id, kind, lineage_id in rows:
        problem, plan = bind.execute(
            sa.select(_plans.c.problem, _plans.c.plan).where(_plans.c.id == plan_id)
        ).one()
        vehicles = _ids(problem, "vehicles")
        if kind == "replan":
            vehicles |= set(vehicles_of.get(lineage_id, []))
        search = plan.get("search") if isinstance(plan, dict) else None
        reason = search.get("stop_reason") if isinstance(search, dict) else None
        vehicles_of[plan_id] = sorted(vehicles)
        bind.execute(
            _plans.update()
            .where(_plans.c.id == plan_id)
            .values(
                depot_ids=sorted(_ids(problem, "depots")),
                vehicle_ids=vehicles_of[plan_id],
                stop_reason=str(reason)[:200] if reason else None,
            )
        )


def upgrade() -> None:
    op.add_column("plans", sa.Column("depot_ids", Json, nullable=True))
    op.add_column("plans", sa.Column("vehicle_ids", Json, nullable=True))
    op.add_column("plans", sa.Column("stop_reason", sa.String(200), nullable=True))
    op.create_index("ix_plans_created_at", "plans", ["created_at"])
    _backfill()


def downgrade() -> None:
    op.drop_index("ix_plans_created_at", table_name="plans")
    with op.batch_alter_table("plans") as batch:
        for name in ("stop_reason", "vehicle_ids", "depot_ids"):
            batch.drop_column(name)
