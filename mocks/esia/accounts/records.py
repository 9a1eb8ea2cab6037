"""The typed records of ESIA's accounts — people and organisations — and their stored JSON.

A person's or an organisation's data is kept as ``/rs`` shows it, so its elements (contacts,
documents, addresses, vehicles, children, branches) carry ESIA's field names on the wire
(``vrfStu``, ``issueId``, ``addressStr``…), each declared once below beside the Python name.
``to_json`` writes exactly the JSON the store has always held (same keys, same order, absent
values left out) and ``from_json`` reads it back, so stored accounts stay readable and
``/rs`` answers stay byte for byte what they were.

An element is numbered when it is stored (``id``, from ESIA's element counter); until then its
``id`` is 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar, Literal, Self

__all__ = [
    "wire_fields",
    "Address", "Branch", "Consent", "Contact", "Document", "Employment", "Kid", "Level", "Logins", "Organisation",
    "PasswordHash", "Person", "Registration", "SecondFactor", "UserAccount", "Vehicle", "VehicleCertificate",
]

#: Account levels, lowest first (what each may do: :mod:`.levels`).
Level = Literal["simplified", "standard", "confirmed"]
Json = dict[str, Any]
IDENTIFIABLE = ("Identifiable",)


def wire(name: str, default: Any = None) -> Any:
    """A field whose JSON name is ``name`` (ESIA's camelCase)."""
    return field(default=default, metadata={"wire": name})


_WIRE_FIELDS: dict[type, tuple[tuple[str, str], ...]] = {}


def wire_fields(cls: type) -> tuple[tuple[str, str], ...]:
    """``(field, wire name)`` of each field of the record class ``cls``, in order."""
    names = _WIRE_FIELDS.get(cls)
    if names is None:
        names = _WIRE_FIELDS[cls] = tuple((f.name, f.metadata.get("wire", f.name)) for f in fields(cls))
    return names


def _read(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    """The constructor arguments of ``cls`` found in ``data`` under their wire names."""
    return {name: data[wire_name] for name, wire_name in wire_fields(cls) if wire_name in data}


class _Flat:
    """A record of plain values, written with its wire names and without the absent ones."""

    def to_json(self) -> Json:
        values = ((wire_name, getattr(self, name)) for name, wire_name in wire_fields(type(self)))
        return {wire_name: value for wire_name, value in values if value is not None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(**_read(cls, data))


class _Element(_Flat):
    """An element of a ``/rs`` collection: ``stateFacts`` and its ``id`` come first."""

    id: int

    def to_json(self) -> Json:
        return {"stateFacts": list(IDENTIFIABLE), **super().to_json()}

    def numbered(self, element_id: int) -> Self:
        record: Any = self  # every element is a dataclass with an ``id``
        return replace(record, id=element_id)


# --- a person ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Person(_Flat):
    """The root of ``/rs/prns/{oid}``."""

    first_name: str | None = wire("firstName")
    last_name: str | None = wire("lastName")
    middle_name: str | None = wire("middleName")
    birth_place: str | None = wire("birthPlace")
    birth_date: str | None = wire("birthDate")
    gender: str | None = wire("gender")
    snils: str | None = wire("snils")
    inn: str | None = wire("inn")
    trusted: bool = wire("trusted", False)
    citizenship: str = wire("citizenship", "RUS")
    status: str = wire("status", "REGISTERED")


@dataclass(frozen=True, slots=True, kw_only=True)
class Contact(_Element):
    """A person's ``EML`` / ``MBT`` / ``PHN`` / ``CEM``, or an organisation's ``OPH`` / ``OFX`` / ``OEM``."""

    id: int = wire("id", 0)
    type: str = wire("type", "")
    verification: str = wire("vrfStu", "VERIFIED")
    value: str | None = wire("value")


@dataclass(frozen=True, slots=True, kw_only=True)
class Document(_Element):
    id: int = wire("id", 0)
    type: str = wire("type", "")
    verification: str = wire("vrfStu", "VERIFIED")
    series: str | None = wire("series")
    number: str | None = wire("number")
    issue_id: str | None = wire("issueId")
    issued_by: str | None = wire("issuedBy")
    issue_date: str | None = wire("issueDate")
    expiry_date: str | None = wire("expiryDate")


@dataclass(frozen=True, slots=True, kw_only=True)
class Address(_Element):
    """A person's ``PRG`` / ``PLV``, or an organisation's ``OLG`` / ``OPS``."""

    id: int = wire("id", 0)
    type: str = wire("type", "")
    country_id: str = wire("countryId", "RUS")
    text: str | None = wire("addressStr")
    fias_code: str | None = wire("fiasCode")
    zip_code: str | None = wire("zipCode")
    region: str | None = wire("region")
    city: str | None = wire("city")
    street: str | None = wire("street")
    house: str | None = wire("house")
    flat: str | None = wire("flat")


@dataclass(frozen=True, slots=True, kw_only=True)
class VehicleCertificate(_Flat):
    """The vehicle's registration certificate (СТС)."""

    series: str = wire("series", "")
    number: str = wire("number", "")


@dataclass(frozen=True, kw_only=True)
class Vehicle(_Element):
    id: int = wire("id", 0)
    name: str | None = wire("name")
    number_plate: str | None = wire("numberPlate")
    certificate: VehicleCertificate | None = wire("regCertificate")

    def to_json(self) -> Json:
        data = _Element.to_json(self)
        if self.certificate is not None:
            data["regCertificate"] = self.certificate.to_json()
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        certificate = data.get("regCertificate")
        return cls(**{**_read(cls, data),
                      "certificate": None if certificate is None else VehicleCertificate.from_json(certificate)})


@dataclass(frozen=True, slots=True, kw_only=True)
class Kid(_Element):
    id: int = wire("id", 0)
    first_name: str | None = wire("firstName")
    last_name: str | None = wire("lastName")
    middle_name: str | None = wire("middleName")
    birth_date: str | None = wire("birthDate")
    gender: str | None = wire("gender")
    snils: str | None = wire("snils")
    inn: str | None = wire("inn")


@dataclass(frozen=True, slots=True)
class Logins:
    """The identifiers a person logs in with (each also a store key pointing at the OID)."""

    phone: str
    email: str | None = None
    #: SNILS digits only.
    snils: str | None = None

    def to_json(self) -> Json:
        return {"phone": self.phone, "email": self.email, "snils": self.snils}

    def items(self) -> list[tuple[str, str]]:
        """``(kind, value)`` of each identifier the person has."""
        return [(kind, value) for kind, value in self.to_json().items() if value is not None]


@dataclass(frozen=True, slots=True)
class PasswordHash:
    salt: str
    hash: str


@dataclass(frozen=True, slots=True)
class SecondFactor:
    method: Literal["sms", "totp"] = "sms"
    #: Base32; kept for ``totp``, and generated for ``sms`` too so switching needs no new seed.
    totp_secret: str = ""


@dataclass(frozen=True, slots=True)
class Consent:
    """A consent the person gave at registration (to personal-data processing)."""

    type: str
    given: bool
    given_at: float


@dataclass(frozen=True, slots=True)
class Registration:
    """How an account that registered itself (rather than was seeded) came to be."""

    registered_at: float
    consents: tuple[Consent, ...]

    def to_json(self) -> Json:
        return {"registered_at": self.registered_at,
                "consents": [{"type": c.type, "given": c.given, "given_at": c.given_at} for c in self.consents]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Registration:
        consents = tuple(Consent(c["type"], c["given"], c["given_at"]) for c in data["consents"])
        return cls(data["registered_at"], consents)


@dataclass(frozen=True, slots=True, kw_only=True)
class UserAccount:
    """A person's ESIA account: the data ``/rs`` serves, and what the login needs."""

    oid: int
    person: Person
    contacts: tuple[Contact, ...] = ()
    documents: tuple[Document, ...] = ()
    addresses: tuple[Address, ...] = ()
    vehicles: tuple[Vehicle, ...] = ()
    kids: tuple[Kid, ...] = ()
    level: Level = "confirmed"
    second_factor: SecondFactor | None = None
    #: When the account last changed, epoch seconds on the mock's clock (``/rs``'s ``updatedOn``).
    updated_on: int = 0
    password: PasswordHash
    logins: Logins
    registration: Registration | None = None

    COLLECTIONS: ClassVar[tuple[str, ...]] = ("contacts", "documents", "addresses", "vehicles", "kids")

    def to_json(self) -> Json:
        data: Json = {
            "person": self.person.to_json(),
            **{name: [item.to_json() for item in getattr(self, name)] for name in self.COLLECTIONS},
            "level": self.level,
        }
        if self.second_factor is not None:
            data["second_factor"] = {"method": self.second_factor.method,
                                     "totp_secret": self.second_factor.totp_secret}
        data.update(oid=self.oid, updatedOn=self.updated_on,
                    password={"salt": self.password.salt, "hash": self.password.hash},
                    logins=self.logins.to_json())
        if self.registration is not None:
            data["registration"] = self.registration.to_json()
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> UserAccount:
        factor = data.get("second_factor")
        registration = data.get("registration")
        logins = data["logins"]
        return cls(
            oid=data["oid"],
            person=Person.from_json(data["person"]),
            contacts=tuple(Contact.from_json(item) for item in data.get("contacts", ())),
            documents=tuple(Document.from_json(item) for item in data.get("documents", ())),
            addresses=tuple(Address.from_json(item) for item in data.get("addresses", ())),
            vehicles=tuple(Vehicle.from_json(item) for item in data.get("vehicles", ())),
            kids=tuple(Kid.from_json(item) for item in data.get("kids", ())),
            level=data.get("level", "confirmed"),
            second_factor=None if not factor else SecondFactor(factor.get("method", "sms"),
                                                                factor.get("totp_secret", "")),
            updated_on=data.get("updatedOn", 0),
            password=PasswordHash(data["password"]["salt"], data["password"]["hash"]),
            logins=Logins(logins["phone"], logins.get("email"), logins.get("snils")),
            registration=None if registration is None else Registration.from_json(registration),
        )

    def public_view(self) -> Json:
        """The account as the control API shows it: everything but the password hash."""
        data = self.to_json()
        del data["password"]
        return data


# --- an organisation -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Branch:
    """A separate subdivision with a KPP of its own and its own contacts and addresses."""

    id: int = 0
    name: str | None = None
    short_name: str | None = None
    kpp: str | None = None
    contacts: tuple[Contact, ...] = ()
    addresses: tuple[Address, ...] = ()

    def numbered(self, element_id: int) -> Branch:
        return replace(self, id=element_id)

    def head(self) -> Json:
        """The branch as an element of ``/brhs``, without its own collections."""
        data: Json = {"stateFacts": list(IDENTIFIABLE), "id": self.id, "name": self.name}
        if self.short_name is not None:
            data["shortName"] = self.short_name
        data["kpp"] = self.kpp
        return data

    def to_json(self) -> Json:
        return {**self.head(), "contacts": [item.to_json() for item in self.contacts],
                "addresses": [item.to_json() for item in self.addresses]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Branch:
        return cls(
            id=data["id"], name=data.get("name"), short_name=data.get("shortName"), kpp=data.get("kpp"),
            contacts=tuple(Contact.from_json(item) for item in data.get("contacts", ())),
            addresses=tuple(Address.from_json(item) for item in data.get("addresses", ())),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Organisation:
    """An organisation (a legal entity, a sole proprietor, an agency): the root of ``/rs/orgs/{oid}``."""

    oid: int
    full_name: str
    short_name: str
    ogrn: str
    inn: str
    type: Literal["LEGAL", "BUSINESS", "AGENCY"]
    kpp: str | None = None
    #: OKOPF code.
    leg: str | None = None
    oktmo: str | None = None
    contacts: tuple[Contact, ...] = ()
    addresses: tuple[Address, ...] = ()
    branches: tuple[Branch, ...] = ()
    updated_on: int = 0

    def fields(self) -> Json:
        """The root's fields by their wire names (absent ones left out)."""
        values = {"oid": self.oid, "fullName": self.full_name, "shortName": self.short_name, "ogrn": self.ogrn,
                  "inn": self.inn, "type": self.type, "kpp": self.kpp, "leg": self.leg, "oktmo": self.oktmo}
        return {name: value for name, value in values.items() if value is not None}

    def to_json(self) -> Json:
        return {
            **self.fields(),
            "contacts": [item.to_json() for item in self.contacts],
            "addresses": [item.to_json() for item in self.addresses],
            "branches": [item.to_json() for item in self.branches],
            "updatedOn": self.updated_on,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Organisation:
        return cls(
            oid=data["oid"], full_name=data["fullName"], short_name=data["shortName"], ogrn=data["ogrn"],
            inn=data["inn"], type=data["type"], kpp=data.get("kpp"), leg=data.get("leg"), oktmo=data.get("oktmo"),
            contacts=tuple(Contact.from_json(item) for item in data.get("contacts", ())),
            addresses=tuple(Address.from_json(item) for item in data.get("addresses", ())),
            branches=tuple(Branch.from_json(item) for item in data.get("branches", ())),
            updated_on=data.get("updatedOn", 0),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Employment:
    """A person's place in an organisation."""

    oid: int
    role: Literal["administrator", "accountant", "employee"] = "employee"
    chief: bool = False
    #: When the person joined, epoch seconds on the mock's clock (0 until stored).
    since: float = 0

    @property
    def is_staff(self) -> bool:
        """Administrators and the chief see the organisation's employees."""
        return self.role == "administrator" or self.chief

    def membership_json(self) -> Json:
        """What the store keeps under the employment's key."""
        return {"role": self.role, "chief": self.chief, "since": self.since}

    def to_json(self) -> Json:
        return {"oid": self.oid, **self.membership_json()}

    @classmethod
    def from_membership(cls, oid: int, data: Mapping[str, Any]) -> Employment:
        return cls(oid=oid, role=data["role"], chief=data["chief"], since=data.get("since", 0))
