"""ESIA's own control endpoints, mounted under ``/_gosstand/control`` behind the control token:

- ``POST /clients`` — register (or replace) a client system → 201 with the registration;
- ``POST /users`` — seed an account → 201 ``{"oid": …, …}``;
- ``GET /users/{oid}`` — the stored account (no password hash);
- ``PATCH /users/{oid}`` — change ``level``, ``second_factor`` (sms|totp), ``totp_secret``,
  and switch ``faults`` (:mod:`.oauth.faults`) → the account with ``"faults"``;
- ``DELETE /users/{oid}/consents/{client_id}`` — the person withdraws the client system's access
  (as in their Gosuslugi profile): its consent is forgotten and the refresh tokens of their
  earlier logins to it are revoked (:data:`~.errors.GRANT_INVALID`) → 204;
- ``PATCH /clients/{client_id}`` — ``{"faults": {...}}`` for a client system → its switches;
- ``GET /outbox?phone=+7…`` — the SMS messages sent to a phone, newest last;
- ``GET /mailbox?email=…`` — the e-mails sent to an address (activation links, codes);
- ``POST /organisations`` — seed an organisation (``fullName``, ``shortName``, ``ogrn``,
  ``inn``, ``kpp``, ``type`` LEGAL|BUSINESS|AGENCY, ``leg``, ``oktmo``, ``contacts``,
  ``addresses``, ``branches: [{name, kpp, contacts, addresses}]``,
  ``employees: [{oid, role, chief}]``) → 201;
- ``GET /organisations/{org_oid}`` — the organisation with its employees;
- ``POST /organisations/{org_oid}/employees`` — link a seeded (confirmed) person
  ``{"oid", "role": "administrator"|"accountant"|"employee", "chief"}`` → 201;
- ``DELETE /organisations/{org_oid}/employees/{oid}`` — the person leaves the organisation → 204
  (404 when they were not its employee);
- ``POST /certificates`` — the stand's test CA issues a certificate of an electronic signature
  to a seeded person (``{"oid", "org_oid"?, "bits"?: 256|512, "qualified"?, "expired"?,
  "days"?}``, or ``{"holder": {…}}`` for someone ESIA has no account for; :mod:`.ca.issuance`)
  → 201 with ``serial``, ``certificate``, ``private_key`` and ``ca_certificate`` (PEM);
- ``GET /certificates/{serial}`` — what the CA recorded of it (``revoked_at`` once revoked);
- ``POST /certificates/{serial}/revoke`` — put it on the CA's revocation list (and its CRL,
  ``/_gosstand/esia/ca.crl``) → the record.

Bodies are JSON; faults are 422 problem+json with pointers, conflicts 409.

``GET /outbox`` has a hot route too (:func:`hot_outbox`): a load run reads one SMS code per
login, and through Starlette's mounts and the control token's middleware that read cost more of
the replica than the login page it follows. The hot route answers only a plain read with the
right token; anything else (a wrong token, a bad phone) goes to the route here.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..core.context import ServiceContext, context
from ..core.hot_path import HotAnswer, HotRequest, HotRoute
from ..core.identifiers import normalize_mobile
from ..core.json_body import read_json
from ..core.middleware import RESERVED_PREFIX
from ..core.problems import Problem, json_object
from ..core.store import Store
from ..core.urlencoded import urlencoded_pairs
from .accounts.account_changes import apply_changes
from .accounts.message_repository import MessageRepository
from .accounts.organisation_repository import OrganisationRepository
from .accounts.organisations import add_employee, create_organisation, parse_oid, plan_organisation
from .accounts.seed_fields import EMAIL
from .accounts.user_repository import UserRepository
from .accounts.users import plan_user
from .ca.certificate_repository import CertificateRepository
from .ca.issuance import issue_certificate, plan_certificate
from .oauth.client_repository import ClientRepository
from .oauth.clients import client_from_registration
from .oauth.consent_repository import ConsentRepository
from .oauth.fault_repository import FaultRepository
from .oauth.faults import plan_faults

__all__ = ["control_routes"]


async def register_client(request: Request) -> Response:
    client = client_from_registration(json_object(await read_json(request)))
    await ClientRepository(context(request).store).save(client)
    return JSONResponse(client.to_json(), status_code=201)


async def create_user(request: Request) -> Response:
    ctx = context(request)
    plan = plan_user(json_object(await read_json(request)))
    account = await UserRepository(ctx.store).create(plan, now=await ctx.clock.now())
    return JSONResponse(account.public_view(), status_code=201)


def _user_oid(request: Request) -> int | None:
    raw = request.path_params["oid"]
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 16 else None


async def show_user(request: Request) -> Response:
    oid = _user_oid(request)
    account = await UserRepository(context(request).store).get(oid) if oid is not None else None
    if account is None:
        raise Problem(404, f"no user with oid {request.path_params['oid'][:40]}")
    return JSONResponse(account.public_view())


async def patch_client(request: Request) -> Response:
    ctx = context(request)
    client_id = request.path_params["client_id"]
    if await ClientRepository(ctx.store).find(client_id) is None:
        raise Problem(404, f"no client system {client_id[:64]}")
    body = json_object(await read_json(request))
    if set(body) != {"faults"}:
        raise Problem(422, 'send {"faults": {...}}', errors=[{"pointer": "/", "detail": "only faults change here"}])
    switches, seconds = plan_faults(body["faults"])
    changed = await FaultRepository(ctx.store).change("client", client_id, switches, seconds,
                                                      now=await ctx.clock.now())
    return JSONResponse(changed.to_json())


async def patch_user(request: Request) -> Response:
    ctx = context(request)
    users = UserRepository(ctx.store)
    oid = _user_oid(request)
    account = await users.get(oid) if oid is not None else None
    if account is None or oid is None:
        raise Problem(404, f"no user with oid {request.path_params['oid'][:40]}")
    body = json_object(await read_json(request))
    changed = apply_changes(account, body)
    now = await ctx.clock.now()
    faults = None
    if "faults" in body:
        switches, seconds = plan_faults(body["faults"])
        faults = await FaultRepository(ctx.store).change("user", oid, switches, seconds, now=now)
    if changed != account:
        await users.save(changed)
    view = changed.public_view()
    if faults is not None:
        view["faults"] = faults.to_json()
    return JSONResponse(view)


async def withdraw_consent(request: Request) -> Response:
    ctx = context(request)
    oid = _user_oid(request)
    client_id = request.path_params["client_id"]
    if oid is None or await UserRepository(ctx.store).get(oid) is None:
        raise Problem(404, f"no user with oid {request.path_params['oid'][:40]}")
    if await ClientRepository(ctx.store).find(client_id) is None:
        raise Problem(404, f"no client system {client_id[:64]}")
    await ConsentRepository(ctx.store).withdraw(oid, client_id, now=await ctx.clock.now())
    return Response(status_code=204)


def _outbox_query(query: Mapping[str, str]) -> tuple[str, int | None]:
    """The phone and ``last`` of an outbox read, or its 422 problem."""
    phone = normalize_mobile(query.get("phone", ""))
    if phone is None:
        raise Problem(
            422,
            "give ?phone= a Russian mobile number",
            errors=[{"pointer": "/phone", "detail": "a Russian mobile number"}],
        )
    last = query.get("last")
    if last is not None and not (last.isdigit() and 1 <= int(last) <= 1000):
        raise Problem(422, "?last= is how many of the latest messages to show, 1 to 1000",
                      errors=[{"pointer": "/last", "detail": "an integer from 1 to 1000"}])
    return phone, int(last) if last else None


async def _outbox(store: Store, phone: str, last: int | None) -> dict[str, object]:
    return {"phone": phone, "messages": await MessageRepository(store).outbox(phone, last=last)}


async def read_outbox(request: Request) -> Response:
    return JSONResponse(await _outbox(context(request).store, *_outbox_query(request.query_params)))


def hot_outbox(ctx: ServiceContext) -> HotRoute:
    """``GET /_gosstand/control/outbox`` in front of Starlette: the same answer as
    :func:`read_outbox` behind :class:`~..core.middleware.ControlToken`, which reads the
    ``Authorization`` header the same way (the last one sent), and the query as Starlette's
    ``query_params`` does (the last of a repeated name); anything else declines. The answer is
    rendered as ``JSONResponse`` renders it, without making one."""
    expected = f"Bearer {ctx.settings.control_token}".encode()

    async def answer(request: HotRequest) -> HotAnswer | None:
        sent = b""
        for name, value in request.headers:
            if name == b"authorization":
                sent = value
        if not hmac.compare_digest(sent, expected):
            return None
        query = dict(urlencoded_pairs(request.query.decode("latin-1")))
        # a Problem declines: the full route answers it
        return HotAnswer.json(await _outbox(ctx.store, *_outbox_query(query)))

    return HotRoute(f"{RESERVED_PREFIX}/control/outbox", answer, template=f"{RESERVED_PREFIX}/control/outbox")


async def create_org(request: Request) -> Response:
    ctx = context(request)
    plan = plan_organisation(json_object(await read_json(request)))
    organisation, employees = await create_organisation(
        OrganisationRepository(ctx.store), UserRepository(ctx.store), plan, now=await ctx.clock.now())
    return JSONResponse({**organisation.to_json(), "employees": [e.to_json() for e in employees]}, status_code=201)


def _org_oid(request: Request) -> int:
    raw = request.path_params["org_oid"]
    org_oid = parse_oid(raw)
    if org_oid is None:
        raise Problem(404, f"no organisation with oid {raw[:40]}")
    return org_oid


async def show_org(request: Request) -> Response:
    org_oid = _org_oid(request)
    organisations = OrganisationRepository(context(request).store)
    organisation = await organisations.get(org_oid)
    if organisation is None:
        raise Problem(404, f"no organisation with oid {org_oid}")
    employees = await organisations.employees(org_oid)
    return JSONResponse({**organisation.to_json(), "employees": [e.to_json() for e in employees]})


async def link_employee(request: Request) -> Response:
    ctx = context(request)
    org_oid = _org_oid(request)
    body = await read_json(request)
    employment = await add_employee(OrganisationRepository(ctx.store), UserRepository(ctx.store), org_oid, body,
                                    now=await ctx.clock.now())
    return JSONResponse(employment.to_json(), status_code=201)


async def unlink_employee(request: Request) -> Response:
    org_oid = _org_oid(request)
    oid = _user_oid(request)
    if oid is None or not await OrganisationRepository(context(request).store).unlink(org_oid, oid):
        raise Problem(404, f"{request.path_params['oid'][:40]} is not an employee of the organisation {org_oid}")
    return Response(status_code=204)


async def read_mailbox(request: Request) -> Response:
    email = request.query_params.get("email", "")
    if not EMAIL.fullmatch(email):
        raise Problem(422, "give ?email= an e-mail address", errors=[{"pointer": "/email", "detail": "an e-mail"}])
    return JSONResponse({"email": email, "messages": await MessageRepository(context(request).store).mailbox(email)})


async def create_certificate(request: Request) -> Response:
    ctx = context(request)
    plan = plan_certificate(json_object(await read_json(request)))
    return JSONResponse(await issue_certificate(ctx, plan), status_code=201)


async def show_certificate(request: Request) -> Response:
    serial = request.path_params["serial"].upper()
    record = await CertificateRepository(context(request).store).get(serial)
    if record is None:
        raise Problem(404, f"the CA issued no certificate with serial {serial[:40]}")
    return JSONResponse(record.to_json())


async def revoke_certificate(request: Request) -> Response:
    ctx = context(request)
    serial = request.path_params["serial"].upper()
    record = await CertificateRepository(ctx.store).revoke(serial, now=await ctx.clock.now())
    if record is None:
        raise Problem(404, f"the CA issued no certificate with serial {serial[:40]}")
    return JSONResponse(record.to_json())


control_routes: list[BaseRoute] = [
    Route("/clients", register_client, methods=["POST"]),
    Route("/users", create_user, methods=["POST"]),
    Route("/users/{oid}", show_user, methods=["GET"]),
    Route("/users/{oid}", patch_user, methods=["PATCH"]),
    Route("/users/{oid}/consents/{client_id}", withdraw_consent, methods=["DELETE"]),
    Route("/clients/{client_id}", patch_client, methods=["PATCH"]),
    Route("/outbox", read_outbox, methods=["GET"]),
    Route("/mailbox", read_mailbox, methods=["GET"]),
    Route("/organisations", create_org, methods=["POST"]),
    Route("/organisations/{org_oid}", show_org, methods=["GET"]),
    Route("/organisations/{org_oid}/employees", link_employee, methods=["POST"]),
    Route("/organisations/{org_oid}/employees/{oid}", unlink_employee, methods=["DELETE"]),
    Route("/certificates", create_certificate, methods=["POST"]),
    Route("/certificates/{serial}", show_certificate, methods=["GET"]),
    Route("/certificates/{serial}/revoke", revoke_certificate, methods=["POST"]),
]
