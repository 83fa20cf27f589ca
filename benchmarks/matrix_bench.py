"""Matrix benchmark: time Haversine on random points (and Geodesic for comparison)
and write the figures to ``benchmarks/results/matrix.md``.

Usage::

    python benchmarks/matrix_bench.py                  # 1000, 2000, 5000 points
    python benchmarks/matrix_bench.py --sizes 1000 --repeat 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from routing.domain.model import Location
from routing.geo import Geodesic, Haversine, TravelMatrix

BOX = (42.40, 42.66, 1.40, 1.78)
"""lat_min, lat_max, lon_min, lon_max: a 30 km x 30 km delivery area (Andorra).
Haversine's cost does not depend on where the points are; geodesic's hardly does."""

DEFAULT_OUTPUT = Path(__file__).parent / "results" / "matrix.md"


def random_locations(n: int, rng: np.random.Generator) -> list[Location]:
    """``n`` uniform random places inside `BOX`."""
    lat = rng.uniform(BOX[0], BOX[1], n)
    lon = rng.uniform(BOX[2], BOX[3], n)
    return [Location(float(a), float(b)) for a, b in zip(lat, lon, strict=True)]


def best_of(repeat: int, run: Callable[[], TravelMatrix]) -> tuple[float, TravelMatrix]:
    """The fastest of ``repeat`` wall-clock timings of ``run`` (s), and its result."""
    best = float("inf")
    result = run()  # warm-up: imports, allocator, caches
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo, or the platform's guess."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and write the Markdown report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 5000])
    parser.add_argument("--geodesic-size", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5, help="timings per size")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)

    rows: list[tuple[str, int, float, float]] = []
    for n in args.sizes:
        places = random_locations(n, rng)
        build = functools.partial(Haversine().build, places, profile="van")
        seconds, _ = best_of(args.repeat, build)
        rows.append(("Haversine", n, seconds, seconds / (n * n) * 1e9))
        print(f"Haversine {n:>5} points: {seconds * 1000:9.1f} ms", flush=True)

    n = args.geodesic_size
    places = random_locations(n, rng)
    seconds, slow = best_of(
        args.repeat, lambda: Geodesic().build(places, profile="van")
    )
    rows.append(("Geodesic", n, seconds, seconds / (n * n) * 1e9))
    print(f"Geodesic  {n:>5} points: {seconds * 1000:9.1f} ms", flush=True)
    seconds, fast = best_of(
        args.repeat, lambda: Haversine().build(places, profile="van")
    )
    rows.append(("Haversine", n, seconds, seconds / (n * n) * 1e9))
    off = ~np.eye(n, dtype=bool)
    deviation = np.abs(fast.distances_m[off] / slow.distances_m[off] - 1.0).max()

    command = " ".join(
        ["python benchmarks/matrix_bench.py", *(sys.argv[1:] if argv is None else argv)]
    )
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    lines = [
        "# Travel-matrix benchmark",
        "",
        f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {cpu_model()}, nproc {os.cpu_count()} "
        f"(usable by this process: {affinity}), {platform.system()} "
        f"{platform.machine()}",
        f"- python {platform.python_version()}, numpy {np.__version__}",
        f"- command: `{command}`",
        f"- points: uniform in lat {BOX[0]}..{BOX[1]}, lon {BOX[2]}..{BOX[3]} "
        f"(seed {args.seed}); one profile (van 30 km/h, detour 1.3)",
        f"- timing: wall clock of `provider.build(...)`, best of {args.repeat} after "
        "one warm-up run; includes building the read-only int64 `TravelMatrix` "
        "(validation and copies), not just the distance kernel",
        "- numpy element-wise operations run on one core, so nproc does not matter "
        "here",
        "",
        "| provider | points | time (ms) | ns per matrix cell |",
        "| --- | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {name} | {n} | {seconds * 1000:.1f} | {per_pair:.1f} |"
        for name, n, seconds, per_pair in rows
    ]
    lines += [
        "",
        f"Largest Haversine/Geodesic distance ratio deviation on the "
        f"{args.geodesic_size} points (both with detour 1.3): {deviation:.4%}.",
        "",
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
