"""Benchmark instances (VRPLIB VRPTW / multi-depot VRPTW) as our Problem and matrix.

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

``vrplib`` is a benchmark/dev extra, so it is imported inside the readers; the
core package does not need it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import NDArray

from routing.errors import InvalidProblemError
from routing.model import Depot, Order, Point, Problem, TimeWindow, Vehicle
from routing.plan import Plan

if TYPE_CHECKING:
    from routing.geo.matrix import TravelMatrix

__all__ = [
    "DIMACS",
    "EXACT",
    "BenchmarkInstance",
    "Convention",
    "convention_for",
    "read_bks",
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
        ``"dimacs"`` or ``"exact"``.
    distance_scale
        Matrix distance units per instance distance unit.
    time_scale
        Integer time units per instance time unit (windows, service, travel).
    rounding
        ``"truncate"``: ``floor(scale * d)``; ``"round"``: nearest integer.
    bks_scale
        Units of the ``Cost`` line of the ``.sol`` file per instance distance
        unit.
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
only: by 1000 the 1000-unit horizon would exceed ``routing.units.MAX_HORIZON_S``.
Travel time is ``round(100 d)``, within 0.005 of the BKS's own value per arc."""


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
    distance.

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
        Best-known cost in instance distance units, or None without a ``.sol``.
    convention
        How distances and times were scaled and rounded.
    """

    name: str
    problem: Problem
    travel: TravelMatrix
    bks: float | None
    convention: Convention = DIMACS

    def cost(self, plan: Plan) -> float:
        """Total distance of ``plan`` in instance units (comparable to ``bks``)."""
        return plan.totals.distance_m / self.convention.distance_scale

    def cost_of_objective(self, objective: int) -> float:
        """Convert the solver's integer objective (``Plan.objective``,
        ``on_progress``) to instance distance units.

        With ``cost_per_km=1`` an arc of one matrix unit costs
        ``COST_SCALE / 1000`` objective units, times the problem's distance
        weight (``routing.solver._ortools``). Valid when no order is dropped.
        """
        from routing.units import COST_SCALE

        per_unit = COST_SCALE / 1000 * self.problem.objective.distance
        return objective / (per_unit * self.convention.distance_scale)

    def gap(self, cost: float) -> float | None:
        """Percentage gap of ``cost`` to the BKS (None without a BKS)."""
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
