"""Tests of the warm start: routes read into the full OR-Tools model, repaired
where a relaxation broke them, and improved there (``RoutingSearch``)."""

from __future__ import annotations

import numpy as np
import pytest

from routing.check import check_plan
from routing.domain.model import Depot, Order, Point, Problem, TimeWindow, Vehicle
from routing.domain.plan import Plan, PlanStatus, Unplanned, UnplannedCode, summarize
from routing.domain.timing import build_routes
from routing.geo.matrix import TravelMatrix
from routing.solver import SolveOptions
from routing.solver._ortools import RoutingSearch, guided_local_search
from routing.solver.precheck import precheck

OPTIONS = SolveOptions(time_limit_s=2, workers=1)


def _matrix(problem: Problem) -> TravelMatrix:
    """Euclidean meters between planar points; one second per meter."""
    xy = np.array([(p.x, p.y) for p in problem.locations if isinstance(p, Point)])
    d = np.rint(
        np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    )
    return TravelMatrix(d, d)


def _line_problem(n: int = 8, **order_kw: object) -> Problem:
    orders = tuple(
        Order(
            id=f"o{i}",
            location=Point(100.0 * (i + 1), 0.0),
            delivery=(1,),
            pickup=(0,),
            **order_kw,  # type: ignore[arg-type]
        )
        for i in range(n)
    )
    vehicles = tuple(
        Vehicle(
            id=f"v{k}", start_depot="D", end_depot="D", capacity=(n,), cost_per_km=1
        )
        for k in range(2)
    )
    return Problem(
        depots=(Depot(id="D", location=Point(0, 0)),), vehicles=vehicles, orders=orders
    )


def _search(problem: Problem, travel: TravelMatrix) -> RoutingSearch:
    matrices = {p: travel for p in problem.profiles}
    allowed = precheck(problem, matrices).allowed
    return RoutingSearch(problem, matrices, allowed, options=OPTIONS)


def _plan(problem: Problem, travel: TravelMatrix, seqs: dict[str, list[str]]) -> Plan:
    routes = build_routes(problem, {p: travel for p in problem.profiles}, seqs)
    served = {o for seq in seqs.values() for o in seq}
    unplanned = tuple(
        Unplanned(order_id=o.id, code=UnplannedCode.FLEET_FULL, reason="test")
        for o in problem.orders
        if o.id not in served
    )
    return Plan(
        status=PlanStatus.PARTIAL if unplanned else PlanStatus.SOLVED,
        routes=routes,
        unplanned=unplanned,
        totals=summarize(routes, len(unplanned)),
        solver_status="test",
    )


def test_feasible_routes_are_read_unchanged_with_their_objective() -> None:
    """Feasible routes read as a warm start keep their order and nothing is dropped;
    the search from them never ends worse than they are."""
    problem = _line_problem()
    travel = _matrix(problem)
    search = _search(problem, travel)
    zigzag = {"v0": ["o7", "o0", "o6", "o1", "o5", "o2", "o4", "o3"]}
    start = search.warm_start(zigzag)
    assert start is not None
    assert start.dropped == []
    assert search.solution_of(start).sequences == zigzag
    guided_local_search(search)
    raw = search.search(time_limit_s=1, initial=start, patience_s=0.3)
    assert raw.objective <= start.objective
    assert raw.objective < start.objective  # the zigzag is easy to improve
    plan = _plan(problem, travel, raw.sequences)
    assert check_plan(problem, plan, travel) == []


def test_infeasible_route_is_repaired_by_dropping_stops() -> None:
    """A route that breaks slots in the full model (as a relaxed engine may hand
    over) is repaired: stops are dropped until it is feasible, and they are named."""
    problem = _line_problem(windows=(TimeWindow(0, 900),))
    travel = _matrix(problem)
    search = _search(problem, travel)
    # Far stops first: the near ones are then reached after their slot ends.
    late_order = {"v0": ["o7", "o6", "o5", "o4", "o3", "o2", "o1", "o0"]}
    start = search.warm_start(late_order)
    assert start is not None
    assert start.dropped  # something had to go
    kept = search.solution_of(start).sequences.get("v0", [])
    assert set(kept) | set(start.dropped) == {f"o{i}" for i in range(8)}
    assert kept == [o for o in late_order["v0"] if o not in start.dropped]
    assert check_plan(problem, _plan(problem, travel, {"v0": kept}), travel) == []


def test_repair_is_judged_by_the_timing_before_the_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A route the model rejects is repaired on our timing: the model reads the
    routes twice (as given, then repaired) instead of once per stop tried (on
    a 400-order day 2.6 s of reads to drop 2 stops), and drops the same stops
    as its own reads would."""
    problem = _line_problem(windows=(TimeWindow(0, 900),))
    travel = _matrix(problem)
    late_order = {"v0": ["o7", "o6", "o5", "o4", "o3", "o2", "o1", "o0"]}
    search = _search(problem, travel)
    reads = 0
    read = search._read

    def counted(routes: list[list[int]]) -> object | None:
        nonlocal reads
        reads += 1
        return read(routes)

    monkeypatch.setattr(search, "_read", counted)
    start = search.warm_start(late_order)
    assert start is not None and reads == 2
    # The model's own greedy, for comparison: the same stops go.
    by_model = _search(problem, travel)
    monkeypatch.setattr(by_model, "_timed_repair", lambda seqs: (dict(seqs), []))
    reference = by_model.warm_start(late_order)
    assert reference is not None
    assert start.dropped == reference.dropped
    assert start.objective == reference.objective


def test_orders_outside_the_model_are_ignored_and_empty_routes_give_none() -> None:
    """Unknown ids are skipped; with no route at all there is no warm start."""
    problem = _line_problem(n=3)
    search = _search(problem, _matrix(problem))
    assert search.warm_start({}) is None
    start = search.warm_start({"v1": ["ghost", "o0"]})
    assert start is not None
    assert search.solution_of(start).sequences == {"v1": ["o0"]}


def test_a_stop_on_a_vehicle_it_does_not_allow_is_dropped_without_log_noise(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Routes that put an order on a vehicle it does not allow (an engine's
    relaxation, a re-plan's changed fleet) are repaired by dropping that stop
    alone, and nothing is written on stderr (OR-Tools logged an error line
    per rejected read: dozens per re-plan)."""
    problem = _line_problem()
    travel = _matrix(problem)
    matrices = {p: travel for p in problem.profiles}
    allowed = dict(precheck(problem, matrices).allowed)
    allowed["o3"] = [1]  # v1 only
    search = RoutingSearch(problem, matrices, allowed, options=OPTIONS)
    capfd.readouterr()
    start = search.warm_start({"v0": [f"o{i}" for i in range(8)]})
    assert start is not None
    assert start.dropped == ["o3"]
    assert search.solution_of(start).sequences == {
        "v0": ["o0", "o1", "o2", "o4", "o5", "o6", "o7"]
    }
    assert "not allowed" not in capfd.readouterr().err


def test_a_start_gets_the_required_orders_it_left_out_where_they_fit() -> None:
    """An engine's routes without two required orders (a relaxation dropped
    them) are completed before the starts are compared: the orders are put
    where they fit and the start, read again, costs less in the full model
    than with their penalties; a start that serves everything is left as is."""
    from routing.solver.portfolio import _completed

    problem = _line_problem()
    travel = _matrix(problem)
    search = _search(problem, travel)
    allowed = precheck(problem, {p: travel for p in problem.profiles}).allowed
    partial = search.warm_start({"v0": ["o0", "o1", "o3", "o4", "o5", "o7"]})
    assert partial is not None
    done = _completed(search, allowed, partial, until=float("inf"))
    served = {o for seq in search.solution_of(done).sequences.values() for o in seq}
    assert served == {o.id for o in problem.orders}
    assert done.objective < partial.objective
    full = search.warm_start({"v0": [f"o{i}" for i in range(8)]})
    assert full is not None
    assert _completed(search, allowed, full, until=float("inf")) is full
