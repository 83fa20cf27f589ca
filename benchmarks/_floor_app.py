"""A server that does nothing: the floor of the service read benchmark.

A raw ASGI app answering every request with the same small JSON body, served by
uvicorn exactly like the service (``benchmarks/service_reads.py``): what its
concurrent latencies show is the client's and the HTTP server's own cost, with
no routing, authentication, database or serialisation.
"""

from __future__ import annotations

from typing import Any

BODY = b'{"plans": []}'


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answer 200 with `BODY` (lifespan and other events are ignored)."""
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": BODY})
