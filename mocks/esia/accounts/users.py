"""Seeding ESIA accounts: the control API's ``POST /users`` body (and the registration form,
through the same checks) validated into a :class:`SeedPlan` — typed records, every fault a 422
JSON pointer. Storing the plan is :class:`~.user_repository.UserRepository`'s job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from ...core.identifiers import (
    format_mobile,
    format_snils,
    is_valid_inn,
    is_valid_snils,
    normalize_mobile,
    snils_digits,
)
from ...core.problems import Problem
from ..scopes import DOCUMENT_KINDS
from . import household
from .household import is_date
from .levels import LEVELS, level_problems
from .records import (
    Address,
    Contact,
    Document,
    Kid,
    Level,
    Logins,
    PasswordHash,
    Person,
    SecondFactor,
    UserAccount,
    Vehicle,
)
from .seed_fields import EMAIL, FieldErrors, address_list, optional_text
from .totp import new_secret, valid_secret

__all__ = ["FIRST_OID", "MAX_OID", "SeedPlan", "plan_user"]

FIRST_OID = 1_000_000_000
MAX_OID = 2**53 - 1
PERSON_ADDRESS_TYPES = {"PRG": "registration", "PLV": "residence"}


def _person_fields(body: Any, fallback_snils: str | None, errors: FieldErrors) -> dict[str, Any]:
    """The person's fields under their wire names (``firstName`` …), as checked."""
    if not isinstance(body, dict):
        errors.add("/person", "an object with firstName, lastName, ...")
        return {}
    person: dict[str, Any] = {}
    for name in ("firstName", "lastName"):
        if name not in body:
            errors.add(f"/person/{name}", "required")
            continue
        person[name] = optional_text(body, name, "/person", errors, 100)
    for name in ("middleName", "birthPlace"):
        value = optional_text(body, name, "/person", errors)
        if value is not None:
            person[name] = value
    if "birthDate" in body:
        if is_date(body["birthDate"]):
            person["birthDate"] = body["birthDate"]
        else:
            errors.add("/person/birthDate", "a date dd.MM.yyyy")
    if "gender" in body:
        if body["gender"] in ("M", "F"):
            person["gender"] = body["gender"]
        else:
            errors.add("/person/gender", "M or F")
    snils = body.get("snils", fallback_snils)
    if snils is not None:
        if is_valid_snils(snils):
            person["snils"] = format_snils(snils)
        else:
            errors.add("/person/snils", "a valid SNILS (11 digits or XXX-XXX-XXX YY, control number checked)")
    if "inn" in body:
        if is_valid_inn(body["inn"], kind="person"):
            person["inn"] = body["inn"]
        else:
            errors.add("/person/inn", "a valid 12-digit INN of a person")
    trusted = body.get("trusted", True)
    if not isinstance(trusted, bool):
        errors.add("/person/trusted", "true or false")
    person["trusted"] = trusted is True
    person["citizenship"] = "RUS"
    person["status"] = "REGISTERED"
    return person


_PASSPORT_RULES = {
    "series": re.compile(r"\d{4}"),
    "number": re.compile(r"\d{6}"),
    "issueId": re.compile(r"\d{6}"),
}


def _documents(items: Any, errors: FieldErrors) -> list[Document]:
    if items is None:
        return []
    if not isinstance(items, list) or len(items) > 20:
        errors.add("/documents", "a list of up to 20 documents")
        return []
    documents = []
    for index, item in enumerate(items):
        pointer = f"/documents/{index}"
        if not isinstance(item, dict) or item.get("type") not in DOCUMENT_KINDS:
            errors.add(f"{pointer}/type", f"one of {', '.join(sorted(DOCUMENT_KINDS))}")
            continue
        document: dict[str, Any] = {"type": item["type"], "vrfStu": "VERIFIED"}
        for name in ("series", "number", "issueId", "issuedBy", "issueDate", "expiryDate"):
            value = item.get(name)
            if value is None:
                continue
            if name == "issueId" and isinstance(value, str):
                value = value.replace("-", "")
            rule = _PASSPORT_RULES.get(name) if item["type"] == "RF_PASSPORT" else None
            valid = isinstance(value, str) and 0 < len(value) <= 500
            if valid and name in ("issueDate", "expiryDate"):
                valid = is_date(value)
            if valid and rule is not None:
                valid = rule.fullmatch(value) is not None
            if not valid:
                errors.add(f"{pointer}/{name}", "invalid value")
                continue
            document[name] = value
        if item["type"] == "RF_PASSPORT":
            for name in ("series", "number"):
                if name not in document and not any(
                    e["pointer"] == f"{pointer}/{name}" for e in errors.items
                ):
                    errors.add(f"{pointer}/{name}", "required")
        documents.append(Document.from_json(document))
    return documents


def _second_factor(body: dict[str, Any], errors: FieldErrors) -> SecondFactor | None:
    """``second_factor``: ``sms`` (default) or ``totp``; a TOTP secret (base32) is generated
    when none is given and returned by the control API, so a test's authenticator can use it."""
    method = body.get("second_factor", "sms")
    if method not in ("sms", "totp"):
        errors.add("/second_factor", "sms or totp")
        return None
    secret = body.get("totp_secret")
    if secret is not None and not valid_secret(secret):
        errors.add("/totp_secret", "a base32 secret of 16..128 characters")
        return None
    return SecondFactor(method, secret or new_secret())


@dataclass(frozen=True, kw_only=True)
class SeedPlan:
    """A validated account, before it gets its OID, element ids and password hash."""

    oid: int | None
    phone: str
    email: str | None
    password: str
    person: Person
    contacts: tuple[Contact, ...]
    documents: tuple[Document, ...] = ()
    addresses: tuple[Address, ...] = ()
    vehicles: tuple[Vehicle, ...] = ()
    kids: tuple[Kid, ...] = ()
    level: Level = "confirmed"
    second_factor: SecondFactor | None = None

    def account(self, *, oid: int, password: PasswordHash, now: float) -> UserAccount:
        """The account this plan makes (its elements still to be numbered)."""
        return UserAccount(
            oid=oid, person=self.person, contacts=self.contacts, documents=self.documents, addresses=self.addresses,
            vehicles=self.vehicles, kids=self.kids, level=self.level, second_factor=self.second_factor,
            updated_on=int(now), password=password,
            logins=Logins(self.phone, self.email, snils_digits(self.person.snils) if self.person.snils else None),
        )

    def to_json(self) -> dict[str, Any]:
        """The plan as a pending registration keeps it until the phone is confirmed."""
        draft = self.account(oid=0, password=PasswordHash("", ""), now=0).to_json()
        record = {name: draft[name] for name in ("person", *UserAccount.COLLECTIONS, "level", "second_factor")
                  if name in draft}
        return {"oid": self.oid, "phone": self.phone, "email": self.email, "password": self.password,
                "record": record}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SeedPlan:
        record = data["record"]
        draft = UserAccount.from_json({**record, "oid": 0, "password": {"salt": "", "hash": ""},
                                       "logins": {"phone": data["phone"]}})
        return cls(oid=data["oid"], phone=data["phone"], email=data["email"], password=data["password"],
                   person=draft.person, contacts=draft.contacts, documents=draft.documents,
                   addresses=draft.addresses, vehicles=draft.vehicles, kids=draft.kids, level=draft.level,
                   second_factor=draft.second_factor)


def plan_user(body: dict[str, Any]) -> SeedPlan:
    """Validate a ``POST /_gosstand/control/users`` body (422 with pointers on any fault)."""
    errors = FieldErrors()
    oid = body.get("oid")
    if oid is not None and (not isinstance(oid, int) or isinstance(oid, bool) or not 0 < oid <= MAX_OID):
        errors.add("/oid", "a positive integer")
    phone = normalize_mobile(body.get("phone"))
    if phone is None:
        errors.add("/phone", "a Russian mobile number (+7 9XX XXX-XX-XX in any common form)")
    email = body.get("email")
    if email is not None and (not isinstance(email, str) or not EMAIL.fullmatch(email)):
        errors.add("/email", "an e-mail address")
    login_snils = body.get("snils")
    if login_snils is not None and not is_valid_snils(login_snils):
        errors.add("/snils", "a valid SNILS")
    password = body.get("password")
    if not isinstance(password, str) or not 0 < len(password) <= 128:
        errors.add("/password", "a string of 1..128 characters")
    fields = _person_fields(body.get("person"), login_snils, errors)
    person = Person.from_json(fields)
    documents = _documents(body.get("documents"), errors)
    addresses = address_list(body.get("addresses"), errors, PERSON_ADDRESS_TYPES)
    vehicles = household.vehicles(body.get("vehicles"), errors)
    kids = household.kids(body.get("kids"), errors)
    level = body.get("level", "confirmed" if fields.get("trusted", True) else "standard")
    if level not in LEVELS:
        errors.add("/level", f"one of {', '.join(LEVELS)}")
    elif "level" in body and not errors.items:  # seeds that name no level keep the old default
        for pointer, detail in level_problems(level, person, documents):
            errors.add(pointer, detail)
    second_factor = _second_factor(body, errors)
    if errors.items or phone is None or not isinstance(password, str):
        raise Problem(422, "the user is invalid", errors=errors.items)
    person = replace(person, trusted=level == "confirmed")
    if level == "simplified":
        documents = [replace(document, verification="NOT_VERIFIED") for document in documents]
    contacts = [Contact(type="MBT", verification="VERIFIED", value=format_mobile(phone))]
    if email:
        contacts.append(Contact(type="EML", verification="VERIFIED", value=email))
    return SeedPlan(
        oid=oid,
        phone=phone,
        email=email.lower() if email else None,
        password=password,
        person=person,
        contacts=tuple(contacts),
        documents=tuple(documents),
        addresses=tuple(addresses),
        vehicles=tuple(vehicles),
        kids=tuple(kids),
        level=level,
        second_factor=second_factor,
    )
