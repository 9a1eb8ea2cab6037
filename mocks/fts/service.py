"""The FTS mock: customs declarations (ДТ) — submit with an idempotency key, list, card, status.

Public surface (contract: ``openapi.yaml`` beside this file, docs/fts-utko.md):

- ``POST /api/v1/declarations`` — submit (``Idempotency-Key`` header required);
- ``GET /api/v1/declarations?inn=…`` — a declarant's declarations, newest first, cursor paging;
- ``GET /api/v1/declarations/{id}`` — the card; ``GET /api/v1/declarations/{id}/status`` — the
  cheap status read;
- ``POST /api/v1/declarations/{id}/withdrawal`` — the declarant withdraws (``Idempotency-Key``);
- ``POST``/``GET /api/v1/declarations/{id}/documents`` — documents (multipart ``file`` and
  optional detached ``signature``), ``GET …/documents/{documentId}[/content]`` — one document
  and its bytes, :mod:`.documents`;
- ``POST``/``GET /api/v1/appeals``, ``GET …/{id}``, ``POST …/{id}/comments`` — requests to
  customs (обращения), :mod:`.appeals`;
- ``GET /api/v1/events?inn=…&cursor=…`` — every status change of a declarant's declarations;
- ``GET /login`` and the participant's personal account signed in through ESIA, :mod:`.account`.

The life cycle runs on the shared mock clock (:mod:`.lifecycle`); there are no FTS-specific
control endpoints in this cut: the common ``/_gosstand/control/clock`` and ``/reset`` suffice.
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
from .account import FTS_ACCOUNT
from .appeals import APPEALS, AppealsApi
from .documents import MAX_FORM_BYTES, DocumentsApi
from .handlers import BASE, EVENTS, MAX_BODY_BYTES, DeclarationsApi
from .hot_status import hot_status

CONTRACT = Path(__file__).with_name("openapi.yaml")


def definition(ctx: ServiceContext) -> ServiceDefinition:
    verifier = relying_party_gate(ctx.settings, sessions=AccountSessions(FTS_ACCOUNT))
    policy = AccessPolicy()
    api = DeclarationsApi(verifier, policy)
    documents = DocumentsApi(verifier, policy)
    appeals = AppealsApi(verifier, policy)
    return ServiceDefinition(
        routes=[
            # Each route that takes a body larger than the default 64 KiB says how large (413 past it).
            LimitedRoute(BASE, api.collection, methods=["GET", "POST"], body_limit=MAX_BODY_BYTES),
            Route(BASE + "/{id}", api.card, methods=["GET"]),
            Route(BASE + "/{id}/status", api.status, methods=["GET"]),
            Route(BASE + "/{id}/withdrawal", api.withdraw, methods=["POST"]),
            LimitedRoute(BASE + "/{id}/documents", documents.collection, methods=["GET", "POST"],
                         body_limit=MAX_FORM_BYTES),
            Route(BASE + "/{id}/documents/{document_id}", documents.one, methods=["GET"]),
            Route(BASE + "/{id}/documents/{document_id}/content", documents.content, methods=["GET"]),
            Route(EVENTS, api.events, methods=["GET"]),
            LimitedRoute(APPEALS, appeals.collection, methods=["GET", "POST"], body_limit=MAX_BODY_BYTES),
            Route(APPEALS + "/{id}", appeals.card, methods=["GET"]),
            LimitedRoute(APPEALS + "/{id}/comments", appeals.comment, methods=["POST"], body_limit=MAX_BODY_BYTES),
            *account_routes(FTS_ACCOUNT, verifier),
        ],
        hot_routes=[hot_status(ctx, verifier, policy)],
        contract=CONTRACT,
    )
