"""Every number of the scenario format has a finite, sane range, and every id
the id rule: anything else is an InvalidProblemError naming the field (a
property test over the schema)."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing.domain.errors import InvalidProblemError
from routing.formats import MAX_ID_LENGTH, problem_from_dict


def _geo() -> dict[str, Any]:
    """A small day holding every numeric field of the format (lat/lon)."""
    return {
        "name": "numbers",
        "quantities": ["kg", "parcels"],
        "horizon": [0, 86400],
        "travel": {
            "provider": "haversine",
            "detour_factor": 1.3,
            "speeds_kmh": {"van": 30, "bike": 15},
        },
        "objective": {
            "fixed_cost": 1,
            "distance": 1,
            "duration": 1,
            "unplanned": 1,
            "lateness": 1,
            "waiting_per_hour": 0,
            "early_per_hour": 0,
            "balance_per_hour": 0,
        },
        "tiers": [
            {
                "id": "std",
                "max_lateness": 600,
                "lateness_cost_per_hour": 20,
                "priority": 1,
            }
        ],
        "depots": [
            {
                "id": "D",
                "location": {"lat": 42.5, "lon": 1.5},
                "opening": [21600, 72000],
            }
        ],
        "vehicles": [
            {
                "id": "v",
                "start_depot": "D",
                "shift": [28800, 61200],
                "capacity": [600, 60],
                "fixed_cost": 10,
                "cost_per_km": 0.35,
                "cost_per_hour": 24,
                "max_duration": 30000,
                "max_stops": 20,
                "max_distance_km": 120.5,
                "breaks": [{"window": [43200, 46800], "duration": 1800}],
            }
        ],
        "orders": [
            {
                "id": "a",
                "location": {"lat": 42.51, "lon": 1.52},
                "service": 180,
                "windows": [[32400, 39600]],
                "pickup": [3, 1],
                "priority": 2,
                "optional": True,
                "penalty": 500,
                "tier": "std",
                "max_lateness": 300,
                "lateness_cost_per_hour": 10,
            },
            {
                "id": "b",
                "location": {"lat": 42.52, "lon": 1.53},
                "delivery": [3, 1],
                "optional": True,
            },
        ],
        "pairs": [{"id": "p", "pickup": "a", "delivery": "b", "max_ride": 3600}],
    }


def _planar() -> dict[str, Any]:
    """The same day on a plane, Euclidean travel."""
    day = _geo()
    day["travel"] = {"provider": "euclidean", "scale": 10, "truncate": True}
    day["depots"][0]["location"] = {"x": 0, "y": 0}
    day["orders"][0]["location"] = {"x": 3, "y": 4}
    day["orders"][1]["location"] = {"x": -6, "y": 8}
    return day


def _matrix() -> dict[str, Any]:
    """The same day with an explicit travel matrix."""
    day = _geo()
    cells = [[0, 10, 20], [10, 0, 15], [20, 15, 0]]
    day["travel"] = {
        "provider": "matrix",
        "profiles": {
            "van": {"distances_m": cells, "durations_s": copy.deepcopy(cells)}
        },
    }
    return day


BASES = {"geo": _geo, "planar": _planar, "matrix": _matrix}


def _numeric_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The place of every number (not a boolean) in a scenario."""
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


def _dotted(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


FIELDS = sorted(
    {(base, path) for base, make in BASES.items() for path in _numeric_paths(make())},
    key=str,
)
"""(base scenario, place) of every numeric field: 65 places."""

COORDINATES = {"lat", "lon", "x", "y"}


def _put(base: str, path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    day = BASES[base]()
    target: Any = day
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return day


def test_the_bases_are_valid_and_cover_every_numeric_field() -> None:
    """The three base days read, and hold the numeric keys of every table of
    scenarios/README.md (travel included)."""
    for make in BASES.values():
        problem_from_dict(make())
    leaves = {p[-1] if isinstance(p[-1], str) else p[-2] for _, p in FIELDS}
    assert {
        "detour_factor",
        "van",
        "scale",
        "distances_m",
        "durations_s",
        "max_distance_km",
        "max_stops",
        "capacity",
        "duration",
        "max_ride",
        "penalty",
        "balance_per_hour",
        "lat",
        "x",
    } <= leaves | {p[-3] for _, p in FIELDS if len(p) >= 3}
    assert len(FIELDS) >= 60


def _bad(field: tuple[str, tuple[Any, ...]]) -> st.SearchStrategy[Any]:
    """Values no numeric field may take: huge, infinite, NaN, booleans and (but
    for coordinates) negative."""
    huge = st.floats(min_value=1e13, max_value=1e308) | st.integers(
        min_value=10**13, max_value=10**400
    )
    out = huge | st.sampled_from([math.inf, -math.inf, math.nan, True, False])
    if field[1][-1] in COORDINATES:
        return out | st.floats(min_value=-1e308, max_value=-1e8)
    negative = st.floats(min_value=-1e308, max_value=-1e-6) | st.integers(
        min_value=-(10**30), max_value=-1
    )
    return out | negative


@st.composite
def _cases(draw: st.DrawFn) -> tuple[str, tuple[Any, ...], Any]:
    field = draw(st.sampled_from(FIELDS))
    return (*field, draw(_bad(field)))


@given(case=_cases())
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_bad_number_anywhere_names_its_field(
    case: tuple[str, tuple[Any, ...], Any],
) -> None:
    """Huge, infinite, NaN, boolean or negative values in any numeric field are an
    InvalidProblemError whose path is that field, never another exception."""
    base, path, value = case
    with pytest.raises(InvalidProblemError) as info:
        problem_from_dict(_put(base, path, copy.deepcopy(value)))
    assert info.value.path == _dotted(path), (info.value.path, info.value.message)


@pytest.mark.parametrize("base", sorted(BASES))
def test_every_field_refuses_each_kind_of_bad_number(base: str) -> None:
    """The same, exhaustively: each numeric field with each kind of bad value."""
    for b, path in FIELDS:
        if b != base:
            continue
        bad: list[Any] = [1e308, 10**400, math.inf, math.nan, True]
        bad.append(-1e308 if path[-1] in COORDINATES else -1)
        for value in bad:
            with pytest.raises(InvalidProblemError) as info:
                problem_from_dict(_put(base, path, value))
            assert info.value.path == _dotted(path), (path, value, info.value)


def test_max_distance_km_of_1e308_is_refused_not_overflowed() -> None:
    """The reported case: 1e308 km was round(inf) (OverflowError, a 500)."""
    with pytest.raises(InvalidProblemError, match="within") as info:
        problem_from_dict(_put("geo", ("vehicles", 0, "max_distance_km"), 1e308))
    assert (info.value.path, info.value.entity_id) == (
        "vehicles[0].max_distance_km",
        "v",
    )


@pytest.mark.parametrize(
    ("key", "value"),
    [("detour_factor", 1e308), ("detour_factor", 0.5), ("detour_factor", 11)],
)
def test_travel_numbers_are_checked_by_the_reader(key: str, value: float) -> None:
    """detour_factor 1e308 (refused before only when the matrix was built) and
    out-of-range values are refused when the scenario is read."""
    with pytest.raises(InvalidProblemError) as info:
        problem_from_dict(_put("geo", ("travel", key), value))
    assert info.value.path == f"travel.{key}"


def test_range_ends_are_accepted() -> None:
    """The ends of each documented range are valid."""
    for path, value in [
        (("travel", "detour_factor"), 10),
        (("travel", "speeds_kmh", "van"), 300),
        (("travel", "speeds_kmh", "bike"), 1),
        (("vehicles", 0, "max_distance_km"), 2_000_000),
        (("orders", 0, "service"), 604800),
        (("vehicles", 0, "fixed_cost"), 1e12),
    ]:
        problem_from_dict(_put("geo", path, value))
    problem_from_dict(_put("planar", ("depots", 0, "location", "x"), -1e7))
    problem_from_dict(_put("planar", ("travel", "scale"), 1000))


ENTITY_IDS = [
    ("tiers", 0),
    ("depots", 0),
    ("vehicles", 0),
    ("orders", 0),
    ("pairs", 0),
]


@pytest.mark.parametrize("entity", ENTITY_IDS, ids=lambda e: str(e[0]))
@pytest.mark.parametrize(
    "bad",
    ["x" * (MAX_ID_LENGTH + 1), "", "   ", "a\nb", "tab\there", "nul\x00", "del\x7f"],
    ids=["long", "empty", "blank", "newline", "tab", "nul", "del"],
)
def test_one_id_rule_for_every_entity(entity: tuple[str, int], bad: str) -> None:
    """Ids of depots, vehicles, orders, tiers and pairs are 1 to 200 characters
    without control characters; any other id is refused at its own path (and the
    error names no entity: the bad id names nothing)."""
    kind, index = entity
    with pytest.raises(InvalidProblemError) as info:
        problem_from_dict(_put("geo", (kind, index, "id"), bad))
    assert info.value.path == f"{kind}[{index}].id"
    assert info.value.entity_id is None


def test_an_id_of_200_characters_is_valid() -> None:
    """200 characters (the database columns' length), accented letters and
    spaces inside are fine."""
    day = _geo()
    long_id = "é" * MAX_ID_LENGTH
    day["orders"][0]["id"] = long_id
    day["pairs"][0]["pickup"] = long_id
    day["vehicles"][0]["id"] = "van 1 (Andorra la Vella)"
    problem = problem_from_dict(day)
    assert problem.orders[0].id == long_id
