"""``POST /aas/oauth2/te``: the token endpoint, one handler per grant type.

The endpoint checks what every grant shares (form body, mandatory parameters, the client,
the timestamp, the ``client_secret`` over ``scope + timestamp + client_id + state``), then
looks the grant handler up in :data:`GRANT_HANDLERS`; an unknown grant is ESIA-007012.
A handler turns its proof (a code, a refresh token) into an :class:`~.codes.Authorization`;
:func:`issue_tokens` turns that into the six-field answer.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..core.context import ServiceContext, context
from . import tokens
from .clients import ClientSystem, find_client
from .codes import Authorization, redeem_code
from .errors import EsiaError
from .params import Params, SecretCheck, check_client_secret, checked_timestamp, read_params
from .runtime import signing_keys

TE_MANDATORY = ("client_id", "grant_type", "client_secret", "state", "scope", "timestamp")

#: ``(ctx, params, client, now) -> Authorization``; ``now`` is the mock clock read once per request.
GrantHandler = Callable[[ServiceContext, Params, ClientSystem, float], Awaitable[Authorization]]


def _refresh_key(token: str) -> str:
    return f"esia:rt:{token}"


async def authorization_code_grant(
    ctx: ServiceContext, params: Params, client: ClientSystem, now: float
) -> Authorization:
    params.require(("code", "redirect_uri"))
    return await redeem_code(
        ctx,
        params.get("code") or "",
        client_id=client.client_id,
        redirect_uri=params.get("redirect_uri") or "",
        state=params.state or "",
        now=now,
    )


async def refresh_token_grant(
    ctx: ServiceContext, params: Params, client: ClientSystem, now: float
) -> Authorization:
    """The old refresh token is taken (single use); the answer carries a new one."""
    params.require(("refresh_token",))
    token = params.get("refresh_token") or ""
    raw = await ctx.store.take(_refresh_key(token)) if len(token) <= 64 else None
    if raw is None:
        raise EsiaError("007011", "Refresh token is invalid, expired or already used", state=params.state)
    data = json.loads(raw)
    expires = data.pop("expires")
    grant = Authorization(**{**data, "scopes": tuple(data["scopes"])})
    if now >= expires:
        raise EsiaError("007011", "Refresh token has expired", state=params.state)
    if grant.client_id != client.client_id:
        raise EsiaError("007011", "Refresh token was issued to another client", state=params.state)
    return grant


GRANT_HANDLERS: dict[str, GrantHandler] = {
    "authorization_code": authorization_code_grant,
    "refresh_token": refresh_token_grant,
}


async def issue_tokens(
    ctx: ServiceContext, grant: Authorization, *, state: str, now: float
) -> dict[str, object]:
    keys = signing_keys(ctx.settings)
    issuer = ctx.settings.esia_issuer
    access = tokens.sign(
        tokens.access_token_claims(
            oid=grant.oid,
            client_id=grant.client_id,
            scopes=grant.scopes,
            issuer=issuer,
            now=now,
            session_id=grant.session_id,
        ),
        kind="access",
        key=keys.private_key,
        key_id=keys.key_id,
    )
    identity = tokens.sign(
        tokens.id_token_claims(
            oid=grant.oid,
            client_id=grant.client_id,
            issuer=issuer,
            now=now,
            auth_time=grant.auth_time,
            session_id=grant.session_id,
            method=grant.method,
        ),
        kind="id",
        key=keys.private_key,
        key_id=keys.key_id,
    )
    refresh = tokens.new_refresh_token()
    record = {**asdict(grant), "expires": now + tokens.REFRESH_TOKEN_LIFETIME}
    await ctx.store.set(_refresh_key(refresh), json.dumps(record), ttl=tokens.REFRESH_TOKEN_LIFETIME)
    return tokens.token_response(access_token=access, id_token=identity, refresh_token=refresh, state=state)


async def token_endpoint(request: Request) -> Response:
    """v1 ``/aas/oauth2/te``: ``client_secret`` is CMS over ``scope + timestamp + client_id + state``."""
    return await token_request(request)


async def token_request(
    request: Request,
    *,
    mandatory: tuple[str, ...] = TE_MANDATORY,
    check_secret: SecretCheck = check_client_secret,
) -> Response:
    """A token request of either protocol generation (v2 ``/v3/te``: :mod:`.v2`)."""
    ctx = context(request)
    params = await read_params(request)
    params.state = params.get("state") if "state" in params else None
    params.require(mandatory)
    handler = GRANT_HANDLERS.get(params.get("grant_type") or "")
    if handler is None:
        raise EsiaError("007012", "Grant type is not supported", state=params.state)
    client_id = params.get("client_id") or ""
    client = await find_client(ctx.store, client_id) if len(client_id) <= 64 else None
    if client is None:
        raise EsiaError("007002", f"Client {client_id[:64]} is not registered", state=params.state)
    now = await ctx.clock.now()
    timestamp = checked_timestamp(params, client, now=now)
    check_secret(ctx, params, client, timestamp=timestamp)
    grant = await handler(ctx, params, client, now)
    body = await issue_tokens(ctx, grant, state=params.state or "", now=now)
    return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
