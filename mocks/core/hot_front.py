"""The front door of a replica: a request a hot route takes skips the middleware chain.

Every request normally passes six ASGI layers before its hot route (:mod:`.app`: metrics, whole
body, head limits, journal, body limits, fault rules), each wrapping ``receive`` and ``send`` in
closures of its own; a login flow crosses them six times. For the usual request none of them
changes anything: the head is within its limits, the journal is off, no fault rule matches, the
body is a small form with a ``Content-Length``. :class:`HotFront` sits in front of them all
(behind only :class:`~.middleware.Unexpected`) and checks exactly those conditions, reading the
same cached switches the layers read (:meth:`.journal.Journal.recording`,
:meth:`.faults.FaultBook.rules`). When they hold it reads
the body itself — one ``receive()`` for a body that comes in one piece, ending at its
``Content-Length`` as :class:`~.middleware.WholeBody` does — asks the hot route, sends its
answer as one response start and one body, and records the request in the metrics as
:class:`~.metrics.Metrics` would (same route template, status class and duration).

Anything else goes to the full chain untouched, where the :class:`~.hot_path.HotPath` behind the
layers still offers the request to its hot route: a fault rule that matches, the journal on, an
oversized head, a body without ``Content-Length`` or over :data:`~.hot_path.HOT_BODY_LIMIT`. A
request the hot route declines here goes to the full chain too, with the body read so far
handed on first, marked so that the hot route is not asked twice. The body limits never refuse
a body the front reads: it reads at most :data:`~.hot_path.HOT_BODY_LIMIT` bytes, below every
route's limit, and the full chain's :class:`~.limits.BodyLimits` meets anything larger.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Receive, Scope, Send

from .faults import FaultBook
from .hot_path import DECLINED_KEY, HOT_BODY_LIMIT, HotHandler, HotPath, read_body, replaying
from .journal import Journal
from .limits import declared_length, head_refusal
from .metrics import Metrics
from .middleware import RESERVED_PREFIX

__all__ = ["HotFront"]


class HotFront:
    """ASGI middleware in front of the layers (behind only ``Unexpected``): answers through
    ``hot`` the requests the layers of ``app`` (the full chain, ``metrics`` its outermost layer
    when the replica keeps metrics) would pass through untouched; hands every other request to
    ``app``."""

    def __init__(self, app: ASGIApp, *, hot: HotPath, metrics: Metrics | None, faults: FaultBook, journal: Journal,
                 replica: str) -> None:
        self.app = app
        self.hot = hot
        self.metrics = metrics
        self.faults = faults
        self.journal = journal
        self.replica = replica

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in self.hot.methods:
            found = self.hot.route(scope["method"], scope["path"])
            if found is not None and await self._untouched_or_declined(scope):
                await self._answer(scope, receive, send, *found)
                return
        await self.app(scope, receive, send)

    async def _untouched_or_declined(self, scope: Scope) -> bool:
        """:meth:`_untouched`; ``False`` when the switches cannot be read (the store failing): the
        full chain then reads them too, and its error is timed, counted and answered as every
        other request's is, instead of here, past the metrics."""
        try:
            return await self._untouched(scope)
        except Exception:  # noqa: BLE001 — declining, as a hot route that raises does
            return False

    async def _untouched(self, scope: Scope) -> bool:
        """Whether the head limits, the journal and the fault rules would all let this request
        pass unchanged (as :class:`~.limits.RequestHead`, :class:`~.journal.Recorder` and
        :class:`~.faults.Faults` decide it; the reserved paths are never journaled nor faulted)."""
        if head_refusal(scope) is not None:
            return False
        path = scope["path"]
        if path.startswith(RESERVED_PREFIX):
            return True
        if await self.journal.recording():
            return False
        method = scope["method"]
        return not any(rule.matches(method, path, self.replica) for rule in await self.faults.rules())

    async def _answer(self, scope: Scope, receive: Receive, send: Send, handler: HotHandler, template: str,
                      groups: tuple[str, ...]) -> None:
        started = time.perf_counter()
        body = b""
        if scope["method"] not in ("GET", "HEAD"):
            length = declared_length(scope)
            if length is None or length > HOT_BODY_LIMIT:
                await self.app(scope, receive, send)  # nothing read: the full chain as it came
                return
            body, read, whole = await read_body(receive, length)
            receive = replaying(read, receive)
            if not whole:
                scope[DECLINED_KEY] = True
                await self.app(scope, receive, send)
                return
        answer = await self.hot.attempt(scope, handler, template, groups, body)
        if answer is None:
            scope[DECLINED_KEY] = True
            await self.app(scope, receive, send)
            return
        metrics = self.metrics
        if metrics is None:
            await self.hot.send_answer(answer, send)
            return
        metrics.starting()
        try:
            await self.hot.send_answer(answer, send)
        finally:  # the status as Metrics notes it: once the response starts
            metrics.observe(scope, f"{answer.status // 100}xx", started)
