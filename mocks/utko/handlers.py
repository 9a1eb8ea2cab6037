"""HTTP handlers of the UTKO API (base path ``/v1``): objects CRUD and requests by date.

Reading needs an ESIA token with ``openid``; creating, replacing and deleting objects also
``usr_org``. An object is its operator's: a caller sees and changes only the objects of the
organisations it acts for (:class:`~..core.access.AccessPolicy`) — another operator's object is a
404 as if it did not exist, and creating one for, moving one to or listing another operator is a
403. A list that names no operator lists the caller's own organisation's objects.

Objects carry an ``ETag`` (their version) on every read and write; ``PUT`` needs ``If-Match``
and ``DELETE`` honours it (:mod:`.preconditions`, atomic across replicas in :mod:`.repository`).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..core.access import AccessPolicy
from ..core.bearer import Identity
from ..core.context import context
from ..core.cursors import decode_cursor, encode_cursor
from ..core.json_body import read_json
from ..core.problems import Problem
from ..core.query import bounded_int
from .access_keys import ACCESS_KEY_HEADER, issue_access_key
from .gate import UtkoGate
from .params import iso_from_micros, object_filters
from .preconditions import entity_tag, matches, optional_if_match, required_if_match
from .repository import ObjectRepository, version_of
from .requests import REQUEST_STATUSES, requests_on
from .validation import validate_object

__all__ = ["UtkoApi"]

READ_SCOPES = ("openid",)
WRITE_SCOPES = ("openid", "usr_org")
#: An object's body limit (the route table in :mod:`.service` declares it).
MAX_BODY_BYTES = 256 * 1024
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_OFFSET = 1_000_000
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: The answer to an object id nobody holds, and to another operator's.
NO_OBJECT = "no object has this id"


_INTERNAL = ("createdUs", "updatedUs", "version")
#: How often an unconditional DELETE re-reads an object that keeps changing under it.
_DELETE_ATTEMPTS = 8


def _view(record: dict[str, Any]) -> dict[str, Any]:
    fields = {key: value for key, value in record.items() if key not in _INTERNAL}
    return {**fields, "createdAt": iso_from_micros(record["createdUs"]),
            "updatedAt": iso_from_micros(record["updatedUs"])}


def _object_id(request: Request) -> str:
    raw = request.path_params["id"]
    try:
        parsed = uuid.UUID(raw)
    except ValueError:
        raise Problem(404, "no object has this id") from None
    if str(parsed) != raw.lower():
        raise Problem(404, "no object has this id")
    return str(parsed)


async def _body(request: Request) -> dict[str, Any]:
    return validate_object(await read_json(request))


def _stale(record: dict[str, Any]) -> Problem:
    current = entity_tag(version_of(record))
    return Problem(412, f"If-Match does not name the current version {current}; read the object again",
                   headers={"ETag": current})


class UtkoApi:
    def __init__(self, verifier: UtkoGate, policy: AccessPolicy | None = None) -> None:
        self._verifier = verifier
        self._policy = policy or AccessPolicy()

    def _own(self, identity: Identity, record: dict[str, Any] | None) -> dict[str, Any]:
        """``record`` if the caller acts for its operator; 404 otherwise, as for no record."""
        self._policy.require_own(identity, None if record is None else record.get("operator"), missing=NO_OBJECT)
        assert record is not None
        return record

    def _may_operate(self, identity: Identity, fields: dict[str, Any]) -> None:
        self._policy.require_named(identity, fields["operator"], pointer="/operator", what="the operator")

    async def objects(self, request: Request) -> Response:
        if request.method == "POST":
            return await self.create(request)
        identity = await self._verifier.identify(request, scopes=READ_SCOPES)
        errors: list[dict[str, str]] = []
        limit = bounded_int(request.query_params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT, errors)
        offset = bounded_int(request.query_params, "offset", 0, 0, MAX_OFFSET, errors)
        filters = object_filters(request.query_params, errors)
        cursor = request.query_params.get("cursor")
        if errors:
            raise Problem(400, "the query is malformed", errors=errors)
        if "operator" in filters:
            self._policy.require_named(identity, {"inn": filters["operator"]}, pointer="?operatorInn",
                                       what="the operator")
        else:
            filters["operator"] = self._policy.only_inn(identity, parameter="operatorInn")
        after = None if cursor is None else decode_cursor(cursor)
        records, total, last = await ObjectRepository(context(request).store).page(
            limit=limit, offset=offset, after=after, filters=filters
        )
        page: dict[str, Any] = {"items": [_view(r) for r in records], "total": total, "limit": limit}
        if after is None:
            page["offset"] = offset
        if last is not None:
            page["nextCursor"] = encode_cursor(*last)
        return JSONResponse(page)

    async def create(self, request: Request) -> Response:
        identity = await self._verifier.identify(request, scopes=WRITE_SCOPES)
        fields = await _body(request)
        self._may_operate(identity, fields)
        ctx = context(request)
        now_us = int(await ctx.clock.now() * 1_000_000)
        record = {"id": str(uuid.uuid4()), **fields, "createdUs": now_us, "updatedUs": now_us, "version": 1}
        access_key = await issue_access_key(ctx.store, record["id"])
        await ObjectRepository(ctx.store).create(record)
        return JSONResponse(_view(record), status_code=201,
                            headers={"Location": f"/v1/objects/{record['id']}", "ETag": entity_tag(1),
                                     ACCESS_KEY_HEADER: access_key})

    async def object(self, request: Request) -> Response:
        if request.method == "PUT":
            return await self.replace(request)
        if request.method == "DELETE":
            return await self.delete(request)
        identity = await self._verifier.identify(request, scopes=READ_SCOPES)
        record = self._own(identity, await ObjectRepository(context(request).store).get(_object_id(request)))
        return JSONResponse(_view(record), headers={"ETag": entity_tag(version_of(record))})

    async def replace(self, request: Request) -> Response:
        identity = await self._verifier.identify(request, scopes=WRITE_SCOPES)
        object_id = _object_id(request)
        ctx = context(request)
        repository = ObjectRepository(ctx.store)
        existing = await repository.read(object_id)
        self._own(identity, None if existing is None else existing.record)
        assert existing is not None
        wanted = required_if_match(request)
        fields = await _body(request)
        self._may_operate(identity, fields)
        if not matches(wanted, version_of(existing.record)):
            raise _stale(existing.record)
        version = version_of(existing.record) + 1
        record = {"id": object_id, **fields, "createdUs": existing.record["createdUs"],
                  "updatedUs": int(await ctx.clock.now() * 1_000_000), "version": version}
        if not await repository.replace(record, existing):
            raise Problem(412, "the object changed while this request was processed; read it again")
        return JSONResponse(_view(record), headers={"ETag": entity_tag(version)})

    async def delete(self, request: Request) -> Response:
        identity = await self._verifier.identify(request, scopes=WRITE_SCOPES)
        object_id = _object_id(request)
        wanted = optional_if_match(request)
        repository = ObjectRepository(context(request).store)
        for _ in range(_DELETE_ATTEMPTS):
            existing = await repository.read(object_id)
            self._own(identity, None if existing is None else existing.record)
            assert existing is not None
            if wanted is not None and not matches(wanted, version_of(existing.record)):
                raise _stale(existing.record)
            if await repository.delete(existing):
                return Response(status_code=204)
            if wanted is not None:
                raise Problem(412, "the object changed while this request was processed; read it again")
        raise Problem(409, "the object keeps changing; try again")

    async def requests(self, request: Request) -> Response:
        await self._verifier.identify(request, scopes=READ_SCOPES)
        raw = request.query_params.get("date")
        day = None
        if raw is not None and _DATE.fullmatch(raw):
            try:
                day = dt.date.fromisoformat(raw)
            except ValueError:
                day = None
        if day is None:
            raise Problem(400, "say which day: date=YYYY-MM-DD",
                          errors=[{"parameter": "date", "detail": "required, a calendar date YYYY-MM-DD"}])
        status = request.query_params.get("status")
        if status is not None and status not in REQUEST_STATUSES:
            raise Problem(400, "unknown request status",
                          errors=[{"parameter": "status", "detail": f"one of {', '.join(REQUEST_STATUSES)}"}])
        found = requests_on(day, now=await context(request).clock.now())
        if status is not None:
            found = [item for item in found if item["status"] == status]
        return JSONResponse({"date": day.isoformat(), "items": found})
