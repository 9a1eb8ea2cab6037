"""Which person data each ESIA scope opens (shared/reference/esia-protocol.md §5).

One table for ``ac`` (which scopes exist), the control API (which a client may be granted)
and ``/rs`` (which fields and collection elements a token may read).
"""

from __future__ import annotations

#: Root fields of ``/rs/prns/{oid}`` by scope.
ROOT_FIELDS: dict[str, tuple[str, ...]] = {
    "fullname": ("firstName", "lastName", "middleName"),
    "birthdate": ("birthDate",),
    "gender": ("gender",),
    "snils": ("snils",),
    "inn": ("inn",),
    "birthplace": ("birthPlace",),
}

#: Contact types each scope reveals in ``/ctts``.
CONTACT_TYPES: dict[str, frozenset[str]] = {
    "email": frozenset({"EML"}),
    "mobile": frozenset({"MBT"}),
    "contacts": frozenset({"EML", "MBT", "PHN", "CEM"}),
}

#: Document types each scope reveals in ``/docs``.
DOCUMENT_TYPES: dict[str, frozenset[str]] = {
    "id_doc": frozenset({"RF_PASSPORT"}),
    "drivers_licence_doc": frozenset({"RF_DRIVING_LICENSE"}),
    "foreign_passport_doc": frozenset({"FRGN_PASS"}),
    "medical_doc": frozenset({"MDCL_PLCY"}),
    "birth_cert_doc": frozenset({"BRTH_CERT"}),
    "military_doc": frozenset({"MLTR_ID"}),
}

ADDRESS_SCOPES = frozenset({"addresses"})

#: The person's organisations (``/rs/prns/{oid}/orgs``); UTKO and FTS require it for writes,
#: since a declaration or an object is filed on behalf of an organisation.
ORGANISATION_SCOPES = frozenset({"usr_org"})

PERSON_SCOPES: frozenset[str] = frozenset(
    {"openid", *ROOT_FIELDS, *CONTACT_TYPES, *DOCUMENT_TYPES, *ADDRESS_SCOPES, *ORGANISATION_SCOPES}
)

DOCUMENT_KINDS: frozenset[str] = frozenset().union(*DOCUMENT_TYPES.values())
CONTACT_KINDS: frozenset[str] = frozenset().union(*CONTACT_TYPES.values())


def visible_kinds(table: dict[str, frozenset[str]], granted: frozenset[str]) -> frozenset[str]:
    """The element types a set of granted scope names may read."""
    return frozenset().union(*(kinds for scope, kinds in table.items() if scope in granted))
