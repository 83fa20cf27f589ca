"""Tests of storage: migrations build the schema on an empty database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from api.db import Base, Database, head_revision


def test_migrations_create_the_schema_on_an_empty_database(fresh_url: str) -> None:
    """`upgrade head` on an empty database creates every table, matches the ORM
    models exactly, and running it again changes nothing (SQLite, PostgreSQL)."""
    db = Database(fresh_url)
    try:
        assert db.revision() is None
        db.upgrade()
        assert db.revision() == head_revision()
        tables = set(inspect(db.engine).get_table_names())
        assert {"plans", "plan_depots", "jobs", "promises", "api_keys"} <= tables
        with db.engine.connect() as connection:
            diff = compare_metadata(
                MigrationContext.configure(connection), Base.metadata
            )
        assert diff == []
        db.upgrade()
        assert db.revision() == head_revision()
    finally:
        db.dispose()


def test_downgrade_removes_everything(sqlite_url: str) -> None:
    """Downgrading through every revision drops all the tables."""
    from alembic import command

    from api.db import alembic_config

    db = Database(sqlite_url)
    db.upgrade()
    with db.engine.begin() as connection:
        config = alembic_config(sqlite_url)
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    db.dispose()


def test_upgrade_from_0001_keeps_plans_as_drafts(fresh_url: str) -> None:
    """A database at 0001 with a plan upgrades to head: the plan is a draft, not
    stopped early, and its job has no step counts (SQLite, PostgreSQL)."""
    from alembic import command
    from sqlalchemy import text

    from api.db import PlanRow, alembic_config

    db = Database(fresh_url)
    try:
        with db.engine.begin() as connection:
            config = alembic_config(fresh_url)
            config.attributes["connection"] = connection
            command.upgrade(config, "0001")
            connection.execute(
                text(
                    "INSERT INTO plans (id, created_at, name, status, kind, "
                    "lineage_id, problem, orders) VALUES ('p1', "
                    "CURRENT_TIMESTAMP, 'old', 'solved', 'solve', 'p1', '{}', 0)"
                )
            )
        db.upgrade()
        assert db.revision() == head_revision()
        with db.session() as session:
            row = session.get(PlanRow, "p1")
            assert row is not None and row.is_stopped_early is False
            assert row.published_at is None and row.superseded_at is None
    finally:
        db.dispose()
