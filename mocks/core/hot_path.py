"""A lean front door for the few requests that load runs send thousands of times a second.

Starlette's middleware and router cost about as much per request as a whole bare ASGI answer,
which caps a person or status read at a fraction of the server's rate. The hot path sits in
front of the app and answers only the plain form of such a request (a read: a ``GET`` whose
path matches exactly, a valid token, a record that needs no write to be read; a step of a
login: a small url-encoded form). Whenever a hot route cannot answer that way it *declines* —
returns ``None`` or raises — and the request goes on to the full app, which answers exactly as
it would have without the hot path. A hot route only has to agree with its full route on what
it answers: the tests compare the two byte for byte.

A hot route declines only before it has changed anything, so declining is always safe. A
``POST`` route gets the whole body, read here only when it declares a ``Content-Length`` of at
most :data:`HOT_BODY_LIMIT` (else the request is declined unread); a declined request's body is
handed to the full app as it came. ``GOSSTAND_HOT_PATH=0`` turns the hot path off (to measure
it, or to rule it out).

:class:`HotPath` sits behind the stand's own layers (metrics, limits, journal, fault rules);
:class:`~.hot_front.HotFront`, in front of them, asks the same routes first whenever none of
those layers would change the request. Answers are rendered here as Starlette's response
classes render theirs (:meth:`HotAnswer.json`, :meth:`HotAnswer.html`,
:meth:`HotAnswer.redirect`, :meth:`HotAnswer.with_cookie`) without a response object per request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .bearer import Identity, TokenVerifier, authorize
from .clock import Clock
from .limits import DEFAULT_BODY_LIMIT, declared_length
from .middleware import REPLICA_HEADER

#: Where a hot answer leaves its route's template for the metrics (:mod:`.metrics` reads it).
ROUTE_KEY = "gosstand.route"
#: Set on a request a hot route declined already (in :class:`~.hot_front.HotFront`): the
#: :class:`HotPath` behind it hands it straight to the full app.
DECLINED_KEY = "gosstand.hot_declined"

__all__ = ["DECLINED_KEY", "HOT_BODY_LIMIT", "HotAnswer", "HotPath", "HotRequest", "HotRoute", "bearer_token", "caller",
           "compact_json"]

#: The largest body a hot ``POST`` route is handed (a login form, a token request: under 8 KiB);
#: below every route's body limit, so reading it never meets :class:`~.limits.BodyTooLarge`.
HOT_BODY_LIMIT = 16 * 1024
assert HOT_BODY_LIMIT < DEFAULT_BODY_LIMIT
#: A body in more pieces than this is left to the full app.
_MAX_CHUNKS = 64
#: What Starlette's ``RedirectResponse`` leaves unquoted in a location.
_LOCATION_SAFE = ":/%#?=@[]!$&'()*+,;"


@dataclass(frozen=True, slots=True)
class HotRequest:
    """What a hot route may look at: the path's captured groups, the raw query and headers, the
    body of a ``POST``, and the ASGI scope (the client's address, the server's name)."""

    groups: tuple[str, ...]
    query: bytes
    headers: Sequence[tuple[bytes, bytes]]
    body: bytes = b""
    scope: Scope | None = None

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
    #: Every header, in order, when the answer has more than Content-Length and Content-Type (a
    #: redirect's Location, a cookie); the replica's header is added after them.
    headers: tuple[tuple[bytes, bytes], ...] | None = None

    @classmethod
    def of(cls, response: Response) -> HotAnswer:
        """A Starlette response as it would go out (status, headers in order, body): a hot route
        that renders with the full route's own response classes agrees with it by construction."""
        return cls(bytes(response.body), status=response.status_code, headers=tuple(response.raw_headers))

    # The answers below are rendered as Starlette's response classes render theirs (the same
    # headers in the same order), without making a response object per request.

    @classmethod
    def rendered(cls, body: bytes, *, media_type: str, status: int = 200,
                 headers: Mapping[str, str] | None = None) -> HotAnswer:
        """What ``Response(body, status, headers, media_type)`` sends: the given headers (names in
        lower case), then Content-Length and Content-Type unless given (a ``text/`` type with
        its charset)."""
        raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in (headers or {}).items()]
        names = {name for name, _ in raw}
        if b"content-length" not in names and not (status < 200 or status in (204, 304)):
            raw.append((b"content-length", str(len(body)).encode()))
        if b"content-type" not in names:
            if media_type.startswith("text/") and "charset=" not in media_type.lower():
                media_type += "; charset=utf-8"
            raw.append((b"content-type", media_type.encode("latin-1")))
        return cls(body, status=status, headers=tuple(raw))

    @classmethod
    def json(cls, content: Any, *, status: int = 200, headers: Mapping[str, str] | None = None) -> HotAnswer:
        """What Starlette's ``JSONResponse(content, status, headers)`` sends."""
        return cls.rendered(compact_json(content), media_type="application/json", status=status, headers=headers)

    @classmethod
    def html(cls, page: str, *, status: int = 200, headers: Mapping[str, str] | None = None) -> HotAnswer:
        """What Starlette's ``HTMLResponse(page, status, headers)`` sends."""
        return cls.rendered(page.encode(), media_type="text/html", status=status, headers=headers)

    @classmethod
    def redirect(cls, url: str, *, status: int) -> HotAnswer:
        """What Starlette's ``RedirectResponse(url, status)`` sends: an empty body, then the
        location, quoted as Starlette quotes it."""
        return cls(b"", status=status, headers=((b"content-length", b"0"),
                                                (b"location", quote(url, safe=_LOCATION_SAFE).encode("latin-1"))))

    def with_cookie(self, key: str, value: str = "", *, max_age: int | None = None, expires: int | None = None,
                    path: str = "/", httponly: bool = False, samesite: str = "lax") -> HotAnswer:
        """This answer with a ``Set-Cookie`` after its headers, as Starlette's
        ``Response.set_cookie`` (and, with ``max_age=0, expires=0``, ``delete_cookie``) writes it:
        through the standard library's cookie rendering."""
        cookie: SimpleCookie = SimpleCookie()
        cookie[key] = value
        morsel = cookie[key]
        if max_age is not None:
            morsel["max-age"] = max_age
        if expires is not None:
            morsel["expires"] = expires
        morsel["path"] = path
        if httponly:
            morsel["httponly"] = True
        morsel["samesite"] = samesite
        rendered = (b"set-cookie", cookie.output(header="").strip().encode("latin-1"))
        headers = self.headers
        if headers is None:
            headers = ((b"content-length", str(len(self.body)).encode()), (b"content-type", self.content_type))
        return HotAnswer(self.body, self.content_type, self.status, (*headers, rendered))


HotHandler = Callable[[HotRequest], Awaitable[HotAnswer | None]]


@dataclass(frozen=True, slots=True)
class HotRoute:
    """Requests of ``methods`` whose whole path matches ``pattern`` are offered to ``answer`` first."""

    pattern: str
    answer: HotHandler
    #: The route's template as the full app declares it (``/rs/prns/{oid}``), for the metrics.
    template: str
    methods: tuple[str, ...] = ("GET",)


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
    """ASGI middleware: offer matching requests to their hot route, else to ``app``.

    A route whose pattern is a plain path is found by one dictionary lookup; the others are
    tried in order."""

    def __init__(self, app: ASGIApp, *, routes: Sequence[HotRoute], replica: str) -> None:
        self.app = app
        self.exact: dict[tuple[str, str], tuple[HotHandler, str]] = {}
        self.patterns: list[tuple[frozenset[str], re.Pattern[str], HotHandler, str]] = []
        for route in routes:
            found = (route.answer, route.template)
            if re.escape(route.pattern) == route.pattern:
                self.exact.update({(method, route.pattern): found for method in route.methods})
            else:
                self.patterns.append((frozenset(route.methods), re.compile(route.pattern), *found))
        self.methods = frozenset(method for route in routes for method in route.methods)
        self.replica = (REPLICA_HEADER.encode(), replica.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in self.methods and DECLINED_KEY not in scope:
            found = self.route(scope["method"], scope["path"])
            if found is not None:
                answer, receive = await self._try(scope, receive, *found)
                if answer is not None:
                    await self.send_answer(answer, send)
                    return
        await self.app(scope, receive, send)

    async def send_answer(self, answer: HotAnswer, send: Send) -> None:
        """``answer`` as one response start and one body, with the replica's header."""
        headers = answer.headers
        if headers is None:
            headers = ((b"content-length", str(len(answer.body)).encode()), (b"content-type", answer.content_type))
        await send({"type": "http.response.start", "status": answer.status, "headers": [*headers, self.replica]})
        await send({"type": "http.response.body", "body": answer.body})

    def route(self, method: str, path: str) -> tuple[HotHandler, str, tuple[str, ...]] | None:
        """The hot route of a request (its handler, template and the path's captured groups)."""
        known = self.exact.get((method, path))
        if known is not None:
            return *known, ()
        for methods, pattern, candidate, template in self.patterns:
            if method in methods:
                match = pattern.fullmatch(path)
                if match is not None:
                    return candidate, template, match.groups()
        return None

    async def _try(self, scope: Scope, receive: Receive, handler: HotHandler, template: str,
                   groups: tuple[str, ...]) -> tuple[HotAnswer | None, Receive]:
        """The hot route's answer, or ``None`` and the ``receive`` the full app must read from
        (the body read here handed on first)."""
        body = b""
        if scope["method"] not in ("GET", "HEAD"):
            length = declared_length(scope)
            if length is None or length > HOT_BODY_LIMIT:
                return None, receive
            body, read, ended = await read_body(receive, length)
            receive = replaying(read, receive)
            if not ended:
                return None, receive
        return await self.attempt(scope, handler, template, groups, body), receive

    @staticmethod
    async def attempt(scope: Scope, handler: HotHandler, template: str, groups: tuple[str, ...],
                      body: bytes) -> HotAnswer | None:
        """The hot route's answer to a request whose body (if any) was read whole, or ``None``:
        it declined."""
        request = HotRequest(groups, scope["query_string"], scope["headers"], body, scope)
        try:
            answer = await handler(request)
        except Exception:  # noqa: BLE001 — declining: the full app answers, and reports, instead
            return None
        if answer is not None:
            scope[ROUTE_KEY] = template
        return answer


async def read_body(receive: Receive, length: int) -> tuple[bytes, list[Message], bool]:
    """The body (``length`` bytes are expected), the messages it came in, and whether it ended
    whole. It ends once ``length`` bytes have come, without waiting for the server's empty last
    message (granian sends one: another hop from its threads to the event loop, see
    :class:`~.middleware.WholeBody`). A disconnect, more than ``length`` bytes or more than
    :data:`_MAX_CHUNKS` messages end the reading unfinished."""
    messages: list[Message] = []
    if length == 0:
        return b"", messages, True
    chunks: list[bytes] = []
    received = 0
    for _ in range(_MAX_CHUNKS):
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return b"", messages, False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        received += len(chunk)
        if received >= length or not message.get("more_body"):
            return b"".join(chunks), messages, received == length
    return b"", messages, False


def replaying(messages: list[Message], receive: Receive) -> Receive:
    """``receive`` with ``messages`` (read already) handed out first."""
    if not messages:
        return receive
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay
