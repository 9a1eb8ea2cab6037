"""Requests to customs (обращения): file, list, read, comment — ``/api/v1/appeals``.

An appeal's status follows the stand's clock, as a declaration's does, so every replica agrees
and tests move time instead of sleeping: "В обработке" when filed, "На согласовании" after
60 s (an officer's answer is being approved), "Завершено" after 300 s (the answer is sent).
Each change is a history entry with the officer's comment. The declarant may comment until the
appeal is finished (then 409). Filing and commenting take an ``Idempotency-Key``. Only the
people of the organisation an appeal is filed for (the access policy) see it or comment on it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..core.access import AccessPolicy
from ..core.bearer import BearerGate
from ..core.context import context
from ..core.identifiers import is_valid_inn
from ..core.json_body import read_json
from ..core.problems import Problem
from ..core.query import bounded_int
from .appeal_repository import AppealRepository
from .appeal_validation import validate_appeal, validate_comment
from .cards import iso
from .handlers import READ_SCOPES, WRITE_SCOPES, idempotency_key_of
from .paging import Position, parse_cursor

__all__ = ["APPEALS", "AppealsApi", "STEPS"]

APPEALS = "/api/v1/appeals"
IN_PROCESSING, IN_APPROVAL, FINISHED = "В обработке", "На согласовании", "Завершено"
#: (status, seconds after filing, the officer's comment).
STEPS = (
    (IN_PROCESSING, 0.0, "Обращение зарегистрировано и передано должностному лицу"),
    (IN_APPROVAL, 60.0, "Проект ответа подготовлен и направлен на согласование"),
    (FINISHED, 300.0, "Ответ на обращение направлен заявителю"),
)
MAX_LIMIT = 100


def _history(record: dict[str, Any], now: float) -> list[dict[str, str]]:
    filed = record["submittedUs"] / 1e6
    return [{"status": status, "at": iso(filed + after), "comment": comment}
            for status, after, comment in STEPS if filed + after <= now or after == 0.0]


def _card(record: dict[str, Any], comments: list[dict[str, Any]], now: float) -> dict[str, Any]:
    history = _history(record, now)
    return {
        "id": record["id"], "number": record["number"], "inn": record["inn"], "kpp": record["kpp"],
        "subject": record["subject"], "text": record["text"], "declarationId": record["declarationId"],
        "attachments": record["attachments"], "status": history[-1]["status"],
        "submittedAt": iso(record["submittedUs"] / 1e6), "updatedAt": history[-1]["at"],
        "history": history, "comments": comments,
    }


def _appeal_id(request: Request) -> str:
    raw = request.path_params["id"]
    try:
        parsed = uuid.UUID(raw)
    except ValueError:
        raise Problem(404, "no appeal has this id") from None
    if str(parsed) != raw.lower():
        raise Problem(404, "no appeal has this id")
    return str(parsed)


#: The answer to an appeal id nobody holds, and to another organisation's.
NO_APPEAL = "no appeal has this id"


class AppealsApi:
    def __init__(self, verifier: BearerGate, policy: AccessPolicy | None = None) -> None:
        self._verifier = verifier
        self._policy = policy or AccessPolicy()

    async def collection(self, request: Request) -> Response:
        if request.method == "POST":
            return await self.file(request)
        return await self.list(request)

    async def file(self, request: Request) -> Response:
        identity = await self._verifier.identify(request, scopes=WRITE_SCOPES)
        key = idempotency_key_of(request)
        appeal = validate_appeal(await read_json(request))
        self._policy.require_named(identity, appeal, pointer="/inn", what="the declarant")
        ctx = context(request)
        now = await ctx.clock.now()
        repository = AppealRepository(ctx.store)
        fingerprint = hashlib.sha256(json.dumps(appeal, sort_keys=True).encode()).hexdigest()
        record = {"id": str(uuid.uuid4()), **appeal, "number": await repository.number(now),
                  "submittedUs": round(now * 1_000_000), "fingerprint": fingerprint}
        outcome = await repository.add(record, idempotency_key=key)
        if outcome is None:
            raise Problem(409, "this Idempotency-Key's appeal was removed meanwhile; retry")
        first, created = outcome
        if first["fingerprint"] != fingerprint:
            raise Problem(409, "this Idempotency-Key was already used for another appeal; use a new key",
                          existingId=first["id"])
        headers = {"Location": f"{APPEALS}/{first['id']}"}
        if not created:
            headers["Idempotent-Replayed"] = "true"
        return JSONResponse(_card(first, [], first["submittedUs"] / 1e6), status_code=201, headers=headers)

    async def list(self, request: Request) -> Response:
        identity = await self._verifier.identify(request, scopes=READ_SCOPES)
        errors = []
        inn = request.query_params.get("inn")
        if inn is None or not is_valid_inn(inn):
            errors.append({"parameter": "inn", "detail": "required: a valid INN"})
        limit = bounded_int(request.query_params, "limit", 20, 1, MAX_LIMIT, errors)
        after = None
        if (cursor := request.query_params.get("cursor")) is not None:
            try:
                after = parse_cursor(cursor)
            except Problem as problem:
                errors.extend(problem.errors or [])
        if errors:
            raise Problem(400, "the query is malformed", errors=errors)
        assert inn is not None
        self._policy.require_named(identity, {"inn": inn}, pointer="?inn", what="the declarant")
        ctx = context(request)
        now = await ctx.clock.now()
        repository = AppealRepository(ctx.store)
        records = await repository.newest_first(inn, limit + 1, after=after)
        page = records[:limit]
        last = Position(page[-1]["submittedUs"], page[-1]["id"]) if len(records) > limit else None
        return JSONResponse({"items": [_card(r, await repository.comments(r["id"]), now) for r in page],
                             "nextCursor": None if last is None else last.cursor})

    async def card(self, request: Request) -> Response:
        identity = await self._verifier.identify(request, scopes=READ_SCOPES)
        appeal_id = _appeal_id(request)
        ctx = context(request)
        repository = AppealRepository(ctx.store)
        record = await repository.get(appeal_id)
        self._policy.require_own(identity, record, missing=NO_APPEAL)
        assert record is not None
        return JSONResponse(_card(record, await repository.comments(appeal_id), await ctx.clock.now()))

    async def comment(self, request: Request) -> Response:
        identity = await self._verifier.identify(request, scopes=WRITE_SCOPES)
        key = idempotency_key_of(request)
        appeal_id = _appeal_id(request)
        ctx = context(request)
        repository = AppealRepository(ctx.store)
        record = await repository.get(appeal_id)
        self._policy.require_own(identity, record, missing=NO_APPEAL)
        assert record is not None
        text = validate_comment(await read_json(request))
        now = await ctx.clock.now()
        if _history(record, now)[-1]["status"] == FINISHED:
            raise Problem(409, "the appeal is finished (Завершено): file a new one", currentStatus=FINISHED)
        comment = {"id": str(uuid.uuid4()), "author": "declarant", "authorOid": identity.oid, "text": text,
                   "at": iso(now)}
        stored, created = await repository.add_comment(appeal_id, comment, idempotency_key=key)
        if stored["text"] != text:
            raise Problem(409, "this Idempotency-Key was already used for another comment; use a new key")
        return JSONResponse(stored, status_code=201, headers={} if created else {"Idempotent-Replayed": "true"})
