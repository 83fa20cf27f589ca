"""Problem data: locations, time windows, depots, vehicles, orders and the Problem.

Every type is an immutable, validated value. Times are integer seconds since
midnight of the planning day, distances integer meters, quantities integer vectors
whose meaning is named once in ``Problem.quantities`` (e.g. ``("kg", "parcels")``).
Nothing here knows about OR-Tools, travel-time providers, FastAPI or storage.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from itertools import pairwise
from numbers import Real
from types import MappingProxyType

from routing.errors import InvalidProblemError
from routing.units import MAX_HORIZON_S, SECONDS_PER_DAY

MAX_QUANTITY = 2**31 - 1
"""Largest capacity or demand value: sums over a route stay far from int64 limits."""

MAX_MONEY = 1e12
"""Largest money amount: times the solver's cost scale it still fits in int64."""


def _is_finite(value: object) -> bool:
    try:
        return math.isfinite(float(value))  # type: ignore[arg-type]
    except (OverflowError, TypeError, ValueError):
        return False


@dataclass(frozen=True, slots=True)
class Location:
    """A point on Earth in WGS84 degrees."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        for name, value, bound in (("lat", self.lat, 90.0), ("lon", self.lon, 180.0)):
            if not isinstance(value, Real) or isinstance(value, bool):
                raise InvalidProblemError(f"{name} must be a number, got {value!r}")
            if not _is_finite(value) or abs(value) > bound:
                raise InvalidProblemError(
                    f"{name} must be within [-{bound:g}, {bound:g}], got {value!r}"
                )
            object.__setattr__(self, name, float(value))


@dataclass(frozen=True, slots=True)
class Point:
    """A point in a plane (benchmark instances); the unit is the instance's."""

    x: float
    y: float

    def __post_init__(self) -> None:
        for name, value in (("x", self.x), ("y", self.y)):
            if (
                not isinstance(value, Real)
                or isinstance(value, bool)
                or not _is_finite(value)
            ):
                raise InvalidProblemError(
                    f"{name} must be a finite number, got {value!r}"
                )
            object.__setattr__(self, name, float(value))


Place = Location | Point
"""Where a depot or order is: geographic (lat/lon) or planar (x/y)."""


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A closed interval ``[start_s, end_s]`` of seconds since midnight.

    The owning entity validates it, so that an error can name that entity.
    """

    start_s: int
    end_s: int

    def contains(self, t_s: int) -> bool:
        """Whether ``t_s`` lies inside the window (both ends inclusive)."""
        return self.start_s <= t_s <= self.end_s

    def problem(self) -> str | None:
        """Describe what makes this window invalid, or None if it is valid."""
        for name in ("start_s", "end_s"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                return f"time window {name} must be integer seconds, got {value!r}"
            if value < 0 or value > MAX_HORIZON_S:
                return f"time window {name} {value} s is outside [0, {MAX_HORIZON_S}]"
        if self.start_s > self.end_s:
            return f"time window start {self.start_s} s is after end {self.end_s} s"
        return None


ALL_DAY = TimeWindow(0, SECONDS_PER_DAY)
"""Default horizon, depot opening and shift: the whole planning day."""

REQUIRED_PENALTY = 1_000_000.0
"""Money-equivalent cost of leaving a required (non-optional) order unplanned: far
above any route cost, so the solver drops a required order only when it cannot be
served at all, yet finite so that a partly infeasible day still yields a plan."""

DEFAULT_OPTIONAL_PENALTY = 1_000.0
"""Cost of leaving an optional order unplanned when it names no penalty of its own."""


def _check_window(window: TimeWindow, *, path: str, entity_id: str | None) -> None:
    if not isinstance(window, TimeWindow):
        raise InvalidProblemError(
            f"expected a TimeWindow, got {window!r}", path=path, entity_id=entity_id
        )
    problem = window.problem()
    if problem:
        raise InvalidProblemError(problem, path=path, entity_id=entity_id)


def _check_id(value: object, *, path: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidProblemError(
            f"id must be a non-empty string, got {value!r}", path=path
        )


def _check_place(place: object, *, entity_id: str) -> None:
    if not isinstance(place, Location | Point):
        raise InvalidProblemError(
            f"location must be a Location(lat, lon) or Point(x, y), got {place!r}",
            path="location",
            entity_id=entity_id,
        )


def _check_quantities(values: tuple[int, ...], *, path: str, entity_id: str) -> None:
    if not isinstance(values, tuple):
        raise InvalidProblemError(
            f"expected a tuple of integers, got {values!r}",
            path=path,
            entity_id=entity_id,
        )
    for k, value in enumerate(values):
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidProblemError(
                f"quantity must be an integer, got {value!r}",
                path=f"{path}[{k}]",
                entity_id=entity_id,
            )
        if value < 0 or value > MAX_QUANTITY:
            raise InvalidProblemError(
                f"quantity must be within [0, {MAX_QUANTITY}], got {value}",
                path=f"{path}[{k}]",
                entity_id=entity_id,
            )


def _check_optional_limit(value: int | None, *, path: str, entity_id: str) -> None:
    if value is None:
        return
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or not 0 <= value <= MAX_QUANTITY
    ):
        raise InvalidProblemError(
            f"must be an integer within [0, {MAX_QUANTITY}] or absent, got {value!r}",
            path=path,
            entity_id=entity_id,
        )


def _check_money(value: float, *, path: str, entity_id: str | None) -> None:
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or not _is_finite(value)
        or not 0 <= value <= MAX_MONEY
    ):
        raise InvalidProblemError(
            f"must be a number within [0, {MAX_MONEY:g}], got {value!r}",
            path=path,
            entity_id=entity_id,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Depot:
    """A depot or station where vehicles load, start and end.

    Parameters
    ----------
    id
        The user's id, unique among depots.
    location
        Where it is.
    opening
        When vehicles may leave and come back (inclusive).
    address
        Free text shown to drivers and dispatchers.
    """

    id: str
    location: Place
    opening: TimeWindow = ALL_DAY
    address: str = ""

    def __post_init__(self) -> None:
        _check_id(self.id, path="id")
        _check_place(self.location, entity_id=self.id)
        _check_window(self.opening, path="opening", entity_id=self.id)


@dataclass(frozen=True, slots=True, kw_only=True)
class Vehicle:
    """A vehicle with its driver's shift.

    Parameters
    ----------
    id
        The user's id, unique among vehicles.
    start_depot
        Id of the depot the vehicle leaves from, loaded.
    end_depot
        Id of the depot it must return to, or None for a route that ends at its
        last stop (e.g. a driver who goes home).
    shift
        Earliest departure and latest return (inclusive), seconds.
    capacity
        One integer per entry of ``Problem.quantities``.
    fixed_cost, cost_per_km, cost_per_hour
        Money per day used, per km driven, per hour of route duration (waiting and
        service included: the driver is paid for them).
    profile
        Name of the speed profile travel times are taken from (``"van"``,
        ``"bike"``, ...).
    max_duration_s, max_stops, max_distance_m
        Optional limits per route.
    skills
        What the vehicle and its driver can do (``"cold_chain"``, ``"fragile"``...).
    """

    id: str
    start_depot: str
    end_depot: str | None
    capacity: tuple[int, ...]
    shift: TimeWindow = ALL_DAY
    fixed_cost: float = 0.0
    cost_per_km: float = 0.0
    cost_per_hour: float = 0.0
    profile: str = "van"
    max_duration_s: int | None = None
    max_stops: int | None = None
    max_distance_m: int | None = None
    skills: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        _check_id(self.id, path="id")
        for name in ("start_depot", "end_depot"):
            value = getattr(self, name)
            if value is None and name == "end_depot":
                continue
            if not isinstance(value, str) or not value:
                raise InvalidProblemError(
                    f"must be a depot id, got {value!r}", path=name, entity_id=self.id
                )
        _check_window(self.shift, path="shift", entity_id=self.id)
        _check_quantities(self.capacity, path="capacity", entity_id=self.id)
        for name in ("fixed_cost", "cost_per_km", "cost_per_hour"):
            _check_money(getattr(self, name), path=name, entity_id=self.id)
        for name in ("max_duration_s", "max_stops", "max_distance_m"):
            _check_optional_limit(getattr(self, name), path=name, entity_id=self.id)
        if not isinstance(self.profile, str) or not self.profile:
            raise InvalidProblemError(
                f"profile must be a non-empty name, got {self.profile!r}",
                path="profile",
                entity_id=self.id,
            )
        if not isinstance(self.skills, frozenset):
            object.__setattr__(self, "skills", frozenset(self.skills))

    @property
    def is_open_ended(self) -> bool:
        """True when the route ends at its last stop rather than at a depot."""
        return self.end_depot is None


@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    """A customer stop: deliver goods, collect returns, or both in one visit.

    Parameters
    ----------
    id
        The user's id, unique among orders.
    location
        Where the customer is.
    service_s
        Time spent at the stop (parking, handing over), seconds.
    windows
        The booked appointment slot(s); service must start inside one of them.
        Empty means any time in the horizon.
    delivery
        Quantities loaded at the depot and handed over here.
    pickup
        Quantities collected here (returns) and carried to the vehicle's end.
    skills
        Skills the vehicle must have (all of them).
    priority
        0 = normal; each step up doubles the cost of leaving the order unplanned,
        so the solver sacrifices low-priority orders first.
    is_optional
        Whether the order may be left unplanned at ``penalty`` (otherwise it is
        dropped only when it cannot be served at all).
    penalty
        Money cost of leaving an optional order unplanned (default
        ``DEFAULT_OPTIONAL_PENALTY``).
    """

    id: str
    location: Place
    delivery: tuple[int, ...]
    pickup: tuple[int, ...]
    service_s: int = 0
    windows: tuple[TimeWindow, ...] = ()
    skills: frozenset[str] = frozenset()
    priority: int = 0
    is_optional: bool = False
    penalty: float | None = None
    address: str = ""
    notes: str = ""

    def __post_init__(self) -> None:
        _check_id(self.id, path="id")
        _check_place(self.location, entity_id=self.id)
        if self.service_s is None:
            raise InvalidProblemError(
                "must be an integer number of seconds",
                path="service_s",
                entity_id=self.id,
            )
        _check_optional_limit(self.service_s, path="service_s", entity_id=self.id)
        if not isinstance(self.windows, tuple):
            object.__setattr__(self, "windows", tuple(self.windows))
        for k, window in enumerate(self.windows):
            _check_window(window, path=f"windows[{k}]", entity_id=self.id)
        ordered = sorted(self.windows, key=lambda w: w.start_s)
        for a, b in pairwise(ordered):
            if b.start_s <= a.end_s:
                raise InvalidProblemError(
                    f"time windows overlap: [{a.start_s}, {a.end_s}] and "
                    f"[{b.start_s}, {b.end_s}]; merge them into one",
                    path="windows",
                    entity_id=self.id,
                )
        object.__setattr__(self, "windows", tuple(ordered))
        _check_quantities(self.delivery, path="delivery", entity_id=self.id)
        _check_quantities(self.pickup, path="pickup", entity_id=self.id)
        if not isinstance(self.skills, frozenset):
            object.__setattr__(self, "skills", frozenset(self.skills))
        if (
            not isinstance(self.priority, int)
            or isinstance(self.priority, bool)
            or not 0 <= self.priority <= 10
        ):
            raise InvalidProblemError(
                f"priority must be an integer in [0, 10], got {self.priority!r}",
                path="priority",
                entity_id=self.id,
            )
        if self.penalty is not None:
            _check_money(self.penalty, path="penalty", entity_id=self.id)

    @property
    def unplanned_penalty(self) -> float:
        """Money-equivalent cost of leaving this order unplanned."""
        if self.is_optional:
            base = DEFAULT_OPTIONAL_PENALTY if self.penalty is None else self.penalty
        else:
            base = REQUIRED_PENALTY
        return base * float(2**self.priority)


@dataclass(frozen=True, slots=True, kw_only=True)
class Objective:
    """Weights on the cost components the solver minimises (all >= 0).

    The plan always reports the true money cost; the weights only change what the
    search trades off. E.g. ``duration=0`` plans for distance alone, a larger
    ``fixed_cost`` weight packs the work onto fewer vehicles, a larger
    ``unplanned`` weight makes the solver try harder to fit optional orders.
    """

    fixed_cost: float = 1.0
    distance: float = 1.0
    duration: float = 1.0
    unplanned: float = 1.0

    def __post_init__(self) -> None:
        for name in ("fixed_cost", "distance", "duration", "unplanned"):
            _check_money(getattr(self, name), path=f"objective.{name}", entity_id=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One planning day: depots, fleet and orders.

    Matrix rows follow ``locations``: the depots first, in order, then the orders.

    Parameters
    ----------
    depots, vehicles, orders
        The entities; ids are unique within each kind.
    quantities
        Names of the capacity dimensions, e.g. ``("kg", "parcels")``; every
        capacity, delivery and pickup vector has this length.
    horizon
        The planning horizon; every time lies inside it.
    name, date
        Labels for reports (``date`` as ISO ``YYYY-MM-DD``).
    travel
        Free-form settings for the travel-time provider (e.g. profile speeds); the
        domain does not interpret them.
    objective
        Weights of the cost components in the search.
    """

    depots: tuple[Depot, ...]
    vehicles: tuple[Vehicle, ...]
    orders: tuple[Order, ...]
    quantities: tuple[str, ...] = ("units",)
    horizon: TimeWindow = ALL_DAY
    name: str = ""
    date: str | None = None
    travel: Mapping[str, object] = field(default_factory=dict)
    objective: Objective = Objective()
    _depot_rows: Mapping[str, int] = field(init=False, repr=False, compare=False)
    _order_positions: Mapping[str, int] = field(init=False, repr=False, compare=False)
    _vehicle_positions: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("depots", "vehicles", "orders", "quantities"):
            value = getattr(self, name)
            if not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))
        object.__setattr__(self, "travel", MappingProxyType(dict(self.travel)))
        if not self.depots:
            raise InvalidProblemError("at least one depot is required", path="depots")
        if not self.quantities:
            raise InvalidProblemError(
                "at least one quantity name is required", path="quantities"
            )
        if len(set(self.quantities)) != len(self.quantities):
            raise InvalidProblemError(
                f"quantity names repeat: {list(self.quantities)}", path="quantities"
            )
        _check_window(self.horizon, path="horizon", entity_id=None)
        if not isinstance(self.objective, Objective):
            raise InvalidProblemError(
                f"expected an Objective, got {self.objective!r}", path="objective"
            )
        self._check_unique("depots", self.depots)
        self._check_unique("vehicles", self.vehicles)
        self._check_unique("orders", self.orders)
        kinds = {type(p) for p in self.locations}
        if len(kinds) > 1:
            raise InvalidProblemError(
                "locations mix lat/lon and planar x/y coordinates", path="locations"
            )
        depot_ids = {d.id for d in self.depots}
        for i, vehicle in enumerate(self.vehicles):
            for attr in ("start_depot", "end_depot"):
                depot = getattr(vehicle, attr)
                if depot is not None and depot not in depot_ids:
                    raise InvalidProblemError(
                        f"unknown depot {depot!r}; known depots: {sorted(depot_ids)}",
                        path=f"vehicles[{i}].{attr}",
                        entity_id=vehicle.id,
                    )
            self._check_length(vehicle.capacity, f"vehicles[{i}].capacity", vehicle.id)
            _check_window_in_horizon(
                self.horizon,
                vehicle.shift,
                path=f"vehicles[{i}].shift",
                entity=vehicle.id,
            )
        for i, order in enumerate(self.orders):
            self._check_length(order.delivery, f"orders[{i}].delivery", order.id)
            self._check_length(order.pickup, f"orders[{i}].pickup", order.id)
        object.__setattr__(
            self, "_depot_rows", {d.id: i for i, d in enumerate(self.depots)}
        )
        object.__setattr__(
            self, "_order_positions", {o.id: i for i, o in enumerate(self.orders)}
        )
        object.__setattr__(
            self, "_vehicle_positions", {v.id: i for i, v in enumerate(self.vehicles)}
        )

    def __reduce__(self) -> tuple[object, ...]:
        # Pickle by the constructor's arguments (travel is a read-only proxy), so
        # problems travel to worker processes and are re-validated there.
        kwargs = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        kwargs["travel"] = dict(self.travel)
        return (_rebuild_problem, (kwargs,))

    def _check_length(self, vector: tuple[int, ...], path: str, entity_id: str) -> None:
        if len(vector) != len(self.quantities):
            raise InvalidProblemError(
                f"has {len(vector)} values but the problem has {len(self.quantities)} "
                f"quantities {list(self.quantities)}",
                path=path,
                entity_id=entity_id,
            )

    @staticmethod
    def _check_unique(kind: str, items: Iterable[Depot | Vehicle | Order]) -> None:
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            if item.id in seen:
                raise InvalidProblemError(
                    f"duplicate id, first used at {kind}[{seen[item.id]}]",
                    path=f"{kind}[{i}].id",
                    entity_id=item.id,
                )
            seen[item.id] = i

    @property
    def locations(self) -> tuple[Place, ...]:
        """All places in matrix-row order: depots first, then orders."""
        return tuple(d.location for d in self.depots) + tuple(
            o.location for o in self.orders
        )

    @property
    def is_planar(self) -> bool:
        """True when coordinates are planar x/y (benchmark instances)."""
        return isinstance(self.depots[0].location, Point)

    @property
    def profiles(self) -> tuple[str, ...]:
        """The distinct speed profiles of the fleet, in first-use order."""
        return tuple(dict.fromkeys(v.profile for v in self.vehicles))

    def depot_index(self, depot_id: str) -> int:
        """Matrix row of a depot."""
        return self._depot_rows[depot_id]

    def order_index(self, order_id: str) -> int:
        """Matrix row of an order."""
        return len(self.depots) + self._order_positions[order_id]

    def order(self, order_id: str) -> Order:
        """The order with this id (KeyError if unknown)."""
        return self.orders[self._order_positions[order_id]]

    def vehicle(self, vehicle_id: str) -> Vehicle:
        """The vehicle with this id (KeyError if unknown)."""
        return self.vehicles[self._vehicle_positions[vehicle_id]]

    def depot(self, depot_id: str) -> Depot:
        """The depot with this id (KeyError if unknown)."""
        return self.depots[self._depot_rows[depot_id]]


def _rebuild_problem(kwargs: dict[str, object]) -> Problem:
    return Problem(**kwargs)  # type: ignore[arg-type]


def _check_window_in_horizon(
    horizon: TimeWindow, window: TimeWindow, *, path: str, entity: str
) -> None:
    if window.end_s < horizon.start_s or window.start_s > horizon.end_s:
        raise InvalidProblemError(
            f"[{window.start_s}, {window.end_s}] s lies outside the planning horizon "
            f"[{horizon.start_s}, {horizon.end_s}] s",
            path=path,
            entity_id=entity,
        )
