"""The request journal: what every replica of a service was sent and what it answered, in one log.

A test checks what the system under test actually sent: the form of its token request, the
``Idempotency-Key`` of each retry, how many submissions reached FTS during a fault. The journal
is kept in the shared store (a :class:`~.ring.Ring` of :data:`CAPACITY` entries), so an entry
is there whichever replica took the request, and any replica can read it.

Recording costs two store writes per request, which would take most of the cheap reads' rate,
so the journal is off until switched on through the control API
(``POST /_gosstand/control/requests {"record": true}``). The switch is cached like the clock
(:mod:`.clock`) and the control call answers once every replica has seen it. The reserved
``/_gosstand`` paths are never recorded.

An entry holds when (stand's clock), which replica, method, path, the API route template that
took it (``None``: no route did — an unmatched request, see :mod:`.near_misses`), query, the request headers
(``Authorization`` and ``Cookie`` shortened to their scheme and last characters), the first
:data:`MAX_BODY_CHARS` characters of the request and response bodies, status, whether the answer
was complete (a ``drop`` fault cuts it), its duration, and the fault rule that hit it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from fnmatch import fnmatchcase
from typing import Any

from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .clock import Clock
from .faults import FAULT_HEADER
from .middleware import RESERVED_PREFIX
from .near_misses import matched_route
from .refreshed import CACHE_SECONDS, Refreshed
from .ring import Ring
from .store import Store

__all__ = ["CAPACITY", "Journal", "Recorder"]

CAPACITY = 5000
MAX_BODY_CHARS = 4096
#: The request body read ahead of the app: all the entry keeps of it.
PEEK_BYTES = MAX_BODY_CHARS * 4
_SWITCH = "journal:recording"
_MASKED = {"authorization", "cookie"}


class Journal:
    """The journal of one service: its switch, its entries, and the queries on them."""

    def __init__(self, store: Store, clock: Clock, *, cache_seconds: float = CACHE_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.clock = clock
        self.ring = Ring(store, "journal", CAPACITY)
        self.cache_seconds = cache_seconds
        self._switch = Refreshed(self._read_switch, seconds=cache_seconds, monotonic=monotonic)

    async def _read_switch(self) -> bool:
        return await self.store.get(_SWITCH) == "1"

    async def recording(self) -> bool:
        """Whether requests are recorded, as read at most :attr:`cache_seconds` ago."""
        return await self._switch.get()

    async def switch(self, on: bool) -> None:
        if on:
            await self.store.set(_SWITCH, "1")
        else:
            await self.store.delete(_SWITCH)
        self._switch.remember(on)

    async def record(self, entry: dict[str, Any]) -> None:
        await self.ring.append(entry)

    async def find(self, *, limit: int, method: str | None = None, path: str | None = None,
                   status: int | None = None, after: int = 0, unmatched: bool = False) -> dict[str, Any]:
        """The newest ``limit`` entries that match, oldest first, with the newest sequence number
        (pass it back as ``after`` to read only what came since). ``unmatched``: only requests
        no API route took."""

        def wanted(entry: dict[str, Any]) -> bool:
            return ((method is None or entry["method"] == method.upper())
                    and (path is None or fnmatchcase(entry["path"], path))
                    and (status is None or entry["status"] == status)
                    and (not unmatched or entry.get("route") is None))

        items, last = await self.ring.newest(limit, wanted, after=after)
        return {"recording": await self.recording(), "items": items, "recorded": last, "capacity": CAPACITY}

    async def clear(self) -> None:
        await self.ring.clear()


def _shown(name: str, value: str) -> str:
    if name not in _MASKED:
        return value
    scheme, _, secret = value.partition(" ")
    tail = (secret or scheme)[-6:]
    return f"{scheme} …{tail}" if secret else f"…{tail}"


def _text(chunks: list[bytes]) -> str:
    return b"".join(chunks)[: MAX_BODY_CHARS * 4].decode("utf-8", "replace")[:MAX_BODY_CHARS]


class Recorder:
    """ASGI middleware: records each request outside ``/_gosstand`` while the journal is on.

    It sits outside the fault rules (:mod:`.faults`), so a faulted answer is recorded as the
    client saw it. It reads the first :data:`PEEK_BYTES` of the request body before the app does
    (what the entry keeps, also of a request answered without reading its body) and hands them
    on, then the rest as it streams: the body's limit (:mod:`.limits`) applies as without it."""

    def __init__(self, app: ASGIApp, *, journal: Journal, replica: str, routes: Sequence[BaseRoute] = ()) -> None:
        self.app = app
        self.journal = journal
        self.replica = replica
        #: The service's API routes, to name the one each request matched.
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(RESERVED_PREFIX) or not await self.journal.recording():
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        route = matched_route(self.routes, scope)
        peeked: list[Message] = await _peek_body(receive) if scope["method"] not in ("GET", "HEAD") else []
        body = b"".join(message.get("body", b"") for message in peeked)

        async def replay() -> Message:
            return peeked.pop(0) if peeked else await receive()

        answer: dict[str, Any] = {"status": None, "answered": False, "type": None, "fault": None}
        response_body: list[bytes] = []
        kept = 0

        async def send_and_note(message: Message) -> None:
            nonlocal kept
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                for name, value in message.get("headers", ()):
                    if name == b"content-type":
                        answer["type"] = value.decode("latin-1")
                    elif name == FAULT_HEADER.encode():
                        answer["fault"] = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                chunk = message.get("body", b"")
                if kept < MAX_BODY_CHARS * 4:
                    response_body.append(chunk)
                    kept += len(chunk)
                if not message.get("more_body"):
                    answer["answered"] = True
            await send(message)

        try:
            await self.app(scope, replay if scope["method"] not in ("GET", "HEAD") else receive, send_and_note)
        finally:
            await self.journal.record({
                "at": await self.journal.clock.now(),
                "replica": self.replica,
                "method": scope["method"],
                "path": scope["path"],
                "route": route,
                "query": scope.get("query_string", b"").decode("latin-1"),
                "headers": {name.decode("latin-1"): _shown(name.decode("latin-1"), value.decode("latin-1"))
                            for name, value in scope["headers"]},
                "body": _text([body]),
                "status": answer["status"],
                "answered": answer["answered"],
                "responseType": answer["type"],
                "responseBody": _text(response_body),
                "durationMs": round((time.monotonic() - started) * 1000, 3),
                "fault": answer["fault"],
            })


async def _peek_body(receive: Receive) -> list[Message]:
    """The body's first :data:`PEEK_BYTES` (or all of a shorter one), to hand on as they came:
    the first message joins the body chunks read, and a disconnect stays a disconnect."""
    chunks: list[bytes] = []
    peeked = 0
    ended: Message | None = None
    more = True
    while more and peeked < PEEK_BYTES:
        message = await receive()
        if message["type"] != "http.request":
            ended = message  # the client went away
            break
        chunk = message.get("body", b"")
        chunks.append(chunk)
        peeked += len(chunk)
        more = bool(message.get("more_body"))
    joined: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": more or ended is not None}
    return [joined] if ended is None else [joined, ended]
