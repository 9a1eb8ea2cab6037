"""``/rs/orgs/{org_oid}`` and ``/rs/orgs/{org_oid}/emps[/{oid}]``: an organisation's data.

Two kinds of token open it:

- a client system's token from ``client_credentials`` whose scopes name the organisation
  (``http://esia.gosuslugi.ru/org_fullname?org_oid=1000000123``) — exactly the fields those
  scopes open, and the employees with ``org_emps``;
- a person's token with ``usr_org`` when the person works there — the organisation's
  registration data, and its employees when the person is its administrator or chief.

Anything else is ESIA-005029.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..core.bearer import Identity
from ..core.context import ServiceContext
from .errors import scope_not_allowed
from .organisations import employee_view, employees_of, load_organisation, member_key, parse_oid
from .rs_shapes import collection, embed_wanted, etag, json_response, not_found
from .scopes import ORG_FIELDS, ORG_SCOPES
from .tokens import ORG_SCOPE_PREFIX


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
            return frozenset(ORG_FIELDS) | (frozenset({"org_emps"}) if staff else frozenset())
    return frozenset()


async def organisation_data(ctx: ServiceContext, request: Request, identity: Identity, parts: list[str]) -> Response:
    if not parts or len(parts) > 3:
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
        body: dict[str, Any] = {"stateFacts": ["EntityRoot"], "oid": org_oid}
        for scope, fields in ORG_FIELDS.items():
            if scope in granted:
                body.update({name: organisation[name] for name in fields if name in organisation})
        body["updatedOn"] = organisation["updatedOn"]
        body["eTag"] = etag(body)
        return json_response(body)
    if parts[1] != "emps":
        raise not_found()
    if "org_emps" not in granted:
        raise scope_not_allowed()
    employees = [employee_view(item, org_oid) for item in await employees_of(ctx.store, org_oid)]
    if len(parts) == 2:
        base = f"{ctx.settings.public_url}/rs/orgs/{org_oid}"
        return json_response(collection(base, "emps", employees, embed="elements" in embed_wanted(request)))
    found = [item for item in employees if str(item["id"]) == parts[2]]
    if not found:
        raise not_found()
    return json_response(found[0])
