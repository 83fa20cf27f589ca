"""The ``routing`` command: solve, check and validate scenario files."""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from routing.check import check_plan
from routing.domain.errors import RoutingError
from routing.domain.model import REQUIRED_PENALTY, Problem
from routing.domain.plan import Plan
from routing.domain.timing import unplanned_penalty
from routing.domain.units import COST_SCALE, format_clock
from routing.formats import load_plan, load_problem, save_plan
from routing.geo.providers import build_travel
from routing.solver import SolveOptions, solve
from routing.solver.options import MAX_SEED
from routing.solver.precheck import precheck

PROGRESS_AFTER_S = 2.0
"""Show search progress only for solves that last longer than this."""

LIST_LIMIT = 50
"""Late and unplanned orders listed by id in a summary; past this many the list
stops with how many it leaves out (the plan file has them all): a dispatcher reads
the list, and a thousand lines would hide the rest of the summary."""


class _Progress:
    """Prints the best cost found so far on stderr, at most once a second."""

    def __init__(self, stream: TextIO, *, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled
        self.last = 0.0
        self.shown = False

    def __call__(self, objective: int, elapsed_s: float) -> None:
        if not self.enabled or elapsed_s < PROGRESS_AFTER_S:
            return
        if elapsed_s - self.last < 1.0:
            return
        self.last = elapsed_s
        self.shown = True
        self.stream.write(
            f"\r  searching... {elapsed_s:5.1f} s, best objective "
            f"{objective / COST_SCALE:,.2f}   "
        )
        self.stream.flush()

    def done(self) -> None:
        if self.shown:
            self.stream.write("\n")


def format_summary(
    problem: Problem, plan: Plan, *, more_hint: str = "see the plan file"
) -> str:
    """A readable summary of a plan: one line per vehicle, the day's KPIs and
    costs (with the unplanned orders' penalty), the late orders and the unplanned
    orders by id, then how the search went.

    Parameters
    ----------
    problem
        The day the plan is for.
    plan
        The plan.
    more_hint
        Where to find the orders a list leaves out (past `LIST_LIMIT`).
    """
    lines = [
        f"{problem.name or 'plan'}: {plan.status.value} "
        f"({plan.totals.orders_planned} of {len(problem.orders)} orders planned, "
        f"{plan.totals.vehicles_used} of {len(problem.vehicles)} vehicles, "
        f"solver: {plan.solver_status})",
        "",
        f"{'vehicle':<14}{'kind':<12}{'stops':>6}{'km':>8}{'empty':>7}{'hours':>7}"
        f"{'peak %':>7}{'mean %':>7}{'start':>7}{'end':>7}{'wait min':>9}"
        f"{'late min':>9}{'cost':>10}",
    ]
    for route in plan.routes:
        kind = problem.vehicle(route.vehicle_id).kind
        lines.append(
            f"{route.vehicle_id:<14}{kind:<12}{len(route.visits):>6}"
            f"{route.distance_m / 1000:>8.1f}{route.empty_distance_m / 1000:>7.1f}"
            f"{route.duration_s / 3600:>7.2f}"
            f"{100 * route.load_factor:>6.0f}%{100 * route.mean_load_factor:>6.0f}%"
            f"{_hhmm(route.start_s):>7}{_hhmm(route.end_s):>7}"
            f"{route.wait_s / 60:>9.0f}{route.late_s / 60:>9.0f}"
            f"{route.cost:>10.2f}"
        )
    t = plan.totals
    lines.append(
        f"{'total':<26}{t.orders_planned:>6}{t.distance_m / 1000:>8.1f}"
        f"{t.empty_distance_m / 1000:>7.1f}{t.duration_s / 3600:>7.2f}"
        f"{'':>7}{'':>7}{'':>7}{'':>7}{t.wait_s / 60:>9.0f}"
        f"{t.late_s / 60:>9.0f}{t.cost:>10.2f}"
    )
    c = t.costs
    empty_share = t.empty_distance_m / t.distance_m if t.distance_m else 0.0
    lines += [
        "",
        f"on time: {100 * t.on_time_rate:.1f}% of planned stops "
        f"({t.late_stops} late, {t.late_s / 60:.0f} min in all); "
        f"empty running: {t.empty_distance_m / 1000:.1f} km "
        f"({100 * empty_share:.0f}% of km); driver hours: {t.driver_hours:.1f}",
        f"cost: fixed {c.fixed:.2f} + distance {c.distance:.2f} + time "
        f"{c.time:.2f} + lateness {c.lateness:.2f} = {c.total:.2f}",
    ]
    if plan.unplanned:
        penalty = _penalty(problem, plan)
        known = {o.id: o for o in problem.orders}
        required = sum(
            1
            for u in plan.unplanned
            if u.order_id in known and not known[u.order_id].is_optional
        )
        how = (
            f" ({required} required, at {REQUIRED_PENALTY:,.0f} each, doubled per "
            "priority step)"
            if required
            else ""
        )
        lines.append(
            f"unplanned: {len(plan.unplanned)} order(s), penalty {penalty:,.2f}"
            f"{how}; total with penalty {t.cost + penalty:,.2f}"
        )
    lines += _late_lines(problem, plan, more_hint=more_hint)
    lines += _unplanned_lines(plan, more_hint=more_hint)
    if plan.stop_reason or plan.engines:
        lines += ["", f"search: {plan.stop_reason or plan.solver_status}"]
        for run in plan.engines:
            what = f"  {run.engine}: {run.outcome}"
            if run.cost is not None:
                what += f", its routes cost {run.cost:.2f} in the full model"
                if run.repaired:
                    what += f" after taking {run.repaired} stop(s) off"
            if run.elapsed_s:
                what += f" ({run.elapsed_s:.1f} s, from {run.started_s:.1f} s"
                if run.iterations:
                    what += f", {run.iterations:,} iterations"
                if run.routes_eliminated:
                    what += f", {run.routes_eliminated} route(s) eliminated"
                what += ")"
            if run.reason:
                what += f": {run.reason}"
            lines.append(what)
    return "\n".join(lines)


def _penalty(problem: Problem, plan: Plan) -> float:
    """The unplanned orders' penalty, priced as the what-if rows price it; an id
    the problem does not know (a plan file for another day) costs nothing."""
    known = {o.id: o for o in problem.orders}
    return sum(
        unplanned_penalty(problem, known[u.order_id])
        for u in plan.unplanned
        if u.order_id in known
    )


def _more(total: int, *, more_hint: str) -> list[str]:
    """The line saying how many a list capped at `LIST_LIMIT` leaves out."""
    if total <= LIST_LIMIT:
        return []
    return [f"  ... {total - LIST_LIMIT} more ({more_hint})"]


def _slot(problem: Problem, order_id: str) -> str:
    """The slot a late visit overran: lateness counts from the end of the
    order's last slot (``routing.domain.timing.service_start``)."""
    try:
        windows = problem.order(order_id).windows
    except KeyError:  # a plan file for another day; the checker says so
        return "?"
    if not windows:
        return "-"
    last = windows[-1]
    return f"{_hhmm(last.start_s)}-{_hhmm(last.end_s)}"


def _late_lines(problem: Problem, plan: Plan, *, more_hint: str) -> list[str]:
    """The late visits by id: vehicle, minutes late (rounded up: 20 s late is
    not "0 min late"), slot; latest first."""
    late = sorted(
        (
            (visit, route.vehicle_id)
            for route in plan.routes
            for visit in route.visits
            if visit.late_s > 0
        ),
        key=lambda item: (-item[0].late_s, item[0].order_id),
    )
    if not late:
        return []
    w_id = max(len("order"), *(len(v.order_id) for v, _ in late[:LIST_LIMIT]))
    w_vehicle = max(len("vehicle"), *(len(vid) for _, vid in late[:LIST_LIMIT]))
    rows = [
        f"  {v.order_id:<{w_id}}  {vid:<{w_vehicle}}  {math.ceil(v.late_s / 60):>8}  "
        f"{_slot(problem, v.order_id)}"
        for v, vid in late[:LIST_LIMIT]
    ]
    header = f"  {'order':<{w_id}}  {'vehicle':<{w_vehicle}}  {'min late':>8}  slot"
    return [
        "",
        f"late orders ({len(late)}):",
        header,
        *rows,
        *_more(len(late), more_hint=more_hint),
    ]


def _unplanned_lines(plan: Plan, *, more_hint: str) -> list[str]:
    """The unplanned orders by id, with their code and reason."""
    if not plan.unplanned:
        return []
    shown = plan.unplanned[:LIST_LIMIT]
    w_id = max(len("order"), *(len(u.order_id) for u in shown))
    w_code = max(len("code"), *(len(u.code.value) for u in shown))
    rows = [
        f"  {u.order_id:<{w_id}}  {u.code.value:<{w_code}}  {u.reason}" for u in shown
    ]
    header = f"  {'order':<{w_id}}  {'code':<{w_code}}  reason"
    return [
        "",
        f"unplanned orders ({len(plan.unplanned)}):",
        header,
        *rows,
        *_more(len(plan.unplanned), more_hint=more_hint),
    ]


def _seed(text: str) -> int:
    """``--seed``: an integer in [0, MAX_SEED]."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be in [0, {MAX_SEED}], got {value}")
    return value


def _hhmm(t_s: int) -> str:
    return format_clock(t_s - t_s % 60)


def _cmd_solve(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    t0 = time.perf_counter()
    problem = load_problem(args.scenario)
    travel = build_travel(problem)
    matrix_s = time.perf_counter() - t0
    options = SolveOptions(
        time_limit_s=args.time_limit,
        is_deterministic=args.deterministic,
        seed=args.seed,
    )
    progress = _Progress(err, enabled=not args.quiet)
    plan = solve(problem, travel, options=options, on_progress=progress)
    progress.done()
    plan = _with_stat(plan, "load_and_matrix_s", matrix_s)
    hint = (
        f"see the plan file {args.out}"
        if args.out
        else "write the plan with --out to see them all"
    )
    out.write(format_summary(problem, plan, more_hint=hint) + "\n")
    violations = check_plan(problem, plan, travel)
    if violations:
        out.write(f"\nchecker: {len(violations)} violation(s)\n")
        for v in violations:
            out.write(f"  {v.kind}: {v.message}\n")
    else:
        out.write("\nchecker: plan verified, 0 violations\n")
    if args.out:
        save_plan(plan, args.out, problem=problem)
        out.write(f"plan written to {args.out}\n")
    return 3 if violations else 0


def _with_stat(plan: Plan, key: str, value: float) -> Plan:
    return replace(plan, stats={**plan.stats, key: value})


def _cmd_check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    problem = load_problem(args.scenario)
    plan = load_plan(args.plan)
    violations = check_plan(problem, plan, build_travel(problem))
    hint = f"see the plan file {args.plan}"
    lists = [
        *_late_lines(problem, plan, more_hint=hint),
        *_unplanned_lines(plan, more_hint=hint),
    ]
    if not violations:
        out.write(f"{args.plan}: 0 violations\n")
    else:
        out.write(f"{args.plan}: {len(violations)} violation(s)\n")
        for v in violations:
            out.write(f"  {v.kind}: {v.message}\n")
    if lists:
        out.write("\n".join(lists) + "\n")
    return 1 if violations else 0


def _cmd_validate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    problem = load_problem(args.scenario)
    result = precheck(problem, build_travel(problem))
    out.write(
        f"{args.scenario}: valid; {len(problem.depots)} depots, "
        f"{len(problem.vehicles)} vehicles, {len(problem.orders)} orders\n"
    )
    if result.unplanned:
        out.write(f"{len(result.unplanned)} order(s) no vehicle can serve:\n")
        for u in result.unplanned.values():
            out.write(f"  {u.order_id}: {u.reason} [{u.code.value}]\n")
    else:
        out.write("every order can be served by at least one vehicle on its own\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``routing`` command."""
    parser = argparse.ArgumentParser(
        prog="routing", description="Delivery route planning with time windows."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_solve = sub.add_parser("solve", help="plan a scenario and print a summary")
    p_solve.add_argument("scenario", type=Path, help="scenario JSON file")
    p_solve.add_argument(
        "--time-limit", type=float, default=10.0, help="search time in seconds"
    )
    p_solve.add_argument("--out", type=Path, help="write the plan JSON here")
    p_solve.add_argument(
        "--deterministic",
        action="store_true",
        help="reproducible search (stops at the first local optimum)",
    )
    p_solve.add_argument(
        "--seed",
        type=_seed,
        default=0,
        help="random seed of the search engines (default 0)",
    )
    p_solve.add_argument("--quiet", action="store_true", help="no progress output")
    p_solve.set_defaults(func=_cmd_solve)
    p_check = sub.add_parser("check", help="verify a plan against its scenario")
    p_check.add_argument("scenario", type=Path)
    p_check.add_argument("plan", type=Path)
    p_check.set_defaults(func=_cmd_check)
    p_val = sub.add_parser(
        "validate", help="check the input and which orders cannot be served, no solve"
    )
    p_val.add_argument("scenario", type=Path)
    p_val.set_defaults(func=_cmd_validate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code.

    0 success; 1 the plan has violations (``check``); 2 bad input or files;
    3 a freshly solved plan failed the checker (a bug: please report it).
    """
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args, sys.stdout, sys.stderr)
    except (RoutingError, OSError, ValueError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    return code


if __name__ == "__main__":
    raise SystemExit(main())
