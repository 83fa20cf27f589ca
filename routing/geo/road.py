"""RoadGraphProvider: travel data from a road graph, by nearest-node snapping and
one fastest-path Dijkstra per origin."""

from __future__ import annotations

import itertools
import logging
import math
import re
from collections.abc import Hashable, Mapping, Sequence
from types import MappingProxyType

import networkx as nx
import numpy as np
from numpy.typing import NDArray

from routing.domain.errors import InvalidProblemError, MatrixError
from routing.domain.model import Place
from routing.geo.matrix import TravelMatrix
from routing.geo.providers import _geographic, _haversine_m

logger = logging.getLogger(__name__)

DEFAULT_TOP_SPEEDS_KMH: Mapping[str, float] = MappingProxyType({"van": math.inf})
"""Top speed per profile, km/h: a vehicle drives an edge at the lower of the road's
speed and its own top speed. The default van has no limit of its own, so the
road's speed decides; a cargo bike would be ``{"bike": 20.0}``."""

DEFAULT_ROAD_SPEED_KMH = 30.0
"""Speed on edges that carry neither ``travel_time`` nor a usable ``maxspeed``:
the urban limit across much of Europe."""

_MAXSPEED = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*$", re.IGNORECASE)
"""OpenStreetMap ``maxspeed`` values: a number in km/h, optionally with a unit
(https://wiki.openstreetmap.org/wiki/Key:maxspeed). Anything else ("walk",
"signals", "RU:urban") falls back to the default speed."""

_KMH_PER_MPH = 1.609344

Node = Hashable
EdgeCost = tuple[float, float]
"""(travel time in s, length in m) of the edge a profile would take."""


def _parse_maxspeed(value: object) -> float | None:
    """The speed in km/h an OSM ``maxspeed`` value gives, or None if unusable.

    osmnx keeps the raw tag text and, where it merged ways, a list of them; the
    lowest usable value of a list is taken (the cautious choice).
    """
    if isinstance(value, list | tuple):
        speeds = [s for s in map(_parse_maxspeed, value) if s is not None]
        return min(speeds) if speeds else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        speed = float(value)
    elif isinstance(value, str) and (match := _MAXSPEED.match(value)):
        speed = float(match.group(1))
        if (match.group(2) or "").lower() == "mph":
            speed *= _KMH_PER_MPH
    else:
        return None
    return speed if math.isfinite(speed) and speed > 0 else None


class RoadGraphProvider:
    """Travel data along the fastest paths of a directed road graph.

    Each place is snapped to its nearest graph node (great-circle distance);
    ``durations_s[i, j]`` is the travel time of the fastest path between the two
    nodes and ``distances_m[i, j]`` the length of that same path.

    Parameters
    ----------
    graph
        A ``networkx.DiGraph`` or ``MultiDiGraph`` (as osmnx returns). Nodes carry
        ``x`` (longitude) and ``y`` (latitude) in WGS84 degrees; edges carry
        ``length`` (m) and optionally ``travel_time`` (s) or ``maxspeed`` (km/h,
        number or OSM text). An undirected graph is taken as two-way streets.
        The graph must not change after the provider is built.
    speeds_kmh
        Top speed per profile, km/h (> 0, ``math.inf`` for none); an edge is
        driven at the lower of its own speed and the profile's.
    default_speed_kmh
        Speed of edges without ``travel_time`` or a usable ``maxspeed``.

    Raises
    ------
    InvalidProblemError
        If ``speeds_kmh`` is empty or a speed is not positive.
    MatrixError
        If the graph is empty or a node lacks numeric ``x``/``y``.

    Notes
    -----
    The walk from a place to its node is not counted, and places that snap to
    the same node are 0 apart. Edge costs per profile are computed once and
    cached. `networkx.single_source_dijkstra` returns a path to every node it
    reaches, which costs memory and time in proportion to the graph; that is
    fine for districts of a few thousand nodes. For city-scale OpenStreetMap
    graphs, a Dijkstra that stops once every snapped node is settled is the
    next step.
    """

    def __init__(
        self,
        graph: nx.DiGraph | nx.MultiDiGraph,
        *,
        speeds_kmh: Mapping[str, float] = DEFAULT_TOP_SPEEDS_KMH,
        default_speed_kmh: float = DEFAULT_ROAD_SPEED_KMH,
    ) -> None:
        if not isinstance(speeds_kmh, Mapping) or not speeds_kmh:
            raise InvalidProblemError(
                f"must map at least one profile name to km/h, got {speeds_kmh!r}",
                path="speeds_kmh",
            )
        self._speeds_kmh = MappingProxyType(
            {
                name: _positive_speed(kmh, path=f"speeds_kmh.{name}")
                for name, kmh in speeds_kmh.items()
            }
        )
        self._default_speed_kmh = _positive_speed(
            default_speed_kmh, path="default_speed_kmh"
        )
        if math.isinf(self._default_speed_kmh):
            raise InvalidProblemError(
                "must be finite, got inf", path="default_speed_kmh"
            )
        if graph.number_of_nodes() == 0:
            raise MatrixError("the road graph has no nodes")
        self._graph = graph if graph.is_directed() else graph.to_directed()
        self._nodes: list[Node] = list(self._graph.nodes)
        coords = np.empty((len(self._nodes), 2), dtype=np.float64)
        for k, (node, data) in enumerate(self._graph.nodes(data=True)):
            try:
                coords[k] = (float(data["y"]), float(data["x"]))
            except (KeyError, TypeError, ValueError):
                raise MatrixError(
                    f"road graph node {node!r} needs numeric 'x' (lon) and 'y' (lat), "
                    f"has {dict(data)!r}"
                ) from None
        radians = np.radians(coords)
        self._node_lat: NDArray[np.float64] = radians[:, 0]
        self._node_lon: NDArray[np.float64] = radians[:, 1]
        self._costs: dict[str, dict[tuple[Node, Node], EdgeCost]] = {}

    @property
    def profiles(self) -> tuple[str, ...]:
        """The speed profiles this provider serves."""
        return tuple(self._speeds_kmh)

    def __repr__(self) -> str:
        return (
            f"RoadGraphProvider({self._graph.number_of_nodes()} nodes, "
            f"{self._graph.number_of_edges()} edges, "
            f"speeds_kmh={dict(self._speeds_kmh)!r})"
        )

    def snap(self, locations: Sequence[Place]) -> list[Node]:
        """The graph node nearest to each place (great-circle distance).

        Raises
        ------
        MatrixError
            If a place is a planar `Point`.
        """
        places = _geographic(locations, provider="RoadGraphProvider")
        nodes: list[Node] = []
        for place in places:
            # One vectorized pass over all nodes per place keeps memory at O(V).
            meters = _haversine_m(
                np.radians(place.lat),
                np.radians(place.lon),
                self._node_lat,
                self._node_lon,
            )
            nodes.append(self._nodes[int(np.argmin(meters))])
        return nodes

    def build(self, locations: Sequence[Place], *, profile: str) -> TravelMatrix:
        """Fastest-path durations and their lengths between all pairs of places.

        Parameters
        ----------
        locations
            `Location` (lat/lon) places in matrix-row order.
        profile
            A key of ``speeds_kmh``.

        Returns
        -------
        TravelMatrix
            Zero diagonal; not symmetric where streets are one-way.

        Raises
        ------
        MatrixError
            If ``profile`` is unknown, a place is a `Point`, an edge lacks a valid
            ``length``, or some place cannot reach another (the message names both
            location indices).
        """
        if profile not in self._speeds_kmh:
            raise MatrixError(
                f"unknown speed profile {profile!r}; known profiles: "
                f"{sorted(self._speeds_kmh)}"
            )
        nodes = self.snap(locations)
        costs = self._edge_costs(profile)
        n = len(nodes)
        distances = np.zeros((n, n), dtype=np.float64)
        durations = np.zeros((n, n), dtype=np.float64)
        for i, origin in enumerate(nodes):
            times, paths = nx.single_source_dijkstra(
                self._graph, origin, weight=lambda u, v, _: costs[u, v][0]
            )
            for j, target in enumerate(nodes):
                if target not in times:
                    raise MatrixError(
                        f"no road path from location {i} to location {j} "
                        f"(graph node {origin!r} to {target!r})"
                    )
                path = paths[target]
                durations[i, j] = times[target]
                distances[i, j] = sum(
                    costs[u, v][1] for u, v in itertools.pairwise(path)
                )
        logger.debug("road matrix for %d places, profile %r", n, profile)
        return TravelMatrix(np.rint(distances), np.rint(durations))

    def _edge_costs(self, profile: str) -> dict[tuple[Node, Node], EdgeCost]:
        """(time, length) of the edge a profile takes between adjacent nodes.

        Between parallel edges the fastest is taken, the shorter on a tie.
        """
        cached = self._costs.get(profile)
        if cached is not None:
            return cached
        top_m_per_s = self._speeds_kmh[profile] / 3.6
        default_m_per_s = self._default_speed_kmh / 3.6
        costs: dict[tuple[Node, Node], EdgeCost] = {}
        for u, v, data in self._graph.edges(data=True):
            length = data.get("length")
            if (
                not isinstance(length, int | float)
                or isinstance(length, bool)
                or not math.isfinite(length)
                or length < 0
            ):
                raise MatrixError(
                    f"road graph edge {u!r} -> {v!r} needs a 'length' >= 0 in meters, "
                    f"got {length!r}"
                )
            time_s = length / top_m_per_s
            given = data.get("travel_time")
            if given is not None:
                if (
                    not isinstance(given, int | float)
                    or isinstance(given, bool)
                    or not math.isfinite(given)
                    or given < 0
                ):
                    raise MatrixError(
                        f"road graph edge {u!r} -> {v!r} has 'travel_time' "
                        f"{given!r}; expected seconds >= 0"
                    )
                time_s = max(time_s, float(given))
            else:
                road_kmh = _parse_maxspeed(data.get("maxspeed"))
                road_m_per_s = default_m_per_s if road_kmh is None else road_kmh / 3.6
                time_s = max(time_s, length / road_m_per_s)
            cost = (time_s, float(length))
            if (u, v) not in costs or cost < costs[u, v]:
                costs[u, v] = cost
        self._costs[profile] = costs
        return costs


def _positive_speed(value: object, *, path: str) -> float:
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or math.isnan(value)
        or value <= 0
    ):
        raise InvalidProblemError(f"speed must be > 0 km/h, got {value!r}", path=path)
    return float(value)
