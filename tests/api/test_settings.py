"""Tests of the service settings: environment, URLs, validation."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from api.settings import Settings


def test_environment_and_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    """ROUTING_* variables set fields; a plain postgresql URL means psycopg 3; no
    URL means the SQLite file."""
    monkeypatch.setenv("ROUTING_WORKERS", "3")
    monkeypatch.setenv("ROUTING_DATABASE_URL", "postgresql://u@db:5432/routing")
    settings = Settings()
    assert settings.workers == 3
    assert settings.url == "postgresql+psycopg://u@db:5432/routing"
    monkeypatch.delenv("ROUTING_DATABASE_URL")
    assert Settings(database_path="x.db").url == "sqlite:///x.db"


def test_inconsistent_settings_are_refused() -> None:
    """A default above the maximum, an unknown zone and no workers are errors."""
    for bad in (
        {"default_time_limit_s": 60, "max_time_limit_s": 30},
        {"wait_s": 10, "max_wait_s": 5},
        {"timezone": "Mars/Base"},
        {"workers": 0},
    ):
        with pytest.raises(ValidationError):
            Settings(**bad)  # type: ignore[arg-type]
