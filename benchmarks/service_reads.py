"""Service read benchmark: 100 concurrent list and driver-stop reads against a
live server on loopback, on a database holding 1,000 plans.

Protocol (issue 12 point 8):

1. A new database (a SQLite file, or a new schema of the PostgreSQL database
   given with ``--postgres``) is migrated and filled with ``--plans`` plans
   (default 1,000) of ``--scenario`` (default ``andorra_weekday.json``, 120 orders,
   8 vans), solved once (``--time-limit``) and stored under different days: 10
   plans a day, one of them published, the newest day being today; the service's
   own ORM writes them, so the summary columns are those a live service stores.
2. ``uvicorn api.app:create_app --factory`` (one process, as deployed) is started
   on 127.0.0.1 with that database (no warm worker: no job runs).
3. For each read, first ``--single`` requests one after another (the "single"
   latency: their median), then ``--rounds`` rounds of ``--concurrency``
   requests sent at once (one connection each, httpx + asyncio); p50/p95/max of
   the concurrent latencies are reported against the single median.

Reads: ``GET /v1/plans?limit=50`` (a dispatcher key) and ``GET /v1/driver/stops``
(driver keys of the published plan's vans, round robin). Latency is wall clock
from sending the request to reading the whole body, on the client.

Usage::

    python -m benchmarks.service_reads --out benchmarks/results/service-reads-sqlite.md
    python -m benchmarks.service_reads \\
        --postgres postgresql://postgres@127.0.0.1:5432/test \\
        --out benchmarks/results/service-reads-postgres.md
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

PLANS_PER_DAY = 10
"""Plans stored per day (re-plans and what-if drafts of a dispatch office)."""


def _solve(
    scenario: Path, time_limit_s: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The scenario and one plan of it, as the service stores them."""
    from routing.formats import plan_to_dict, problem_from_dict
    from routing.geo.providers import build_travel
    from routing.solver import SolveOptions, solve

    data = json.loads(scenario.read_text(encoding="utf-8"))
    problem = problem_from_dict(data)
    plan = solve(
        problem, build_travel(problem), options=SolveOptions(time_limit_s=time_limit_s)
    )
    return data, plan_to_dict(plan, problem)


def fill(
    url: str, *, plans: int, scenario: Path, time_limit_s: float, today: str
) -> tuple[str, list[str], int]:
    """Migrate and fill the database; a dispatcher key, driver keys, and the
    bytes stored per plan (problem + plan JSON)."""
    from api.auth import create_key
    from api.db import Database, JobRow, PlanDepotRow, PlanRow, new_id, now

    problem, plan = _solve(scenario, time_limit_s)
    db = Database(url)
    db.upgrade()
    depots = sorted({d["id"] for d in problem["depots"]})
    vehicles = [v["id"] for v in problem["vehicles"]]
    day0 = dt.date.fromisoformat(today)
    created = now() - dt.timedelta(days=plans // PLANS_PER_DAY + 1)
    batch: list[Any] = []  # plans first (no ORM relationships order the inserts)
    children: list[Any] = []
    for k in range(plans):
        day = (day0 - dt.timedelta(days=k // PLANS_PER_DAY)).isoformat()
        created += dt.timedelta(seconds=30)
        is_published = k % PLANS_PER_DAY == 0
        plan_id = new_id()
        row = PlanRow(
            id=plan_id,
            created_at=created,
            name=f"{problem.get('name', 'day')} #{k}",
            day=day,
            status=str(plan["status"]),
            kind="solve",
            lineage_id=plan_id,
            problem={**problem, "date": day},
            plan=plan,
            cost=float(plan["totals"]["cost"]),
            orders=len(problem["orders"]),
            unplanned=len(plan.get("unplanned", [])),
            published_at=created if is_published else None,
            published_by="bench" if is_published else None,
        )
        batch.append(row)
        children += [PlanDepotRow(plan_id=plan_id, depot_id=d) for d in depots]
        children.append(
            JobRow(
                id=new_id(),
                kind="solve",
                state="succeeded",
                plan_id=plan_id,
                depots=depots,
                request={"options": {"time_limit_s": time_limit_s}},
                time_limit_s=time_limit_s,
                attempts=1,
                is_resumable=False,
                created_at=created,
                finished_at=created,
            )
        )
        if len(batch) >= 100 or k == plans - 1:
            with db.session() as session:
                session.add_all(batch)
                session.flush()
                session.add_all(children)
            batch, children = [], []
    dispatcher = create_key(db, "dispatcher", name="bench")
    drivers = [create_key(db, "driver", vehicle_id=v) for v in vehicles]
    db.dispose()
    size = len(json.dumps(problem)) + len(json.dumps(plan))
    return dispatcher, drivers, size


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    url: str,
    port: int,
    log: Path,
    *,
    root: Path = REPO_ROOT,
    app: Sequence[str] = ("api.app:create_app", "--factory"),
) -> subprocess.Popen[bytes]:
    """uvicorn on 127.0.0.1:port with the database, the service code of the
    checkout ``root`` (another one: not migrated); waits for /v1/health.
    ``app``: uvicorn's app arguments (`floor` serves ``benchmarks._floor_app``)."""
    import httpx

    env = {
        **os.environ,
        "ROUTING_DATABASE_URL": url,
        "ROUTING_WARM_WORKER": "false",
        "ROUTING_LOG_LEVEL": "WARNING",
        "ROUTING_MIGRATE_ON_START": str(root == REPO_ROOT).lower(),
        "PYTHONPATH": str(root),
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                *app,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
                # Rounds may last longer than uvicorn's 5 s keep-alive: a pooled
                # connection closed by the server while reused is a ReadError.
                "--timeout-keep-alive",
                "300",
            ],
            cwd=root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health").status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start within 60 s")


async def _timed(client: Any, path: str, key: str) -> float:
    start = time.perf_counter()
    r = await client.get(path, headers={"X-API-Key": key})
    elapsed = time.perf_counter() - start
    if r.status_code != 200:
        raise RuntimeError(f"{path}: {r.status_code} {r.text[:300]}")
    return elapsed


async def measure(
    base: str, path: str, keys: Sequence[str], *, single: int, rounds: int, n: int
) -> dict[str, float]:
    """Single-request median, then ``rounds`` x ``n`` requests at once."""
    import httpx

    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:
        for k in range(3):  # warm-up: connections, caches
            await _timed(client, path, keys[k % len(keys)])
        alone = [await _timed(client, path, keys[k % len(keys)]) for k in range(single)]
        together: list[float] = []
        for _ in range(rounds):
            together += await asyncio.gather(
                *(_timed(client, path, keys[k % len(keys)]) for k in range(n))
            )
    q = statistics.quantiles(together, n=100)
    one = statistics.median(alone)
    return {
        "single_ms": 1000 * one,
        "p50_ms": 1000 * q[49],
        "p95_ms": 1000 * q[94],
        "max_ms": 1000 * max(together),
        "ratio": q[94] / one,
        "requests": len(together),
    }


def _pg_schema(base: str) -> tuple[str, str]:
    from sqlalchemy import create_engine, text

    plain = base.replace("postgresql://", "postgresql+psycopg://", 1)
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(plain)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    sep = "&" if "?" in plain else "?"
    return f"{plain}{sep}options=-csearch_path%3D{schema}", schema


def _drop_pg_schema(base: str, schema: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def run(args: argparse.Namespace) -> str:
    """Fill, serve, measure; the Markdown report."""
    from api.settings import Settings
    from api.store import today

    day = today(Settings())
    work = Path(tempfile.mkdtemp(prefix="service-reads-"))
    schema = ""
    if args.postgres:
        url, schema = _pg_schema(args.postgres)
        backend = "PostgreSQL"
    else:
        url = f"sqlite:///{work / 'bench.sqlite3'}"
        backend = "SQLite (WAL)"
    t0 = time.perf_counter()
    dispatcher, drivers, size = fill(
        url,
        plans=args.plans,
        scenario=args.scenario,
        time_limit_s=args.time_limit,
        today=day,
    )
    fill_s = time.perf_counter() - t0
    port = _free_port()
    root = args.server_root.resolve() if args.server_root else REPO_ROOT
    server = start_server(url, port, work / "server.log", root=root)
    results: dict[str, dict[str, float]] = {}
    try:
        base = f"http://127.0.0.1:{port}"
        reads = {
            "GET /v1/plans?limit=50": ("/v1/plans?limit=50", [dispatcher]),
            "GET /v1/driver/stops": ("/v1/driver/stops", drivers),
        }
        for name, (path, keys) in reads.items():
            results[name] = asyncio.run(
                measure(
                    base,
                    path,
                    keys,
                    single=args.single,
                    rounds=args.rounds,
                    n=args.concurrency,
                )
            )
            print(name, {k: round(v, 1) for k, v in results[name].items()})
    finally:
        server.terminate()
        server.wait(timeout=30)
        if schema:
            _drop_pg_schema(args.postgres, schema)
    if args.floor:
        results[FLOOR] = floor(work, args)
        print(FLOOR, {k: round(v, 1) for k, v in results[FLOOR].items()})
    lines = [
        f"# Service reads: {args.concurrency} concurrent requests, {backend}",
        "",
        f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {platform.processor() or platform.machine()}, nproc "
        f"{os.cpu_count()}, {platform.system()} {platform.machine()}; client and "
        "server on the same machine (loopback)",
        f"- python {platform.python_version()}; server: one uvicorn process "
        "(`api.app:create_app --factory`), no access log; service code: "
        + (
            f"`{args.server_root}` (`{_commit(root)}`)"
            if args.server_root
            else f"this checkout (`{_commit(root)}`)"
        ),
        "- command: `"
        + " ".join(["python -m benchmarks.service_reads", *args.argv])
        + "`",
        f"- database: {backend}, {args.plans} plans of `{args.scenario.name}` "
        f"({size / 1e3:.0f} kB of problem + plan JSON each, "
        f"{PLANS_PER_DAY} a day, one published a day), filled in {fill_s:.0f} s",
        f"- single: median of {args.single} sequential requests; concurrent: "
        f"{args.rounds} rounds of {args.concurrency} requests sent at once "
        "(one connection each)",
        "",
        "| read | single (ms) | p50 (ms) | p95 (ms) | max (ms) | p95 / single "
        "| requests |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in results.items():
        label = name if name == FLOOR else f"`{name}`"
        lines.append(
            f"| {label} | {r['single_ms']:.1f} | {r['p50_ms']:.0f} | "
            f"{r['p95_ms']:.0f} | {r['max_ms']:.0f} | {r['ratio']:.1f} | "
            f"{int(r['requests'])} |"
        )
    if FLOOR in results:
        lines += [
            "",
            "The floor row is the same client against a server that does nothing "
            "(`benchmarks/_floor_app.py`: raw ASGI, a constant 13-byte body, the "
            "same uvicorn settings): no routing, key check, database or JSON. Its "
            "p95 / single is what this machine's client and HTTP server cost "
            "alone when 100 requests arrive at once on 2 cores; a read can "
            "approach it, not go below it.",
        ]
    return "\n".join(lines) + "\n"


FLOOR = "floor: a server that does nothing"


def floor(work: Path, args: argparse.Namespace) -> dict[str, float]:
    """The read protocol against `benchmarks._floor_app` (same client, same
    uvicorn settings): the latency the machine adds before any service code."""
    port = _free_port()
    server = start_server(
        "sqlite://",
        port,
        work / "floor.log",
        app=("benchmarks._floor_app:app",),
    )
    try:
        return asyncio.run(
            measure(
                f"http://127.0.0.1:{port}",
                "/v1/plans",
                ["floor"],
                single=args.single,
                rounds=args.rounds,
                n=args.concurrency,
            )
        )
    finally:
        server.terminate()
        server.wait(timeout=30)


def _commit(root: Path) -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown commit"
    dirty = subprocess.run(
        ["git", "-C", str(root), "diff", "--quiet", "--", "api"], check=False
    ).returncode
    return out.stdout.strip() + (" + uncommitted api/ changes" if dirty else "")


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=1000)
    parser.add_argument(
        "--scenario",
        type=Path,
        default=REPO_ROOT / "scenarios" / "andorra_weekday.json",
    )
    parser.add_argument("--time-limit", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--single", type=int, default=30)
    parser.add_argument(
        "--postgres", default=None, help="PostgreSQL URL (a schema is made and dropped)"
    )
    parser.add_argument(
        "--server-root",
        type=Path,
        default=None,
        help="serve with the api/ of another checkout (e.g. a git worktree of an "
        "older commit, to compare); the database is filled by this one",
    )
    parser.add_argument(
        "--no-floor",
        dest="floor",
        action="store_false",
        help="skip the floor: the same reads against a server that does nothing",
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    args.argv = list(argv if argv is not None else sys.argv[1:])
    report = run(args)
    print(report)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
