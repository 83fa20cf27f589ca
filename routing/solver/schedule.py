"""Route timing: turn an ordered list of stops into a Route with times and loads.

The solver decides *which* vehicle serves *which* orders in *what* order; this
module decides *when*. Given the sequence it computes the earliest feasible
service starts (waiting when early), then delays the departure from the depot as
far as that removes waiting without moving the return (drivers do not leave only
to wait in front of a closed door). It is independent of OR-Tools so that
re-planning and ETAs can reuse it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from routing.geo.matrix import TravelMatrix
from routing.model import Order, Problem, TimeWindow, Vehicle
from routing.plan import Route, Visit, route_cost


def _window_for(order: Order, t_s: int, horizon: TimeWindow) -> TimeWindow | None:
    """The first window of ``order`` that can still be met arriving at ``t_s``."""
    windows = order.windows or (horizon,)
    for window in windows:
        if t_s <= window.end_s:
            return window
    return None


def build_route(
    problem: Problem,
    matrix: TravelMatrix,
    vehicle: Vehicle,
    order_ids: Sequence[str],
    *,
    earliest_start_s: int | None = None,
) -> Route:
    """Schedule ``order_ids`` on ``vehicle`` and return the Route.

    Parameters
    ----------
    problem
        The problem the orders belong to.
    matrix
        Travel data of the vehicle's speed profile, rows following
        ``problem.locations``.
    vehicle
        The vehicle driving the route.
    order_ids
        The stops in visiting order (non-empty).
    earliest_start_s
        Earliest departure from the depot; default: the later of the shift start
        and the depot opening.

    Returns
    -------
    Route
        Times, loads, distances and cost. Service start never precedes the
        order's window; if the sequence misses a window or the shift, the route
        is returned as is (late) and the checker reports it.
    """
    depot = problem.depot(vehicle.start_depot)
    if earliest_start_s is None:
        earliest_start_s = max(
            vehicle.shift.start_s, depot.opening.start_s, problem.horizon.start_s
        )
    orders = [problem.order(oid) for oid in order_ids]
    rows = [problem.order_index(oid) for oid in order_ids]
    durations = matrix.durations_s
    distances = matrix.distances_m

    # Forward pass: earliest service starts from the earliest departure.
    prev = problem.depot_index(vehicle.start_depot)
    t = earliest_start_s
    arrivals: list[int] = []
    starts: list[int] = []
    slack: list[int] = []  # how much later service could start inside its window
    for order, row in zip(orders, rows, strict=True):
        arrival = t + int(durations[prev, row])
        window = _window_for(order, arrival, problem.horizon)
        start = arrival if window is None else max(arrival, window.start_s)
        slack.append(0 if window is None else window.end_s - start)
        arrivals.append(arrival)
        starts.append(start)
        t = start + order.service_s
        prev = row

    # Delay the departure by as much waiting as can be absorbed (Savelsbergh's
    # forward time slack): stop k moves by max(0, delay - waiting before k).
    waited = 0
    max_delay = sum(s - a for s, a in zip(starts, arrivals, strict=True))
    limit = max_delay
    for k in range(len(orders)):
        waited += starts[k] - arrivals[k]
        # a delay d moves stop k by max(0, d - waited); it must stay within slack.
        limit = min(limit, waited + slack[k])
    # The departure itself must stay within the shift and the depot's opening.
    latest_departure = min(
        vehicle.shift.end_s, depot.opening.end_s, problem.horizon.end_s
    )
    limit = min(limit, latest_departure - earliest_start_s)
    delay = max(0, min(max_delay, limit))
    if delay:
        start_s = earliest_start_s + delay
        prev = problem.depot_index(vehicle.start_depot)
        t = start_s
        for k, (order, row) in enumerate(zip(orders, rows, strict=True)):
            arrivals[k] = t + int(durations[prev, row])
            window = _window_for(order, arrivals[k], problem.horizon)
            starts[k] = (
                arrivals[k] if window is None else max(arrivals[k], window.start_s)
            )
            t = starts[k] + order.service_s
            prev = row
    else:
        start_s = earliest_start_s

    load = tuple(
        sum(o.delivery[q] for o in orders) for q in range(len(problem.quantities))
    )
    start_load = load
    visits: list[Visit] = []
    prev = problem.depot_index(vehicle.start_depot)
    peak = _fill(start_load, vehicle.capacity)
    for order, row, arrival, start in zip(orders, rows, arrivals, starts, strict=True):
        load = tuple(
            load[q] - order.delivery[q] + order.pickup[q] for q in range(len(load))
        )
        peak = max(peak, _fill(load, vehicle.capacity))
        visits.append(
            Visit(
                order_id=order.id,
                arrival_s=arrival,
                wait_s=start - arrival,
                start_s=start,
                departure_s=start + order.service_s,
                load=load,
                travel_s=int(durations[prev, row]),
                distance_m=int(distances[prev, row]),
            )
        )
        prev = row
    last_departure = visits[-1].departure_s if visits else start_s
    if vehicle.end_depot is None:
        end_travel_s = end_distance_m = 0
    else:
        end_row = problem.depot_index(vehicle.end_depot)
        end_travel_s = int(durations[prev, end_row])
        end_distance_m = int(distances[prev, end_row])
    end_s = last_departure + end_travel_s
    distance_m = sum(v.distance_m for v in visits) + end_distance_m
    return Route(
        vehicle_id=vehicle.id,
        start_depot=vehicle.start_depot,
        end_depot=vehicle.end_depot,
        start_s=start_s,
        end_s=end_s,
        visits=tuple(visits),
        start_load=start_load,
        distance_m=distance_m,
        travel_s=sum(v.travel_s for v in visits) + end_travel_s,
        service_s=sum(v.service_s for v in visits),
        wait_s=sum(v.wait_s for v in visits),
        load_factor=peak,
        cost=route_cost(
            distance_m=distance_m,
            duration_s=end_s - start_s,
            fixed_cost=vehicle.fixed_cost,
            cost_per_km=vehicle.cost_per_km,
            cost_per_hour=vehicle.cost_per_hour,
        ),
        end_travel_s=end_travel_s,
        end_distance_m=end_distance_m,
    )


def _fill(load: tuple[int, ...], capacity: tuple[int, ...]) -> float:
    """Fullest quantity as a fraction of capacity (quantities with capacity > 0)."""
    return max(
        (ld / cap for ld, cap in zip(load, capacity, strict=True) if cap > 0),
        default=0.0,
    )


def build_routes(
    problem: Problem,
    matrices: Mapping[str, TravelMatrix],
    sequences: Mapping[str, Sequence[str]],
) -> tuple[Route, ...]:
    """Routes for ``{vehicle_id: order ids in visiting order}``, in fleet order;
    vehicles with no orders get no route."""
    return tuple(
        build_route(problem, matrices[v.profile], v, sequences[v.id])
        for v in problem.vehicles
        if sequences.get(v.id)
    )
