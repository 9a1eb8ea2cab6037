"""ESIA's own control endpoints, mounted under ``/_gosstand/control`` behind the control token:

- ``POST /clients`` — register (or replace) a client system → 201 with the registration;
- ``POST /users`` — seed an account → 201 ``{"oid": …, …}``;
- ``GET /users/{oid}`` — the stored account (no password hash);
- ``PATCH /users/{oid}`` — change ``level``, ``second_factor`` (sms|totp), ``totp_secret``,
  and switch ``faults`` (:mod:`.faults`) → the account with ``"faults"``;
- ``PATCH /clients/{client_id}`` — ``{"faults": {...}}`` for a client system → its switches;
- ``GET /outbox?phone=+7…`` — the SMS messages sent to a phone, newest last;
- ``GET /mailbox?email=…`` — the e-mails sent to an address (activation links, codes);
- ``POST /organisations`` — seed an organisation (``fullName``, ``shortName``, ``ogrn``,
  ``inn``, ``kpp``, ``type`` LEGAL|BUSINESS|AGENCY, ``leg``, ``oktmo``, ``contacts``,
  ``addresses``, ``branches: [{name, kpp, contacts, addresses}]``,
  ``employees: [{oid, role, chief}]``) → 201;
- ``GET /organisations/{org_oid}`` — the organisation with its employees;
- ``POST /organisations/{org_oid}/employees`` — link a seeded (confirmed) person
  ``{"oid", "role": "administrator"|"accountant"|"employee", "chief"}`` → 201.

Bodies are JSON; faults are 422 problem+json with pointers, conflicts 409.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..core.context import context
from ..core.identifiers import normalize_mobile
from ..core.json_body import read_json
from ..core.problems import Problem, json_object
from .accounts.account_changes import apply_changes
from .accounts.mailbox import mailbox
from .accounts.organisations import (
    add_employee,
    create_organisation,
    organisation_with_employees,
    parse_oid,
    plan_organisation,
)
from .accounts.seed_fields import EMAIL
from .accounts.users import load_user, plan_user, public_view, save_user, seed_user
from .oauth.clients import client_from_registration, find_client, save_client
from .oauth.faults import set_faults
from .oauth.sessions import outbox


async def register_client(request: Request) -> Response:
    client = client_from_registration(json_object(await read_json(request)))
    await save_client(context(request).store, client)
    return JSONResponse(client.to_json(), status_code=201)


async def create_user(request: Request) -> Response:
    ctx = context(request)
    plan = plan_user(json_object(await read_json(request)))
    record = await seed_user(ctx.store, plan, now=await ctx.clock.now())
    return JSONResponse(public_view(record), status_code=201)


async def show_user(request: Request) -> Response:
    raw = request.path_params["oid"]
    record = await load_user(context(request).store, int(raw)) if raw.isdigit() and len(raw) <= 18 else None
    if record is None:
        raise Problem(404, f"no user with oid {raw[:40]}")
    return JSONResponse(public_view(record))


async def patch_client(request: Request) -> Response:
    ctx = context(request)
    client_id = request.path_params["client_id"]
    if len(client_id) > 64 or await find_client(ctx.store, client_id) is None:
        raise Problem(404, f"no client system {client_id[:64]}")
    body = json_object(await read_json(request))
    if set(body) != {"faults"}:
        raise Problem(422, 'send {"faults": {...}}', errors=[{"pointer": "/", "detail": "only faults change here"}])
    record = await set_faults(ctx.store, "client", client_id, body["faults"], now=await ctx.clock.now())
    return JSONResponse(record)


async def patch_user(request: Request) -> Response:
    ctx = context(request)
    raw = request.path_params["oid"]
    oid = int(raw) if raw.isdigit() and len(raw) <= 16 else None
    record = await load_user(ctx.store, oid) if oid is not None else None
    if record is None or oid is None:
        raise Problem(404, f"no user with oid {raw[:40]}")
    body = json_object(await read_json(request))
    changed = apply_changes(record, body)
    now = await ctx.clock.now()
    faults = None
    if "faults" in body:
        faults = await set_faults(ctx.store, "user", oid, body["faults"], now=now)
    if changed != record:
        await save_user(ctx.store, changed)
    view = public_view(changed)
    if faults is not None:
        view["faults"] = faults
    return JSONResponse(view)


async def read_outbox(request: Request) -> Response:
    phone = normalize_mobile(request.query_params.get("phone", ""))
    if phone is None:
        raise Problem(
            422,
            "give ?phone= a Russian mobile number",
            errors=[{"pointer": "/phone", "detail": "a Russian mobile number"}],
        )
    last = request.query_params.get("last")
    if last is not None and not (last.isdigit() and 1 <= int(last) <= 1000):
        raise Problem(422, "?last= is how many of the latest messages to show, 1 to 1000",
                      errors=[{"pointer": "/last", "detail": "an integer from 1 to 1000"}])
    messages = await outbox(context(request).store, phone, last=int(last) if last else None)
    return JSONResponse({"phone": phone, "messages": messages})


async def create_org(request: Request) -> Response:
    ctx = context(request)
    organisation, employees = plan_organisation(json_object(await read_json(request)))
    record = await create_organisation(ctx.store, organisation, employees, now=await ctx.clock.now())
    return JSONResponse(record, status_code=201)


def _org_oid(request: Request) -> int:
    raw = request.path_params["org_oid"]
    org_oid = parse_oid(raw)
    if org_oid is None:
        raise Problem(404, f"no organisation with oid {raw[:40]}")
    return org_oid


async def show_org(request: Request) -> Response:
    org_oid = _org_oid(request)
    record = await organisation_with_employees(context(request).store, org_oid)
    if record is None:
        raise Problem(404, f"no organisation with oid {org_oid}")
    return JSONResponse(record)


async def link_employee(request: Request) -> Response:
    ctx = context(request)
    org_oid = _org_oid(request)
    body = await read_json(request)
    employment = await add_employee(ctx.store, org_oid, body, now=await ctx.clock.now())
    return JSONResponse(employment, status_code=201)


async def read_mailbox(request: Request) -> Response:
    email = request.query_params.get("email", "")
    if not EMAIL.fullmatch(email):
        raise Problem(422, "give ?email= an e-mail address", errors=[{"pointer": "/email", "detail": "an e-mail"}])
    return JSONResponse({"email": email, "messages": await mailbox(context(request).store, email)})


control_routes = [
    Route("/clients", register_client, methods=["POST"]),
    Route("/users", create_user, methods=["POST"]),
    Route("/users/{oid}", show_user, methods=["GET"]),
    Route("/users/{oid}", patch_user, methods=["PATCH"]),
    Route("/clients/{client_id}", patch_client, methods=["PATCH"]),
    Route("/outbox", read_outbox, methods=["GET"]),
    Route("/mailbox", read_mailbox, methods=["GET"]),
    Route("/organisations", create_org, methods=["POST"]),
    Route("/organisations/{org_oid}", show_org, methods=["GET"]),
    Route("/organisations/{org_oid}/employees", link_employee, methods=["POST"]),
]
