"""``/rs/orgs/{org_oid}`` and what lies under it: an organisation's data.

- ``/rs/orgs/{org_oid}`` — the root, its fields by scope (``org_fullname``, ``org_inn``, ...);
- ``/ctts``, ``/addrs``, ``/brhs``, ``/emps`` ``[/{id}]`` — contacts (``OPH``, ``OFX``,
  ``OEM``), addresses (``OLG`` legal, ``OPS`` postal), branches and employees, each opened by
  its own scope (``org_ctts``, ``org_addrs``, ``org_brhs``, ``org_emps``);
- ``/brhs/{branch_id}/ctts`` and ``/addrs`` ``[/{id}]`` — a branch's own contacts and
  addresses (``org_brhs_ctts``, ``org_brhs_addrs``).

Two kinds of token open it:

- a client system's token from ``client_credentials`` whose scopes name the organisation
  (``http://esia.gosuslugi.ru/org_fullname?org_oid=1000000123``) — exactly what those scopes
  open;
- a person's token with ``usr_org`` when the person works there — the organisation's
  registration data, and its employees when the person is its administrator or chief.

A collection the token holds no scope for is :data:`~..errors.SCOPE_NOT_ALLOWED`; an id that is not there,
:data:`~..errors.RESOURCE_NOT_FOUND`.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ...core.bearer import Identity
from ...core.context import ServiceContext
from ..accounts.organisations import employee_view, employees_of, load_organisation, member_key, parse_oid
from ..oauth.tokens import ORG_SCOPE_PREFIX
from ..scopes import (
    ORG_BRANCH_COLLECTION_SCOPES,
    ORG_COLLECTION_SCOPES,
    ORG_FIELDS,
    ORG_REGISTRATION_SCOPES,
    ORG_SCOPES,
)
from .shapes import collection, embed_wanted, etag, json_response, not_found, scope_not_allowed


def org_scopes(scope_claim: str) -> dict[int, frozenset[str]]:
    """``"http://esia.gosuslugi.ru/org_inn?org_oid=5 …"`` → ``{5: {"org_inn", …}}``."""
    granted: dict[int, set[str]] = {}
    for item in scope_claim.split():
        if not item.startswith(ORG_SCOPE_PREFIX) or "?org_oid=" not in item:
            continue
        name, _, org = item.removeprefix(ORG_SCOPE_PREFIX).partition("?org_oid=")
        if name in ORG_SCOPES and org.isdigit() and len(org) <= 16:
            granted.setdefault(int(org), set()).add(name)
    return {org: frozenset(names) for org, names in granted.items()}


async def _granted(ctx: ServiceContext, identity: Identity, org_oid: int) -> frozenset[str]:
    """The organisation scopes this token holds for ``org_oid`` (empty: none)."""
    by_org = org_scopes(str(identity.claims.get("scope", "")))
    if org_oid in by_org:
        return by_org[org_oid]
    if "usr_org" in identity.scopes:
        raw = await ctx.store.get(member_key(org_oid, identity.oid))
        if raw is not None:
            membership = json.loads(raw)
            staff = membership["role"] == "administrator" or membership["chief"]
            return ORG_REGISTRATION_SCOPES | (frozenset({"org_emps"}) if staff else frozenset())
    return frozenset()


async def organisation_data(ctx: ServiceContext, request: Request, identity: Identity, parts: list[str]) -> Response:
    """``parts``: the path after ``/rs/orgs/``, split at slashes."""
    if not parts or len(parts) > 5:
        raise not_found()
    org_oid = parse_oid(parts[0])
    if org_oid is None:
        raise not_found()
    granted = await _granted(ctx, identity, org_oid)
    if not granted:
        raise scope_not_allowed()
    organisation = await load_organisation(ctx.store, org_oid)
    if organisation is None:
        raise not_found()
    if len(parts) == 1:
        return json_response(_root(organisation, granted))
    base = f"{ctx.settings.public_url}/rs/orgs/{org_oid}"
    name, rest = parts[1], parts[2:]
    if name == "brhs" and len(rest) >= 2:
        if ORG_COLLECTION_SCOPES["brhs"] not in granted:
            raise scope_not_allowed()
        branch = _element(organisation.get("branches", []), rest[0])
        return _collection_or_element(request, granted, ORG_BRANCH_COLLECTION_SCOPES,
                                      f"{base}/brhs/{branch['id']}", _holder(branch), rest[1], rest[2:])
    if name == "emps":
        if ORG_COLLECTION_SCOPES["emps"] not in granted:
            raise scope_not_allowed()
        employees = {"emps": [employee_view(item, org_oid) for item in await employees_of(ctx.store, org_oid)]}
        return _collection_or_element(request, granted, ORG_COLLECTION_SCOPES, base, employees, name, rest)
    return _collection_or_element(request, granted, ORG_COLLECTION_SCOPES, base, _holder(organisation), name, rest)


def _root(organisation: dict[str, Any], granted: frozenset[str]) -> dict[str, Any]:
    body: dict[str, Any] = {"stateFacts": ["EntityRoot"], "oid": organisation["oid"]}
    for scope, fields in ORG_FIELDS.items():
        if scope in granted:
            body.update({name: organisation[name] for name in fields if name in organisation})
    body["updatedOn"] = organisation["updatedOn"]
    body["eTag"] = etag(body)
    return body


def _holder(record: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """An organisation's or a branch's collections by their path name; a branch as an element
    of ``/brhs`` leaves its own collections to ``/brhs/{id}/ctts`` and ``/addrs``."""
    return {
        "ctts": record.get("contacts", []),
        "addrs": record.get("addresses", []),
        "brhs": [{key: value for key, value in branch.items() if key not in ("contacts", "addresses")}
                 for branch in record.get("branches", [])],
    }


def _collection_or_element(
    request: Request,
    granted: frozenset[str],
    scopes: dict[str, str],
    base: str,
    collections: dict[str, list[dict[str, Any]]],
    name: str,
    rest: list[str],
) -> Response:
    """``<base>/<name>`` (a collection) or ``<base>/<name>/<id>`` (one of its elements)."""
    if name not in scopes or len(rest) > 1:
        raise not_found()
    items = collections[name]
    if scopes[name] not in granted:
        raise scope_not_allowed()
    if not rest:
        return json_response(collection(base, name, items, embed="elements" in embed_wanted(request)))
    return json_response(_element(items, rest[0]))


def _element(items: list[dict[str, Any]], item_id: str) -> dict[str, Any]:
    found = [item for item in items if str(item["id"]) == item_id]
    if not found:
        raise not_found()
    return found[0]
