"""Unit rules: internal times are integer seconds, distances integer meters."""

from __future__ import annotations

import re

SECONDS_PER_DAY = 86_400
"""Times are seconds since midnight of the planning day."""

MAX_HORIZON_S = 7 * SECONDS_PER_DAY
"""Upper bound on any time value; keeps OR-Tools cumuls far from int64 overflow
and catches milliseconds passed by mistake."""

COST_SCALE = 100_000
"""Money amounts are floats at the boundary; the solver's objective is integer, in
1/100000 of a money unit. At that scale a 10 m arc at 0.35/km (0.0035) is still 350
units and 25/hour is 694.4 units per second, so rounding errors stay below 0.1%;
a 10 000-unit day costs 1e9 units, far from int64 overflow. Reported costs are
always recomputed from the plan in floats, never read from the solver."""

_CLOCK = re.compile(r"^(\d{1,3}):([0-5]\d)(?::([0-5]\d))?$")


def parse_time_s(value: object, *, path: str = "", entity_id: str | None = None) -> int:
    """Parse a time given as clock text ``"HH:MM[:SS]"`` or integer seconds.

    Hours may exceed 23 (``"26:00"`` is 2 a.m. the next day) so that night shifts
    stay monotone.

    Raises
    ------
    InvalidProblemError
        If the value is neither a clock string nor a non-negative number.
    """
    from routing.domain.errors import InvalidProblemError

    if isinstance(value, bool):
        raise InvalidProblemError(
            f"expected a time, got {value!r}", path=path, entity_id=entity_id
        )
    if isinstance(value, int | float):
        if value != value or value < 0:  # NaN or negative
            raise InvalidProblemError(
                f"time must be >= 0 seconds, got {value!r}",
                path=path,
                entity_id=entity_id,
            )
        return round(value)
    if isinstance(value, str):
        match = _CLOCK.match(value.strip())
        if match:
            h, m, s = match.groups()
            return int(h) * 3600 + int(m) * 60 + int(s or 0)
    raise InvalidProblemError(
        f'expected a time as "HH:MM" or seconds, got {value!r}',
        path=path,
        entity_id=entity_id,
    )


def format_clock(seconds: int) -> str:
    """Format seconds since midnight as ``HH:MM`` (``HH:MM:SS`` if not whole
    minutes)."""
    sign = "-" if seconds < 0 else ""
    seconds = abs(int(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{sign}{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")
