"""Scenario JSON <-> Problem: the engine's input format.

The scenario format is specified in ``scenarios/README.md``; this module implements
exactly it. Reading is strict: anything a JSON file can contain that is not a valid
scenario (a wrong type, a missing or unknown key, a bad clock text, NaN, ...)
becomes an :class:`~routing.domain.errors.InvalidProblemError` whose ``path``
points at the
offending value (``orders[3].windows[0]``) and whose ``entity_id`` names the depot,
vehicle, order, tier or pair concerned. No ``KeyError`` or ``TypeError`` escapes.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Mapping, Sequence
from datetime import date as Date
from pathlib import Path

from routing.domain.model import (
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
from routing.domain.units import format_clock
from routing.formats._json import (
    _array,
    _boolean,
    _check_keys,
    _entity,
    _entity_errors,
    _fail,
    _id,
    _integer,
    _join,
    _name,
    _number,
    _object,
    _place,
    _read_json,
    _required,
    _skills,
    _string,
    _time,
    _vector,
    _window,
)

__all__ = ["load_problem", "problem_from_dict", "problem_to_dict"]

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
DEFAULT_QUANTITIES: tuple[str, ...] = ("units",)
"""Capacity dimensions of a scenario that names none (README: ``["units"]``)."""

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

MAX_DISTANCE_KM = 2_000_000.0
"""Largest ``max_distance_km``: in meters it stays below 2**31 (the model's bound on
route limits), and it is 50 times round the Earth, so nothing real is refused."""

DETOUR_FACTOR_RANGE = (1.0, 10.0)
"""``travel.detour_factor``: roads are never shorter than the straight line, and
published circuity factors stay below 2; 10 leaves room for mountain ferries."""

SPEED_KMH_RANGE = (1.0, 300.0)
"""``travel.speeds_kmh`` values: a walking courier to a high-speed train. Below 1
km/h, durations of long legs leave any horizon (and float64 -> int64)."""

MAX_EUCLIDEAN_SCALE = 1000.0
"""``travel.scale`` (> 0): benchmark conventions use 1, 10 or 100."""

MAX_MATRIX_VALUE = 2**31 - 1
"""Largest entry of an explicit ``travel.profiles`` matrix (meters or seconds):
sums over a route stay far inside int64."""

# Plan keys: the fields read back, then the human-readable additions (ignored on

# --------------------------------------------------------------- scenario -> model


def _depot_from(value: object, path: str, horizon: TimeWindow) -> Depot:
    obj, eid = _entity(value, path, _DEPOT_KEYS)
    depot_id = _id(_required(obj, "id", path, eid), f"{path}.id", eid)
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
    vehicle_id = _id(_required(obj, "id", path, eid), f"{path}.id", eid)
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
        km = _number(
            obj["max_distance_km"],
            f"{path}.max_distance_km",
            eid,
            low=0.0,
            high=MAX_DISTANCE_KM,
        )
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
    order_id = _id(_required(obj, "id", path, eid), f"{path}.id", eid)
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
    tier_id = _id(_required(obj, "id", path, eid), f"{path}.id", eid)
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
    pair_id = _id(_required(obj, "id", path, eid), f"{path}.id", eid)
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


def _check_travel_numbers(travel: Mapping[str, object]) -> None:
    """Type and range of every number in a ``travel`` block.

    The block's shape (provider names, known keys) is the travel provider's to
    check (``routing.geo.provider_from_settings``); its numbers are checked here,
    so that no provider ever sees an infinite detour or a speed of 1e-300 km/h.
    """
    if "detour_factor" in travel:
        low, high = DETOUR_FACTOR_RANGE
        _number(
            travel["detour_factor"], "travel.detour_factor", None, low=low, high=high
        )
    speeds = travel.get("speeds_kmh")
    if isinstance(speeds, Mapping):
        low, high = SPEED_KMH_RANGE
        for name, kmh in speeds.items():
            _number(kmh, f"travel.speeds_kmh.{name}", None, low=low, high=high)
    if "scale" in travel:
        _number(
            travel["scale"],
            "travel.scale",
            None,
            low=0.0,
            high=MAX_EUCLIDEAN_SCALE,
            is_low_open=True,
        )
    profiles = travel.get("profiles")
    if not isinstance(profiles, Mapping):
        return
    for name, entry in profiles.items():
        if not isinstance(entry, Mapping):
            continue
        for key in ("distances_m", "durations_s"):
            rows = entry.get(key)
            if not isinstance(rows, list | tuple):
                continue
            for i, row in enumerate(rows):
                if not isinstance(row, list | tuple):
                    continue
                for j, value in enumerate(row):
                    _number(
                        value,
                        f"travel.profiles.{name}.{key}[{i}][{j}]",
                        None,
                        low=0.0,
                        high=MAX_MATRIX_VALUE,
                    )


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
        _check_travel_numbers(travel)
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
