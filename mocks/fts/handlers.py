"""HTTP handlers of the FTS declarations API (base path ``/api/v1``).

Every operation first identifies the caller by the ESIA access token (``openid``; submitting
also needs ``usr_org``), then checks its input, then touches the store. A caller sees and changes
only the declarations of the organisations it acts for (:class:`~..core.access.AccessPolicy`):
another declarant's declaration is a 404 as if it did not exist, a list or a filing naming
another declarant a 403.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..core.access import AccessPolicy
from ..core.bearer import BearerGate, Identity
from ..core.context import context
from ..core.json_body import read_json
from ..core.problems import Problem
from .cards import card, status_summary
from .events import feed, parse_events_query
from .lifecycle import DEFAULT_PLAN, Progress, progress
from .listing import declarations_page
from .queries import parse_list_query
from .repository import DeclarationRepository, StillChanging, fingerprint
from .validation import validate_declaration

__all__ = ["BASE", "DeclarationsApi", "EVENTS", "MAX_BODY_BYTES", "NO_DECLARATION", "READ_SCOPES", "WRITE_SCOPES",
           "declaration_id_of", "idempotency_key_of", "own_head"]

READ_SCOPES = ("openid",)
WRITE_SCOPES = ("openid", "usr_org")
#: The body limit of a declaration, an appeal and a comment (the route table in :mod:`.service`
#: declares it): 999 goods items of generous size fit well within this.
MAX_BODY_BYTES = 1 << 20
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]{1,128}$"
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
BASE = "/api/v1/declarations"
#: The answer to an id nobody holds, and to one another declarant holds (the same words).
NO_DECLARATION = "no declaration has this id"
EVENTS = "/api/v1/events"


def declaration_id_of(request: Request) -> str:
    """The path's id as a canonical UUID; anything else names no declaration (404)."""
    raw = request.path_params["id"]
    try:
        parsed = uuid.UUID(raw)
    except ValueError:
        raise Problem(404, "no declaration has this id") from None
    if str(parsed) != raw.lower():
        raise Problem(404, "no declaration has this id")
    return str(parsed)


def idempotency_key_of(request: Request) -> str:
    key = request.headers.get("idempotency-key")
    if not key:
        raise Problem(400, "send an Idempotency-Key header (1–128 visible ASCII characters); a retry "
                           "with the same key returns the first result instead of filing twice",
                      errors=[{"header": "Idempotency-Key", "detail": "required"}])
    if not _IDEMPOTENCY_KEY.fullmatch(key):
        raise Problem(400, "the Idempotency-Key must be 1–128 visible ASCII characters",
                      errors=[{"header": "Idempotency-Key", "detail": "1–128 visible ASCII characters"}])
    return key


async def own_head(repository: DeclarationRepository, policy: AccessPolicy, identity: Identity,
                   declaration_id: str) -> dict[str, Any]:
    """The head of a declaration of an organisation the caller acts for; 404 otherwise (also for
    another declarant's, so nobody learns it exists). A head written before heads carried the
    declarant is completed from the record."""
    head = await repository.head(declaration_id)
    declarant = None if head is None else head.get("declarant")
    if head is not None and declarant is None:
        record = await repository.get(declaration_id)
        declarant = None if record is None else record.get("declarant")
    if head is None:
        raise Problem(404, NO_DECLARATION)
    policy.require_own(identity, declarant, missing=NO_DECLARATION)
    return head


class DeclarationsApi:
    """The handlers, sharing the replica's token verifier (built once at start) and the access
    policy."""

    def __init__(self, verifier: BearerGate, policy: AccessPolicy | None = None) -> None:
        self._verifier = verifier
        self._policy = policy or AccessPolicy()

    async def collection(self, request: Request) -> Response:
        if request.method == "POST":
            return await self.submit(request)
        return await self.list(request)

    async def submit(self, request: Request) -> Response:
        identity = await self._verifier.identify(request, scopes=WRITE_SCOPES)
        key = idempotency_key_of(request)
        submission = validate_declaration(await read_json(request))
        self._policy.require_named(identity, submission["declarant"], pointer="/declarant", what="the declarant")
        ctx = context(request)
        now = await ctx.clock.now()
        record = {
            "id": str(uuid.uuid4()),
            **submission,
            "submittedUs": int(now * 1_000_000),
            "plan": submission.get("scenario", DEFAULT_PLAN),
            "registrationNumber": None,
            "fingerprint": fingerprint(submission),
            "submittedBy": identity.oid,
        }
        claim = await DeclarationRepository(ctx.store).submit(record, idempotency_key=key)
        if claim is None:
            raise Problem(409, "this Idempotency-Key's declaration was removed meanwhile; retry")
        if claim.record["fingerprint"] != record["fingerprint"]:
            raise Problem(409, "this Idempotency-Key was already used by this declarant for a different "
                               "declaration; use a new key for a new declaration",
                          existingId=claim.record["id"])
        first = claim.record
        # The first answer, replayed exactly: the card as it stood at the moment of submission.
        submitted_at = first["submittedUs"] / 1e6
        state = progress(submitted_at=submitted_at, plan=first["plan"], now=submitted_at)
        headers = {"Location": f"{BASE}/{first['id']}"}
        if not claim.created:
            headers["Idempotent-Replayed"] = "true"
        return JSONResponse(card(first, state), status_code=201, headers=headers)

    async def list(self, request: Request) -> Response:
        identity = await self._verifier.identify(request, scopes=READ_SCOPES)
        query = parse_list_query(request.query_params)
        # The list is about a legal entity: its INN decides; a KPP only filters within it.
        self._policy.require_named(identity, {"inn": query.inn}, pointer="?inn", what="the declarant")
        ctx = context(request)
        page, next_cursor = await declarations_page(ctx.store, query, await ctx.clock.now())
        return JSONResponse({"items": page, "nextCursor": next_cursor})

    async def card(self, request: Request) -> Response:
        identity = await self._verifier.identify(request, scopes=READ_SCOPES)
        record, state = await self._settled(request, identity)
        return JSONResponse(card(record, state))

    async def status(self, request: Request) -> Response:
        identity = await self._verifier.identify(request, scopes=READ_SCOPES)
        head, state = await self._settled(request, identity, head_only=True)
        return JSONResponse(status_summary(head, state))

    async def withdraw(self, request: Request) -> Response:
        """``POST …/{id}/withdrawal``: the declarant withdraws (decision 81 once registered).

        Allowed only while no decision is taken (409 otherwise). The withdrawal is claimed once
        in the store, so a retry with the same ``Idempotency-Key`` — on any replica — answers
        the first result again, and a second withdrawal under another key is a 409."""
        identity = await self._verifier.identify(request, scopes=WRITE_SCOPES)
        key = idempotency_key_of(request)
        declaration_id = declaration_id_of(request)
        ctx = context(request)
        repository = DeclarationRepository(ctx.store)
        head = await own_head(repository, self._policy, identity, declaration_id)
        now = await ctx.clock.now()
        claim = await repository.withdrawal(declaration_id)
        replayed = claim is not None
        if claim is None:
            state = await repository.settle(head, now)
            if not state.withdrawable:
                raise Problem(409, f"the declaration is {state.status.value}: it can be withdrawn only "
                                   "before a decision", currentStatus=state.status.value)
            try:
                outcome = await repository.withdraw(declaration_id, key=key, withdrawn_us=round(now * 1_000_000))
            except StillChanging:
                raise Problem(409, "the declaration keeps changing; try again") from None
            if outcome is None:
                raise Problem(404, "no declaration has this id")
            claim, created = outcome
            replayed = not created
        if claim["key"] != hashlib.sha256(key.encode()).hexdigest():
            raise Problem(409, "the declaration was already withdrawn with another Idempotency-Key")
        after = await repository.head(declaration_id)
        assert after is not None
        withdrawn_at = claim["withdrawnUs"] / 1e6
        state = await repository.settle(after, withdrawn_at)
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        return JSONResponse(status_summary(after, state), headers=headers)

    async def events(self, request: Request) -> Response:
        identity = await self._verifier.identify(request, scopes=READ_SCOPES)
        query = parse_events_query(request.query_params)
        self._policy.require_named(identity, {"inn": query.inn}, pointer="?inn", what="the declarant")
        ctx = context(request)
        return JSONResponse(await feed(DeclarationRepository(ctx.store), query, await ctx.clock.now()))

    async def _settled(self, request: Request, identity: Identity, *,
                       head_only: bool = False) -> tuple[dict[str, Any], Progress]:
        declaration_id = declaration_id_of(request)
        ctx = context(request)
        repository = DeclarationRepository(ctx.store)
        if head_only:
            record = await own_head(repository, self._policy, identity, declaration_id)
        else:
            found = await repository.get(declaration_id)
            self._policy.require_own(identity, None if found is None else found.get("declarant"),
                                     missing=NO_DECLARATION)
            assert found is not None
            record = found
        return record, await repository.settle(record, await ctx.clock.now())

