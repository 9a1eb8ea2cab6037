"""The app factory: one Starlette app per replica, the same for every service.

Request path: ``Unexpected`` (an exception no layer answered, or no answer at all: logged, and a
500 naming the replica, see :mod:`.middleware`) → ``HotFront`` (a request a hot route takes,
when no layer after it would change it, is answered at once, see :mod:`.hot_front`; any other
goes on) → ``Metrics`` (``GET /metrics``, and each request's route, status class and time, see
:mod:`.metrics`) → ``WholeBody`` (a body ends at its Content-Length, see :mod:`.middleware`) →
``RequestHead`` (414/431 for an oversized request head, see :mod:`.limits`) → ``Recorder`` (the
request journal, when it is on, see :mod:`.journal`) → ``BodyLimits`` (each body read against
its route's limit as it streams, see :mod:`.limits`) → ``Faults`` (the control API's fault
rules, see :mod:`.faults`) → ``HotPath`` (the plain successful form of the hottest reads and the
login's steps, see :mod:`.hot_path`) → ``ReplicaHeader`` → Starlette's stack (its 500 handler,
the exception handlers, the router) → the service's handler → :class:`ServiceContext` (store,
clock). Errors are rendered by the handlers in :mod:`.problems` (or the service's own).
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp

from . import control, problems
from .clock import Clock
from .context import ServiceContext, context
from .contract import FORMATS, ServedContract
from .crash_points import CrashingStore, CrashPoint
from .faults import FaultBook, Faults
from .hot_front import HotFront
from .hot_path import HotPath, HotRoute
from .journal import Journal, Recorder
from .limits import BodyLimits, RequestHead
from .metrics import Metrics, ReplicaMetrics, ScrapeReading, metrics_directory
from .middleware import RESERVED_PREFIX, ControlToken, ReplicaHeader, Unexpected, WholeBody
from .service import load_definition
from .settings import Settings
from .store import Store
from .store_url import open_store


async def health(request: Request) -> Response:
    ctx = context(request)
    ready = await ctx.store.ping()
    body = {"status": "ok" if ready else "degraded", "service": ctx.settings.service, "replica": ctx.settings.replica}
    return JSONResponse(body, status_code=200 if ready else 503)


class MockApp(Starlette):
    """A Starlette app with the hot path (:mod:`.hot_path`, :mod:`.hot_front`) in front of even
    the 500 handler: a hot route never raises (it declines), so it needs none of Starlette's layers.

    The replica's header wraps Starlette's whole stack, its 500 handler included, so an
    unexpected error's 500 names the replica as every other answer does; the stand's layers in
    front are guarded by :class:`~.middleware.Unexpected`, outermost."""

    def __init__(self, *, hot_routes: list[HotRoute], service: str, replica: str, faults: FaultBook,
                 journal: Journal, api_routes: list[BaseRoute], metrics: ReplicaMetrics | None,
                 scrape: ScrapeReading, **options: Any) -> None:
        self.api_routes = api_routes
        super().__init__(**options)
        self.hot_routes = hot_routes
        self.service = service
        self.replica = replica
        self.faults = faults
        self.journal = journal
        self.metrics = metrics
        self.scrape = scrape

    def build_middleware_stack(self) -> ASGIApp:
        stack: ASGIApp = ReplicaHeader(super().build_middleware_stack(), replica=self.replica)
        hot = HotPath(stack, routes=self.hot_routes, replica=self.replica) if self.hot_routes else None
        if hot is not None:
            stack = hot
        metrics = self.metrics
        if metrics is None:
            stack = Faults(stack, book=self.faults, replica=self.replica)
        else:
            stack = Faults(stack, book=self.faults, replica=self.replica,
                           on_hit=lambda rule: metrics.fault_hit(rule.id, rule.kind))
        stack = WholeBody(RequestHead(Recorder(BodyLimits(stack), journal=self.journal, replica=self.replica,
                                               routes=self.api_routes)))
        measured = None if metrics is None else Metrics(stack, recorded=metrics, read=self.scrape, routes=self.routes)
        stack = stack if measured is None else measured
        if hot is not None:
            stack = HotFront(stack, hot=hot, metrics=measured, faults=self.faults, journal=self.journal,
                             replica=self.replica)
        return Unexpected(stack, service=self.service, replica=self.replica)


def create_app(settings: Settings, *, store: Store | None = None) -> Starlette:
    store = store or open_store(settings.store_url)
    if settings.crash_after_write:
        store = CrashingStore(store, CrashPoint.parse(settings.crash_after_write))
    clock = Clock(store)
    ctx = ServiceContext(settings=settings, store=store, clock=clock, faults=FaultBook(store, clock),
                         journal=Journal(store, clock))
    definition = load_definition(ctx)
    contract = ServedContract(definition.contract, settings.public_url)

    async def serve_contract(request: Request) -> Response:
        fmt = request.path_params["fmt"]
        if fmt not in FORMATS:
            raise problems.Problem(404, "the contract is served as openapi.yaml or openapi.json")
        # the first ask renders it (tens of ms): off the event loop, which keeps serving
        return Response(await run_in_threadpool(contract.body, fmt), media_type=FORMATS[fmt])

    reserved = Mount(
        RESERVED_PREFIX,
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/openapi.{fmt}", serve_contract, methods=["GET"]),
            Mount(f"/{settings.service}", routes=definition.helper_routes),
            Mount(
                "/control",
                routes=[*control.common_routes, *definition.control_routes],
                middleware=[Middleware(ControlToken, token=settings.control_token)],
            ),
        ],
    )
    handlers = {
        problems.Problem: problems.handle_problem,
        HTTPException: problems.handle_http_exception,
        ClientDisconnect: problems.handle_client_disconnect,
        Exception: problems.handle_unexpected,
        **definition.exception_handlers,
    }
    async def scrape() -> tuple[dict[str, int], bool]:
        rules: dict[str, int] = {}
        for rule in await ctx.faults.describe():
            if rule["active"]:
                rules[rule["kind"]] = rules.get(rule["kind"], 0) + 1
        return rules, await store.ping()

    app = MockApp(
        routes=[*definition.routes, reserved],  # the real API first: it takes the traffic
        exception_handlers=handlers,
        hot_routes=definition.hot_routes if settings.hot_path else [],
        service=settings.service,
        replica=settings.replica,
        faults=ctx.faults,
        journal=ctx.journal,
        api_routes=definition.routes,
        metrics=ReplicaMetrics(service=settings.service, replica=settings.replica,
                               directory=metrics_directory()) if settings.metrics else None,
        scrape=scrape,
    )
    app.state.ctx = ctx
    app.state.definition = definition
    return app


def app_from_env() -> Starlette:
    """The granian factory: settings from ``GOSSTAND_*`` variables."""
    return create_app(Settings.from_env())
