"""The only module that imports OR-Tools: builds the routing model and searches.

Input is the domain Problem plus travel matrices; output is plain Python data
(order ids per vehicle, status, objective). No OR-Tools object leaves this module.

Node layout of the model: the depots some vehicle starts or ends at, then the
orders that passed the pre-checks (an order with several slots: its first slot),
then one node per further slot of such orders (`_slot_nodes`), then (if a vehicle
has no end depot) one dummy "route ends here" node reached at zero cost from
everywhere.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from routing.domain.errors import SolverError
from routing.domain.model import Order, Problem, TimeWindow, Vehicle
from routing.domain.timing import build_route, greedy_keep, keep_feasible_routes
from routing.domain.units import COST_SCALE
from routing.geo.matrix import TravelMatrix
from routing.solver.options import SolveOptions

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, float], None]
"""Called with (best objective so far, elapsed seconds) at each solution the search
accepts (often many per second: throttle before printing)."""

ILS_MAX_STRING = 15
"""Longest string of consecutive stops one SISR ruin removes from a route."""

ILS_AVG_REMOVED = 20
"""Average number of stops one SISR ruin removes (measured: see benchmarks/README)."""

ILS_NEIGHBOURS = 10
"""Neighbours per stop used to measure the typical arc cost."""

ILS_START_TEMPERATURE = 1.0
"""Simulated-annealing start temperature, in typical arc costs: a plan one
typical arc worse is accepted with probability 1/e at the start of the search."""

ILS_FINAL_TEMPERATURE = 0.001
"""Final temperature, in typical arc costs: acceptance is greedy at the end."""


NO_SOLUTION_LIMIT = 2**62
"""``solution_limit`` meaning "none" (OR-Tools rejects 0)."""

_STATUS = {
    0: "not_solved",
    1: "success",
    2: "local_optimum_not_reached",
    3: "fail",
    4: "time_limit",
    5: "invalid",
    6: "infeasible",
    7: "optimal",
}


@dataclass(frozen=True, slots=True)
class RawSolution:
    """What the search found, in domain terms."""

    sequences: dict[str, list[str]]
    dropped: list[str]
    status: str
    objective: int
    has_solution: bool
    stats: dict[str, float] = field(default_factory=dict)


def _penalty(value: float) -> int:
    return round(value * COST_SCALE)


@dataclass(slots=True)
class WarmStart:
    """Routes read into the full model: an assignment OR-Tools can search from.

    ``dropped`` are the orders taken off the given routes so that every route
    is feasible in the full model (the search may insert them again);
    ``objective`` is the full model's objective of the repaired routes.
    """

    assignment: object
    objective: int
    dropped: list[str]


class RoutingSearch:
    """The full OR-Tools model of a day, built once, searched from scratch or
    from given routes (warm start).

    Parameters
    ----------
    problem
        The problem.
    matrices
        Travel data per speed profile, rows following ``problem.locations``.
    allowed
        For each order to plan, the positions of the vehicles that may serve it;
        orders absent here are not in the model.
    options
        Search settings.
    keep
        Order id -> the vehicle it was on before (a re-plan's old plan); None:
        no such preference.
    move_cost
        Money an order of ``keep`` costs when it is served by another vehicle
        (>= 0; 0: moving is free). Priced on the arcs into the order's nodes:
        one arc-cost matrix per (profile, rate, old vehicle), only when moves
        are priced.
    """

    def __init__(
        self,
        problem: Problem,
        matrices: Mapping[str, TravelMatrix],
        allowed: Mapping[str, Sequence[int]],
        *,
        options: SolveOptions,
        keep: Mapping[str, str] | None = None,
        move_cost: float = 0.0,
    ) -> None:
        t0 = time.perf_counter()
        vehicles = problem.vehicles
        orders = [problem.order(oid) for oid in allowed]
        used_depots = sorted(
            {problem.depot_index(v.start_depot) for v in vehicles}
            | {problem.depot_index(v.end_depot) for v in vehicles if v.end_depot}
        )
        has_open_end = any(v.end_depot is None for v in vehicles)
        first_order_node = len(used_depots)
        # (order position, slot) of each order node, from first_order_node.
        slot_nodes = _slot_nodes(problem, orders)
        # rows: matrix row of each node; -1 for the open-end dummy.
        rows = used_depots + [problem.order_index(orders[k].id) for k, _ in slot_nodes]
        if has_open_end:
            rows.append(-1)
        n_nodes = len(rows)
        node_of_depot = {row: node for node, row in enumerate(used_depots)}
        dummy = n_nodes - 1 if has_open_end else -1
        # order_at[node]: position in `orders` of the order a node serves, or -1.
        order_at = [-1] * n_nodes
        nodes_of: list[list[int]] = [[] for _ in orders]
        for offset, (k, _) in enumerate(slot_nodes):
            order_at[first_order_node + offset] = k
            nodes_of[k].append(first_order_node + offset)
        starts = [node_of_depot[problem.depot_index(v.start_depot)] for v in vehicles]
        ends = [
            node_of_depot[problem.depot_index(v.end_depot)] if v.end_depot else dummy
            for v in vehicles
        ]
        manager = pywrapcp.RoutingIndexManager(n_nodes, len(vehicles), starts, ends)
        routing = pywrapcp.RoutingModel(manager)

        row_index = np.array([max(r, 0) for r in rows], dtype=np.int64)
        service = np.zeros(n_nodes, dtype=np.int64)
        for node, k in enumerate(order_at):
            if k >= 0:
                service[node] = orders[k].service_s

        def sub(matrix: NDArray[np.int64]) -> NDArray[np.int64]:
            out = matrix[np.ix_(row_index, row_index)].copy()
            if has_open_end:
                out[:, dummy] = 0
                out[dummy, :] = 0
            return out

        # Per-profile node matrices, computed once and shared by vehicles.
        dist_of: dict[str, NDArray[np.int64]] = {}
        time_of: dict[str, int] = {}
        for profile in problem.profiles:
            m = matrices[profile]
            dist_of[profile] = sub(m.distances_m)
            travel_time = sub(m.durations_s) + service[:, None]
            np.fill_diagonal(travel_time, 0)
            time_of[profile] = routing.RegisterTransitMatrix(travel_time.tolist())

        # Arc costs per (profile, cost per km): distance priced at the vehicle's rate.
        weights = problem.objective
        cost_of: dict[tuple[str, float], int] = {}
        typical_arc = 0.0
        for k, v in enumerate(vehicles):
            rate = v.cost_per_km * weights.distance
            if rate == 0 and v.cost_per_hour * weights.duration == 0:
                rate = 1000.0 / COST_SCALE  # nothing priced: one unit per meter
            key = (v.profile, rate)
            if key not in cost_of:
                arc = np.rint(dist_of[v.profile] * (rate * COST_SCALE / 1000.0)).astype(
                    np.int64
                )
                cost_of[key] = routing.RegisterTransitMatrix(arc.tolist())
                if not typical_arc:
                    per_s = v.cost_per_hour * weights.duration * COST_SCALE / 3600.0
                    typical_arc = _typical_arc_cost(
                        arc + per_s * sub(matrices[v.profile].durations_s),
                        first_order_node,
                        len(orders),
                    )
            routing.SetArcCostEvaluatorOfVehicle(cost_of[key], k)
            if v.fixed_cost * weights.fixed_cost:
                routing.SetFixedCostOfVehicle(
                    _penalty(v.fixed_cost * weights.fixed_cost), k
                )

        # Priced moves: a dimension whose transit, per vehicle, is ``move_cost``
        # on leaving the node of an order kept on *another* vehicle (one vector
        # per old vehicle; None: a vehicle that had none of the kept orders);
        # its span cost is the moves' cost. (Until session 15 each old vehicle
        # had its own node x node arc-cost matrix: a 1,000-order day with 34
        # vehicles, every order kept, took 2.90 s and 598 MB peak to build;
        # now 0.73 s and 291 MB.)
        moved_into = _move_columns(orders, order_at, keep, move_cost)
        if moved_into:
            unary = {
                owner: routing.RegisterUnaryTransitVector(column.tolist())
                for owner, column in moved_into.items()
            }
            routing.AddDimensionWithVehicleTransits(
                [unary[v.id if v.id in moved_into else None] for v in vehicles],
                0,
                int(moved_into[None].sum()),
                True,
                "moves",
            )
            routing.GetDimensionOrDie("moves").SetSpanCostCoefficientForAllVehicles(1)

        # Time: cumul = service start; slack = waiting.
        horizon = problem.horizon
        routing.AddDimensionWithVehicleTransitAndCapacity(
            [time_of[v.profile] for v in vehicles],
            horizon.end_s,
            [horizon.end_s] * len(vehicles),
            False,
            "time",
        )
        time_dim = routing.GetDimensionOrDie("time")
        per_hour = COST_SCALE / 3600.0  # money per hour -> objective units per second
        for offset, (k, slot) in enumerate(slot_nodes):
            order = orders[k]
            index = manager.NodeToIndex(first_order_node + offset)
            cumul = time_dim.CumulVar(index)
            policy = problem.policy(order)
            windows = policy.windows
            late = policy.allowance_s
            if slot is not None and slot < len(windows) - 1:
                late = 0  # only the last slot may be missed (by max_lateness)
            # The node's own slot; all the order's slots if it has one node.
            mine = windows if slot is None else windows[slot : slot + 1]
            cumul.SetRange(mine[0].start_s, min(mine[-1].end_s + late, horizon.end_s))
            for a, b in pairwise(mine):
                if b.start_s - a.end_s > 1:
                    cumul.RemoveInterval(a.end_s + 1, b.start_s - 1)
            if late:
                # Soft slot: service after the last window costs per second late.
                coefficient = round(
                    policy.lateness_cost_per_hour * weights.lateness * per_hour
                )
                if coefficient:
                    time_dim.SetCumulVarSoftUpperBound(
                        index, windows[-1].end_s, coefficient
                    )
            elif weights.early_per_hour and order.windows:
                # Preference: serve hard-slot orders early in their slot.
                time_dim.SetCumulVarSoftUpperBound(
                    index,
                    windows[0].start_s,
                    max(1, round(weights.early_per_hour * per_hour)),
                )
        if weights.waiting_per_hour:
            time_dim.SetSlackCostCoefficientForAllVehicles(
                max(1, round(weights.waiting_per_hour * per_hour))
            )
        if weights.balance_per_hour:
            time_dim.SetGlobalSpanCostCoefficient(
                max(1, round(weights.balance_per_hour * per_hour))
            )
        _add_breaks(routing, manager, time_dim, vehicles, service)
        for k, v in enumerate(vehicles):
            start_depot = problem.depot(v.start_depot)
            lo = max(v.shift.start_s, start_depot.opening.start_s, horizon.start_s)
            hi = min(v.shift.end_s, start_depot.opening.end_s, horizon.end_s)
            end_lo, end_hi = lo, min(v.shift.end_s, horizon.end_s)
            if v.end_depot is not None:
                end_depot = problem.depot(v.end_depot)
                # (back before it opens, the vehicle waits there until it does)
                end_lo = max(lo, end_depot.opening.start_s)
                end_hi = min(end_hi, end_depot.opening.end_s)
            if lo > hi or end_lo > end_hi:
                # The shift misses the depots' hours: the vehicle cannot work
                # (the pre-checks allow it no order); its empty route only needs
                # times that exist, or the model has no solution at all.
                hi, end_lo, end_hi = lo, lo, max(end_lo, end_hi) + horizon.end_s
            time_dim.CumulVar(routing.Start(k)).SetRange(lo, hi)
            time_dim.CumulVar(routing.End(k)).SetRange(end_lo, end_hi)
            if v.max_duration_s is not None:
                time_dim.SetSpanUpperBoundForVehicle(v.max_duration_s, k)
            if v.cost_per_hour * weights.duration:
                time_dim.SetSpanCostCoefficientForVehicle(
                    round(v.cost_per_hour * weights.duration * COST_SCALE / 3600.0), k
                )
            routing.AddVariableMinimizedByFinalizer(time_dim.CumulVar(routing.End(k)))
            routing.AddVariableMaximizedByFinalizer(time_dim.CumulVar(routing.Start(k)))

        _add_capacities(problem, routing, orders, order_at)

        if any(v.max_stops is not None for v in vehicles):
            ones = [1 if k >= 0 else 0 for k in order_at]
            unit = routing.RegisterUnaryTransitVector(ones)
            routing.AddDimensionWithVehicleCapacity(
                unit,
                0,
                [
                    v.max_stops if v.max_stops is not None else len(orders)
                    for v in vehicles
                ],
                True,
                "stops",
            )
        if any(v.max_distance_m is not None for v in vehicles):
            dist_eval = {
                p: routing.RegisterTransitMatrix(d.tolist()) for p, d in dist_of.items()
            }
            big = int(max(int(d.sum()) for d in dist_of.values()) + 1)
            routing.AddDimensionWithVehicleTransitAndCapacity(
                [dist_eval[v.profile] for v in vehicles],
                0,
                [
                    v.max_distance_m if v.max_distance_m is not None else big
                    for v in vehicles
                ],
                True,
                "distance",
            )

        n_vehicles = len(vehicles)
        # First node of each order (the only one of a paired order: `_slot_nodes`).
        node_of_order = {o.id: nodes_of[k][0] for k, o in enumerate(orders)}
        _add_pairs(problem, routing, manager, time_dim, node_of_order)
        # Vehicles allowed at each restricted index (the others: every vehicle).
        allowed_at: dict[int, frozenset[int]] = {}
        for k, order in enumerate(orders):
            indices = [manager.NodeToIndex(node) for node in nodes_of[k]]
            penalty = problem.unplanned_penalty(order)
            if order.is_optional:  # required orders stay above any route cost
                penalty *= problem.objective.unplanned
            # At most one of the order's slot nodes is visited; none costs the
            # penalty once.
            routing.AddDisjunction(indices, _penalty(penalty), 1)
            allowed_here = list(allowed[order.id])
            if len(allowed_here) < n_vehicles:
                allowed_at.update(dict.fromkeys(indices, frozenset(allowed_here)))
                # SetAllowedVehiclesForIndex's binding rejects every Python sequence in
                # 9.15 ("argument 2 of type absl::Span<int const>"); restricting the
                # vehicle variable is equivalent (-1 keeps "unperformed" possible).
                for index in indices:
                    routing.VehicleVar(index).SetValues([*allowed_here, -1])

        self.problem = problem
        self.options = options
        self.routing = routing
        self._allowed_at = allowed_at
        self.manager = manager
        self.orders = orders
        self.first_order_node = first_order_node
        self.node_of_order = node_of_order
        self.order_at = order_at
        self.matrices = matrices
        # Orders with one node per slot: {order id: [(slot, node), ...]}.
        self.slot_nodes_of: dict[str, list[tuple[TimeWindow, int]]] = {}
        for offset, (k, slot) in enumerate(slot_nodes):
            if slot is not None:
                self.slot_nodes_of.setdefault(orders[k].id, []).append(
                    (orders[k].windows[slot], first_order_node + offset)
                )
        self.typical_arc = typical_arc
        self.params = _search_parameters(options, typical_arc_cost=typical_arc)
        self._on_progress: ProgressCallback | None = None
        self._patience_s: float | None = None
        self._n_solutions = 0
        self._best: int | None = None
        self._t_search = self._t_best = time.perf_counter()
        self._stopped_converged = False
        self.should_stop: Callable[[], bool] | None = None
        """Asked at every accepted solution; True ends the search (a cancel)."""
        self._stopped_on_request = False
        routing.AddAtSolutionCallback(self._at_solution)
        # Closed with a limit of one solution: reading routes (warm_start) runs a
        # search for the dimension values that otherwise goes on, without
        # improving them, until the time limit (10.0 s on a 250-order day with a
        # 10 s limit; 0.11 s like this, same objective).
        self.params.solution_limit = 1  # type: ignore[attr-defined]
        routing.CloseModelWithParameters(self.params)
        self.params.solution_limit = (  # type: ignore[attr-defined]
            options.solution_limit or NO_SOLUTION_LIMIT
        )
        self.model_s = time.perf_counter() - t0

    def _at_solution(self) -> None:
        # Called for every accepted solution; local search accepts worse ones
        # too, so report the best so far.
        self._n_solutions += 1
        cost = int(self.routing.CostVar().Max())
        now = time.perf_counter()
        if self._best is None or cost < self._best:
            self._best, self._t_best = cost, now
        elif (
            self._patience_s is not None
            and now - self._t_best > self._patience_s
            and not self._stopped_converged
        ):
            self._stopped_converged = True
            self.routing.solver().FinishCurrentSearch()
        if self._on_progress is not None:
            self._on_progress(self._best, now - self._t_search)
        if (
            self.should_stop is not None
            and not self._stopped_on_request
            and self.should_stop()
        ):
            self._stopped_on_request = True
            self.routing.solver().FinishCurrentSearch()

    def _route_indices(
        self,
        sequences: Mapping[str, Sequence[str]],
        starts: Mapping[str, int] | None = None,
    ) -> list[list[int]]:
        """Routing indices per vehicle, orders outside the model left out; an
        order with several slot nodes gets the node of the slot its service
        starts in when the route is timed as given (``schedule.build_route``,
        or ``starts`` when given)."""
        routes: list[list[int]] = []
        for v in self.problem.vehicles:
            seq = [oid for oid in sequences.get(v.id, ()) if oid in self.node_of_order]
            nodes = [self.node_of_order[oid] for oid in seq]
            if any(oid in self.slot_nodes_of for oid in seq):
                at: Mapping[str, int]
                if starts is None or any(oid not in starts for oid in seq):
                    timed = build_route(self.problem, self.matrices[v.profile], v, seq)
                    at = {visit.order_id: visit.start_s for visit in timed.visits}
                else:
                    at = starts
                for pos, oid in enumerate(seq):
                    slots = self.slot_nodes_of.get(oid)
                    if slots:
                        # The slot it starts in, else (late) the last one.
                        nodes[pos] = next(
                            (n for w, n in slots if w.start_s <= at[oid] <= w.end_s),
                            slots[-1][1],
                        )
            routes.append([self.manager.NodeToIndex(n) for n in nodes])
        return routes

    def _read(self, routes: list[list[int]]) -> object | None:
        """The assignment of ``routes`` (indices per vehicle), or None when the
        model rejects them. A stop on a vehicle it does not allow is rejected
        here: OR-Tools would reject it too, but log an error line on stderr
        for each (a re-plan's repair of engine routes printed dozens)."""
        allowed_at = self._allowed_at
        for k, route in enumerate(routes):
            for index in route:
                vehicles = allowed_at.get(index)
                if vehicles is not None and k not in vehicles:
                    return None
        assignment: object | None = self.routing.ReadAssignmentFromRoutes(routes, True)
        return assignment

    def warm_start(self, sequences: Mapping[str, Sequence[str]]) -> WarmStart | None:
        """Read routes as a starting assignment, repairing infeasible routes.

        A route the full model rejects (a relaxation broke a break, a shift, a
        soft slot tightened elsewhere...) is rebuilt greedily in its order,
        keeping each stop whose addition leaves the route feasible
        (``timing.greedy_keep``); pickups are tried together with their
        delivery. The greedy first judges by our timing (`_timed_repair`: a
        route timed in a few milliseconds, where each of the model's reads
        takes tens of them on a large day), and by the model's reads, route
        by route, only if the model still rejects what the timing kept.
        Returns None when nothing can be read (no routes, or even empty
        routes are rejected).
        """
        routes = self._route_indices(sequences)
        if not any(routes):
            return None
        assignment = self._read(routes)
        dropped: list[str] = []
        if assignment is None:
            timed, dropped = self._timed_repair(sequences)
            routes = self._route_indices(timed)
            assignment = self._read(routes)
        if assignment is None:
            empty: list[list[int]] = [[] for _ in routes]
            pairs = self._pair_indices()
            repaired: list[list[int]] = []
            for k, route in enumerate(routes):
                trial: list[list[int]] = [[] for _ in routes]
                trial[k] = route
                if not route or self._read(trial) is not None:
                    repaired.append(route)
                    continue

                def accepts(candidate: list[int], k: int = k) -> bool:
                    trial = list(empty)
                    trial[k] = candidate
                    return self._read(trial) is not None

                kept = greedy_keep(route, accepts, pairs)
                repaired.append(kept)
                kept_set = set(kept)
                dropped += [self._order_id(i) for i in route if i not in kept_set]
            assignment = self._read(repaired)
            if assignment is None:
                return None
        return WarmStart(
            assignment=assignment,
            objective=int(assignment.ObjectiveValue()),  # type: ignore[attr-defined]
            dropped=dropped,
        )

    def _timed_repair(
        self, sequences: Mapping[str, Sequence[str]]
    ) -> tuple[dict[str, list[str]], list[str]]:
        """``sequences`` (orders outside the model left out) with each route
        that our timing finds breaking a rule (``timing.route_violations``)
        rebuilt by ``timing.keep_feasible``, and the orders taken off. A
        generated 400-order day whose PyVRP routes ignored its lunch breaks:
        the model's reads took 2.6 s to drop 2 stops (session 20)."""
        inside = {
            vid: [oid for oid in seq if oid in self.node_of_order]
            for vid, seq in sequences.items()
        }
        return keep_feasible_routes(self.problem, self.matrices, inside)

    def objective_of(
        self,
        sequences: Mapping[str, Sequence[str]],
        starts: Mapping[str, int] | None = None,
    ) -> int | None:
        """The full model's objective of these routes as given (each multi-slot
        order in the slot its timed service starts in), or None when the model
        rejects them. Orders outside the model are left out. ``starts``: each
        order's service start where the routes are already timed (a plan's
        visits), so that they are not timed again (a 1,000-order day: 0.1-0.17 s)."""
        routes = self._route_indices(sequences, starts)
        assignment = self._read(routes)
        if assignment is None:
            return None
        return int(assignment.ObjectiveValue())  # type: ignore[attr-defined]

    def _order_id(self, index: int) -> str:
        node = int(self.manager.IndexToNode(index))
        return str(self.orders[self.order_at[node]].id)

    def _pair_indices(self) -> dict[int, int]:
        """The routing index of each pair's delivery, by its pickup's."""
        delivery_of: dict[int, int] = {}
        for pair in self.problem.pairs:
            p, d = (
                self.node_of_order.get(pair.pickup),
                self.node_of_order.get(pair.delivery),
            )
            if p is not None and d is not None:
                delivery_of[self.manager.NodeToIndex(p)] = self.manager.NodeToIndex(d)
        return delivery_of

    def search(
        self,
        *,
        time_limit_s: float,
        initial: WarmStart | None = None,
        on_progress: ProgressCallback | None = None,
        patience_s: float | None = None,
    ) -> RawSolution:
        """Search for at most ``time_limit_s``, from ``initial`` if given.

        ``patience_s``: stop once the best objective has not improved for this
        long (the search has converged); the stats then say so.
        """
        routing, params = self.routing, self.params
        params.time_limit.FromMilliseconds(  # type: ignore[attr-defined]
            max(1, round(time_limit_s * 1000))
        )
        options, orders, model_s = self.options, self.orders, self.model_s

        self._on_progress = on_progress
        self._patience_s = patience_s
        self._n_solutions = 0
        self._best = None
        self._stopped_converged = False
        self._stopped_on_request = False
        self._t_search = self._t_best = time.perf_counter()
        t_search = self._t_search
        if initial is not None:
            assignment = routing.SolveFromAssignmentWithParameters(
                initial.assignment, params
            )
            if assignment is None:
                # The search could not move; the warm start is the answer.
                assignment = initial.assignment
        elif _uses_ils(options) and self.should_stop is None:
            assignment = routing.SolveWithIteratedLocalSearch(params)
        else:
            if _uses_ils(options):
                # A search that may be cancelled: iterated local search in 9.15
                # ignores FinishCurrentSearch (and search limits added from
                # Python), guided local search stops at the next solution.
                guided_local_search(self)
            assignment = routing.SolveWithParameters(params)
        n_solutions = self._n_solutions
        search_s = time.perf_counter() - t_search
        status = _STATUS.get(routing.status(), f"status_{routing.status()}")
        stats = {
            "model_s": model_s,
            "search_s": search_s,
            "solutions": float(n_solutions),
            "converged": float(self._stopped_converged),
        }
        if assignment is None and status == "invalid":
            raise SolverError(
                "OR-Tools rejected the model or its search parameters (see its log)"
            )
        if assignment is None:
            return RawSolution(
                sequences={},
                dropped=[o.id for o in orders],
                status=status,
                objective=0,
                has_solution=False,
                stats=stats,
            )
        if status == "not_solved":
            # SolveWithIteratedLocalSearch leaves the status unset even when it
            # returns a plan; say how the search ended instead.
            status = "time_limit" if search_s >= 0.98 * time_limit_s else "success"
        if self._stopped_converged:
            status = "converged"
        if self._stopped_on_request:
            status = "stopped"
        return self._raw_from(assignment, status, stats)

    def solution_of(self, start: WarmStart) -> RawSolution:
        """The warm start itself as a solution (when no search improved it)."""
        stats = {"model_s": self.model_s, "search_s": 0.0, "solutions": 0.0}
        return self._raw_from(start.assignment, "warm_start", stats)

    def _raw_from(
        self, assignment: object, status: str, stats: dict[str, float]
    ) -> RawSolution:
        routing, manager = self.routing, self.manager
        orders, order_at = self.orders, self.order_at
        value = assignment.Value  # type: ignore[attr-defined]
        sequences: dict[str, list[str]] = {}
        served: set[str] = set()
        for k, v in enumerate(self.problem.vehicles):
            seq: list[str] = []
            index = value(routing.NextVar(routing.Start(k)))
            while not routing.IsEnd(index):
                node = manager.IndexToNode(index)
                seq.append(orders[order_at[node]].id)
                index = value(routing.NextVar(index))
            if seq:
                sequences[v.id] = seq
                served.update(seq)
        dropped = [o.id for o in orders if o.id not in served]
        return RawSolution(
            sequences=sequences,
            dropped=dropped,
            status=status,
            objective=int(assignment.ObjectiveValue()),  # type: ignore[attr-defined]
            has_solution=True,
            stats=stats,
        )


def guided_local_search(search: RoutingSearch) -> None:
    """Switch a built model's next searches to guided local search: the
    metaheuristic that improves a given plan (iterated local search in 9.15
    only starts from its own construction)."""
    params = search.params
    params.use_iterated_local_search = False  # type: ignore[attr-defined]
    params.local_search_metaheuristic = (  # type: ignore[attr-defined]
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )


def _move_columns(
    orders: Sequence[Order],
    order_at: Sequence[int],
    keep: Mapping[str, str] | None,
    move_cost: float,
) -> dict[str | None, NDArray[np.int64]]:
    """Extra cost of serving each node, per old vehicle: ``move_cost`` (in
    objective units) at the nodes of orders kept on *another* vehicle. Key None:
    a vehicle that had none of them. Empty when no move is priced."""
    units = _penalty(move_cost)
    kept = {k: keep[o.id] for k, o in enumerate(orders) if keep and o.id in keep}
    if not units or not kept:
        return {}
    columns: dict[str | None, NDArray[np.int64]] = {}
    for owner in [None, *sorted(set(kept.values()))]:
        column = np.zeros(len(order_at), dtype=np.int64)
        for node, k in enumerate(order_at):
            if k in kept and kept[k] != owner:
                column[node] = units
        columns[owner] = column
    return columns


def _slot_nodes(
    problem: Problem, orders: Sequence[Order]
) -> list[tuple[int, int | None]]:
    """(position in ``orders``, slot) of each order node, in node order.

    An order with several slots gets one node per slot (``slot``: the index of
    the slot in ``order.windows``), in one disjunction of which at most one node
    is visited. One node whose time domain had holes between the slots
    (``RemoveInterval``) stalled the search once soft slot ends were priced: the
    filters accept a move on the scheduling LP (a relaxation when a domain has
    holes), then the CP finalizer (``SetValuesFromTargets``) cannot realise it
    and tries service times one second at a time, for seconds per move. The
    first slot's node keeps the order's position; the other slots' nodes follow
    all orders. Orders of a pickup-and-delivery pair keep one node (``slot``
    None: all slots, with holes), as the pair constraints address one node.
    """
    first: list[tuple[int, int | None]] = []
    extra: list[tuple[int, int | None]] = []
    for k, order in enumerate(orders):
        if len(order.windows) > 1 and problem.pair_of(order.id) is None:
            first.append((k, 0))
            extra.extend((k, slot) for slot in range(1, len(order.windows)))
        else:
            first.append((k, None))
    return first + extra


def _add_breaks(
    routing: pywrapcp.RoutingModel,
    manager: pywrapcp.RoutingIndexManager,
    time_dim: pywrapcp.RoutingDimension,
    vehicles: Sequence[Vehicle],
    service: NDArray[np.int64],
) -> None:
    """Driver breaks as fixed-duration intervals on the time dimension.

    OR-Tools keeps them off services and travel (a break may also lie before the
    route starts or after it ends, when the driver is off duty); the schedule
    places them the same way (``schedule.py``).
    """
    if not any(v.breaks for v in vehicles):
        return
    solver = routing.solver()
    visit_transits = [
        int(service[manager.IndexToNode(i)]) if not routing.IsStart(i) else 0
        for i in range(routing.Size())
    ]
    for k, vehicle in enumerate(vehicles):
        if not vehicle.breaks:
            continue
        intervals = [
            solver.FixedDurationIntervalVar(
                b.window.start_s,
                b.window.end_s,
                b.duration_s,
                False,
                f"break {j} of {vehicle.id}",
            )
            for j, b in enumerate(vehicle.breaks)
        ]
        for a, b in pairwise(intervals):
            solver.Add(b.StartExpr() >= a.EndExpr())
        time_dim.SetBreakIntervalsOfVehicle(intervals, k, visit_transits)


def _add_pairs(
    problem: Problem,
    routing: pywrapcp.RoutingModel,
    manager: pywrapcp.RoutingIndexManager,
    time_dim: pywrapcp.RoutingDimension,
    node_of_order: Mapping[str, int],
) -> None:
    """Pickup-and-delivery pairs: same vehicle, pickup first, both or neither,
    and the goods' time on board within the pair's limit."""
    solver = routing.solver()
    for pair in problem.pairs:
        if pair.pickup not in node_of_order or pair.delivery not in node_of_order:
            continue  # the pre-checks left both out
        p = manager.NodeToIndex(node_of_order[pair.pickup])
        d = manager.NodeToIndex(node_of_order[pair.delivery])
        routing.AddPickupAndDelivery(p, d)
        solver.Add(routing.VehicleVar(p) == routing.VehicleVar(d))
        solver.Add(routing.ActiveVar(p) == routing.ActiveVar(d))
        solver.Add(time_dim.CumulVar(p) <= time_dim.CumulVar(d))
        if pair.max_ride_s is not None:
            service_p = problem.order(pair.pickup).service_s
            solver.Add(
                time_dim.CumulVar(d) - time_dim.CumulVar(p)
                <= pair.max_ride_s + service_p
            )


def _add_capacities(
    problem: Problem,
    routing: pywrapcp.RoutingModel,
    orders: Sequence[Order],
    order_at: Sequence[int],
) -> None:
    """One capacity dimension per quantity; load must fit at every point.

    Pure deliveries (or pure pickups) are the classic monotone dimension. When a
    quantity has both, the vehicle leaves loaded with all its deliveries and
    collects returns on the way: the load dimension starts at the route's delivery
    total (linked to a second dimension summing the deliveries) and changes by
    ``pickup - delivery`` at each stop, staying within [0, capacity].
    """
    vehicles = problem.vehicles
    n_nodes = len(order_at)
    for q in range(len(problem.quantities)):
        deliveries = [0] * n_nodes  # loaded at the depot
        changes = [0] * n_nodes  # load change at the stop
        for node, k in enumerate(order_at):
            if k < 0:
                continue
            order = orders[k]
            if not problem.is_paired_delivery(order.id):
                deliveries[node] = order.delivery[q]
            changes[node] = order.pickup[q] - order.delivery[q]
        caps = [v.capacity[q] for v in vehicles]
        has_d, has_change = any(deliveries), any(changes)
        if not has_d and not has_change:
            continue
        if has_d and all(-c == d for c, d in zip(changes, deliveries, strict=True)):
            # Depot deliveries only: the classic monotone dimension.
            demand = routing.RegisterUnaryTransitVector(deliveries)
            routing.AddDimensionWithVehicleCapacity(demand, 0, caps, True, f"q_{q}")
            continue
        if not has_d:
            # Nothing leaves the depot: the load starts empty and changes by
            # pickups (returns, pair pickups) and pair deliveries.
            change = routing.RegisterUnaryTransitVector(changes)
            routing.AddDimensionWithVehicleCapacity(change, 0, caps, True, f"q_{q}")
            continue
        delivered = routing.RegisterUnaryTransitVector(deliveries)
        routing.AddDimensionWithVehicleCapacity(
            delivered, 0, caps, True, f"q_{q}_delivered"
        )
        change = routing.RegisterUnaryTransitVector(changes)
        routing.AddDimensionWithVehicleCapacity(change, 0, caps, False, f"q_{q}_load")
        load_dim = routing.GetDimensionOrDie(f"q_{q}_load")
        delivered_dim = routing.GetDimensionOrDie(f"q_{q}_delivered")
        solver = routing.solver()
        for k in range(len(vehicles)):
            solver.Add(
                load_dim.CumulVar(routing.Start(k))
                == delivered_dim.CumulVar(routing.End(k))
            )


def _uses_ils(options: SolveOptions) -> bool:
    return options.metaheuristic == "iterated_local_search" and not (
        options.is_deterministic
    )


def _typical_arc_cost(
    cost: NDArray[np.float64] | NDArray[np.int64], first: int, n: int
) -> float:
    """Mean cost of an arc from a stop to one of its nearest neighbours.

    The scale of a local change in this model's objective: simulated-annealing
    temperatures are set relative to it, so that the same settings behave alike
    on a benchmark (cost = tenths of a unit) and on a city day (cost = money).
    """
    if n < 2:
        return 1.0
    block = np.asarray(cost[first : first + n, first : first + n], dtype=np.float64)
    block = block + np.diag(np.full(n, np.inf))
    k = min(ILS_NEIGHBOURS, n - 1)
    nearest = np.partition(block, k - 1, axis=1)[:, :k]
    return max(1.0, float(nearest.mean()))


def _search_parameters(
    options: SolveOptions, *, typical_arc_cost: float = 1.0
) -> object:
    params = pywrapcp.DefaultRoutingSearchParameters()
    strategies = routing_enums_pb2.FirstSolutionStrategy
    metas = routing_enums_pb2.LocalSearchMetaheuristic
    params.first_solution_strategy = getattr(strategies, options.first_solution.upper())
    if options.is_deterministic:
        params.local_search_metaheuristic = metas.GREEDY_DESCENT
    elif _uses_ils(options):
        # Iterated local search: ruin part of the best plan (SISR: strings of
        # nearby stops, Christiaens & Vanden Berghe 2020), recreate it by cheapest
        # insertion, descend to a local optimum, accept by simulated annealing.
        params.local_search_metaheuristic = metas.GREEDY_DESCENT
        params.use_iterated_local_search = True
        ruin = params.iterated_local_search_parameters.ruin_recreate_parameters
        sisr = ruin.ruin_strategies.add().sisr
        sisr.max_removed_sequence_size = ILS_MAX_STRING
        sisr.avg_num_removed_visits = ILS_AVG_REMOVED
        sisr.bypass_factor = 0.01
        annealing = (
            params.iterated_local_search_parameters.reference_solution_acceptance_strategy
        ).simulated_annealing
        annealing.initial_temperature = ILS_START_TEMPERATURE * typical_arc_cost
        annealing.final_temperature = ILS_FINAL_TEMPERATURE * typical_arc_cost
    else:
        params.local_search_metaheuristic = getattr(
            metas, options.metaheuristic.upper()
        )
    params.time_limit.FromMilliseconds(max(1, round(options.time_limit_s * 1000)))
    if options.solution_limit is not None:
        params.solution_limit = options.solution_limit
    params.log_search = options.log_search
    return params
