"""JSON reading and writing, and the strict value checks every file format shares.

Each check raises :class:`~routing.domain.errors.InvalidProblemError` with the
``path`` of the offending value and the ``entity_id`` it belongs to.
"""

from __future__ import annotations

import difflib
import json
import math
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from routing.domain.errors import InvalidProblemError
from routing.domain.model import (
    Location,
    Place,
    Point,
    TimeWindow,
)
from routing.domain.units import MAX_HORIZON_S, parse_time_s

_LATLON_KEYS = ("lat", "lon")
_XY_KEYS = ("x", "y")

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

MAX_PLANAR = 1e7
"""Largest planar coordinate (absolute value): distances stay below 3e7 units, and
times the Euclidean ``scale`` (at most 1000) far inside int64."""

_COORDINATE_BOUNDS = {"lat": 90.0, "lon": 180.0, "x": MAX_PLANAR, "y": MAX_PLANAR}
"""Largest absolute value of each coordinate key."""

MAX_ID_LENGTH = 200
"""Longest id of a depot, vehicle, order, tier or pair, in characters. Every
database column of the service that stores such an id (``api/db.py``: a plan's
depots, promised orders, a driver key's vehicle) holds 200 characters: an id the
reader accepts can be stored, promised and looked up on SQLite and PostgreSQL
alike, and no other id can reach a plan."""

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


def _id_problem(text: str) -> str | None:
    """Why ``text`` is not a usable id (see `MAX_ID_LENGTH`), or None."""
    if not text.strip():
        return "expected a non-empty id"
    if len(text) > MAX_ID_LENGTH:
        return f"id is {len(text)} characters long; at most {MAX_ID_LENGTH}"
    for char in text:
        if unicodedata.category(char) == "Cc":
            return f"id contains the control character {char!r}"
    return None


def _id(value: object, path: str, entity_id: str | None) -> str:
    """An entity id: 1 to `MAX_ID_LENGTH` characters, not only blanks, no
    control characters (tab, newline, NUL, DEL...)."""
    text = _string(value, path, entity_id)
    problem = _id_problem(text)
    if problem:
        _fail(problem, path, entity_id)
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


def _number(
    value: object,
    path: str,
    entity_id: str | None,
    *,
    low: float | None = None,
    high: float | None = None,
    is_low_open: bool = False,
) -> float:
    """A finite JSON number as float (NaN, Infinity and booleans are rejected),
    within ``[low, high]`` when given (``(low, high]`` with ``is_low_open``)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        _fail(f"expected a number, {_got(value)}", path, entity_id)
    try:
        number = float(value)
    except OverflowError:
        _fail(f"number is too large: {_got(value)}", path, entity_id)
    if not math.isfinite(number):
        _fail(f"expected a finite number, got {value!r}", path, entity_id)
    too_low = low is not None and (number <= low if is_low_open else number < low)
    too_high = high is not None and number > high
    if too_low or too_high:
        lo = "(-inf" if low is None else ("(" if is_low_open else "[") + _num(low)
        hi = "inf)" if high is None else _num(high) + "]"
        _fail(f"must be within {lo}, {hi}, got {_num(number)}", path, entity_id)
    return number


def _num(value: float) -> str:
    """A number for a message: integers in full (2147483647), else ``%g``."""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:g}"


def _time(value: object, path: str, entity_id: str | None) -> int:
    """A time or duration: ``"HH:MM[:SS]"`` text or seconds (``units.parse_time_s``),
    at most `MAX_HORIZON_S` (a week: every time lies in the horizon, and no
    duration can be longer)."""
    if isinstance(value, bool) or (
        isinstance(value, float) and not math.isfinite(value)
    ):
        _fail(f'expected a time as "HH:MM" or seconds, {_got(value)}', path, entity_id)
    seconds = parse_time_s(value, path=path, entity_id=entity_id)
    if seconds > MAX_HORIZON_S:
        _fail(
            f"time must be within [0, {MAX_HORIZON_S}] s (a week), {_got(value)}",
            path,
            entity_id,
        )
    return seconds


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
        _number(
            _required(obj, k, path, entity_id),
            _join(path, k),
            entity_id,
            low=-_COORDINATE_BOUNDS[k],
            high=_COORDINATE_BOUNDS[k],
        )
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
    # An id that breaks the id rule names nothing (and may be megabytes long).
    eid = raw_id if isinstance(raw_id, str) and not _id_problem(raw_id) else None
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
