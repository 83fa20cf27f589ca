"""create_app(settings): the FastAPI service (nothing runs at import time)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import contract, errors, store
from api.db import Database, check_database
from api.jobs import JobRunner
from api.retention import RetentionSweeper
from api.routes import drivers, eta, health, jobs, plans, replan, validate, whatif
from api.settings import Settings

logger = logging.getLogger(__name__)

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
"""Example problems shown in the OpenAPI document (when the folder is there)."""

DESCRIPTION = """
Plans delivery days with the routing engine: plans are stored, long solves run as
jobs, drivers fetch their stop lists, dispatchers re-plan during the day and
planners compare what-if variants.

## Conventions
- Every request carries an API key in the `X-API-Key` header. Roles: `dispatcher`
  (everything for their depots), `planner` (what-if, validate, read plans),
  `driver` (only their own vehicle's stop list in today's plans).
- Problems use the scenario format of `scenarios/README.md`: times are `"HH:MM"`
  or seconds since midnight, durations seconds, coordinates `{"lat", "lon"}`,
  windows `[start, end]` inclusive, quantities integer vectors named once.
- Responses give times in seconds (`arrival_s`) and as clock text (`arrival`),
  distances in meters, money as plain numbers.
- Creating a plan, re-planning and what-if wait up to `wait_s` seconds (query;
  default 2): finished in time, the answer is the result (201/200); otherwise
  `202` with a job to poll at `GET /v1/jobs/{id}` (progress: best cost so far,
  elapsed seconds) and cancel with `POST /v1/jobs/{id}/cancel`. A job whose
  worker process died (killed, crashed) also answers `202`: the job, `failed`
  with `is_resumable` and `links.resume` (`POST /v1/jobs/{id}/resume`).
- An order that cannot be served is not an error: the plan lists it unplanned,
  with a reason.
- Plans and re-plans are drafts (`state`) until published with
  `POST /v1/plans/{id}/publish`; drivers' lists and customers' ETAs come only
  from the published plan of their day (one per day and depot; publishing
  supersedes the one before).

## Errors
Every error is `{"code", "message", "path"}` (+ `"entity_id"` when known):

| HTTP | `code` | when |
| --- | --- | --- |
| 400 | `bad_request` | the body cannot be read (e.g. not UTF-8) |
| 401 | `unauthorized` | missing or unknown API key |
| 403 | `forbidden` | the key's role or depots do not allow it |
| 404 | `not_found` | no such plan, job, vehicle or order for this key |
| 404 | `not_published` | drivers: no plan of today published yet, or a draft |
| 405 | `method_not_allowed` | the path does not take this method |
| 409 | `not_published` | notice from a draft; ETA of a day with nothing published |
| 409 | `superseded` | notice from a plan a later published plan replaced |
| 410 | `superseded` | drivers: a plan a later published plan replaced |
| 409 | `not_publishable` | publish a plan without routes (solving, failed, ...) |
| 409 | `conflict` | job already ended; plan not solved yet; delete while solving |
| 409 | `not_planned` | the order has no ETA: it is not planned |
| 413 | `too_large` | body above the size limit; too many orders or variants |
| 415 | `unsupported_media_type` | a body that is not `application/json` |
| 422 | `invalid_input` | `path` names the field, `entity_id` the order (or depot...) |
| 422 | `routing_error` | travel data cannot be built |
| 429 | `queue_full` | the job queue is full: retry after `Retry-After` seconds |
| 500 | `internal` | a bug: please report it |
"""

_EXAMPLE_OPERATIONS = {
    ("/v1/plans", "post"): "plan",
    ("/v1/validate", "post"): "validate",
    ("/v1/whatif", "post"): "whatif",
}


class BodyLimit:
    """Answers 413 to bodies above ``max_bytes`` (declared or streamed), before
    any handler reads them."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_bytes
            except ValueError:
                too_big = False
            if too_big:
                await self._reject(send)
                return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._reject(send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        await self.app(
            scope,
            _replay(
                [
                    {
                        "type": "http.request",
                        "body": b"".join(chunks),
                        "more_body": False,
                    }
                ],
                receive,
            ),
            send,
        )

    async def _reject(self, send: Send) -> None:
        content = json.dumps(
            errors.body(
                "too_large", f"request body exceeds {self.max_bytes} bytes", "body"
            )
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(content)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": content})


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    queue = list(messages)

    async def receive() -> Message:
        if queue:
            return queue.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive


def _examples() -> dict[str, dict[str, Any]]:
    """Request examples built from ``scenarios/tutorial.json`` (if present)."""
    path = SCENARIOS / "tutorial.json"
    try:
        problem = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    depot = problem["depots"][0]["id"]
    vehicle = problem["vehicles"][0]["id"]
    return {
        "plan": {
            "tutorial": {
                "summary": "scenarios/tutorial.json, 2 s",
                "value": {"problem": problem, "time_limit_s": 2},
            }
        },
        "validate": {
            "tutorial": {
                "summary": "scenarios/tutorial.json",
                "value": {"problem": problem},
            }
        },
        "whatif": {
            "tutorial": {
                "summary": "scenarios/tutorial.json: one van less, slots +30 min",
                "value": {
                    "problem": problem,
                    "time_limit_s": 2,
                    "variants": [
                        {"name": "one van less", "remove_vehicles": [vehicle]},
                        {"name": "slots +30 min", "widen_slots_s": 1800},
                        {"name": "depot closed", "close_depots": [depot]},
                    ],
                },
            }
        },
    }


def _install_openapi(app: FastAPI, settings: Settings) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        contract.install(schema, max_orders=settings.max_orders)
        examples = _examples()
        for (path, method), name in _EXAMPLE_OPERATIONS.items():
            operation = schema.get("paths", {}).get(path, {}).get(method)
            if operation is None or name not in examples:
                continue
            content = operation["requestBody"]["content"]["application/json"]
            content["examples"] = examples[name]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


DOCS_ASSETS = "/docs/assets"
"""Where Swagger UI and ReDoc are served from: the files of the fastapi-offline
package (Swagger UI 5, ReDoc), so that /docs works without internet."""


def _install_docs(app: FastAPI) -> None:
    """``/docs`` (Swagger UI) and ``/redoc`` pages whose scripts, styles and
    icon are served by the service itself, not a CDN."""
    import fastapi_offline
    from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    assets = Path(fastapi_offline.__file__).resolve().parent / "static"
    app.mount(DOCS_ASSETS, StaticFiles(directory=assets), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}/openapi.json",
            title=f"{app.title} - API reference",
            swagger_js_url=f"{root}{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png",
            oauth2_redirect_url=None,
            # No badge from the public validator service (an outside request).
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}/openapi.json",
            title=f"{app.title} - API reference",
            redoc_js_url=f"{root}{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png",
            with_google_fonts=False,
        )


def _safe_parameters(request: Request) -> None:
    """422 for path or query values no database can store (NUL, lone surrogate),
    the same on every backend."""
    for name, value in [*request.path_params.items(), *request.query_params.items()]:
        store.check_text(value, name)


def _json_bodies(request: Request) -> None:
    """415 for a body that says it is not JSON (every body of the API is JSON),
    instead of a 422 about a missing object."""
    declared = request.headers.get("content-type")
    has_body = request.headers.get("content-length", "0") not in ("", "0") or (
        "transfer-encoding" in request.headers
    )
    if declared is None or not has_body:
        return
    media = declared.split(";", 1)[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise errors.ApiError(
            415,
            "unsupported_media_type",
            f"the body is {media or 'of no type'}; send application/json",
            path="body",
        )


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service: routes, error handlers, and a lifespan that migrates the
    database, starts the job runner and recovers interrupted jobs.

    Parameters
    ----------
    settings
        Default: read from the environment (``ROUTING_*``).
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # A second lifespan on a running app (another in-process test client)
        # shares the running database and runner rather than replacing them.
        if getattr(app.state, "lifespans", 0):
            app.state.lifespans += 1
            try:
                yield
            finally:
                app.state.lifespans -= 1
            return
        app.state.lifespans = 1
        # A missing SQLite file is refused (a mistyped path would otherwise
        # start an empty service that says it is ready).
        check_database(settings.url, create=settings.create_database)
        db = Database(settings.url)
        if settings.migrate_on_start:
            db.upgrade()
        runner = JobRunner(db, settings)
        app.state.db = db
        app.state.runner = runner
        runner.start()
        sweeper = RetentionSweeper(db, settings)  # ROUTING_RETENTION_DAYS
        sweeper.start()
        logger.info("routing service ready (%s)", db.engine.url.render_as_string())
        try:
            yield
        finally:
            app.state.lifespans = 0
            sweeper.stop()
            runner.stop()
            db.dispose()

    app = FastAPI(
        title="routing",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(_safe_parameters), Depends(_json_bodies)],
        docs_url=None,  # served from local assets: _install_docs
        redoc_url=None,
    )
    app.state.settings = settings
    errors.install(app)
    for module in (health, plans, jobs, drivers, eta, replan, whatif, validate):
        app.include_router(module.router)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    _install_openapi(app, settings)
    _install_docs(app)
    return app
