"""ASGI middleware shared by every mock. Pure ASGI (no BaseHTTPMiddleware): these run on
every request, and the cheap read endpoints must stay within half of a bare ASGI app's rate."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .limits import declared_length
from .problems import problem_response, unexpected

REPLICA_HEADER = "x-gosstand-replica"
#: The stand's own paths (health, contract, control API): never faulted, never journaled.
RESERVED_PREFIX = "/_gosstand"

logger = logging.getLogger(__name__)


class ReplicaHeader:
    """Names the replica that served each response, so load reports can say who answered."""

    def __init__(self, app: ASGIApp, *, replica: str) -> None:
        self.app = app
        self.header = (REPLICA_HEADER.encode(), replica.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), self.header]
            await send(message)

        await self.app(scope, receive, send_with_header)


class Unexpected:
    """Outermost: a request that ends in an exception no layer answered, or with no answer at
    all, is logged once — traceback, service, replica, method, path — and gets a 500 in
    problem+json that names the replica (:func:`.problems.unexpected`).

    Without it the server answers such a request itself: granian sends a bare 500 that names no
    replica, and for an app that returns without answering it logs nothing. Exceptions raised
    inside Starlette's own stack were already answered there (its ``ServerErrorMiddleware``
    renders them through :func:`.problems.handle_unexpected`, with the replica's header) and
    re-raised: here they are only logged. Nothing is re-raised from here, or the server would log
    the same traceback a second time. An answer that had started when the error came cannot be
    replaced: the log says so, and the server ends the connection."""

    def __init__(self, app: ASGIApp, *, service: str, replica: str) -> None:
        self.app = app
        self.service = service
        self.replica = replica

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status: int | None = None  # of the answer, once the server took its start

        async def start(message: Message) -> None:
            nonlocal status
            await send(message)  # a start the server refuses (a malformed header) raises: not started
            status = message["status"]

        def send_noting_status(message: Message) -> Awaitable[None]:
            # a plain function handing on send's own awaitable: no coroutine per body message
            return start(message) if message["type"] == "http.response.start" else send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        except Exception as exc:  # noqa: BLE001 — the one place an unexpected error is logged
            self._log(scope, status, exc)
            if status is None:
                await self._answer(scope, receive, send, exc)
            return
        if status is None:
            self._log(scope, status, None)
            await self._answer(scope, receive, send, None)

    def _log(self, scope: Scope, status: int | None, exc: Exception | None) -> None:
        what = f"unexpected {type(exc).__name__}" if exc is not None else "no answer from the app"
        if status is None or status == 500:  # answered here, or by Starlette's 500 handler
            outcome = "answered 500"
        else:
            outcome = f"its answer ({status}) had started and is cut short"
        logger.error("%s: %s %s on %s (%s); %s", what, scope["method"], scope["path"][:256], self.replica,
                     self.service, outcome, exc_info=exc)

    async def _answer(self, scope: Scope, receive: Receive, send: Send, exc: Exception | None) -> None:
        problem = unexpected(exc)
        problem.headers[REPLICA_HEADER] = self.replica
        await problem_response(problem, scope["path"][:256])(scope, receive, send)


class ControlToken:
    """Guards the control API: ``Authorization: Bearer <control token>`` or a 401 problem. The
    comparison takes the same time wherever the first wrong byte is (``hmac.compare_digest``),
    so timing the answers does not reveal the token a byte at a time."""

    def __init__(self, app: ASGIApp, *, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                from .problems import Problem, problem_response

                problem = Problem(
                    401,
                    "the control API needs Authorization: Bearer <control token>",
                    headers={"WWW-Authenticate": 'Bearer realm="gosstand-control"'},
                )
                await problem_response(problem, scope["path"])(scope, receive, send)
                return
        await self.app(scope, receive, send)


class WholeBody:
    """Reads a request body whole, once: ends it as soon as its declared ``Content-Length`` has
    arrived, and reads the rest of it before an answer that came without reading it.

    - granian hands over a body as ``more_body=True`` followed by an empty last chunk, and
      Starlette waits for that chunk: a second hop from granian's Rust threads to the event loop
      that cost a small form post about 70 µs of server CPU (measured on
      ``POST /aas/oauth2/login``), three times per ESIA login.
    - An error answered before the body was read (a 401 for a missing token, say) must still
      reach a client that is sending a large body: a server that closes its socket with unread
      data in it makes the kernel reset the connection, and the client loses the answer
      ("connection closed without response"). So the rest of the body, up to
      :data:`DRAIN_LIMIT`, is read before the answer starts. Bodiless methods pass untouched."""

    #: Bodies larger than this are not read just to answer with an error (the server may close).
    DRAIN_LIMIT = 16 * 1024 * 1024

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        length = declared_length(scope)
        if length == 0:
            await self.app(scope, receive, send)
            return
        received = 0
        complete = False

        async def receive_whole() -> Message:
            nonlocal received, complete
            message = await receive()
            if complete:
                return message
            if message["type"] != "http.request":
                complete = True  # the client went away: nothing more will come
                return message
            received += len(message.get("body", b""))
            if not message.get("more_body"):
                complete = True
            elif length is not None and received >= length:
                complete = True
                message = {**message, "more_body": False}
            return message

        async def send_after_body(message: Message) -> None:
            if message["type"] == "http.response.start":
                while not complete and received <= self.DRAIN_LIMIT:
                    await receive_whole()
            await send(message)

        await self.app(scope, receive_whole, send_after_body)

