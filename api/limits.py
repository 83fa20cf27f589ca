"""Request size limits: every request's work is bounded before it starts.

Counted on the raw request (before the problem is read or any travel matrix
built): depots, vehicles, orders, locations (depots + orders, plus the vehicles'
positions in a re-plan) and travel-matrix cells (locations² x speed profiles).
A request beyond a limit is a 413 ``too_large`` naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from api.errors import ApiError
from api.settings import Settings

GEODESIC_CELL_COST = 200
"""Matrix cells one geodesic cell counts as: ``geopy``'s Karney geodesic runs in
Python, one per pair (about 35 µs a cell on the reference machine, against 0.16
µs for the vectorized haversine at 2,000 locations: a ratio of about 200)."""


@dataclass(frozen=True, slots=True)
class Size:
    """What a problem asks for, counted on the raw request."""

    depots: int
    vehicles: int
    orders: int
    profiles: int
    provider: str
    extra_locations: int = 0

    @property
    def locations(self) -> int:
        """Matrix rows: depots, then orders (plus re-plan start positions)."""
        return self.depots + self.extra_locations + self.orders

    @property
    def cells(self) -> int:
        """Travel-matrix cells: locations² per speed profile."""
        return self.locations**2 * self.profiles

    @property
    def work(self) -> int:
        """Cells weighted by the provider's cost (`GEODESIC_CELL_COST`)."""
        weight = GEODESIC_CELL_COST if self.provider == "geodesic" else 1
        return self.cells * weight


def _count(value: object) -> int:
    return len(value) if isinstance(value, list) else 0


def size_of(data: Mapping[str, Any]) -> Size:
    """The size of a raw scenario (anything not a list counts 0: the reader
    reports it)."""
    vehicles = data.get("vehicles")
    profiles: set[str] = set()
    if isinstance(vehicles, list):
        for vehicle in vehicles:
            profile = vehicle.get("profile", "van") if isinstance(vehicle, dict) else 0
            profiles.add(profile if isinstance(profile, str) else "")
    travel = data.get("travel")
    provider = travel.get("provider", "haversine") if isinstance(travel, dict) else ""
    return Size(
        depots=_count(data.get("depots")),
        vehicles=_count(vehicles),
        orders=_count(data.get("orders")),
        profiles=len(profiles),
        provider=provider if isinstance(provider, str) else "",
    )


def _too_large(message: str, path: str) -> ApiError:
    return ApiError(413, "too_large", message, path=path)


def _join(field: str, key: str) -> str:
    return f"{field}.{key}" if field else key


def check_size(
    size: Size,
    settings: Settings,
    *,
    field: str = "problem",
    orders_path: str | None = None,
) -> None:
    """413 ``too_large`` for a problem beyond the service's limits.

    ``orders_path`` replaces ``{field}.orders`` in the errors about orders and
    locations (a re-plan's ``new_orders``).

    Raises
    ------
    ApiError
        Naming the field: ``problem.depots``, ``problem.vehicles``,
        ``problem.orders`` (orders, or depots + orders beyond
        ``max_locations``), ``problem.travel.provider`` (geodesic beyond the
        matrix limit) or ``problem`` (matrix cells).
    """
    orders_at = orders_path or _join(field, "orders")
    for count, limit, key, path in (
        (size.depots, settings.max_depots, "depots", _join(field, "depots")),
        (size.vehicles, settings.max_vehicles, "vehicles", _join(field, "vehicles")),
        (size.orders, settings.max_orders, "orders", orders_at),
    ):
        if count > limit:
            raise _too_large(
                f"{count} {key}; this service plans at most {limit} per request",
                path,
            )
    if size.locations > settings.max_locations:
        extra = (
            f" + {size.extra_locations} vehicle positions"
            if size.extra_locations
            else ""
        )
        raise _too_large(
            f"{size.locations} locations ({size.depots} depots{extra} + "
            f"{size.orders} orders); this service plans at most "
            f"{settings.max_locations}",
            orders_at,
        )
    if size.work > settings.max_matrix_cells:
        shape = (
            f"{size.locations}² locations x {size.profiles} speed profile(s) = "
            f"{size.cells:,} travel-matrix cells"
        )
        if size.provider == "geodesic" and size.cells <= settings.max_matrix_cells:
            raise _too_large(
                f"{shape}, each costing {GEODESIC_CELL_COST} with the geodesic "
                f"provider: above this service's {settings.max_matrix_cells:,}; "
                f'use "haversine" (within 0.5%) or fewer locations',
                _join(field, "travel.provider"),
            )
        raise _too_large(
            f"{shape}; this service builds at most {settings.max_matrix_cells:,}",
            field or orders_at,
        )


def check_problem(
    data: Mapping[str, Any], settings: Settings, *, field: str = "problem"
) -> Size:
    """Check a raw scenario against the limits; its size."""
    size = size_of(data)
    check_size(size, settings, field=field)
    return size


def check_variants(
    size: Size, variants: Sequence[Mapping[str, Any]], settings: Settings
) -> None:
    """What-if: each variant's fleet (its clones added) within ``max_vehicles``."""
    for i, variant in enumerate(variants):
        added = variant.get("add_vehicles", 0)
        if isinstance(added, int) and size.vehicles + added > settings.max_vehicles:
            raise _too_large(
                f"{size.vehicles} vehicles + {added} added = "
                f"{size.vehicles + added}; this service plans at most "
                f"{settings.max_vehicles}",
                f"variants[{i}].add_vehicles",
            )
