"""A lean front door for the few reads that load runs send thousands of times a second.

Starlette's middleware and router cost about as much per request as a whole bare ASGI answer,
which caps a person or status read at a fraction of the server's rate. The hot path sits in
front of the app and answers only the plain, successful form of such a read (a ``GET`` whose
path matches exactly, a valid token, a record that needs no write to be read). Whenever a hot
route cannot answer that way it *declines* — returns ``None`` or raises — and the request goes
on to the full app, which answers exactly as it would have without the hot path. Errors
therefore have one implementation, and a hot route only has to agree with its full route on
success: the tests compare the two byte for byte.

A hot route never reads the request body, so declining after looking at a request is safe.
``GOSSTAND_HOT_PATH=0`` turns the hot path off (to measure it, or to rule it out).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from .bearer import Identity, TokenVerifier, authorize
from .clock import Clock
from .middleware import REPLICA_HEADER

#: Where a hot answer leaves its route's template for the metrics (:mod:`.metrics` reads it).
ROUTE_KEY = "gosstand.route"

__all__ = ["HotAnswer", "HotPath", "HotRequest", "HotRoute", "bearer_token", "caller", "compact_json"]


@dataclass(frozen=True, slots=True)
class HotRequest:
    """What a hot route may look at: the path's captured groups, the raw query and headers."""

    groups: tuple[str, ...]
    query: bytes
    headers: Sequence[tuple[bytes, bytes]]

    def header(self, name: bytes) -> bytes | None:
        """The first value of header ``name`` (lower case, as ASGI delivers names)."""
        for key, value in self.headers:
            if key == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
class HotAnswer:
    """A successful answer, already rendered."""

    body: bytes
    content_type: bytes = b"application/json"
    status: int = 200


HotHandler = Callable[[HotRequest], Awaitable[HotAnswer | None]]


@dataclass(frozen=True, slots=True)
class HotRoute:
    """``GET`` requests whose whole path matches ``pattern`` are offered to ``answer`` first."""

    pattern: str
    answer: HotHandler
    #: The route's template as the full app declares it (``/rs/prns/{oid}``), for the metrics.
    template: str


def bearer_token(value: bytes | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header value, or ``None``."""
    if value is None:
        return None
    scheme, _, token = value.partition(b" ")
    token = token.strip()
    if scheme.lower() != b"bearer" or not token:
        return None
    try:
        return token.decode("ascii")
    except UnicodeDecodeError:
        return None


async def caller(
    request: HotRequest, verifier: TokenVerifier, clock: Clock, scopes: tuple[str, ...]
) -> tuple[Identity, float] | None:
    """The caller of a hot route and the mock's ``now``, or ``None`` without a Bearer token;
    an invalid, expired or under-scoped token raises (the route declines)."""
    token = bearer_token(request.header(b"authorization"))
    if token is None:
        return None
    identity = verifier.identity(token)
    now = await clock.now()
    authorize(identity, now, scopes)
    return identity, now


def compact_json(content: Any) -> bytes:
    """The bytes Starlette's ``JSONResponse`` renders for ``content`` (so both paths agree)."""
    return json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()


class HotPath:
    """ASGI middleware: offer matching ``GET`` requests to their hot route, else to ``app``."""

    def __init__(self, app: ASGIApp, *, routes: Sequence[HotRoute], replica: str) -> None:
        self.app = app
        self.routes = [(re.compile(route.pattern), route.answer, route.template) for route in routes]
        self.replica = (REPLICA_HEADER.encode(), replica.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            answer = await self._try(scope)
            if answer is not None:
                await send({
                    "type": "http.response.start",
                    "status": answer.status,
                    "headers": [
                        (b"content-length", str(len(answer.body)).encode()),
                        (b"content-type", answer.content_type),
                        self.replica,
                    ],
                })
                await send({"type": "http.response.body", "body": answer.body})
                return
        await self.app(scope, receive, send)

    async def _try(self, scope: Scope) -> HotAnswer | None:
        path = scope["path"]
        for pattern, handler, template in self.routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            request = HotRequest(match.groups(), scope["query_string"], scope["headers"])
            try:
                answer = await handler(request)
            except Exception:  # noqa: BLE001 — declining: the full app answers, and reports, instead
                return None
            if answer is not None:
                scope[ROUTE_KEY] = template
            return answer
        return None
