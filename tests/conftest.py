"""Shared fixtures: repository paths and the benchmark instances folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((REPO / "scenarios").glob("*.json"))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root (where pyproject.toml lives)."""
    return REPO


@pytest.fixture(scope="session")
def instances_dir() -> Path:
    """The shared benchmark instances folder; skips the test when it is absent."""
    path = Path(
        os.environ.get("ROUTING_INSTANCES", REPO.parent / "shared" / "instances")
    )
    if not path.is_dir():
        pytest.skip(f"benchmark instances not found at {path} (set ROUTING_INSTANCES)")
    return path
