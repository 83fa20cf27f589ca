"""Tests for routing.geo.road: RoadGraphProvider on small synthetic road graphs."""

from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np
import pytest

from routing.domain.errors import InvalidProblemError, MatrixError
from routing.domain.model import Location, Point
from routing.geo import MatrixProvider, RoadGraphProvider

COORDS = {
    "A": (42.500, 1.500),
    "B": (42.500, 1.510),
    "C": (42.510, 1.510),
    "D": (42.510, 1.500),
    "E": (42.520, 1.520),  # no streets at all
}
"""Node name -> (lat, lon), a square block in Andorra plus one isolated node."""


def _at(node: str) -> Location:
    lat, lon = COORDS[node]
    return Location(lat, lon)


def _graph() -> nx.MultiDiGraph:
    """A one-way ring A->B->C->D->A at 36 km/h (10 m/s), 1 km per side, plus a
    fast 2.5 km bypass A->C at 180 km/h (50 s)."""
    graph = nx.MultiDiGraph()
    for node, (lat, lon) in COORDS.items():
        graph.add_node(node, x=lon, y=lat)
    for u, v in ("AB", "BC", "CD", "DA"):
        graph.add_edge(u, v, length=1000.0, maxspeed="36")
    graph.add_edge("A", "C", length=2500.0, maxspeed=180)
    return graph


def _line(**edge: object) -> RoadGraphProvider:
    """A two-way street between A and B with the given attributes."""
    graph = nx.DiGraph()
    for node in "AB":
        lat, lon = COORDS[node]
        graph.add_node(node, x=lon, y=lat)
    graph.add_edge("A", "B", **edge)
    graph.add_edge("B", "A", **edge)
    return RoadGraphProvider(graph)


def test_is_a_matrix_provider() -> None:
    """RoadGraphProvider satisfies the MatrixProvider protocol."""
    assert isinstance(RoadGraphProvider(_graph()), MatrixProvider)


def test_basic_invariants() -> None:
    """The matrix is int64, read-only, non-negative and zero on the diagonal."""
    places = [_at(n) for n in "ABCD"]
    matrix = RoadGraphProvider(_graph()).build(places, profile="van")
    for array in (matrix.distances_m, matrix.durations_s):
        assert array.dtype == np.int64
        assert not array.flags.writeable
        assert (array >= 0).all()
        assert (np.diag(array) == 0).all()


def test_one_way_street_is_asymmetric() -> None:
    """A one-way street makes i->j direct and j->i the long way round."""
    matrix = RoadGraphProvider(_graph()).build([_at("A"), _at("B")], profile="van")
    assert matrix.durations_s[0, 1] == 100
    assert matrix.distances_m[0, 1] == 1000
    assert matrix.durations_s[1, 0] == 300  # B -> C -> D -> A
    assert matrix.distances_m[1, 0] == 3000


def test_distance_is_along_the_fastest_path() -> None:
    """The distance is that of the fastest path, even when a shorter one exists."""
    matrix = RoadGraphProvider(_graph()).build([_at("A"), _at("C")], profile="van")
    assert matrix.durations_s[0, 1] == 50  # bypass, 2.5 km at 50 m/s
    assert matrix.distances_m[0, 1] == 2500  # not the 2 km via B


def test_profile_top_speed_changes_the_route() -> None:
    """Top speeds cap edge speeds: an 18 km/h bike takes the shorter way instead."""
    provider = RoadGraphProvider(
        _graph(), speeds_kmh={"van": math.inf, "truck": 90.0, "bike": 18.0}
    )
    van = provider.build([_at("A"), _at("C")], profile="van")
    truck = provider.build([_at("A"), _at("C")], profile="truck")
    bike = provider.build([_at("A"), _at("C")], profile="bike")
    assert (van.durations_s[0, 1], van.distances_m[0, 1]) == (50, 2500)
    assert (truck.durations_s[0, 1], truck.distances_m[0, 1]) == (100, 2500)
    assert (bike.durations_s[0, 1], bike.distances_m[0, 1]) == (400, 2000)


def test_parallel_edges_take_the_fastest() -> None:
    """Between parallel edges the fastest one is used, with its own length."""
    graph = _graph()
    graph.add_edge("A", "B", length=1200.0, travel_time=60.0)
    matrix = RoadGraphProvider(graph).build([_at("A"), _at("B")], profile="van")
    assert (matrix.durations_s[0, 1], matrix.distances_m[0, 1]) == (60, 1200)


def test_unreachable_place_names_both_indices() -> None:
    """A place on an isolated node raises MatrixError naming the location indices."""
    places = [_at("A"), _at("B"), _at("E")]
    with pytest.raises(MatrixError, match="from location 0 to location 2"):
        RoadGraphProvider(_graph()).build(places, profile="van")


def test_dead_end_is_unreachable_backwards() -> None:
    """A node reachable only by an incoming one-way street cannot get back."""
    graph = _graph()
    graph.add_edge("A", "E", length=500.0)
    places = [_at("A"), _at("E")]
    with pytest.raises(MatrixError, match="from location 1 to location 0"):
        RoadGraphProvider(graph).build(places, profile="van")


def test_places_snap_to_the_nearest_node() -> None:
    """Each place snaps to its closest node; places on one node are 0 apart."""
    provider = RoadGraphProvider(_graph())
    near_b = Location(42.5004, 1.5093)
    near_d = Location(42.5090, 1.5012)
    assert provider.snap([near_b, near_d, _at("A")]) == ["B", "D", "A"]
    matrix = provider.build([_at("B"), near_b], profile="van")
    assert matrix.durations_s.tolist() == [[0, 0], [0, 0]]


def test_undirected_graph_is_two_way() -> None:
    """An undirected graph gives the same trip both ways."""
    graph = nx.Graph()
    for node in "AB":
        lat, lon = COORDS[node]
        graph.add_node(node, x=lon, y=lat)
    graph.add_edge("A", "B", length=900.0, maxspeed=54)
    matrix = RoadGraphProvider(graph).build([_at("A"), _at("B")], profile="van")
    assert matrix.durations_s.tolist() == [[0, 60], [60, 0]]
    assert matrix.distances_m.tolist() == [[0, 900], [900, 0]]


@pytest.mark.parametrize(
    ("edge", "seconds"),
    [
        ({"length": 1000.0, "travel_time": 42.0}, 42),  # given time wins
        ({"length": 1000.0}, 120),  # default 30 km/h
        ({"length": 1000.0, "maxspeed": "walk"}, 120),  # unusable tag -> default
        ({"length": 1000.0, "maxspeed": "50"}, 72),
        ({"length": 1000.0, "maxspeed": "30 mph"}, 75),  # 48.28 km/h
        ({"length": 1000.0, "maxspeed": ["50", "30"]}, 120),  # lowest of a list
        ({"length": 0.0, "maxspeed": 50}, 0),
    ],
)
def test_edge_speed_sources(edge: dict[str, object], seconds: int) -> None:
    """Edge time comes from travel_time, else maxspeed (OSM text), else default."""
    matrix = _line(**edge).build([_at("A"), _at("B")], profile="van")
    assert matrix.durations_s[0, 1] == seconds
    assert matrix.distances_m[0, 1] == round(float(edge["length"]))  # type: ignore[arg-type]


def test_matches_networkx_on_a_random_grid() -> None:
    """Durations equal networkx shortest travel times on a random grid graph."""
    rng = np.random.default_rng(11)
    grid = nx.grid_2d_graph(6, 6).to_directed()
    graph = nx.DiGraph()
    for r, c in grid.nodes:
        graph.add_node((r, c), x=1.5 + 0.002 * c, y=42.5 + 0.002 * r)
    for u, v in grid.edges:
        graph.add_edge(u, v, length=200.0, travel_time=float(rng.integers(10, 60)))
    nodes = [(0, 0), (5, 5), (2, 3), (4, 1), (0, 5)]
    places = [Location(42.5 + 0.002 * r, 1.5 + 0.002 * c) for r, c in nodes]
    matrix = RoadGraphProvider(graph).build(places, profile="van")
    for (i, u), (j, v) in itertools.product(enumerate(nodes), repeat=2):
        expected = nx.shortest_path_length(graph, u, v, weight="travel_time")
        assert matrix.durations_s[i, j] == round(expected)
        assert matrix.distances_m[i, j] % 200 == 0  # whole edges of 200 m


def test_unknown_profile_names_the_known_ones() -> None:
    """An unknown profile raises MatrixError naming the known profiles."""
    with pytest.raises(MatrixError, match=r"'bike'.*\['van'\]"):
        RoadGraphProvider(_graph()).build([_at("A")], profile="bike")


def test_planar_points_are_rejected() -> None:
    """A planar Point raises MatrixError."""
    with pytest.raises(MatrixError, match="location 0 is Point"):
        RoadGraphProvider(_graph()).build([Point(1, 2)], profile="van")


def test_node_without_coordinates_is_rejected() -> None:
    """A node lacking x/y raises MatrixError naming it."""
    graph = _graph()
    graph.add_node("Z")
    with pytest.raises(MatrixError, match="node 'Z'"):
        RoadGraphProvider(graph)


def test_empty_graph_is_rejected() -> None:
    """A graph without nodes raises MatrixError."""
    with pytest.raises(MatrixError, match="no nodes"):
        RoadGraphProvider(nx.MultiDiGraph())


@pytest.mark.parametrize(
    "edge",
    [{}, {"length": -1.0}, {"length": 10.0, "travel_time": -5.0}],
    ids=["no-length", "negative-length", "negative-time"],
)
def test_bad_edge_is_rejected(edge: dict[str, object]) -> None:
    """An edge without a valid length or with a negative time raises MatrixError."""
    with pytest.raises(MatrixError, match="edge 'A' -> 'B'"):
        _line(**edge).build([_at("A"), _at("B")], profile="van")


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"speeds_kmh": {"bike": 0.0}}, "speeds_kmh.bike"),
        ({"speeds_kmh": {}}, "speeds_kmh"),
        ({"default_speed_kmh": -1.0}, "default_speed_kmh"),
        ({"default_speed_kmh": float("inf")}, "default_speed_kmh"),
    ],
)
def test_bad_speeds_are_rejected(kwargs: dict[str, object], path: str) -> None:
    """Non-positive speeds raise InvalidProblemError naming the parameter."""
    with pytest.raises(InvalidProblemError) as info:
        RoadGraphProvider(_graph(), **kwargs)  # type: ignore[arg-type]
    assert info.value.path == path
