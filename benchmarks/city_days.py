"""City-day benchmark: our solver against VROOM and PyVRP on Andorra delivery days.

The days are the example scenarios (``scenarios/*.json``) and generated city days
(``scenarios.generate.city_day``: 2-3 depots, vans, cargo bikes and partner vans,
lunch breaks, skills, returns, one or two slots per order, soft-slot tiers). Each
day is solved in up to three variants (see `VARIANTS`) by each solver, one run at a
time so that wall times compare:

- ``ours``: ``routing.solver.solve`` with ``SolveOptions(time_limit_s, workers)``;
- ``vroom`` / ``pyvrp``: the peer *alone*, through its engine adapter
  (``routing.solver.engines``: ``precheck`` gives the allowed orders, the engine
  returns route sequences; PyVRP's as PyVRP searches, without the route
  elimination ours adds, `make_engine`); the sequences are timed by our
  scheduler (``routing.domain.timing.build_routes``) into a Plan.

Every plan, ours too, goes through ``routing.check.check_plan``; a plan with
violations is reported with their count and serves nothing in the comparisons.
Costs are recomputed from the plan under the variant's objective (`objective_cost`).

Usage (from the repository root)::

    python benchmarks/city_days.py --time-limit 30 \
        --out benchmarks/results/city-days-30s.md
    python benchmarks/city_days.py --time-limit 10 --no-examples --sizes 250 --seeds 1

Also importable: `city_days`, `example_days`, `hard_problem`, `distance_problem`,
`run_day`, `run`, `summarize_runs`, `write_report`.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import datetime as dt
import importlib
import math
import os
import platform
import shlex
import socket
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # scenarios/ is a folder of the checkout
    sys.path.insert(0, str(REPO_ROOT))

from routing.check import check_plan  # noqa: E402
from routing.domain.model import (  # noqa: E402
    Objective,
    Problem,
    has_soft_slots,
    with_hard_slots,
)
from routing.domain.plan import (  # noqa: E402
    Plan,
    Unplanned,
)
from routing.domain.timing import keep_feasible_routes, plan_from_routes  # noqa: E402
from routing.formats import load_problem, problem_from_dict  # noqa: E402
from routing.geo.matrix import TravelMatrix, matrix_for  # noqa: E402
from routing.geo.providers import build_travel  # noqa: E402
from routing.solver import SolveOptions, solve  # noqa: E402
from routing.solver.precheck import precheck  # noqa: E402
from scenarios import generate  # noqa: E402

SCENARIOS_DIR = REPO_ROOT / "scenarios"
"""The example days, ``*.json``."""

RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
"""Default folder of the reports."""

SIZES = (250, 500)
"""Orders in the generated days (the issue's 250 and 500)."""

SEEDS = (1, 2)
"""Generator seeds per size: two days of each size by default."""

SOLVERS = ("ours", "vroom", "pyvrp")
"""Solvers the runner knows; the peers run through their engine adapters."""

ENGINES: Mapping[str, tuple[str, str]] = {
    "vroom": ("routing.solver.engines.vroom_engine", "VroomEngine"),
    "pyvrp": ("routing.solver.engines.pyvrp_engine", "PyVRPEngine"),
}
"""Peer solver -> (module, class) of its engine adapter."""

AS_GIVEN, HARD, DISTANCE = "as given", "hard", "distance"
VARIANTS = (AS_GIVEN, HARD, DISTANCE)
"""``as given``: the day as written (soft slots where its tiers or orders allow
lateness). ``hard``: every slot hard (`hard_problem`); run only on days with soft
slots, elsewhere it is the same problem. ``distance``: hard slots and a cost of one
per km on every vehicle, nothing else (`distance_problem`)."""

RELAXATION_SEP = " | "
"""Joins a peer's relaxation lines in a row (the lines contain semicolons)."""

Row = dict[str, Any]
"""One run: a (day, variant, solver) with its checked figures (`COLUMNS`)."""

COLUMNS = (
    "day",
    "variant",
    "solver",
    "seed",
    "orders",
    "served",
    "planned",
    "unplanned",
    "violations",
    "cost",
    "km",
    "late_stops",
    "vehicles_used",
    "vehicles",
    "wall_s",
    "time_limit_s",
    "cores",
    "status",
    "solver_status",
    "relaxations",
    "first_violation",
    "error",
)
"""CSV columns of the runs. ``served``: orders on the routes of a plan with 0
checker violations, else 0 (``planned`` counts them regardless); ``cost``: see
`objective_cost`; ``wall_s``: the solver call (precheck, search and our timing of
the routes included; travel matrices and checking excluded)."""

SUMMARY_COLUMNS = (
    "day",
    "variant",
    "ours_served",
    "peer",
    "peer_served",
    "served_ge",
    "ours_cost",
    "peer_cost",
    "cost_below",
    "ours_km",
    "peer_km",
    "km_below",
    "hard_recost",
    "soft_le_hard",
)
"""CSV columns of the summary (one line per day and variant); see `summarize_runs`."""

Plans = dict[tuple[str, str, str], Plan]
"""``(day, variant, solver) -> plan``, kept for the soft-vs-hard comparison."""


# --- days and variants ----------------------------------------------------------


def example_days(names: Iterable[str] | None = None) -> list[tuple[str, Problem]]:
    """The example scenarios ``scenarios/*.json`` (all, or the named stems)."""
    paths = sorted(SCENARIOS_DIR.glob("*.json"))
    if names is not None:
        wanted = list(names)
        unknown = sorted(set(wanted) - {p.stem for p in paths})
        if unknown:
            raise ValueError(
                f"unknown example(s) {unknown}; known: {[p.stem for p in paths]}"
            )
        paths = [p for p in paths if p.stem in wanted]
    return [(p.stem, load_problem(p)) for p in paths]


def city_days(
    sizes: Iterable[int] = SIZES,
    seeds: Iterable[int] = SEEDS,
    *,
    vans: float = 1.0,
    pairs: bool = False,
) -> list[tuple[str, Problem]]:
    """Generated days ``city-<orders>-s<seed>`` (``generate.city_day``, soft slots);
    with ``vans`` < 1 only that share of the day's own vans (the first ones,
    rounded down, at least one), named ``...-vans<percent>``: a tight fleet
    that cannot serve every order, where orders served decide. ``pairs``: six
    shop-to-customer transfers among the orders (``generate.city_day(...,
    pairs=True)``), named ``...-pairs``: both peers take them as shipments."""
    if not 0 < vans <= 1:
        raise ValueError(f"vans must be in (0, 1], got {vans}")
    days = []
    for n in sizes:
        for seed in seeds:
            problem = problem_from_dict(generate.city_day(n, seed, pairs=pairs))
            name = f"city-{n}-s{seed}" + ("-pairs" if pairs else "")
            if vans < 1:
                problem = tight_fleet(problem, vans)
                name += f"-vans{round(100 * vans)}"
            days.append((name, problem))
    return days


def tight_fleet(problem: Problem, share: float) -> Problem:
    """``problem`` with only the first ``share`` of its vans (at least one);
    cargo bikes and partner vans stay."""
    vans = [v.id for v in problem.vehicles if v.kind == "van"]
    dropped = set(vans[max(1, int(len(vans) * share)) :])
    return dataclasses.replace(
        problem,
        name=f"{problem.name}, {len(vans) - len(dropped)} of {len(vans)} vans",
        vehicles=tuple(v for v in problem.vehicles if v.id not in dropped),
    )


def hard_problem(problem: Problem) -> Problem:
    """The day with every slot hard (`routing.domain.model.with_hard_slots`),
    named so in reports."""
    return dataclasses.replace(
        with_hard_slots(problem), name=f"{problem.name} [hard slots]"
    )


DISTANCE_OBJECTIVE = Objective(
    fixed_cost=0.0, distance=1.0, duration=0.0, unplanned=1.0, lateness=0.0
)
"""Only distance is weighed; the search preferences (waiting, early, balance) are
0, and unplanned orders keep their penalties (a required order's dwarfs any km)."""


def distance_problem(problem: Problem) -> Problem:
    """The day with distance as the only cost: `hard_problem` with every vehicle at
    ``cost_per_km = 1``, no fixed or hourly cost, and `DISTANCE_OBJECTIVE`.

    Why one per km on *every* vehicle rather than the vehicles' own rates: with
    their rates a cargo bike's km (0.02) would weigh 17 times less than a van's,
    and the search would minimise money, not km. With one per km the plan's cost
    *is* its km, for us and for the peers' plans alike. Why hard slots: with soft
    ones and lateness not priced, every solver could buy km with free lateness
    (and the peers may not model lateness at all), so the km would not compare.
    """
    hard = hard_problem(problem)
    return dataclasses.replace(
        hard,
        name=f"{problem.name} [distance only]",
        objective=DISTANCE_OBJECTIVE,
        vehicles=tuple(
            dataclasses.replace(v, fixed_cost=0.0, cost_per_km=1.0, cost_per_hour=0.0)
            for v in hard.vehicles
        ),
    )


def variants_of(
    problem: Problem, wanted: Sequence[str] = VARIANTS
) -> list[tuple[str, Problem]]:
    """The day's variants among ``wanted`` (``hard`` only where it differs)."""
    out: list[tuple[str, Problem]] = []
    if AS_GIVEN in wanted:
        out.append((AS_GIVEN, problem))
    if HARD in wanted and has_soft_slots(problem):
        out.append((HARD, hard_problem(problem)))
    if DISTANCE in wanted:
        out.append((DISTANCE, distance_problem(problem)))
    return out


# --- plans and their figures ----------------------------------------------------


def plan_from_sequences(
    problem: Problem,
    matrices: Mapping[str, TravelMatrix],
    sequences: Mapping[str, Sequence[str]],
    *,
    solver: str,
    solver_status: str = "",
    reasons: Mapping[str, Unplanned] | None = None,
) -> Plan:
    """Our Plan for route sequences: times from ``build_routes``, the rest unplanned.

    ``benchmarks/run.py`` has the same for one-matrix benchmark instances; a city
    day has one matrix per speed profile (vans, bikes). Orders not on a route are
    unplanned with their reason from ``reasons`` (e.g. the precheck's) if given,
    else "``solver`` left it out". Unknown vehicle ids are dropped by
    ``build_routes``, so their orders show up as missing in the checker.
    """
    return plan_from_routes(
        problem,
        matrices,
        sequences,
        solver_status=solver_status,
        reason=f"{solver} left it out",
        reasons=reasons,
    )


def objective_cost(problem: Problem, plan: Plan) -> float:
    """The plan's cost under the problem's objective, required orders aside.

    The routes' money by component (``plan.totals.costs``: fixed, distance, time,
    lateness), each times its ``problem.objective`` weight, plus the unplanned
    weight times the penalties of the *optional* orders left out. Required orders
    left out are not priced here (their penalty would swamp everything): the
    comparisons count them first, through the orders served. The search-only
    preferences (``waiting_per_hour`` ...) are not costs and are left out. With
    the default weights this is the plan's money cost plus optional penalties;
    in the ``distance`` variant it is the km driven.
    """
    w, c = problem.objective, plan.totals.costs
    cost = (
        w.fixed_cost * c.fixed
        + w.distance * c.distance
        + w.duration * c.time
        + w.lateness * c.lateness
    )
    optional = [problem.order(oid) for oid in plan.unplanned_ids]
    penalties = sum(problem.unplanned_penalty(o) for o in optional if o.is_optional)
    return cost + w.unplanned * penalties


def figures(problem: Problem, plan: Plan, travel: Mapping[str, TravelMatrix]) -> Row:
    """Checker verdict and figures of one plan (the `COLUMNS` it fills)."""
    violations = check_plan(problem, plan, travel)
    planned = plan.totals.orders_planned
    return {
        "orders": len(problem.orders),
        "served": 0 if violations else planned,
        "planned": planned,
        "unplanned": len(plan.unplanned),
        "violations": len(violations),
        "cost": objective_cost(problem, plan),
        "km": plan.totals.distance_m / 1000.0,
        "late_stops": plan.totals.late_stops,
        "vehicles_used": plan.totals.vehicles_used,
        "status": str(plan.status),
        "solver_status": plan.solver_status,
        "first_violation": str(violations[0]) if violations else "",
    }


# --- the solvers ----------------------------------------------------------------


def solve_ours(
    problem: Problem,
    matrices: Mapping[str, TravelMatrix],
    *,
    time_limit_s: float,
    cores: int,
    seed: int,
) -> tuple[Plan, tuple[str, ...]]:
    """Our solver, ``cores`` searches side by side (``SolveOptions.workers``),
    its engines on ``seed`` (the peers' seed: like with like)."""
    options = SolveOptions(time_limit_s=time_limit_s, workers=cores, seed=seed)
    return solve(problem, matrices, options=options), ()


PYVRP_NO_IMPROVEMENT = 10**9
"""PyVRP's stop after iterations without improvement: never, here. As a warm start
the adapter stops after 10 000 (OR-Tools polishes the rest); alone, PyVRP gets the
whole time limit, as ours does. VROOM stops by itself when its searches end (its
adapter picks the exploration level that fits the time limit)."""


def make_engine(name: str, *, cores: int) -> Any:
    """The engine adapter of a peer: VROOM with ``cores`` threads, PyVRP running
    to the time limit (`PYVRP_NO_IMPROVEMENT`, no hand-over to an OR-Tools
    phase it does not have) as PyVRP searches, without our route elimination
    (ours has it).

    Raises ImportError while the adapter is not there (the row then says so).
    """
    module, cls = ENGINES[name]
    engine_cls = getattr(importlib.import_module(module), cls)
    if name == "vroom":
        return engine_cls(nb_threads=cores)
    return engine_cls(
        no_improvement_iterations=PYVRP_NO_IMPROVEMENT,
        eliminate_routes=False,
        hand_over=False,
    )


def solve_peer(
    name: str,
    problem: Problem,
    matrices: Mapping[str, TravelMatrix],
    *,
    time_limit_s: float,
    cores: int,
    seed: int,
) -> tuple[Plan | None, tuple[str, ...], str]:
    """A peer alone: precheck, its engine, its routes without the stops that
    break a rule once timed (`repaired`), our timing of them.

    Returns
    -------
    (plan, relaxations, status)
        ``plan`` is None when the engine does not apply (``status`` says why).
    """
    engine = make_engine(name, cores=cores)
    support = engine.support(problem)
    if not support.applies:
        return None, tuple(support.relaxations), f"not applicable: {support.reason}"
    pre = precheck(problem, matrices)
    result = engine.solve(
        problem, matrices, pre.allowed, time_limit_s=time_limit_s, seed=seed
    )
    sequences, dropped = repaired(problem, matrices, result.sequences)
    plan = plan_from_sequences(
        problem,
        matrices,
        sequences,
        solver=name,
        solver_status=result.status + (f"+{dropped} dropped" if dropped else ""),
        reasons=pre.unplanned,
    )
    return plan, tuple(result.relaxations) or tuple(support.relaxations), ""


def repaired(
    problem: Problem,
    matrices: Mapping[str, TravelMatrix],
    sequences: Mapping[str, Sequence[str]],
) -> tuple[dict[str, list[str]], int]:
    """A peer's routes with the stops that break a rule once our timing places
    the breaks left out (``timing.keep_feasible_routes``), as its user would
    have to before dispatching them, and how many went. Where an engine relaxes the
    breaks (PyVRP has none), a single late stop would otherwise make the whole
    plan count as serving nothing."""
    out, dropped = keep_feasible_routes(problem, matrices, sequences)
    return out, len(dropped)


def run_one(
    day: str,
    variant: str,
    solver: str,
    problem: Problem,
    matrices: Mapping[str, TravelMatrix],
    *,
    time_limit_s: float,
    cores: int,
    seed: int,
) -> tuple[Row, Plan | None]:
    """Solve, time, check and measure one (day, variant, solver); never raises
    (a failure is a row with ``error`` set)."""
    row: Row = dict.fromkeys(COLUMNS)
    row.update(
        day=day,
        variant=variant,
        solver=solver,
        seed=seed,
        orders=len(problem.orders),
        vehicles=len(problem.vehicles),
        time_limit_s=time_limit_s,
        cores=1 if solver == "pyvrp" else cores,
        cost=math.nan,
        km=math.nan,
        wall_s=math.nan,
        relaxations="",
        first_violation="",
        error="",
        status="",
        solver_status="",
    )
    plan: Plan | None = None
    try:
        t0 = time.perf_counter()
        if solver == "ours":
            plan, relaxations = solve_ours(
                problem, matrices, time_limit_s=time_limit_s, cores=cores, seed=seed
            )
            skipped = ""
        else:
            plan, relaxations, skipped = solve_peer(
                solver,
                problem,
                matrices,
                time_limit_s=time_limit_s,
                cores=cores,
                seed=seed,
            )
        row["wall_s"] = time.perf_counter() - t0
        row["relaxations"] = RELAXATION_SEP.join(relaxations)
        if plan is None:
            row["status"] = skipped
            row["wall_s"] = math.nan
        else:
            row.update(figures(problem, plan, matrices))
    except Exception as exc:  # reported in the row, see docstring
        row["error"] = f"{type(exc).__name__}: {exc}"
        plan = None
    return row, plan


def recost_in(
    problem: Problem, plan: Plan, matrices: Mapping[str, TravelMatrix]
) -> tuple[Plan, int]:
    """``plan``'s routes re-timed in ``problem`` (another variant of its day), and
    the checker's violation count there."""
    sequences = {r.vehicle_id: list(r.order_ids) for r in plan.routes}
    reasons = {u.order_id: u for u in plan.unplanned}
    again = plan_from_sequences(
        problem,
        matrices,
        sequences,
        solver="recost",
        solver_status=plan.solver_status,
        reasons=reasons,
    )
    return again, len(check_plan(problem, again, matrices))


def run_day(
    day: str,
    problem: Problem,
    *,
    solvers: Sequence[str] = SOLVERS,
    variants: Sequence[str] = VARIANTS,
    time_limit_s: float = 30.0,
    cores: int = 1,
    seed: int = 1,
    report: Callable[[Row], None] | None = None,
) -> tuple[list[Row], Plans, dict[str, float]]:
    """Every variant of one day with every solver, one run after another.

    Returns
    -------
    (rows, plans, hard_recost)
        The runs; their plans by (day, variant, solver); and, when ours solved
        both the day and its hard variant, ``hard_recost[day]`` = our hard plan's
        routes re-timed in the day as given, under its objective (NaN if that
        plan has violations there).
    """
    travel = build_travel(problem)
    matrices = {p: matrix_for(travel, p) for p in problem.profiles}
    rows: list[Row] = []
    plans: Plans = {}
    for variant, varied in variants_of(problem, variants):
        for solver in solvers:
            row, plan = run_one(
                day,
                variant,
                solver,
                varied,
                matrices,
                time_limit_s=time_limit_s,
                cores=cores,
                seed=seed,
            )
            rows.append(row)
            if plan is not None:
                plans[day, variant, solver] = plan
            if report is not None:
                report(row)
    recost: dict[str, float] = {}
    hard = plans.get((day, HARD, "ours"))
    if hard is not None and (day, AS_GIVEN, "ours") in plans:
        again, violations = recost_in(problem, hard, matrices)
        recost[day] = math.nan if violations else objective_cost(problem, again)
    return rows, plans, recost


def run(
    days: Sequence[tuple[str, Problem]],
    *,
    solvers: Sequence[str] = SOLVERS,
    variants: Sequence[str] = VARIANTS,
    time_limit_s: float = 30.0,
    cores: int = 1,
    seed: int = 1,
    repeats: int = 1,
    report: Callable[[Row], None] | None = None,
) -> tuple[list[Row], dict[str, float]]:
    """`run_day` for every day, with the solvers' seeds ``seed`` ..
    ``seed + repeats - 1``; returns all rows and the hard plans' re-costs (per
    day, their mean over the seeds; NaN if one of them has violations)."""
    rows: list[Row] = []
    recost: dict[str, float] = {}
    for day, problem in days:
        costs: list[float] = []
        for s in range(seed, seed + repeats):
            day_rows, _, day_recost = run_day(
                day,
                problem,
                solvers=solvers,
                variants=variants,
                time_limit_s=time_limit_s,
                cores=cores,
                seed=s,
                report=report,
            )
            rows += day_rows
            if day in day_recost:
                costs.append(day_recost[day])
        if costs and len(costs) == repeats:
            recost[day] = sum(costs) / len(costs)
    return rows, recost


# --- comparison -----------------------------------------------------------------


def _rank(row: Row) -> tuple[int, float]:
    """Better is smaller: more orders served, then lower cost."""
    cost = row["cost"] if row["served"] and not math.isnan(row["cost"]) else math.inf
    return -int(row["served"] or 0), cost


def mean_row(runs: Sequence[Row]) -> Row:
    """One (day, variant, solver) over its seeds: served, cost, km and late stops
    averaged (a seed whose plan has violations serves 0), violations summed,
    errors joined."""
    if len(runs) == 1:
        return runs[0]
    out = dict(runs[0])
    for key in ("served", "cost", "km", "late_stops"):
        values = [r[key] for r in runs]
        if any(v is None for v in values):
            out[key] = None
            continue
        mean = sum(values) / len(values)
        out[key] = values[0] if all(v == values[0] for v in values) else mean
    out["violations"] = sum(r["violations"] or 0 for r in runs)
    out["error"] = "; ".join(dict.fromkeys(r["error"] for r in runs if r["error"]))
    out["seed"] = f"{runs[0]['seed']}-{runs[-1]['seed']}"
    return out


def _better(ours: Row, peer: Row, key: str) -> str:
    """``ours`` vs ``peer`` on served orders first, then ``key`` (cost or km)."""
    if ours["served"] != peer["served"]:
        return "yes (serves more)" if ours["served"] > peer["served"] else "NO (fewer)"
    if math.isclose(ours[key], peer[key], rel_tol=1e-9, abs_tol=1e-6):
        return "tie"
    return "yes" if ours[key] < peer[key] else "NO"


def summarize_runs(rows: Sequence[Row], recost: Mapping[str, float]) -> list[Row]:
    """One line per (day, variant): ours against the best peer.

    The best peer is the peer run with a checked plan (0 violations) ranking first
    by orders served, then cost. ``served_ge``: ours serves at least as many.
    ``cost_below`` (``km_below`` in the distance variant): ours serves more, or as
    many at a lower cost (km); a peer serving more wins. ``soft_le_hard`` (the
    ``as given`` line of a day with soft slots): our plan of the day is no worse
    than our hard-slot plan re-timed in the day (served first, then cost).

    With several seeds per run (`run`'s ``repeats``) each solver's runs are
    averaged first (`mean_row`): the comparisons are between means, and a peer
    whose plan broke a rule at one seed is not the best peer.
    """
    out: list[Row] = []
    groups: dict[tuple[str, str, str], list[Row]] = {}
    for r in rows:
        groups.setdefault((r["day"], r["variant"], r["solver"]), []).append(r)
    rows = [mean_row(g) for g in groups.values()]
    keys = dict.fromkeys((r["day"], r["variant"]) for r in rows)
    for day, variant in keys:
        mine = [r for r in rows if r["day"] == day and r["variant"] == variant]
        ours = next((r for r in mine if r["solver"] == "ours"), None)
        peers = [
            r
            for r in mine
            if r["solver"] != "ours" and not r["error"] and r["violations"] == 0
        ]
        peer = min(peers, key=_rank) if peers else None
        line: Row = dict.fromkeys(SUMMARY_COLUMNS, "")
        line.update(day=day, variant=variant)
        if ours is not None and not ours["error"]:
            line.update(
                ours_served=ours["served"], ours_cost=ours["cost"], ours_km=ours["km"]
            )
        if peer is not None:
            line.update(
                peer=peer["solver"],
                peer_served=peer["served"],
                peer_cost=peer["cost"],
                peer_km=peer["km"],
            )
        if ours is not None and not ours["error"] and peer is not None:
            line["served_ge"] = "yes" if ours["served"] >= peer["served"] else "NO"
            verdict = _better(ours, peer, "km" if variant == DISTANCE else "cost")
            line["km_below" if variant == DISTANCE else "cost_below"] = verdict
        hard = next(
            (
                r
                for r in rows
                if (r["day"], r["variant"], r["solver"]) == (day, HARD, "ours")
            ),
            None,
        )
        if variant == AS_GIVEN and day in recost and ours is not None and hard:
            line["hard_recost"] = recost[day]
            if math.isnan(recost[day]) or not hard["served"]:
                line["soft_le_hard"] = "- (hard plan has violations)"
            elif ours["served"] != hard["served"]:
                line["soft_le_hard"] = (
                    "yes (serves more)" if ours["served"] > hard["served"] else "NO"
                )
            else:
                line["soft_le_hard"] = "yes" if ours["cost"] <= recost[day] else "NO"
        out.append(line)
    return out


# --- report ---------------------------------------------------------------------


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo, or the platform's guess."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:,.{digits}f}"
    return str(value)


def describe_day(day: str, problem: Problem) -> Row:
    """What a day holds, for the report's list of days."""
    kinds = Counter(v.kind for v in problem.vehicles)
    return {
        "day": day,
        "orders": len(problem.orders),
        "depots": len(problem.depots),
        "fleet": ", ".join(f"{n} {k}" for k, n in kinds.items()),
        "soft": sum(problem.policy(o).max_lateness_s > 0 for o in problem.orders),
        "two_slots": sum(len(o.windows) > 1 for o in problem.orders),
        "returns": sum(any(o.pickup) for o in problem.orders),
        "skills": sum(bool(o.skills) for o in problem.orders),
        "breaks": sum(bool(v.breaks) for v in problem.vehicles),
        "pairs": len(problem.pairs),
    }


def report(
    rows: Sequence[Row],
    summary: Sequence[Row],
    days: Sequence[Row],
    *,
    command: str,
    time_limit_s: float,
    cores: int,
    note: str,
    load: tuple[float, float],
) -> str:
    """The markdown report."""
    seeds = len({r["seed"] for r in rows}) or 1
    lines = [
        "# City-day benchmark: ours vs VROOM and PyVRP",
        "",
        f"- command: `{command}`",
        f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M')} UTC",
        f"- time limit: {time_limit_s:g} s per run; runs one after another; cores: "
        f"ours {cores} search(es) (`SolveOptions.workers`), VROOM {cores} "
        "thread(s), PyVRP 1",
        f"- machine: {socket.gethostname()}, {cpu_name()}, nproc {os.cpu_count()}; "
        f"load average (1 min) {load[0]:.2f} at the start, {load[1]:.2f} at the end"
        + (f"; {note}" if note else ""),
        "- every plan checked by `routing.check.check_plan`; peers run alone "
        "through their engine adapters, their routes timed by our "
        "`build_routes`; **served** counts only plans with 0 violations",
        "- **cost**: the plan's money by component times the variant's objective "
        "weights, plus the penalties of optional orders left out (required "
        "orders count through *served*); `distance`: km",
        "- variants: `as given`; `hard` (max lateness 0 on every tier and order, "
        "only on days with soft slots); `distance` (hard slots, every vehicle 1 "
        "per km and no fixed or hourly cost, objective weights distance 1, "
        "fixed 0, duration 0)",
        "",
        "## Days",
        "",
        "| day | orders | depots | fleet | soft-slot orders | two slots | returns "
        "| with skills | drivers with breaks | pairs |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {d['day']} | {d['orders']} | {d['depots']} | {d['fleet']} | {d['soft']} "
        f"| {d['two_slots']} | {d['returns']} | {d['skills']} | {d['breaks']} "
        f"| {d['pairs']} |"
        for d in days
    ]
    lines += [
        "",
        "## Runs",
        "",
        "| day | variant | solver | seed | served / orders | unplanned | violations "
        "| cost | km | late stops | vehicles | wall s | status |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: | --- |",
    ]
    for r in rows:
        status = r["error"] or r["status"] or "-"
        if r["violations"]:
            status += f"; first violation: {r['first_violation']}"
            served = f"0 ({r['planned']} planned) / {r['orders']}"
        else:
            served = f"{_fmt(r['served'])} / {r['orders']}"
        lines.append(
            f"| {r['day']} | {r['variant']} | {r['solver']} | {r['seed']} | {served} "
            f"| {_fmt(r['unplanned'])} | {_fmt(r['violations'])} | {_fmt(r['cost'])} "
            f"| {_fmt(r['km'])} | {_fmt(r['late_stops'])} "
            f"| {_fmt(r['vehicles_used'])} / {r['vehicles']} | {_fmt(r['wall_s'])} "
            f"| {status} |"
        )
    lines += [
        "",
        "## Ours against the best peer",
        "",
        "Best peer: the peer plan with 0 violations that serves most, then costs "
        "least. *cost below* / *km below*: ours serves more, or as many for less. "
        "*soft <= hard*: our plan of the day as given against our hard-slot plan "
        "re-timed in the day as given (served first, then cost)."
        + (
            f" Each figure is the solver's mean over its {seeds} seeds (a seed "
            "whose plan has violations serves 0)."
            if seeds > 1
            else ""
        ),
        "",
        "| day | variant | served: ours / peer | served >= | cost: ours / peer "
        "| cost below | km: ours / peer | km below | hard plan re-costed "
        "| soft <= hard |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | ---: | --- |",
    ]
    for s in summary:
        peer = f" ({s['peer']})" if s["peer"] else ""
        lines.append(
            f"| {s['day']} | {s['variant']} "
            f"| {_fmt(s['ours_served'])} / {_fmt(s['peer_served'])}{peer} "
            f"| {_fmt(s['served_ge'])} "
            f"| {_fmt(s['ours_cost'])} / {_fmt(s['peer_cost'])} "
            f"| {_fmt(s['cost_below'])} "
            f"| {_fmt(s['ours_km'])} / {_fmt(s['peer_km'])} | {_fmt(s['km_below'])} "
            f"| {_fmt(s['hard_recost'])} | {_fmt(s['soft_le_hard'])} |"
        )
    lines += ["", "## Targets", "", *targets(summary)]
    relaxed = sorted(
        {(r["solver"], r["relaxations"]) for r in rows if r["relaxations"]}
    )
    if relaxed:
        lines += ["", "## What the peers relax (their adapters' own words)", ""]
        seen: dict[str, set[str]] = {}
        for solver, text in relaxed:
            seen.setdefault(solver, set()).update(text.split(RELAXATION_SEP))
        for solver, items in seen.items():
            lines.append(f"- {solver}: " + "; ".join(sorted(items)))
    return "\n".join(lines) + "\n"


def targets(summary: Sequence[Row]) -> list[str]:
    """The issue's targets, counted over the summary lines."""

    def count(key: str, variants: Sequence[str]) -> str:
        judged = [s for s in summary if s["variant"] in variants and s[key]]
        met = [s for s in judged if str(s[key]).startswith("yes")]
        ties = [s for s in judged if s[key] == "tie"]
        missed = ", ".join(
            f"{s['day']} ({s['variant']})" for s in judged if s not in met + ties
        )
        return (
            f"{len(met)}/{len(judged)}"
            + (f", {len(ties)} tie(s)" if ties else "")
            + (f"; missed: {missed}" if missed else "")
        )

    return [
        f"- orders served >= the best peer's: {count('served_ge', VARIANTS)}",
        f"- then cost below the peer's (as given, hard): "
        f"{count('cost_below', (AS_GIVEN, HARD))}",
        f"- distance only: km below the peer's: {count('km_below', (DISTANCE,))}",
        f"- soft slots never worse than all-hard (ours): "
        f"{count('soft_le_hard', (AS_GIVEN,))}",
    ]


def write_report(
    rows: Sequence[Row],
    summary: Sequence[Row],
    days: Sequence[Row],
    out: Path,
    **header: Any,
) -> list[Path]:
    """Write ``out`` (markdown), ``out`` as ``.csv`` (the runs) and
    ``-summary.csv`` beside it; returns the paths."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report(rows, summary, days, **header))
    written = [out]
    for path, columns, data in (
        (out.with_suffix(".csv"), COLUMNS, rows),
        (out.with_name(out.stem + "-summary.csv"), SUMMARY_COLUMNS, summary),
    ):
        with path.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(data)
        written.append(path)
    return written


# --- CLI ------------------------------------------------------------------------


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def _names(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--time-limit",
        dest="time_limit_s",
        type=float,
        default=30.0,
        help="seconds per run (default 30)",
    )
    parser.add_argument(
        "--cores",
        type=int,
        default=1,
        help="our searches side by side and VROOM's threads (default 1)",
    )
    parser.add_argument(
        "--sizes",
        type=_ints,
        default=list(SIZES),
        help="orders of the generated days, comma-separated (default 250,500; "
        "'' for none)",
    )
    parser.add_argument(
        "--seeds",
        type=_ints,
        default=list(SEEDS),
        help="generator seeds per size, comma-separated (default 1,2)",
    )
    parser.add_argument(
        "--vans",
        type=float,
        default=1.0,
        help="share of the generated days' vans kept (default 1; e.g. 0.6 for "
        "tight-fleet days that cannot serve every order)",
    )
    parser.add_argument(
        "--pairs",
        action="store_true",
        help="generated days with six shop-to-customer transfers (pickup and "
        "delivery pairs) among their orders",
    )
    parser.add_argument(
        "--examples",
        type=_names,
        default=None,
        help="example scenarios by name, comma-separated (default: all "
        "scenarios/*.json)",
    )
    parser.add_argument(
        "--no-examples", action="store_true", help="generated days only"
    )
    parser.add_argument(
        "--variants",
        type=_names,
        default=list(VARIANTS),
        help=f"comma-separated from {','.join(VARIANTS)} (default all)",
    )
    parser.add_argument(
        "--solvers",
        type=_names,
        default=list(SOLVERS),
        help=f"comma-separated from {','.join(SOLVERS)} (default all)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=1,
        help="solvers' seed (PyVRP, alone and inside ours; default 1)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="runs per (day, variant, solver), with the seeds --seed, --seed+1, ...; "
        "the comparisons use each solver's mean (default 1)",
    )
    parser.add_argument(
        "--note", default="", help="machine note for the header, e.g. 'quiet machine'"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="markdown report; CSVs beside it (default "
        "benchmarks/results/city-days-<T>s.md)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    for name, given, known in (
        ("solver", args.solvers, SOLVERS),
        ("variant", args.variants, VARIANTS),
    ):
        unknown = sorted(set(given) - set(known))
        if unknown:
            print(f"unknown {name}(s) {unknown}; choose from {', '.join(known)}")
            return 2
    days = [] if args.no_examples else example_days(args.examples)
    try:
        days += city_days(args.sizes, args.seeds, vans=args.vans, pairs=args.pairs)
    except ValueError as exc:  # (a --vans share outside (0, 1])
        print(f"--{exc}")
        return 2
    out = args.out or RESULTS_DIR / f"city-days-{args.time_limit_s:g}s.md"
    if args.repeats < 1:
        print(f"--repeats must be >= 1, got {args.repeats}")
        return 2
    runs = args.repeats * sum(
        len(variants_of(p, args.variants)) * len(args.solvers) for _, p in days
    )
    print(
        f"{len(days)} day(s), {runs} run(s) of {args.time_limit_s:g} s, "
        f"{args.cores} core(s)",
        flush=True,
    )
    done = 0

    def progress(row: Row) -> None:
        nonlocal done
        done += 1
        what = row["error"] or row["status"]
        print(
            f"[{done}/{runs}] {row['day']} | {row['variant']} | {row['solver']} "
            f"| seed {row['seed']}: "
            f"served {row['served']}/{row['orders']}, cost {_fmt(row['cost'])}, "
            f"km {_fmt(row['km'])}, violations {_fmt(row['violations'])}, "
            f"{_fmt(row['wall_s'])} s ({what})",
            flush=True,
        )

    load_start = os.getloadavg()[0]
    rows, recost = run(
        days,
        solvers=args.solvers,
        variants=args.variants,
        time_limit_s=args.time_limit_s,
        cores=args.cores,
        seed=args.seed,
        repeats=args.repeats,
        report=progress,
    )
    summary = summarize_runs(rows, recost)
    command = "python benchmarks/city_days.py " + shlex.join(
        sys.argv[1:] if argv is None else list(argv)
    )
    written = write_report(
        rows,
        summary,
        [describe_day(name, p) for name, p in days],
        out,
        command=command.strip(),
        time_limit_s=args.time_limit_s,
        cores=args.cores,
        note=args.note,
        load=(load_start, os.getloadavg()[0]),
    )
    print("\n".join(targets(summary)))
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
