"""Results as values: visits, routes, unplanned orders and the Plan."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from routing.domain.units import COST_SCALE


class PlanStatus(StrEnum):
    """What the plan achieves.

    ``SOLVED``: every order is planned. ``PARTIAL``: a valid plan, but some orders
    are unplanned (each with a reason). ``NO_SOLUTION``: the solver found no plan
    within its limits; every order is listed unplanned.
    """

    SOLVED = "solved"
    PARTIAL = "partial"
    NO_SOLUTION = "no_solution"


class UnplannedCode(StrEnum):
    """Machine-readable reason an order is not in the plan."""

    NO_VEHICLES = "no_vehicles"
    EXCEEDS_CAPACITY = "exceeds_capacity"
    MISSING_SKILL = "missing_skill"
    NO_VEHICLE_KIND = "no_vehicle_kind"
    PAIR_UNSERVABLE = "pair_unservable"
    UNREACHABLE_IN_TIME = "unreachable_in_time"
    OUTSIDE_SHIFTS = "outside_shifts"
    NO_VEHICLE_FITS = "no_vehicle_fits"
    FLEET_FULL = "fleet_full"
    SLOT_TOO_TIGHT = "slot_too_tight"
    SHIFT_TOO_SHORT = "shift_too_short"
    NEEDS_MORE_VEHICLES = "needs_more_vehicles"
    DISPLACED = "displaced"
    NOT_WORTH_SERVING = "not_worth_serving"
    SEARCH_MISSED = "search_missed"
    NO_SOLUTION = "no_solution"


@dataclass(frozen=True, slots=True, kw_only=True)
class Visit:
    """One stop of a route, with its times in seconds since midnight.

    ``arrival_s + wait_s == start_s`` (service start, inside a window, or up to
    the order's allowed lateness after its last window) and
    ``start_s + service_s == departure_s``. ``late_s`` is how long after the end
    of its slot service starts (0: on time). ``load`` is what is on board when
    the vehicle leaves the stop, one value per problem quantity.
    """

    order_id: str
    arrival_s: int
    wait_s: int
    start_s: int
    departure_s: int
    load: tuple[int, ...]
    travel_s: int
    distance_m: int
    late_s: int = 0

    @property
    def service_s(self) -> int:
        """Time spent serving the stop."""
        return self.departure_s - self.start_s


@dataclass(frozen=True, slots=True)
class RouteBreak:
    """A driver break taken on a route, ``[start_s, end_s)``."""

    start_s: int
    end_s: int

    @property
    def duration_s(self) -> int:
        """Length of the break."""
        return self.end_s - self.start_s


@dataclass(frozen=True, slots=True, kw_only=True)
class Costs:
    """Money cost split by component."""

    fixed: float = 0.0
    distance: float = 0.0
    time: float = 0.0
    lateness: float = 0.0

    @property
    def total(self) -> float:
        """Sum of the components."""
        return self.fixed + self.distance + self.time + self.lateness

    def __add__(self, other: Costs) -> Costs:
        return Costs(
            fixed=self.fixed + other.fixed,
            distance=self.distance + other.distance,
            time=self.time + other.time,
            lateness=self.lateness + other.lateness,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    """The day of one vehicle.

    ``start_s`` is the departure from the start depot, ``end_s`` the arrival at
    the end depot (or the departure from the last stop of an open route).
    ``start_load`` is what is loaded at the depot: the sum of the route's
    deliveries except paired ones (collected on the way). ``load_factor`` is the
    fullest the vehicle gets, as a fraction of its capacity: the maximum over the
    start load and the load after each visit, over the quantities whose capacity
    is > 0 (0.0 if there are none). ``mean_load_factor`` is the fill averaged
    over the kilometres driven (each leg weighted by its distance).
    ``empty_distance_m`` is the distance driven with nothing on board.
    ``breaks`` are the driver's breaks, ``late_s`` the summed lateness of the
    visits, ``costs`` the cost by component (``cost`` is their total).

    ``duration_s`` covers travel, service, waiting and breaks; a break taken while
    waiting for a slot also counts in ``wait_s``, and time spent waiting for a
    break window to open before driving on counts in neither.
    """

    vehicle_id: str
    start_depot: str
    end_depot: str | None
    start_s: int
    end_s: int
    visits: tuple[Visit, ...]
    start_load: tuple[int, ...]
    distance_m: int
    travel_s: int
    service_s: int
    wait_s: int
    load_factor: float
    cost: float
    end_travel_s: int = 0
    end_distance_m: int = 0
    empty_distance_m: int = 0
    mean_load_factor: float = 0.0
    breaks: tuple[RouteBreak, ...] = ()
    late_s: int = 0
    costs: Costs = Costs()

    @property
    def late_stops(self) -> int:
        """Visits whose service starts after their slot."""
        return sum(1 for v in self.visits if v.late_s > 0)

    @property
    def break_s(self) -> int:
        """Time spent on breaks during the route."""
        return sum(
            b.duration_s
            for b in self.breaks
            if b.start_s < self.end_s and b.end_s > self.start_s
        )

    @property
    def duration_s(self) -> int:
        """Time from leaving the start depot to arriving at the end."""
        return self.end_s - self.start_s

    @property
    def order_ids(self) -> tuple[str, ...]:
        """The orders served, in visiting order."""
        return tuple(v.order_id for v in self.visits)


@dataclass(frozen=True, slots=True, kw_only=True)
class Unplanned:
    """An order left out of the plan, with the reason a dispatcher can act on."""

    order_id: str
    code: UnplannedCode
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanTotals:
    """Sums over the routes of a plan (the checker verifies them)."""

    distance_m: int
    duration_s: int
    travel_s: int
    service_s: int
    wait_s: int
    cost: float
    vehicles_used: int
    orders_planned: int
    orders_unplanned: int
    empty_distance_m: int = 0
    late_stops: int = 0
    late_s: int = 0
    costs: Costs = Costs()

    @property
    def on_time_rate(self) -> float:
        """Share of planned visits served inside their slot (1.0 with none)."""
        if not self.orders_planned:
            return 1.0
        return 1.0 - self.late_stops / self.orders_planned

    @property
    def driver_hours(self) -> float:
        """Paid driver time: the routes' durations, in hours."""
        return self.duration_s / 3600.0


@dataclass(frozen=True, slots=True)
class EngineRun:
    """What one warm-start engine (PyVRP, VROOM) did for a plan.

    ``outcome``: ``"warm_start"`` (its routes started the final OR-Tools search),
    ``"ran"`` (its routes were read but another start was cheaper),
    ``"skipped"`` (``reason`` says why), ``"failed"`` (``reason`` has the error).
    ``relaxations``: how the engine's model differs from ours, one line per
    feature. ``objective``: its routes' objective in the full model after
    repair (solver units; ``cost`` in money); ``repaired``: stops taken off its
    routes to make them feasible in the full model; ``started_s``: how long after
    the solve started it began to search; ``iterations``: the iterations its
    search ran (PyVRP; 0 where the engine does not say); ``routes_eliminated``:
    routes PyVRP's route elimination did without (fixed vehicle costs).
    """

    engine: str
    outcome: str
    reason: str = ""
    relaxations: tuple[str, ...] = ()
    elapsed_s: float = 0.0
    objective: int | None = None
    repaired: int = 0
    started_s: float = 0.0
    iterations: int = 0
    routes_eliminated: int = 0

    @property
    def cost(self) -> float | None:
        """The objective in money (``routing.domain.units.COST_SCALE`` units per 1)."""
        return None if self.objective is None else self.objective / COST_SCALE


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """A solution: one route per used vehicle and the unplanned orders.

    ``stats`` holds timings in seconds per stage (``validate_s``, ``matrix_s``,
    ``model_s``, ``solve_s``) and solver figures; ``solver_status`` is the
    solver's own word for how the search ended (``"success"``, ``"time_limit"``,
    ...). ``objective`` is the solver's internal integer objective.
    ``engines`` says what each warm-start engine did; ``stop_reason`` why the
    search stopped (converged, time limit, ...).
    """

    status: PlanStatus
    routes: tuple[Route, ...]
    unplanned: tuple[Unplanned, ...]
    totals: PlanTotals
    solver_status: str
    objective: int = 0
    stats: Mapping[str, float] = field(default_factory=dict)
    problem_name: str = ""
    engines: tuple[EngineRun, ...] = ()
    stop_reason: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "stats", MappingProxyType(dict(self.stats)))

    def route(self, vehicle_id: str) -> Route | None:
        """The route of a vehicle, or None if it is not used."""
        for route in self.routes:
            if route.vehicle_id == vehicle_id:
                return route
        return None

    @property
    def unplanned_ids(self) -> tuple[str, ...]:
        """Ids of the unplanned orders."""
        return tuple(u.order_id for u in self.unplanned)


def route_costs(
    *,
    distance_m: int,
    duration_s: int,
    fixed_cost: float,
    cost_per_km: float,
    cost_per_hour: float,
    lateness: float = 0.0,
) -> Costs:
    """Money cost of one used vehicle's route, by component.

    The one formula used by the solver's extraction and by the checker: fixed cost
    plus distance and duration (waiting, service and breaks included) at the
    vehicle's rates, plus ``lateness`` (the visits' lateness costs, summed).
    """
    return Costs(
        fixed=fixed_cost,
        distance=cost_per_km * distance_m / 1000.0,
        time=cost_per_hour * duration_s / 3600.0,
        lateness=lateness,
    )


def route_cost(
    *,
    distance_m: int,
    duration_s: int,
    fixed_cost: float,
    cost_per_km: float,
    cost_per_hour: float,
    lateness: float = 0.0,
) -> float:
    """Total of `route_costs`."""
    return route_costs(
        distance_m=distance_m,
        duration_s=duration_s,
        fixed_cost=fixed_cost,
        cost_per_km=cost_per_km,
        cost_per_hour=cost_per_hour,
        lateness=lateness,
    ).total


def lateness_cost(late_s: int, cost_per_hour: float) -> float:
    """Money cost of starting a service ``late_s`` seconds after its slot."""
    return cost_per_hour * late_s / 3600.0


def summarize(routes: tuple[Route, ...], unplanned_count: int) -> PlanTotals:
    """Totals of a set of routes."""
    return PlanTotals(
        distance_m=sum(r.distance_m for r in routes),
        duration_s=sum(r.duration_s for r in routes),
        travel_s=sum(r.travel_s for r in routes),
        service_s=sum(r.service_s for r in routes),
        wait_s=sum(r.wait_s for r in routes),
        cost=sum(r.cost for r in routes),
        vehicles_used=len(routes),
        orders_planned=sum(len(r.visits) for r in routes),
        orders_unplanned=unplanned_count,
        empty_distance_m=sum(r.empty_distance_m for r in routes),
        late_stops=sum(r.late_stops for r in routes),
        late_s=sum(r.late_s for r in routes),
        costs=sum((r.costs for r in routes), Costs()),
    )
