"""A job queue shared by several service processes: who holds a job, until when.

``claimed_by`` names the server process that runs a job (host, pid and a random
part); ``lease_until`` is renewed by that server's heartbeat while the job runs.
A running job whose lease has lapsed belongs to a server that is gone, and only
then is it handed to another server (or the restarted one).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Plain nullable ADD COLUMNs: SQLite and PostgreSQL both add them in place.
    op.add_column("jobs", sa.Column("claimed_by", sa.String(80), nullable=True))
    op.add_column("jobs", sa.Column("lease_until", Stamp, nullable=True))
    op.create_index("ix_jobs_claimed_by", "jobs", ["claimed_by"])


def downgrade() -> None:
    op.drop_index("ix_jobs_claimed_by", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("claimed_by")
