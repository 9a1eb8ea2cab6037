"""``/rs/prns/{oid}`` and ``/rs/orgs/{org_oid}``: person and organisation data, as much as the
access token's scopes open.

One route takes every path under ``/rs/`` and splits it itself, because real clients send
trailing slashes and double slashes (``/rs/prns//1000/ctts/``) that a router would reject.
Collections list absolute URLs of their elements on this server unless asked to
``?embed=(elements)``.

Person collections: ``ctts``, ``addrs``, ``docs``, ``vhls``, ``kids`` (from the person's
record) and ``roles``, ``orgs`` (the person's employments, scope ``usr_org``; see
:mod:`.organisations`). Organisation data is served by :mod:`.org_data`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ...core.context import ServiceContext, context
from ...core.hot_path import HotAnswer, HotRequest, HotRoute, caller
from ...core.problems import Problem
from ..accounts.organisations import parse_oid, roles_of
from ..accounts.users import load_user, user_key
from ..errors import TOKEN_EXPIRED, RsError
from ..oauth.token_verifier import own_gate
from ..scopes import (
    ADDRESS_SCOPES,
    CONTACT_TYPES,
    DOCUMENT_TYPES,
    KID_FIELDS,
    ORGANISATION_SCOPES,
    ROOT_FIELDS,
    VEHICLE_SCOPES,
    visible_kinds,
)
from .org_data import organisation_data
from .shapes import collection, embed_wanted, etag, json_response, not_found, scope_not_allowed

ALWAYS_ON_ROOT = ("trusted", "citizenship", "status")
Items = list[dict[str, Any]]


def _typed(table: dict[str, frozenset[str]]) -> Callable[[frozenset[str], Items], Items]:
    def visible(granted: frozenset[str], items: Items) -> Items:
        kinds = visible_kinds(table, granted)
        if not kinds:
            raise scope_not_allowed()
        return [item for item in items if item["type"] in kinds]

    return visible


def _whole(scopes: frozenset[str]) -> Callable[[frozenset[str], Items], Items]:
    def visible(granted: frozenset[str], items: Items) -> Items:
        if not scopes & granted:
            raise scope_not_allowed()
        return items

    return visible


def _kids(granted: frozenset[str], items: Items) -> Items:
    """Children with only the fields the ``kid_*`` scopes open."""
    fields = [name for scope, names in KID_FIELDS.items() if scope in granted for name in names]
    if not fields:
        raise scope_not_allowed()
    return [{k: v for k, v in item.items() if k in ("stateFacts", "id", *fields)} for item in items]


#: Collection path → (record key, name when embedded in the root, visibility rule, element key).
COLLECTIONS: dict[str, tuple[str, str, Callable[[frozenset[str], Items], Items], str]] = {
    "ctts": ("contacts", "contacts", _typed(CONTACT_TYPES), "id"),
    "addrs": ("addresses", "addresses", _whole(ADDRESS_SCOPES), "id"),
    "docs": ("documents", "documents", _typed(DOCUMENT_TYPES), "id"),
    "vhls": ("vehicles", "vehicles", _whole(VEHICLE_SCOPES), "id"),
    "kids": ("kids", "kids", _kids, "id"),
    "roles": ("roles", "roles", _whole(ORGANISATION_SCOPES), "oid"),
    "orgs": ("roles", "organizations", _whole(ORGANISATION_SCOPES), "oid"),
}


def _root(record: dict[str, Any], granted: frozenset[str], base: str, embed: set[str]) -> dict[str, Any]:
    person = record["person"]
    body: dict[str, Any] = {"stateFacts": ["EntityRoot"]}
    for scope, fields in ROOT_FIELDS.items():
        if scope in granted:
            body.update({name: person[name] for name in fields if name in person})
    body.update({name: person[name] for name in ALWAYS_ON_ROOT if name in person})
    body["updatedOn"] = record["updatedOn"]
    body["eTag"] = etag(body)
    for path, (key, embedded_name, visible, element_key) in COLLECTIONS.items():
        if f"{embedded_name}.elements" in embed:
            try:
                items = visible(granted, record.get(key, []))
            except RsError:
                continue
            body[embedded_name] = collection(base, path, items, embed=True, key=element_key)
    return body


async def person_data(request: Request) -> Response:
    ctx = context(request)
    parts = [part for part in request.path_params["rest"].split("/") if part]
    try:
        identity = await own_gate(ctx.settings).identify(request, scopes=())
    except Problem as problem:
        raise (RsError(TOKEN_EXPIRED) if problem.status == 401 else scope_not_allowed()) from None
    if parts and parts[0] == "orgs":
        return await organisation_data(ctx, request, identity, parts[1:])
    if "openid" not in identity.scopes:
        raise scope_not_allowed()
    if len(parts) < 2 or parts[0] != "prns" or len(parts) > 4:
        raise not_found()
    oid = parse_oid(parts[1])
    if oid is None:
        raise not_found()
    if oid != identity.oid:
        raise scope_not_allowed()
    record = await load_user(ctx.store, oid)
    if record is None:
        raise not_found()
    granted = identity.scopes
    embed = embed_wanted(request)
    wants_roles = len(parts) > 2 and parts[2] in ("roles", "orgs")
    if wants_roles or {"roles.elements", "organizations.elements"} & embed:
        record["roles"] = await roles_of(ctx.store, oid) if "usr_org" in granted else []
    base = f"{ctx.settings.public_url}/rs/prns/{oid}"
    if len(parts) == 2:
        return json_response(_root(record, granted, base, embed))
    path = parts[2]
    if path not in COLLECTIONS:
        raise not_found()
    key, _, visible, element_key = COLLECTIONS[path]
    items = visible(granted, record.get(key, []))
    if len(parts) == 3:
        return json_response(collection(base, path, items, embed="elements" in embed, key=element_key))
    found = [item for item in items if str(item[element_key]) == parts[3]]
    if not found:
        if any(str(item[element_key]) == parts[3] for item in record.get(key, [])):
            raise scope_not_allowed()
        raise not_found()
    return json_response(found[0])


_RENDERED_LIMIT = 4096


def hot_person_root(ctx: ServiceContext) -> HotRoute:
    """``GET /rs/prns/{oid}`` as load runs send it (no query, a valid token for that person):
    one store read, and the rendering reused while the stored record and the granted scopes
    are the same as last time. Anything else is declined to :func:`person_data`."""
    verifier = own_gate(ctx.settings)
    base_url = f"{ctx.settings.public_url}/rs/prns/"
    rendered: dict[tuple[int, frozenset[str]], tuple[str, bytes]] = {}

    async def answer(request: HotRequest) -> HotAnswer | None:
        known_caller = None if request.query else await caller(request, verifier, ctx.clock, ("openid",))
        if known_caller is None:
            return None
        identity = known_caller[0]
        oid = parse_oid(request.groups[0])
        if oid is None or oid != identity.oid:
            return None
        raw = await ctx.store.get(user_key(oid))
        if raw is None:
            return None
        key = (oid, identity.scopes)
        earlier = rendered.get(key)
        if earlier is not None and earlier[0] == raw:
            return HotAnswer(earlier[1])
        body = json.dumps(_root(json.loads(raw), identity.scopes, f"{base_url}{oid}", set()),
                          ensure_ascii=False).encode()
        if len(rendered) >= _RENDERED_LIMIT:
            rendered.clear()
        rendered[key] = (raw, body)
        return HotAnswer(body)

    return HotRoute(r"/rs/prns/([0-9]{1,16})", answer)
