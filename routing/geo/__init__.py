"""Travel data: matrices, providers (haversine, geodesic, Euclidean) and road graphs."""

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
