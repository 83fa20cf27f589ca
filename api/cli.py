"""The ``routing-api`` command: serve, migrate, create-key, revoke-key."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any

from api.auth import ROLES, create_key, revoke_key
from api.db import Database, check_database
from api.settings import Settings


def _open(args: argparse.Namespace, settings: Settings) -> Database:
    """The database of the settings. A missing SQLite file is created only with
    ``--create`` / ROUTING_CREATE_DATABASE, or when it is the default file (no
    ROUTING_DATABASE_URL or ROUTING_DATABASE_PATH given: the first run of the
    README); a configured path that does not exist is refused."""
    is_default = not settings.model_fields_set & {"database_url", "database_path"}
    create = settings.create_database or getattr(args, "create", False) or is_default
    check_database(settings.url, create=create)
    return Database(settings.url)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from api.app import create_app

    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    _open(args, settings).dispose()
    app = create_app(settings)

    class Server(uvicorn.Server):
        """uvicorn, and on SIGTERM/SIGINT the job runner stops taking jobs at
        once: running jobs and open requests share one `stop_grace_s`."""

        def handle_exit(self, sig: int, frame: Any) -> None:
            runner = getattr(app.state, "runner", None)
            if runner is not None:
                runner.begin_stop()
            super().handle_exit(sig, frame)

    # On SQLite one process owns the job queue (scale solves with ROUTING_WORKERS
    # or Dask); on PostgreSQL any number of these share it.
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=max(1, round(settings.stop_grace_s)),
    )
    Server(config).run()
    return 0


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    db = _open(args, settings)
    db.upgrade()
    sys.stdout.write(f"schema at revision {db.revision()}\n")
    db.dispose()
    return 0


def _create_key(args: argparse.Namespace, settings: Settings) -> int:
    db = _open(args, settings)
    db.upgrade()
    depots = args.depot or None
    key = create_key(
        db, args.role, name=args.name, depots=depots, vehicle_id=args.vehicle
    )
    db.dispose()
    sys.stderr.write("store this key now; it is not shown again:\n")
    sys.stdout.write(key + "\n")
    return 0


def _revoke_key(args: argparse.Namespace, settings: Settings) -> int:
    check_database(settings.url, create=False)
    db = Database(settings.url)
    is_done = revoke_key(db, args.key_id)
    db.dispose()
    if not is_done:
        sys.stderr.write(f"no key with id {args.key_id!r}\n")
        return 1
    return 0


CREATE_HELP = (
    "create the SQLite file if it does not exist (as ROUTING_CREATE_DATABASE=true); "
    "without it only the default routing-api.db is created"
)
"""Help of ``--create``."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``routing-api``."""
    parser = argparse.ArgumentParser(
        prog="routing-api",
        description="The routing service. Settings come from ROUTING_* variables "
        "(e.g. ROUTING_DATABASE_URL, ROUTING_DASK_SCHEDULER).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="run the HTTP service (uvicorn)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--create", action="store_true", help=CREATE_HELP)
    p.set_defaults(func=_serve)
    p = sub.add_parser("migrate", help="bring the database schema up to date")
    p.add_argument("--create", action="store_true", help=CREATE_HELP)
    p.set_defaults(func=_migrate)
    p = sub.add_parser("create-key", help="create an API key and print it once")
    p.add_argument("role", choices=ROLES)
    p.add_argument("--name", default="", help="who or what uses it")
    p.add_argument(
        "--depot",
        action="append",
        help="limit to this depot (repeatable); default: every depot",
    )
    p.add_argument("--vehicle", help="the driver's vehicle id (driver keys)")
    p.add_argument("--create", action="store_true", help=CREATE_HELP)
    p.set_defaults(func=_create_key)
    p = sub.add_parser("revoke-key", help="revoke a key by its id (rk_<id>_...)")
    p.add_argument("key_id")
    p.set_defaults(func=_revoke_key)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (2 for bad arguments or settings)."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
        code: int = args.func(args, settings)
    except ValueError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    return code


if __name__ == "__main__":
    raise SystemExit(main())
