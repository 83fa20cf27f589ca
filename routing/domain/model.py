"""Problem data: locations, time windows, depots, vehicles, orders and the Problem.

Every type is an immutable, validated value. Times are integer seconds since
midnight of the planning day, distances integer meters, quantities integer vectors
whose meaning is named once in ``Problem.quantities`` (e.g. ``("kg", "parcels")``).
Nothing here knows about OR-Tools, travel-time providers, FastAPI or storage.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from itertools import pairwise
from numbers import Real
from types import MappingProxyType

from routing.domain.errors import InvalidProblemError
from routing.domain.units import MAX_HORIZON_S, SECONDS_PER_DAY

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

    ``TimeWindow()`` is the whole planning day (as VROOM's ``TimeWindow()`` is
    all time). The owning entity validates it, so that an error can name that
    entity.
    """

    start_s: int = 0
    end_s: int = SECONDS_PER_DAY

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


ALL_DAY = TimeWindow()
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


def _check_priority(value: object, *, entity_id: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10:
        raise InvalidProblemError(
            f"priority must be an integer in [0, 10], got {value!r}",
            path="priority",
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
class Break:
    """A driver break: ``duration_s`` seconds starting inside ``window``.

    The break is taken when the route is under way at that time (between two
    stops, at a stop before or after its service, or while waiting); a route
    that ends before the window, or starts after the break would be over, needs
    no break.
    """

    window: TimeWindow
    duration_s: int

    def __post_init__(self) -> None:
        _check_window(self.window, path="window", entity_id=None)
        if (
            not isinstance(self.duration_s, int)
            or isinstance(self.duration_s, bool)
            or not 0 < self.duration_s <= SECONDS_PER_DAY
        ):
            raise InvalidProblemError(
                f"break duration must be an integer in (0, {SECONDS_PER_DAY}] s, "
                f"got {self.duration_s!r}",
                path="duration",
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class Tier:
    """A customer tier (``"vip"``, ``"standard"``, ``"economy"``): defaults for
    how strictly its orders' slots are kept; an order may override each.

    Parameters
    ----------
    id
        The tier's name, unique among tiers.
    max_lateness_s
        How late service may start after the slot ends (0: a hard slot).
    lateness_cost_per_hour
        Money per hour of lateness (charged per second).
    priority
        Default priority of the tier's orders (see ``Order.priority``).
    """

    id: str
    max_lateness_s: int = 0
    lateness_cost_per_hour: float = 0.0
    priority: int = 0

    def __post_init__(self) -> None:
        _check_id(self.id, path="id")
        if self.max_lateness_s is None:
            raise InvalidProblemError(
                "must be an integer number of seconds",
                path="max_lateness_s",
                entity_id=self.id,
            )
        _check_optional_limit(
            self.max_lateness_s, path="max_lateness_s", entity_id=self.id
        )
        _check_money(
            self.lateness_cost_per_hour,
            path="lateness_cost_per_hour",
            entity_id=self.id,
        )
        _check_priority(self.priority, entity_id=self.id)


@dataclass(frozen=True, slots=True, kw_only=True)
class Pair:
    """Collect at one order's stop, deliver at another's, on the same vehicle.

    The pickup order's ``pickup`` goods are what the delivery order's
    ``delivery`` hands over (so the two vectors are equal); they are not loaded
    at the depot. Both are served, by one vehicle, pickup first, or neither.

    Parameters
    ----------
    id
        Unique among pairs.
    pickup, delivery
        Order ids.
    max_ride_s
        Longest time the goods may stay on board, from leaving the pickup stop to
        the start of the delivery service (None: no limit).
    """

    id: str
    pickup: str
    delivery: str
    max_ride_s: int | None = None

    def __post_init__(self) -> None:
        _check_id(self.id, path="id")
        for name in ("pickup", "delivery"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise InvalidProblemError(
                    f"must be an order id, got {value!r}", path=name, entity_id=self.id
                )
        if self.pickup == self.delivery:
            raise InvalidProblemError(
                "pickup and delivery must be different orders",
                path="delivery",
                entity_id=self.id,
            )
        _check_optional_limit(self.max_ride_s, path="max_ride_s", entity_id=self.id)


@dataclass(frozen=True, slots=True)
class SlotPolicy:
    """The window rule of one order, built once per order (``Problem.policy``):
    its slots (the planning horizon when it has none), how late service may
    start after the last slot and at what cost, its priority.

    Every module that asks "when may this order be served, and how late is it"
    asks this value (the solver's model, route timing, ETAs, re-planning,
    explanations), so the rule is written once.
    """

    max_lateness_s: int
    lateness_cost_per_hour: float
    priority: int
    windows: tuple[TimeWindow, ...] = ()
    """The order's slots in time order; the horizon when the order has none."""
    has_slot: bool = True
    """False when the order gave no slot (any time in the horizon, never late)."""

    @property
    def is_soft(self) -> bool:
        """True when service may start after the slot ends (at a cost)."""
        return self.max_lateness_s > 0

    @property
    def allowance_s(self) -> int:
        """How long after the last slot service may still start (0 without a slot)."""
        return self.max_lateness_s if self.has_slot else 0

    @property
    def latest_start_s(self) -> int:
        """The last moment service may start: the last slot's end plus the
        allowed lateness."""
        return self.windows[-1].end_s + self.allowance_s

    def service_start(self, arrival_s: int) -> tuple[int, int]:
        """Earliest service start at or after ``arrival_s``, and its lateness.

        Waits for the next slot when early or between slots; after the last slot
        service starts on arrival, late by the overrun (whether the allowance
        covers it is for the caller or the checker to judge).
        """
        for window in self.windows:
            if arrival_s <= window.end_s:
                return max(arrival_s, window.start_s), 0
        if not self.has_slot:
            return arrival_s, 0
        return arrival_s, arrival_s - self.windows[-1].end_s

    def slot_at(self, start_s: int) -> int:
        """Index of the slot a service starting at ``start_s`` is in; the last
        slot when it starts late."""
        for k, window in enumerate(self.windows):
            if start_s <= window.end_s:
                return k
        return len(self.windows) - 1

    def slack_s(self, start_s: int) -> int:
        """How much later the service could start and still be on time."""
        for window in self.windows:
            if window.start_s <= start_s <= window.end_s:
                return window.end_s - start_s
        return 0


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
    kind
        The kind of vehicle (``"van"``, ``"cargo_bike"``, ``"partner_van"``...);
        an order may accept only some kinds (``Order.vehicle_kinds``).
    breaks
        The driver's breaks (e.g. lunch), in the order they are taken.
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
    kind: str = "van"
    breaks: tuple[Break, ...] = ()

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
        if not isinstance(self.kind, str) or not self.kind:
            raise InvalidProblemError(
                f"kind must be a non-empty name, got {self.kind!r}",
                path="kind",
                entity_id=self.id,
            )
        if not isinstance(self.breaks, tuple):
            object.__setattr__(self, "breaks", tuple(self.breaks))
        for k, brk in enumerate(self.breaks):
            if not isinstance(brk, Break):
                raise InvalidProblemError(
                    f"expected a Break, got {brk!r}",
                    path=f"breaks[{k}]",
                    entity_id=self.id,
                )
            if not self.shift.start_s <= brk.window.start_s <= self.shift.end_s:
                raise InvalidProblemError(
                    f"break window starts at {brk.window.start_s} s, outside the "
                    f"shift [{self.shift.start_s}, {self.shift.end_s}] s",
                    path=f"breaks[{k}].window",
                    entity_id=self.id,
                )
        for k, (a, b) in enumerate(pairwise(self.breaks), start=1):
            if b.window.start_s < a.window.start_s:
                raise InvalidProblemError(
                    "breaks must be listed in the order of their windows",
                    path=f"breaks[{k}].window",
                    entity_id=self.id,
                )

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
        so the solver sacrifices low-priority orders first. None: the tier's
        priority (0 without a tier).
    is_optional
        Whether the order may be left unplanned at ``penalty`` (otherwise it is
        dropped only when it cannot be served at all).
    penalty
        Money cost of leaving an optional order unplanned (default
        ``DEFAULT_OPTIONAL_PENALTY``).
    tier
        Id of the customer tier (``Problem.tiers``) giving the defaults below.
    max_lateness_s
        How late service may start after the slot ends: 0 = hard slot; None =
        the tier's value (0 without a tier).
    lateness_cost_per_hour
        Money per hour late; None = the tier's value (0 without a tier).
    vehicle_kinds
        The vehicle kinds allowed to serve it (empty: any kind).
    """

    id: str
    location: Place
    delivery: tuple[int, ...]
    pickup: tuple[int, ...]
    service_s: int = 0
    windows: tuple[TimeWindow, ...] = ()
    skills: frozenset[str] = frozenset()
    priority: int | None = None
    is_optional: bool = False
    penalty: float | None = None
    address: str = ""
    notes: str = ""
    tier: str | None = None
    max_lateness_s: int | None = None
    lateness_cost_per_hour: float | None = None
    vehicle_kinds: frozenset[str] = frozenset()

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
        if self.priority is not None:
            _check_priority(self.priority, entity_id=self.id)
        if self.penalty is not None:
            _check_money(self.penalty, path="penalty", entity_id=self.id)
        if self.tier is not None and (
            not isinstance(self.tier, str) or not self.tier.strip()
        ):
            raise InvalidProblemError(
                f"tier must be a tier id, got {self.tier!r}",
                path="tier",
                entity_id=self.id,
            )
        _check_optional_limit(
            self.max_lateness_s, path="max_lateness_s", entity_id=self.id
        )
        if self.lateness_cost_per_hour is not None:
            _check_money(
                self.lateness_cost_per_hour,
                path="lateness_cost_per_hour",
                entity_id=self.id,
            )
        if not isinstance(self.vehicle_kinds, frozenset):
            object.__setattr__(self, "vehicle_kinds", frozenset(self.vehicle_kinds))


OBJECTIVE_FIELDS = (
    "fixed_cost",
    "distance",
    "duration",
    "unplanned",
    "lateness",
    "waiting_per_hour",
    "early_per_hour",
    "balance_per_hour",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Objective:
    """Weights on the cost components the solver minimises (all >= 0).

    The plan always reports the true money cost; the weights only change what the
    search trades off. E.g. ``duration=0`` plans for distance alone, a larger
    ``fixed_cost`` weight packs the work onto fewer vehicles, a larger
    ``unplanned`` weight makes the solver try harder to fit optional orders,
    ``lateness`` scales the orders' lateness costs.

    The ``*_per_hour`` fields are preferences of the search, not money in the
    plan: ``waiting_per_hour`` keeps drivers' waiting short, ``early_per_hour``
    serves hard-slot orders early in their slot, ``balance_per_hour`` evens out
    the work (it prices the spread between the earliest start and the latest end
    over all routes: shorter longest days, at some extra distance; see
    benchmarks/results/balance.md for the measured trade-off).
    """

    fixed_cost: float = 1.0
    distance: float = 1.0
    duration: float = 1.0
    unplanned: float = 1.0
    lateness: float = 1.0
    waiting_per_hour: float = 0.0
    early_per_hour: float = 0.0
    balance_per_hour: float = 0.0

    def __post_init__(self) -> None:
        for name in OBJECTIVE_FIELDS:
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
    tiers
        Customer tiers the orders may name.
    pairs
        Pickup-and-delivery pairs among the orders.
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
    tiers: tuple[Tier, ...] = ()
    pairs: tuple[Pair, ...] = ()
    _depot_rows: Mapping[str, int] = field(init=False, repr=False, compare=False)
    _order_positions: Mapping[str, int] = field(init=False, repr=False, compare=False)
    _vehicle_positions: Mapping[str, int] = field(init=False, repr=False, compare=False)
    _tier_of: Mapping[str, Tier] = field(init=False, repr=False, compare=False)
    _pair_of: Mapping[str, Pair] = field(init=False, repr=False, compare=False)
    _policy_of: Mapping[str, tuple[Order, SlotPolicy]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        for name in ("depots", "vehicles", "orders", "quantities", "tiers", "pairs"):
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
        self._check_unique("tiers", self.tiers)
        object.__setattr__(self, "_tier_of", {t.id: t for t in self.tiers})
        for i, order in enumerate(self.orders):
            if order.tier is not None and order.tier not in self._tier_of:
                raise InvalidProblemError(
                    f"unknown tier {order.tier!r}; known tiers: "
                    f"{sorted(self._tier_of)}",
                    path=f"orders[{i}].tier",
                    entity_id=order.id,
                )
        object.__setattr__(self, "_pair_of", self._check_pairs())
        object.__setattr__(
            self, "_policy_of", {o.id: (o, self._build_policy(o)) for o in self.orders}
        )

    def _check_pairs(self) -> dict[str, Pair]:
        self._check_unique("pairs", self.pairs)
        pair_of: dict[str, Pair] = {}
        for i, pair in enumerate(self.pairs):
            for role in ("pickup", "delivery"):
                oid = getattr(pair, role)
                if oid not in self._order_positions:
                    raise InvalidProblemError(
                        f"unknown order {oid!r}",
                        path=f"pairs[{i}].{role}",
                        entity_id=pair.id,
                    )
                if oid in pair_of:
                    raise InvalidProblemError(
                        f"order {oid!r} is already in pair {pair_of[oid].id!r}; an "
                        "order belongs to at most one pair",
                        path=f"pairs[{i}].{role}",
                        entity_id=pair.id,
                    )
                pair_of[oid] = pair
            pickup, delivery = self.order(pair.pickup), self.order(pair.delivery)
            if any(pickup.delivery) or any(delivery.pickup):
                raise InvalidProblemError(
                    "the pickup order must deliver nothing and the delivery order "
                    "collect nothing: the pair carries only its own goods",
                    path=f"pairs[{i}]",
                    entity_id=pair.id,
                )
            if pickup.pickup != delivery.delivery:
                raise InvalidProblemError(
                    f"the pickup collects {pickup.pickup} but the delivery hands "
                    f"over {delivery.delivery}; they must be the same goods",
                    path=f"pairs[{i}]",
                    entity_id=pair.id,
                )
            if pickup.is_optional != delivery.is_optional:
                raise InvalidProblemError(
                    "both orders of a pair must be optional, or neither",
                    path=f"pairs[{i}]",
                    entity_id=pair.id,
                )
        return pair_of

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
    def _check_unique(
        kind: str, items: Iterable[Depot | Vehicle | Order | Tier | Pair]
    ) -> None:
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

    def pair_of(self, order_id: str) -> Pair | None:
        """The pickup-and-delivery pair the order belongs to, if any."""
        return self._pair_of.get(order_id)

    def is_paired_delivery(self, order_id: str) -> bool:
        """True when the order's goods come from its pair's pickup, not a depot."""
        pair = self._pair_of.get(order_id)
        return pair is not None and pair.delivery == order_id

    def policy(self, order: Order) -> SlotPolicy:
        """The order's window rule: slots, lateness allowance and cost, priority,
        with its tier's defaults filled in (built once, with the problem)."""
        cached = self._policy_of.get(order.id)
        if cached is None or (cached[0] is not order and cached[0] != order):
            return self._build_policy(order)  # not this problem's order (a variant)
        return cached[1]

    def _build_policy(self, order: Order) -> SlotPolicy:
        tier = self._tier_of.get(order.tier) if order.tier is not None else None
        return SlotPolicy(
            max_lateness_s=(
                order.max_lateness_s
                if order.max_lateness_s is not None
                else (tier.max_lateness_s if tier else 0)
            ),
            lateness_cost_per_hour=(
                order.lateness_cost_per_hour
                if order.lateness_cost_per_hour is not None
                else (tier.lateness_cost_per_hour if tier else 0.0)
            ),
            priority=(
                order.priority
                if order.priority is not None
                else (tier.priority if tier else 0)
            ),
            windows=order.windows or (self.horizon,),
            has_slot=bool(order.windows),
        )

    def unplanned_penalty(self, order: Order) -> float:
        """Money-equivalent cost of leaving the order unplanned: the penalty (or
        ``REQUIRED_PENALTY``) doubled per priority step."""
        if order.is_optional:
            base = DEFAULT_OPTIONAL_PENALTY if order.penalty is None else order.penalty
        else:
            base = REQUIRED_PENALTY
        return base * float(2 ** self.policy(order).priority)

    def start_load(self, order_ids: Iterable[str]) -> tuple[int, ...]:
        """What a vehicle serving these orders loads at its depot: their
        deliveries, except those collected on the way (paired deliveries)."""
        total = [0] * len(self.quantities)
        for oid in order_ids:
            if self.is_paired_delivery(oid):
                continue
            for q, amount in enumerate(self.order(oid).delivery):
                total[q] += amount
        return tuple(total)


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


def has_soft_slots(problem: Problem) -> bool:
    """Whether some order of the day may be served after its slot."""
    return any(
        problem.policy(o).is_soft and problem.policy(o).has_slot for o in problem.orders
    )


def with_hard_slots(problem: Problem) -> Problem:
    """The same day with every slot hard: max lateness 0 on every tier and
    order. Lateness costs, priorities and the rest stay; a plan of this day is
    feasible in the original one (its slots only widen)."""
    return replace(
        problem,
        tiers=tuple(replace(t, max_lateness_s=0) for t in problem.tiers),
        orders=tuple(
            replace(o, max_lateness_s=0) if o.max_lateness_s else o
            for o in problem.orders
        ),
    )
