"""Organisations and their employees: seeding through the control API, and the views ``/rs``
serves of them (``/rs/prns/{oid}/roles|orgs``, ``/rs/orgs/{org_oid}[/emps]``).

Store layout (shared by every replica):

- ``esia:org:<org_oid>`` — the organisation (names, OGRN, INN, KPP, type, OKOPF, OKTMO) with
  its contacts, addresses and branches (each branch with its own contacts and addresses);
  seeded once and read whole, so ``/rs/orgs`` answers from one read;
- ``esia:member:<org_oid>:<oid>`` — one employment: ``role`` (administrator, accountant,
  employee), ``chief``;
- sorted indexes ``esia:org-emps:<org_oid>`` (employees) and ``esia:user-orgs:<oid>`` (the
  person's organisations), so either side is one index read plus one ``get_many``.

Organisations take their OIDs from the same counter as people (ESIA has one OID space).
Only a confirmed account may be an employee (:mod:`.levels`).
"""

from __future__ import annotations

import json
from typing import Any

from ...core.identifiers import is_valid_inn, is_valid_kpp, is_valid_ogrn, is_valid_ogrnip
from ...core.problems import Problem
from ...core.store import Store
from .levels import may
from .seed_fields import EMAIL, FieldErrors, address_list, bounded_list, optional_text, typed_items
from .users import FIRST_OID, MAX_OID, load_user

ORG_TYPES = ("LEGAL", "BUSINESS", "AGENCY")
ROLES = ("administrator", "accountant", "employee")
#: An organisation's (and a branch's) contacts and addresses, as ESIA types them.
ORG_CONTACT_TYPES = {"OPH": "phone", "OFX": "fax", "OEM": "e-mail"}
ORG_ADDRESS_TYPES = {"OLG": "legal address", "OPS": "postal address"}


def org_key(org_oid: int) -> str:
    return f"esia:org:{org_oid}"


def member_key(org_oid: int, oid: int) -> str:
    return f"esia:member:{org_oid}:{oid}"


def parse_oid(text: str) -> int | None:
    """An OID from a path segment, or ``None`` for anything that cannot be one."""
    if not text.isdigit() or len(text) > 16:
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


def _contacts(items: Any, errors: FieldErrors, pointer: str) -> list[dict[str, Any]]:
    """``[{"type": "OPH"|"OFX"|"OEM", "value": ..., "vrfStu"?}]``: an e-mail must look like one."""

    def build(item: dict[str, Any], where: str) -> dict[str, Any]:
        value = _text(item, "value", errors, required=True, pointer=where)
        if value is not None and item["type"] == "OEM" and not EMAIL.fullmatch(value):
            errors.add(f"{where}/value", "an e-mail address")
        status = item.get("vrfStu", "VERIFIED")
        if status not in ("VERIFIED", "NOT_VERIFIED"):
            errors.add(f"{where}/vrfStu", "VERIFIED or NOT_VERIFIED")
        return {"vrfStu": status, "value": value}

    return typed_items(items, errors, pointer, ORG_CONTACT_TYPES, build, "contacts")


def _branches(items: Any, head_kpp: str | None, errors: FieldErrors) -> list[dict[str, Any]]:
    """Separate subdivisions: a name, their own KPP (not the head office's, not another
    branch's), and their own contacts and addresses."""
    branches: list[dict[str, Any]] = []
    taken = {head_kpp} if isinstance(head_kpp, str) else set()
    for index, item in enumerate(bounded_list(items, "/branches", errors, 50, "branches")):
        where = f"/branches/{index}"
        if not isinstance(item, dict):
            errors.add(where, "an object with name and kpp")
            continue
        branch: dict[str, Any] = {"name": _text(item, "name", errors, required=True, pointer=where)}
        short_name = _text(item, "shortName", errors, required=False, pointer=where)
        if short_name is not None:
            branch["shortName"] = short_name
        kpp = item.get("kpp")
        if not is_valid_kpp(kpp):
            errors.add(f"{where}/kpp", "a valid KPP (9 characters)")
        elif kpp in taken:
            errors.add(f"{where}/kpp", "a KPP of its own: the head office or another branch has this one")
        else:
            taken.add(kpp)
        branch["kpp"] = kpp
        branch["contacts"] = _contacts(item.get("contacts"), errors, f"{where}/contacts")
        branch["addresses"] = address_list(item.get("addresses"), errors, ORG_ADDRESS_TYPES, f"{where}/addresses")
        branches.append(branch)
    return branches


def plan_organisation(body: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Validate a ``POST /organisations`` body → (organisation, employments to link)."""
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
    organisation: dict[str, Any] = {
        "oid": oid,
        "fullName": full_name,
        "shortName": short_name,
        "ogrn": ogrn,
        "inn": inn,
        "type": kind,
    }
    kpp = body.get("kpp")
    if kpp is not None or not business:
        if business or not is_valid_kpp(kpp):
            detail = "a sole proprietor has no KPP" if business else "a valid KPP (9 characters)"
            errors.add("/kpp", detail)
        organisation["kpp"] = kpp
    _digits(body, "leg", (5,), "an OKOPF code: 5 digits", errors)
    _digits(body, "oktmo", (8, 11), "an OKTMO code: 8 or 11 digits", errors)
    organisation.update({name: body[name] for name in ("leg", "oktmo") if body.get(name) is not None})
    organisation["contacts"] = _contacts(body.get("contacts"), errors, "/contacts")
    organisation["addresses"] = address_list(body.get("addresses"), errors, ORG_ADDRESS_TYPES)
    if business and body.get("branches"):
        errors.add("/branches", "a sole proprietor has no branches")
    organisation["branches"] = _branches(body.get("branches"), organisation.get("kpp"), errors)
    employees = body.get("employees", [])
    plans: list[dict[str, Any]] = []
    if not isinstance(employees, list) or len(employees) > 100:
        errors.add("/employees", "a list of up to 100 employees")
    else:
        for index, item in enumerate(employees):
            plan, faults = plan_employment(item, f"/employees/{index}")
            errors.items.extend(faults)
            if plan is not None:
                plans.append(plan)
    if errors.items:
        raise Problem(422, "the organisation is invalid", errors=errors.items)
    return organisation, plans


def plan_employment(item: Any, pointer: str = "") -> tuple[dict[str, Any] | None, list[dict[str, str]]]:
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
    return {"oid": item["oid"], "role": role, "chief": chief}, []


async def _check_employees(store: Store, plans: list[dict[str, Any]], pointer: str) -> None:
    errors = []
    for index, plan in enumerate(plans):
        where = f"{pointer}/{index}/oid" if pointer else "/oid"
        user = await load_user(store, plan["oid"])
        if user is None:
            errors.append({"pointer": where, "detail": f"no person with oid {plan['oid']}"})
        elif not may(user.get("level", "confirmed"), "organisations"):
            errors.append({"pointer": where, "detail": "only a confirmed account may act for an organisation"})
    if errors:
        raise Problem(422, "the employees are invalid", errors=errors)


async def link_employee(store: Store, org_oid: int, plan: dict[str, Any], *, now: float) -> dict[str, Any]:
    membership = {"role": plan["role"], "chief": plan["chief"], "since": now}
    await store.set(member_key(org_oid, plan["oid"]), json.dumps(membership))
    await store.index_add(f"esia:org-emps:{org_oid}", str(plan["oid"]), now)
    await store.index_add(f"esia:user-orgs:{plan['oid']}", str(org_oid), now)
    return {"oid": plan["oid"], **membership}


async def create_organisation(
    store: Store, organisation: dict[str, Any], employees: list[dict[str, Any]], *, now: float
) -> dict[str, Any]:
    """Store a validated organisation and link its employees; 409 when the OID is taken."""
    await _check_employees(store, employees, "/employees")
    oid = organisation["oid"] or FIRST_OID + await store.incr("esia:seq:oid")
    record = {**organisation, "oid": oid, "updatedOn": int(now)}
    record["contacts"] = [await _identified(store, item) for item in organisation["contacts"]]
    record["addresses"] = [await _identified(store, item) for item in organisation["addresses"]]
    record["branches"] = [
        await _identified(store, {
            **branch,
            "contacts": [await _identified(store, item) for item in branch["contacts"]],
            "addresses": [await _identified(store, item) for item in branch["addresses"]],
        })
        for branch in organisation["branches"]
    ]
    if not await store.set(org_key(oid), json.dumps(record), only_if_absent=True):
        raise Problem(409, f"an organisation with oid {oid} exists")
    linked = [await link_employee(store, oid, plan, now=now) for plan in employees]
    return {**record, "employees": linked}


async def _identified(store: Store, item: dict[str, Any]) -> dict[str, Any]:
    """An element as ``/rs`` shows it: ``stateFacts`` and an id from ESIA's element counter
    (the one people's contacts and documents draw from)."""
    return {"stateFacts": ["Identifiable"], "id": await store.incr("esia:seq:element"), **item}


async def add_employee(store: Store, org_oid: int, body: Any, *, now: float) -> dict[str, Any]:
    if await load_organisation(store, org_oid) is None:
        raise Problem(404, f"no organisation with oid {org_oid}")
    plan, faults = plan_employment(body)
    if plan is None:
        raise Problem(422, "the employee is invalid", errors=faults)
    await _check_employees(store, [plan], "")
    return await link_employee(store, org_oid, plan, now=now)


async def load_organisation(store: Store, org_oid: int) -> dict[str, Any] | None:
    raw = await store.get(org_key(org_oid))
    return None if raw is None else json.loads(raw)


async def employees_of(store: Store, org_oid: int) -> list[dict[str, Any]]:
    """``[{"oid", "role", "chief", "since"}]`` in the order they joined."""
    oids = await store.index_range(f"esia:org-emps:{org_oid}")
    rows = await store.get_many([member_key(org_oid, int(oid)) for oid in oids])
    return [{"oid": int(oid), **json.loads(row)} for oid, row in zip(oids, rows, strict=True) if row]


async def organisation_with_employees(store: Store, org_oid: int) -> dict[str, Any] | None:
    organisation = await load_organisation(store, org_oid)
    if organisation is None:
        return None
    return {**organisation, "employees": await employees_of(store, org_oid)}


async def roles_of(store: Store, oid: int) -> list[dict[str, Any]]:
    """The person's employments as ``/rs/prns/{oid}/roles`` (and ``/orgs``) elements."""
    org_oids = await store.index_range(f"esia:user-orgs:{oid}")
    if not org_oids:
        return []
    keys = [org_key(int(o)) for o in org_oids] + [member_key(int(o), oid) for o in org_oids]
    rows = await store.get_many(keys)
    organisations, memberships = rows[: len(org_oids)], rows[len(org_oids) :]
    roles = []
    for raw_org, raw_member in zip(organisations, memberships, strict=True):
        if raw_org is None or raw_member is None:
            continue
        roles.append(role_view(json.loads(raw_org), json.loads(raw_member), oid))
    return roles


def role_view(organisation: dict[str, Any], membership: dict[str, Any], oid: int) -> dict[str, Any]:
    """One employment as ESIA shows it; ``role`` names the mock's role (administrator,
    accountant, employee), which ESIA itself expresses through ``admin`` and its groups."""
    admin = membership["role"] == "administrator"
    return {
        "stateFacts": ["Identifiable"],
        "oid": organisation["oid"],
        "prnOid": oid,
        "fullName": organisation["fullName"],
        "shortName": organisation["shortName"],
        "ogrn": organisation["ogrn"],
        "type": organisation["type"],
        "chief": membership["chief"],
        "admin": admin,
        "active": True,
        "hasRightOfSubstitution": admin or membership["chief"],
        "role": membership["role"],
    }


def employee_view(employment: dict[str, Any], org_oid: int) -> dict[str, Any]:
    """An element of ``/rs/orgs/{org_oid}/emps``."""
    return {
        "stateFacts": ["Identifiable"],
        "id": employment["oid"],
        "prnOid": employment["oid"],
        "orgOid": org_oid,
        "role": employment["role"],
        "chief": employment["chief"],
        "admin": employment["role"] == "administrator",
        "active": True,
    }
