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
        assert db.revision() == head_revision() == "0002"
        tables = set(inspect(db.engine).get_table_names())
        assert {"plans", "plan_depots", "jobs", "promises", "api_keys"} <= tables
        with db.engine.connect() as connection:
            diff = compare_metadata(
                MigrationContext.configure(connection), Base.metadata
            )
        assert diff == []
        db.upgrade()
        assert db.revision() == "0002"
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
