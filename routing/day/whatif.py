"""What-if variants of a day (more or fewer vans, a closed depot, wider slots,
longer shifts) and the KPI row a dispatcher compares them by.

Pure domain code: `apply_variant` turns a Problem into a variant Problem and
`kpi_row` summarises a Plan; solving them side by side is
`routing.day.whatif.compare`.

Rows are compared by ``total_cost``: the planned routes' cost plus the penalty
of every order left out, priced as the solver prices it
(`routing.domain.timing.unplanned_penalty`).
Comparing the planned cost alone would make a variant that drops orders look
cheaper than one that serves them.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from functools import partial
from itertools import count

from routing.check import check_plan
from routing.domain.errors import InvalidProblemError
from routing.domain.model import Order, Problem, TimeWindow, Vehicle
from routing.domain.plan import Plan
from routing.domain.timing import unplanned_penalty
from routing.formats import problem_from_dict, problem_to_dict
from routing.geo.matrix import TravelData
from routing.solver.options import SolveOptions, remaining
from routing.solver.solve import solve

logger = logging.getLogger(__name__)

__all__ = [
    "BASE_NAME",
    "COMPARE_KEYS",
    "KPI_KEYS",
    "Variant",
    "apply_variant",
    "compare",
    "kpi_row",
    "markdown_table",
    "solve_variant",
    "variant_from_dict",
    "variant_to_dict",
]

KPI_KEYS = (
    "name",
    "rank",
    "status",
    "orders_planned",
    "orders_unplanned",
    "unplanned_orders",
    "vehicles_used",
    "km",
    "empty_km",
    "driver_hours",
    "on_time_rate",
    "late_stops",
    "late_min",
    "cost",
    "unplanned_penalty",
    "total_cost",
    "total_vs_base",
    "cost_fixed",
    "cost_distance",
    "cost_time",
    "cost_lateness",
    "solve_s",
    "violations",
)
"""The keys of a compared row (`compare`), in display order: the table's columns.
`kpi_row` gives all of them except `COMPARE_KEYS`."""

COMPARE_KEYS = ("rank", "total_vs_base", "solve_s", "violations")
"""The keys only a comparison knows: the rank among the rows and the difference
to the base row (`compare`), the solve's time and the checker's verdict
(`solve_variant`)."""

_VARIANT_KEYS = (
    "name",
    "add_vehicles",
    "remove_vehicles",
    "close_depots",
    "widen_slots_s",
    "extend_shifts_s",
)


def _check_seconds(value: object, *, path: str, entity_id: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidProblemError(
            f"must be an integer >= 0, got {value!r}", path=path, entity_id=entity_id
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Variant:
    """A change to the day to try out.

    Parameters
    ----------
    name
        Label of the variant's KPI row.
    add_vehicles
        How many vehicles to add: clones of the first vehicle of each kind in the
        fleet (after removals and closures), taken round-robin over the kinds in
        fleet order; clone ids are ``"<template id>+<n>"``, n = 1, 2, ... per
        template.
    remove_vehicles
        Ids of vehicles to take out.
    close_depots
        Ids of depots that are closed for the day: vehicles starting or ending
        there are taken out (a closed depot can neither load nor receive them);
        orders stay.
    widen_slots_s
        Seconds added to the *end* of every booked slot (starts do not move,
        so no customer gets a visit earlier than booked); slots that then
        overlap are merged. Ends are capped at the horizon end.
    extend_shifts_s
        Seconds added to every shift end (capped at the horizon end); depot
        opening hours do not change.
    """

    name: str
    add_vehicles: int = 0
    remove_vehicles: tuple[str, ...] = ()
    close_depots: tuple[str, ...] = ()
    widen_slots_s: int = 0
    extend_shifts_s: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidProblemError(
                f"must be a non-empty name, got {self.name!r}", path="name"
            )
        for key in ("add_vehicles", "widen_slots_s", "extend_shifts_s"):
            _check_seconds(getattr(self, key), path=key, entity_id=self.name)
        for key in ("remove_vehicles", "close_depots"):
            value = getattr(self, key)
            if isinstance(value, str) or not isinstance(value, tuple | list):
                raise InvalidProblemError(
                    f"must be a list of ids, got {value!r}",
                    path=key,
                    entity_id=self.name,
                )
            object.__setattr__(self, key, tuple(value))
            for k, item in enumerate(getattr(self, key)):
                if not isinstance(item, str) or not item:
                    raise InvalidProblemError(
                        f"must be an id, got {item!r}",
                        path=f"{key}[{k}]",
                        entity_id=self.name,
                    )


def _at(prefix: str, path: str) -> str:
    return f"{prefix}.{path}" if prefix else path


def variant_to_dict(variant: Variant) -> dict[str, object]:
    """The variant as JSON-ready builtins (for worker processes and the API)."""
    return {
        "name": variant.name,
        "add_vehicles": variant.add_vehicles,
        "remove_vehicles": list(variant.remove_vehicles),
        "close_depots": list(variant.close_depots),
        "widen_slots_s": variant.widen_slots_s,
        "extend_shifts_s": variant.extend_shifts_s,
    }


def variant_from_dict(data: Mapping[str, object], *, path: str = "") -> Variant:
    """Build a Variant from builtins (`variant_to_dict`'s output).

    Parameters
    ----------
    data
        Keys as the Variant's fields; only ``name`` is required.
    path
        Prefix for error paths, e.g. ``"variants[1]"``.

    Raises
    ------
    InvalidProblemError
        On a missing name, an unknown key or a bad value; ``path`` is prefixed,
        e.g. ``variants[1].widen_slots_s``.
    """
    if not isinstance(data, Mapping):
        raise InvalidProblemError(f"expected an object, got {data!r}", path=path)
    unknown = sorted(str(k) for k in data if k not in _VARIANT_KEYS)
    if unknown:
        raise InvalidProblemError(
            f"unknown keys {unknown}; known keys: {list(_VARIANT_KEYS)}", path=path
        )
    if "name" not in data:
        raise InvalidProblemError("is required", path=_at(path, "name"))
    try:
        return Variant(**data)  # type: ignore[arg-type]
    except InvalidProblemError as exc:
        raise InvalidProblemError(
            exc.message, path=_at(path, exc.path), entity_id=exc.entity_id
        ) from exc


def _widened(order: Order, seconds: int, horizon_end_s: int) -> Order:
    if not order.windows or not seconds:
        return order
    merged: list[TimeWindow] = []
    for w in order.windows:
        end = max(w.end_s, min(w.end_s + seconds, horizon_end_s))
        if merged and w.start_s <= merged[-1].end_s:
            merged[-1] = TimeWindow(merged[-1].start_s, max(merged[-1].end_s, end))
        else:
            merged.append(TimeWindow(w.start_s, end))
    return replace(order, windows=tuple(merged))


def _clones(fleet: list[Vehicle], how_many: int, taken: set[str]) -> list[Vehicle]:
    templates: dict[str, Vehicle] = {}
    for v in fleet:
        templates.setdefault(v.kind, v)
    bases = list(templates.values())
    counters = {b.id: count(1) for b in bases}
    out: list[Vehicle] = []
    for k in range(how_many):
        base = bases[k % len(bases)]
        new_id = f"{base.id}+{next(counters[base.id])}"
        while new_id in taken:
            new_id = f"{base.id}+{next(counters[base.id])}"
        taken.add(new_id)
        out.append(replace(base, id=new_id))
    return out


def apply_variant(
    problem: Problem, variant: Variant, *, index: int | None = None
) -> Problem:
    """The day as the variant changes it.

    Removals and closures apply first, then clones are added (from the vehicles
    left; if none is left, from the vehicles not at a closed depot), then slots
    are widened and shifts extended (clones included).

    Parameters
    ----------
    problem
        The day.
    variant
        What to change.
    index
        The variant's position in a list, for error paths
        (``variants[1].remove_vehicles[0]``); None: paths start at the field.

    Raises
    ------
    InvalidProblemError
        If a vehicle or depot id is unknown, or vehicles are to be added while
        no vehicle is left to clone.
    """
    prefix = f"variants[{index}]" if index is not None else ""
    vehicle_ids = {v.id for v in problem.vehicles}
    depot_ids = {d.id for d in problem.depots}
    for k, vid in enumerate(variant.remove_vehicles):
        if vid not in vehicle_ids:
            raise InvalidProblemError(
                f"unknown vehicle; known vehicles: {sorted(vehicle_ids)}",
                path=_at(prefix, f"remove_vehicles[{k}]"),
                entity_id=vid,
            )
    for k, did in enumerate(variant.close_depots):
        if did not in depot_ids:
            raise InvalidProblemError(
                f"unknown depot; known depots: {sorted(depot_ids)}",
                path=_at(prefix, f"close_depots[{k}]"),
                entity_id=did,
            )
    closed = set(variant.close_depots)
    removed = set(variant.remove_vehicles)

    def is_open(v: Vehicle) -> bool:
        return v.start_depot not in closed and v.end_depot not in closed

    fleet = [v for v in problem.vehicles if v.id not in removed and is_open(v)]
    if variant.add_vehicles:
        templates = fleet or [v for v in problem.vehicles if is_open(v)]
        if not templates:
            raise InvalidProblemError(
                "no vehicle is left to clone (every vehicle is at a closed depot)",
                path=_at(prefix, "add_vehicles"),
                entity_id=variant.name,
            )
        fleet += _clones(templates, variant.add_vehicles, set(vehicle_ids))
    horizon_end = problem.horizon.end_s
    if variant.extend_shifts_s:
        fleet = [
            replace(
                v,
                shift=TimeWindow(
                    v.shift.start_s,
                    max(
                        v.shift.end_s,
                        min(v.shift.end_s + variant.extend_shifts_s, horizon_end),
                    ),
                ),
            )
            for v in fleet
        ]
    orders = tuple(
        _widened(o, variant.widen_slots_s, horizon_end) for o in problem.orders
    )
    return replace(problem, vehicles=tuple(fleet), orders=orders)


def kpi_row(name: str, plan: Plan, *, problem: Problem) -> dict[str, object]:
    """The KPIs of one plan, as a flat JSON-ready row (keys `KPI_KEYS` except
    `COMPARE_KEYS`).

    Parameters
    ----------
    name
        The row's label.
    plan
        A plan of ``problem``.
    problem
        The (variant) day the plan is for: it prices the unplanned orders.

    Returns
    -------
    dict
        ``orders_planned``/``orders_unplanned`` count the orders served and left
        out; ``unplanned_orders`` lists the left-out ones in the plan's order,
        each ``{order_id, code, reason, is_optional, penalty}`` (``code`` an
        ``UnplannedCode`` value, ``penalty`` what leaving it out costs,
        `routing.domain.timing.unplanned_penalty`). ``km`` and
        ``empty_km`` are kilometres (``empty_km``: driven with nothing on board),
        ``driver_hours`` the routes' durations, ``on_time_rate`` the share of
        planned visits inside their slot (0..1), ``late_min`` the summed
        lateness in minutes. ``cost`` is the planned routes' money cost (``cost_*``
        its components); ``unplanned_penalty`` the sum of the unplanned orders'
        penalties (see `routing.domain.timing.unplanned_penalty`: required
        orders cost
        ``REQUIRED_PENALTY`` each, doubled per priority step, whatever the
        objective's ``unplanned`` weight); ``total_cost = cost +
        unplanned_penalty``, what rows are compared by.
    """
    t = plan.totals
    orders = [problem.order(u.order_id) for u in plan.unplanned]
    penalties = [unplanned_penalty(problem, order) for order in orders]
    unplanned = [
        {
            "order_id": u.order_id,
            "code": u.code.value,
            "reason": u.reason,
            "is_optional": order.is_optional,
            "penalty": cost,
        }
        for u, order, cost in zip(plan.unplanned, orders, penalties, strict=True)
    ]
    penalty = sum(penalties, 0.0)
    return {
        "name": name,
        "status": plan.status.value,
        "orders_planned": t.orders_planned,
        "orders_unplanned": t.orders_unplanned,
        "unplanned_orders": unplanned,
        "vehicles_used": t.vehicles_used,
        "km": t.distance_m / 1000.0,
        "empty_km": t.empty_distance_m / 1000.0,
        "driver_hours": t.driver_hours,
        "on_time_rate": t.on_time_rate,
        "late_stops": t.late_stops,
        "late_min": t.late_s / 60.0,
        "cost": t.cost,
        "unplanned_penalty": penalty,
        "total_cost": t.cost + penalty,
        "cost_fixed": t.costs.fixed,
        "cost_distance": t.costs.distance,
        "cost_time": t.costs.time,
        "cost_lateness": t.costs.lateness,
    }


# ------------------------------------------------ solving the day's variants


BASE_NAME = "base"
"""Name of the row of the day as it is (always the first row)."""

TravelFor = Callable[[Problem], TravelData]
"""Travel data for a problem, e.g. ``routing.geo.build_travel``."""


def _default_travel(problem: Problem) -> TravelData:
    # Imported here: workers that receive no travel_for build travel from the
    # scenario's own ``travel`` block.
    from routing.geo.providers import build_travel

    return build_travel(problem)


def _options_from(options: SolveOptions | Mapping[str, object] | None) -> SolveOptions:
    if options is None:
        return SolveOptions()
    if isinstance(options, SolveOptions):
        return options
    known = {f.name for f in fields(SolveOptions)}
    unknown = sorted(str(k) for k in options if k not in known)
    if unknown:
        raise InvalidProblemError(
            f"unknown keys {unknown}; known keys: {sorted(known)}", path="options"
        )
    return SolveOptions(**options)  # type: ignore[arg-type]


def solve_variant(
    problem_dict: Mapping[str, object],
    variant_dict: Mapping[str, object],
    options: SolveOptions | Mapping[str, object] | None = None,
    *,
    travel_for: TravelFor | None = None,
) -> dict[str, object]:
    """Solve one variant of a day and return its KPI row.

    Module-level and fed with builtins so that it pickles and ships to process
    pools and Dask workers.

    Parameters
    ----------
    problem_dict
        The day as a scenario dict (`routing.formats.problem_to_dict`).
    variant_dict
        The variant (`routing.day.whatif.variant_to_dict`).
    options
        Search settings, as SolveOptions or a dict of its fields (default
        ``SolveOptions()``).
    travel_for
        Travel data for the variant's problem (a picklable, module-level
        function); default ``routing.geo.build_travel``.

    Returns
    -------
    dict
        `routing.day.whatif.kpi_row` of the variant's plan, plus ``solve_s`` (the
        solve's seconds) and ``violations`` (how many rules the plan breaks by
        the independent checker `routing.check.check_plan`; 0 for a sound plan).
    """
    started_s = time.perf_counter()  # the time limit covers the matrices
    problem = problem_from_dict(problem_dict)
    variant = variant_from_dict(variant_dict)
    day = apply_variant(problem, variant)
    travel = (travel_for or _default_travel)(day)
    plan = solve(
        day,
        travel,
        options=remaining(_options_from(options), started_s, time.perf_counter()),
    )
    row = kpi_row(variant.name, plan, problem=day)
    row["solve_s"] = float(plan.stats.get("total_s", 0.0))
    row["violations"] = len(check_plan(day, plan, travel))
    return row


def _result(item: object) -> dict[str, object]:
    """A row, or the row a future (concurrent.futures, Dask) resolves to."""
    result = getattr(item, "result", None)
    if callable(result):
        item = result()
    if not isinstance(item, dict):
        raise TypeError(f"map_fn returned {type(item).__name__}, expected a row dict")
    return item


def compare(
    problem: Problem,
    variants: Sequence[Variant],
    *,
    travel_for: TravelFor,
    options: SolveOptions | None = None,
    map_fn: Callable[..., Iterable[object]] | None = None,
) -> list[dict[str, object]]:
    """Solve the day and each variant; one KPI row each, the base first.

    Parameters
    ----------
    problem
        The day.
    variants
        The variants to try (names unique, none called ``"base"``).
    travel_for
        Travel data for a (variant) problem, e.g. ``routing.geo.build_travel``;
        must pickle when ``map_fn`` ships work to other processes.
    options
        Search settings for every solve (default ``SolveOptions()``); with a
        process pool keep ``workers=1`` so that the solves do not compete.
    map_fn
        ``map``-like: called as ``map_fn(func, problem_dicts, variant_dicts)``
        and returning the rows in order, or futures of them (anything with a
        ``result()`` method, e.g. ``dask.distributed.Client.map``'s); default
        the builtin ``map`` (one solve after the other, in this process).

    Returns
    -------
    list[dict]
        `routing.day.whatif.kpi_row` rows (plus ``solve_s`` and ``violations``, see
        `solve_variant`), base first, then the variants in order, keys in
        `KPI_KEYS` order. Each row also gets ``rank`` (1 = lowest ``total_cost``,
        the unplanned orders' penalties included; equal totals to the cent share
        a rank; a plan the checker faults ranks after every sound one) and
        ``total_vs_base`` (its ``total_cost`` minus the base row's: negative is
        cheaper than the day as it is).

    Raises
    ------
    InvalidProblemError
        If a variant does not fit the day (``path`` such as
        ``variants[1].remove_vehicles[0]``) or two variants share a name.
    """
    names = {BASE_NAME: -1}
    for i, variant in enumerate(variants):
        if not isinstance(variant, Variant):
            raise InvalidProblemError(
                f"expected a Variant, got {variant!r}", path=f"variants[{i}]"
            )
        if variant.name in names:
            first = names[variant.name]
            where = "the base row" if first < 0 else f"variants[{first}]"
            raise InvalidProblemError(
                f"name already used by {where}",
                path=f"variants[{i}].name",
                entity_id=variant.name,
            )
        names[variant.name] = i
        apply_variant(problem, variant, index=i)  # fail fast, before any solve
    all_variants = [Variant(name=BASE_NAME), *variants]
    scenario = problem_to_dict(problem)
    func = partial(
        solve_variant, options=options or SolveOptions(), travel_for=travel_for
    )
    results = (map_fn or map)(
        func,
        [scenario] * len(all_variants),
        [variant_to_dict(v) for v in all_variants],
    )
    return _ranked([_result(item) for item in results])


def _number(row: Mapping[str, object], key: str, default: float = 0.0) -> float:
    value = row.get(key, default)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise TypeError(f"row {row.get('name')!r}: {key} is {value!r}, not a number")
    return float(value)


def _ranked(rows: Sequence[Mapping[str, object]]) -> list[dict[str, object]]:
    """The rows with ``rank`` and ``total_vs_base`` (the first row is the base),
    keys in `KPI_KEYS` order, then any others."""
    if not rows:
        return []
    # Cents: totals that differ by float noise only share a rank.
    keys = [
        (_number(r, "violations") > 0, round(_number(r, "total_cost"), 2)) for r in rows
    ]
    base_total = _number(rows[0], "total_cost")
    out = []
    for row, key in zip(rows, keys, strict=True):
        ranked = {
            **row,
            "rank": 1 + sum(1 for other in keys if other < key),
            "total_vs_base": _number(row, "total_cost") - base_total,
        }
        out.append(
            {k: ranked[k] for k in KPI_KEYS if k in ranked}
            | {k: v for k, v in ranked.items() if k not in KPI_KEYS}
        )
    return out


MARKDOWN_IDS = 20
"""Unplanned order ids listed in a table cell; the rest are counted ("+N more")
and listed with their reasons below the table."""

MARKDOWN_REASONS = 50
"""Unplanned orders listed with their reasons per row below the table; a row
with more says how many it leaves out (the row's ``unplanned_orders`` has all)."""


def _unplanned_of(value: object) -> list[Mapping[str, object]] | None:
    """The ``unplanned_orders`` entries of a cell, or None if it is not such a
    list."""
    if not isinstance(value, list | tuple):
        return None
    if not all(isinstance(u, Mapping) and "order_id" in u for u in value):
        return None
    return list(value)


def _text(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}" if math.isfinite(value) else str(value)
    unplanned = _unplanned_of(value)
    if unplanned is not None:
        ids = [str(u["order_id"]) for u in unplanned[:MARKDOWN_IDS]]
        if len(unplanned) > MARKDOWN_IDS:
            ids.append(f"+{len(unplanned) - MARKDOWN_IDS} more")
        return _text(", ".join(ids))
    return _text(value)


def _reasons(rows: Sequence[Mapping[str, object]]) -> list[str]:
    """Markdown lines: per row with unplanned orders, each order's code and
    reason."""
    lines: list[str] = []
    for row in rows:
        unplanned = _unplanned_of(row.get("unplanned_orders"))
        if not unplanned:
            continue
        penalty = row.get("unplanned_penalty")
        priced = (
            f", penalty {penalty:,.2f}"
            if isinstance(penalty, int | float) and not isinstance(penalty, bool)
            else ""
        )
        lines.append(
            f"- **{_text(row.get('name', ''))}**: {len(unplanned)} unplanned{priced}"
        )
        lines += [
            f"  - `{_text(u['order_id'])}` ({_text(u.get('code', ''))}): "
            f"{_text(u.get('reason', ''))}"
            for u in unplanned[:MARKDOWN_REASONS]
        ]
        if len(unplanned) > MARKDOWN_REASONS:
            lines.append(
                f"  - ... {len(unplanned) - MARKDOWN_REASONS} more "
                "(see the row's unplanned_orders)"
            )
    return lines


def markdown_table(rows: Sequence[Mapping[str, object]]) -> str:
    """The rows as a GitHub-flavoured Markdown table, then the unplanned orders'
    reasons.

    Columns: `routing.day.whatif.KPI_KEYS` present in the rows, then any other key
    in first-seen order; numbers right-aligned, floats with two decimals and
    thousands separators, missing cells empty. ``unplanned_orders`` shows the
    ids (at most `MARKDOWN_IDS`); below the table, an "Unplanned orders" section
    lists per row each unplanned order with its code and reason (at most
    `MARKDOWN_REASONS` per row). No section when no row has unplanned orders.
    """
    if not rows:
        return ""
    keys = [k for k in KPI_KEYS if any(k in r for r in rows)]
    for row in rows:
        keys += [k for k in row if k not in keys]
    is_number = {
        k: all(
            isinstance(r.get(k), int | float) and not isinstance(r.get(k), bool)
            for r in rows
            if k in r
        )
        for k in keys
    }
    lines = [
        "| " + " | ".join(keys) + " |",
        "|" + "|".join("---:" if is_number[k] else "---" for k in keys) + "|",
    ]
    lines += [
        "| " + " | ".join(_cell(r[k]) if k in r else "" for k in keys) + " |"
        for r in rows
    ]
    reasons = _reasons(rows)
    if reasons:
        lines += ["", "Unplanned orders and why:", "", *reasons]
    return "\n".join(lines) + "\n"
