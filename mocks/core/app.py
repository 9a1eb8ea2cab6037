"""The app factory: one Starlette app per replica, the same for every service.

Request path: ``ReplicaHeader`` → router → the service's handler → :class:`ServiceContext`
(store, clock). Errors are rendered by the handlers in :mod:`.problems` (or the service's own).
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from . import control, problems
from .clock import Clock
from .context import ServiceContext, context
from .contract import contract_for, render
from .middleware import ControlToken, ReplicaHeader
from .service import load_definition
from .settings import Settings
from .store import Store, open_store

RESERVED_PREFIX = "/_gosstand"


async def health(request: Request) -> Response:
    ctx = context(request)
    ready = await ctx.store.ping()
    body = {"status": "ok" if ready else "degraded", "service": ctx.settings.service, "replica": ctx.settings.replica}
    return JSONResponse(body, status_code=200 if ready else 503)


def create_app(settings: Settings, *, store: Store | None = None) -> Starlette:
    store = store or open_store(settings.store_url)
    ctx = ServiceContext(settings=settings, store=store, clock=Clock(store))
    definition = load_definition(ctx)
    contract = contract_for(definition.contract, settings.public_url)
    contract_bodies = {fmt: render(contract, fmt) for fmt in ("yaml", "json")}

    async def serve_contract(request: Request) -> Response:
        fmt = request.path_params["fmt"]
        if fmt not in contract_bodies:
            raise problems.Problem(404, "the contract is served as openapi.yaml or openapi.json")
        media = "application/json" if fmt == "json" else "application/yaml"
        return Response(contract_bodies[fmt], media_type=media)

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
        Exception: problems.handle_unexpected,
        **definition.exception_handlers,
    }
    app = Starlette(
        routes=[*definition.routes, reserved],  # the real API first: it takes the traffic
        middleware=[Middleware(ReplicaHeader, replica=settings.replica)],
        exception_handlers=handlers,  # type: ignore[arg-type]
    )
    app.state.ctx = ctx
    app.state.definition = definition
    return app


def app_from_env() -> Starlette:
    """The granian factory: settings from ``GOSSTAND_*`` variables."""
    return create_app(Settings.from_env())
