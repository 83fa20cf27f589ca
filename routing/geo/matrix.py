"""TravelMatrix: read-only integer travel distances and durations between places."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from routing.domain.errors import MatrixError


def _as_matrix(values: ArrayLike, name: str) -> NDArray[np.int64]:
    try:
        array = np.asarray(values)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise MatrixError(
            f"{name}: not a rectangular array of numbers ({exc})"
        ) from exc
    if array.ndim != 2 or array.shape[0] != array.shape[1]:
        raise MatrixError(f"{name}: must be square N x N, got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.number):
        raise MatrixError(f"{name}: must hold numbers, got dtype {array.dtype}")
    if not np.all(np.isfinite(array)):
        raise MatrixError(f"{name}: has non-finite values (unreachable pairs?)")
    if np.any(array < 0):
        i, j = np.argwhere(array < 0)[0]
        raise MatrixError(f"{name}: negative value {array[i, j]} at [{i}, {j}]")
    if np.issubdtype(array.dtype, np.integer):
        out = array.astype(np.int64, copy=True)
    else:
        out = np.rint(array).astype(np.int64)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, slots=True, init=False)
class TravelMatrix:
    """Distances (m) and durations (s) between places, rows and columns following
    ``Problem.locations``; entry ``[i, j]`` is from i to j. Read-only int64.
    """

    distances_m: NDArray[np.int64]
    durations_s: NDArray[np.int64]

    def __init__(self, distances_m: ArrayLike, durations_s: ArrayLike) -> None:
        distances = _as_matrix(distances_m, "distances_m")
        durations = _as_matrix(durations_s, "durations_s")
        if distances.shape != durations.shape:
            raise MatrixError(
                f"distances_m is {distances.shape} but durations_s is {durations.shape}"
            )
        object.__setattr__(self, "distances_m", distances)
        object.__setattr__(self, "durations_s", durations)

    @property
    def size(self) -> int:
        """Number of places N."""
        return int(self.distances_m.shape[0])


TravelData = TravelMatrix | Mapping[str, TravelMatrix]
"""One matrix for every vehicle, or one per speed profile name."""


def matrix_for(travel: TravelData, profile: str) -> TravelMatrix:
    """The matrix a vehicle with this speed profile uses.

    Raises
    ------
    MatrixError
        If ``travel`` is per profile and has none for ``profile``.
    """
    if isinstance(travel, TravelMatrix):
        return travel
    try:
        return travel[profile]
    except KeyError:
        raise MatrixError(
            f"no travel matrix for speed profile {profile!r}; have {sorted(travel)}"
        ) from None
