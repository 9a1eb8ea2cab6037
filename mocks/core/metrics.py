"""``GET /metrics``: what every replica serves, in Prometheus' text format (prometheus_client).

The series an SRE's dashboards need of a stand they load:

- ``gosstand_http_request_duration_seconds`` — a histogram of every request outside ``/metrics``
  by ``service``, ``replica``, ``method``, ``route`` and ``status`` (class: ``2xx``…; a request
  that ends in an error no layer answered, or with no answer, counts as the ``5xx`` it gets from
  :class:`~.middleware.Unexpected` in front). Its ``_count`` is the request count. ``route`` is the
  template a route was declared with (``/rs/prns/{oid}``), never the path that was sent, and
  ``method`` one of the HTTP methods or ``other``: a client choosing paths or methods cannot grow
  the number of series.
- ``gosstand_faults_injected_total`` — the fault rules (:mod:`.faults`) that hit a request, by rule
  id and kind; ids are numbered by the control API, not by clients.
- ``gosstand_fault_rules`` and ``gosstand_store_up`` — read from the shared store when scraped:
  the rules in force by kind, and whether the store answers.

Replicas of one service share its port (SO_REUSEPORT) or a balancer, so a scrape reaches any one
of them. When ``GOSSTAND_METRICS_DIR`` names a directory the replicas share, each keeps its series
there (prometheus_client's multi-process mode, files named by replica, not by pid: in containers
every replica may be pid 7) and whichever answers serves the whole service's, each series still
labelled with its replica. Without it a replica serves its own, as a pod scraped on its own does.

The recording is two memory-mapped increments per request and no store access; the per-label
children are cached, so a request does not pay for prometheus_client's label lookup.
"""

from __future__ import annotations

import asyncio
import os
import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    values,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .hot_path import ROUTE_KEY
from .near_misses import matched_route

__all__ = ["METRICS_PATH", "METRICS_DIR_VARIABLE", "LATENCY_BUCKETS", "ReplicaMetrics", "Metrics", "ScrapeReading"]

METRICS_PATH = "/metrics"
#: The text format every Prometheus reads (2.x included); what ``generate_latest`` writes with its
#: default escaping of names.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
METRICS_DIR_VARIABLE = "GOSSTAND_METRICS_DIR"
#: The folder of a stack's state directory where each service's replicas share their series.
METRICS_FOLDER = "metrics"
#: Seconds: from a hot read's fraction of a millisecond to a latency fault's seconds.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: The route label of a request no route took (a 404 of an unknown path, say).
UNMATCHED = "<unmatched>"

#: What a scrape reads from the shared store: the rules in force by kind, and the store's health.
ScrapeReading = Callable[[], Awaitable[tuple[dict[str, int], bool]]]


class ReplicaMetrics:
    """The series one replica records, in a registry of its own (or the shared directory's).

    A request adds to plain counters of this process (a bisect and two additions); they reach
    prometheus_client's histogram — memory-mapped files in the shared directory — at most once
    a second (:meth:`flush`, which the middleware starts) and before this replica answers a scrape.
    Recording straight into the library's multi-process histogram cost about 12 µs a request on
    this machine, a tenth of a hot read's whole budget."""

    #: Seconds between two flushes of the counters into the shared series.
    FLUSH_EVERY_S = 1.0

    def __init__(self, *, service: str, replica: str, directory: Path | None) -> None:
        self.service, self.replica, self.directory = service, replica, directory
        disable_created_metrics()  # a ``_created`` gauge per series doubles a scrape for no dashboard
        registry = None if directory is not None else CollectorRegistry(auto_describe=True)
        if directory is not None:
            _share_series_in(directory, replica)
        self._own_registry = registry
        self.requests = Histogram("gosstand_http_request_duration_seconds",
                                  "Requests served, by route template and status class, and how long they took",
                                  ["service", "replica", "method", "route", "status"], buckets=LATENCY_BUCKETS,
                                  registry=registry)
        self.faults = Counter("gosstand_faults_injected_total", "Requests a fault rule hit, by rule and kind",
                              ["service", "replica", "rule", "kind"], registry=registry)
        #: Per (method, route, status): observations per bucket (the last is +Inf) and their sum,
        #: not yet flushed.
        self._pending: dict[tuple[str, str, str], _Pending] = {}

    def observe(self, method: str, route: str, status: str, seconds: float) -> None:
        key = (method, route, status)
        pending = self._pending.get(key)
        if pending is None:
            pending = self._pending[key] = _Pending(len(LATENCY_BUCKETS) + 1)
        pending.counts[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        pending.total += seconds

    def flush(self) -> None:
        """Add what was observed since the last flush to the histogram's series. The histogram's
        children keep their values as ``_buckets`` and ``_sum`` (checked when a child is first
        made, so a prometheus_client that stores them otherwise fails at start, not silently)."""
        for key, pending in self._pending.items():
            if not pending.total and not any(pending.counts):
                continue
            child = self.requests.labels(self.service, self.replica, *key)
            buckets, total = _stored_values(child)
            for index, count in enumerate(pending.counts):
                if count:
                    buckets[index].inc(count)
                    pending.counts[index] = 0
            total.inc(pending.total)
            pending.total = 0.0

    def fault_hit(self, rule: str, kind: str) -> None:
        self.faults.labels(self.service, self.replica, rule, kind).inc()

    def exposition(self, reading: tuple[dict[str, int], bool]) -> bytes:
        """The text a scrape gets: the recorded series (every replica's, when they share a
        directory) and the store's gauges as read now."""
        self.flush()
        registry = self._own_registry
        if registry is None:
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=str(self.directory))
        scraped = CollectorRegistry()
        scraped.register(_StoreGauges(self.service, *reading))
        return generate_latest(registry) + generate_latest(scraped)


class _Pending:
    __slots__ = ("counts", "total")

    def __init__(self, buckets: int) -> None:
        self.counts = [0] * buckets
        self.total = 0.0


def _stored_values(child: Histogram) -> tuple[list[Any], Any]:
    buckets, total = getattr(child, "_buckets", None), getattr(child, "_sum", None)
    if not isinstance(buckets, list) or len(buckets) != len(LATENCY_BUCKETS) + 1 or not hasattr(total, "inc"):
        raise RuntimeError("this prometheus_client keeps a histogram's values otherwise than 0.21-0.26 did: "
                           "gosstand's metrics cannot add to them")
    return buckets, total


def _share_series_in(directory: Path, replica: str) -> None:
    """prometheus_client's multi-process mode, its files named by ``replica``: the mode is chosen
    by a module setting read when a metric is made, so this runs before this replica makes any."""
    directory.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    values.ValueClass = values.MultiProcessValue(lambda: replica)


class _StoreGauges(Collector):
    def __init__(self, service: str, rules: dict[str, int], store_up: bool) -> None:
        self.service, self.rules, self.store_up = service, rules, store_up

    def collect(self) -> Iterable[GaugeMetricFamily]:
        rules = GaugeMetricFamily("gosstand_fault_rules", "Fault rules in force, by kind", labels=["service", "kind"])
        for kind, count in sorted(self.rules.items()):
            rules.add_metric([self.service, kind], count)
        yield rules
        up = GaugeMetricFamily("gosstand_store_up", "Whether the shared store answered the scrape", labels=["service"])
        up.add_metric([self.service], 1.0 if self.store_up else 0.0)
        yield up


class Metrics:
    """ASGI middleware, the outermost of the full chain (behind the hot front and ``Unexpected``):
    times every request, and answers ``GET /metrics`` itself (so no fault rule, body limit or
    journal touches a scrape, and a scrape is not counted)."""

    def __init__(self, app: ASGIApp, *, recorded: ReplicaMetrics, read: ScrapeReading,
                 routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.recorded = recorded
        self.read = read
        #: Every route of the app, to name the route of a request the router never saw (one a
        #: fault rule answered).
        self.routes = routes
        self._flusher: asyncio.Task[None] | None = None

    async def _flush_every_second(self) -> None:
        while True:  # as long as the replica's event loop runs
            await asyncio.sleep(self.recorded.FLUSH_EVERY_S)
            self.recorded.flush()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.starting()
        if scope["path"] == METRICS_PATH and scope["method"] in ("GET", "HEAD"):
            await self._scrape(send)
            return
        started = time.perf_counter()
        status = "5xx"  # unless an answer starts: Unexpected, in front, answers any other request 500

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = f"{message['status'] // 100}xx"
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            self.observe(scope, status, started)

    def starting(self) -> None:
        """Called as each request starts: the first one starts the flushing."""
        if self._flusher is None and self.recorded.directory is not None:
            # Other replicas answer the scrapes too: flush on the server's loop, which the first
            # request runs on. A replica serving only its own series flushes when scraped.
            self._flusher = asyncio.get_running_loop().create_task(self._flush_every_second())

    def observe(self, scope: Scope, status: str, started: float) -> None:
        """Record a request that started at ``started`` (``time.perf_counter``) and ended now with
        ``status`` (its class: ``2xx``…)."""
        method = scope["method"] if scope["method"] in METHODS else "other"
        self.recorded.observe(method, self._route(scope), status, time.perf_counter() - started)

    def _route(self, scope: Scope) -> str:
        template = scope.get(ROUTE_KEY)
        if template is not None:
            return str(template)
        route = scope.get("route")
        if isinstance(route, Mount):  # its root path is the mount's, already matched
            return str(scope.get("root_path", ""))
        if route is not None and hasattr(route, "path"):
            return str(scope.get("root_path", "")) + str(route.path)
        return matched_route(self.routes, scope) or UNMATCHED

    async def _scrape(self, send: Send) -> None:
        try:
            reading = await self.read()
        except Exception:  # noqa: BLE001 - a store that fails is what the gauge reports
            reading = ({}, False)
        body = self.recorded.exposition(reading)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", CONTENT_TYPE.encode()),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def metrics_directory(environ: dict[str, str] | os._Environ[str] = os.environ) -> Path | None:
    """The directory the service's replicas share their series in, when the stack names one."""
    value = environ.get(METRICS_DIR_VARIABLE, "")
    return Path(value) if value else None
