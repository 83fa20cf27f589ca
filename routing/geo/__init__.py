"""Travel data: matrices, providers (haversine, geodesic, Euclidean) and road graphs.

The names below are imported on first use (as in ``routing``'s ``__init__``): a
module that needs only ``routing.geo.matrix`` (the solver's engine processes,
the checker) loads neither geopy nor networkx.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from routing._lazy import lazy_getattr

if TYPE_CHECKING:
    from routing.geo.matrix import TravelData, TravelMatrix, matrix_for
    from routing.geo.providers import (
        Euclidean,
        ExplicitMatrix,
        Geodesic,
        Haversine,
        MatrixProvider,
        build_travel,
        provider_from_settings,
    )
    from routing.geo.road import RoadGraphProvider

_LAZY = {
    "TravelData": "routing.geo.matrix",
    "TravelMatrix": "routing.geo.matrix",
    "matrix_for": "routing.geo.matrix",
    "Euclidean": "routing.geo.providers",
    "ExplicitMatrix": "routing.geo.providers",
    "Geodesic": "routing.geo.providers",
    "Haversine": "routing.geo.providers",
    "MatrixProvider": "routing.geo.providers",
    "build_travel": "routing.geo.providers",
    "provider_from_settings": "routing.geo.providers",
    "RoadGraphProvider": "routing.geo.road",
}
"""Public names imported on first use, and the module each comes from."""

__all__ = [
    "Euclidean",
    "ExplicitMatrix",
    "Geodesic",
    "Haversine",
    "MatrixProvider",
    "RoadGraphProvider",
    "TravelData",
    "TravelMatrix",
    "build_travel",
    "matrix_for",
    "provider_from_settings",
]


__getattr__ = lazy_getattr(globals(), _LAZY)


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
