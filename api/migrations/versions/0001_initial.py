"""Initial schema: plans, plan depots, jobs, promises, API keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("day", sa.String(10), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("parent_id", sa.String(32), sa.ForeignKey("plans.id"), nullable=True),
        sa.Column("lineage_id", sa.String(32), nullable=False),
        sa.Column("problem", Json, nullable=False),
        sa.Column("plan", Json, nullable=True),
        sa.Column("eta_changes", Json, nullable=True),
        sa.Column("replan", Json, nullable=True),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("unplanned", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(32), nullable=True),
    )
    op.create_index("ix_plans_day", "plans", ["day"])
    op.create_index("ix_plans_status", "plans", ["status"])
    op.create_index("ix_plans_parent_id", "plans", ["parent_id"])
    op.create_index("ix_plans_lineage_id", "plans", ["lineage_id"])
    op.create_table(
        "plan_depots",
        sa.Column(
            "plan_id",
            sa.String(32),
            sa.ForeignKey("plans.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("depot_id", sa.String(200), primary_key=True),
    )
    op.create_index("ix_plan_depots_depot_id", "plan_depots", ["depot_id"])
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("plan_id", sa.String(32), sa.ForeignKey("plans.id"), nullable=True),
        sa.Column("depots", Json, nullable=False),
        sa.Column("request", Json, nullable=False),
        sa.Column("result", Json, nullable=True),
        sa.Column("error", Json, nullable=True),
        sa.Column("is_resumable", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("best_cost", sa.Float(), nullable=True),
        sa.Column("elapsed_s", sa.Float(), nullable=True),
        sa.Column("time_limit_s", sa.Float(), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("started_at", Stamp, nullable=True),
        sa.Column("finished_at", Stamp, nullable=True),
        sa.Column("created_by", sa.String(32), nullable=True),
    )
    op.create_index("ix_jobs_state", "jobs", ["state"])
    op.create_index("ix_jobs_plan_id", "jobs", ["plan_id"])
    op.create_table(
        "promises",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("lineage_id", sa.String(32), nullable=False),
        sa.Column("plan_id", sa.String(32), sa.ForeignKey("plans.id"), nullable=False),
        sa.Column("order_id", sa.String(200), nullable=False),
        sa.Column("moment", sa.String(10), nullable=False),
        sa.Column("promise", Json, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("issued_at", Stamp, nullable=False),
    )
    op.create_index("ix_promises_lineage_order", "promises", ["lineage_id", "order_id"])
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(12), nullable=False),
        sa.Column("depots", Json, nullable=True),
        sa.Column("vehicle_id", sa.String(200), nullable=True),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("is_revoked", sa.Boolean(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("api_keys")
    op.drop_index("ix_promises_lineage_order", table_name="promises")
    op.drop_table("promises")
    op.drop_index("ix_jobs_plan_id", table_name="jobs")
    op.drop_index("ix_jobs_state", table_name="jobs")
    op.drop_table("jobs")
    op.drop_index("ix_plan_depots_depot_id", table_name="plan_depots")
    op.drop_table("plan_depots")
    for name in ("lineage_id", "parent_id", "status", "day"):
        op.drop_index(f"ix_plans_{name}", table_name="plans")
    op.drop_table("plans")
