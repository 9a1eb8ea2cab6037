"""``GET /api/v1/declarations/{id}/status`` on the hot path (:mod:`..core.hot_path`).

Clients poll a declaration's status far more often than anything else, so its plain form — a
canonical id, a valid token with ``openid`` acting for the declarant — is answered from one read of the declaration's
small head record. The answer depends only on the head and on how many life-cycle steps the
clock has reached, so the rendering is reused while both stay the same.

The first read after registration must issue the registration number (a store write), so that
one is declined to the full handler, which writes the number into the head; every later read
is hot again.
"""

from __future__ import annotations

import json
from typing import Any

from ..core.access import AccessPolicy
from ..core.bearer import BearerGate
from ..core.context import ServiceContext
from ..core.hot_path import HotAnswer, HotRequest, HotRoute, caller, compact_json
from .cards import status_summary
from .handlers import BASE, READ_SCOPES
from .lifecycle import progress_of
from .repository import DeclarationRepository

__all__ = ["hot_status"]

_CANONICAL_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_RENDERED_LIMIT = 8192


def hot_status(ctx: ServiceContext, verifier: BearerGate, policy: AccessPolicy) -> HotRoute:
    repository = DeclarationRepository(ctx.store)
    heads: dict[str, tuple[str, dict[str, Any]]] = {}
    rendered: dict[tuple[str, int], bytes] = {}

    async def answer(request: HotRequest) -> HotAnswer | None:
        known_caller = await caller(request, verifier, ctx.clock, READ_SCOPES)
        if known_caller is None:
            return None
        now = known_caller[1]
        declaration_id = request.groups[0]
        raw = await repository.head_text(declaration_id)
        if raw is None:
            return None
        known = heads.get(declaration_id)
        if known is None or known[0] != raw:
            if len(heads) >= _RENDERED_LIMIT:
                heads.clear()
                rendered.clear()
            known = heads[declaration_id] = (raw, json.loads(raw))
        head = known[1]
        if not policy.may_see(known_caller[0], head.get("declarant")):
            return None  # another declarant's (or a head without its declarant): the full handler answers
        state = progress_of(head, now)
        if state.registered_at is not None and head.get("registrationNumber") is None:
            return None
        key = (raw, len(state.reached))
        body = rendered.get(key)
        if body is None:
            body = rendered[key] = compact_json(status_summary(head, state))
        return HotAnswer(body)

    return HotRoute(f"{BASE}/({_CANONICAL_UUID})/status", answer, template=BASE + "/{id}/status")
