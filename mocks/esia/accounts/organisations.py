"""Organisations and their employees as the control API seeds them: validation into typed
records (:mod:`.records`), and the rules of who may be an employee — only a person ESIA knows,
with a confirmed account (:mod:`.levels`). Where they are kept: :mod:`.organisation_repository`;
what ``/rs`` shows of them: :mod:`..rs.persons` (``/roles``, ``/orgs``) and :mod:`..rs.org_data`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...core.identifiers import is_valid_inn, is_valid_kpp, is_valid_ogrn, is_valid_ogrnip
from ...core.problems import Problem
from .levels import may
from .organisation_repository import OrganisationRepository
from .records import Branch, Contact, Employment, Organisation
from .seed_fields import EMAIL, FieldErrors, address_list, bounded_list, optional_text, typed_items
from .user_repository import UserRepository
from .users import MAX_OID

__all__ = ["OrganisationPlan", "add_employee", "create_organisation", "parse_oid", "plan_employment",
           "plan_organisation"]

ORG_TYPES = ("LEGAL", "BUSINESS", "AGENCY")
ROLES = ("administrator", "accountant", "employee")
#: An organisation's (and a branch's) contacts and addresses, as ESIA types them.
ORG_CONTACT_TYPES = {"OPH": "phone", "OFX": "fax", "OEM": "e-mail"}
ORG_ADDRESS_TYPES = {"OLG": "legal address", "OPS": "postal address"}


def parse_oid(text: str) -> int | None:
    """An OID from a path segment, or ``None`` for anything that cannot be one."""
    if not (text.isascii() and text.isdigit()) or len(text) > 16:  # '³'.isdigit(), but int('³') fails
        return None
    value = int(text)
    return value if 0 < value <= MAX_OID else None


def _is_oid(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_OID


def _text(body: dict[str, Any], name: str, errors: FieldErrors, *, required: bool, pointer: str = "") -> str | None:
    value = optional_text(body, name, pointer, errors)
    if value is None and body.get(name) is None and required:
        errors.add(f"{pointer}/{name}", "required")
    return value


def _digits(body: dict[str, Any], name: str, lengths: tuple[int, ...], meaning: str, errors: FieldErrors) -> None:
    value = body.get(name)
    if value is not None and not (isinstance(value, str) and value.isascii() and value.isdigit()
                                  and len(value) in lengths):
        errors.add(f"/{name}", meaning)


def _contacts(items: Any, errors: FieldErrors, pointer: str) -> list[Contact]:
    """``[{"type": "OPH"|"OFX"|"OEM", "value": ..., "vrfStu"?}]``: an e-mail must look like one."""

    def build(item: dict[str, Any], where: str, kind: str) -> Contact:
        value = _text(item, "value", errors, required=True, pointer=where)
        if value is not None and item["type"] == "OEM" and not EMAIL.fullmatch(value):
            errors.add(f"{where}/value", "an e-mail address")
        status = item.get("vrfStu", "VERIFIED")
        if status not in ("VERIFIED", "NOT_VERIFIED"):
            errors.add(f"{where}/vrfStu", "VERIFIED or NOT_VERIFIED")
        return Contact(type=kind, verification=status, value=value)

    return typed_items(items, errors, pointer, ORG_CONTACT_TYPES, build, "contacts")


def _branches(items: Any, head_kpp: str | None, errors: FieldErrors) -> list[Branch]:
    """Separate subdivisions: a name, their own KPP (not the head office's, not another
    branch's), and their own contacts and addresses."""
    branches: list[Branch] = []
    taken = {head_kpp} if isinstance(head_kpp, str) else set()
    for index, item in enumerate(bounded_list(items, "/branches", errors, 50, "branches")):
        where = f"/branches/{index}"
        if not isinstance(item, dict):
            errors.add(where, "an object with name and kpp")
            continue
        name = _text(item, "name", errors, required=True, pointer=where)
        short_name = _text(item, "shortName", errors, required=False, pointer=where)
        kpp = item.get("kpp")
        if not is_valid_kpp(kpp):
            errors.add(f"{where}/kpp", "a valid KPP (9 characters)")
        elif kpp in taken:
            errors.add(f"{where}/kpp", "a KPP of its own: the head office or another branch has this one")
        else:
            taken.add(str(kpp))
        branches.append(Branch(
            name=name,
            short_name=short_name,
            kpp=kpp,
            contacts=tuple(_contacts(item.get("contacts"), errors, f"{where}/contacts")),
            addresses=tuple(address_list(item.get("addresses"), errors, ORG_ADDRESS_TYPES, f"{where}/addresses")),
        ))
    return branches


@dataclass(frozen=True, slots=True)
class OrganisationPlan:
    """A validated organisation (its elements not yet numbered), the OID asked for, and the
    employees to link."""

    organisation: Organisation
    oid: int | None
    employees: tuple[Employment, ...]


def plan_organisation(body: dict[str, Any]) -> OrganisationPlan:
    """Validate a ``POST /organisations`` body (422 with pointers on any fault)."""
    errors = FieldErrors()
    kind = body.get("type", "LEGAL")
    if kind not in ORG_TYPES:
        errors.add("/type", f"one of {', '.join(ORG_TYPES)}")
        kind = "LEGAL"
    oid = body.get("oid")
    if oid is not None and not _is_oid(oid):
        errors.add("/oid", "a positive integer")
    full_name = _text(body, "fullName", errors, required=True)
    short_name = _text(body, "shortName", errors, required=False) or full_name
    ogrn = body.get("ogrn")
    business = kind == "BUSINESS"
    if not (is_valid_ogrnip(ogrn) if business else is_valid_ogrn(ogrn)):
        errors.add("/ogrn", "a valid 15-digit OGRNIP" if business else "a valid OGRN")
    inn = body.get("inn")
    if not is_valid_inn(inn, kind="person" if business else "legal"):
        errors.add("/inn", "a valid 12-digit INN" if business else "a valid 10-digit INN")
    kpp = body.get("kpp")
    if kpp is not None or not business:
        if business or not is_valid_kpp(kpp):
            detail = "a sole proprietor has no KPP" if business else "a valid KPP (9 characters)"
            errors.add("/kpp", detail)
    _digits(body, "leg", (5,), "an OKOPF code: 5 digits", errors)
    _digits(body, "oktmo", (8, 11), "an OKTMO code: 8 or 11 digits", errors)
    contacts = _contacts(body.get("contacts"), errors, "/contacts")
    addresses = address_list(body.get("addresses"), errors, ORG_ADDRESS_TYPES)
    if business and body.get("branches"):
        errors.add("/branches", "a sole proprietor has no branches")
    branches = _branches(body.get("branches"), kpp, errors)
    employees = body.get("employees", [])
    plans: list[Employment] = []
    if not isinstance(employees, list) or len(employees) > 100:
        errors.add("/employees", "a list of up to 100 employees")
    else:
        for index, item in enumerate(employees):
            plan, faults = plan_employment(item, f"/employees/{index}")
            errors.items.extend(faults)
            if plan is not None:
                plans.append(plan)
    if errors.items or full_name is None or short_name is None or not isinstance(ogrn, str) or not isinstance(inn, str):
        raise Problem(422, "the organisation is invalid", errors=errors.items)
    organisation = Organisation(
        oid=0, full_name=full_name, short_name=short_name, ogrn=ogrn, inn=inn, type=kind, kpp=kpp,
        leg=body.get("leg"), oktmo=body.get("oktmo"), contacts=tuple(contacts), addresses=tuple(addresses),
        branches=tuple(branches),
    )
    return OrganisationPlan(organisation, oid, tuple(plans))


def plan_employment(item: Any, pointer: str = "") -> tuple[Employment | None, list[dict[str, str]]]:
    """``{"oid": <person>, "role": "administrator"|"accountant"|"employee", "chief": false}``."""
    if not isinstance(item, dict):
        return None, [{"pointer": pointer or "/", "detail": "an object with oid and role"}]
    faults = []
    if not _is_oid(item.get("oid")):
        faults.append({"pointer": f"{pointer}/oid", "detail": "the OID of a seeded person"})
    role = item.get("role", "employee")
    if role not in ROLES:
        faults.append({"pointer": f"{pointer}/role", "detail": f"one of {', '.join(ROLES)}"})
    chief = item.get("chief", False)
    if not isinstance(chief, bool):
        faults.append({"pointer": f"{pointer}/chief", "detail": "true or false"})
    if faults:
        return None, faults
    return Employment(oid=item["oid"], role=role, chief=chief), []


async def _check_employees(users: UserRepository, plans: tuple[Employment, ...], pointer: str) -> None:
    errors = []
    for index, plan in enumerate(plans):
        where = f"{pointer}/{index}/oid" if pointer else "/oid"
        account = await users.get(plan.oid)
        if account is None:
            errors.append({"pointer": where, "detail": f"no person with oid {plan.oid}"})
        elif not may(account.level, "organisations"):
            errors.append({"pointer": where, "detail": "only a confirmed account may act for an organisation"})
    if errors:
        raise Problem(422, "the employees are invalid", errors=errors)


async def create_organisation(
    organisations: OrganisationRepository, users: UserRepository, plan: OrganisationPlan, *, now: float
) -> tuple[Organisation, list[Employment]]:
    """Store a validated organisation and link its employees; 409 when the OID is taken."""
    await _check_employees(users, plan.employees, "/employees")
    organisation = await organisations.create(plan.organisation, oid=plan.oid, now=now)
    linked = [await organisations.link(organisation.oid, employment, now=now) for employment in plan.employees]
    return organisation, linked


async def add_employee(
    organisations: OrganisationRepository, users: UserRepository, org_oid: int, body: Any, *, now: float
) -> Employment:
    """Link a seeded, confirmed person to an organisation (``POST …/employees``)."""
    if await organisations.get(org_oid) is None:
        raise Problem(404, f"no organisation with oid {org_oid}")
    plan, faults = plan_employment(body)
    if plan is None:
        raise Problem(422, "the employee is invalid", errors=faults)
    await _check_employees(users, (plan,), "")
    return await organisations.link(org_oid, plan, now=now)
