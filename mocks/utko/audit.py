"""The audit log of UTKO's public API: every request and its response (the seed's requirement).

Each entry records when (stand's clock), which replica, the caller's address and ESIA client
system, method, path, query, status, and the first :data:`MAX_BODY_CHARS` characters of the
request body as the endpoint read it (nothing of a body it refused unread) and of the response
body (``Authorization`` is never recorded). Entries live in a ring of
:data:`CAPACITY` slots shared by all replicas (:class:`~gosstand.mocks.core.ring.Ring`), so the
log stays bounded under load. Read it with ``GET /_gosstand/control/audit`` (:func:`read_audit`).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..core.context import context
from ..core.limits import body_seen
from ..core.problems import Problem, problem_response
from ..core.ring import Ring

__all__ = ["CAPACITY", "MAX_BODY_CHARS", "audited", "read_audit"]

CAPACITY = 10_000
MAX_BODY_CHARS = 2048
Endpoint = Callable[[Request], Awaitable[Response]]


def _ring(request: Request) -> Ring:
    return Ring(context(request).store, "utko:audit", CAPACITY)


def _text(raw: bytes) -> str:
    return raw[: MAX_BODY_CHARS * 4].decode("utf-8", "replace")[:MAX_BODY_CHARS]


async def _record(request: Request, response: Response) -> None:
    ctx = context(request)
    identity = getattr(request.state, "identity", None)
    entry: dict[str, Any] = {
        "at": await ctx.clock.now(),
        "replica": ctx.settings.replica,
        "clientAddress": request.client.host if request.client else None,
        "clientId": identity.client_id if identity else None,
        "oid": identity.oid if identity else None,
        "method": request.method,
        "path": request.url.path,
        "query": request.url.query,
        "status": response.status_code,
        "requestBody": _text(body_seen(request.scope)),
        "responseBody": _text(bytes(response.body)) if hasattr(response, "body") else "",
    }
    await _ring(request).append(entry)


def audited(endpoint: Endpoint) -> Endpoint:
    """``endpoint`` with its request and answer (problems included) written to the audit log."""

    @functools.wraps(endpoint)
    async def logged(request: Request) -> Response:
        try:
            response = await endpoint(request)
        except Problem as problem:
            response = problem_response(problem, request.url.path)
        await _record(request, response)
        return response

    return logged


async def read_audit(request: Request, *, limit: int, client_id: str | None, path: str | None) -> dict[str, Any]:
    """The newest ``limit`` entries (oldest first) among the ring, filtered by client and path prefix."""

    def wanted(entry: dict[str, Any]) -> bool:
        return (client_id is None or entry["clientId"] == client_id) and (
            path is None or entry["path"].startswith(path))

    found, last = await _ring(request).newest(limit, wanted)
    return {"items": found, "recorded": last}
