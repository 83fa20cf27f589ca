"""Tests of the job process protocol (python -m api.worker)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.api.conftest import tutorial


def _run(payload: dict[str, object]) -> list[dict[str, object]]:
    out = subprocess.run(
        [sys.executable, "-m", "api.worker"],
        input=json.dumps(payload).encode(),
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    return [json.loads(line) for line in out.splitlines()]


def test_worker_reports_progress_then_a_result() -> None:
    """A solve prints progress lines, then one result with the plan and no
    checker findings; nothing else reaches stdout."""
    lines = _run(
        {
            "kind": "solve",
            "problem": tutorial(),
            "options": {"time_limit_s": 1, "is_deterministic": True},
        }
    )
    *progress, final = lines
    assert final["type"] == "result" and final["violations"] == []
    assert final["plan"]["status"] == "solved"  # type: ignore[index]
    assert all(p["type"] == "progress" and p["best_cost"] for p in progress)


def test_worker_reports_errors_in_the_api_format() -> None:
    """An invalid problem ends with one error line naming field and entity."""
    problem = tutorial()
    problem["orders"][0]["service"] = -5
    (line,) = _run({"kind": "solve", "problem": problem, "options": {}})
    assert line["type"] == "error" and line["code"] == "invalid_input"
    assert line["path"] == "orders[0].service" and line["entity_id"] == "o-01"
