"""ESIA accounts: seeding (control API), lookup by login, password check and lockout.

An account is one JSON record in the shared store (``esia:user:<oid>``) holding the person's
data exactly as ``/rs`` serves it, so a data request costs one store read. Login identifiers
(mobile phone, e-mail, SNILS) are separate keys pointing at the OID, claimed with
``only_if_absent`` so two replicas can never seed the same phone twice.

Lockout: three consecutive wrong passwords lock the account for :data:`LOCK_SECONDS` on the
mock's clock (a shared counter plus a lock record; a right password resets the counter).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
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
from ...core.store import Store
from ..scopes import DOCUMENT_KINDS
from . import household
from .levels import LEVELS, level_problems
from .seed_fields import EMAIL, FieldErrors, address_list, optional_text
from .totp import new_secret, valid_secret

MAX_FAILURES = 3
#: How long a lockout lasts (assumed; ESIA says only "temporarily").
LOCK_SECONDS = 15 * 60
FIRST_OID = 1_000_000_000
MAX_OID = 2**53 - 1
PERSON_ADDRESS_TYPES = {"PRG": "registration", "PLV": "residence"}
DATE = re.compile(r"\d{2}\.\d{2}\.\d{4}")


def user_key(oid: int) -> str:
    return f"esia:user:{oid}"


def login_key(kind: str, value: str) -> str:
    return f"esia:login:{kind}:{value}"


def login_keys_for(identifier: str) -> str | None:
    """The store key a typed login points to: a mobile number in any common form, a SNILS
    bare or formatted, or an e-mail (case-insensitive)."""
    phone = normalize_mobile(identifier)
    if phone:
        return login_key("phone", phone)
    digits = snils_digits(identifier.strip())
    if digits:
        return login_key("snils", digits)
    if "@" in identifier:
        return login_key("email", identifier.strip().lower())
    return None


def hash_password(password: str, salt: str) -> str:
    # A fast salted hash on purpose: the mock must log in thousands of users a second.
    return hashlib.sha256(f"{salt}:{password}".encode()).hexdigest()


# --- seeding -------------------------------------------------------------------------------


def _date(value: Any) -> bool:
    if not isinstance(value, str) or not DATE.fullmatch(value):
        return False
    try:
        dt.datetime.strptime(value, "%d.%m.%Y")
    except ValueError:
        return False
    return True


def _person(body: Any, fallback_snils: str | None, errors: FieldErrors) -> dict[str, Any]:
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
        if _date(body["birthDate"]):
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


def _documents(items: Any, errors: FieldErrors) -> list[dict[str, Any]]:
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
                valid = _date(value)
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
        documents.append(document)
    return documents


def _second_factor(body: dict[str, Any], errors: FieldErrors) -> dict[str, Any]:
    """``second_factor``: ``sms`` (default) or ``totp``; a TOTP secret (base32) is generated
    when none is given and returned by the control API, so a test's authenticator can use it."""
    method = body.get("second_factor", "sms")
    if method not in ("sms", "totp"):
        errors.add("/second_factor", "sms or totp")
        return {}
    secret = body.get("totp_secret")
    if secret is not None and not valid_secret(secret):
        errors.add("/totp_secret", "a base32 secret of 16..128 characters")
        return {}
    return {"method": method, "totp_secret": secret or new_secret()}


@dataclass(frozen=True)
class SeedPlan:
    """A validated account, before it gets its OID and element ids."""

    oid: int | None
    phone: str
    email: str | None
    password: str
    record: dict[str, Any]


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
    person = _person(body.get("person"), login_snils, errors)
    documents = _documents(body.get("documents"), errors)
    addresses = address_list(body.get("addresses"), errors, PERSON_ADDRESS_TYPES)
    vehicles = household.vehicles(body.get("vehicles"), errors)
    kids = household.kids(body.get("kids"), errors)
    level = body.get("level", "confirmed" if person.get("trusted", True) else "standard")
    if level not in LEVELS:
        errors.add("/level", f"one of {', '.join(LEVELS)}")
    elif "level" in body and not errors.items:  # seeds that name no level keep the old default
        for pointer, detail in level_problems(level, person, documents):
            errors.add(pointer, detail)
    second_factor = _second_factor(body, errors)
    if errors.items:
        raise Problem(422, "the user is invalid", errors=errors.items)
    person["trusted"] = level == "confirmed"
    if level == "simplified":
        documents = [{**document, "vrfStu": "NOT_VERIFIED"} for document in documents]
    contacts = [{"type": "MBT", "vrfStu": "VERIFIED", "value": format_mobile(phone)}]  # type: ignore[arg-type]
    if email:
        contacts.append({"type": "EML", "vrfStu": "VERIFIED", "value": email})
    record = {
        "person": person,
        "contacts": contacts,
        "documents": documents,
        "addresses": addresses,
        "vehicles": vehicles,
        "kids": kids,
        "level": level,
        "second_factor": second_factor,
    }
    return SeedPlan(
        oid=oid,
        phone=phone,
        email=email.lower() if email else None,  # type: ignore[arg-type]
        password=password,
        record=record,
    )  # type: ignore[arg-type]


async def seed_user(store: Store, plan: SeedPlan, *, now: float) -> dict[str, Any]:
    """Store the account; 409 when its OID or a login identifier is taken."""
    oid = plan.oid if plan.oid is not None else FIRST_OID + await store.incr("esia:seq:oid")
    record = dict(plan.record)
    salt = secrets.token_hex(8)
    record.update(
        oid=oid, updatedOn=int(now), password={"salt": salt, "hash": hash_password(plan.password, salt)}
    )
    record["logins"] = {"phone": plan.phone, "email": plan.email, "snils": None}
    snils = plan.record["person"].get("snils")
    if snils:
        record["logins"]["snils"] = snils_digits(snils)
    for collection in ("contacts", "documents", "addresses", "vehicles", "kids"):
        record[collection] = [
            {"stateFacts": ["Identifiable"], "id": await store.incr("esia:seq:element"), **item}
            for item in record[collection]
        ]
    if not await store.set(user_key(oid), json.dumps(record), only_if_absent=True):
        raise Problem(409, f"a user with oid {oid} exists")
    claimed: list[str] = []
    for kind, value in record["logins"].items():
        if value is None:
            continue
        key = login_key(kind, value)
        if not await store.set(key, str(oid), only_if_absent=True):
            await store.delete(user_key(oid), *claimed)
            raise Problem(409, f"the {kind} {value} already belongs to another user")
        claimed.append(key)
    return record


async def load_user(store: Store, oid: int) -> dict[str, Any] | None:
    raw = await store.get(user_key(oid))
    return None if raw is None else json.loads(raw)


async def save_user(store: Store, record: dict[str, Any]) -> None:
    """Replace a stored account (the control API's changes; logins are not re-keyed)."""
    await store.set(user_key(record["oid"]), json.dumps(record))


async def set_password(store: Store, oid: int, password: str) -> bool:
    """Replace the account's password (recovery); ``False`` when there is no such account."""
    record = await load_user(store, oid)
    if record is None:
        return False
    salt = secrets.token_hex(8)
    record["password"] = {"salt": salt, "hash": hash_password(password, salt)}
    await save_user(store, record)
    return True


async def unlock(store: Store, oid: int) -> None:
    """End a lockout and forget the wrong passwords counted so far."""
    await store.delete(f"esia:lock:{oid}", f"esia:fail:{oid}")


async def account_for_login(store: Store, login: str) -> int | None:
    """The OID a login identifier (phone, e-mail, SNILS) belongs to."""
    key = login_keys_for(login) if 0 < len(login) <= 320 else None
    oid = await store.get(key) if key else None
    return int(oid) if oid is not None else None


def public_view(record: dict[str, Any]) -> dict[str, Any]:
    """The record without its password hash, for inspection through the control API."""
    return {k: v for k, v in record.items() if k != "password"}


# --- login ---------------------------------------------------------------------------------


class LoginRefused(Exception):
    """Wrong credentials or a locked account; ``locked_until`` is set for the latter."""

    def __init__(self, message: str, *, locked_until: float | None = None) -> None:
        super().__init__(message)
        self.locked_until = locked_until


async def authenticate(store: Store, login: str, password: str, *, now: float) -> dict[str, Any]:
    """The account a login and password open, or :class:`LoginRefused`."""
    key = login_keys_for(login)
    oid_text = await store.get(key) if key else None
    if oid_text is None:
        raise LoginRefused("Неверные логин или пароль")
    oid = int(oid_text)
    lock_raw, user_raw, failures_raw = await store.get_many(
        [f"esia:lock:{oid}", user_key(oid), f"esia:fail:{oid}"]
    )
    if lock_raw is not None and float(lock_raw) > now:
        raise LoginRefused("Учётная запись временно заблокирована", locked_until=float(lock_raw))
    if user_raw is None:
        raise LoginRefused("Неверные логин или пароль")
    user = json.loads(user_raw)
    secret = user["password"]
    if hmac.compare_digest(hash_password(password, secret["salt"]), secret["hash"]):
        if failures_raw is not None:  # a write only when there is a count to clear
            await store.delete(f"esia:fail:{oid}")
        return user
    failures = await store.incr(f"esia:fail:{oid}", ttl=LOCK_SECONDS * 4)
    if failures >= MAX_FAILURES:
        until = now + LOCK_SECONDS
        await store.set(f"esia:lock:{oid}", repr(until), ttl=LOCK_SECONDS * 4)
        await store.delete(f"esia:fail:{oid}")
        raise LoginRefused("Учётная запись временно заблокирована", locked_until=until)
    left = MAX_FAILURES - failures
    raise LoginRefused(f"Неверные логин или пароль. Осталось попыток: {left}")
