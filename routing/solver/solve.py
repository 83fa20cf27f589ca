"""solve(): the whole recipe from Problem and travel data to a verified-shape Plan."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from routing.domain.errors import MatrixError
from routing.domain.model import Problem
from routing.domain.plan import (
    EngineRun,
    Plan,
    PlanStatus,
    Route,
    Unplanned,
    UnplannedCode,
    summarize,
)
from routing.domain.timing import (
    build_routes,
    plan_from_routes,
    route_violations,
    routes_objective,
    unplanned_penalty,
)
from routing.domain.units import COST_SCALE
from routing.geo.matrix import TravelData, TravelMatrix, matrix_for
from routing.solver._ortools import ProgressCallback, RawSolution
from routing.solver.explain import explain_unplanned, insertable, with_inserted
from routing.solver.options import SolveOptions
from routing.solver.portfolio import Evaluator, solve_portfolio
from routing.solver.precheck import Precheck, precheck

logger = logging.getLogger(__name__)

FINISH_RESERVE_S = 0.5
"""The search ends this long before the time limit, leaving time to time the
routes and explain unplanned orders (the plan is due by the limit + 1 s)."""

FINISH_RESERVE_SHARE = 0.05
"""... but never more than this share of a short time limit."""

FINISH_RESERVE_S_PER_ORDER = 1.2e-3
"""On large days the reserve grows with the orders to plan (up to
`FINISH_RESERVE_MAX_SHARE` of the limit): after the search, judging the
candidates as timed plans and reading the returned routes into a model of their
own for their objective take time in proportion. Measured on a generated
1,000-order day at 10 s (2 cores): 1.41 s after the search (choosing 0.40,
objective 1.01: the model 0.6-0.8, timing multi-slot orders and reading the
routes 0.7) plus 0.27 s of the portfolio past its deadline; with the flat
0.5-s reserve the plan came at 11.2-11.5 s, past the limit + 1 s."""

FINISH_RESERVE_MAX_SHARE = 0.2
"""Largest share of the time limit the reserve of `FINISH_RESERVE_S_PER_ORDER`
takes."""

MODEL_READ_FACTOR = 1.5
"""Building a model of the returned routes and reading them into it, to price
them (`PortfolioResult.objective_of`), takes about this many times as long as
building the search's model took (measured: 1,000 orders 1.3-1.4, 2,000 orders
1.5) ..."""

OBJECTIVE_BY_S = 0.9
"""... and is done only if it ends within this long past the time limit, else
the routes are priced by their timing (a generated 2,000-order day at 20 s
with 70 orders inserted after the search: 4.0 s, the plan at 24.8 s)."""

STOPPED_FINISH_S = 0.5
"""After a stop on request, timing, insertion and explanation get this long."""

EXPLAIN_GRACE_S = 0.6
"""The explanation of unplanned orders may run this far past the time limit
(orders it does not reach keep the reason given before it). At 0.8 s, with the
returned routes' pricing after it, held-out tight-fleet days of 350 orders at
10 s (2 cores) came at 10.8-10.9 s; at 0.6 s 10.7 s, all 51 orders left out
still explained on the one day measured."""


def solve(
    problem: Problem,
    travel: TravelData,
    *,
    options: SolveOptions | None = None,
    on_progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    initial: Mapping[str, Sequence[str]] | None = None,
    keep: Mapping[str, str] | None = None,
    move_cost: float = 0.0,
) -> Plan:
    """Plan the day: assign orders to vehicles, order the stops, time them.

    Parameters
    ----------
    problem
        The validated problem.
    travel
        One TravelMatrix for the whole fleet, or one per speed profile; rows follow
        ``problem.locations`` (depots, then orders).
    options
        Search settings (default ``SolveOptions()``).
    on_progress
        Called with (best objective so far, elapsed seconds) at each solution the
        search accepts.
    should_stop
        Polled during the search (a cancel): once it returns True the search
        ends and the best plan found so far is finished (timed, orders that fit
        inserted, the rest explained) within about a second, with
        ``stop_reason`` saying it was stopped on request.
    initial
        ``{vehicle_id: order ids in visiting order}`` to start the search from
        (e.g. a re-plan's current routes): read into the full model, repaired
        where infeasible; the final search starts from them and the engines'
        routes stay candidates. Unknown vehicles and orders outside the model
        are ignored.
    keep
        Order id -> the vehicle it belongs on (a re-plan's old plan); with
        ``move_cost`` > 0, serving it on another vehicle costs ``move_cost``.
    move_cost
        Money per order of ``keep`` served by another vehicle (>= 0). It is part
        of ``plan.objective`` (the search minimises it), not of the routes'
        costs: ``plan.objective / COST_SCALE`` is
        ``timing.plan_objective(problem, plan)`` plus ``move_cost`` per moved
        order.

    Returns
    -------
    Plan
        Never None. Orders that cannot be served are in ``plan.unplanned`` with a
        reason; ``plan.status`` says whether all, some or none were planned.

    Raises
    ------
    MatrixError
        If the travel data does not match the problem's locations or profiles.
    """
    options = options or SolveOptions()
    t0 = time.perf_counter()
    # One deadline for everything: pre-checks, search, timing and explanation.
    finish_by = t0 + options.time_limit_s
    reserve = _finish_reserve(len(problem.orders), options.time_limit_s)
    matrices = _matrices(problem, travel)
    pre = precheck(problem, matrices)
    precheck_s = time.perf_counter() - t0

    engines: tuple[EngineRun, ...] = ()
    stop_reason = "nothing to plan"
    timed_out = False
    if pre.allowed:
        result = solve_portfolio(
            problem,
            matrices,
            pre.allowed,
            options=options,
            deadline=max(time.perf_counter() + 0.05, finish_by - reserve),
            on_progress=on_progress,
            should_stop=should_stop,
            initial=initial,
            keep=keep,
            move_cost=move_cost,
        )
        if should_stop is not None and should_stop():
            # Finish the best plan so far quickly rather than at the time limit.
            finish_by = min(finish_by, time.perf_counter() + STOPPED_FINISH_S)
        raw, engines, stop_reason = result.raw, result.engines, result.stop_reason
        timed_out = result.timed_out
        sequences, dropped = raw.sequences, raw.dropped
        solver_status, objective, has_solution = (
            raw.status,
            raw.objective,
            raw.has_solution,
        )
        stats = dict(raw.stats)
    else:
        sequences, dropped = {}, []
        solver_status, objective, has_solution = "not_needed", 0, True
        stats = {}
    t_extract = time.perf_counter()
    if pre.allowed and has_solution and result.candidates:
        # Keep the best *checked* plan: OR-Tools' final routes, or an engine's
        # (as found or as repaired) if, timed as the plan is timed, it is better
        # (the solver's objective and the plan's timing still differ on breaks
        # and waiting).
        t_choose = time.perf_counter()
        chosen, routes, why = _best_checked(
            problem,
            matrices,
            pre,
            [("ortools", sequences), *result.candidates],
            moves=(keep or {}, move_cost),
            insert_until=max(t_choose + 0.2, finish_by - reserve / 2),
        )
        # (OR-Tools' routes too may have had orders inserted while judged)
        served = {oid for r in routes for oid in r.order_ids}
        dropped = [oid for oid in pre.allowed if oid not in served]
        if chosen != "ortools":
            engines = tuple(
                replace(e, outcome="plan") if e.engine == chosen else e for e in engines
            )
            stop_reason += f"; {why}"
        stats["choose_s"] = time.perf_counter() - t_choose
    else:
        routes = build_routes(problem, matrices, sequences)
    if has_solution and dropped:
        # Orders the search left out that still fit (it stopped first): insert
        # them, cheapest first, each insertion re-checked (explain.insertable).
        t_insert = time.perf_counter()
        fits = insertable(
            problem,
            matrices,
            routes,
            dropped,
            pre.allowed,
            deadline=max(t_insert + 0.1, finish_by + EXPLAIN_GRACE_S / 2),
        )
        if fits:
            routes = build_routes(problem, matrices, with_inserted(routes, fits))
            dropped = [oid for oid in dropped if oid not in fits]
        stats["inserted_after_search"] = float(len(fits))
        stats["insert_s"] = time.perf_counter() - t_insert
    unplanned = dict(pre.unplanned)
    for order_id in dropped:
        unplanned[order_id] = _dropped_reason(
            problem,
            order_id,
            has_solution,
            timed_out=timed_out,
        )
    fallbacks = {oid: unplanned[oid] for oid in dropped}  # (before explained)
    if has_solution and dropped:
        t_explain = time.perf_counter()
        unplanned.update(
            explain_unplanned(
                problem,
                matrices,
                routes,
                dropped,
                pre.allowed,
                deadline=max(time.perf_counter() + 0.2, finish_by + EXPLAIN_GRACE_S),
            )
        )
        stats["explain_s"] = time.perf_counter() - t_explain
    if timed_out:
        stop_reason += _short_limit_hint(unplanned, fallbacks, options.time_limit_s)
    ordered = tuple(unplanned[o.id] for o in problem.orders if o.id in unplanned)
    if pre.allowed and has_solution:
        # The objective of the routes returned (not of OR-Tools' last routes:
        # an engine's plan or inserted orders may have replaced them), in the
        # full model, plus the penalties of the orders the pre-check left out.
        t_objective = time.perf_counter()
        evaluated, priced_by = _objective_of_routes(
            problem,
            routes,
            dropped,
            raw=raw,
            objective_of=result.objective_of,
            model_by=finish_by + OBJECTIVE_BY_S,
            moves=(keep, move_cost),
        )
        objective = evaluated + round(
            COST_SCALE
            * sum(
                unplanned_penalty(problem, problem.order(oid)) for oid in pre.unplanned
            )
        )
        stats["objective_s"] = time.perf_counter() - t_objective
        stats["objective_of_plan"] = 1.0
        stats["objective_from_timing"] = float(priced_by == "timing")
    if not has_solution:
        status = PlanStatus.NO_SOLUTION
    elif ordered:
        status = PlanStatus.PARTIAL
    else:
        status = PlanStatus.SOLVED
    stats.update(
        precheck_s=precheck_s,
        extract_s=time.perf_counter() - t_extract,
        total_s=time.perf_counter() - t0,
        time_limit_s=options.time_limit_s,
        seed=float(options.seed),
    )
    return Plan(
        status=status,
        routes=routes,
        unplanned=ordered,
        totals=summarize(routes, len(ordered)),
        solver_status=solver_status,
        objective=objective,
        stats=stats,
        problem_name=problem.name,
        engines=engines,
        stop_reason=stop_reason,
    )


def _best_checked(
    problem: Problem,
    matrices: Mapping[str, TravelMatrix],
    pre: Precheck,
    candidates: Sequence[tuple[str, Mapping[str, Sequence[str]]]],
    *,
    moves: tuple[Mapping[str, str], float] = ({}, 0.0),
    insert_until: float | None = None,
) -> tuple[str, tuple[Route, ...], str]:
    """The candidate whose timed plan is best: no checker violation, then fewest
    required orders left out, then lowest cost (optional orders' penalties and
    ``moves``' cost per order off its kept vehicle in).
    The first candidate is the reference the returned text compares with.

    Until ``insert_until`` (a ``time.perf_counter()`` value), a candidate
    without violations that leaves required orders out first gets those that
    still fit inserted (`insertable`), so that it is judged as it would be
    returned: an engine's routes read into the full model can lose a few stops
    to a relaxation (PyVRP leaves breaks out), and without them lost to a
    costlier plan that served everything (a 500-order day: PyVRP's routes with
    2 stops dropped against VROOM's, 4,109 returned where 2,801 was reachable).
    """
    scored = []
    for k, (label, sequences) in enumerate(candidates):
        plan = plan_from_routes(problem, matrices, sequences)
        served = {oid for r in plan.routes for oid in r.order_ids}
        violations = sum(len(route_violations(problem, r)) for r in plan.routes)
        missing = [
            oid
            for oid in pre.allowed
            if oid not in served and not problem.order(oid).is_optional
        ]
        if (
            missing
            and not violations
            and insert_until is not None
            and time.perf_counter() < insert_until
        ):
            fits = insertable(
                problem,
                matrices,
                plan.routes,
                missing,
                pre.allowed,
                deadline=insert_until,
            )
            if fits:
                plan = plan_from_routes(
                    problem, matrices, with_inserted(plan.routes, fits)
                )
                served = {oid for r in plan.routes for oid in r.order_ids}
                violations = sum(len(route_violations(problem, r)) for r in plan.routes)
        left = [problem.order(oid) for oid in pre.allowed if oid not in served]
        required_left = sum(1 for o in left if not o.is_optional)
        cost = plan.totals.cost + sum(
            problem.unplanned_penalty(o) * problem.objective.unplanned
            for o in left
            if o.is_optional
        )
        keep, move_cost = moves
        if move_cost and keep:
            cost += move_cost * sum(
                1
                for r in plan.routes
                for oid in r.order_ids
                if keep.get(oid, r.vehicle_id) != r.vehicle_id
            )
        scored.append(((violations, required_left, cost, k), label, plan.routes))
    key, label, routes = min(scored, key=lambda s: (s[0][0] > 0, *s[0][1:]))
    first = scored[0][0]
    why = (
        f"{label}'s routes, timed as the plan, beat OR-Tools' final routes "
        f"({key[0]} vs {first[0]} checker violations, {key[1]} vs {first[1]} "
        f"required orders unplanned, cost {key[2]:.2f} vs {first[2]:.2f})"
    )
    return label, routes, why


def _matrices(problem: Problem, travel: TravelData) -> dict[str, TravelMatrix]:
    n = len(problem.locations)
    matrices = {p: matrix_for(travel, p) for p in problem.profiles}
    for profile, matrix in matrices.items():
        if matrix.size != n:
            raise MatrixError(
                f"travel matrix for profile {profile!r} is {matrix.size} x "
                f"{matrix.size} but the problem has {n} locations "
                f"({len(problem.depots)} depots + {len(problem.orders)} orders)"
            )
    return matrices


def _dropped_reason(
    problem: Problem, order_id: str, has_solution: bool, *, timed_out: bool = False
) -> Unplanned:
    """Why the search left ``order_id`` out, before (or without) the
    explanation's checks (`explain_unplanned`), which replace it when they
    find the nearest fix in time. ``timed_out``: the search ended at the time
    limit, not converged (a 2,000-order day at 10 s: 225 of 239 orders were
    not reached by the explanation and had been told the fleet was full)."""
    if not has_solution:
        return Unplanned(
            order_id=order_id,
            code=UnplannedCode.NO_SOLUTION,
            reason="the solver found no plan within its time limit",
        )
    order = problem.order(order_id)
    if order.is_optional:
        return Unplanned(
            order_id=order_id,
            code=UnplannedCode.NOT_WORTH_SERVING,
            reason=f"optional: serving it would cost more than its penalty "
            f"of {problem.unplanned_penalty(order):g}",
        )
    if timed_out:
        return Unplanned(
            order_id=order_id,
            code=UnplannedCode.FLEET_FULL,
            reason="the search reached its time limit without placing it, and no "
            "room for it was found in the time left; a longer time limit may plan "
            "it, else more vehicles or wider slots would",
        )
    return Unplanned(
        order_id=order_id,
        code=UnplannedCode.FLEET_FULL,
        reason="each vehicle able to serve it alone is fully used by other orders "
        "(capacity, shift time or slots); more vehicles or wider slots would help",
    )


def _objective_of_routes(
    problem: Problem,
    routes: Sequence[Route],
    dropped: Sequence[str],
    *,
    raw: RawSolution,
    objective_of: Evaluator | None,
    model_by: float,
    moves: tuple[Mapping[str, str] | None, float] = (None, 0.0),
) -> tuple[int, str]:
    """The full model's objective of the returned ``routes`` with the allowed
    orders ``dropped`` left out, and how it was priced: ``"search"`` (OR-Tools'
    own final routes: known), ``"model"`` (read into a model of their own, if
    that ends by ``model_by``, a ``time.perf_counter()`` value), else
    ``"timing"``: priced on the timed routes (`timing.routes_objective`, the
    model's objective up to its rounding; tests/routing/solver/test_objective).
    Not OR-Tools' last routes: an engine's plan or orders inserted after the
    search may have replaced them."""
    final = {r.vehicle_id: list(r.order_ids) for r in routes}
    if final == {v: list(s) for v, s in raw.sequences.items() if s}:
        return raw.objective, "search"
    model_s = MODEL_READ_FACTOR * raw.stats.get("model_s", 0.0)
    if objective_of is not None and time.perf_counter() + model_s <= model_by:
        starts = {v.order_id: v.start_s for r in routes for v in r.visits}
        evaluated = objective_of(final, starts)
        if evaluated is not None:
            return evaluated, "model"
    keep, move_cost = moves
    moved = sum(
        1
        for r in routes
        for oid in r.order_ids
        if keep and oid in keep and keep[oid] != r.vehicle_id
    )
    priced = routes_objective(problem, routes, dropped) + moved * move_cost
    return round(COST_SCALE * priced), "timing"


def _short_limit_hint(
    unplanned: Mapping[str, Unplanned],
    fallbacks: Mapping[str, Unplanned],
    time_limit_s: float,
) -> str:
    """For a search that ended at its time limit: how many orders it left out
    may still fit (the explanation found room for them, ``SEARCH_MISSED``, or
    did not reach them and they kept their ``fallbacks`` reason), as a hint
    that the limit was short for the day (a generated 2,000-order day, 2
    cores: 1,761 orders served at 10 s, 1,877 at 20 s, 1,979 at 30 s)."""
    may_fit = sum(
        1
        for oid, fallback in fallbacks.items()
        if unplanned[oid] is fallback
        or unplanned[oid].code == UnplannedCode.SEARCH_MISSED
    )
    if not may_fit:
        return ""
    return (
        f"; {may_fit} order(s) left out may still fit: the time limit "
        f"({time_limit_s:g} s) was short for this day, a longer one may plan them"
    )


def _finish_reserve(n_orders: int, time_limit_s: float) -> float:
    """Seconds the search leaves before the time limit for what follows it."""
    base = min(FINISH_RESERVE_S, FINISH_RESERVE_SHARE * time_limit_s)
    scaled = min(
        FINISH_RESERVE_S_PER_ORDER * n_orders, FINISH_RESERVE_MAX_SHARE * time_limit_s
    )
    return max(base, scaled)
