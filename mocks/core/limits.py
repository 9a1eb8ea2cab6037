"""How much a request may carry: its head (the request target and the header bytes) and, per
route, its body — checked while the body streams, so a replica never holds more than a limit.

- **The body.** :class:`BodyLimits` counts every body chunk the app reads, and the first read
  past the route's limit raises :class:`BodyTooLarge` (413) — at the first read already when
  the ``Content-Length`` announces too much, after at most one chunk past the limit for a
  chunked body or one that lies about its length. Nothing is read ahead: an endpoint that
  answers before reading the body (a 401, say) answers as it would. What is left of a refused
  body is read and dropped, up to 16 MiB, before the answer goes out (so that the client,
  still sending, reads the answer rather than a reset connection: see
  :class:`~.middleware.WholeBody`), and the connection is closed. The limit is the route's
  own, declared where the route is (:class:`LimitedRoute`), or :data:`DEFAULT_BODY_LIMIT`; it is
  looked up when the body is read, after routing, from the route Starlette put in the scope.
  Starlette's own ``max_body_size`` is not used: its 413 is plain text, and it turns any answer
  given before the body was read into that 413, where the mocks answer in problem+json, or in
  ESIA's error form on ESIA's endpoints (the error is a :class:`~.problems.Problem`, rendered by
  each service's handlers).
- **The head.** :class:`RequestHead` answers 414 for a request target (path and query) longer
  than :data:`MAX_TARGET_BYTES` and 431 for headers over :data:`MAX_HEADER_BYTES`, in
  problem+json, before the journal, the fault rules or the app see the request. granian refuses
  larger ones itself (a URI over 64 KiB, more than 100 header fields, or about 400 KiB of
  headers), with an empty body it offers no way to fill; these limits sit below its own so that
  a refusal the stand can shape carries a problem body.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain
from typing import Any

from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .problems import Problem, problem_response

__all__ = ["DEFAULT_BODY_LIMIT", "MAX_HEADER_BYTES", "MAX_TARGET_BYTES", "BodyLimits", "BodyTooLarge",
           "LimitedRoute", "RequestHead", "SEEN_BYTES", "body_limit_of", "body_seen", "declared_length", "head_refusal"]

#: Any route that declares no limit of its own: forms, control calls, small JSON documents.
DEFAULT_BODY_LIMIT = 64 * 1024
#: Path and query together. ESIA's ``ac`` carries a CMS signature with its certificate in the
#: query (a few KiB); granian itself refuses a URI over 64 KiB.
MAX_TARGET_BYTES = 32 * 1024
#: Names and values of every header together (granian's own limit is about 400 KiB).
MAX_HEADER_BYTES = 64 * 1024
#: How much of a body read is kept for :func:`body_seen`.
SEEN_BYTES = 16 * 1024
_SEEN = "gosstand.body_seen"


class BodyTooLarge(Problem):
    """The body is larger than its route takes (413). The connection is not reused: what is
    left of the body is not read."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body may be at most {limit} bytes", headers={"Connection": "close"},
                         maxBodyBytes=limit)
        self.limit = limit


class LimitedRoute(Route):
    """A route that takes a body of up to ``body_limit`` bytes (other routes take
    :data:`DEFAULT_BODY_LIMIT`)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], *, body_limit: int, **options: Any) -> None:
        super().__init__(path, endpoint, **options)
        self.body_limit = body_limit


def body_limit_of(scope: Scope) -> int:
    """The body limit of the route that took the request (the default until one has)."""
    return getattr(scope.get("route"), "body_limit", DEFAULT_BODY_LIMIT)


def body_seen(scope: Scope) -> bytes:
    """The first :data:`SEEN_BYTES` of the body the app has read so far (``b""`` for none)."""
    return bytes(scope.get(_SEEN, b""))


def declared_length(scope: Scope) -> int | None:
    """The request's ``Content-Length``, or ``None`` without one (or with one that is not a number)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class BodyLimits:
    """ASGI middleware: every body read is counted against its route's limit as it streams.

    Bodiless methods pass untouched (no endpoint reads the body of a ``GET``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        declared = declared_length(scope)
        received = 0
        seen = scope[_SEEN] = bytearray()

        async def receive_within_limit() -> Message:
            nonlocal received
            limit = body_limit_of(scope)
            if declared is not None and declared > limit:
                raise BodyTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > limit:
                    raise BodyTooLarge(limit)
                if len(seen) < SEEN_BYTES:
                    seen.extend(chunk[: SEEN_BYTES - len(seen)])
            return message

        await self.app(scope, receive_within_limit, send)


class RequestHead:
    """ASGI middleware: 414 and 431 in problem+json for a request head over the stand's limits."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = head_refusal(scope)
            if problem is not None:
                await problem_response(problem, scope["path"][:256])(scope, receive, send)
                return
        await self.app(scope, receive, send)


def head_refusal(scope: Scope) -> Problem | None:
    """The 414 or 431 a request head over the stand's limits gets, or ``None``."""
    target = len(scope.get("raw_path") or scope["path"]) + len(scope.get("query_string", b""))
    if target > MAX_TARGET_BYTES:
        return Problem(414, f"the request target (path and query) is {target} bytes; at most {MAX_TARGET_BYTES} "
                            "are accepted", headers={"Connection": "close"})
    head = sum(map(len, chain.from_iterable(scope["headers"])))  # names and values, at C speed
    if head > MAX_HEADER_BYTES:
        return Problem(431, f"the request headers are {head} bytes; at most {MAX_HEADER_BYTES} are accepted",
                       headers={"Connection": "close"})
    return None
