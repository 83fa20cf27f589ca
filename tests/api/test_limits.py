"""Tests of the request limits (issue 12): every request's work is bounded before
it starts (413 naming the field, at once), numbers out of range and booleans are
422 naming the field, the order limit covers a re-planned plan's total, and one
id rule holds on both databases."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.db import ApiKeyRow, PlanDepotRow, PlanRow, PromiseRow
from api.limits import GEODESIC_CELL_COST, Size, size_of
from api.settings import Settings
from routing.formats import MAX_ID_LENGTH
from tests.api.conftest import Service, publish, tutorial, visits

MakeService = Callable[..., tuple[FastAPI, TestClient, dict[str, str]]]

FAST_S = 2.0
"""A refused request answers within this (it did minutes of work before)."""


def _many_depots(n: int, *, orders: int = 0, travel: Any = None) -> dict[str, Any]:
    """A problem with ``n`` depots (and ``orders`` orders), compact JSON."""
    problem = tutorial()
    problem["depots"] = [
        {"id": f"d{i}", "location": {"lat": 42.0 + i * 1e-5, "lon": 1.5}}
        for i in range(n)
    ]
    problem["vehicles"] = [
        {"id": "v", "start_depot": "d0", "capacity": [600, 60]},
    ]
    problem["orders"] = [
        {"id": f"o{i}", "location": {"lat": 42.1, "lon": 1.5 + i * 1e-5}}
        for i in range(orders)
    ]
    if travel is not None:
        problem["travel"] = travel
    return problem


def _post(client: TestClient, url: str, body: Any, headers: dict[str, str]) -> Any:
    """POST compact JSON; the response and its seconds."""
    data = json.dumps(body, separators=(",", ":"))
    started = time.monotonic()
    r = client.post(
        url, content=data, headers={**headers, "Content-Type": "application/json"}
    )
    return r, time.monotonic() - started


def test_defaults_are_documented_values() -> None:
    """The limits' defaults (README "Service")."""
    s = Settings()
    assert (s.max_depots, s.max_vehicles, s.max_orders, s.max_locations) == (
        100,
        500,
        2000,
        2100,
    )
    assert (s.max_matrix_cells, s.validate_matrix_cells) == (10_000_000, 250_000)


@pytest.mark.parametrize("url", ["/v1/validate", "/v1/plans", "/v1/whatif"])
def test_6000_depots_in_a_third_of_a_megabyte_are_refused_at_once(
    make_service: MakeService, url: str
) -> None:
    """The reported case: 6,000 depots in a 0.33 MB body (1.79 GB of matrix in
    the API process before) are a 413 naming problem.depots, fast."""
    _, client, h = make_service(max_body_bytes=1_000_000)
    body: dict[str, Any] = {"problem": _many_depots(6000)}
    if url == "/v1/whatif":
        body["variants"] = [{"name": "x"}]
    assert 300_000 < len(json.dumps(body, separators=(",", ":"))) < 400_000
    r, seconds = _post(client, url, body, h)
    assert r.status_code == 413, r.text
    assert (r.json()["code"], r.json()["path"]) == ("too_large", "problem.depots")
    assert seconds < FAST_S


def test_2000_depots_and_2000_orders_geodesic_are_refused_at_once(
    make_service: MakeService,
) -> None:
    """The reported case: 2,000 depots + 2,000 orders with the geodesic provider
    (over 300 s of work in the API process before) are refused at once: by the
    depot limit with the defaults, by the location and cell limits when those
    are raised."""
    problem = _many_depots(2000, orders=2000, travel={"provider": "geodesic"})
    _, client, h = make_service(max_body_bytes=2_000_000, max_orders=2000)
    r, seconds = _post(client, "/v1/validate", {"problem": problem}, h)
    assert (r.status_code, r.json()["path"]) == (413, "problem.depots"), r.text
    assert seconds < FAST_S
    _, client, h = make_service(
        max_body_bytes=2_000_000,
        max_orders=2000,
        max_depots=2000,
        max_locations=10_000,
    )
    r, seconds = _post(client, "/v1/validate", {"problem": problem}, h)
    assert (r.status_code, r.json()["path"]) == (413, "problem"), r.text
    assert "16,000,000 travel-matrix cells" in r.json()["message"]
    assert seconds < FAST_S


def test_geodesic_cells_count_more(make_service: MakeService) -> None:
    """300 locations are 90,000 cells: fine with haversine, too much work with
    the geodesic provider (x200): a 413 naming problem.travel.provider."""
    _, client, h = make_service(max_orders=300)
    problem = _many_depots(1, orders=299)
    r, _ = _post(client, "/v1/validate", {"problem": problem}, h)
    assert r.status_code == 200, r.text
    problem["travel"] = {"provider": "geodesic"}
    r, seconds = _post(client, "/v1/validate", {"problem": problem}, h)
    assert r.status_code == 413, r.text
    assert r.json()["path"] == "problem.travel.provider"
    assert seconds < FAST_S


def test_size_counts_profiles_and_positions() -> None:
    """Cells are locations² per speed profile; re-plan positions add rows."""
    problem = tutorial()
    problem["vehicles"][1]["profile"] = "bike"
    size = size_of(problem)
    assert (size.depots, size.vehicles, size.orders, size.profiles) == (1, 2, 12, 2)
    assert size.cells == 13**2 * 2
    geo = Size(1, 1, 9, 1, "geodesic", extra_locations=2)
    assert geo.locations == 12
    assert geo.work == 144 * GEODESIC_CELL_COST


def test_vehicle_and_location_limits(make_service: MakeService) -> None:
    """Too many vehicles (also with a what-if variant's added ones) or locations
    are 413 naming the field."""
    _, client, h = make_service(max_vehicles=3, max_locations=12)
    r = client.post("/v1/validate", json={"problem": tutorial()}, headers=h)
    assert (r.status_code, r.json()["path"]) == (413, "problem.orders"), r.text
    assert "13 locations (1 depots + 12 orders)" in r.json()["message"]
    _, client, h = make_service(max_vehicles=3)
    problem = tutorial()
    problem["vehicles"] += [
        {**problem["vehicles"][0], "id": f"extra-{i}"} for i in range(2)
    ]
    r = client.post("/v1/validate", json={"problem": problem}, headers=h)
    assert (r.status_code, r.json()["path"]) == (413, "problem.vehicles"), r.text
    r = client.post(
        "/v1/whatif",
        json={
            "problem": tutorial(),
            "variants": [
                {"name": "ok", "add_vehicles": 1},
                {"name": "big", "add_vehicles": 2},
            ],
        },
        headers=h,
    )
    assert (r.status_code, r.json()["path"]) == (413, "variants[1].add_vehicles")


def test_validate_builds_travel_only_for_small_problems(
    make_service: MakeService,
) -> None:
    """Below validate_matrix_cells validate uses travel times; above, it checks
    without them (travel_checked false) and still reports what holds for any
    travel: here an order heavier than every van."""
    problem = tutorial()
    problem["orders"][2]["delivery"] = [9999, 1]
    for cells, checked in ((250_000, True), (100, False)):
        _, client, h = make_service(validate_matrix_cells=cells)
        r = client.post("/v1/validate", json={"problem": problem}, headers=h)
        assert r.status_code == 200, r.text
        assert r.json()["travel_checked"] is checked
        assert [f["order_id"] for f in r.json()["findings"]] == ["o-03"]


def test_slot_out_of_reach_needs_travel(make_service: MakeService) -> None:
    """A slot only travel time puts out of reach is found with travel times
    and, soundly, not claimed without them."""
    problem = tutorial()
    problem["orders"][0]["windows"] = [["08:00", "08:00"]]
    problem["vehicles"][0]["shift"] = ["08:00", "17:00"]
    problem["vehicles"][1]["shift"] = ["08:00", "17:00"]
    found = {}
    for cells in (250_000, 100):
        _, client, h = make_service(validate_matrix_cells=cells)
        r = client.post("/v1/validate", json={"problem": problem}, headers=h)
        assert r.status_code == 200, r.text
        found[cells] = {f["order_id"] for f in r.json()["findings"]}
    assert "o-01" in found[250_000]
    assert "o-01" not in found[100]


# ------------------------------------------------------------------ numbers (2)

TUTORIAL_NUMBERS = [
    path
    for path in (
        ("vehicles", 0, "cost_per_km"),
        ("vehicles", 0, "capacity", 0),
        ("orders", 3, "service"),
        ("orders", 1, "delivery", 1),
        ("depots", 0, "location", "lat"),
        ("orders", 5, "location", "lon"),
    )
]


def _numeric_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [path]
    items: Any = ()
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    return [p for key, item in items for p in _numeric_paths(item, (*path, key))]


def _with_extras() -> dict[str, Any]:
    """The tutorial with the numeric keys it lacks (travel, limits, money)."""
    problem = tutorial()
    problem["travel"] = {"detour_factor": 1.3, "speeds_kmh": {"van": 30}}
    problem["objective"] = {"waiting_per_hour": 0}
    van = problem["vehicles"][0]
    van.update(max_distance_km=300, max_stops=30, max_duration=36000, fixed_cost=5)
    problem["orders"][0].update(priority=1, penalty=100, optional=True)
    return problem


API_FIELDS = _numeric_paths(_with_extras())


def _dotted(path: tuple[Any, ...]) -> str:
    out = "problem"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


@given(
    path=st.sampled_from(API_FIELDS),
    value=st.sampled_from([1e308, -1e308, math.inf, math.nan, True, 10**40]),
)
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_a_bad_number_anywhere_is_a_422_naming_it(
    service: Service, path: tuple[Any, ...], value: Any
) -> None:
    """Any numeric field of a problem with a huge, infinite, NaN or boolean value
    is a 422 naming that field (validate), never a 500."""
    problem = _with_extras()
    target: Any = problem
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    r, _ = _post(
        service.client, "/v1/validate", {"problem": problem}, service.headers("planner")
    )
    assert r.status_code == 422, r.text
    assert (r.json()["code"], r.json()["path"]) == ("invalid_input", _dotted(path))


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("vehicles", 0, "max_distance_km"), 1e308),
        (("travel", "detour_factor"), 1e308),
    ],
)
def test_reported_numbers_are_refused_before_any_job(
    service: Service, where: tuple[Any, ...], value: float
) -> None:
    """max_distance_km 1e308 (a 500 before) and detour_factor 1e308 (a failed
    plan before) are a 422 from POST /v1/plans itself."""
    problem = tutorial()
    target: Any = problem
    problem.setdefault("travel", {})
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    r = service.client.post(
        "/v1/plans", json={"problem": problem}, headers=service.headers("dispatcher")
    )
    assert r.status_code == 422, r.text
    assert r.json()["path"] == _dotted(where)


# ----------------------------------------------------------------- booleans (10)


@pytest.mark.parametrize(
    ("url", "body", "path"),
    [
        ("/v1/plans", {"time_limit_s": True}, "time_limit_s"),
        ("/v1/plans", {"time_limit_s": math.inf}, "time_limit_s"),
        ("/v1/plans", {"deterministic": 1}, "deterministic"),
        (
            "/v1/whatif",
            {"variants": [{"name": "a", "add_vehicles": True}]},
            "variants[0].add_vehicles",
        ),
        (
            "/v1/whatif",
            {"variants": [{"name": "a", "widen_slots_s": 1.0}]},
            "variants[0].widen_slots_s",
        ),
    ],
)
def test_booleans_are_not_numbers(
    service: Service, url: str, body: dict[str, Any], path: str
) -> None:
    """true is not 1 (nor 1 true) in a request's numeric or boolean fields: a
    422 naming the field."""
    full = {"problem": tutorial(), **body}
    if url == "/v1/whatif" and "variants" not in body:
        full["variants"] = [{"name": "a"}]
    r, _ = _post(service.client, url, full, service.headers("dispatcher"))
    assert r.status_code == 422, r.text
    assert (r.json()["code"], r.json()["path"]) == ("invalid_input", path)


@pytest.mark.parametrize(
    ("state", "path"),
    [
        ({"time": True}, "states[0].time"),
        ({"time": "10:00", "breaks_done": True}, "states[0].breaks_done"),
        ({"time": "10:00", "on_board": [True, 1]}, "states[0].on_board[0]"),
        (
            {"time": "10:00", "position": {"lat": True, "lon": 1.5}},
            "states[0].position.lat",
        ),
    ],
)
def test_replan_states_refuse_booleans(
    service: Service, state: dict[str, Any], path: str
) -> None:
    """A vehicle state's time, breaks, load and position are not booleans."""
    r = service.client.post(
        f"/v1/plans/{service.plan['id']}/replan",
        json={"states": [{"vehicle_id": "van-1", **state}]},
        headers=service.headers("dispatcher"),
    )
    assert r.status_code == 422, r.text
    assert r.json()["path"] == path


def test_json_syntax_error_names_the_body_with_line_and_column(
    service: Service,
) -> None:
    """A body that is not JSON: path "body" (not a character offset), the line
    and column in the message."""
    r = service.client.post(
        "/v1/validate",
        content=b'{"problem": {\n  "depots": [,]}}',
        headers={**service.headers("planner"), "Content-Type": "application/json"},
    )
    assert r.status_code == 422, r.text
    assert r.json()["path"] == "body"
    assert "line 2, column 14" in r.json()["message"]


# ------------------------------------------------------------ re-plan total (6)


def test_a_chain_of_replans_cannot_grow_past_the_order_limit(
    make_service: MakeService,
) -> None:
    """max_orders covers the re-planned plan's total (orders left + new): the
    12-order tutorial day takes 2 new orders under a limit of 14, not a 3rd in
    the next re-plan; cancelling one makes room again."""
    _, client, h = make_service(max_orders=14)
    r = client.post(
        "/v1/plans",
        json={"problem": tutorial(), "time_limit_s": 0.5, "deterministic": True},
        headers=h,
    )
    assert r.status_code == 201, r.text
    new = [{"id": f"n-{i}", "location": {"lat": 42.51, "lon": 1.52}} for i in range(3)]
    states = [{"vehicle_id": "van-1", "time": "08:00"}]
    r = client.post(
        f"/v1/plans/{r.json()['id']}/replan",
        json={
            "states": states,
            "new_orders": new[:2],
            "time_limit_s": 0.5,
            "deterministic": True,
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    child = r.json()["id"]
    r = client.post(
        f"/v1/plans/{child}/replan",
        json={"states": states, "new_orders": new[2:]},
        headers=h,
    )
    assert r.status_code == 413, r.text
    assert (r.json()["code"], r.json()["path"]) == ("too_large", "new_orders")
    assert "14 orders left in the plan + 1 new = 15" in r.json()["message"]
    r = client.post(
        f"/v1/plans/{child}/replan",
        json={
            "states": states,
            "new_orders": new[2:],
            "cancelled": ["o-01"],
            "time_limit_s": 0.5,
            "deterministic": True,
        },
        headers=h,
    )
    assert r.status_code == 201, r.text


# ------------------------------------------------------------------- ids (7)


def test_every_id_column_holds_the_longest_id() -> None:
    """The database columns that store ids hold exactly MAX_ID_LENGTH
    characters: an id the reader accepts can be stored on every backend."""
    columns = [
        PlanDepotRow.__table__.c.depot_id,
        PromiseRow.__table__.c.order_id,
        ApiKeyRow.__table__.c.vehicle_id,
    ]
    assert [c.type.length for c in columns] == [MAX_ID_LENGTH] * 3
    assert PlanRow.__table__.c.name.type.length == MAX_ID_LENGTH


@pytest.mark.parametrize(
    "where",
    [("depots", 0, "id"), ("vehicles", 1, "id"), ("orders", 4, "id")],
)
def test_ids_over_200_characters_are_refused_on_every_backend(
    any_service: Service, where: tuple[Any, ...]
) -> None:
    """The same 422 naming the id on SQLite and PostgreSQL (before: accepted on
    SQLite, a misleading 422 on PostgreSQL)."""
    problem = tutorial()
    problem[where[0]][where[1]]["id"] = "x" * (MAX_ID_LENGTH + 1)
    r = any_service.client.post(
        "/v1/plans",
        json={"problem": problem},
        headers=any_service.headers("dispatcher"),
    )
    assert r.status_code == 422, r.text
    assert r.json()["path"] == f"problem.{where[0]}[{where[1]}].id"


def test_new_order_ids_follow_the_rule(any_service: Service) -> None:
    """A re-plan's new order with an id of 201 characters or a control character
    is a 422 naming it."""
    for bad in ("x" * (MAX_ID_LENGTH + 1), "a\tb"):
        r = any_service.client.post(
            f"/v1/plans/{any_service.plan['id']}/replan",
            json={"new_orders": [{"id": bad, "location": {"lat": 42.5, "lon": 1.5}}]},
            headers=any_service.headers("dispatcher"),
        )
        assert r.status_code == 422, r.text
        assert r.json()["path"] == "new_orders[0].id"


def test_an_order_with_a_200_character_id_gets_its_notice(
    republish_after: Service,
) -> None:
    """An id of exactly 200 characters (accented) is planned, published and
    promised on both backends: every planned order can be given a notice."""
    service = republish_after
    h = service.headers("dispatcher")
    long_id = "é" * MAX_ID_LENGTH
    problem = tutorial()
    problem["orders"][0]["id"] = long_id
    r = service.client.post(
        "/v1/plans",
        json={"problem": problem, "time_limit_s": 1, "deterministic": True},
        headers=h,
    )
    assert r.status_code == 201, r.text
    plan = publish(service.client, r.json()["id"], h)
    planned = {v["order_id"] for vid in ("van-1", "van-2") for v in visits(plan, vid)}
    assert long_id in planned
    r = service.client.post(
        f"/v1/plans/{plan['id']}/orders/{long_id}/notice", json={}, headers=h
    )
    assert r.status_code == 201, r.text
    assert r.json()["order_id"] == long_id
