"""``/rs/prns/{oid}`` and ``/rs/orgs/{org_oid}``: person and organisation data, as much as the
access token's scopes open.

One route takes every path under ``/rs/`` and splits it itself, because real clients send
trailing slashes and double slashes (``/rs/prns//1000/ctts/``) that a router would reject.
Collections list absolute URLs of their elements on this server unless asked to
``?embed=(elements)``.

Person collections: ``ctts``, ``addrs``, ``docs``, ``vhls``, ``kids`` (from the person's
record) and ``roles``, ``orgs`` (the person's employments, scope ``usr_org``). Organisation data is served by
:mod:`.org_data`; the HTTP side is :mod:`.handlers`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...core.bearer import Identity
from ...core.context import ServiceContext
from ..accounts.organisation_repository import OrganisationRepository
from ..accounts.organisations import parse_oid
from ..accounts.records import Employment, Organisation, UserAccount
from ..accounts.user_repository import UserRepository
from ..errors import RsError
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
from .shapes import Json, collection, etag, not_found, scope_not_allowed

__all__ = ["person_data", "role_view", "root"]

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


def _collections(account: UserAccount, places: list[tuple[Organisation, Employment]]) -> dict[str, Items]:
    """The person's collections by their record name, as ``/rs`` shows their elements."""
    collections: dict[str, Items] = {name: [item.to_json() for item in getattr(account, name)]
                                     for name in UserAccount.COLLECTIONS}
    collections["roles"] = [role_view(organisation, employment) for organisation, employment in places]
    return collections


def role_view(organisation: Organisation, employment: Employment) -> Json:
    """One employment as ESIA shows it; ``role`` names the mock's role (administrator,
    accountant, employee), which ESIA itself expresses through ``admin`` and its groups."""
    admin = employment.role == "administrator"
    return {
        "stateFacts": ["Identifiable"],
        "oid": organisation.oid,
        "prnOid": employment.oid,
        "fullName": organisation.full_name,
        "shortName": organisation.short_name,
        "ogrn": organisation.ogrn,
        "type": organisation.type,
        "chief": employment.chief,
        "admin": admin,
        "active": True,
        "hasRightOfSubstitution": admin or employment.chief,
        "role": employment.role,
    }


def root(account: UserAccount, collections: dict[str, Items], granted: frozenset[str], base: str,
         embed: set[str]) -> Json:
    """``/rs/prns/{oid}``: the fields the scopes open, and the collections asked to be embedded."""
    person = account.person.to_json()
    body: Json = {"stateFacts": ["EntityRoot"]}
    for scope, fields in ROOT_FIELDS.items():
        if scope in granted:
            body.update({name: person[name] for name in fields if name in person})
    body.update({name: person[name] for name in ALWAYS_ON_ROOT if name in person})
    body["updatedOn"] = account.updated_on
    body["eTag"] = etag(body)
    for path, (key, embedded_name, visible, element_key) in COLLECTIONS.items():
        if f"{embedded_name}.elements" in embed:
            try:
                items = visible(granted, collections.get(key, []))
            except RsError:
                continue
            body[embedded_name] = collection(base, path, items, embed=True, key=element_key)
    return body


async def person_data(ctx: ServiceContext, identity: Identity, parts: list[str], embed: set[str]) -> Json:
    """``parts``: the path after ``/rs/``, split at slashes (``["prns", "<oid>", "ctts", "<id>"]``)."""
    if "openid" not in identity.scopes:
        raise scope_not_allowed()
    if len(parts) < 2 or parts[0] != "prns" or len(parts) > 4:
        raise not_found()
    oid = parse_oid(parts[1])
    if oid is None:
        raise not_found()
    if oid != identity.oid:
        raise scope_not_allowed()
    account = await UserRepository(ctx.store).get(oid)
    if account is None:
        raise not_found()
    granted = identity.scopes
    wants_roles = len(parts) > 2 and parts[2] in ("roles", "orgs")
    places = []
    if "usr_org" in granted and (wants_roles or {"roles.elements", "organizations.elements"} & embed):
        places = await OrganisationRepository(ctx.store).places_of(oid)
    collections = _collections(account, places)
    base = f"{ctx.settings.public_url}/rs/prns/{oid}"
    if len(parts) == 2:
        return root(account, collections, granted, base, embed)
    path = parts[2]
    if path not in COLLECTIONS:
        raise not_found()
    key, _, visible, element_key = COLLECTIONS[path]
    items = visible(granted, collections[key])
    if len(parts) == 3:
        return collection(base, path, items, embed="elements" in embed, key=element_key)
    found = [item for item in items if str(item[element_key]) == parts[3]]
    if not found:
        if any(str(item[element_key]) == parts[3] for item in collections[key]):
            raise scope_not_allowed()
        raise not_found()
    return found[0]
