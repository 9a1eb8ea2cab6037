"""REO's weight-control API: the import (multipart file, per-object access key) and reading back.

``POST /reo-weight-control-api/api/v1/weight-controls/import`` takes a multipart form whose
``file`` part holds UTF-8 JSON ``{objectId, accessKey, weightControls: [...]}``. It is a machine
integration: the access key of the object authenticates it, not an ESIA token.

Answers, in the order they are decided:

- 415 when the body is not ``multipart/form-data``; 413 above 5 MiB; 400 when there is no
  ``file`` part or it is not UTF-8 JSON;
- 422 when the envelope lacks ``objectId`` or ``accessKey``;
- 403 when no object has that id or the key is not its key (one answer for both, so the import
  does not reveal which objects exist);
- 422 when ``weightControls`` is not an array of at most 1000 items;
- **the partial-batch rule**: every valid weight control is imported, an id imported before
  (or twice in one file) is skipped, and every invalid one is listed under ``rejected`` with its
  index, id and pointers — 200. Only when nothing in the file could be used (at least one weight
  control and all of them invalid) is the answer 422, listing every error. Fixing the rejected
  ones and posting the whole file again is safe: what was imported is skipped.

``GET /reo-weight-control-api/api/v1/weight-controls?objectId=`` reads them back (ESIA token,
``openid``) ordered by ``dateBefore``, with ``limit``/``offset``.
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..core.access import AccessPolicy
from ..core.context import context
from ..core.forms import MULTIPART, NotAForm, media_type, multipart_form
from ..core.json_body import NotJson, parse_json
from ..core.problems import Problem
from ..core.query import bounded_int
from ..core.store import Store
from .access_keys import check_access_key
from .gate import UtkoGate
from .params import canonical_uuid, iso_from_micros
from .repository import ObjectRepository
from .weight_repository import WeightControlRepository
from .weight_validation import validate_envelope, validate_records, validate_weight_control

__all__ = ["MAX_FILE_BYTES", "WeightControlApi"]

#: The whole form, the route's body limit (declared in :mod:`.service`).
MAX_FILE_BYTES = 5 * 1024 * 1024
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_OFFSET = 1_000_000
_INTERNAL = ("key", "atUs", "importedUs")


async def _file_payload(request: Request) -> Any:
    """The JSON of the ``file`` part, or the 415/413/400 problem that says what is wrong. The
    whole form is read against :data:`MAX_FILE_BYTES`, the route's body limit."""
    if media_type(request) != MULTIPART:
        raise Problem(415, "send a multipart/form-data form with the JSON in its 'file' part")
    try:
        async with multipart_form(request, max_parts=16, max_field_bytes=MAX_FILE_BYTES) as form:
            part = form.get("file")
            raw = await part.read() if isinstance(part, UploadFile) else part
    except NotAForm as exc:
        raise Problem(400, str(exc)) from None
    if raw is None:
        raise Problem(400, "the form has no 'file' part",
                      errors=[{"parameter": "file", "detail": "required, UTF-8 JSON"}])
    if isinstance(raw, str):
        raw = raw.encode()
    try:
        return parse_json(raw.decode("utf-8-sig"), what="the file")
    except UnicodeDecodeError as exc:
        raise Problem(400, f"the file is not UTF-8 JSON: {exc}",
                      errors=[{"parameter": "file", "detail": "not UTF-8 JSON"}]) from None
    except NotJson as exc:
        raise Problem(400, str(exc), errors=[{"parameter": "file", "detail": str(exc)}]) from None


def _view(record: dict[str, Any]) -> dict[str, Any]:
    fields = {name: value for name, value in record.items() if name not in _INTERNAL}
    return {**fields, "importedAt": iso_from_micros(record["importedUs"])}


class WeightControlApi:
    def __init__(self, verifier: UtkoGate, policy: AccessPolicy | None = None) -> None:
        self._verifier = verifier
        self._policy = policy or AccessPolicy()

    @staticmethod
    async def _key_opens(store: Store, object_id: str, access_key: str) -> bool:
        """Whether ``object_id`` names a registered object and ``access_key`` is its key."""
        if canonical_uuid(object_id) is None or await ObjectRepository(store).get(object_id) is None:
            return False
        return await check_access_key(store, object_id, access_key)

    async def import_file(self, request: Request) -> Response:
        object_id, access_key, records = validate_envelope(await _file_payload(request))
        ctx = context(request)
        if not await self._key_opens(ctx.store, object_id, access_key):
            raise Problem(403, "no object has this id, or this is not its access key")
        records = validate_records(records)
        repository = WeightControlRepository(ctx.store, object_id)
        imported_us = int(await ctx.clock.now() * 1_000_000)
        imported: list[Any] = []
        skipped: list[Any] = []
        rejected: list[dict[str, Any]] = []
        for index, record in enumerate(records):
            stored, errors = validate_weight_control(record, index)
            if stored is None:
                rejected.append({"index": index, "id": record.get("id") if isinstance(record, dict) else None,
                                 "errors": errors})
            elif await repository.add({**stored, "importedUs": imported_us}):
                imported.append(stored["id"])
            else:
                skipped.append(stored["id"])
        if rejected and not imported and not skipped:
            raise Problem(422, f"all {len(rejected)} weight controls are invalid; nothing was imported",
                          errors=[error for entry in rejected for error in entry["errors"]])
        return JSONResponse({"objectId": object_id, "received": len(records), "imported": imported,
                             "skipped": skipped, "rejected": rejected})

    async def list(self, request: Request) -> Response:
        identity = await self._verifier.identify(request, scopes=("openid",))
        errors: list[dict[str, str]] = []
        raw_id = request.query_params.get("objectId")
        object_id = None
        try:
            object_id = str(uuid.UUID(raw_id)) if raw_id is not None else None
        except ValueError:
            pass
        if object_id is None:
            errors.append({"parameter": "objectId", "detail": "required, the id (UUID) of an object"})
        limit = bounded_int(request.query_params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT, errors)
        offset = bounded_int(request.query_params, "offset", 0, 0, MAX_OFFSET, errors)
        if errors or object_id is None:
            raise Problem(400, "the query is malformed", errors=errors)
        store = context(request).store
        found = await ObjectRepository(store).get(object_id)
        # Another operator's object is no object at all to this caller (the access policy).
        self._policy.require_own(identity, None if found is None else found.get("operator"),
                                 missing="no object has this id")
        records, total = await WeightControlRepository(store, object_id).page(offset=offset, limit=limit)
        return JSONResponse({"objectId": object_id, "items": [_view(r) for r in records], "total": total,
                             "limit": limit, "offset": offset})
