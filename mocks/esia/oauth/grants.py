"""``POST /aas/oauth2/te``: the token endpoint, one handler per grant type.

The endpoint checks what every grant shares (form body, mandatory parameters, the client,
the timestamp, the ``client_secret`` over ``scope + timestamp + client_id + state``), then
looks the grant handler up in :data:`GRANT_HANDLERS`; an unknown grant is :data:`~..errors.GRANT_TYPE_UNSUPPORTED`.
A handler turns its proof (a code, a refresh token) into an :class:`~.codes.Authorization`;
:func:`issue_tokens` turns that into the six-field answer, spending the proof in the same store
commit that keeps the new refresh token (why: :mod:`.codes`). Any refusal after the proof was
read spends it too.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ...core.context import ServiceContext, context
from ...core.store import Writes
from ..crypto.keys import signing_keys
from ..errors import BAD_PARAMETER, CLIENT_NOT_TRUSTED, GRANT_INVALID, GRANT_TYPE_UNSUPPORTED, EsiaError, overloaded
from . import tokens
from .client_credentials import client_credentials_grant
from .clients import ClientSystem, find_client
from .codes import Authorization, Proof, Redeemed, redeem_code, refused
from .faults import WRONG_ISSUER, active_faults, tamper
from .params import Params, SecretCheck, check_client_secret, checked_timestamp, read_params
from .token_signing import sign, sign_access_token

TE_MANDATORY = ("client_id", "grant_type", "client_secret", "state", "scope", "timestamp")

#: ``(ctx, params, client, now) -> Redeemed``; ``now`` is the mock clock read once per request.
GrantHandler = Callable[[ServiceContext, Params, ClientSystem, float], Awaitable[Redeemed]]


def _refresh_key(token: str) -> str:
    return f"esia:rt:{token}"


async def authorization_code_grant(
    ctx: ServiceContext, params: Params, client: ClientSystem, now: float
) -> Redeemed:
    params.require(("code", "redirect_uri"))
    redeemed = await redeem_code(
        ctx,
        params.get("code") or "",
        client_id=client.client_id,
        redirect_uri=params.get("redirect_uri") or "",
        state=params.state or "",
        now=now,
    )
    if client.strict_state and params.state == redeemed.grant.ac_state:
        assert redeemed.proof is not None
        raise await refused(ctx, redeemed.proof, EsiaError(
            BAD_PARAMETER, "Parameter state must be a new UUID, not the one of the authorization request",
            state=params.state,
        ))
    return redeemed


async def refresh_token_grant(
    ctx: ServiceContext, params: Params, client: ClientSystem, now: float
) -> Redeemed:
    """The old refresh token is spent (single use) with the answer that carries a new one."""
    params.require(("refresh_token",))
    token = params.get("refresh_token") or ""
    key = _refresh_key(token)
    raw = await ctx.store.get(key) if len(token) <= 64 else None
    if raw is None:
        raise EsiaError(GRANT_INVALID, "Refresh token is invalid, expired or already used", state=params.state)
    proof = Proof(key=key, text=raw, name="Refresh token")
    data = json.loads(raw)
    expires = data.pop("expires")
    grant = Authorization(**{**data, "scopes": tuple(data["scopes"])})
    if now >= expires:
        raise await refused(ctx, proof, EsiaError(GRANT_INVALID, "Refresh token has expired", state=params.state))
    if grant.client_id != client.client_id:
        raise await refused(ctx, proof, EsiaError(GRANT_INVALID, "Refresh token was issued to another client",
                                                  state=params.state))
    if grant.access_type != "offline":
        raise await refused(ctx, proof, EsiaError(
            GRANT_INVALID, "Refresh token was issued for online access; ask ac for access_type=offline",
            state=params.state,
        ))
    return Redeemed(grant, proof)


GRANT_HANDLERS: dict[str, GrantHandler] = {
    "authorization_code": authorization_code_grant,
    "refresh_token": refresh_token_grant,
    "client_credentials": client_credentials_grant,
}


async def issue_tokens(
    ctx: ServiceContext,
    grant: Authorization,
    *,
    state: str,
    now: float,
    algorithm: str = "RS256",
    faults: frozenset[str] = frozenset(),
    proof: Proof | None = None,
) -> dict[str, object]:
    """Sign the tokens a grant earned, spending ``proof`` as they are kept: :data:`~..errors.GRANT_INVALID` when
    another request spent it meanwhile. ``faults`` (:mod:`.faults`) spoil them on purpose:
    already expired, another issuer, a tampered signature."""
    keys = signing_keys(ctx.settings)
    issuer = WRONG_ISSUER if "wrong_issuer" in faults else ctx.settings.esia_issuer
    issued = now - tokens.ID_TOKEN_LIFETIME - 60 if "expired_tokens" in faults else now
    spoil = tamper if "tampered_signature" in faults else (lambda token: token)
    access = spoil(
        sign_access_token(
            tokens.access_token_claims(
                oid=grant.oid,
                client_id=grant.client_id,
                scopes=grant.scopes,
                issuer=issuer,
                now=issued,
                session_id=grant.session_id,
            ),
            settings=ctx.settings,
            algorithm=algorithm,
        )
    )
    if grant.subject_type == "O":  # client_credentials: no person, no id_token, no refresh, no proof
        return tokens.organisation_token_response(access_token=access, state=state)
    identity = spoil(
        sign(
            tokens.id_token_claims(
                oid=grant.oid,
                client_id=grant.client_id,
                issuer=issuer,
                now=issued,
                auth_time=grant.auth_time,
                session_id=grant.session_id,
                method=grant.method,
            ),
            kind="id",
            key=keys.private_key,
            key_id=keys.key_id,
        )
    )
    # Every answer carries a refresh token (clients expect the field); only one issued for
    # access_type=offline can be redeemed (refresh_token_grant).
    refresh = tokens.new_refresh_token()
    record = {**vars(grant), "expires": now + tokens.REFRESH_TOKEN_LIFETIME}
    writes = Writes().set(_refresh_key(refresh), json.dumps(record), ttl=tokens.REFRESH_TOKEN_LIFETIME)
    if proof is not None:
        writes.delete(proof.key)
    if not await ctx.store.commit(writes, expect=None if proof is None else {proof.key: proof.text}):
        assert proof is not None, "only an expectation refuses a commit"
        raise proof.reused(state)
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
        raise EsiaError(GRANT_TYPE_UNSUPPORTED, "Grant type is not supported", state=params.state)
    client_id = params.get("client_id") or ""
    client = await find_client(ctx.store, client_id) if len(client_id) <= 64 else None
    if client is None:
        raise EsiaError(CLIENT_NOT_TRUSTED, f"Client {client_id[:64]} is not registered", state=params.state)
    now = await ctx.clock.now()
    timestamp = checked_timestamp(params, client, now=now)
    check_secret(ctx, params, client, timestamp=timestamp)
    faults = await active_faults(ctx.store, client_id=client.client_id, now=now)
    if "overload" in faults:
        raise overloaded(params.state)
    redeemed = await handler(ctx, params, client, now)
    grant = redeemed.grant
    if grant.subject_type == "P":
        faults |= await active_faults(ctx.store, oid=grant.oid, now=now)
        if "overload" in faults:
            error = overloaded(params.state)
            raise error if redeemed.proof is None else await refused(ctx, redeemed.proof, error)
    body = await issue_tokens(ctx, grant, state=params.state or "", now=now, algorithm=client.token_algorithm,
                              faults=faults, proof=redeemed.proof)
    return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
