"""Benchmark runner: solve VRPLIB and Li & Lim instances with our solver (and peers),
check, report.

Every solution, ours or a peer's, becomes one of our ``Plan`` values (peers' route
sequences are timed with ``routing.domain.timing.build_routes``), is judged by
``routing.check.check_plan`` against the same integer matrix, and has its cost
recomputed from its routes and that matrix. Protocol: ``benchmarks/README.md``.

Usage::

    python benchmarks/run.py solomon --time-limit 10
    python benchmarks/run.py solomon/R1* gh200 --solvers ours,pyvrp,vroom --jobs 2
    python benchmarks/run.py mdvrptw --scheduler tcp://host:8786 --out results/md
    python benchmarks/run.py li_lim --time-limit 30 --solvers ours,vroom
    python benchmarks/run.py --trace C101 --time-limit 30 --solvers ours,pyvrp

Also importable: `run`, `run_task`, `write_report`, `trace`, `resolve_instances`.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import glob
import importlib
import math
import os
import shlex
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from types import ModuleType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, "") and str(REPO_ROOT) not in sys.path:
    # Run as a script from a checkout that is not pip-installed.
    sys.path.insert(0, str(REPO_ROOT))

import numpy as np  # noqa: E402

from routing.domain.model import REQUIRED_PENALTY, Order, Place, Point  # noqa: E402
from routing.domain.plan import (  # noqa: E402
    Plan,
)
from routing.domain.units import COST_SCALE  # noqa: E402
from routing.formats.vrplib import (  # noqa: E402
    BenchmarkInstance,
    instance_files,
    read_instance,
)

SETS: Mapping[str, tuple[str, ...]] = {
    "solomon": ("solomon/*.vrp",),
    "gh200": ("gh/*_2_*.vrp",),
    "gh1000": ("gh/*_10_*.vrp",),
    "mdvrptw": ("mdvrptw/*.vrp",),
    "li_lim": ("li_lim/instances/*.txt",),
}
"""Named instance sets, as globs relative to the instances folder."""

SUFFIXES = (".vrp", ".txt")
"""Instance file suffixes: VRPLIB, and the SINTEF text of Li & Lim."""

RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
"""Default folder of the reports."""

SOLVERS = ("ours", "pyvrp", "vroom")
"""Solvers the runner knows; the peers are optional imports (``bench`` extra)."""

TRACEABLE = ("ours", "pyvrp")
"""Solvers that report their best cost over time (VROOM does not)."""

CORES_PER_TASK = 1
"""Default cores per task (``--cores``): ours then runs one search, VROOM one
thread. With 2, ours runs its two-search portfolio (``SolveOptions.workers``) and
VROOM two threads; PyVRP is single-threaded whatever the setting (its rows say 1)."""

Row = dict[str, Any]
"""One result: instance, solver, feasibility, cost, gap, time (see `COLUMNS`)."""

COLUMNS = (
    "instance",
    "set",
    "solver",
    "seed",
    "repeat",
    "time_limit_s",
    "feasible",
    "violations",
    "unplanned",
    "routes",
    "vehicles",
    "cost",
    "bks",
    "bks_vehicles",
    "vehicles_equal",
    "gap_pct",
    "wall_s",
    "cores",
    "status",
    "solver_status",
    "host",
    "first_violation",
    "error",
)
"""CSV columns, in order. ``bks_vehicles`` and ``vehicles_equal`` are filled for
instances with a hierarchical objective (Li & Lim: fewest vehicles, then distance)
and empty otherwise; there ``gap_pct`` compares distances only, which is meaningful
where ``vehicles_equal``."""

Sequences = dict[str, list[str]]
"""``{vehicle_id: order ids in visiting order}``."""

TracePoints = list[tuple[float, float]]
"""``(elapsed s, best cost)`` at each improvement."""


def default_instances_dir() -> Path:
    """``$ROUTING_INSTANCES``, else ``../shared/instances`` beside the repo root."""
    env = os.environ.get("ROUTING_INSTANCES")
    return Path(env) if env else (REPO_ROOT.parent / "shared" / "instances")


def resolve_instances(specs: Iterable[str], instances_dir: str | Path) -> list[Path]:
    """Turn set names, paths and globs into instance paths.

    Parameters
    ----------
    specs
        Set names (`SETS`), files, or globs relative to ``instances_dir`` or the
        current directory (``solomon/R1*``, ``gh/*_2_1``,
        ``li_lim/instances/lc1*``); a pattern without a suffix tries ``.vrp``,
        then ``.txt``. A bare name such as ``C101`` or ``lc101`` is looked up in
        every subfolder and in every ``*/instances/`` folder.
    instances_dir
        The shared instances folder.

    Returns
    -------
    list of Path
        Unique paths, sorted within each spec, in spec order.

    Raises
    ------
    FileNotFoundError
        If a spec matches nothing.
    """
    root = Path(instances_dir)
    found: dict[Path, None] = {}
    for spec in specs:
        patterns = SETS.get(spec)
        if patterns is None:
            suffixes = [""] if spec.endswith(SUFFIXES) else SUFFIXES
            patterns = tuple(
                p
                for suffix in suffixes
                for p in (
                    spec + suffix,
                    f"*/{spec}{suffix}",
                    f"*/instances/{spec}{suffix}",
                )
            )
        matches: list[str] = []
        for pattern in patterns:
            for base in (root, Path.cwd()):
                full = pattern if Path(pattern).is_absolute() else str(base / pattern)
                matches.extend(glob.glob(full))
            if Path(spec).is_file():
                matches.append(spec)
            if matches:
                break
        if not matches:
            raise FileNotFoundError(
                f"{spec!r} matches no instance under {root} (sets: {', '.join(SETS)})"
            )
        for match in sorted(matches):
            found.setdefault(Path(match).resolve(), None)
    return list(found)


def _import_peer(module: str, package: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise RuntimeError(
            f"solver needs the {package!r} package, which is not installed: "
            f'pip install {package}  (or pip install -e ".[bench]")'
        ) from exc


def _matrices(instance: BenchmarkInstance) -> dict[str, Any]:
    return {p: instance.travel for p in instance.problem.profiles}


def plan_from_sequences(
    instance: BenchmarkInstance,
    sequences: Mapping[str, Sequence[str]],
    *,
    solver_status: str,
    solver: str,
) -> Plan:
    """Our Plan for a peer's routes: times from ``build_routes``, the rest
    unplanned.

    Parameters
    ----------
    instance
        The instance the routes solve.
    sequences
        ``{vehicle_id: order ids in visiting order}``.
    solver_status
        The peer's own word for how its search ended.
    solver
        Its name, for the unplanned reasons.
    """
    from routing.domain.timing import plan_from_routes

    return plan_from_routes(
        instance.problem,
        _matrices(instance),
        sequences,
        solver_status=solver_status,
        reason=f"{solver} left it out",
    )


def recompute_distance(instance: BenchmarkInstance, plan: Plan) -> int:
    """Total distance of the plan's routes from the matrix alone (matrix units),
    ignoring the distances the plan reports."""
    problem, d = instance.problem, instance.travel.distances_m
    total = 0
    for route in plan.routes:
        vehicle = problem.vehicle(route.vehicle_id)
        rows = [problem.depot_index(vehicle.start_depot)]
        rows += [problem.order_index(oid) for oid in route.order_ids]
        if vehicle.end_depot is not None:
            rows.append(problem.depot_index(vehicle.end_depot))
        total += int(d[rows[:-1], rows[1:]].sum())
    return total


# --- solvers: each returns (plan, trace points) --------------------------------


def _solve_ours(
    instance: BenchmarkInstance,
    time_limit_s: float,
    seed: int,
    want_trace: bool,
    cores: int = CORES_PER_TASK,
) -> tuple[Plan, TracePoints]:
    from routing.solver import SolveOptions, solve

    points: TracePoints = []
    t0 = time.perf_counter()
    incomplete = REQUIRED_PENALTY * COST_SCALE  # objective with a dropped order

    def on_progress(objective: int, _search_s: float) -> None:
        # Our own clock (model building included), comparable with the peers'.
        if objective < incomplete:
            points.append(
                (time.perf_counter() - t0, instance.cost_of_objective(objective))
            )

    plan = solve(
        instance.problem,
        instance.travel,
        options=SolveOptions(time_limit_s=time_limit_s, workers=cores, seed=seed),
        on_progress=on_progress if want_trace else None,
    )
    return plan, points


def _solve_pyvrp(
    instance: BenchmarkInstance,
    time_limit_s: float,
    seed: int,
    want_trace: bool,
    cores: int = CORES_PER_TASK,
) -> tuple[Plan, TracePoints]:
    pyvrp = _import_peer("pyvrp", "pyvrp")
    from pyvrp.stop import MaxRuntime

    problem = instance.problem
    if problem.pairs:
        # PyVRP 0.x models no pickup-and-delivery pairs (same route, pickup first).
        raise NotImplementedError(
            "PyVRP cannot model pickup-and-delivery pairs; no run on this instance"
        )
    n_depots = len(problem.depots)
    depots = [
        pyvrp.Depot(location=k, tw_early=d.opening.start_s, tw_late=d.opening.end_s)
        for k, d in enumerate(problem.depots)
    ]
    clients = []
    for k, order in enumerate(problem.orders):
        window = order.windows[0] if order.windows else problem.horizon
        if len(order.windows) > 1:
            raise ValueError(f"order {order.id}: PyVRP takes one time window")
        clients.append(
            pyvrp.Client(
                location=n_depots + k,
                delivery=list(order.delivery),
                pickup=list(order.pickup),
                service_duration=order.service_s,
                tw_early=window.start_s,
                tw_late=window.end_s,
                name=order.id,
            )
        )
    # One vehicle type per distinct vehicle; remember which of our ids it covers.
    types: dict[tuple[Any, ...], list[str]] = {}
    for v in problem.vehicles:
        key = (v.start_depot, v.end_depot, v.capacity, v.shift, v.max_duration_s)
        types.setdefault(key, []).append(v.id)
    vehicle_types = []
    for (start, end, capacity, shift, max_duration_s), ids in types.items():
        extra = {} if max_duration_s is None else {"shift_duration": max_duration_s}
        vehicle_types.append(
            pyvrp.VehicleType(
                num_available=len(ids),
                capacity=list(capacity),
                start_depot=problem.depot_index(start),
                end_depot=problem.depot_index(end),
                tw_early=shift.start_s,
                tw_late=shift.end_s,
                **extra,
            )
        )
    data = pyvrp.ProblemData(
        # Coordinates are informative only: PyVRP uses the matrices given below.
        [pyvrp.Location(x=x, y=y) for x, y in _xy(problem.locations)],
        clients,
        depots,
        vehicle_types,
        [np.array(instance.travel.distances_m)],
        [np.array(instance.travel.durations_s)],
    )
    result = pyvrp.solve(
        data, MaxRuntime(time_limit_s), seed=seed, collect_stats=want_trace
    )
    pools = [list(ids) for ids in types.values()]
    sequences: Sequences = {}
    for route in result.best.routes():
        vehicle_id = pools[route.vehicle_type()].pop(0)
        sequences[vehicle_id] = [
            problem.orders[a.idx].id for a in route if a.is_client()
        ]
    points: TracePoints = []
    if want_trace:
        elapsed, best = 0.0, math.inf
        for runtime, datum in zip(
            result.stats.runtimes, result.stats.data, strict=False
        ):
            elapsed += runtime
            if datum.best_feas and datum.best_cost < best:
                best = datum.best_cost
                points.append((elapsed, best / instance.convention.distance_scale))
    status = "feasible" if result.is_feasible() else "infeasible"
    plan = plan_from_sequences(
        instance, sequences, solver_status=status, solver="pyvrp"
    )
    return plan, points


def _xy(places: Sequence[Place]) -> list[tuple[float, float]]:
    return [(p.x, p.y) if isinstance(p, Point) else (p.lon, p.lat) for p in places]


def _solve_vroom(
    instance: BenchmarkInstance,
    time_limit_s: float,
    seed: int,
    want_trace: bool,
    cores: int = CORES_PER_TASK,
) -> tuple[Plan, TracePoints]:
    vroom = _import_peer("vroom", "pyvroom")

    problem = instance.problem
    n_depots = len(problem.depots)
    inp = vroom.Input()
    inp.set_durations_matrix(profile="car", matrix_input=instance.travel.durations_s)
    # Objective = distance (VROOM's default cost is duration; they differ in scale
    # under the EXACT convention).
    inp.set_costs_matrix(profile="car", matrix_input=instance.travel.distances_m)
    for k, v in enumerate(problem.vehicles):
        start = problem.depot_index(v.start_depot)
        end = problem.depot_index(v.end_depot) if v.end_depot else None
        opening = problem.depot(v.start_depot).opening
        extra: dict[str, Any] = {}
        if v.fixed_cost:
            # Same cost units as the cost matrix (distance matrix units).
            extra["costs"] = vroom.VehicleCosts(
                fixed=round(v.fixed_cost * instance.convention.distance_scale)
            )
        if v.max_duration_s is not None:
            # VROOM bounds travel time only, not the whole route duration
            # (service and waiting included): a relaxation; the checker judges.
            extra["max_travel_time"] = v.max_duration_s
        inp.add_vehicle(
            vroom.Vehicle(
                id=k,
                start=start,
                end=end,
                capacity=list(v.capacity),
                time_window=vroom.TimeWindow(
                    max(v.shift.start_s, opening.start_s),
                    min(v.shift.end_s, opening.end_s),
                ),
                **extra,
            )
        )

    def windows(order: Order) -> list[Any]:
        return [
            vroom.TimeWindow(w.start_s, w.end_s)
            for w in order.windows or (problem.horizon,)
        ]

    def shipment_step(order: Order) -> Any:
        # Ids are matrix rows: unique among jobs, pickups and deliveries alike.
        row = problem.order_index(order.id)
        return vroom.ShipmentStep(
            id=row,
            location=row,
            default_service=order.service_s,
            time_windows=windows(order),
        )

    for pair in problem.pairs:
        pickup, delivery = problem.order(pair.pickup), problem.order(pair.delivery)
        if pair.max_ride_s is not None:
            raise NotImplementedError(f"pair {pair.id}: VROOM has no maximum ride time")
        inp.add_shipment(
            shipment_step(pickup),
            shipment_step(delivery),
            amount=vroom.Amount(list(pickup.pickup)),
        )
    for k, order in enumerate(problem.orders):
        if problem.pair_of(order.id) is not None:
            continue
        inp.add_job(
            vroom.Job(
                id=n_depots + k,
                location=n_depots + k,
                default_service=order.service_s,
                delivery=list(order.delivery),
                pickup=list(order.pickup),
                time_windows=windows(order),
            )
        )
    solution = inp.solve(
        exploration_level=5,
        nb_threads=cores,
        timeout=dt.timedelta(seconds=time_limit_s),
    )
    out = solution.to_dict()
    sequences: Sequences = {}
    for route in out.get("routes", []):
        vehicle_id = problem.vehicles[int(route["vehicle"])].id
        sequences[vehicle_id] = [
            problem.orders[int(step["id"]) - n_depots].id
            for step in route["steps"]
            if step["type"] in ("job", "pickup", "delivery")
        ]
    status = f"code_{out.get('code', '?')}"
    plan = plan_from_sequences(
        instance, sequences, solver_status=status, solver="vroom"
    )
    return plan, []


_SOLVE: Mapping[
    str,
    Callable[[BenchmarkInstance, float, int, bool, int], tuple[Plan, TracePoints]],
] = {"ours": _solve_ours, "pyvrp": _solve_pyvrp, "vroom": _solve_vroom}


# --- one task -------------------------------------------------------------------


def run_task(
    path: str,
    solver: str,
    time_limit_s: float,
    seed: int,
    repeat: int = 0,
    *,
    cores: int = CORES_PER_TASK,
    files: Mapping[str, str] | None = None,
    want_trace: bool = False,
) -> Row:
    """Solve one instance with one solver, check the plan, and measure it.

    This is the unit of work sent to process pools and Dask workers: it takes
    and returns only builtins, and never raises (a failure is a row with
    ``error`` set), so one bad run cannot sink a whole benchmark.

    Parameters
    ----------
    path
        The ``.vrp`` file (its ``.sol`` beside it gives the BKS), or a Li & Lim
        ``.txt`` (BKS from ``bks.csv`` beside it or one folder up).
    solver
        One of `SOLVERS`.
    time_limit_s
        Search time limit, seconds.
    seed
        Random seed (PyVRP, alone and as ours' warm start; VROOM has none).
    repeat
        Repetition number, recorded only.
    cores
        Cores the solver may use (see `CORES_PER_TASK`).
    files
        ``{file name: text}`` of the instance and its BKS file
        (`routing.formats.vrplib.instance_files`), for workers that do not see
        ``path`` (other machines); used only when ``path`` is missing.
    want_trace
        Also return ``"trace"``: ``[(elapsed s, best cost), ...]``.

    Returns
    -------
    dict
        The `COLUMNS` (plus ``"trace"`` when asked).
    """
    row: Row = {
        "instance": Path(path).stem,
        "set": set_of(path),
        "solver": solver,
        "seed": seed,
        "repeat": repeat,
        "time_limit_s": time_limit_s,
        "feasible": False,
        "violations": None,
        "unplanned": None,
        "routes": None,
        "vehicles": None,
        "cost": math.nan,
        "bks": None,
        "bks_vehicles": None,
        "vehicles_equal": None,
        "gap_pct": math.nan,
        "wall_s": math.nan,
        "cores": 1 if solver == "pyvrp" else cores,
        "status": "",
        "solver_status": "",
        "host": socket.gethostname(),
        "first_violation": "",
        "error": "",
        "search": "",
    }
    try:
        instance = _read(path, files)
        row["instance"] = instance.name
        row["bks"] = instance.bks
        row["bks_vehicles"] = instance.bks_vehicles
        row["vehicles"] = len(instance.problem.vehicles)
        solve_fn = _SOLVE.get(solver)
        if solve_fn is None:
            raise ValueError(f"unknown solver {solver!r}; known: {', '.join(SOLVERS)}")
        t0 = time.perf_counter()
        plan, points = solve_fn(instance, time_limit_s, seed, want_trace, cores)
        row["wall_s"] = time.perf_counter() - t0
        row.update(_judge(instance, plan))
        # Which engines warm-started ours, and why the search stopped.
        row["search"] = "; ".join(
            [f"{e.engine}:{e.outcome}" for e in plan.engines]
            + ([plan.stop_reason] if plan.stop_reason else [])
        )
        if want_trace:
            row["trace"] = points
            row["plan_cost_from_objective"] = (
                instance.cost_of_objective(plan.objective) if solver == "ours" else None
            )
    except Exception as exc:  # reported in the row, see docstring
        row["error"] = f"{type(exc).__name__}: {exc}"
    return row


def set_of(path: str | Path) -> str:
    """The set folder of an instance: its parent, or for ``X/instances/f.txt``
    (Li & Lim's layout) ``X``."""
    parent = Path(path).parent
    return parent.parent.name if parent.name == "instances" else parent.name


def _read(path: str, files: Mapping[str, str] | None) -> BenchmarkInstance:
    if files is None or Path(path).exists():
        return read_instance(path)
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in files.items():
            (Path(tmp) / name).write_text(text)
        return read_instance(Path(tmp) / Path(path).name)


def _judge(instance: BenchmarkInstance, plan: Plan) -> Row:
    """Feasibility by the independent checker, and the recomputed cost.

    For a hierarchical instance (Li & Lim), ``vehicles_equal`` says whether a
    feasible plan uses the BKS's number of vehicles (or fewer, which would be a
    new best-known); only then is its distance gap a like-for-like comparison.
    """
    from routing.check import check_plan

    violations = check_plan(instance.problem, plan, instance.travel)
    cost = recompute_distance(instance, plan) / instance.convention.distance_scale
    gap = instance.gap(cost)
    feasible = not violations and not plan.unplanned
    used = instance.vehicles_used(plan)
    return {
        "feasible": feasible,
        "violations": len(violations),
        "unplanned": len(plan.unplanned),
        "routes": len(plan.routes),
        "vehicles_equal": (
            None
            if instance.bks_vehicles is None
            else feasible and used <= instance.bks_vehicles
        ),
        "cost": cost,
        "gap_pct": math.nan if gap is None else gap,
        "status": str(plan.status),
        "solver_status": plan.solver_status,
        "first_violation": str(violations[0]) if violations else "",
    }


# --- many tasks -----------------------------------------------------------------


def run(
    paths: Sequence[str | Path],
    *,
    solvers: Sequence[str] = ("ours",),
    time_limit_s: float = 10.0,
    seed: int = 1,
    repeats: int = 1,
    jobs: int = 1,
    cores: int = CORES_PER_TASK,
    scheduler: str | None = None,
    progress: bool = True,
) -> list[Row]:
    """Run every (instance, solver, repeat) task and collect the rows.

    Parameters
    ----------
    paths
        ``.vrp`` files (see `resolve_instances`).
    solvers
        Names from `SOLVERS`; a peer that is not installed yields rows whose
        ``error`` says how to install it.
    time_limit_s, seed, repeats
        Per task; repeat ``r`` uses seed ``seed + r``.
    jobs
        Tasks run at once in local worker processes (1: in this process).
    cores
        Cores each task may use; keep ``jobs * cores`` <= the machine's cores.
    scheduler
        Address of a Dask scheduler (``tcp://host:8786``); when given, tasks go
        to its workers and ``jobs`` is ignored.
    progress
        Show a progress bar (tqdm, if installed).

    Returns
    -------
    list of dict
        One row per task, sorted by instance, solver and repeat.
    """
    tasks = [
        (str(p), s, float(time_limit_s), seed + r, r)
        for p in paths
        for s in solvers
        for r in range(repeats)
    ]
    bar = _progress_bar(len(tasks), enabled=progress)
    rows: list[Row] = []
    if scheduler:
        rows = _run_dask(tasks, scheduler, bar, cores=cores)
    elif jobs <= 1:
        for task in tasks:
            rows.append(run_task(*task, cores=cores))
            bar(rows[-1])
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(run_task, *task, cores=cores) for task in tasks]
            for future in as_completed(futures):
                rows.append(future.result())
                bar(rows[-1])
    bar(None)
    rows.sort(key=lambda r: (r["set"], r["instance"], r["solver"], r["repeat"]))
    return rows


def _run_dask(
    tasks: Sequence[tuple[str, str, float, int, int]],
    scheduler: str,
    bar: Callable[[Row | None], None],
    *,
    cores: int = CORES_PER_TASK,
) -> list[Row]:
    try:
        import cloudpickle
        from dask.distributed import Client
        from dask.distributed import as_completed as dask_completed
    except ImportError as exc:
        raise RuntimeError(
            "--scheduler needs dask.distributed: pip install 'dask[distributed]'"
        ) from exc
    # Workers (and the scheduler, which unpickles the graph) have the routing
    # package installed but not this script. Ship the task function by value:
    # a local function makes plain pickle fail, so Dask falls back to cloudpickle,
    # which copies it by value, and with this module registered, the module-level
    # helpers it calls too. Every run thus carries the current code: no stale
    # module on long-lived workers. Instance files travel as text.
    module = sys.modules[__name__]
    by_value = __name__ != "__main__"  # __main__ is always copied by value
    if by_value:
        cloudpickle.register_pickle_by_value(module)

    def task(*args: Any, **kwargs: Any) -> Row:
        return run_task(*args, **kwargs)

    rows: list[Row] = []
    try:
        with Client(scheduler) as client:
            futures = []
            for path, solver, limit, seed, repeat in tasks:
                files = {f.name: f.read_text() for f in instance_files(path)}
                futures.append(
                    client.submit(
                        task,
                        path,
                        solver,
                        limit,
                        seed,
                        repeat,
                        cores=cores,
                        files=files,
                        pure=False,
                    )
                )
            for future in dask_completed(futures):
                rows.append(future.result())
                bar(rows[-1])
    finally:
        if by_value:
            cloudpickle.unregister_pickle_by_value(module)
    return rows


def _progress_bar(total: int, *, enabled: bool) -> Callable[[Row | None], None]:
    """A callback advancing a tqdm bar per finished row; None closes it."""
    if not enabled:
        return lambda row: None
    try:
        from tqdm import tqdm
    except ImportError:

        def plain(row: Row | None) -> None:
            if row is not None:
                print(f"{row['instance']} {row['solver']}: gap {row['gap_pct']:.2f} %")

        return plain
    bar = tqdm(total=total, unit="run", file=sys.stderr)

    def advance(row: Row | None) -> None:
        if row is None:
            bar.close()
            return
        bar.set_postfix_str(f"{row['instance']} {row['solver']}")
        bar.update(1)

    return advance


# --- reports --------------------------------------------------------------------


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _is_hierarchical(row: Row) -> bool:
    """Whether the row's instance ranks plans by vehicles first (Li & Lim)."""
    return row.get("bks_vehicles") is not None


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def summarize_rows(rows: Sequence[Row]) -> list[Row]:
    """Per solver: runs, feasible runs, mean gap %, mean wall time, and for
    hierarchical (Li & Lim) runs the share with the BKS vehicle count.

    The mean gap is over feasible runs only (an infeasible plan's distance is not
    comparable with the BKS), and leaves out hierarchical runs with more vehicles
    than the BKS (a distance gap across vehicle counts compares different
    objectives). ``hierarchical_runs``, ``vehicles_equal`` (count),
    ``vehicles_equal_pct`` (share of the hierarchical runs) and
    ``mean_gap_equal_pct`` (mean distance gap over the runs with equal vehicles)
    describe the Li & Lim rows alone. The mean time is over all runs without an
    error.
    """
    out: list[Row] = []
    for solver in dict.fromkeys(r["solver"] for r in rows):
        mine = [r for r in rows if r["solver"] == solver]
        feasible = [r for r in mine if r["feasible"]]
        comparable = [
            r for r in feasible if not _is_hierarchical(r) or r["vehicles_equal"]
        ]
        gaps = [r["gap_pct"] for r in comparable if not math.isnan(r["gap_pct"])]
        times = [r["wall_s"] for r in mine if not math.isnan(r["wall_s"])]
        hierarchical = [r for r in mine if _is_hierarchical(r)]
        equal = [r for r in hierarchical if r["vehicles_equal"]]
        equal_gaps = [r["gap_pct"] for r in equal if not math.isnan(r["gap_pct"])]
        out.append(
            {
                "solver": solver,
                "runs": len(mine),
                "feasible": len(feasible),
                "mean_gap_pct": _mean(gaps),
                "mean_wall_s": _mean(times),
                "hierarchical_runs": len(hierarchical),
                "vehicles_equal": len(equal),
                "vehicles_equal_pct": (
                    100.0 * len(equal) / len(hierarchical) if hierarchical else math.nan
                ),
                "mean_gap_equal_pct": _mean(equal_gaps),
            }
        )
    return out


def markdown_table(rows: Sequence[Row]) -> str:
    """The per-run table in markdown; with Li & Lim rows, two more columns: the
    BKS vehicle count and whether the plan matches it."""
    hierarchical = any(_is_hierarchical(r) for r in rows)
    extra_head = " BKS vehicles | vehicles = BKS |" if hierarchical else ""
    extra_rule = " ---: | --- |" if hierarchical else ""
    lines = [
        "| instance | solver | feasible | violations | unplanned | routes / vehicles "
        f"|{extra_head} cost | BKS | gap % | wall s | cores |",
        "| --- | --- | --- | ---: | ---: | ---: |"
        f"{extra_rule} ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        name = r["instance"] + (f" #{r['repeat']}" if r["repeat"] else "")
        feasible = _fmt(r["feasible"]) if not r["error"] else f"error: {r['error']}"
        routes = f"{_fmt(r['routes'])} / {_fmt(r['vehicles'])}"
        extra = (
            f" {_fmt(r.get('bks_vehicles'))} | {_fmt(r.get('vehicles_equal'))} |"
            if hierarchical
            else ""
        )
        lines.append(
            f"| {name} | {r['solver']} | {feasible} | {_fmt(r['violations'])} "
            f"| {_fmt(r['unplanned'])} | {routes} |{extra} {_fmt(r['cost'])} "
            f"| {_fmt(r['bks'])} | {_fmt(r['gap_pct'], 2)} | {_fmt(r['wall_s'])} "
            f"| {r['cores']} |"
        )
    return "\n".join(lines)


def write_report(
    rows: Sequence[Row],
    out: str | Path,
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    instances_dir: str | Path | None = None,
    plot: bool = True,
    command: str | None = None,
) -> dict[str, Path]:
    """Write ``OUT.csv``, ``OUT.md`` and (with matplotlib) ``OUT.png``.

    Parameters
    ----------
    rows
        Rows from `run`.
    out
        Path without suffix, e.g. ``benchmarks/results/solomon-10s``.
    jobs, scheduler, instances_dir, command
        Recorded in the markdown header (``command``: the command line that
        made the run).
    plot
        Draw the gap plot (skipped with a message if matplotlib is missing).

    Returns
    -------
    dict
        ``{"csv": path, "md": path, "png": path}`` for the files written.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    csv_path = out.with_name(out.name + ".csv")
    with csv_path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    written["csv"] = csv_path

    limits = sorted({r["time_limit_s"] for r in rows})
    seeds = sorted({r["seed"] for r in rows})
    where = f"Dask scheduler {scheduler}" if scheduler else f"{jobs} local job(s)"
    summary = summarize_rows(rows)
    lines = [
        f"# Benchmark {out.name}",
        "",
        f"- date: {dt.datetime.now().isoformat(timespec='seconds')}",
        f"- host: {socket.gethostname()}; workers: {where}; "
        f"cores per run: {_cores_note(rows)}",
        f"- time limit: {', '.join(f'{t:g}' for t in limits)} s; "
        f"seeds: {', '.join(map(str, seeds))}",
        f"- instances: {instances_dir or '-'}",
        *([f"- command: `{command}`"] if command else []),
        "- feasible = 0 violations by `routing.check` and every order served; "
        "cost recomputed from the routes and the matrix; gap = (cost - BKS) / BKS",
    ]
    hierarchical = any(_is_hierarchical(r) for r in rows)
    if hierarchical:
        lines.append(
            "- Li & Lim (hierarchical objective: vehicles, then distance): cost and "
            "gap are distances; vehicles = BKS means a feasible plan with at most "
            "the BKS vehicles, and only there is the gap like for like"
        )
    lines += [
        "",
        markdown_table(rows),
        "",
        "## Summary per solver",
        "",
        "| solver | runs | feasible | mean gap % (feasible runs) | mean wall s |"
        + (
            " Li & Lim vehicles = BKS | mean gap % where vehicles = BKS |"
            if hierarchical
            else ""
        ),
        "| --- | ---: | ---: | ---: | ---: |"
        + (" ---: | ---: |" if hierarchical else ""),
    ]
    for s in summary:
        line = (
            f"| {s['solver']} | {s['runs']} | {s['feasible']} "
            f"| {_fmt(s['mean_gap_pct'], 2)} | {_fmt(s['mean_wall_s'])} |"
        )
        if hierarchical:
            line += (
                f" {s['vehicles_equal']}/{s['hierarchical_runs']} "
                f"({_fmt(s['vehicles_equal_pct'])} %) "
                f"| {_fmt(s['mean_gap_equal_pct'], 2)} |"
            )
        lines.append(line)
    md_path = out.with_name(out.name + ".md")
    md_path.write_text("\n".join(lines) + "\n")
    written["md"] = md_path

    if plot:
        png = _plot_gaps(rows, out.with_name(out.name + ".png"))
        if png is not None:
            written["png"] = png
    return written


def _pyplot() -> Any | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install matplotlib)")
        return None
    return plt


def _plot_gaps(rows: Sequence[Row], path: Path) -> Path | None:
    plt = _pyplot()
    if plt is None:
        return None
    instances = list(dict.fromkeys(r["instance"] for r in rows))
    x_of = {name: k for k, name in enumerate(instances)}
    fig, ax = plt.subplots(figsize=(max(6.0, 0.25 * len(instances) + 3), 4))
    solvers = list(dict.fromkeys(r["solver"] for r in rows))
    for k, solver in enumerate(solvers):
        mine = [r for r in rows if r["solver"] == solver]
        dodge = 0.15 * (k - (len(solvers) - 1) / 2)  # side by side, not on top
        for feasible, marker in ((True, "o"), (False, "x")):
            pts = [
                (x_of[r["instance"]] + dodge, r["gap_pct"])
                for r in mine
                if bool(r["feasible"]) == feasible and not math.isnan(r["gap_pct"])
            ]
            if pts:
                xs, ys = zip(*pts, strict=True)
                label = solver if feasible else f"{solver} (infeasible)"
                ax.scatter(xs, ys, marker=marker, label=label)
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_xticks(range(len(instances)), instances, rotation=90, fontsize=7)
    ax.set_ylabel("gap to BKS (%)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def trace(
    path: str | Path,
    out: str | Path,
    *,
    solvers: Sequence[str] = ("ours",),
    time_limit_s: float = 10.0,
    seed: int = 1,
    cores: int = CORES_PER_TASK,
) -> list[Row]:
    """Record the best cost over time on one instance and plot the gap.

    Writes ``OUT-trace.csv`` (solver, elapsed_s, cost, gap_pct) and
    ``OUT-trace.png``. For our solver each point comes from ``solve``'s
    ``on_progress`` (objective converted with
    `BenchmarkInstance.cost_of_objective`); for PyVRP from its statistics.

    Returns
    -------
    list of dict
        The rows of the runs, each with its ``"trace"``.
    """
    rows = []
    for solver in solvers:
        if solver not in TRACEABLE:
            print(f"{solver}: reports no progress, left out of the trace")
            continue
        rows.append(
            run_task(
                str(path), solver, time_limit_s, seed, cores=cores, want_trace=True
            )
        )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.with_name(out.name + "-trace.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["instance", "solver", "elapsed_s", "cost", "gap_pct"])
        for r in rows:
            for elapsed, cost in r.get("trace", []):
                gap = _gap(cost, r["bks"])
                writer.writerow([r["instance"], r["solver"], elapsed, cost, gap])
    plt = _pyplot()
    if plt is not None and rows:
        fig, ax = plt.subplots(figsize=(6, 4))
        for r in rows:
            pts = r.get("trace", [])
            if pts:
                xs = [e for e, _ in pts] + [r["wall_s"]]
                ys = [_gap(c, r["bks"]) for _, c in pts]
                ax.step(xs, [*ys, ys[-1]], where="post", label=r["solver"])
        ax.set_xlabel("elapsed (s)")
        ax.set_ylabel("gap to BKS (%)")
        ax.set_title(f"{rows[0]['instance']}: best solution over time")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out.with_name(out.name + "-trace.png"), dpi=120)
        plt.close(fig)
    return rows


def _cores_note(rows: Sequence[Row]) -> str:
    by_solver: dict[str, set[int]] = {}
    for r in rows:
        by_solver.setdefault(r["solver"], set()).add(int(r["cores"]))
    return ", ".join(
        f"{solver} {'/'.join(map(str, sorted(c)))}"
        for solver, c in sorted(by_solver.items())
    )


def _gap(cost: float, bks: float | None) -> float:
    return math.nan if not bks else 100.0 * (cost - bks) / bks


# --- CLI ------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Run the VRPLIB and Li & Lim benchmarks "
        "(protocol: benchmarks/README.md).",
    )
    parser.add_argument(
        "instances",
        nargs="*",
        help=f"sets ({', '.join(SETS)}), .vrp/.txt paths, or globs such as solomon/R1*",
    )
    parser.add_argument(
        "--instances-dir",
        type=Path,
        default=None,
        help="shared instances folder (default: $ROUTING_INSTANCES or "
        "../shared/instances beside the repo)",
    )
    parser.add_argument(
        "--time-limit-s",
        "--time-limit",
        dest="time_limit_s",
        type=float,
        default=10.0,
        help="search time limit per run, seconds (default 10)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--repeats", type=int, default=1, help="runs per instance and solver"
    )
    parser.add_argument(
        "--solvers",
        default="ours",
        help=f"comma-separated, from {','.join(SOLVERS)} (default: ours)",
    )
    parser.add_argument("--jobs", type=int, default=1, help="local runs in parallel")
    parser.add_argument(
        "--cores",
        type=int,
        default=CORES_PER_TASK,
        help="cores per run (default 1; 2 = our two-search portfolio, VROOM 2 "
        "threads); keep jobs x cores <= the machine's cores",
    )
    parser.add_argument(
        "--scheduler", default=None, help="Dask scheduler address, tcp://host:8786"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output path without suffix (default benchmarks/results/<name>)",
    )
    parser.add_argument(
        "--trace", metavar="INSTANCE", default=None, help="trace one instance"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    root = args.instances_dir or default_instances_dir()
    solvers = [s.strip() for s in args.solvers.split(",") if s.strip()]
    unknown = sorted(set(solvers) - set(SOLVERS))
    if unknown:
        print(f"unknown solver(s) {unknown}; choose from {', '.join(SOLVERS)}")
        return 2
    if not args.trace and not args.instances:
        print(f"name instances: a set ({', '.join(SETS)}), a path or a glob")
        return 2
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M")
    try:
        if args.trace:
            (path,) = resolve_instances([args.trace], root)[:1]
            out = args.out or RESULTS_DIR / f"{path.stem}-{stamp}"
            rows = trace(
                path,
                out,
                solvers=solvers,
                time_limit_s=args.time_limit_s,
                seed=args.seed,
                cores=args.cores,
            )
            for r in rows:
                final = r["trace"][-1][1] if r.get("trace") else math.nan
                from_objective = r.get("plan_cost_from_objective")
                if from_objective is not None:
                    print(f"plan objective as cost: {from_objective:.3f}")
                print(
                    f"{r['instance']} {r['solver']}: plan cost {_fmt(r['cost'], 3)}, "
                    f"last trace value {_fmt(final, 3)}, "
                    f"{len(r.get('trace', []))} improvements; "
                    f"error: {r['error'] or '-'}"
                )
            print(f"wrote {out}-trace.csv and {out}-trace.png")
            return 0
        paths = resolve_instances(args.instances, root)
    except FileNotFoundError as exc:
        print(exc)
        return 2
    name = "-".join(s.replace("/", "_").replace("*", "") for s in args.instances)
    out = args.out or RESULTS_DIR / f"{name}-{stamp}"
    print(
        f"{len(paths)} instance(s) x {len(solvers)} solver(s) x {args.repeats}, "
        f"{args.time_limit_s:g} s each, {args.cores} core(s) per run, "
        + (f"on {args.scheduler}" if args.scheduler else f"{args.jobs} job(s)")
    )
    rows = run(
        paths,
        solvers=solvers,
        time_limit_s=args.time_limit_s,
        seed=args.seed,
        repeats=args.repeats,
        jobs=args.jobs,
        cores=args.cores,
        scheduler=args.scheduler,
        progress=not args.no_progress,
    )
    command = "python benchmarks/run.py " + shlex.join(
        sys.argv[1:] if argv is None else list(argv)
    )
    written = write_report(
        rows,
        out,
        jobs=args.jobs,
        scheduler=args.scheduler,
        instances_dir=root,
        command=command,
    )
    print(markdown_table(rows))
    print()
    for s in summarize_rows(rows):
        li_lim = (
            f", Li & Lim vehicles = BKS {s['vehicles_equal']}/"
            f"{s['hierarchical_runs']}, mean gap there "
            f"{_fmt(s['mean_gap_equal_pct'], 2)} %"
            if s["hierarchical_runs"]
            else ""
        )
        print(
            f"{s['solver']}: {s['feasible']}/{s['runs']} feasible, "
            f"mean gap {_fmt(s['mean_gap_pct'], 2)} %, "
            f"mean time {_fmt(s['mean_wall_s'])} s" + li_lim
        )
    print("wrote " + ", ".join(str(p) for p in written.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
