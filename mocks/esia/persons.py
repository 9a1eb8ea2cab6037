"""``/rs/prns/{oid}``: the person's data, as much as the access token's scopes open.

One route takes every path under ``/rs/`` and splits it itself, because real clients send
trailing slashes and double slashes (``/rs/prns//1000/ctts/``) that a router would reject.
Collections list absolute URLs of their elements on this server unless asked to
``?embed=(elements)``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..core.context import context
from ..core.problems import Problem
from .errors import RsError, expired_token, scope_not_allowed
from .runtime import token_verifier
from .scopes import CONTACT_TYPES, DOCUMENT_TYPES, ROOT_FIELDS, visible_kinds
from .users import load_user

#: Collection path → (record key, name when embedded in the root, element-type table).
COLLECTIONS: dict[str, tuple[str, str, dict[str, frozenset[str]] | None]] = {
    "ctts": ("contacts", "contacts", CONTACT_TYPES),
    "addrs": ("addresses", "addresses", None),
    "docs": ("documents", "documents", DOCUMENT_TYPES),
}
ALWAYS_ON_ROOT = ("trusted", "citizenship", "status")


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status_code=status, media_type="application/json")


def _etag(value: Any) -> str:
    return hashlib.sha1(json.dumps(value, sort_keys=True).encode()).hexdigest().upper()


def _visible(collection: str, granted: frozenset[str], items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The elements of a collection the token may read; 403 when it may read none of its kind."""
    table = COLLECTIONS[collection][2]
    if table is None:
        if "addresses" not in granted:
            raise scope_not_allowed()
        return items
    kinds = visible_kinds(table, granted)
    if not kinds:
        raise scope_not_allowed()
    return [item for item in items if item["type"] in kinds]


def _embed_wanted(request: Request) -> set[str]:
    """``?embed=(contacts.elements,documents.elements)`` → ``{"contacts.elements", ...}``."""
    raw = request.query_params.get("embed", "")
    return {part.strip() for part in raw.strip("()").split(",") if part.strip()}


def _collection(base: str, name: str, items: list[dict[str, Any]], *, embed: bool) -> dict[str, Any]:
    elements: list[Any] = items if embed else [f"{base}/{name}/{item['id']}" for item in items]
    return {"stateFacts": ["hasSize"], "size": len(items), "eTag": _etag(items), "elements": elements}


def _root(record: dict[str, Any], granted: frozenset[str], base: str, embed: set[str]) -> dict[str, Any]:
    person = record["person"]
    body: dict[str, Any] = {"stateFacts": ["EntityRoot"]}
    for scope, fields in ROOT_FIELDS.items():
        if scope in granted:
            body.update({name: person[name] for name in fields if name in person})
    body.update({name: person[name] for name in ALWAYS_ON_ROOT if name in person})
    body["updatedOn"] = record["updatedOn"]
    body["eTag"] = _etag(body)
    for path, (key, embedded_name, _) in COLLECTIONS.items():
        if f"{embedded_name}.elements" in embed:
            try:
                items = _visible(path, granted, record[key])
            except RsError:
                continue
            body[embedded_name] = _collection(base, path, items, embed=True)
    return body


async def person_data(request: Request) -> Response:
    ctx = context(request)
    try:
        identity = await token_verifier(ctx.settings).identify(request, scopes=("openid",))
    except Problem as problem:
        raise (expired_token() if problem.status == 401 else scope_not_allowed()) from None
    parts = [part for part in request.path_params["rest"].split("/") if part]
    if len(parts) < 2 or parts[0] != "prns" or not parts[1].isdigit() or len(parts) > 4 or len(parts[1]) > 18:
        raise RsError(404, "ESIA-005001", "ResourceNotFound")
    oid = int(parts[1])
    if oid != identity.oid:
        raise scope_not_allowed()
    record = await load_user(ctx.store, oid)
    if record is None:
        raise RsError(404, "ESIA-005001", "ResourceNotFound")
    base = f"{ctx.settings.public_url}/rs/prns/{oid}"
    granted = identity.scopes
    if len(parts) == 2:
        return _json(_root(record, granted, base, _embed_wanted(request)))
    collection = parts[2]
    if collection not in COLLECTIONS:
        raise RsError(404, "ESIA-005001", "ResourceNotFound")
    items = _visible(collection, granted, record[COLLECTIONS[collection][0]])
    if len(parts) == 3:
        embed = "elements" in _embed_wanted(request)
        return _json(_collection(base, collection, items, embed=embed))
    found = [item for item in record[COLLECTIONS[collection][0]] if str(item["id"]) == parts[3]]
    if not found:
        raise RsError(404, "ESIA-005001", "ResourceNotFound")
    if found[0] not in items:
        raise scope_not_allowed()
    return _json(found[0])
