"""What each mock (``esia``, ``utko``, ``fts``) hands the app factory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from starlette.routing import BaseRoute

from .context import ServiceContext
from .hot_path import HotRoute

ExceptionHandler = Callable[..., Awaitable[object]]


@dataclass(kw_only=True)
class ServiceDefinition:
    #: The public API, as the real system's clients call it.
    routes: list[BaseRoute]
    #: Service-specific control endpoints, mounted under ``/_gosstand/control`` behind the token.
    control_routes: list[BaseRoute] = field(default_factory=list)
    #: Public helper endpoints that are not part of the real system's API (ESIA's certificate
    #: and JWKS), mounted under ``/_gosstand/<service>`` without the token.
    helper_routes: list[BaseRoute] = field(default_factory=list)
    #: The OpenAPI 3.1 document the routes implement, served at ``/_gosstand/openapi.{yaml,json}``.
    contract: Path
    #: Lean answers to the hottest reads, tried before ``routes`` (see :mod:`.hot_path`).
    hot_routes: list[HotRoute] = field(default_factory=list)
    #: Extra exception handlers (ESIA answers in its own error format).
    exception_handlers: Mapping[type[Exception], ExceptionHandler] = field(default_factory=dict)


#: Where each service's ``definition(ctx) -> ServiceDefinition`` lives.
REGISTRY: dict[str, str] = {
    "esia": "gosstand.mocks.esia.service",
    "utko": "gosstand.mocks.utko.service",
    "fts": "gosstand.mocks.fts.service",
}


def load_definition(ctx: ServiceContext) -> ServiceDefinition:
    import importlib

    module = importlib.import_module(REGISTRY[ctx.settings.service])
    return module.definition(ctx)
