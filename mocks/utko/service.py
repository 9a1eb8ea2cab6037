"""The FGIS UTKO mock: the register of waste-handling objects and the requests filed each day.

Public surface (contract: ``openapi.yaml`` beside this file, shared/reference/fts-utko.md):

- ``GET|POST /v1/objects`` — list (``limit`` + ``offset``, creation order) and create;
- ``GET|PUT|DELETE /v1/objects/{id}`` — read, replace, delete;
- ``GET /v1/requests?date=YYYY-MM-DD`` — requests (заявки) filed on a date, derived from the
  date (:mod:`.requests`), so every replica and run agrees without seeding.
"""

from __future__ import annotations

from pathlib import Path

from starlette.routing import Route

from ..core.bearer import verifier_for
from ..core.context import ServiceContext
from ..core.service import ServiceDefinition
from .handlers import UtkoApi

CONTRACT = Path(__file__).with_name("openapi.yaml")


def definition(ctx: ServiceContext) -> ServiceDefinition:
    api = UtkoApi(verifier_for(ctx.settings))
    return ServiceDefinition(
        routes=[
            Route("/v1/objects", api.objects, methods=["GET", "POST"]),
            Route("/v1/objects/{id}", api.object, methods=["GET", "PUT", "DELETE"]),
            Route("/v1/requests", api.requests, methods=["GET"]),
        ],
        contract=CONTRACT,
    )
