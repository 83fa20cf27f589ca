"""The typed contract of the OpenAPI document: JSON Schemas of the scenario
(``problem``) and of the plan body, built from the key tables the engine's
readers use, and the error responses of every operation.

One source: the keys of each object are the reader's own tuples
(``routing.formats.scenario._*_KEYS``, ``routing.formats.plan_file._*_FIELDS``);
this module adds only each key's *kind* (time, window, place, id...), and a test
(``tests/api/test_openapi.py``) fails when the reader knows a key that has no
kind here, or the other way round. Descriptions are read from the key tables of
``scenarios/README.md`` when the file is there. The engine still validates every
request (the schema documents it; the engine's 422 names the field).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from routing.domain.model import OBJECTIVE_FIELDS
from routing.domain.plan import PlanStatus
from routing.formats import plan_file, scenario

README = Path(__file__).resolve().parents[1] / "scenarios" / "README.md"
"""The scenario format reference: its key tables give the descriptions."""

MAX_ID_LENGTH = 200
"""Longest id, in characters (``routing.formats._json.MAX_ID_LENGTH``, checked
equal by a test)."""

REF = "#/components/schemas/"

Schema = dict[str, Any]

_TIME: Schema = {
    "anyOf": [
        {"type": "string", "pattern": r"^\d{1,3}:[0-5]\d(:[0-5]\d)?$"},
        {"type": "integer", "minimum": 0, "maximum": 30 * 86400},
    ],
    "description": 'Clock text "HH:MM" / "HH:MM:SS" or seconds since midnight.',
}
_DURATION: Schema = {
    "anyOf": [
        {"type": "string", "pattern": r"^\d{1,3}:[0-5]\d(:[0-5]\d)?$"},
        {"type": "integer", "minimum": 0, "maximum": 30 * 86400},
    ],
    "description": '"H:MM" text or seconds.',
}
_WINDOW: Schema = {
    "type": "array",
    "prefixItems": [_TIME, _TIME],
    "items": False,
    "minItems": 2,
    "maxItems": 2,
    "description": "[start, end], both inclusive.",
}
_PLACE: Schema = {
    "anyOf": [
        {
            "type": "object",
            "properties": {
                "lat": {"type": "number", "minimum": -90, "maximum": 90},
                "lon": {"type": "number", "minimum": -180, "maximum": 180},
            },
            "required": ["lat", "lon"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {
                "x": {"type": "number", "minimum": -1e7, "maximum": 1e7},
                "y": {"type": "number", "minimum": -1e7, "maximum": 1e7},
            },
            "required": ["x", "y"],
            "additionalProperties": False,
        },
    ],
    "description": '{"lat", "lon"} (WGS84) or planar {"x", "y"}; one kind per file.',
}
_ID: Schema = {"type": "string", "minLength": 1, "maxLength": MAX_ID_LENGTH}
_TEXT: Schema = {"type": "string", "maxLength": 10_000}
_NAMES: Schema = {"type": "array", "items": _ID}
_VECTOR: Schema = {
    "type": "array",
    "items": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
}
_MONEY: Schema = {"type": "number", "minimum": 0, "maximum": 1e9}
_COUNT: Schema = {"type": "integer", "minimum": 0, "maximum": 100_000}
_PRIORITY: Schema = {"type": "integer", "minimum": 0, "maximum": 10}


def _nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def _array_of(name: str) -> Schema:
    return {"type": "array", "items": {"$ref": REF + name}}


SCENARIO_KINDS: dict[str, tuple[tuple[str, ...], dict[str, Schema], tuple[str, ...]]]
SCENARIO_KINDS = {
    # name: (the reader's keys, the kind of each, required keys)
    "Scenario": (
        scenario._TOP_KEYS,
        {
            "name": _TEXT,
            "date": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
            "quantities": _NAMES,
            "horizon": _WINDOW,
            "travel": {"type": "object", "description": "See TravelSettings."},
            "objective": {"$ref": REF + "Objective"},
            "tiers": _array_of("Tier"),
            "depots": {**_array_of("Depot"), "minItems": 1},
            "vehicles": _array_of("Vehicle"),
            "orders": _array_of("Order"),
            "pairs": _array_of("Pair"),
        },
        ("depots", "vehicles", "orders"),
    ),
    "Objective": (
        scenario._OBJECTIVE_KEYS,
        {key: _MONEY for key in OBJECTIVE_FIELDS},
        (),
    ),
    "Tier": (
        scenario._TIER_KEYS,
        {
            "id": _ID,
            "max_lateness": _DURATION,
            "lateness_cost_per_hour": _MONEY,
            "priority": _PRIORITY,
        },
        ("id",),
    ),
    "Pair": (
        scenario._PAIR_KEYS,
        {"id": _ID, "pickup": _ID, "delivery": _ID, "max_ride": _nullable(_DURATION)},
        ("id", "pickup", "delivery"),
    ),
    "Depot": (
        scenario._DEPOT_KEYS,
        {"id": _ID, "location": _PLACE, "opening": _WINDOW, "address": _TEXT},
        ("id", "location"),
    ),
    "Vehicle": (
        scenario._VEHICLE_KEYS,
        {
            "id": _ID,
            "start_depot": _ID,
            "end_depot": _nullable(_ID),
            "shift": _WINDOW,
            "capacity": _VECTOR,
            "fixed_cost": _MONEY,
            "cost_per_km": _MONEY,
            "cost_per_hour": _MONEY,
            "profile": _ID,
            "max_duration": _nullable(_DURATION),
            "max_stops": _nullable(_COUNT),
            "max_distance_km": _nullable(
                {"type": "number", "minimum": 0, "maximum": 1e5}
            ),
            "skills": _NAMES,
            "kind": _ID,
            "breaks": _array_of("Break"),
        },
        ("id", "start_depot", "capacity"),
    ),
    "Break": (
        scenario._BREAK_KEYS,
        {"window": _WINDOW, "duration": _DURATION},
        ("window", "duration"),
    ),
    "Order": (
        scenario._ORDER_KEYS,
        {
            "id": _ID,
            "location": _PLACE,
            "service": _DURATION,
            "windows": {"type": "array", "items": _WINDOW},
            "delivery": _VECTOR,
            "pickup": _VECTOR,
            "skills": _NAMES,
            "priority": _nullable(_PRIORITY),
            "optional": {"type": "boolean"},
            "penalty": _nullable(_MONEY),
            "address": _TEXT,
            "notes": _TEXT,
            "tier": _nullable(_ID),
            "max_lateness": _nullable(_DURATION),
            "lateness_cost_per_hour": _nullable(_MONEY),
            "vehicle_kinds": _NAMES,
        },
        ("id", "location"),
    ),
}
"""Each scenario object: the reader's key tuple, a kind per key, required keys."""

_README_SECTION = {
    "Scenario": "Top level",
    "Objective": "Objective",
    "Tier": "Tier",
    "Pair": "Pair",
    "Depot": "Depot",
    "Vehicle": "Vehicle",
    "Break": "Break (in a vehicle's `breaks`)",
    "Order": "Order",
}

_NUMBER: Schema = {"type": "number"}
_CLOCK: Schema = {"type": "string"}
_INT_VECTOR: Schema = {"type": "array", "items": {"type": "integer"}}

PLAN_KINDS: dict[str, tuple[tuple[str, ...], dict[str, Schema], tuple[str, ...]]]
PLAN_KINDS = {
    "Plan": (
        plan_file._PLAN_FIELDS,
        {
            "problem_name": {"type": "string"},
            "status": {"type": "string", "enum": [s.value for s in PlanStatus]},
            "solver_status": {"type": "string"},
            "objective": {"type": "integer"},
            "stats": {"type": "object", "additionalProperties": _NUMBER},
            "totals": {"$ref": REF + "PlanTotals"},
            "routes": _array_of("Route"),
            "unplanned": _array_of("Unplanned"),
            "search": {
                "type": "object",
                "properties": {
                    "stop_reason": {"type": "string"},
                    "engines": _array_of("EngineRun"),
                },
            },
        },
        ("status", "solver_status", "totals", "routes", "unplanned"),
    ),
    "Route": (
        plan_file._ROUTE_FIELDS + plan_file._ROUTE_EXTRAS,
        {
            **{
                key: _NUMBER
                for key in plan_file._ROUTE_FIELDS
                if key.endswith(("_s", "_m", "_factor")) or key == "cost"
            },
            "vehicle_id": {"type": "string"},
            "start_depot": {"type": "string"},
            "end_depot": _nullable({"type": "string"}),
            "start_load": _INT_VECTOR,
            "breaks": _array_of("RouteBreak"),
            "costs": {"$ref": REF + "Costs"},
            "visits": _array_of("Visit"),
            "start": _CLOCK,
            "end": _CLOCK,
            "duration": _CLOCK,
        },
        ("vehicle_id", "visits"),
    ),
    "Visit": (
        plan_file._VISIT_FIELDS + plan_file._VISIT_EXTRAS,
        {
            **{
                key: _NUMBER
                for key in plan_file._VISIT_FIELDS
                if key.endswith(("_s", "_m"))
            },
            "order_id": {"type": "string"},
            "load": _INT_VECTOR,
            "arrival": _CLOCK,
            "start": _CLOCK,
            "departure": _CLOCK,
            "late": _CLOCK,
            "address": {"type": "string"},
            "windows": {"type": "array", "items": {"type": "array"}},
            "notes": {"type": "string"},
        },
        ("order_id",),
    ),
    "RouteBreak": (
        plan_file._BREAK_FIELDS + plan_file._BREAK_EXTRAS,
        {"start_s": _NUMBER, "end_s": _NUMBER, "start": _CLOCK, "end": _CLOCK},
        (),
    ),
    "Costs": (
        plan_file._COSTS_FIELDS,
        dict.fromkeys(plan_file._COSTS_FIELDS, _NUMBER),
        (),
    ),
    "PlanTotals": (
        plan_file._TOTALS_FIELDS + plan_file._TOTALS_ADDED + plan_file._TOTALS_EXTRAS,
        {
            **dict.fromkeys(
                plan_file._TOTALS_FIELDS + plan_file._TOTALS_ADDED, _NUMBER
            ),
            "costs": {"$ref": REF + "Costs"},
            "duration": _CLOCK,
            "on_time_rate": _NUMBER,
            "driver_hours": _NUMBER,
        },
        ("cost",),
    ),
    "Unplanned": (
        plan_file._UNPLANNED_FIELDS,
        {key: {"type": "string"} for key in plan_file._UNPLANNED_FIELDS},
        ("order_id", "code", "reason"),
    ),
    "EngineRun": (
        plan_file._ENGINE_FIELDS,
        {
            "engine": {"type": "string"},
            "outcome": {"type": "string"},
            "reason": {"type": "string"},
            "relaxations": {},
            "elapsed_s": _NUMBER,
            "objective": _nullable(_NUMBER),
            "repaired": {},
            "started_s": _NUMBER,
            "iterations": {"type": "integer"},
            "routes_eliminated": {"type": "integer"},
        },
        (),
    ),
}
"""Each plan-body object: the plan file's key tuple, a kind per key, required
keys. Types are what the engine writes; responses only, so they are loose where
the writer is (numbers may be integers)."""


def _readme_rows() -> dict[str, dict[str, str]]:
    """``{section: {key: "type; default; meaning"}}`` from scenarios/README.md."""
    try:
        text = README.read_text(encoding="utf-8")
    except OSError:
        return {}
    out: dict[str, dict[str, str]] = {}
    section = ""
    for line in text.splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
            continue
        row = re.match(r"^\| `([a-z_]+)` \| ([^|]*) \| ([^|]*) \| ([^|]*) \|$", line)
        if row and section:
            key, kind, default, meaning = (part.strip() for part in row.groups())
            text_ = f"{kind}; default: {default}" + (f". {meaning}" if meaning else "")
            out.setdefault(section, {})[key] = text_
    return out


def _objects(
    table: dict[str, tuple[tuple[str, ...], dict[str, Schema], tuple[str, ...]]],
    *,
    closed: bool,
    docs: dict[str, dict[str, str]] | None = None,
) -> dict[str, Schema]:
    out: dict[str, Schema] = {}
    for name, (keys, kinds, required) in table.items():
        rows = (docs or {}).get(_README_SECTION.get(name, ""), {})
        properties = {}
        for key in keys:
            prop = dict(kinds[key])
            if key in rows:
                prop["description"] = rows[key]
            properties[key] = prop
        schema: Schema = {"type": "object", "properties": properties}
        if required:
            schema["required"] = list(required)
        if closed:
            schema["additionalProperties"] = False
        out[name] = schema
    return out


def scenario_schemas() -> dict[str, Schema]:
    """The component schemas of a scenario (``Scenario`` and its objects):
    closed objects, as the reader rejects unknown keys."""
    schemas = _objects(SCENARIO_KINDS, closed=True, docs=_readme_rows())
    schemas["Scenario"]["description"] = (
        "A planning day in the scenario format (scenarios/README.md): depots, "
        "vehicles, orders, travel. The engine validates it; any error is a 422 "
        "naming the field (problem.orders[3].windows[0]) and the entity."
    )
    return schemas


def plan_schemas() -> dict[str, Schema]:
    """The component schemas of a plan body (``Plan`` and its objects)."""
    schemas = _objects(PLAN_KINDS, closed=False)
    schemas["Plan"]["description"] = (
        "Routes with timed visits, unplanned orders with reasons, totals and "
        "costs (the plan file format of `routing solve --out`)."
    )
    return schemas


ERROR_STATUSES: dict[int, str] = {
    400: "bad_request: the request is malformed (e.g. a header it cannot read).",
    401: "unauthorized: missing or unknown API key (X-API-Key).",
    403: "forbidden: the key's role or depots do not allow it.",
    404: "not_found: no such resource for this key (not_published: drivers, "
    "nothing published yet).",
    405: "method_not_allowed: the path does not take this method.",
    409: "conflict, not_publishable, not_published, superseded, not_planned: "
    "the resource is not in a state that allows it.",
    410: "superseded: a later plan of the day was published (drivers).",
    413: "too_large: body above the size limit, or more orders, depots, vehicles "
    "or locations than the service takes.",
    415: "unsupported_media_type: the body is not application/json.",
    422: "invalid_input, routing_error: a field is invalid; path names it.",
    429: "queue_full: the job queue is full; retry after Retry-After seconds.",
    503: "unavailable: the database does not answer.",
}
"""The error statuses documented on operations (the body is always ErrorResponse)."""


def error_statuses(path: str, method: str, operation: dict[str, Any]) -> list[int]:
    """The error statuses an operation can answer: every operation 405, 422 and
    503; those with a key 401 and 403; with a path parameter 404; with a body
    400, 413 and 415; jobs (create, re-plan, what-if) 429."""
    statuses = [405, 422, 503]
    if path.startswith("/v1/") and path not in ("/v1/health", "/v1/ready"):
        statuses += [401, 403]
    if "{" in path:
        statuses.append(404)
    if method in ("post", "put", "patch") and "requestBody" in operation:
        statuses += [400, 413, 415]
    if method == "post" and (
        path in ("/v1/plans", "/v1/whatif") or path.endswith("/replan")
    ):
        statuses.append(429)
    return sorted(set(statuses))


def install(schema: dict[str, Any], *, max_orders: int | None = None) -> dict[str, Any]:
    """Put the typed bodies and the error responses into an OpenAPI document
    (FastAPI's, in place): ``problem`` properties refer to ``Scenario``, a
    plan's ``plan`` to ``Plan``; each operation lists its error statuses with
    the ErrorResponse body."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    scenario_defs = scenario_schemas()
    if max_orders is not None:
        orders = scenario_defs["Scenario"]["properties"]["orders"]
        orders["maxItems"] = max_orders
    components.update(scenario_defs)
    components.update(plan_schemas())
    for name, model in components.items():
        props = model.get("properties", {}) if isinstance(model, dict) else {}
        if name in SCENARIO_KINDS or name in PLAN_KINDS:
            continue
        if "problem" in props:
            props["problem"] = _typed(props["problem"], "Scenario")
        if name == "PlanOut" and "plan" in props:
            props["plan"] = _typed(props["plan"], "Plan")
    error_ref = {"$ref": REF + "ErrorResponse"}
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            for status in error_statuses(path, method, operation):
                entry = responses.setdefault(str(status), {})
                entry.setdefault("description", ERROR_STATUSES[status])
                entry["content"] = {"application/json": {"schema": error_ref}}
    return schema


def _typed(prop: Schema, name: str) -> Schema:
    """A property schema made to refer to a component, keeping its
    description and whether it may be null."""
    ref: Schema = {"$ref": REF + name}
    nullable = any(
        isinstance(o, dict) and o.get("type") == "null" for o in prop.get("anyOf", [])
    )
    out: Schema = {"anyOf": [ref, {"type": "null"}]} if nullable else dict(ref)
    for key in ("description", "title", "default"):
        if key in prop:
            out[key] = prop[key]
    return out
