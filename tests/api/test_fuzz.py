"""Property-based fuzzing of the OpenAPI document (schemathesis): whatever a
client sends to the cheap endpoints and validate, the answer is never a server
error, and every error has the one format. Bounded so that CI stays fast."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
