"""Tests for routing.geo.providers: haversine, geodesic, Euclidean, explicit
matrices, the ``travel`` settings parser and build_travel."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pytest
from geopy.distance import geodesic

from routing.domain.errors import InvalidProblemError, MatrixError
from routing.domain.model import Depot, Location, Order, Place, Point, Problem, Vehicle
from routing.geo import (
    Euclidean,
    ExplicitMatrix,
    Geodesic,
    Haversine,
    MatrixProvider,
    TravelMatrix,
    build_travel,
    matrix_for,
    provider_from_settings,
)

ANDORRA = (
    Location(42.4965, 1.4995),  # Andorra la Vella
    Location(42.5078, 1.5211),  # Escaldes-Engordany
    Location(42.5448, 1.5162),  # Ordino
    Location(42.5340, 1.5810),  # Canillo
    Location(42.5797, 1.6536),  # Soldeu
    Location(42.4630, 1.4910),  # Sant Julià de Lòria
    Location(42.5423, 1.7336),  # Pas de la Casa
)
"""Real places a few hundred meters to 20 km apart."""

WORLD = (
    Location(48.8566, 2.3522),  # Paris
    Location(40.7128, -74.0060),  # New York
    Location(-33.8688, 151.2093),  # Sydney
    Location(51.5074, -0.1278),  # London
    Location(-0.1807, -78.4678),  # Quito
    Location(1.3521, 103.8198),  # Singapore
    Location(64.1466, -21.9426),  # Reykjavik
    Location(-54.8019, -68.3030),  # Ushuaia
)
"""Continental and polar distances, up to nearly half the globe."""


def _problem(
    locations: Sequence[Place],
    *,
    profiles: Sequence[str] = ("van",),
    travel: Mapping[str, object] | None = None,
) -> Problem:
    """A problem with one depot at ``locations[0]``, orders at the rest and one
    vehicle per profile name."""
    return Problem(
        depots=(Depot(id="D", location=locations[0]),),
        vehicles=tuple(
            Vehicle(
                id=f"v{k}", start_depot="D", end_depot="D", capacity=(9,), profile=p
            )
            for k, p in enumerate(profiles)
        ),
        orders=tuple(
            Order(id=f"o{k}", location=place, delivery=(1,), pickup=(0,))
            for k, place in enumerate(locations[1:])
        ),
        travel={} if travel is None else travel,
    )


# ------------------------------------------------------------------------ Haversine


@pytest.mark.parametrize("provider", [Haversine(), Geodesic()], ids=repr)
def test_basic_invariants(provider: MatrixProvider) -> None:
    """Matrices are int64, read-only, non-negative, symmetric, zero on the diagonal."""
    matrix = provider.build(ANDORRA, profile="van")
    for array in (matrix.distances_m, matrix.durations_s):
        assert array.dtype == np.int64
        assert not array.flags.writeable
        assert array.shape == (len(ANDORRA), len(ANDORRA))
        assert (array >= 0).all()
        assert (np.diag(array) == 0).all()
        assert (array == array.T).all()


@pytest.mark.parametrize("places", [ANDORRA, WORLD], ids=["andorra", "world"])
def test_haversine_within_half_percent_of_geodesic(places: Sequence[Place]) -> None:
    """Haversine distances stay within 0.5% of the WGS84 geodesic (geopy)."""
    sphere = Haversine(detour_factor=1.0).build(places, profile="van").distances_m
    n = len(places)
    for i in range(n):
        for j in range(i + 1, n):
            a, b = places[i], places[j]
            assert isinstance(a, Location) and isinstance(b, Location)
            oracle = geodesic((a.lat, a.lon), (b.lat, b.lon)).meters
            assert abs(sphere[i, j] - oracle) <= 0.005 * oracle, (i, j)


def test_haversine_matches_geodesic_provider() -> None:
    """The vectorized provider and the per-pair oracle provider agree within 0.5%."""
    fast = Haversine().build(ANDORRA, profile="van")
    slow = Geodesic().build(ANDORRA, profile="van")
    off = ~np.eye(len(ANDORRA), dtype=bool)
    ratio = fast.distances_m[off] / slow.distances_m[off]
    assert np.all(np.abs(ratio - 1.0) < 0.005)


def test_haversine_known_value() -> None:
    """Paris to London is 343.5 km on the R = 6371 km sphere (textbook value)."""
    matrix = Haversine(detour_factor=1.0).build([WORLD[0], WORLD[3]], profile="van")
    assert matrix.distances_m[0, 1] == pytest.approx(343_556, abs=100)


def test_haversine_antipodes_are_finite() -> None:
    """Antipodal points give half the circumference, not NaN."""
    places = [Location(0.0, 0.0), Location(0.0, 180.0), Location(90.0, 0.0)]
    matrix = Haversine(detour_factor=1.0).build(places, profile="van")
    assert matrix.distances_m[0, 1] == round(math.pi * 6_371_000)
    assert matrix.distances_m[0, 2] == round(math.pi / 2 * 6_371_000)


def test_haversine_large_input_matches_pairwise_formula() -> None:
    """The blocked all-pairs kernel matches a plain per-pair haversine."""
    rng = np.random.default_rng(7)
    places = [
        Location(float(lat), float(lon))
        for lat, lon in zip(
            rng.uniform(-85, 85, 300), rng.uniform(-180, 180, 300), strict=True
        )
    ]
    provider = Haversine(detour_factor=1.0)
    provider._BLOCK_CELLS = 1000  # several row blocks
    matrix = provider.build(places, profile="van").distances_m
    for i, j in rng.integers(0, len(places), size=(200, 2)):
        a, b = places[i], places[j]
        p1, p2 = math.radians(a.lat), math.radians(b.lat)
        h = (
            math.sin((p2 - p1) / 2) ** 2
            + math.cos(p1)
            * math.cos(p2)
            * math.sin(math.radians(b.lon - a.lon) / 2) ** 2
        )
        expected = 2 * 6_371_000 * math.asin(math.sqrt(min(h, 1.0)))
        assert abs(matrix[i, j] - expected) <= 0.5 + 1e-6


def test_detour_factor_scales_distance() -> None:
    """Distances are great-circle times the detour factor."""
    straight = Haversine(detour_factor=1.0).build(ANDORRA, profile="van")
    winding = Haversine(detour_factor=1.5).build(ANDORRA, profile="van")
    np.testing.assert_allclose(
        winding.distances_m, 1.5 * straight.distances_m, atol=1.0
    )


def test_duration_is_distance_at_profile_speed() -> None:
    """Duration is distance / (km/h / 3.6), rounded to whole seconds."""
    matrix = Haversine(speeds_kmh={"van": 36.0}).build(ANDORRA, profile="van")
    np.testing.assert_allclose(matrix.durations_s, matrix.distances_m / 10.0, atol=1)


def test_speed_scaling_between_profiles() -> None:
    """A 15 km/h profile takes twice as long as a 30 km/h one over equal distances."""
    provider = Haversine(speeds_kmh={"van": 30.0, "bike": 15.0})
    van = provider.build(ANDORRA, profile="van")
    bike = provider.build(ANDORRA, profile="bike")
    np.testing.assert_array_equal(van.distances_m, bike.distances_m)
    np.testing.assert_allclose(bike.durations_s, 2 * van.durations_s, atol=2)
    assert bike.durations_s[0, 4] > van.durations_s[0, 4] > 0


@pytest.mark.parametrize("kind", [Haversine, Geodesic])
def test_unknown_profile_names_it_and_the_known_ones(
    kind: type[Haversine] | type[Geodesic],
) -> None:
    """An unknown profile raises MatrixError naming it and the known profiles."""
    provider = kind(speeds_kmh={"van": 30.0, "bike": 15.0})
    with pytest.raises(MatrixError, match=r"'truck'.*\['bike', 'van'\]"):
        provider.build(ANDORRA, profile="truck")


@pytest.mark.parametrize("kind", [Haversine, Geodesic])
def test_planar_points_are_rejected(kind: type[Haversine] | type[Geodesic]) -> None:
    """A planar Point raises MatrixError naming its index."""
    with pytest.raises(MatrixError, match="location 1 is Point"):
        kind().build([Location(42.5, 1.5), Point(3.0, 4.0)], profile="van")


def test_no_places_gives_empty_matrix() -> None:
    """No places give a 0 x 0 matrix."""
    assert Haversine().build([], profile="van").size == 0


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"speeds_kmh": {"van": 0.0}}, "speeds_kmh.van"),
        ({"speeds_kmh": {"van": -5}}, "speeds_kmh.van"),
        ({"speeds_kmh": {"van": math.nan}}, "speeds_kmh.van"),
        ({"speeds_kmh": {}}, "speeds_kmh"),
        ({"detour_factor": 0.9}, "detour_factor"),
    ],
)
def test_constructor_rejects_bad_parameters(
    kwargs: dict[str, object], path: str
) -> None:
    """Bad speeds or detour factors raise InvalidProblemError with the parameter."""
    with pytest.raises(InvalidProblemError) as info:
        Haversine(**kwargs)  # type: ignore[arg-type]
    assert info.value.path == path


def test_default_speeds_are_read_only() -> None:
    """The shared default speed mapping cannot be changed through a provider."""
    provider = Haversine()
    with pytest.raises(TypeError):
        provider.speeds_kmh["van"] = 99.0  # type: ignore[index]
    assert Haversine().speeds_kmh["van"] == 30.0


# ------------------------------------------------------------------------ Euclidean


@pytest.mark.parametrize(
    ("b", "expected"),
    [
        (Point(3, 4), 50),  # d = 5 exactly: must not become 49
        (Point(1, 1), 14),  # d = 1.41421...: truncated, not rounded
        (Point(2, 2), 28),  # d = 2.8284...: truncated, not rounded (28.28 -> 28)
        (Point(0, 7), 70),
        (Point(30_000, 40_000), 500_000),  # large exact distance
        (Point(20_000, 99_999), 1_019_794),  # isqrt(100 (dx² + dy²))
        (Point(0, 0), 0),
    ],
)
def test_euclidean_truncation_is_exact(b: Point, expected: int) -> None:
    """With scale 10 and truncation the entry is floor(10 d) exactly."""
    matrix = Euclidean().build([Point(0, 0), b], profile="van")
    assert matrix.distances_m[0, 1] == expected
    assert matrix.distances_m[1, 0] == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # 10 * hypot(...) lands just below the integer in floating point
        (Point(0.3, 0.7), Point(0.2, 0.7), 1),
        (Point(0.0, 0.1 * 3), Point(0.3, 0.7), 5),
    ],
)
def test_euclidean_truncation_guards_rounding(
    a: Point, b: Point, expected: int
) -> None:
    """Decimal coordinates whose distance is a multiple of 0.1 are not cut short."""
    assert Euclidean().build([a, b], profile="van").distances_m[0, 1] == expected


@pytest.mark.parametrize("extent", [1000, 50_000])
def test_euclidean_matches_integer_square_root(extent: int) -> None:
    """On integer coordinates the matrix equals isqrt(100 (dx² + dy²)) everywhere."""
    rng = np.random.default_rng(3)
    xy = rng.integers(0, extent, size=(80, 2))
    places = [Point(int(x), int(y)) for x, y in xy]
    matrix = Euclidean().build(places, profile="van").distances_m
    for i in range(len(places)):
        for j in range(len(places)):
            dx, dy = int(xy[i, 0] - xy[j, 0]), int(xy[i, 1] - xy[j, 1])
            assert matrix[i, j] == math.isqrt(100 * (dx * dx + dy * dy))


def test_euclidean_other_scale() -> None:
    """Scale 100 keeps the one-decimal truncation: (0,0)-(1,1) gives 140."""
    matrix = Euclidean(scale=100).build([Point(0, 0), Point(1, 1)], profile="van")
    assert matrix.distances_m[0, 1] == 140


def test_euclidean_without_truncation_rounds() -> None:
    """Without truncation the entry is round(d * scale)."""
    matrix = Euclidean(truncate=False).build([Point(0, 0), Point(2, 2)], profile="van")
    assert matrix.distances_m[0, 1] == 28  # 28.28
    matrix = Euclidean(scale=1, truncate=False).build(
        [Point(0, 0), Point(1, 1)], profile="van"
    )
    assert matrix.distances_m[0, 1] == 1  # 1.41


def test_euclidean_time_equals_distance_for_all_profiles() -> None:
    """Durations equal distances, whatever the profile."""
    places = [Point(0, 0), Point(3, 4), Point(6, 8)]
    van = Euclidean().build(places, profile="van")
    bike = Euclidean().build(places, profile="bike")
    np.testing.assert_array_equal(van.durations_s, van.distances_m)
    np.testing.assert_array_equal(bike.distances_m, van.distances_m)


def test_euclidean_rejects_locations() -> None:
    """A lat/lon Location raises MatrixError naming its index."""
    with pytest.raises(MatrixError, match="location 0 is Location"):
        Euclidean().build([Location(42.5, 1.5), Point(0, 0)], profile="van")


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"scale": 0}, "scale"),
        ({"scale": -1.0}, "scale"),
        ({"truncate": 1}, "truncate"),
    ],
)
def test_euclidean_rejects_bad_parameters(kwargs: dict[str, object], path: str) -> None:
    """A non-positive scale or a non-bool truncate raises InvalidProblemError."""
    with pytest.raises(InvalidProblemError) as info:
        Euclidean(**kwargs)  # type: ignore[arg-type]
    assert info.value.path == path


# ------------------------------------------------------------------- ExplicitMatrix


def test_explicit_matrix_returns_the_profile_matrix() -> None:
    """The matrix given for a profile is returned unchanged."""
    van = TravelMatrix([[0, 800], [800, 0]], [[0, 95], [95, 0]])
    provider = ExplicitMatrix({"van": van})
    assert provider.build(ANDORRA[:2], profile="van") is van


def test_explicit_matrix_size_mismatch() -> None:
    """A matrix whose size differs from the number of places raises MatrixError."""
    van = TravelMatrix([[0, 800], [800, 0]], [[0, 95], [95, 0]])
    with pytest.raises(MatrixError, match="2 x 2 but the problem has 3 locations"):
        ExplicitMatrix({"van": van}).build(ANDORRA[:3], profile="van")


def test_explicit_matrix_unknown_profile() -> None:
    """A profile without a matrix raises MatrixError naming the known ones."""
    van = TravelMatrix([[0]], [[0]])
    with pytest.raises(MatrixError, match=r"'bike'.*\['van'\]"):
        ExplicitMatrix({"van": van}).build(ANDORRA[:1], profile="bike")


def test_explicit_matrix_profiles_must_agree_in_size() -> None:
    """Profiles with matrices of different sizes raise InvalidProblemError."""
    one, two = (
        TravelMatrix([[0]], [[0]]),
        TravelMatrix([[0, 1], [1, 0]], [[0, 1], [1, 0]]),
    )
    with pytest.raises(InvalidProblemError) as info:
        ExplicitMatrix({"van": one, "bike": two})
    assert info.value.path == "profiles.bike"


# --------------------------------------------------------------- settings parsing


def test_empty_travel_block_is_default_haversine() -> None:
    """An empty block gives Haversine with van 30 km/h and detour 1.3."""
    provider = provider_from_settings({})
    assert isinstance(provider, Haversine)
    assert dict(provider.speeds_kmh) == {"van": 30.0}
    assert provider.detour_factor == 1.3


def test_settings_haversine_and_geodesic() -> None:
    """The README examples for haversine and geodesic parse to those providers."""
    provider = provider_from_settings(
        {"provider": "haversine", "detour_factor": 1.2, "speeds_kmh": {"bike": 15}}
    )
    assert isinstance(provider, Haversine)
    assert dict(provider.speeds_kmh) == {"bike": 15.0}
    assert provider.detour_factor == 1.2
    geo = provider_from_settings({"provider": "geodesic", "speeds_kmh": {"van": 30}})
    assert isinstance(geo, Geodesic)


def test_settings_euclidean() -> None:
    """The euclidean block sets scale and truncate."""
    provider = provider_from_settings(
        {"provider": "euclidean", "scale": 100, "truncate": False}
    )
    assert isinstance(provider, Euclidean)
    assert (provider.scale, provider.truncate) == (100.0, False)
    default = provider_from_settings({"provider": "euclidean"})
    assert isinstance(default, Euclidean)
    assert (default.scale, default.truncate) == (10.0, True)


def test_settings_matrix() -> None:
    """The matrix block becomes an ExplicitMatrix with one matrix per profile."""
    provider = provider_from_settings(
        {
            "provider": "matrix",
            "profiles": {
                "van": {
                    "distances_m": [[0, 800], [790, 0]],
                    "durations_s": [[0, 95], [90, 0]],
                }
            },
        }
    )
    assert isinstance(provider, ExplicitMatrix)
    matrix = provider.build(ANDORRA[:2], profile="van")
    assert matrix.distances_m.tolist() == [[0, 800], [790, 0]]


@pytest.mark.parametrize(
    ("travel", "path", "shown"),
    [
        ({"speeds_kmh": {"van": 30, "bike": -15}}, "travel.speeds_kmh.bike", "-15"),
        ({"speeds_kmh": {"bike": 0}}, "travel.speeds_kmh.bike", "0"),
        ({"speeds_kmh": {"bike": "fast"}}, "travel.speeds_kmh.bike", "'fast'"),
        ({"speeds_kmh": [30]}, "travel.speeds_kmh", "[30]"),
        ({"speeds_kmh": {}}, "travel.speeds_kmh", "at least one"),
        ({"detour_factor": 0.8}, "travel.detour_factor", "0.8"),
        ({"detour_factor": True}, "travel.detour_factor", "True"),
        ({"provider": "osrm"}, "travel.provider", "'osrm'"),
        ({"provider": 3}, "travel.provider", "3"),
        ({"speed_kmh": {"van": 30}}, "travel.speed_kmh", "'speed_kmh'"),
        ({"provider": "euclidean", "speeds_kmh": {}}, "travel.speeds_kmh", "euclidean"),
        ({"provider": "euclidean", "scale": 0}, "travel.scale", "0"),
        ({"provider": "euclidean", "truncate": "yes"}, "travel.truncate", "'yes'"),
        ({"provider": "matrix"}, "travel.profiles", "required"),
        ({"provider": "matrix", "profiles": {}}, "travel.profiles", "{}"),
        (
            {"provider": "matrix", "profiles": {"van": {"distances_m": [[0, 800]]}}},
            "travel.profiles.van.durations_s",
            "required",
        ),
        (
            {
                "provider": "matrix",
                "profiles": {
                    "van": {"distances_m": [[0, 800]], "durations_s": [[0, 95]]}
                },
            },
            "travel.profiles.van",
            "square",
        ),
        (
            {
                "provider": "matrix",
                "profiles": {
                    "van": {
                        "distances_m": [[0, -1], [1, 0]],
                        "durations_s": [[0, 1], [1, 0]],
                    }
                },
            },
            "travel.profiles.van",
            "negative value -1",
        ),
        (
            {
                "provider": "matrix",
                "profiles": {
                    "van": {"distances_m": [[0]], "durations_s": [[0]]},
                    "bike": {
                        "distances_m": [[0, 1], [1, 0]],
                        "durations_s": [[0, 1], [1, 0]],
                    },
                },
            },
            "travel.profiles.bike",
            "1 x 1",
        ),
    ],
)
def test_settings_errors_name_the_path(
    travel: dict[str, object], path: str, shown: str
) -> None:
    """Each bad travel block raises InvalidProblemError with its path and value."""
    with pytest.raises(InvalidProblemError) as info:
        provider_from_settings(travel)
    assert info.value.path == path
    assert shown in str(info.value)
    assert str(info.value).startswith(path)


def test_settings_must_be_a_mapping() -> None:
    """A travel block that is not an object raises InvalidProblemError."""
    with pytest.raises(InvalidProblemError) as info:
        provider_from_settings(["haversine"])  # type: ignore[arg-type]
    assert info.value.path == "travel"


# ---------------------------------------------------------------------- build_travel


def test_build_travel_one_matrix_per_profile() -> None:
    """Every profile of the fleet gets a matrix over all problem locations."""
    problem = _problem(
        ANDORRA,
        profiles=("van", "bike", "van"),
        travel={"speeds_kmh": {"van": 30, "bike": 15}},
    )
    travel = build_travel(problem)
    assert list(travel) == ["van", "bike"]
    assert all(m.size == len(problem.locations) for m in travel.values())
    assert (
        matrix_for(travel, "bike").durations_s[0, 1] > travel["van"].durations_s[0, 1]
    )
    np.testing.assert_array_equal(travel["van"].distances_m, travel["bike"].distances_m)


def test_build_travel_matches_provider_build() -> None:
    """Sharing the distance part gives the same numbers as per-profile builds."""
    provider = Haversine(speeds_kmh={"van": 30.0, "bike": 15.0})
    problem = _problem(ANDORRA, profiles=("van", "bike"))
    travel = build_travel(problem, provider)
    for profile in ("van", "bike"):
        single = provider.build(problem.locations, profile=profile)
        np.testing.assert_array_equal(travel[profile].distances_m, single.distances_m)
        np.testing.assert_array_equal(travel[profile].durations_s, single.durations_s)


def test_build_travel_missing_speed_names_the_vehicle() -> None:
    """A vehicle profile without a speed raises InvalidProblemError at the vehicle."""
    problem = _problem(
        ANDORRA, profiles=("van", "bike"), travel={"speeds_kmh": {"van": 30}}
    )
    with pytest.raises(InvalidProblemError) as info:
        build_travel(problem)
    assert info.value.path == "vehicles[1].profile"
    assert info.value.entity_id == "v1"
    assert "'bike'" in str(info.value)
    assert "travel.speeds_kmh" in str(info.value)


def test_build_travel_without_vehicles_is_empty() -> None:
    """A problem without vehicles gets no matrices, but its travel block is checked."""
    assert build_travel(_problem(ANDORRA, profiles=())) == {}
    with pytest.raises(InvalidProblemError):
        build_travel(_problem(ANDORRA, profiles=(), travel={"provider": "osrm"}))


def test_build_travel_euclidean_shares_one_matrix() -> None:
    """Planar problems give one matrix object shared by all profiles."""
    places = [Point(0, 0), Point(3, 4), Point(1, 1)]
    problem = _problem(
        places, profiles=("van", "bike"), travel={"provider": "euclidean"}
    )
    travel = build_travel(problem)
    assert travel["van"] is travel["bike"]
    assert travel["van"].distances_m[0, 1] == 50


def test_build_travel_explicit_matrix_size_is_checked() -> None:
    """An explicit matrix that does not fit the problem raises MatrixError."""
    travel = {
        "provider": "matrix",
        "profiles": {
            "van": {"distances_m": [[0, 8], [8, 0]], "durations_s": [[0, 9], [9, 0]]}
        },
    }
    with pytest.raises(MatrixError, match="has 3 locations"):
        build_travel(_problem(ANDORRA[:3], travel=travel))


def test_build_travel_uses_any_provider() -> None:
    """A custom MatrixProvider (e.g. a test fake) is called once per profile."""

    class Fake:
        def __init__(self) -> None:
            self.calls: list[str] = []

        def build(self, locations: Sequence[Place], *, profile: str) -> TravelMatrix:
            self.calls.append(profile)
            zeros = np.zeros((len(locations), len(locations)))
            return TravelMatrix(zeros, zeros)

    fake = Fake()
    assert isinstance(fake, MatrixProvider)
    travel = build_travel(_problem(ANDORRA[:3], profiles=("van", "bike")), fake)
    assert fake.calls == ["van", "bike"]
    assert travel["bike"].size == 3
