"""The FGIS UTKO mock: the register of waste-handling objects and the requests filed each day.

Public surface (contract: ``openapi.yaml`` beside this file, docs/fts-utko.md):

- ``GET|POST /v1/objects`` — list (``limit`` + ``offset``, creation order) and create;
- ``GET|PUT|DELETE /v1/objects/{id}`` — read, replace, delete;
- ``GET /v1/requests?date=YYYY-MM-DD[&status=]`` — requests (заявки) filed on a date, derived from the
  date (:mod:`.requests`), so every replica and run agrees without seeding;
- ``POST /reo-weight-control-api/api/v1/weight-controls/import`` and
  ``GET /reo-weight-control-api/api/v1/weight-controls?objectId=`` — REO's weight-control
  integration (:mod:`.weight_controls`);
- ``GET /login`` and the personal account signed in through ESIA, with the organisation's
  first-login registration (:mod:`.account`).

Every public endpoint is audited (:mod:`.audit`); ESIA-authenticated ones also pass the
address allowlist and the session idle limit (:mod:`.gate`).

Control endpoints (under ``/_gosstand/control``): :mod:`.control`.
"""

from __future__ import annotations

from pathlib import Path

from starlette.routing import Route

from ..accounts.api_sessions import AccountSessions
from ..accounts.routes import account_routes
from ..core.access import AccessPolicy
from ..core.access_tokens import relying_party_gate
from ..core.context import ServiceContext
from ..core.limits import LimitedRoute
from ..core.service import ServiceDefinition
from .account import UTKO_ACCOUNT
from .audit import audited
from .control import control_routes
from .gate import UtkoGate
from .handlers import MAX_BODY_BYTES, UtkoApi
from .weight_controls import MAX_FILE_BYTES, WeightControlApi

CONTRACT = Path(__file__).with_name("openapi.yaml")
WEIGHT_CONTROLS = "/reo-weight-control-api/api/v1/weight-controls"


def definition(ctx: ServiceContext) -> ServiceDefinition:
    gate = relying_party_gate(ctx.settings, sessions=AccountSessions(UTKO_ACCOUNT))
    verifier = UtkoGate(gate)
    policy = AccessPolicy()
    api = UtkoApi(verifier, policy)
    weights = WeightControlApi(verifier, policy)
    return ServiceDefinition(
        routes=[
            # Each route that takes a body larger than the default 64 KiB says how large (413 past it).
            LimitedRoute("/v1/objects", audited(api.objects), methods=["GET", "POST"], body_limit=MAX_BODY_BYTES),
            LimitedRoute("/v1/objects/{id}", audited(api.object), methods=["GET", "PUT", "DELETE"],
                         body_limit=MAX_BODY_BYTES),
            Route("/v1/requests", audited(api.requests), methods=["GET"]),
            LimitedRoute(f"{WEIGHT_CONTROLS}/import", audited(weights.import_file), methods=["POST"],
                         body_limit=MAX_FILE_BYTES),
            Route(WEIGHT_CONTROLS, audited(weights.list), methods=["GET"]),
            *account_routes(UTKO_ACCOUNT, gate),
        ],
        control_routes=control_routes,
        contract=CONTRACT,
    )
