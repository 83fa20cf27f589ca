"""Property-based fuzzing of the OpenAPI document (schemathesis): whatever a
client sends to the cheap endpoints and validate, the answer is never a server
error, and every error has the one format. Bounded so that CI stays fast.

Plan creation is fuzzed too, on a service of its own: schemathesis's valid
(positive) ``POST /v1/plans`` bodies, cut small and made quick, and days built
valid by `valid_days` (the schema cannot say that ids refer to each other or
hold no control characters: in the short runs looked at, the schemathesis
bodies that reached the engine were the document's example under other names,
or days without orders). Each job is followed to its end.
Long run (``ROUTING_FUZZ_RECORD=table.md pytest tests/api/test_fuzz.py -m slow
-k "valid_plans_long_run or valid_days_long_run"``, 2026-11-28 on commit
03e0b95 with the service changes of 0be7ec8 and 4265f29; SQLite, 2 cores busy
with a benchmark, 7 min):

- ``POST /v1/plans``, schemathesis 4.32 positive, examples + coverage +
  fuzzing phases, 1,000 examples: 1,304 cases, 0 server errors, 0 conformance
  failures; 1,120 got the engine's 422 naming the field, 184 became jobs, all
  succeeded (134 of them with orders), each plan read back conforming;
- `valid_days`, 300 days: 300 jobs succeeded, every plan passed
  `routing.check` and accounted for its orders (162 planned, 661 unplanned with
  a reason); 14 days were left out for the two engine bugs below, which the
  first runs found (`SHIFT_OUTSIDE_DEPOT_HOURS`: a failed ``internal`` job;
  `END_DEPOT_OPENS_LATER`: a plan the checker rejects). Both were fixed in
  2726113; no generated day is left out since.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.auth import create_key
from routing.check import check_plan
from routing.formats import plan_from_dict, problem_from_dict
from routing.geo import build_travel
from tests.api.conftest import Service, start_service, test_settings, tutorial

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

_JOBS: Counter[str] = Counter()
"""How the plan jobs of the plan-creation fuzz tests ended (state, error code)."""


@pytest.fixture(scope="module", autouse=True)
def _fuzz_record() -> Iterator[None]:
    """With ROUTING_FUZZ_RECORD=FILE, write the cases run (by operation and
    status) as Markdown when the module ends: the committed run record."""
    yield
    target = os.environ.get("ROUTING_FUZZ_RECORD")
    if not target or not (_CASES or _JOBS):
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
    if _JOBS:
        lines += ["", "| plan jobs (202) ended | jobs |", "| --- | ---: |"]
        lines += [f"| {end} | {n} |" for end, n in sorted(_JOBS.items())]
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


PLAN_CREATION = r"^POST /v1/plans$"
"""Plan creation, fuzzed with valid bodies on a service of its own (its jobs
and plans stay out of the shared service)."""

SMALL = {"depots": 2, "vehicles": 3, "orders": 6}
"""At most this many of each in a fuzzed plan's problem (the rest is cut off:
a cut that leaves a reference dangling is a 422, also worth asking)."""

JOB_ENDS = {
    ("succeeded", None),
    ("failed", "invalid_input"),
    ("failed", "routing_error"),
}
"""How a plan job of a valid request may end; ``internal`` or ``interrupted``
(the engine raised, or its process died) is a server error."""


@pytest.fixture(scope="module")
def plan_service(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A private service (SQLite, a warm job process) and a dispatcher key."""
    url = f"sqlite:///{tmp_path_factory.mktemp('plan-fuzz') / 'api.sqlite3'}"
    app, client = start_service(test_settings(url, warm_worker=True))
    try:
        yield client, {"X-API-Key": create_key(app.state.db, "dispatcher")}
    finally:
        client.__exit__(None, None, None)


def _plan_schema(client: TestClient, phases: list[str]) -> Any:
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    schema.config.generation.update(modes=["positive"])
    schema.config.phases.update(phases=phases)
    return schema


@pytest.fixture
def plan_schema(plan_service: tuple[TestClient, dict[str, str]]) -> Any:
    """The private service's OpenAPI document, generating valid requests only:
    its examples and random ones (the coverage phase's few hundred boundary
    cases are left to the long run)."""
    return _plan_schema(plan_service[0], ["examples", "fuzzing"])


@pytest.fixture
def plan_schema_all(plan_service: tuple[TestClient, dict[str, str]]) -> Any:
    """As `plan_schema`, with the coverage phase too."""
    return _plan_schema(plan_service[0], ["examples", "coverage", "fuzzing"])


plans = schemathesis.pytest.from_fixture("plan_schema").include(
    name_regex=PLAN_CREATION
)
plans_all = schemathesis.pytest.from_fixture("plan_schema_all").include(
    name_regex=PLAN_CREATION
)


def _job_end(client: TestClient, job_id: str, h: dict[str, str]) -> dict[str, Any]:
    """The job once it has ended (a minute at most)."""
    deadline = time.monotonic() + 60
    while True:
        job: dict[str, Any] = client.get(f"/v1/jobs/{job_id}", headers=h).json()
        if job["state"] not in ("queued", "running"):
            return job
        assert time.monotonic() < deadline, f"job {job_id} never ended"
        time.sleep(0.05)


def _plans_conform(case: Any, plan_service: tuple[TestClient, dict[str, str]]) -> None:
    """Call with a small, quick, non-blocking version of a generated body; a
    job (202) is followed to its end, and its plan read back, both checked
    against the document too."""
    client, h = plan_service
    case.query = {"wait_s": 0}
    body = case.body
    body["time_limit_s"], body["deterministic"] = 0.2, True
    problem = body["problem"]
    for key, most in SMALL.items():
        if isinstance(problem.get(key), list):
            problem[key] = problem[key][:most]
    response = case.call_and_validate(headers=h, checks=CONFORMANCE)
    _CASES[(f"{case.method} {case.path}", response.status_code)] += 1
    if response.status_code != 202:
        return
    job_id = response.json()["id"]
    job = _job_end(client, job_id, h)
    end = (job["state"], (job["error"] or {}).get("code"))
    _JOBS["POST /v1/plans: " + " / ".join(str(e) for e in end if e)] += 1
    assert end in JOB_ENDS, job
    if job["state"] == "succeeded" and problem.get("orders"):
        _JOBS["POST /v1/plans: succeeded, with orders"] += 1
    operations = case.operation.schema
    read_back = [("/v1/jobs/{job_id}", {"job_id": job_id})]
    if job["state"] == "succeeded":
        read_back.append(("/v1/plans/{plan_id}", {"plan_id": job["plan_id"]}))
    for path, parameters in read_back:
        operations[path]["GET"].Case(path_parameters=parameters).call_and_validate(
            headers=h, checks=CONFORMANCE
        )


@plans.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_valid_plans_are_solved_without_server_errors(
    case: Any, plan_service: tuple[TestClient, dict[str, str]]
) -> None:
    """Schema-valid plan requests (problems from the Scenario schema; at most 2
    depots, 3 vehicles, 6 orders, 0.2 s, deterministic, ``wait_s=0``) get no
    5xx and conforming answers; each job reaches the engine and ends solved or
    with an input error, never an internal one, and the plan it stored
    conforms too (a short run; the long one is marked slow)."""
    _plans_conform(case, plan_service)


@pytest.mark.slow
@plans_all.parametrize()
@settings(
    max_examples=1000,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_valid_plans_long_run(
    case: Any, plan_service: tuple[TestClient, dict[str, str]]
) -> None:
    """The same as the short run, 1,000 examples (run with -m slow)."""
    _plans_conform(case, plan_service)


QUANTITIES = ["kg", "parcels"]
SKILLS = ["cold_chain", "cash"]
KINDS = ["van", "cargo_bike"]


NO_SHRINK = [Phase.explicit, Phase.generate]
"""Hypothesis phases of the generated-day tests: no shrinking (every step would
be a solve, minutes in all); a failing day is shown whole."""


def _window(draw: st.DrawFn, *, low: int = 0, high: int = 86_400) -> list[int]:
    start = draw(st.integers(low, high - 3600))
    return [start, draw(st.integers(start + 3600, high))]


def _sometimes(draw: st.DrawFn) -> bool:
    """True one time in three: optional keys are the exception, so that most
    days still have orders a vehicle can serve."""
    return draw(st.integers(0, 2)) == 0


def _place(draw: st.DrawFn) -> dict[str, float]:
    return {
        "lat": draw(st.floats(42.43, 42.65, allow_nan=False)),
        "lon": draw(st.floats(1.41, 1.78, allow_nan=False)),
    }


@st.composite
def valid_days(draw: st.DrawFn) -> dict[str, Any]:
    """A valid scenario of up to 2 depots, 3 vehicles and 6 orders (ids that
    refer to each other, windows that open before they close), with the
    optional keys mixed in: depot openings, shifts, open routes, route limits,
    skills, vehicle kinds, several slots, returns, priorities, optional orders.
    Nothing makes it feasible: orders that fit nowhere are unplanned."""
    quantities = QUANTITIES[: draw(st.integers(1, 2))]

    def amounts(most: int) -> list[int]:
        return [draw(st.integers(0, most)) for _ in quantities]

    depots = []
    for k in range(draw(st.integers(1, 2))):
        depot: dict[str, Any] = {"id": f"d-{k}", "location": _place(draw)}
        if _sometimes(draw):
            depot["opening"] = _window(draw)
        depots.append(depot)
    vehicles = []
    for k in range(draw(st.integers(0, 3))):
        start = draw(st.sampled_from(depots))["id"]
        vehicle: dict[str, Any] = {
            "id": f"v-{k}",
            "start_depot": start,
            "end_depot": draw(st.sampled_from([start, None, depots[-1]["id"]])),
            "capacity": amounts(40),
            "fixed_cost": draw(st.integers(0, 100)),
            "cost_per_km": draw(st.floats(0, 2, allow_nan=False)),
            "cost_per_hour": draw(st.floats(0, 40, allow_nan=False)),
            "kind": draw(st.sampled_from(KINDS)),
            "skills": draw(st.lists(st.sampled_from(SKILLS), unique=True)),
        }
        if _sometimes(draw):
            vehicle["shift"] = _window(draw)
        if _sometimes(draw):
            vehicle["max_stops"] = draw(st.integers(0, 6))
        if _sometimes(draw):
            vehicle["max_duration"] = draw(st.integers(600, 86_400))
        vehicles.append(vehicle)
    orders = []
    for k in range(draw(st.integers(0, 6))):
        order: dict[str, Any] = {
            "id": f"o-{k}",
            "location": _place(draw),
            "service": draw(st.integers(0, 1800)),
            "delivery": amounts(20),
            "priority": draw(st.integers(0, 10)),
        }
        slots: list[list[int]] = []
        low = 0
        for _ in range(draw(st.integers(0, 2))):
            if low > 86_400 - 3600:
                break
            slots.append(_window(draw, low=low))
            low = slots[-1][1] + 1
        if slots:
            order["windows"] = slots
        if _sometimes(draw):
            order["pickup"] = amounts(10)
        if _sometimes(draw):
            order["skills"] = draw(st.lists(st.sampled_from(SKILLS), unique=True))
        if _sometimes(draw):
            order["vehicle_kinds"] = draw(
                st.lists(st.sampled_from(KINDS), min_size=1, unique=True)
            )
        if _sometimes(draw):
            order["optional"] = True
            order["penalty"] = draw(st.integers(0, 5000))
        orders.append(order)
    return {
        "name": "fuzzed day",
        "date": tutorial()["date"],
        "quantities": quantities,
        "depots": depots,
        "vehicles": vehicles,
        "orders": orders,
    }


SHIFT_OUTSIDE_DEPOT_HOURS = {
    "name": "a shift outside its depot's hours",
    "date": tutorial()["date"],
    "depots": [
        {"id": "d", "location": {"lat": 42.5, "lon": 1.5}, "opening": [25_200, 32_400]}
    ],
    "vehicles": [
        {"id": "late", "start_depot": "d", "capacity": [10], "shift": [36_000, 64_800]},
        {"id": "any", "start_depot": "d", "capacity": [10]},
    ],
    "orders": [{"id": "o", "location": {"lat": 42.51, "lon": 1.52}, "delivery": [1]}],
}
"""Found by `valid_days`: a vehicle whose shift (10:00-18:00) misses its
depot's hours (07:00-09:00), beside one that can serve, failed the engine
("CP Solver fail" setting the start cumul's range in ``_ortools.py``): the job
failed ``internal``, although validate finds nothing wrong. Fixed in session 6
(the vehicle is left unused)."""

END_DEPOT_OPENS_LATER = {
    "name": "the end depot opens later",
    "date": tutorial()["date"],
    "depots": [
        {"id": "a", "location": {"lat": 42.587, "lon": 1.711}},
        {
            "id": "b",
            "location": {"lat": 42.64, "lon": 1.534},
            "opening": [19_800, 86_400],
        },
    ],
    "vehicles": [{"id": "v", "start_depot": "a", "end_depot": "b", "capacity": [10]}],
    "orders": [
        {
            "id": "o",
            "location": {"lat": 42.467, "lon": 1.5},
            "delivery": [1],
            "windows": [[3600, 7200]],
        }
    ],
}
"""Found by `valid_days`: a route ending at another depot than it starts from
returned to it (01:50) before it opens (05:30); the checker reported
``depot_closed``. Fixed in session 6: the vehicle waits there until it opens."""


def _solves_validly(
    problem: dict[str, Any],
    plan_service: tuple[TestClient, dict[str, str]],
) -> None:
    """Plan a valid day through the API (0.2 s, deterministic, ``wait_s=0``):
    the job succeeds and its plan passes `routing.check` and accounts for every
    order."""
    client, h = plan_service
    r = client.post(
        "/v1/plans?wait_s=0",
        json={"problem": problem, "time_limit_s": 0.2, "deterministic": True},
        headers=h,
    )
    assert r.status_code == 202, r.text
    job = _job_end(client, r.json()["id"], h)
    _JOBS[f"generated valid day: {job['state']}"] += 1
    assert job["state"] == "succeeded", (job["error"], json.dumps(problem))
    body = client.get(f"/v1/plans/{job['plan_id']}", headers=h).json()
    day = problem_from_dict(problem)
    plan = plan_from_dict(body["plan"])
    assert check_plan(day, plan, build_travel(day)) == []
    served = {v.order_id for route in plan.routes for v in route.visits}
    left = {u.order_id for u in plan.unplanned}
    assert served | left == {o["id"] for o in problem["orders"]}
    assert all(u.reason for u in plan.unplanned)
    _JOBS["generated valid day: orders planned"] += len(served)
    _JOBS["generated valid day: orders unplanned, with a reason"] += len(left)


def test_a_shift_outside_its_depots_hours_is_planned(
    plan_service: tuple[TestClient, dict[str, str]],
) -> None:
    """`SHIFT_OUTSIDE_DEPOT_HOURS` is planned (the late vehicle unused), not a
    failed job."""
    _solves_validly(SHIFT_OUTSIDE_DEPOT_HOURS, plan_service)


def test_a_route_ends_when_its_end_depot_is_open(
    plan_service: tuple[TestClient, dict[str, str]],
) -> None:
    """`END_DEPOT_OPENS_LATER` gets a plan that passes the checker."""
    _solves_validly(END_DEPOT_OPENS_LATER, plan_service)


@given(problem=valid_days())
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    phases=NO_SHRINK,
    suppress_health_check=list(HealthCheck),
)
def test_valid_days_are_solved_and_checked(
    plan_service: tuple[TestClient, dict[str, str]], problem: dict[str, Any]
) -> None:
    """Valid generated days (references that match, the optional keys mixed in)
    are accepted as jobs and solved; each plan passes the independent checker
    and accounts for every order, planned or unplanned with a reason."""
    _solves_validly(problem, plan_service)


@pytest.mark.slow
@given(problem=valid_days())
@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    phases=NO_SHRINK,
    suppress_health_check=list(HealthCheck),
)
def test_valid_days_long_run(
    plan_service: tuple[TestClient, dict[str, str]], problem: dict[str, Any]
) -> None:
    """The same as the short run, 300 days (run with -m slow)."""
    _solves_validly(problem, plan_service)


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
