"""ESIA's own control endpoints, mounted under ``/_gosstand/control`` behind the control token:

- ``POST /clients`` — register (or replace) a client system → 201 with the registration;
- ``POST /users`` — seed an account → 201 ``{"oid": …, …}``;
- ``GET /users/{oid}`` — the stored account (no password hash);
- ``GET /outbox?phone=+7…`` — the SMS messages sent to a phone, newest last.

Bodies are JSON; faults are 422 problem+json with pointers, conflicts 409.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..core.context import context
from ..core.identifiers import normalize_mobile
from ..core.problems import Problem, json_object, read_json
from .clients import client_from_registration, save_client
from .sessions import outbox
from .users import load_user, plan_user, public_view, seed_user


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


async def read_outbox(request: Request) -> Response:
    phone = normalize_mobile(request.query_params.get("phone", ""))
    if phone is None:
        raise Problem(
            422,
            "give ?phone= a Russian mobile number",
            errors=[{"pointer": "/phone", "detail": "a Russian mobile number"}],
        )
    return JSONResponse({"phone": phone, "messages": await outbox(context(request).store, phone)})


control_routes = [
    Route("/clients", register_client, methods=["POST"]),
    Route("/users", create_user, methods=["POST"]),
    Route("/users/{oid}", show_user, methods=["GET"]),
    Route("/outbox", read_outbox, methods=["GET"]),
]
