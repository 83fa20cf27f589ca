"""Publishing plans (drafts, published, superseded), plans kept from a cancelled
search, what-if progress counts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Plain ADD COLUMN (no foreign key on superseded_by): SQLite cannot add a
    # constrained column without rebuilding the table.
    op.add_column(
        "plans",
        sa.Column(
            "is_stopped_early",
            sa.Boolean(),
            nullable=False,
            server_default=sa.false(),
        ),
    )
    op.add_column("plans", sa.Column("published_at", Stamp, nullable=True))
    op.add_column("plans", sa.Column("published_by", sa.String(32), nullable=True))
    op.add_column("plans", sa.Column("superseded_at", Stamp, nullable=True))
    op.add_column("plans", sa.Column("superseded_by", sa.String(32), nullable=True))
    op.create_index("ix_plans_published_at", "plans", ["published_at"])
    op.add_column("jobs", sa.Column("steps_done", sa.Integer(), nullable=True))
    op.add_column("jobs", sa.Column("steps_total", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("steps_total")
        batch.drop_column("steps_done")
    op.drop_index("ix_plans_published_at", table_name="plans")
    with op.batch_alter_table("plans") as batch:
        for name in (
            "superseded_by",
            "superseded_at",
            "published_by",
            "published_at",
            "is_stopped_early",
        ):
            batch.drop_column(name)
