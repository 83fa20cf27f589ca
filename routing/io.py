"""Scenario JSON <-> Problem and Plan <-> JSON: the engine's file formats.

The scenario format is specified in ``scenarios/README.md``; this module implements
exactly it. Reading is strict: anything a JSON file can contain that is not a valid
scenario (a wrong type, a missing or unknown key, a bad clock text, NaN, ...)
becomes an :class:`~routing.errors.InvalidProblemError` whose ``path`` points at the
offending value (``orders[3].windows[0]``) and whose ``entity_id`` names the depot,
vehicle, order, tier or pair concerned. No ``KeyError`` or ``TypeError`` escapes.

Plan files keep every integer field of the plan values (seconds, meters) and add
clock text next to times (``"arrival": "09:32"`` besides ``"arrival_s": 34320``) for
human readers; those additions are ignored on read.
"""

from __future__ import annotations

import copy
import difflib
import json
import logging
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date as Date
from pathlib import Path
from typing import NoReturn

from routing.errors import InvalidProblemError
from routing.model import (
    ALL_DAY,
    OBJECTIVE_FIELDS,
    Break,
    Depot,
    Location,
    Objective,
    Order,
    Pair,
    Place,
    Point,
    Problem,
    Tier,
    TimeWindow,
    Vehicle,
)
from routing.plan import (
    Costs,
    EngineRun,
    Plan,
    PlanStatus,
    PlanTotals,
    Route,
    RouteBreak,
    Unplanned,
    UnplannedCode,
    Visit,
)
from routing.units import format_clock, parse_time_s

__all__ = [
    "load_plan",
    "load_problem",
    "plan_from_dict",
    "plan_to_dict",
    "problem_from_dict",
    "problem_to_dict",
    "save_plan",
]

logger = logging.getLogger(__name__)

# Known keys, in the order of the tables in scenarios/README.md (error messages list
# them in this order).
_TOP_KEYS = (
    "name",
    "date",
    "quantities",
    "horizon",
    "travel",
    "objective",
    "tiers",
    "depots",
    "vehicles",
    "orders",
    "pairs",
)
_OBJECTIVE_KEYS = OBJECTIVE_FIELDS
_TIER_KEYS = ("id", "max_lateness", "lateness_cost_per_hour", "priority")
_PAIR_KEYS = ("id", "pickup", "delivery", "max_ride")
_DEPOT_KEYS = ("id", "location", "opening", "address")
_VEHICLE_KEYS = (
    "id",
    "start_depot",
    "end_depot",
    "shift",
    "capacity",
    "fixed_cost",
    "cost_per_km",
    "cost_per_hour",
    "profile",
    "max_duration",
    "max_stops",
    "max_distance_km",
    "skills",
    "kind",
    "breaks",
)
_BREAK_KEYS = ("window", "duration")
_ORDER_KEYS = (
    "id",
    "location",
    "service",
    "windows",
    "delivery",
    "pickup",
    "skills",
    "priority",
    "optional",
    "penalty",
    "address",
    "notes",
    "tier",
    "max_lateness",
    "lateness_cost_per_hour",
    "vehicle_kinds",
)
_LATLON_KEYS = ("lat", "lon")
_XY_KEYS = ("x", "y")

DEFAULT_QUANTITIES: tuple[str, ...] = ("units",)
"""Capacity dimensions of a scenario that names none (README: ``["units"]``)."""

_WIRE_NAMES = {
    "service_s": "service",
    "max_duration_s": "max_duration",
    "max_distance_m": "max_distance_km",
    "is_optional": "optional",
    "max_lateness_s": "max_lateness",
    "max_ride_s": "max_ride",
}
"""Model attribute -> scenario key, for re-raising the model's errors with a path
that names what the user wrote."""

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Plan keys: the fields read back, then the human-readable additions (ignored on
# read). Reading rejects any other key, so that a plan written by a different
# version of the engine is not half-read in silence.
_VISIT_FIELDS = (
    "order_id",
    "arrival_s",
    "wait_s",
    "start_s",
    "departure_s",
    "load",
    "travel_s",
    "distance_m",
    "late_s",
)
_VISIT_EXTRAS = (
    "arrival",
    "start",
    "departure",
    "late",
    "address",
    "windows",
    "notes",
)
_ROUTE_FIELDS = (
    "vehicle_id",
    "start_depot",
    "end_depot",
    "start_s",
    "end_s",
    "distance_m",
    "travel_s",
    "service_s",
    "wait_s",
    "load_factor",
    "cost",
    "start_load",
    "end_travel_s",
    "end_distance_m",
    "empty_distance_m",
    "mean_load_factor",
    "late_s",
    "breaks",
    "costs",
    "visits",
)
_ROUTE_EXTRAS = ("start", "end", "duration")
_BREAK_FIELDS = ("start_s", "end_s")
_BREAK_EXTRAS = ("start", "end")
_COSTS_FIELDS = ("fixed", "distance", "time", "lateness")
_TOTALS_FIELDS = (
    "distance_m",
    "duration_s",
    "travel_s",
    "service_s",
    "wait_s",
    "cost",
    "vehicles_used",
    "orders_planned",
    "orders_unplanned",
)
_TOTALS_ADDED = ("empty_distance_m", "late_stops", "late_s", "costs")
"""Totals keys added with the delivery-day features: older files lack them."""
_TOTALS_EXTRAS = ("duration", "on_time_rate", "driver_hours")
_UNPLANNED_FIELDS = ("order_id", "code", "reason")
_PLAN_FIELDS = (
    "problem_name",
    "status",
    "solver_status",
    "objective",
    "stats",
    "totals",
    "routes",
    "unplanned",
    "search",
)
_ENGINE_FIELDS = (
    "engine",
    "outcome",
    "reason",
    "relaxations",
    "elapsed_s",
    "objective",
    "repaired",
    "started_s",
)


# --------------------------------------------------------------------------- JSON


class _JsonObject(dict[str, object]):
    """A decoded JSON object that remembers keys given more than once.

    ``json`` keeps the last of repeated keys silently; a scenario with two
    ``"windows"`` would lose one. The parser reports them instead.
    """

    __slots__ = ("duplicate_keys",)

    def __init__(self, pairs: list[tuple[str, object]]) -> None:
        super().__init__(pairs)
        seen: set[str] = set()
        repeated: list[str] = []
        for key, _ in pairs:
            if key in seen and key not in repeated:
                repeated.append(key)
            seen.add(key)
        self.duplicate_keys = tuple(repeated)


def _read_json(path: str | Path) -> object:
    """Decode a JSON file; syntax errors become InvalidProblemError (path "")."""
    path = Path(path)
    try:
        # utf-8-sig: files saved by some Windows editors start with a BOM.
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidProblemError(f"{path.name}: not UTF-8 text: {error}") from error
    try:
        return json.loads(text, object_pairs_hook=_JsonObject)
    except json.JSONDecodeError as error:
        raise InvalidProblemError(
            f"{path.name}: invalid JSON at line {error.lineno}, column "
            f"{error.colno}: {error.msg}"
        ) from error
    except (ValueError, RecursionError) as error:
        # Integers beyond Python's digit limit, absurd nesting depth.
        raise InvalidProblemError(f"{path.name}: invalid JSON: {error}") from error


def _write_json(data: object, path: str | Path) -> None:
    Path(path).write_text(_dumps(data) + "\n", encoding="utf-8")


_INLINE_WIDTH = 72
"""Flat values up to this many characters stay on one line in written files
(``"load": [12, 1]``, ``"location": {"lat": 42.5, "lon": 1.5}``), so that an
entity reads as a few lines, not thirty."""


def _is_scalar(value: object) -> bool:
    return not isinstance(value, Mapping | list | tuple)


def _is_flat(value: object) -> bool:
    """A dict of scalars, or an array of scalars or of arrays of scalars."""
    if isinstance(value, Mapping):
        return all(_is_scalar(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(
            _is_scalar(v)
            or (isinstance(v, list | tuple) and all(_is_scalar(w) for w in v))
            for v in value
        )
    return True


def _dumps(value: object, level: int = 0) -> str:
    """JSON text indented by two spaces, with short flat values kept inline."""
    inline = json.dumps(value, ensure_ascii=False, allow_nan=False)
    if _is_scalar(value) or (len(inline) <= _INLINE_WIDTH and _is_flat(value)):
        return inline
    pad = "  " * (level + 1)
    if isinstance(value, Mapping):
        items = [
            f"{pad}{json.dumps(str(k), ensure_ascii=False)}: {_dumps(v, level + 1)}"
            for k, v in value.items()
        ]
        return "{\n" + ",\n".join(items) + "\n" + "  " * level + "}"
    assert isinstance(value, list | tuple)  # not flat, so a container
    items = [pad + _dumps(v, level + 1) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + "  " * level + "]"


# ------------------------------------------------------------------ value checks


def _fail(message: str, path: str, entity_id: str | None) -> NoReturn:
    raise InvalidProblemError(message, path=path, entity_id=entity_id)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: object) -> str:
    """The JSON name of a value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _got(value: object) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"got {_kind(value)} {text}"


def _object(value: object, path: str, entity_id: str | None) -> dict[str, object]:
    """Check that ``value`` is a JSON object with string keys, none repeated."""
    if not isinstance(value, Mapping):
        _fail(f"expected an object, {_got(value)}", path, entity_id)
    out: dict[str, object] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            _fail(f"keys must be strings, got {key!r}", path, entity_id)
        out[key] = item
    if isinstance(value, _JsonObject) and value.duplicate_keys:
        key = value.duplicate_keys[0]
        _fail(f'key "{key}" is given more than once', _join(path, key), entity_id)
    return out


def _check_keys(
    obj: Mapping[str, object],
    known: Sequence[str],
    path: str,
    entity_id: str | None,
) -> None:
    """Reject keys outside ``known``: a typo must not be ignored in silence."""
    for key in obj:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            _fail(
                f'unknown key "{key}"{hint}; known keys: {", ".join(known)}',
                _join(path, key),
                entity_id,
            )


def _required(
    obj: Mapping[str, object], key: str, path: str, entity_id: str | None
) -> object:
    if key not in obj:
        _fail(f'missing required key "{key}"', _join(path, key), entity_id)
    return obj[key]


def _array(value: object, path: str, entity_id: str | None) -> Sequence[object]:
    if not isinstance(value, list | tuple):
        _fail(f"expected an array, {_got(value)}", path, entity_id)
    return value


def _string(value: object, path: str, entity_id: str | None) -> str:
    if not isinstance(value, str):
        _fail(f"expected a string, {_got(value)}", path, entity_id)
    return value


def _name(value: object, path: str, entity_id: str | None) -> str:
    """A non-empty string such as an id, a skill or a quantity name."""
    text = _string(value, path, entity_id)
    if not text.strip():
        _fail("expected a non-empty string", path, entity_id)
    return text


def _boolean(value: object, path: str, entity_id: str | None) -> bool:
    if not isinstance(value, bool):
        _fail(f"expected true or false, {_got(value)}", path, entity_id)
    return value


def _integer(value: object, path: str, entity_id: str | None) -> int:
    # bool is an int subclass: `true` must not pass as 1.
    if not isinstance(value, int) or isinstance(value, bool):
        _fail(f"expected an integer, {_got(value)}", path, entity_id)
    return value


def _number(value: object, path: str, entity_id: str | None) -> float:
    """A finite JSON number as float (NaN, Infinity and booleans are rejected)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        _fail(f"expected a number, {_got(value)}", path, entity_id)
    try:
        number = float(value)
    except OverflowError:
        _fail(f"number is too large: {value}", path, entity_id)
    if not math.isfinite(number):
        _fail(f"expected a finite number, got {value!r}", path, entity_id)
    return number


def _time(value: object, path: str, entity_id: str | None) -> int:
    """A time or duration: ``"HH:MM[:SS]"`` text or seconds (``units.parse_time_s``)."""
    if isinstance(value, bool) or (
        isinstance(value, float) and not math.isfinite(value)
    ):
        _fail(f'expected a time as "HH:MM" or seconds, {_got(value)}', path, entity_id)
    return parse_time_s(value, path=path, entity_id=entity_id)


def _window(value: object, path: str, entity_id: str | None) -> TimeWindow:
    """A ``[start, end]`` pair of times, both ends inclusive, start <= end."""
    pair = _array(value, path, entity_id)
    if len(pair) != 2:
        _fail(
            f"expected [start, end], got an array of {len(pair)} values",
            path,
            entity_id,
        )
    window = TimeWindow(
        _time(pair[0], f"{path}[0]", entity_id),
        _time(pair[1], f"{path}[1]", entity_id),
    )
    problem = window.problem()
    if problem:
        _fail(problem, path, entity_id)
    return window


def _vector(value: object, path: str, entity_id: str | None) -> tuple[int, ...]:
    """An integer quantity vector (sign and length are the model's checks)."""
    items = _array(value, path, entity_id)
    return tuple(_integer(v, f"{path}[{k}]", entity_id) for k, v in enumerate(items))


def _skills(value: object, path: str, entity_id: str | None) -> frozenset[str]:
    items = _array(value, path, entity_id)
    return frozenset(_name(v, f"{path}[{k}]", entity_id) for k, v in enumerate(items))


def _place(value: object, path: str, entity_id: str | None) -> Place:
    """``{"lat", "lon"}`` (WGS84 degrees) or planar ``{"x", "y"}``."""
    obj = _object(value, path, entity_id)
    is_geo = any(k in obj for k in _LATLON_KEYS)
    is_planar = any(k in obj for k in _XY_KEYS)
    if is_geo and is_planar:
        _fail(
            'coordinates mix lat/lon with x/y; use {"lat", "lon"} or {"x", "y"}',
            path,
            entity_id,
        )
    if not (is_geo or is_planar):
        _fail(
            'expected coordinates {"lat": ..., "lon": ...} or {"x": ..., "y": ...}, '
            f"got keys {sorted(obj)}",
            path,
            entity_id,
        )
    keys = _LATLON_KEYS if is_geo else _XY_KEYS
    _check_keys(obj, keys, path, entity_id)
    a, b = (
        _number(_required(obj, k, path, entity_id), _join(path, k), entity_id)
        for k in keys
    )
    try:
        return Location(a, b) if is_geo else Point(a, b)
    except InvalidProblemError as error:  # out of range; says which of lat/lon
        _fail(error.message, path, entity_id)


def _entity(
    value: object, path: str, known: Sequence[str]
) -> tuple[dict[str, object], str | None]:
    """A depot, vehicle, order, tier or pair object and its id for error reports.

    The id is taken first, so that every later error (a repeated or unknown key
    included) names the entity; it is None while the id is missing or unusable.
    """
    if not isinstance(value, Mapping):
        _fail(f"expected an object, {_got(value)}", path, None)
    raw_id = value.get("id")
    eid = raw_id if isinstance(raw_id, str) and raw_id.strip() else None
    obj = _object(value, path, eid)
    _check_keys(obj, known, path, eid)
    return obj, eid


def _wire_path(prefix: str, path: str) -> str:
    """Prefix a model entity's relative error path, renamed to scenario keys."""
    if not path:
        return prefix
    cut = min((i for i in (path.find("."), path.find("[")) if i >= 0), default=None)
    head, rest = (path, "") if cut is None else (path[:cut], path[cut:])
    return f"{prefix}.{_WIRE_NAMES.get(head, head)}{rest}"


@contextmanager
def _entity_errors(prefix: str, entity_id: str | None) -> Iterator[None]:
    """Re-raise an entity constructor's error with the path of the entity.

    Depot, Vehicle, Order, Tier, Pair and Break report paths relative to
    themselves (``windows[0]``); a reader needs ``orders[3].windows[0]``. The
    error's entity id is kept; ``entity_id`` fills it in where the constructor
    has none to give (a Break does not know its vehicle).
    """
    try:
        yield
    except InvalidProblemError as error:
        raise InvalidProblemError(
            error.message,
            path=_wire_path(prefix, error.path),
            entity_id=error.entity_id if error.entity_id is not None else entity_id,
        ) from error


# --------------------------------------------------------------- scenario -> model


def _depot_from(value: object, path: str, horizon: TimeWindow) -> Depot:
    obj, eid = _entity(value, path, _DEPOT_KEYS)
    depot_id = _string(_required(obj, "id", path, eid), f"{path}.id", eid)
    location = _place(_required(obj, "location", path, eid), f"{path}.location", eid)
    opening = horizon
    if "opening" in obj:
        opening = _window(obj["opening"], f"{path}.opening", eid)
    address = _string(obj.get("address", ""), f"{path}.address", eid)
    with _entity_errors(path, eid):
        return Depot(id=depot_id, location=location, opening=opening, address=address)


def _vehicle_from(
    value: object, path: str, horizon: TimeWindow, quantities: int
) -> Vehicle:
    obj, eid = _entity(value, path, _VEHICLE_KEYS)
    vehicle_id = _string(_required(obj, "id", path, eid), f"{path}.id", eid)
    start_depot = _string(
        _required(obj, "start_depot", path, eid), f"{path}.start_depot", eid
    )
    end_depot: str | None = start_depot
    if "end_depot" in obj and obj["end_depot"] is None:
        end_depot = None  # explicit null: the route ends at its last stop
    elif "end_depot" in obj:
        end_depot = _string(obj["end_depot"], f"{path}.end_depot", eid)
    shift = horizon
    if "shift" in obj:
        shift = _window(obj["shift"], f"{path}.shift", eid)
    capacity = _vector(_required(obj, "capacity", path, eid), f"{path}.capacity", eid)
    costs = {
        key: _number(obj.get(key, 0.0), f"{path}.{key}", eid)
        for key in ("fixed_cost", "cost_per_km", "cost_per_hour")
    }
    profile = _string(obj.get("profile", "van"), f"{path}.profile", eid)
    max_duration_s = None
    if obj.get("max_duration") is not None:
        max_duration_s = _time(obj["max_duration"], f"{path}.max_duration", eid)
    max_stops = None
    if obj.get("max_stops") is not None:
        max_stops = _integer(obj["max_stops"], f"{path}.max_stops", eid)
    max_distance_m = None
    if obj.get("max_distance_km") is not None:
        km = _number(obj["max_distance_km"], f"{path}.max_distance_km", eid)
        if km < 0:
            _fail(f"must be >= 0 km, got {km:g}", f"{path}.max_distance_km", eid)
        max_distance_m = round(km * 1000)
    skills = _skills(obj.get("skills", []), f"{path}.skills", eid)
    kind = _string(obj.get("kind", "van"), f"{path}.kind", eid)
    breaks = tuple(
        _break_from(b, f"{path}.breaks[{k}]", eid)
        for k, b in enumerate(_array(obj.get("breaks", []), f"{path}.breaks", eid))
    )
    with _entity_errors(path, eid):
        return Vehicle(
            id=vehicle_id,
            start_depot=start_depot,
            end_depot=end_depot,
            capacity=capacity,
            shift=shift,
            fixed_cost=costs["fixed_cost"],
            cost_per_km=costs["cost_per_km"],
            cost_per_hour=costs["cost_per_hour"],
            profile=profile,
            max_duration_s=max_duration_s,
            max_stops=max_stops,
            max_distance_m=max_distance_m,
            skills=skills,
            kind=kind,
            breaks=breaks,
        )


def _break_from(value: object, path: str, vehicle_id: str | None) -> Break:
    """A driver break ``{"window": [start, end], "duration": d}``; errors name the
    vehicle."""
    obj = _object(value, path, vehicle_id)
    _check_keys(obj, _BREAK_KEYS, path, vehicle_id)
    window = _window(
        _required(obj, "window", path, vehicle_id), f"{path}.window", vehicle_id
    )
    duration_s = _time(
        _required(obj, "duration", path, vehicle_id), f"{path}.duration", vehicle_id
    )
    with _entity_errors(path, vehicle_id):
        return Break(window=window, duration_s=duration_s)


def _order_from(value: object, path: str, quantities: int) -> Order:
    obj, eid = _entity(value, path, _ORDER_KEYS)
    order_id = _string(_required(obj, "id", path, eid), f"{path}.id", eid)
    location = _place(_required(obj, "location", path, eid), f"{path}.location", eid)
    service_s = _time(obj.get("service", 0), f"{path}.service", eid)
    windows = tuple(
        _window(w, f"{path}.windows[{k}]", eid)
        for k, w in enumerate(_array(obj.get("windows", []), f"{path}.windows", eid))
    )
    zeros = (0,) * quantities
    delivery = zeros
    if "delivery" in obj:
        delivery = _vector(obj["delivery"], f"{path}.delivery", eid)
    pickup = zeros
    if "pickup" in obj:
        pickup = _vector(obj["pickup"], f"{path}.pickup", eid)
    skills = _skills(obj.get("skills", []), f"{path}.skills", eid)
    priority = None
    if obj.get("priority") is not None:
        priority = _integer(obj["priority"], f"{path}.priority", eid)
    is_optional = _boolean(obj.get("optional", False), f"{path}.optional", eid)
    penalty = None
    if obj.get("penalty") is not None:
        penalty = _number(obj["penalty"], f"{path}.penalty", eid)
    address = _string(obj.get("address", ""), f"{path}.address", eid)
    notes = _string(obj.get("notes", ""), f"{path}.notes", eid)
    tier = None
    if obj.get("tier") is not None:
        tier = _name(obj["tier"], f"{path}.tier", eid)
    max_lateness_s = None
    if obj.get("max_lateness") is not None:
        max_lateness_s = _time(obj["max_lateness"], f"{path}.max_lateness", eid)
    lateness_cost_per_hour = None
    if obj.get("lateness_cost_per_hour") is not None:
        lateness_cost_per_hour = _number(
            obj["lateness_cost_per_hour"], f"{path}.lateness_cost_per_hour", eid
        )
    vehicle_kinds = _skills(obj.get("vehicle_kinds", []), f"{path}.vehicle_kinds", eid)
    with _entity_errors(path, eid):
        return Order(
            id=order_id,
            location=location,
            delivery=delivery,
            pickup=pickup,
            service_s=service_s,
            windows=windows,
            skills=skills,
            priority=priority,
            is_optional=is_optional,
            penalty=penalty,
            address=address,
            notes=notes,
            tier=tier,
            max_lateness_s=max_lateness_s,
            lateness_cost_per_hour=lateness_cost_per_hour,
            vehicle_kinds=vehicle_kinds,
        )


def _tier_from(value: object, path: str) -> Tier:
    obj, eid = _entity(value, path, _TIER_KEYS)
    tier_id = _string(_required(obj, "id", path, eid), f"{path}.id", eid)
    max_lateness_s = 0
    if "max_lateness" in obj:
        max_lateness_s = _time(obj["max_lateness"], f"{path}.max_lateness", eid)
    cost = _number(
        obj.get("lateness_cost_per_hour", 0.0), f"{path}.lateness_cost_per_hour", eid
    )
    priority = _integer(obj.get("priority", 0), f"{path}.priority", eid)
    with _entity_errors(path, eid):
        return Tier(
            id=tier_id,
            max_lateness_s=max_lateness_s,
            lateness_cost_per_hour=cost,
            priority=priority,
        )


def _pair_from(value: object, path: str) -> Pair:
    obj, eid = _entity(value, path, _PAIR_KEYS)
    pair_id = _string(_required(obj, "id", path, eid), f"{path}.id", eid)
    pickup, delivery = (
        _name(_required(obj, key, path, eid), f"{path}.{key}", eid)
        for key in ("pickup", "delivery")
    )
    max_ride_s = None
    if obj.get("max_ride") is not None:
        max_ride_s = _time(obj["max_ride"], f"{path}.max_ride", eid)
    with _entity_errors(path, eid):
        return Pair(id=pair_id, pickup=pickup, delivery=delivery, max_ride_s=max_ride_s)


def _check_no_repeated_keys(value: object, path: str) -> None:
    """Walk a free-form block (``travel``) for JSON objects with repeated keys."""
    if isinstance(value, Mapping):
        obj = _object(value, path, None)
        for key, item in obj.items():
            _check_no_repeated_keys(item, _join(path, key))
    elif isinstance(value, list | tuple):
        for k, item in enumerate(value):
            _check_no_repeated_keys(item, f"{path}[{k}]")


def _check_one_coordinate_kind(
    depots: Sequence[Depot], orders: Sequence[Order]
) -> None:
    """A file uses lat/lon or x/y, not both; name the first entity that differs.

    The Problem checks this too, but can only point at ``locations``.
    """
    first = type(depots[0].location)
    entities = [(f"depots[{i}]", d) for i, d in enumerate(depots)] + [
        (f"orders[{i}]", o) for i, o in enumerate(orders)
    ]
    names = {Location: "lat/lon", Point: "planar x/y"}
    for path, entity in entities:
        kind = type(entity.location)
        if kind is not first:
            _fail(
                f"uses {names[kind]} coordinates but depots[0] uses "
                f"{names[first]}; a file uses one kind only",
                f"{path}.location",
                entity.id,
            )


def _list_of(top: Mapping[str, object], key: str) -> Sequence[object]:
    """A required top-level array (``depots``, ``vehicles``, ``orders``)."""
    return _array(_required(top, key, "", None), key, None)


def _optional_list_of(top: Mapping[str, object], key: str) -> Sequence[object]:
    """An optional top-level array (``tiers``, ``pairs``); absent is empty."""
    return _array(top.get(key, []), key, None)


def _problem_from(value: object) -> Problem:
    top = _object(value, "", None)
    _check_keys(top, _TOP_KEYS, "", None)
    name = _string(top.get("name", ""), "name", None)
    date = None
    if top.get("date") is not None:
        date = _string(top["date"], "date", None)
        try:
            if not _DATE.match(date):
                raise ValueError
            Date.fromisoformat(date)
        except ValueError:
            _fail(f'expected a date "YYYY-MM-DD", got {date!r}', "date", None)
    quantities = DEFAULT_QUANTITIES
    if "quantities" in top:
        names = _array(top["quantities"], "quantities", None)
        quantities = tuple(
            _name(q, f"quantities[{k}]", None) for k, q in enumerate(names)
        )
    horizon = ALL_DAY
    if "horizon" in top:
        horizon = _window(top["horizon"], "horizon", None)
    travel: dict[str, object] = {}
    if "travel" in top:
        travel = _object(top["travel"], "travel", None)
        _check_no_repeated_keys(travel, "travel")
    objective = Objective()
    if "objective" in top:
        block = _object(top["objective"], "objective", None)
        _check_keys(block, _OBJECTIVE_KEYS, "objective", None)
        objective = Objective(
            **{
                key: _number(block[key], f"objective.{key}", None)
                for key in _OBJECTIVE_KEYS
                if key in block
            }
        )
    tiers = tuple(
        _tier_from(t, f"tiers[{i}]")
        for i, t in enumerate(_optional_list_of(top, "tiers"))
    )
    depots = tuple(
        _depot_from(d, f"depots[{i}]", horizon)
        for i, d in enumerate(_list_of(top, "depots"))
    )
    vehicles = tuple(
        _vehicle_from(v, f"vehicles[{i}]", horizon, len(quantities))
        for i, v in enumerate(_list_of(top, "vehicles"))
    )
    orders = tuple(
        _order_from(o, f"orders[{i}]", len(quantities))
        for i, o in enumerate(_list_of(top, "orders"))
    )
    pairs = tuple(
        _pair_from(p, f"pairs[{i}]")
        for i, p in enumerate(_optional_list_of(top, "pairs"))
    )
    if depots:  # no depots: the Problem's own error says so
        _check_one_coordinate_kind(depots, orders)
    # The Problem's errors (duplicate ids, unknown depots, vector lengths, unknown
    # tiers, pairs naming unknown orders) already carry absolute paths such as
    # vehicles[1].start_depot or pairs[0].pickup.
    return Problem(
        depots=depots,
        vehicles=vehicles,
        orders=orders,
        quantities=quantities,
        horizon=horizon,
        name=name,
        date=date,
        travel=travel,
        objective=objective,
        tiers=tiers,
        pairs=pairs,
    )


def problem_from_dict(data: Mapping[str, object]) -> Problem:
    """Build a Problem from a decoded scenario (``scenarios/README.md``).

    Parameters
    ----------
    data
        The scenario as decoded from JSON. Times may be clock text
        (``"09:30"``) or integer seconds; ``max_distance_km`` is in km.

    Returns
    -------
    Problem
        The validated problem. Omitted ``delivery``/``pickup`` are zero vectors,
        an omitted ``end_depot`` is the ``start_depot`` (an explicit ``null``
        makes the route open-ended), omitted ``opening``/``shift`` are the
        horizon, omitted ``tiers``/``pairs``/``breaks`` are empty, an order's
        omitted (or ``null``) ``priority``, ``tier``, ``max_lateness`` and
        ``lateness_cost_per_hour`` are None (its tier's value), and ``travel``
        is passed through unchanged.

    Raises
    ------
    InvalidProblemError
        For anything that is not a valid scenario, with ``path`` (e.g.
        ``orders[3].windows[0]``, ``vehicles[1].breaks[0].window``) and
        ``entity_id`` (the ``id`` of the depot, vehicle, order, tier or pair
        concerned, when known; a break's errors name its vehicle). Unknown keys
        are rejected, with the list of known ones.
    """
    return _problem_from(data)


def load_problem(path: str | Path) -> Problem:
    """Read a scenario JSON file.

    Parameters
    ----------
    path
        The file, UTF-8 JSON.

    Returns
    -------
    Problem
        As :func:`problem_from_dict`.

    Raises
    ------
    InvalidProblemError
        If the file is not valid JSON (the message gives line and column, the
        path is ``""``) or not a valid scenario.
    OSError
        If the file cannot be read.
    """
    return _problem_from(_read_json(path))


# --------------------------------------------------------------- model -> scenario


def _time_out(seconds: int) -> str | int:
    """Clock text when the time is whole minutes, else integer seconds."""
    return format_clock(seconds) if seconds % 60 == 0 else seconds


def _window_out(window: TimeWindow) -> list[str | int]:
    return [_time_out(window.start_s), _time_out(window.end_s)]


def _place_out(place: Place) -> dict[str, object]:
    if isinstance(place, Location):
        return {"lat": place.lat, "lon": place.lon}
    return {"x": place.x, "y": place.y}


def _depot_out(depot: Depot, horizon: TimeWindow) -> dict[str, object]:
    out: dict[str, object] = {"id": depot.id, "location": _place_out(depot.location)}
    if depot.opening != horizon:
        out["opening"] = _window_out(depot.opening)
    if depot.address:
        out["address"] = depot.address
    return out


def _vehicle_out(vehicle: Vehicle, horizon: TimeWindow) -> dict[str, object]:
    out: dict[str, object] = {"id": vehicle.id, "start_depot": vehicle.start_depot}
    if vehicle.end_depot != vehicle.start_depot:
        out["end_depot"] = vehicle.end_depot  # None -> null: open-ended
    if vehicle.shift != horizon:
        out["shift"] = _window_out(vehicle.shift)
    out["capacity"] = list(vehicle.capacity)
    for key in ("fixed_cost", "cost_per_km", "cost_per_hour"):
        value = getattr(vehicle, key)
        if value:
            out[key] = value
    if vehicle.profile != "van":
        out["profile"] = vehicle.profile
    if vehicle.max_duration_s is not None:
        out["max_duration"] = _time_out(vehicle.max_duration_s)
    if vehicle.max_stops is not None:
        out["max_stops"] = vehicle.max_stops
    if vehicle.max_distance_m is not None:
        out["max_distance_km"] = vehicle.max_distance_m / 1000
    if vehicle.skills:
        out["skills"] = sorted(vehicle.skills)
    if vehicle.kind != "van":
        out["kind"] = vehicle.kind
    if vehicle.breaks:
        out["breaks"] = [
            {"window": _window_out(b.window), "duration": _time_out(b.duration_s)}
            for b in vehicle.breaks
        ]
    return out


def _order_out(order: Order) -> dict[str, object]:
    out: dict[str, object] = {"id": order.id, "location": _place_out(order.location)}
    if order.service_s:
        out["service"] = order.service_s  # short durations read best as seconds
    if order.windows:
        out["windows"] = [_window_out(w) for w in order.windows]
    if any(order.delivery):
        out["delivery"] = list(order.delivery)
    if any(order.pickup):
        out["pickup"] = list(order.pickup)
    if order.skills:
        out["skills"] = sorted(order.skills)
    if order.priority is not None:  # 0 too: it overrides the tier's priority
        out["priority"] = order.priority
    if order.is_optional:
        out["optional"] = True
    if order.penalty is not None:
        out["penalty"] = order.penalty
    if order.address:
        out["address"] = order.address
    if order.notes:
        out["notes"] = order.notes
    if order.tier is not None:
        out["tier"] = order.tier
    if order.max_lateness_s is not None:  # 0 too: a hard slot in a soft tier
        out["max_lateness"] = _time_out(order.max_lateness_s)
    if order.lateness_cost_per_hour is not None:
        out["lateness_cost_per_hour"] = order.lateness_cost_per_hour
    if order.vehicle_kinds:
        out["vehicle_kinds"] = sorted(order.vehicle_kinds)
    return out


def _tier_out(tier: Tier) -> dict[str, object]:
    out: dict[str, object] = {"id": tier.id}
    if tier.max_lateness_s:
        out["max_lateness"] = _time_out(tier.max_lateness_s)
    if tier.lateness_cost_per_hour:
        out["lateness_cost_per_hour"] = tier.lateness_cost_per_hour
    if tier.priority:
        out["priority"] = tier.priority
    return out


def _pair_out(pair: Pair) -> dict[str, object]:
    out: dict[str, object] = {
        "id": pair.id,
        "pickup": pair.pickup,
        "delivery": pair.delivery,
    }
    if pair.max_ride_s is not None:
        out["max_ride"] = _time_out(pair.max_ride_s)
    return out


def problem_to_dict(problem: Problem) -> dict[str, object]:
    """Write a Problem as a scenario (``scenarios/README.md``), ready for JSON.

    Parameters
    ----------
    problem
        Any valid problem.

    Returns
    -------
    dict
        ``problem_from_dict(problem_to_dict(p)) == p``. Times are clock text
        (``"09:30"``) when they are whole minutes, else integer seconds;
        ``service`` is integer seconds; keys at their default value are left out.
    """
    horizon = problem.horizon
    out: dict[str, object] = {}
    if problem.name:
        out["name"] = problem.name
    if problem.date is not None:
        out["date"] = problem.date
    if problem.quantities != DEFAULT_QUANTITIES:
        out["quantities"] = list(problem.quantities)
    if horizon != ALL_DAY:
        out["horizon"] = _window_out(horizon)
    if problem.travel:
        out["travel"] = copy.deepcopy(dict(problem.travel))
    if problem.objective != Objective():
        out["objective"] = {
            key: getattr(problem.objective, key)
            for key in _OBJECTIVE_KEYS
            if getattr(problem.objective, key) != getattr(Objective(), key)
        }
    if problem.tiers:
        out["tiers"] = [_tier_out(t) for t in problem.tiers]
    out["depots"] = [_depot_out(d, horizon) for d in problem.depots]
    out["vehicles"] = [_vehicle_out(v, horizon) for v in problem.vehicles]
    out["orders"] = [_order_out(o) for o in problem.orders]
    if problem.pairs:
        out["pairs"] = [_pair_out(p) for p in problem.pairs]
    return out


# ------------------------------------------------------------------- plan -> JSON


def _visit_out(visit: Visit, problem: Problem | None, path: str) -> dict[str, object]:
    out: dict[str, object] = {
        "order_id": visit.order_id,
        "arrival_s": visit.arrival_s,
        "arrival": format_clock(visit.arrival_s),
        "wait_s": visit.wait_s,
        "start_s": visit.start_s,
        "start": format_clock(visit.start_s),
        "departure_s": visit.departure_s,
        "departure": format_clock(visit.departure_s),
        "load": list(visit.load),
        "travel_s": visit.travel_s,
        "distance_m": visit.distance_m,
        "late_s": visit.late_s,
    }
    if visit.late_s:
        out["late"] = format_clock(visit.late_s)  # "00:12": a duration, as text
    if problem is not None:
        try:
            order = problem.order(visit.order_id)
        except KeyError:
            _fail(
                f"order {visit.order_id!r} is not in the problem",
                f"{path}.order_id",
                visit.order_id,
            )
        out["address"] = order.address
        out["windows"] = [
            [format_clock(w.start_s), format_clock(w.end_s)] for w in order.windows
        ]
        if order.notes:
            out["notes"] = order.notes
    return out


def _costs_out(costs: Costs) -> dict[str, object]:
    return {key: getattr(costs, key) for key in _COSTS_FIELDS}


def _route_out(route: Route, problem: Problem | None, path: str) -> dict[str, object]:
    return {
        "vehicle_id": route.vehicle_id,
        "start_depot": route.start_depot,
        "end_depot": route.end_depot,
        "start_s": route.start_s,
        "start": format_clock(route.start_s),
        "end_s": route.end_s,
        "end": format_clock(route.end_s),
        "duration": format_clock(route.duration_s),
        "distance_m": route.distance_m,
        "travel_s": route.travel_s,
        "service_s": route.service_s,
        "wait_s": route.wait_s,
        "load_factor": route.load_factor,
        "cost": route.cost,
        "start_load": list(route.start_load),
        "end_travel_s": route.end_travel_s,
        "end_distance_m": route.end_distance_m,
        "empty_distance_m": route.empty_distance_m,
        "mean_load_factor": route.mean_load_factor,
        "late_s": route.late_s,
        "breaks": [
            {
                "start_s": b.start_s,
                "start": format_clock(b.start_s),
                "end_s": b.end_s,
                "end": format_clock(b.end_s),
            }
            for b in route.breaks
        ],
        "costs": _costs_out(route.costs),
        "visits": [
            _visit_out(v, problem, f"{path}.visits[{j}]")
            for j, v in enumerate(route.visits)
        ],
    }


def plan_to_dict(plan: Plan, problem: Problem | None = None) -> dict[str, object]:
    """Write a Plan as a JSON-ready dict for people and programs alike.

    Parameters
    ----------
    plan
        The plan.
    problem
        The problem it solves. When given, each visit also carries the order's
        ``address``, ``windows`` as clock text and ``notes`` (if any).

    Returns
    -------
    dict
        Every field of the plan values, integers in seconds and meters, plus
        clock text next to times (``"arrival": "09:32"`` besides
        ``"arrival_s": 34320``, also on breaks), route/total ``duration`` text,
        a late visit's ``late`` text (``"00:12"``) and the totals'
        ``on_time_rate`` (0..1) and ``driver_hours``. The additions are ignored
        by :func:`plan_from_dict`.

    Raises
    ------
    InvalidProblemError
        If ``problem`` is given and a visited order is not in it.
    """
    totals = plan.totals
    return {
        "problem_name": plan.problem_name,
        "status": plan.status.value,
        "solver_status": plan.solver_status,
        "objective": plan.objective,
        "stats": dict(plan.stats),
        "search": {
            "stop_reason": plan.stop_reason,
            "engines": [_engine_out(e) for e in plan.engines],
        },
        "totals": {
            "distance_m": totals.distance_m,
            "duration_s": totals.duration_s,
            "duration": format_clock(totals.duration_s),
            "travel_s": totals.travel_s,
            "service_s": totals.service_s,
            "wait_s": totals.wait_s,
            "cost": totals.cost,
            "vehicles_used": totals.vehicles_used,
            "orders_planned": totals.orders_planned,
            "orders_unplanned": totals.orders_unplanned,
            "empty_distance_m": totals.empty_distance_m,
            "late_stops": totals.late_stops,
            "late_s": totals.late_s,
            "on_time_rate": totals.on_time_rate,
            "driver_hours": totals.driver_hours,
            "costs": _costs_out(totals.costs),
        },
        "routes": [
            _route_out(r, problem, f"routes[{i}]") for i, r in enumerate(plan.routes)
        ],
        "unplanned": [
            {"order_id": u.order_id, "code": u.code.value, "reason": u.reason}
            for u in plan.unplanned
        ],
    }


# ------------------------------------------------------------------- JSON -> plan


def _stat(value: object, path: str) -> float:
    """A stats figure: integers stay integers (counts), others are finite floats."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return _number(value, path, None)


def _visit_from(value: object, path: str) -> Visit:
    obj = _object(value, path, None)
    eid = _string(_required(obj, "order_id", path, None), f"{path}.order_id", None)
    _check_keys(obj, _VISIT_FIELDS + _VISIT_EXTRAS, path, eid)
    ints = {
        key: _integer(_required(obj, key, path, eid), f"{path}.{key}", eid)
        for key in (
            "arrival_s",
            "wait_s",
            "start_s",
            "departure_s",
            "travel_s",
            "distance_m",
        )
    }
    load = _vector(_required(obj, "load", path, eid), f"{path}.load", eid)
    late_s = _integer(obj.get("late_s", 0), f"{path}.late_s", eid)
    return Visit(order_id=eid, load=load, late_s=late_s, **ints)


def _route_from(value: object, path: str) -> Route:
    obj = _object(value, path, None)
    eid = _string(_required(obj, "vehicle_id", path, None), f"{path}.vehicle_id", None)
    _check_keys(obj, _ROUTE_FIELDS + _ROUTE_EXTRAS, path, eid)
    start_depot = _string(
        _required(obj, "start_depot", path, eid), f"{path}.start_depot", eid
    )
    end_value = _required(obj, "end_depot", path, eid)
    end_depot = (
        None if end_value is None else _string(end_value, f"{path}.end_depot", eid)
    )
    ints = {
        key: _integer(_required(obj, key, path, eid), f"{path}.{key}", eid)
        for key in ("start_s", "end_s", "distance_m", "travel_s", "service_s", "wait_s")
    }
    visits = tuple(
        _visit_from(v, f"{path}.visits[{j}]")
        for j, v in enumerate(
            _array(_required(obj, "visits", path, eid), f"{path}.visits", eid)
        )
    )
    return Route(
        vehicle_id=eid,
        start_depot=start_depot,
        end_depot=end_depot,
        visits=visits,
        start_load=_vector(
            _required(obj, "start_load", path, eid), f"{path}.start_load", eid
        ),
        load_factor=_number(
            _required(obj, "load_factor", path, eid), f"{path}.load_factor", eid
        ),
        cost=_number(_required(obj, "cost", path, eid), f"{path}.cost", eid),
        end_travel_s=_integer(obj.get("end_travel_s", 0), f"{path}.end_travel_s", eid),
        end_distance_m=_integer(
            obj.get("end_distance_m", 0), f"{path}.end_distance_m", eid
        ),
        empty_distance_m=_integer(
            obj.get("empty_distance_m", 0), f"{path}.empty_distance_m", eid
        ),
        mean_load_factor=_number(
            obj.get("mean_load_factor", 0.0), f"{path}.mean_load_factor", eid
        ),
        late_s=_integer(obj.get("late_s", 0), f"{path}.late_s", eid),
        breaks=tuple(
            _route_break_from(b, f"{path}.breaks[{k}]", eid)
            for k, b in enumerate(_array(obj.get("breaks", []), f"{path}.breaks", eid))
        ),
        costs=_costs_from(obj, path, eid),
        **ints,
    )


def _route_break_from(value: object, path: str, vehicle_id: str) -> RouteBreak:
    obj = _object(value, path, vehicle_id)
    _check_keys(obj, _BREAK_FIELDS + _BREAK_EXTRAS, path, vehicle_id)
    start_s, end_s = (
        _integer(_required(obj, key, path, vehicle_id), f"{path}.{key}", vehicle_id)
        for key in _BREAK_FIELDS
    )
    return RouteBreak(start_s, end_s)


def _costs_from(
    parent: Mapping[str, object], path: str, entity_id: str | None
) -> Costs:
    """The ``costs`` block of a route or the totals (``path`` is the parent's):
    all four components, or no block at all (a plan file written before costs
    were split by component: every component 0)."""
    if "costs" not in parent:
        return Costs()
    path = _join(path, "costs")
    obj = _object(parent["costs"], path, entity_id)
    _check_keys(obj, _COSTS_FIELDS, path, entity_id)
    return Costs(
        **{
            key: _number(
                _required(obj, key, path, entity_id), _join(path, key), entity_id
            )
            for key in _COSTS_FIELDS
        }
    )


def _unplanned_from(value: object, path: str) -> Unplanned:
    obj = _object(value, path, None)
    eid = _string(_required(obj, "order_id", path, None), f"{path}.order_id", None)
    _check_keys(obj, _UNPLANNED_FIELDS, path, eid)
    code = _string(_required(obj, "code", path, eid), f"{path}.code", eid)
    if code not in {c.value for c in UnplannedCode}:
        _fail(
            f"unknown code {code!r}; known codes: "
            + ", ".join(c.value for c in UnplannedCode),
            f"{path}.code",
            eid,
        )
    reason = _string(_required(obj, "reason", path, eid), f"{path}.reason", eid)
    return Unplanned(order_id=eid, code=UnplannedCode(code), reason=reason)


def _totals_from(value: object, path: str) -> PlanTotals:
    obj = _object(value, path, None)
    _check_keys(obj, _TOTALS_FIELDS + _TOTALS_ADDED + _TOTALS_EXTRAS, path, None)
    ints = {
        key: _integer(_required(obj, key, path, None), f"{path}.{key}", None)
        for key in _TOTALS_FIELDS
        if key != "cost"
    }
    cost = _number(_required(obj, "cost", path, None), f"{path}.cost", None)
    added = {
        key: _integer(obj.get(key, 0), f"{path}.{key}", None)
        for key in _TOTALS_ADDED
        if key != "costs"
    }
    costs = _costs_from(obj, path, None)
    return PlanTotals(cost=cost, costs=costs, **ints, **added)


def _plan_from(value: object) -> Plan:
    top = _object(value, "", None)
    _check_keys(top, _PLAN_FIELDS, "", None)
    status = _string(_required(top, "status", "", None), "status", None)
    if status not in {s.value for s in PlanStatus}:
        _fail(
            f"unknown status {status!r}; known: "
            + ", ".join(s.value for s in PlanStatus),
            "status",
            None,
        )
    stats = {
        key: _stat(v, f"stats.{key}")
        for key, v in _object(top.get("stats", {}), "stats", None).items()
    }
    routes = _array(_required(top, "routes", "", None), "routes", None)
    unplanned = _array(_required(top, "unplanned", "", None), "unplanned", None)
    search = _object(top.get("search", {}), "search", None)
    stop_reason = _string(search.get("stop_reason", ""), "search.stop_reason", None)
    engines = tuple(
        _engine_from(e, f"search.engines[{i}]")
        for i, e in enumerate(_array(search.get("engines", []), "search.engines", None))
    )
    return Plan(
        status=PlanStatus(status),
        routes=tuple(_route_from(r, f"routes[{i}]") for i, r in enumerate(routes)),
        unplanned=tuple(
            _unplanned_from(u, f"unplanned[{i}]") for i, u in enumerate(unplanned)
        ),
        totals=_totals_from(_required(top, "totals", "", None), "totals"),
        solver_status=_string(
            _required(top, "solver_status", "", None), "solver_status", None
        ),
        objective=_integer(top.get("objective", 0), "objective", None),
        stats=stats,
        problem_name=_string(top.get("problem_name", ""), "problem_name", None),
        engines=engines,
        stop_reason=stop_reason,
    )


def _engine_out(run: EngineRun) -> dict[str, object]:
    return {
        "engine": run.engine,
        "outcome": run.outcome,
        "reason": run.reason,
        "relaxations": list(run.relaxations),
        "elapsed_s": run.elapsed_s,
        "objective": run.objective,
        "cost": run.cost,
        "repaired": run.repaired,
        "started_s": run.started_s,
    }


def _engine_from(value: object, path: str) -> EngineRun:
    data = _object(value, path, None)
    name = _string(_required(data, "engine", path, None), f"{path}.engine", None)
    objective = data.get("objective")
    return EngineRun(
        engine=name,
        outcome=_string(data.get("outcome", ""), f"{path}.outcome", name),
        reason=_string(data.get("reason", ""), f"{path}.reason", name),
        relaxations=tuple(
            _string(r, f"{path}.relaxations[{i}]", name)
            for i, r in enumerate(
                _array(data.get("relaxations", []), f"{path}.relaxations", name)
            )
        ),
        elapsed_s=_number(data.get("elapsed_s", 0.0), f"{path}.elapsed_s", name),
        objective=None
        if objective is None
        else _integer(objective, f"{path}.objective", name),
        repaired=_integer(data.get("repaired", 0), f"{path}.repaired", name),
        started_s=_number(data.get("started_s", 0.0), f"{path}.started_s", name),
    )


def plan_from_dict(data: Mapping[str, object]) -> Plan:
    """Read a plan written by :func:`plan_to_dict`.

    Parameters
    ----------
    data
        The decoded plan. The clock texts, durations and per-visit problem
        fields that :func:`plan_to_dict` adds are ignored; ``objective``,
        ``stats``, ``problem_name``, ``end_travel_s`` and ``end_distance_m`` may
        be omitted (0, empty, ``""``, 0, 0), and so may the keys added with the
        delivery-day features, so that older plan files still read: a visit's
        ``late_s``, a route's ``empty_distance_m``, ``mean_load_factor``,
        ``late_s``, ``breaks`` and ``costs``, the totals' ``empty_distance_m``,
        ``late_stops``, ``late_s`` and ``costs`` (0, 0.0, empty, all-zero
        costs). A ``costs`` block, when present, needs all four components.

    Returns
    -------
    Plan
        Equal to the plan that was written: ``plan_from_dict(plan_to_dict(p))
        == p``.

    Raises
    ------
    InvalidProblemError
        For a missing, unknown or mistyped key, with ``path`` (e.g.
        ``routes[0].visits[2].arrival_s``) and ``entity_id`` (vehicle or order
        id). Consistency of the times and loads is ``routing.check``'s business.
    """
    return _plan_from(data)


def save_plan(plan: Plan, path: str | Path, *, problem: Problem | None = None) -> None:
    """Write a plan as indented UTF-8 JSON (see :func:`plan_to_dict`).

    Parameters
    ----------
    plan
        The plan.
    path
        The file to write (replaced if it exists).
    problem
        The problem it solves, to add addresses and windows to the visits.

    Raises
    ------
    ValueError
        If the plan holds a NaN or infinite number (not valid JSON).
    """
    _write_json(plan_to_dict(plan, problem), path)
    logger.debug("wrote plan to %s", path)


def load_plan(path: str | Path) -> Plan:
    """Read a plan file written by :func:`save_plan`.

    Raises
    ------
    InvalidProblemError
        If the file is not valid JSON (message with line and column) or not a
        valid plan (see :func:`plan_from_dict`).
    OSError
        If the file cannot be read.
    """
    return _plan_from(_read_json(path))
