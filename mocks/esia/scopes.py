"""Which person and organisation data each ESIA scope opens (docs/esia.md §5).

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

#: The person's vehicles (``/vhls``).
VEHICLE_SCOPES = frozenset({"vehicles"})

#: Fields of the person's children (``/kids``) by scope; any of them opens the collection.
KID_FIELDS: dict[str, tuple[str, ...]] = {
    "kid_fullname": ("firstName", "lastName", "middleName"),
    "kid_birthdate": ("birthDate",),
    "kid_gender": ("gender",),
    "kid_snils": ("snils",),
    "kid_inn": ("inn",),
}

#: The person's organisations (``/rs/prns/{oid}/orgs``); UTKO and FTS require it for writes,
#: since a declaration or an object is filed on behalf of an organisation.
ORGANISATION_SCOPES = frozenset({"usr_org"})

PERSON_SCOPES: frozenset[str] = frozenset(
    {
        "openid",
        *ROOT_FIELDS,
        *CONTACT_TYPES,
        *DOCUMENT_TYPES,
        *ADDRESS_SCOPES,
        *ORGANISATION_SCOPES,
        *VEHICLE_SCOPES,
        *KID_FIELDS,
    }
)

#: Organisation data (``/rs/orgs/{org_oid}``) by scope. A client system gets these for an
#: organisation with ``client_credentials`` and scopes written
#: ``http://esia.gosuslugi.ru/org_fullname?org_oid=1000000123``.
ORG_FIELDS: dict[str, tuple[str, ...]] = {
    "org_shortname": ("shortName",),
    "org_fullname": ("fullName",),
    "org_type": ("type",),
    "org_ogrn": ("ogrn",),
    "org_inn": ("inn",),
    "org_kpp": ("kpp",),
    "org_leg": ("leg",),
    "org_oktmo": ("oktmo",),
}
#: The scope that opens each collection under ``/rs/orgs/{org_oid}``.
ORG_COLLECTION_SCOPES: dict[str, str] = {
    "ctts": "org_ctts",
    "addrs": "org_addrs",
    "brhs": "org_brhs",
    "emps": "org_emps",
}
#: The scope that opens each collection under ``/rs/orgs/{org_oid}/brhs/{branch_id}``.
ORG_BRANCH_COLLECTION_SCOPES: dict[str, str] = {
    "ctts": "org_brhs_ctts",
    "addrs": "org_brhs_addrs",
}
#: What an employee's own ``usr_org`` token reads of the organisation: its registration data
#: (fields, contacts, addresses, branches); ``org_emps`` only for its administrators and chief.
ORG_REGISTRATION_SCOPES: frozenset[str] = frozenset(
    {*ORG_FIELDS, *ORG_COLLECTION_SCOPES.values(), *ORG_BRANCH_COLLECTION_SCOPES.values()} - {"org_emps"}
)
ORG_SCOPES: frozenset[str] = frozenset(
    {*ORG_FIELDS, *ORG_COLLECTION_SCOPES.values(), *ORG_BRANCH_COLLECTION_SCOPES.values()}
)

#: Every scope a client system may be registered for.
ALL_SCOPES: frozenset[str] = PERSON_SCOPES | ORG_SCOPES

DOCUMENT_KINDS: frozenset[str] = frozenset().union(*DOCUMENT_TYPES.values())
CONTACT_KINDS: frozenset[str] = frozenset().union(*CONTACT_TYPES.values())


def visible_kinds(table: dict[str, frozenset[str]], granted: frozenset[str]) -> frozenset[str]:
    """The element types a set of granted scope names may read."""
    return frozenset().union(*(kinds for scope, kinds in table.items() if scope in granted))


#: How the consent page names each scope to the person (Russian, as ESIA's page does).
SCOPE_TITLES: dict[str, str] = {
    "fullname": "Фамилия, имя, отчество",
    "birthdate": "Дата рождения",
    "gender": "Пол",
    "snils": "СНИЛС",
    "inn": "ИНН",
    "birthplace": "Место рождения",
    "id_doc": "Паспорт гражданина РФ",
    "drivers_licence_doc": "Водительское удостоверение",
    "foreign_passport_doc": "Заграничный паспорт",
    "medical_doc": "Полис ОМС",
    "birth_cert_doc": "Свидетельство о рождении",
    "military_doc": "Военный билет",
    "email": "Адрес электронной почты",
    "mobile": "Номер мобильного телефона",
    "contacts": "Контактные данные",
    "addresses": "Адреса регистрации и проживания",
    "vehicles": "Транспортные средства",
    "kid_fullname": "ФИО детей",
    "kid_birthdate": "Даты рождения детей",
    "kid_gender": "Пол детей",
    "kid_snils": "СНИЛС детей",
    "kid_inn": "ИНН детей",
    "usr_org": "Организации и роли в них",
}
