"""Travel data: matrices, providers (haversine, geodesic, Euclidean) and road graphs."""

from routing.geo.matrix import TravelData, TravelMatrix, matrix_for

__all__ = ["TravelData", "TravelMatrix", "matrix_for"]
