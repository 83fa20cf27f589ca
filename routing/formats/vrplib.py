"""Benchmark instances (VRPLIB VRPTW, multi-depot VRPTW, Li & Lim PDPTW) as our
Problem and matrix.

Benchmarks run the normal ``solve(problem, travel)``; this module only converts
the files. It follows the conventions the best-known solutions (BKS) were
computed under (the shared instances folder's ``README.md``; Uchoa et al.
2017 for DIMACS): Euclidean distances truncated to one decimal, travel time equal to
distance, objective = total distance. Everything is kept integer by scaling:
a matrix entry is ``floor(10 d)``, and every time (windows, service, horizon,
maximum route duration) is multiplied by 10 as well.

The multi-depot set (``mdvrptw/``, PyVRP's VRPLIB dialect of Vidal et al. 2013)
is the exception: its BKS costs are integers computed with PyVRP's ``exact``
rounding, ``round(1000 d)`` (``Cost: 6655548`` is 6655.548). Under one-decimal
truncation the BKS routes of PR11A cost 6635.8, so every gap would be 0.3 % too
optimistic. See `EXACT` for how it is read.

The Li & Lim pickup-and-delivery set (``li_lim/``, SINTEF text format, see
`read_li_lim`) has its own rules: unrounded Euclidean distances and a
hierarchical objective, fewest vehicles first, then distance (`LI_LIM`).
`read_instance` picks the reader from the file's format.

``vrplib`` is a benchmark/dev extra, so it is imported inside the readers; the
core package does not need it.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import NDArray

from routing.domain.errors import InvalidProblemError
from routing.domain.model import (
    REQUIRED_PENALTY,
    Depot,
    Objective,
    Order,
    Pair,
    Point,
    Problem,
    TimeWindow,
    Vehicle,
)
from routing.domain.plan import Plan

if TYPE_CHECKING:
    from routing.geo.matrix import TravelMatrix

__all__ = [
    "DIMACS",
    "EXACT",
    "LI_LIM",
    "BenchmarkInstance",
    "Convention",
    "convention_for",
    "instance_files",
    "is_li_lim",
    "read_bks",
    "read_instance",
    "read_li_lim",
    "read_li_lim_bks",
    "read_li_lim_routes",
    "read_routes",
    "read_vrplib",
]

_EPS = 1e-9
"""Guards ``floor(10 d)`` against ``d`` = 12.3 being computed as 12.299999...:
coordinates are short decimals, so a true product never lies within 1e-9 below
an integer except by floating-point error."""


@dataclass(frozen=True, slots=True)
class Convention:
    """How instance distances and times become integer matrix units.

    Parameters
    ----------
    name
        ``"dimacs"``, ``"exact"`` or ``"li_lim"``.
    distance_scale
        Matrix distance units per instance distance unit.
    time_scale
        Integer time units per instance time unit (windows, service, travel).
    rounding
        ``"truncate"``: ``floor(scale * d)``; ``"round"``: nearest integer.
    bks_scale
        Units of the ``Cost`` line of the ``.sol`` file (or of the BKS table)
        per instance distance unit.
    """

    name: str
    distance_scale: int
    time_scale: int
    rounding: Literal["truncate", "round"]
    bks_scale: int

    def distances(self, d: NDArray[np.float64]) -> NDArray[np.int64]:
        """Integer distance matrix (matrix units) from exact Euclidean ``d``."""
        return self._apply(d, self.distance_scale)

    def durations(self, d: NDArray[np.float64]) -> NDArray[np.int64]:
        """Integer travel-time matrix (time units) from exact Euclidean ``d``."""
        return self._apply(d, self.time_scale)

    def _apply(self, d: NDArray[np.float64], scale: int) -> NDArray[np.int64]:
        if self.rounding == "truncate":
            return np.floor(d * scale + _EPS).astype(np.int64)
        return np.rint(d * scale).astype(np.int64)


DIMACS = Convention(
    name="dimacs", distance_scale=10, time_scale=10, rounding="truncate", bks_scale=1
)
"""Solomon and Gehring & Homberger: ``floor(10 d) / 10`` (DIMACS 2021 VRPTW
rules, Uchoa et al. 2017); travel time equals distance, all scaled by 10."""

EXACT = Convention(
    name="exact", distance_scale=1000, time_scale=100, rounding="round", bks_scale=1000
)
"""Multi-depot VRPTW BKS (PyVRP ``round_func="exact"``): distance
``round(1000 d) / 1000``; the ``.sol`` cost is in thousandths. Distances are kept
at that resolution so the BKS cost is reproduced exactly. Times are scaled by 100
only: by 1000 the 1000-unit horizon would exceed ``routing.domain.units.MAX_HORIZON_S``.
Travel time is ``round(100 d)``, within 0.005 of the BKS's own value per arc."""


LI_LIM = Convention(
    name="li_lim", distance_scale=1000, time_scale=100, rounding="round", bks_scale=1
)
"""Li & Lim PDPTW (SINTEF TOP rules): *unrounded* Euclidean distance, travel time
equal to distance. Distances are kept as ``round(1000 d)``, so a route of about
100 arcs is within 0.05 (in practice 0.01) of its real-valued length; the 56 BKS
distances are reproduced within 0.007. Times are scaled by 100 only: the
``lc2`` horizon (3390) times 1000 would exceed ``routing.domain.units.MAX_HORIZON_S``.
Travel time is ``round(100 d)``; under it all 56 BKS routes keep their windows
(the tightest stops, in lrc102 and lrc208, start exactly at their due time; a
test checks them). The BKS table is in instance units."""


def convention_for(instance_type: str) -> Convention:
    """The rounding convention the BKS of an instance of this VRPLIB ``TYPE`` use.

    Parameters
    ----------
    instance_type
        The ``TYPE`` header (``"CVRPTW"``, ``"VRPTW"``, ``"MDVRPTW"``).
    """
    return EXACT if instance_type.strip().upper() == "MDVRPTW" else DIMACS


@dataclass(frozen=True, slots=True)
class BenchmarkInstance:
    """A benchmark instance in our domain model.

    Ids: order ``"k"`` is VRPLIB node ``k`` (0-based, as in the ``.sol`` files),
    depot ``"Dk"`` likewise, vehicle ``"vk"`` is the k-th (1-based) vehicle,
    i.e. ``Route #k`` of the ``.sol``. Every vehicle costs 1 per km
    (``cost_per_km=1.0``) and nothing else, so the solver's objective is total
    distance. Li & Lim instances (`read_li_lim`) add a fixed cost per vehicle
    used, ``vehicle_cost``, above any possible total distance, so that the
    objective ranks plans by vehicles first, then distance.

    Parameters
    ----------
    name
        Instance name (``NAME`` header).
    problem
        The problem; times in ``convention.time_scale`` units.
    travel
        Integer distances (``convention.distance_scale`` units) and durations
        (time units), rows following ``problem.locations``.
    bks
        Best-known cost (total distance) in instance distance units, or None
        without a ``.sol``.
    convention
        How distances and times were scaled and rounded.
    bks_vehicles
        Vehicles of the BKS when the objective is hierarchical (Li & Lim), else
        None. For such an instance the distance gap is like for like only for a
        plan with that many vehicles.
    vehicle_cost
        Fixed cost of each vehicle used, in instance distance units (0: the
        objective is distance alone).
    """

    name: str
    problem: Problem
    travel: TravelMatrix
    bks: float | None
    convention: Convention = DIMACS
    bks_vehicles: int | None = None
    vehicle_cost: float = 0.0

    @property
    def is_hierarchical(self) -> bool:
        """True when plans are ranked by vehicles first, then distance."""
        return self.vehicle_cost > 0

    @staticmethod
    def vehicles_used(plan: Plan) -> int:
        """Routes of ``plan`` that serve at least one order."""
        return sum(1 for route in plan.routes if route.visits)

    def cost(self, plan: Plan) -> float:
        """Total distance of ``plan`` in instance units (comparable to ``bks``)."""
        return plan.totals.distance_m / self.convention.distance_scale

    def cost_of_objective(self, objective: int) -> float:
        """Convert the solver's integer objective (``Plan.objective``,
        ``on_progress``) to instance distance units.

        With ``cost_per_km=1`` an arc of one matrix unit costs
        ``COST_SCALE / 1000`` objective units, times the problem's distance
        weight (``routing.solver._ortools``). Valid when no order is dropped.
        With a ``vehicle_cost`` (hierarchical objective), the vehicles' fixed
        costs are taken off: the vehicle cost exceeds any total distance, so the
        number of vehicles is the integer part of objective / vehicle cost.
        """
        from routing.domain.units import COST_SCALE

        if self.vehicle_cost > 0:
            weight = self.problem.objective.fixed_cost
            objective %= round(self.vehicle_cost * weight * COST_SCALE)
        per_unit = COST_SCALE / 1000 * self.problem.objective.distance
        return objective / (per_unit * self.convention.distance_scale)

    def gap(self, cost: float) -> float | None:
        """Percentage gap of the distance ``cost`` to the BKS distance (None
        without a BKS). For a hierarchical instance it compares distances only:
        meaningful when the plan uses `bks_vehicles` vehicles."""
        if self.bks is None or self.bks <= 0:
            return None
        return 100.0 * (cost - self.bks) / self.bks


def _scaled_time(value: float, scale: int, *, what: str, node: int) -> int:
    scaled = float(value) * scale
    out = round(scaled)
    if not math.isfinite(scaled) or abs(scaled - out) > 1e-6:
        raise InvalidProblemError(
            f"{what} {value!r} is not a whole number of 1/{scale} time units",
            path=what,
            entity_id=str(node),
        )
    return out


def _per_node(value: object, n: int) -> NDArray[np.float64]:
    """A VRPLIB field given as a scalar (header) or one value per node."""
    array = np.asarray(value, dtype=np.float64)
    return np.full(n, float(array)) if array.ndim == 0 else array.reshape(n)


def read_vrplib(
    path: str | Path,
    *,
    sol_path: str | Path | None = None,
    convention: Convention | None = None,
) -> BenchmarkInstance:
    """Read a VRPLIB VRPTW or multi-depot VRPTW instance into our model.

    Parameters
    ----------
    path
        The ``.vrp`` file (Solomon, Gehring & Homberger, or MDVRPTW with
        ``VEHICLES_DEPOT_SECTION``, ``VEHICLES_MAX_DURATION`` and
        ``DEPOT_SECTION``).
    sol_path
        Its ``.sol`` file; default: beside ``path``, read if it exists.
    convention
        Scaling and rounding; default: `convention_for` the ``TYPE`` header.

    Returns
    -------
    BenchmarkInstance
        The problem, its matrix, and the BKS.

    Raises
    ------
    InvalidProblemError
        If the instance is not Euclidean, or a time is not representable.

    Notes
    -----
    Semantics of ``vrplib.read_instance`` (2.x) relied on: ``depot`` holds
    0-based node indices; ``vehicles_depot`` holds the 1-based VRPLIB node
    number of each vehicle's depot (it is not shifted); ``service_time`` is a
    scalar (``SERVICE_TIME`` header) or an array (``SERVICE_TIME_SECTION``);
    ``time_window`` is ``(n, 2)``; ``capacity`` a scalar or one per vehicle.
    """
    import vrplib

    from routing.geo.matrix import TravelMatrix

    path = Path(path)
    data = vrplib.read_instance(str(path), compute_edge_weights=False)
    name = str(data.get("name", path.stem))
    kind = str(data.get("type", ""))
    if str(data.get("edge_weight_type", "EUC_2D")).upper() != "EUC_2D":
        raise InvalidProblemError(
            f"only EUC_2D instances are supported, got {data['edge_weight_type']!r}",
            path="EDGE_WEIGHT_TYPE",
            entity_id=name,
        )
    conv = convention or convention_for(kind)
    ts = conv.time_scale
    coords = np.asarray(data["node_coord"], dtype=np.float64)
    n = len(coords)
    demand = np.asarray(data.get("demand", np.zeros(n)), dtype=np.int64).reshape(n)
    service = _per_node(data.get("service_time", 0), n)
    windows = np.asarray(data["time_window"], dtype=np.float64).reshape(n, 2)
    depot_nodes = [int(k) for k in np.asarray(data.get("depot", [0])).ravel()]
    customers = [k for k in range(n) if k not in set(depot_nodes)]

    def window(node: int) -> TimeWindow:
        return TimeWindow(
            _scaled_time(windows[node, 0], ts, what="time_window", node=node),
            _scaled_time(windows[node, 1], ts, what="time_window", node=node),
        )

    depots = tuple(
        Depot(id=f"D{k}", location=Point(*coords[k]), opening=window(k))
        for k in depot_nodes
    )
    horizon = TimeWindow(
        _scaled_time(windows[:, 0].min(), ts, what="time_window", node=-1),
        _scaled_time(windows[:, 1].max(), ts, what="time_window", node=-1),
    )
    orders = tuple(
        Order(
            id=str(k),
            location=Point(*coords[k]),
            delivery=(int(demand[k]),),
            pickup=(0,),
            service_s=_scaled_time(service[k], ts, what="service_time", node=k),
            windows=(window(k),),
        )
        for k in customers
    )

    n_vehicles = int(data.get("vehicles", len(customers)))
    capacity = np.asarray(data.get("capacity", demand.sum()), dtype=np.int64)
    capacities = (
        np.full(n_vehicles, int(capacity)) if capacity.ndim == 0 else capacity.ravel()
    )
    if "vehicles_depot" in data:
        # 1-based VRPLIB node numbers (vrplib does not shift this section).
        vehicle_depots = [int(k) - 1 for k in np.asarray(data["vehicles_depot"])]
    else:
        vehicle_depots = [depot_nodes[0]] * n_vehicles
    max_duration = data.get("vehicles_max_duration")
    durations = None if max_duration is None else _per_node(max_duration, n_vehicles)
    vehicles = tuple(
        Vehicle(
            id=f"v{k + 1}",
            start_depot=f"D{vehicle_depots[k]}",
            end_depot=f"D{vehicle_depots[k]}",
            capacity=(int(capacities[k]),),
            shift=horizon,
            cost_per_km=1.0,
            max_duration_s=None
            if durations is None
            else _scaled_time(durations[k], ts, what="vehicles_max_duration", node=k),
        )
        for k in range(n_vehicles)
    )
    problem = Problem(
        depots=depots,
        vehicles=vehicles,
        orders=orders,
        quantities=("demand",),
        horizon=horizon,
        name=name,
    )

    rows = depot_nodes + customers  # Problem.locations order
    xy = coords[rows]
    exact = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    travel = TravelMatrix(conv.distances(exact), conv.durations(exact))

    if sol_path is None:
        candidate = path.with_suffix(".sol")
        sol_path = candidate if candidate.exists() else None
    bks = None if sol_path is None else read_bks(sol_path, convention=conv)
    return BenchmarkInstance(
        name=name, problem=problem, travel=travel, bks=bks, convention=conv
    )


def read_bks(sol_path: str | Path, *, convention: Convention = DIMACS) -> float:
    """Best-known cost from a VRPLIB ``.sol`` file, in instance distance units.

    Parameters
    ----------
    sol_path
        The solution file; its ``Cost`` line (``Cost 827.3`` or
        ``Cost: 6655548``) is read.
    convention
        Says in which units that line is (`EXACT`: thousandths).

    Raises
    ------
    ValueError
        If the file has no ``Cost`` line.
    """
    import vrplib

    solution = vrplib.read_solution(str(sol_path))
    if "cost" not in solution:
        raise ValueError(f"{sol_path}: no 'Cost' line")
    return float(solution["cost"]) / convention.bks_scale


def read_routes(sol_path: str | Path) -> list[list[int]]:
    """The routes of a VRPLIB ``.sol`` file.

    Returns
    -------
    list of list of int
        Node indices (0-based, depot omitted); entry ``k`` is ``Route #k+1``,
        empty routes included, so for multi-depot instances the position names
        the vehicle (``"v{k+1}"``).
    """
    import vrplib

    return [list(map(int, r)) for r in vrplib.read_solution(str(sol_path))["routes"]]


def is_li_lim(path: str | Path) -> bool:
    """Whether ``path`` is a Li & Lim instance in the SINTEF text format.

    Its first line is ``K Q S`` (three numbers), where a VRPLIB file starts
    with a ``NAME :`` header.
    """
    with Path(path).open() as fh:
        first = next((line for line in fh if line.strip()), "")
    tokens = first.split()
    if len(tokens) != 3:
        return False
    try:
        [float(t) for t in tokens]
    except ValueError:
        return False
    return True


def read_instance(path: str | Path) -> BenchmarkInstance:
    """Read any benchmark instance of the shared folder, by its format.

    Li & Lim SINTEF files (`is_li_lim`) go to `read_li_lim`, everything else to
    `read_vrplib`; each finds its BKS beside the file.
    """
    return read_li_lim(path) if is_li_lim(path) else read_vrplib(path)


def instance_files(path: str | Path) -> list[Path]:
    """The files `read_instance` reads for ``path``: the instance, then its BKS
    file (``.sol`` or the Li & Lim ``bks.csv``) when there is one.

    A worker that cannot see ``path`` is sent these files' texts and writes them
    side by side in one folder, where `read_instance` finds them again.
    """
    path = Path(path)
    if is_li_lim(path):
        bks = _li_lim_bks_path(path)
        return [path] if bks is None else [path, bks]
    sol = path.with_suffix(".sol")
    return [path, sol] if sol.exists() else [path]


def _li_lim_bks_path(path: Path) -> Path | None:
    """``bks.csv`` beside the instance or one folder up (``li_lim/instances/``)."""
    for folder in (path.parent, path.parent.parent):
        candidate = folder / "bks.csv"
        if candidate.exists():
            return candidate
    return None


_LI_LIM_FIELDS = 9
"""Node line: ``id x y demand ready due service pickup_sibling delivery_sibling``."""


def read_li_lim(
    path: str | Path, *, bks_path: str | Path | None = None
) -> BenchmarkInstance:
    """Read a Li & Lim PDPTW instance (SINTEF TOP text format) into our model.

    Parameters
    ----------
    path
        The instance file: first line ``K Q S`` (vehicles, capacity, speed;
        ``S`` is unused), then one line per node ``id x y demand ready due
        service pickup_sibling delivery_sibling``, node 0 the depot. A pickup
        has ``demand > 0`` and names its delivery node; a delivery has
        ``demand < 0`` and names its pickup node.
    bks_path
        The best-known table (``bks.csv``, columns ``instance``,
        ``bks_vehicles``, ``bks_distance_4dp``); default: beside ``path`` or
        one folder up, read if it exists.

    Returns
    -------
    BenchmarkInstance
        Order ``"k"`` is node ``k``, depot ``"D0"``, vehicle ``"vk"`` the k-th
        of ``K``; pair ``"p-d"`` joins pickup node ``p`` to delivery node ``d``.
        Convention `LI_LIM`; ``bks``/``bks_vehicles`` from the table.

    Raises
    ------
    InvalidProblemError
        If a line is malformed, a sibling link is not mutual or its demands do
        not match, or a time is not representable.

    Notes
    -----
    The objective is hierarchical (SINTEF TOP: fewest vehicles, then total
    distance): every vehicle costs 1 per distance unit (``cost_per_km=1``: one
    instance unit is 1000 matrix units) plus a fixed cost, ``vehicle_cost``,
    larger than any plan's total distance: ``K`` times the longest arc out of the
    depot plus, for every other node, its longest outgoing arc (each node is left
    once). Route duration is not priced (``Objective(duration=0)``). The fixed
    cost is far below ``REQUIRED_PENALTY``, so serving a request always beats
    dropping it.
    """
    from routing.geo.matrix import TravelMatrix

    path = Path(path)
    name = path.stem
    conv = LI_LIM
    ts = conv.time_scale
    lines = [line.split() for line in path.read_text().splitlines() if line.strip()]
    if not lines or len(lines[0]) != 3:
        raise InvalidProblemError(
            "first line must be 'K Q S' (vehicles, capacity, speed)",
            path="line 1",
            entity_id=name,
        )
    try:
        n_vehicles, capacity = int(lines[0][0]), int(lines[0][1])
        table = np.array(
            [[float(t) for t in line] for line in lines[1:]], dtype=np.float64
        )
    except ValueError as exc:
        raise InvalidProblemError(
            f"not a number: {exc}", path="nodes", entity_id=name
        ) from exc
    if table.ndim != 2 or table.shape[1] != _LI_LIM_FIELDS:
        raise InvalidProblemError(
            f"every node line needs {_LI_LIM_FIELDS} fields",
            path="nodes",
            entity_id=name,
        )
    n = len(table)
    if not np.array_equal(table[:, 0], np.arange(n)):
        raise InvalidProblemError(
            "node ids must be 0, 1, 2, ... in file order", path="nodes", entity_id=name
        )
    coords = table[:, 1:3]
    demand = table[:, 3].astype(np.int64)
    pickup_of = table[:, 7].astype(np.int64)
    delivery_of = table[:, 8].astype(np.int64)

    def window(node: int) -> TimeWindow:
        return TimeWindow(
            _scaled_time(table[node, 4], ts, what="ready", node=node),
            _scaled_time(table[node, 5], ts, what="due", node=node),
        )

    pairs = []
    for k in range(1, n):
        sibling = int(delivery_of[k]) if demand[k] > 0 else int(pickup_of[k])
        links_back = (
            pickup_of[sibling] == k if demand[k] > 0 else delivery_of[sibling] == k
        )
        if not 0 < sibling < n or not links_back or demand[sibling] != -demand[k]:
            raise InvalidProblemError(
                f"node {k} (demand {demand[k]}) names sibling {sibling}, which does "
                "not name it back with the opposite demand",
                path=f"nodes[{k}]",
                entity_id=name,
            )
        if demand[k] > 0:
            pairs.append(
                Pair(id=f"{k}-{sibling}", pickup=str(k), delivery=str(sibling))
            )
    orders = tuple(
        Order(
            id=str(k),
            location=Point(*coords[k]),
            pickup=(max(int(demand[k]), 0),),
            delivery=(max(-int(demand[k]), 0),),
            service_s=_scaled_time(table[k, 6], ts, what="service", node=k),
            windows=(window(k),),
        )
        for k in range(1, n)
    )
    horizon = TimeWindow(
        _scaled_time(table[:, 4].min(), ts, what="ready", node=-1),
        _scaled_time(table[:, 5].max(), ts, what="due", node=-1),
    )

    exact = np.hypot(
        coords[:, None, 0] - coords[None, :, 0], coords[:, None, 1] - coords[None, :, 1]
    )
    travel = TravelMatrix(conv.distances(exact), conv.durations(exact))
    distances = travel.distances_m
    longest = n_vehicles * int(distances[0].max()) + int(
        distances[1:].max(axis=1).sum()
    )
    vehicle_cost = float(math.ceil(longest / conv.distance_scale) + 1)
    if (n_vehicles + 1) * vehicle_cost >= REQUIRED_PENALTY:
        raise InvalidProblemError(
            f"{n_vehicles} vehicles at {vehicle_cost:g} each reach the cost of an "
            f"unserved order ({REQUIRED_PENALTY:g}): too large for the "
            "hierarchical objective",
            path="vehicles",
            entity_id=name,
        )
    depot = Depot(id="D0", location=Point(*coords[0]), opening=window(0))
    vehicles = tuple(
        Vehicle(
            id=f"v{k + 1}",
            start_depot="D0",
            end_depot="D0",
            capacity=(capacity,),
            shift=depot.opening,
            fixed_cost=vehicle_cost,
            cost_per_km=1.0,
        )
        for k in range(n_vehicles)
    )
    problem = Problem(
        depots=(depot,),
        vehicles=vehicles,
        orders=orders,
        quantities=("demand",),
        horizon=horizon,
        name=name,
        objective=Objective(duration=0.0),
        pairs=tuple(pairs),
    )

    bks_file = _li_lim_bks_path(path) if bks_path is None else Path(bks_path)
    best = None if bks_file is None else read_li_lim_bks(bks_file, name)
    return BenchmarkInstance(
        name=name,
        problem=problem,
        travel=travel,
        bks=None if best is None else best[1],
        convention=conv,
        bks_vehicles=None if best is None else best[0],
        vehicle_cost=vehicle_cost,
    )


def read_li_lim_bks(csv_path: str | Path, name: str) -> tuple[int, float] | None:
    """Best-known ``(vehicles, distance)`` of one Li & Lim instance.

    Parameters
    ----------
    csv_path
        The shared folder's ``li_lim/bks.csv`` (columns ``instance``,
        ``bks_vehicles``, ``bks_distance_4dp``).
    name
        Instance name (``lc101``).

    Returns
    -------
    tuple or None
        Vehicles and distance (instance units, 4 decimals), or None when the
        table has no row for ``name``.
    """
    with Path(csv_path).open(newline="") as fh:
        for row in csv.DictReader(fh):
            if row["instance"].strip() == name:
                return int(row["bks_vehicles"]), float(row["bks_distance_4dp"])
    return None


def read_li_lim_routes(sol_path: str | Path) -> list[list[int]]:
    """The routes of a SINTEF solution file (``Route 1 : 5 3 7 ...``).

    Returns
    -------
    list of list of int
        Node ids in visiting order, depot omitted, one list per route.
    """
    routes = []
    for line in Path(sol_path).read_text().splitlines():
        head, sep, body = line.partition(":")
        if sep and head.strip().lower().startswith("route"):
            routes.append([int(t) for t in body.split()])
    return routes
