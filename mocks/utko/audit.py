"""The audit log of UTKO's public API: every request and its response (the seed's requirement).

Each entry records when (stand's clock), which replica, the caller's address and ESIA client
system, method, path, query, status, and the first :data:`MAX_BODY_CHARS` characters of the
request and response bodies (``Authorization`` is never recorded). Entries live in a ring of
:data:`CAPACITY` slots shared by all replicas: ``utko:audit:seq`` counts entries and entry ``n``
is ``utko:audit:{n mod CAPACITY}``, so the log stays bounded under load. Read it with
``GET /_gosstand/control/audit`` (:func:`read_audit`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..core.context import context
from ..core.problems import Problem, problem_response

__all__ = ["CAPACITY", "MAX_BODY_CHARS", "audited", "read_audit"]

CAPACITY = 10_000
MAX_BODY_CHARS = 2048
_SEQ = "utko:audit:seq"
Endpoint = Callable[[Request], Awaitable[Response]]


def _slot(sequence: int) -> str:
    return f"utko:audit:{sequence % CAPACITY}"


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
        "requestBody": _text(await request.body()),
        "responseBody": _text(bytes(response.body)) if hasattr(response, "body") else "",
    }
    sequence = await ctx.store.incr(_SEQ)
    entry["seq"] = sequence
    await ctx.store.set(_slot(sequence), json.dumps(entry, ensure_ascii=False))


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
    store = context(request).store
    last = int(await store.get(_SEQ) or 0)
    first = max(1, last - CAPACITY + 1)
    found: list[dict[str, Any]] = []
    end = last
    while end >= first and len(found) < limit:
        start = max(first, end - 499)
        sequences = range(end, start - 1, -1)
        raws = await store.get_many([_slot(n) for n in sequences])
        for sequence, raw in zip(sequences, raws, strict=True):
            entry = None if raw is None else json.loads(raw)
            if entry is None or entry["seq"] != sequence:  # not written yet, or overwritten by a later lap
                continue
            if client_id is not None and entry["clientId"] != client_id:
                continue
            if path is not None and not entry["path"].startswith(path):
                continue
            found.append(entry)
            if len(found) == limit:
                break
        end = start - 1
    return {"items": found[::-1], "recorded": last}
