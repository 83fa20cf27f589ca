"""compare(): solve a day and its what-if variants side by side, one KPI row each.

Each solve is one call of the module-level `solve_variant`, which takes and
returns builtins only (scenario dict, variant dict, options), so that a caller can
run the solves in a process pool or on a Dask cluster by passing its ``map``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import fields
from functools import partial

from routing.check import check_plan
from routing.errors import InvalidProblemError
from routing.geo.matrix import TravelData
from routing.io import problem_from_dict, problem_to_dict
from routing.model import Problem
from routing.solver.options import SolveOptions
from routing.solver.solve import solve
from routing.whatif import (
    KPI_KEYS,
    Variant,
    apply_variant,
    kpi_row,
    variant_from_dict,
    variant_to_dict,
)

logger = logging.getLogger(__name__)

__all__ = ["BASE_NAME", "compare", "markdown_table", "solve_variant"]

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
        The day as a scenario dict (`routing.io.problem_to_dict`).
    variant_dict
        The variant (`routing.whatif.variant_to_dict`).
    options
        Search settings, as SolveOptions or a dict of its fields (default
        ``SolveOptions()``).
    travel_for
        Travel data for the variant's problem (a picklable, module-level
        function); default ``routing.geo.build_travel``.

    Returns
    -------
    dict
        `routing.whatif.kpi_row` of the variant's plan, plus ``solve_s`` (the
        solve's seconds) and ``violations`` (how many rules the plan breaks by
        the independent checker `routing.check.check_plan`; 0 for a sound plan).
    """
    problem = problem_from_dict(problem_dict)
    variant = variant_from_dict(variant_dict)
    day = apply_variant(problem, variant)
    travel = (travel_for or _default_travel)(day)
    plan = solve(day, travel, options=_options_from(options))
    row = kpi_row(variant.name, plan)
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
        `routing.whatif.kpi_row` rows (plus ``solve_s`` and ``violations``, see
        `solve_variant`), base first, then the variants in order.

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
    return [_result(item) for item in results]


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}" if math.isfinite(value) else str(value)
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(rows: Sequence[Mapping[str, object]]) -> str:
    """The rows as a GitHub-flavoured Markdown table.

    Columns: `routing.whatif.KPI_KEYS` present in the rows, then any other key
    in first-seen order; numbers right-aligned, floats with two decimals,
    missing cells empty.
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
    return "\n".join(lines) + "\n"
