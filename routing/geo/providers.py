"""Travel-matrix providers: the MatrixProvider seam, its haversine, geodesic,
Euclidean and explicit-matrix implementations, and the scenario ``travel`` parser."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Protocol, runtime_checkable

import numpy as np
from geopy.distance import geodesic
from numpy.typing import NDArray

from routing.domain.errors import InvalidProblemError, MatrixError
from routing.domain.model import Location, Place, Point, Problem
from routing.geo.matrix import TravelMatrix

logger = logging.getLogger(__name__)

EARTH_RADIUS_M = 6_371_000.0
"""Mean Earth radius in meters (IUGG R1 = 6 371 008.8 m, rounded as usual). On
this sphere, haversine distances stay within 0.5% of the WGS84 geodesic."""

DEFAULT_SPEEDS_KMH: Mapping[str, float] = MappingProxyType({"van": 30.0})
"""Average door-to-door speed of a delivery van in town, km/h; the scenario default
(``scenarios/README.md``). Read-only, so that it can serve as a parameter default."""

DEFAULT_DETOUR_FACTOR = 1.3
"""Road distance over great-circle distance. Published road circuity factors mostly
lie between 1.2 and 1.4 (e.g. Ballou, Rahardja and Sakai, 2002)."""

DEFAULT_EUCLIDEAN_SCALE = 10.0
"""Planar distances are multiplied by 10 before becoming integers: with one decimal
kept by the DIMACS truncation, the integer matrix is exact (``floor(10 d)``)."""

_TRUNCATE_EPS = 1e-9
"""Guard added before ``floor(10 d)`` so that a distance that is an exact multiple
of 0.1 (``d = 5.0``) is not pushed below it by rounding in ``hypot``.

For integer coordinates this is provably exact: ``10 d = sqrt(m)`` with integer
``m = 100 (dx² + dy²)``. If ``m = k²``, the computed value is off by at most a few
ulps (``< 1e-9`` for ``k < 10**6``), which the guard absorbs; otherwise
``|sqrt(m) - k| >= 1 / (2k + 1)``, far more than guard plus error. Hence exact
for distances below 100 000 coordinate units. For decimal coordinates the guard
also absorbs the representation error of the inputs (``0.3 - 0.2``)."""


@runtime_checkable
class MatrixProvider(Protocol):
    """Anything that turns places into a travel matrix for one speed profile.

    Implementations: `Haversine`, `Geodesic`, `Euclidean`, `ExplicitMatrix` and
    `routing.geo.road.RoadGraphProvider`; tests and the API may pass their own.
    """

    def build(self, locations: Sequence[Place], *, profile: str) -> TravelMatrix:
        """Travel data between all pairs of ``locations``.

        Parameters
        ----------
        locations
            The places, in matrix-row order (``Problem.locations``).
        profile
            The speed profile (``Vehicle.profile``) the durations are for.

        Returns
        -------
        TravelMatrix
            ``len(locations)`` x ``len(locations)``; entry ``[i, j]`` is from i to j.

        Raises
        ------
        MatrixError
            If the provider cannot serve these places or this profile.
        """
        ...


@runtime_checkable
class _KnowsProfiles(Protocol):
    """A provider that serves a closed set of speed profiles."""

    @property
    def profiles(self) -> tuple[str, ...]: ...


# --------------------------------------------------------------------------- checks


def _number(value: object, *, path: str) -> float:
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or not math.isfinite(value)
    ):
        raise InvalidProblemError(f"must be a finite number, got {value!r}", path=path)
    return float(value)


def _check_detour(value: object, *, path: str) -> float:
    factor = _number(value, path=path)
    if factor < 1.0:
        raise InvalidProblemError(
            f"detour factor must be >= 1 (roads are never shorter than the straight "
            f"line), got {value!r}",
            path=path,
        )
    return factor


def _check_speeds(value: object, *, path: str) -> dict[str, float]:
    if not isinstance(value, Mapping):
        raise InvalidProblemError(
            f"must map profile names to km/h, got {value!r}", path=path
        )
    if not value:
        raise InvalidProblemError("must name at least one profile", path=path)
    speeds: dict[str, float] = {}
    for name, speed in value.items():
        if not isinstance(name, str) or not name:
            raise InvalidProblemError(
                f"profile names must be non-empty strings, got {name!r}", path=path
            )
        kmh = _number(speed, path=f"{path}.{name}")
        if kmh <= 0:
            raise InvalidProblemError(
                f"speed must be > 0 km/h, got {speed!r}", path=f"{path}.{name}"
            )
        speeds[name] = kmh
    return speeds


def _unknown_profile(profile: str, known: Sequence[str]) -> MatrixError:
    return MatrixError(
        f"unknown speed profile {profile!r}; known profiles: {sorted(known)}"
    )


def _geographic(locations: Sequence[Place], *, provider: str) -> list[Location]:
    """The places as Locations, or a MatrixError naming the first planar one."""
    for i, place in enumerate(locations):
        if not isinstance(place, Location):
            raise MatrixError(
                f"{provider} needs Location(lat, lon) places, but location {i} is "
                f"{place!r}; use Euclidean for planar instances"
            )
    return [p for p in locations if isinstance(p, Location)]


def _haversine_m(
    lat_a: NDArray[np.float64],
    lon_a: NDArray[np.float64],
    lat_b: NDArray[np.float64],
    lon_b: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Great-circle distance in meters between broadcastable arrays of radians.

    The haversine formula (Sinnott, 1984), which stays accurate for short
    distances where the spherical law of cosines loses digits.
    """
    sin_dlat = np.sin((lat_b - lat_a) * 0.5)
    sin_dlon = np.sin((lon_b - lon_a) * 0.5)
    h = sin_dlat * sin_dlat + np.cos(lat_a) * np.cos(lat_b) * sin_dlon * sin_dlon
    # h can exceed 1 by an ulp for antipodal points; arcsin would return NaN.
    meters: NDArray[np.float64] = (
        2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0)))
    )
    return meters


def _haversine_pairs_m(
    lat: NDArray[np.float64], lon: NDArray[np.float64], *, block: int
) -> NDArray[np.float64]:
    """All-pairs great-circle distances in meters, N x N, from radians.

    The same haversine as `_haversine_m`, with ``sin((b - a) / 2)`` expanded to
    ``sin(b/2) cos(a/2) - cos(b/2) sin(a/2)``: the sines and cosines are taken
    once per place, leaving only products, one sqrt and one arcsin per pair
    (about 3x faster at N = 5000; the results agree to 1e-5 m). Rows are
    processed in blocks of about ``block`` cells to bound temporary memory.
    """
    n = lat.size
    sin_lat, cos_lat = np.sin(lat * 0.5), np.cos(lat * 0.5)
    sin_lon, cos_lon = np.sin(lon * 0.5), np.cos(lon * 0.5)
    cos_full = np.cos(lat)
    out = np.empty((n, n), dtype=np.float64)
    rows = max(1, block // max(n, 1))
    for start in range(0, n, rows):
        r = slice(start, min(start + rows, n))
        h = sin_lat[None, :] * cos_lat[r, None]
        h -= cos_lat[None, :] * sin_lat[r, None]  # sin(dlat / 2)
        h *= h
        g = sin_lon[None, :] * cos_lon[r, None]
        g -= cos_lon[None, :] * sin_lon[r, None]  # sin(dlon / 2)
        g *= g
        # One product cos(a) cos(b), commutative in IEEE arithmetic, keeps the
        # matrix exactly symmetric.
        g *= cos_full[r, None] * cos_full[None, :]
        h += g
        # h can exceed 1 by an ulp for antipodal points; arcsin would return NaN.
        np.minimum(h, 1.0, out=h)
        np.sqrt(h, out=h)
        np.arcsin(h, out=out[r])
    out *= 2.0 * EARTH_RADIUS_M
    np.fill_diagonal(out, 0.0)
    return out


def _empty_matrix() -> TravelMatrix:
    zeros = np.zeros((0, 0), dtype=np.int64)
    return TravelMatrix(zeros, zeros)


# ------------------------------------------------------------------------ providers


class _SpeedProvider:
    """Distance from the places alone, duration = distance at the profile's speed.

    Subclasses supply `_distances_m`; the distance part is computed once and shared
    by every profile in `_build_profiles`.
    """

    _name = "provider"

    def __init__(
        self,
        speeds_kmh: Mapping[str, float] = DEFAULT_SPEEDS_KMH,
        detour_factor: float = DEFAULT_DETOUR_FACTOR,
    ) -> None:
        self._speeds_kmh: Mapping[str, float] = MappingProxyType(
            _check_speeds(speeds_kmh, path="speeds_kmh")
        )
        self._detour_factor = _check_detour(detour_factor, path="detour_factor")

    @property
    def speeds_kmh(self) -> Mapping[str, float]:
        """Average speed per profile, km/h (read-only)."""
        return self._speeds_kmh

    @property
    def detour_factor(self) -> float:
        """Road distance over the straight-line distance (>= 1)."""
        return self._detour_factor

    @property
    def profiles(self) -> tuple[str, ...]:
        """The speed profiles this provider serves."""
        return tuple(self._speeds_kmh)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(speeds_kmh={dict(self._speeds_kmh)!r}, "
            f"detour_factor={self._detour_factor!r})"
        )

    def _distances_m(self, locations: Sequence[Place]) -> NDArray[np.float64]:
        raise NotImplementedError

    def _with_speed(
        self, distances_m: NDArray[np.float64], profile: str
    ) -> TravelMatrix:
        speed_m_per_s = self._speeds_kmh[profile] / 3.6
        durations_s = distances_m / speed_m_per_s
        np.rint(durations_s, out=durations_s)  # in place: N x N temporaries add up
        return TravelMatrix(
            np.rint(distances_m).astype(np.int64), durations_s.astype(np.int64)
        )

    def _build_profiles(
        self, locations: Sequence[Place], profiles: Sequence[str]
    ) -> dict[str, TravelMatrix]:
        for profile in profiles:
            if profile not in self._speeds_kmh:
                raise _unknown_profile(profile, self.profiles)
        if not locations:
            return {profile: _empty_matrix() for profile in profiles}
        distances = self._distances_m(locations)
        return {profile: self._with_speed(distances, profile) for profile in profiles}

    def build(self, locations: Sequence[Place], *, profile: str) -> TravelMatrix:
        """Road distance estimate and driving time between all pairs of places.

        ``distances_m = great-circle distance x detour_factor`` and
        ``durations_s = distances_m / (speed_kmh / 3.6)``, each rounded to the
        nearest integer (from the unrounded distance).

        Parameters
        ----------
        locations
            `Location` (lat/lon) places in matrix-row order.
        profile
            A key of ``speeds_kmh``.

        Returns
        -------
        TravelMatrix
            Symmetric, with a zero diagonal.

        Raises
        ------
        MatrixError
            If ``profile`` has no speed, or a place is a planar `Point`.
        """
        return self._build_profiles(locations, (profile,))[profile]


class Haversine(_SpeedProvider):
    """Great-circle distances on a sphere, vectorized with numpy.

    Parameters
    ----------
    speeds_kmh
        Average door-to-door speed per profile name, km/h (> 0).
    detour_factor
        Road distance over great-circle distance (>= 1).

    Raises
    ------
    InvalidProblemError
        If a speed is not a positive number or the detour factor is below 1.

    Notes
    -----
    The whole N x N matrix is computed with array operations, in row blocks that
    bound the temporary arrays to a few tens of megabytes; see
    ``benchmarks/results/matrix.md`` for timings. The sphere has radius
    `EARTH_RADIUS_M`; the error against the WGS84 geodesic stays below 0.5%.
    """

    _name = "Haversine"
    _BLOCK_CELLS = 1 << 21
    """Cells per row block: 2M float64 = 16 MB per temporary array, which keeps
    5000 x 5000 matrices within memory and the blocks cache-friendly."""

    def _distances_m(self, locations: Sequence[Place]) -> NDArray[np.float64]:
        places = _geographic(locations, provider=self._name)
        coords = np.radians(np.array([(p.lat, p.lon) for p in places]).reshape(-1, 2))
        out = _haversine_pairs_m(coords[:, 0], coords[:, 1], block=self._BLOCK_CELLS)
        out *= self._detour_factor
        return out


class Geodesic(_SpeedProvider):
    """Distances on the WGS84 ellipsoid with ``geopy.distance.geodesic``.

    One Karney geodesic per pair of places, in Python: accurate but about a
    thousand times slower than `Haversine`. Meant for small problems and as the
    test oracle. Parameters and errors as for `Haversine`.
    """

    _name = "Geodesic"

    def _distances_m(self, locations: Sequence[Place]) -> NDArray[np.float64]:
        places = _geographic(locations, provider=self._name)
        points = [(p.lat, p.lon) for p in places]
        n = len(points)
        out = np.zeros((n, n), dtype=np.float64)
        for i in range(n):
            for j in range(i + 1, n):
                meters = float(geodesic(points[i], points[j]).meters)
                out[i, j] = out[j, i] = meters
        out *= self._detour_factor
        return out


class Euclidean:
    """Planar distances for benchmark instances with `Point` coordinates.

    Follows the VRPLIB/DIMACS convention: the Euclidean distance ``d`` is
    truncated to one decimal (``floor(10 d) / 10``) and the result multiplied by
    ``scale`` so that it becomes an integer. With the default ``scale=10`` the
    matrix entry is exactly ``floor(10 d)``. Travel time equals distance, and
    every profile gets the same matrix.

    Parameters
    ----------
    scale
        Multiplier from instance units to integer matrix units (> 0).
    truncate
        Truncate to one decimal first (DIMACS); otherwise round ``d * scale``.

    Raises
    ------
    InvalidProblemError
        If ``scale`` is not a positive number or ``truncate`` not a bool.
    """

    def __init__(
        self, scale: float = DEFAULT_EUCLIDEAN_SCALE, truncate: bool = True
    ) -> None:
        self._scale = _number(scale, path="scale")
        if self._scale <= 0:
            raise InvalidProblemError(f"must be > 0, got {scale!r}", path="scale")
        if not isinstance(truncate, bool):
            raise InvalidProblemError(
                f"must be true or false, got {truncate!r}", path="truncate"
            )
        self._truncate = truncate

    @property
    def scale(self) -> float:
        """Multiplier from instance units to integer matrix units."""
        return self._scale

    @property
    def truncate(self) -> bool:
        """Whether distances are truncated to one decimal before scaling."""
        return self._truncate

    def __repr__(self) -> str:
        return f"Euclidean(scale={self._scale!r}, truncate={self._truncate!r})"

    def build(self, locations: Sequence[Place], *, profile: str) -> TravelMatrix:
        """Scaled (and truncated) Euclidean distances; durations equal distances.

        Parameters
        ----------
        locations
            `Point` (x/y) places in matrix-row order.
        profile
            Ignored: all profiles share one matrix.

        Returns
        -------
        TravelMatrix
            Symmetric, with a zero diagonal.

        Raises
        ------
        MatrixError
            If a place is a `Location` (lat/lon).
        """
        for i, place in enumerate(locations):
            if not isinstance(place, Point):
                raise MatrixError(
                    f"Euclidean needs planar Point(x, y) places, but location {i} "
                    f"is {place!r}; use Haversine for lat/lon"
                )
        coords = np.array(
            [(p.x, p.y) for p in locations if isinstance(p, Point)], dtype=np.float64
        ).reshape(-1, 2)
        d = np.hypot(
            coords[:, None, 0] - coords[None, :, 0],
            coords[:, None, 1] - coords[None, :, 1],
        )
        if self._truncate:
            tenths = np.floor(10.0 * d + _TRUNCATE_EPS)
            # scale / 10 is exact for scale 10 (1.0) and 100 (10.0): no rounding.
            values = np.rint(tenths * (self._scale / 10.0))
        else:
            values = np.rint(d * self._scale)
        matrix = values.astype(np.int64)
        return TravelMatrix(matrix, matrix)


class ExplicitMatrix:
    """User-supplied travel data, one `TravelMatrix` per profile.

    Parameters
    ----------
    profiles
        Profile name -> matrix, rows and columns following ``Problem.locations``.

    Raises
    ------
    InvalidProblemError
        If ``profiles`` is empty, holds something other than a `TravelMatrix`, or
        its matrices differ in size (``path`` names the profile).
    """

    def __init__(self, profiles: Mapping[str, TravelMatrix]) -> None:
        if not isinstance(profiles, Mapping) or not profiles:
            raise InvalidProblemError(
                f"must map at least one profile name to a matrix, got {profiles!r}",
                path="profiles",
            )
        sizes: dict[int, str] = {}
        for name, matrix in profiles.items():
            if not isinstance(matrix, TravelMatrix):
                raise InvalidProblemError(
                    f"expected a TravelMatrix, got {type(matrix).__name__}",
                    path=f"profiles.{name}",
                )
            sizes.setdefault(matrix.size, name)
            if len(sizes) > 1:
                first_size, first = next(iter(sizes.items()))
                raise InvalidProblemError(
                    f"is {matrix.size} x {matrix.size} but profile {first!r} is "
                    f"{first_size} x {first_size}",
                    path=f"profiles.{name}",
                )
        self._profiles: Mapping[str, TravelMatrix] = MappingProxyType(dict(profiles))

    @property
    def profiles(self) -> tuple[str, ...]:
        """The speed profiles this provider serves."""
        return tuple(self._profiles)

    def __repr__(self) -> str:
        size = next(iter(self._profiles.values())).size
        return f"ExplicitMatrix(profiles={list(self._profiles)!r}, size={size})"

    def build(self, locations: Sequence[Place], *, profile: str) -> TravelMatrix:
        """The given matrix of ``profile``, after checking it fits ``locations``.

        Raises
        ------
        MatrixError
            If ``profile`` has no matrix or the matrix size is not
            ``len(locations)``.
        """
        try:
            matrix = self._profiles[profile]
        except KeyError:
            raise _unknown_profile(profile, self.profiles) from None
        if matrix.size != len(locations):
            raise MatrixError(
                f"the matrix of profile {profile!r} is {matrix.size} x {matrix.size} "
                f"but the problem has {len(locations)} locations (depots, then orders)"
            )
        return matrix


# ------------------------------------------------------------------------- settings

_PROVIDER_KEYS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "haversine": frozenset({"provider", "detour_factor", "speeds_kmh"}),
        "geodesic": frozenset({"provider", "detour_factor", "speeds_kmh"}),
        "euclidean": frozenset({"provider", "scale", "truncate"}),
        "matrix": frozenset({"provider", "profiles"}),
    }
)
"""The keys each ``travel.provider`` accepts (``scenarios/README.md``, Travel)."""


def _explicit_from_settings(value: object) -> ExplicitMatrix:
    path = "travel.profiles"
    if not isinstance(value, Mapping) or not value:
        raise InvalidProblemError(
            "must map at least one profile name to "
            f'{{"distances_m": [[...]], "durations_s": [[...]]}}, got {value!r}',
            path=path,
        )
    matrices: dict[str, TravelMatrix] = {}
    for name, entry in value.items():
        where = f"{path}.{name}"
        if not isinstance(entry, Mapping):
            raise InvalidProblemError(
                f'expected {{"distances_m": ..., "durations_s": ...}}, got {entry!r}',
                path=where,
            )
        unknown = sorted(set(entry) - {"distances_m", "durations_s"})
        if unknown:
            raise InvalidProblemError(
                f"unknown keys {unknown}; expected distances_m and durations_s",
                path=where,
            )
        for key in ("distances_m", "durations_s"):
            if key not in entry:
                raise InvalidProblemError("is required", path=f"{where}.{key}")
        try:
            matrices[name] = TravelMatrix(entry["distances_m"], entry["durations_s"])
        except MatrixError as exc:
            raise InvalidProblemError(str(exc), path=where) from exc
    try:
        return ExplicitMatrix(matrices)
    except InvalidProblemError as exc:
        raise InvalidProblemError(exc.message, path=f"travel.{exc.path}") from exc


def provider_from_settings(travel: Mapping[str, object]) -> MatrixProvider:
    """The provider a scenario's ``travel`` block describes.

    Parameters
    ----------
    travel
        The block as parsed from JSON (``Problem.travel``), e.g.
        ``{"provider": "haversine", "detour_factor": 1.3, "speeds_kmh": {"van": 30}}``.
        An empty block means `Haversine` with its defaults (van at 30 km/h,
        detour factor 1.3). A given ``speeds_kmh`` replaces the default speeds.

    Returns
    -------
    MatrixProvider
        `Haversine`, `Geodesic`, `Euclidean` or `ExplicitMatrix`.

    Raises
    ------
    InvalidProblemError
        On an unknown provider or key, or a bad value; ``path`` names the place,
        e.g. ``travel.speeds_kmh.bike``. Whether every vehicle profile has a speed
        is checked later, by `build_travel`.
    """
    if not isinstance(travel, Mapping):
        raise InvalidProblemError(f"must be an object, got {travel!r}", path="travel")
    name = travel.get("provider", "haversine")
    if not isinstance(name, str) or name not in _PROVIDER_KEYS:
        raise InvalidProblemError(
            f"unknown provider {name!r}; known providers: {sorted(_PROVIDER_KEYS)}",
            path="travel.provider",
        )
    allowed = _PROVIDER_KEYS[name]
    for key in travel:
        if key not in allowed:
            raise InvalidProblemError(
                f"unknown key {key!r} for provider {name!r}; allowed keys: "
                f"{sorted(allowed)}",
                path=f"travel.{key}",
            )
    if name in ("haversine", "geodesic"):
        speeds = _check_speeds(
            travel.get("speeds_kmh", DEFAULT_SPEEDS_KMH), path="travel.speeds_kmh"
        )
        detour = _check_detour(
            travel.get("detour_factor", DEFAULT_DETOUR_FACTOR),
            path="travel.detour_factor",
        )
        kind = Haversine if name == "haversine" else Geodesic
        return kind(speeds_kmh=speeds, detour_factor=detour)
    if name == "euclidean":
        scale = _number(
            travel.get("scale", DEFAULT_EUCLIDEAN_SCALE), path="travel.scale"
        )
        if scale <= 0:
            raise InvalidProblemError(
                f"must be > 0, got {travel['scale']!r}", path="travel.scale"
            )
        truncate = travel.get("truncate", True)
        if not isinstance(truncate, bool):
            raise InvalidProblemError(
                f"must be true or false, got {truncate!r}", path="travel.truncate"
            )
        return Euclidean(scale=scale, truncate=truncate)
    if "profiles" not in travel:
        raise InvalidProblemError(
            'is required with provider "matrix"', path="travel.profiles"
        )
    return _explicit_from_settings(travel["profiles"])


def build_travel(
    problem: Problem, provider: MatrixProvider | None = None
) -> dict[str, TravelMatrix]:
    """One travel matrix per speed profile the fleet uses.

    Parameters
    ----------
    problem
        The problem; matrix rows follow ``problem.locations``.
    provider
        Where the numbers come from; by default
        ``provider_from_settings(problem.travel)``.

    Returns
    -------
    dict[str, TravelMatrix]
        Keyed by ``problem.profiles``, ready for `routing.geo.matrix_for`. A
        problem without vehicles gets an empty dict: nothing travels, so no
        matrix is computed (the ``travel`` block is still validated).

    Raises
    ------
    InvalidProblemError
        If ``problem.travel`` is invalid, or a vehicle's profile is unknown to a
        provider with a closed set of profiles (``path`` is
        ``vehicles[i].profile``).
    MatrixError
        If the provider fails (unreachable pair, wrong matrix size, ...).

    Notes
    -----
    `Haversine` and `Geodesic` compute the distances once and derive every
    profile's durations from them; `Euclidean` builds one matrix for all.
    """
    if provider is None:
        provider = provider_from_settings(problem.travel)
    profiles = problem.profiles
    if not profiles:
        return {}
    if isinstance(provider, _KnowsProfiles):
        known = provider.profiles
        for i, vehicle in enumerate(problem.vehicles):
            if vehicle.profile not in known:
                raise InvalidProblemError(
                    f"speed profile {vehicle.profile!r} has no travel data; the "
                    f"provider knows {sorted(known)} (add it to travel.speeds_kmh, "
                    "or travel.profiles for an explicit matrix)",
                    path=f"vehicles[{i}].profile",
                    entity_id=vehicle.id,
                )
    locations = problem.locations
    if isinstance(provider, _SpeedProvider):
        travel = provider._build_profiles(locations, profiles)
    elif isinstance(provider, Euclidean):
        travel = dict.fromkeys(profiles, provider.build(locations, profile=profiles[0]))
    else:
        travel = {p: provider.build(locations, profile=p) for p in profiles}
    logger.debug(
        "built %d travel matrices of %d locations with %r",
        len(travel),
        len(locations),
        provider,
    )
    return travel
