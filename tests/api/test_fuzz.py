"""Property-based fuzzing of the OpenAPI document (schemathesis): whatever a
client sends to the cheap endpoints and validate, the answer is never a server
error, and every error has the one format. Bounded so that CI stays fast."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import Service, tutorial

CHEAP = r"^(GET /v1/.*|POST /v1/validate)$"
"""The operations fuzzed: every read, and validate (no solve, nothing stored)."""


@pytest.fixture
def api_schema(service: Service) -> Any:
    """The service's OpenAPI document (fuzzed on SQLite only: the backends
    share every handler; text only PostgreSQL refuses has its own test)."""
    if service.settings.url.startswith("postgresql"):
        pytest.skip("fuzzed on SQLite")
    return schemathesis.openapi.from_asgi("/openapi.json", service.app)


fuzzed = schemathesis.pytest.from_fixture("api_schema").include(name_regex=CHEAP)


@fuzzed.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors(case: Any, service: Service) -> None:
    """Generated requests (with a dispatcher key) never get a 5xx other than
    readiness' 503, and every 4xx is {code, message, path}."""
    response = case.call(headers=service.headers("dispatcher"))
    assert response.status_code < 500 or (
        case.path == "/v1/ready" and response.status_code == 503
    ), response.text
    if 400 <= response.status_code < 500:
        body = response.json()
        assert {"code", "message", "path"} <= set(body), body


POSITIVE = r"^(GET /v1/.*|POST /v1/validate)$"
"""Operations fuzzed with valid (schema-conforming) inputs: every read and
validate (typed problems: the Scenario schema). Creating plans, re-plans and
what-if would only fill the job queue; deleting would delete the shared plan."""

CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
"""What every answer is checked for: no 5xx, a documented status, the
documented media type, a body matching its schema."""


@pytest.fixture
def positive_schema(service: Service) -> Any:
    """The OpenAPI document, generating valid (positive) requests only."""
    if service.settings.url.startswith("postgresql"):
        pytest.skip("fuzzed on SQLite")
    schema = schemathesis.openapi.from_asgi("/openapi.json", service.app)
    schema.config.generation.update(modes=["positive"])
    return schema


positive = schemathesis.pytest.from_fixture("positive_schema").include(
    name_regex=POSITIVE
)


_CASES: Counter[tuple[str, int]] = Counter()
"""Cases run by the positive fuzz tests, by operation and status."""


@pytest.fixture(scope="module", autouse=True)
def _fuzz_record() -> Iterator[None]:
    """With ROUTING_FUZZ_RECORD=FILE, write the cases run (by operation and
    status) as Markdown when the module ends: the committed run record."""
    yield
    target = os.environ.get("ROUTING_FUZZ_RECORD")
    if not target or not _CASES:
        return
    operations = sorted({op for op, _ in _CASES})
    lines = [
        "| operation | cases | statuses | 5xx |",
        "| --- | ---: | --- | ---: |",
    ]
    for op in operations:
        statuses = {code: n for (o, code), n in _CASES.items() if o == op}
        shown = ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items()))
        errors = sum(n for code, n in statuses.items() if code >= 500)
        lines.append(f"| `{op}` | {sum(statuses.values())} | {shown} | {errors} |")
    total = sum(_CASES.values())
    errors = sum(n for (_, code), n in _CASES.items() if code >= 500)
    lines.append(f"| all | {total} | | {errors} |")
    Path(target).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _conforms(case: Any, service: Service) -> None:
    response = case.call_and_validate(
        headers=service.headers("dispatcher"), checks=CONFORMANCE
    )
    _CASES[(f"{case.method} {case.path}", response.status_code)] += 1
    if case.path == "/v1/ready":
        assert response.status_code in (200, 503)


@positive.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_valid_requests_conform_to_the_openapi_document(
    case: Any, service: Service
) -> None:
    """Schema-valid requests (problems built from the Scenario schema) get no
    5xx, only documented statuses and media types, and bodies that match their
    schemas (a short run; the long one is marked slow)."""
    _conforms(case, service)


@pytest.mark.slow
@positive.parametrize()
@settings(
    max_examples=1000,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_valid_requests_conform_long_run(case: Any, service: Service) -> None:
    """The same as the short run, 1,000 examples per operation (run with -m slow;
    its record: benchmarks/results/service-fuzz.md)."""
    _conforms(case, service)


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
"""Any JSON value (big integers too; not NaN or infinity, which JSON cannot carry)."""


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for k, item in enumerate(value):
            out += _paths(item, (*prefix, k))
    return out


TUTORIAL_PATHS = _paths(tutorial())


@given(where=st.sampled_from(TUTORIAL_PATHS[1:]), value=JSON)
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_a_scenario_with_any_value_anywhere_is_never_a_server_error(
    service: Service, where: tuple[Any, ...], value: Any
) -> None:
    """The tutorial with any JSON value put at any place validates to 200 or a
    422 naming a field: never a 500."""
    problem = tutorial()
    target: Any = problem
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    r = service.client.post(
        "/v1/validate", json={"problem": problem}, headers=service.headers("planner")
    )
    assert r.status_code in (200, 413, 422), r.text
    if r.status_code == 422:
        assert r.json()["code"] in ("invalid_input", "routing_error"), r.json()
