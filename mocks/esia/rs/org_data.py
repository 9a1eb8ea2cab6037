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

from ...core.bearer import Identity
from ...core.context import ServiceContext
from ..accounts.organisation_repository import OrganisationRepository
from ..accounts.organisations import parse_oid
from ..accounts.records import Employment, Organisation
from ..oauth.tokens import ORG_SCOPE_PREFIX
from ..scopes import (
    ORG_BRANCH_COLLECTION_SCOPES,
    ORG_COLLECTION_SCOPES,
    ORG_FIELDS,
    ORG_REGISTRATION_SCOPES,
    ORG_SCOPES,
)
from .shapes import Json, collection, etag, not_found, scope_not_allowed

__all__ = ["employee_view", "org_scopes", "organisation_data"]

Items = list[Json]


def org_scopes(scope_claim: str) -> dict[int, frozenset[str]]:
    """``"http://esia.gosuslugi.ru/org_inn?org_oid=5 …"`` → ``{5: {"org_inn", …}}``."""
    granted: dict[int, set[str]] = {}
    for item in scope_claim.split():
        if not item.startswith(ORG_SCOPE_PREFIX) or "?org_oid=" not in item:
            continue
        name, _, org = item.removeprefix(ORG_SCOPE_PREFIX).partition("?org_oid=")
        if name in ORG_SCOPES and org.isascii() and org.isdigit() and len(org) <= 16:
            granted.setdefault(int(org), set()).add(name)
    return {org: frozenset(names) for org, names in granted.items()}


async def _granted(organisations: OrganisationRepository, identity: Identity, org_oid: int) -> frozenset[str]:
    """The organisation scopes this token holds for ``org_oid`` (empty: none)."""
    by_org = org_scopes(str(identity.claims.get("scope", "")))
    if org_oid in by_org:
        return by_org[org_oid]
    if "usr_org" in identity.scopes:
        employment = await organisations.employment(org_oid, identity.oid)
        if employment is not None:
            return ORG_REGISTRATION_SCOPES | (frozenset({"org_emps"}) if employment.is_staff else frozenset())
    return frozenset()


async def organisation_data(ctx: ServiceContext, identity: Identity, parts: list[str], embed: set[str]) -> Json:
    """``parts``: the path after ``/rs/orgs/``, split at slashes."""
    if not parts or len(parts) > 5:
        raise not_found()
    org_oid = parse_oid(parts[0])
    if org_oid is None:
        raise not_found()
    organisations = OrganisationRepository(ctx.store)
    granted = await _granted(organisations, identity, org_oid)
    if not granted:
        raise scope_not_allowed()
    organisation = await organisations.get(org_oid)
    if organisation is None:
        raise not_found()
    if len(parts) == 1:
        return _root(organisation, granted)
    base = f"{ctx.settings.public_url}/rs/orgs/{org_oid}"
    name, rest = parts[1], parts[2:]
    embedded = "elements" in embed
    if name == "brhs" and len(rest) >= 2:
        if ORG_COLLECTION_SCOPES["brhs"] not in granted:
            raise scope_not_allowed()
        branch = next((branch for branch in organisation.branches if str(branch.id) == rest[0]), None)
        if branch is None:
            raise not_found()
        holder = {"ctts": [item.to_json() for item in branch.contacts],
                  "addrs": [item.to_json() for item in branch.addresses], "brhs": []}
        return _collection_or_element(granted, ORG_BRANCH_COLLECTION_SCOPES, f"{base}/brhs/{branch.id}", holder,
                                      rest[1], rest[2:], embedded)
    if name == "emps":
        if ORG_COLLECTION_SCOPES["emps"] not in granted:
            raise scope_not_allowed()
        employees = {"emps": [employee_view(item, org_oid) for item in await organisations.employees(org_oid)]}
        return _collection_or_element(granted, ORG_COLLECTION_SCOPES, base, employees, name, rest, embedded)
    return _collection_or_element(granted, ORG_COLLECTION_SCOPES, base, _holder(organisation), name, rest, embedded)


def _root(organisation: Organisation, granted: frozenset[str]) -> Json:
    fields = organisation.fields()
    body: Json = {"stateFacts": ["EntityRoot"], "oid": organisation.oid}
    for scope, names in ORG_FIELDS.items():
        if scope in granted:
            body.update({name: fields[name] for name in names if name in fields})
    body["updatedOn"] = organisation.updated_on
    body["eTag"] = etag(body)
    return body


def _holder(organisation: Organisation) -> dict[str, Items]:
    """An organisation's collections by their path name; a branch as an element of ``/brhs``
    leaves its own collections to ``/brhs/{id}/ctts`` and ``/addrs``."""
    return {
        "ctts": [item.to_json() for item in organisation.contacts],
        "addrs": [item.to_json() for item in organisation.addresses],
        "brhs": [branch.head() for branch in organisation.branches],
    }


def employee_view(employment: Employment, org_oid: int) -> Json:
    """An element of ``/rs/orgs/{org_oid}/emps``."""
    return {
        "stateFacts": ["Identifiable"],
        "id": employment.oid,
        "prnOid": employment.oid,
        "orgOid": org_oid,
        "role": employment.role,
        "chief": employment.chief,
        "admin": employment.role == "administrator",
        "active": True,
    }


def _collection_or_element(
    granted: frozenset[str],
    scopes: dict[str, str],
    base: str,
    collections: dict[str, Items],
    name: str,
    rest: list[str],
    embedded: bool,
) -> Json:
    """``<base>/<name>`` (a collection) or ``<base>/<name>/<id>`` (one of its elements)."""
    if name not in scopes or len(rest) > 1:
        raise not_found()
    items = collections[name]
    if scopes[name] not in granted:
        raise scope_not_allowed()
    if not rest:
        return collection(base, name, items, embed=embedded)
    return _element(items, rest[0])


def _element(items: Items, item_id: str) -> Json:
    found = [item for item in items if str(item["id"]) == item_id]
    if not found:
        raise not_found()
    return found[0]


