"""The one place where exceptions become HTTP responses ``{code, message, path}``.

| error | HTTP | ``code`` |
| --- | --- | --- |
| request body or parameter fails its schema (pydantic) | 422 | ``invalid_input`` |
| `InvalidProblemError` (path and entity id of the problem) | 422 | ``invalid_input`` |
| `MatrixError`, other `RoutingError` | 422 | ``routing_error`` |
| body that cannot be read (not UTF-8) | 400 | ``bad_request`` |
| missing or unknown API key | 401 | ``unauthorized`` |
| key's role or scope does not allow it | 403 | ``forbidden`` |
| no such plan, job, vehicle, order (or not visible to the key) | 404 | ``not_found`` |
| method the path does not take | 405 | ``method_not_allowed`` |
| job finished, plan not solved yet, delete while solving | 409 | ``conflict`` |
| publishing a plan without routes | 409 | ``not_publishable`` |
| nothing of the day published; a draft (drivers) | 404 | ``not_published`` |
| notice from a draft; ETA, nothing published | 409 | ``not_published`` |
| a plan replaced by a later published one (drivers) | 410 | ``superseded`` |
| notice from a replaced plan | 409 | ``superseded`` |
| body larger than ``max_body_bytes``, too many orders | 413 | ``too_large`` |
| a body that is not ``application/json`` | 415 | ``unsupported_media_type`` |
| job queue full (``Retry-After`` header) | 429 | ``queue_full`` |
| text the database cannot store (NUL, lone surrogate) | 422 | ``invalid_input`` |
| database unavailable | 503 | ``unavailable`` |
| anything unexpected (a bug: please report it) | 500 | ``internal`` |

Infeasibility is not an error: a valid problem gets a plan whose unplanned orders
carry reasons (HTTP 200/201).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.jobs import QueueFull
from routing.domain.errors import InvalidProblemError, RoutingError

logger = logging.getLogger(__name__)

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    410: "gone",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "queue_full",
    503: "unavailable",
}


class ApiError(Exception):
    """An error with its HTTP status and the ``{code, message, path}`` body.

    Parameters
    ----------
    status
        HTTP status code.
    code
        Machine-readable code (see the table above).
    message
        What is wrong, for people.
    path
        Where in the request (e.g. ``problem.orders[3].windows[0]``), else ``""``.
    entity_id
        The id of the depot, vehicle or order concerned, when known.
    headers
        Extra response headers (e.g. ``Retry-After``).
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        path: str = "",
        entity_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.path = path
        self.entity_id = entity_id
        self.headers = headers


def not_found(what: str, ident: str, *, path: str = "") -> ApiError:
    """404 for an unknown (or invisible) resource."""
    return ApiError(404, "not_found", f"{what} {ident!r} not found", path=path)


def forbidden(message: str) -> ApiError:
    """403: the key is valid but may not do this."""
    return ApiError(403, "forbidden", message)


def body(
    code: str, message: str, path: str = "", entity_id: str | None = None
) -> dict[str, Any]:
    """The error body; ``entity_id`` only when known."""
    out: dict[str, Any] = {"code": code, "message": message, "path": path}
    if entity_id is not None:
        out["entity_id"] = entity_id
    return out


def problem_error(exc: InvalidProblemError, prefix: str = "problem") -> ApiError:
    """422 for an invalid problem, its path placed under the request field."""
    path = exc.path
    if prefix:
        path = f"{prefix}.{path}" if path else prefix
    return ApiError(
        422, "invalid_input", exc.message, path=path, entity_id=exc.entity_id
    )


def loc_path(loc: Sequence[int | str]) -> str:
    """``("body", "problem", "orders", 0, "id")`` -> ``problem.orders[0].id``."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _response(
    status: int, content: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(status_code=status, content=content, headers=headers)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return _response(
        exc.status,
        body(exc.code, exc.message, exc.path, exc.entity_id),
        exc.headers,
    )


def _json_error(exc: RequestValidationError, error: Mapping[str, Any]) -> str:
    """A JSON syntax error as text with line and column (FastAPI gives the
    character offset as the error's ``loc``; it is not a field)."""
    loc = error.get("loc", ())
    pos = loc[-1] if loc and isinstance(loc[-1], int) else 0
    doc = exc.body if isinstance(exc.body, str) else ""
    line = doc.count("\n", 0, pos) + 1
    column = pos - doc.rfind("\n", 0, pos)
    reason = (error.get("ctx") or {}).get("error", "JSON decode error")
    return f"the body is not valid JSON: line {line}, column {column}: {reason}"


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    if first.get("type") == "json_invalid":
        return _response(422, body("invalid_input", _json_error(exc, first), "body"))
    path = loc_path(first.get("loc", ()))
    message = str(first.get("msg", "invalid request"))
    if path:
        message = f"{path}: {message}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more error(s))"
    return _response(422, body("invalid_input", message, path))


async def _problem_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidProblemError)
    err = problem_error(exc)
    return _response(422, body(err.code, err.message, err.path, err.entity_id))


async def _routing_error(request: Request, exc: Exception) -> JSONResponse:
    return _response(422, body("routing_error", str(exc)))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, "error")
    return _response(
        exc.status_code,
        body(code, str(exc.detail)),
        dict(exc.headers) if exc.headers else None,
    )


async def _queue_full(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, QueueFull)
    return _response(
        429,
        body("queue_full", str(exc)),
        {"Retry-After": str(exc.retry_after_s)},
    )


async def _unstorable(request: Request, exc: Exception) -> JSONResponse:
    logger.info("refused unstorable input: %s", exc)
    return _response(
        422,
        body(
            "invalid_input",
            "the request holds text that cannot be stored (a NUL character or a "
            "lone surrogate)",
        ),
    )


async def _database_down(request: Request, exc: Exception) -> JSONResponse:
    logger.error("database error: %s", exc)
    return _response(503, body("unavailable", "the database is unavailable"))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unexpected error on %s %s", request.method, request.url.path)
    return _response(500, body("internal", "internal error (a bug: please report it)"))


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(InvalidProblemError, _problem_error)
    app.add_exception_handler(RoutingError, _routing_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(QueueFull, _queue_full)
    app.add_exception_handler(DataError, _unstorable)
    app.add_exception_handler(UnicodeError, _unstorable)
    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(Exception, _unexpected)
