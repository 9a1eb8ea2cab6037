"""``POST /aas/oauth2/te`` (v1) and ``/aas/oauth2/v3/te``: the token exchange, one handler per grant type.

The exchange checks what every grant shares (form body, mandatory parameters, the client,
the timestamp, the ``client_secret`` over ``scope + timestamp + client_id + state``), then
looks the grant handler up in :data:`GRANT_HANDLERS`; an unknown grant is
:data:`~..errors.GRANT_TYPE_UNSUPPORTED`. A handler turns its proof (a code, a refresh token)
into an :class:`~.grant_repository.Authorization`;
:func:`issue_tokens` turns that into the six-field answer, spending the proof in the same store
commit that keeps the new refresh token (why: :mod:`.codes`). Any refusal after the proof was
read spends it too. The HTTP side: :mod:`.handlers`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ...core.access import organisations_claim
from ...core.context import ServiceContext
from ..accounts.organisation_repository import OrganisationRepository
from ..crypto.keys import signing_keys
from ..errors import BAD_PARAMETER, CLIENT_NOT_TRUSTED, GRANT_INVALID, GRANT_TYPE_UNSUPPORTED, EsiaError, overloaded
from . import tokens
from .client_credentials import client_credentials_grant
from .client_repository import ClientRepository
from .clients import ClientSystem
from .codes import Redeemed, redeem_code, refused
from .consent_repository import ConsentRepository
from .fault_repository import FaultRepository
from .faults import PREMATURE_BY, WRONG_ISSUER, tamper
from .grant_repository import Authorization, GrantRepository, Proof
from .params import Params, SecretCheck, checked_timestamp
from .token_signing import sign, sign_access_token

__all__ = ["GRANT_HANDLERS", "TE_MANDATORY", "exchange", "issue_tokens"]

TE_MANDATORY = ("client_id", "grant_type", "client_secret", "state", "scope", "timestamp")

#: ``(ctx, params, client, now) -> Redeemed``; ``now`` is the mock clock read once per request.
GrantHandler = Callable[[ServiceContext, Params, ClientSystem, float], Awaitable[Redeemed]]


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
    stored = await GrantRepository(ctx.store).find_refresh_token(params.get("refresh_token") or "")
    if stored is None:
        raise EsiaError(GRANT_INVALID, "Refresh token is invalid, expired or already used", state=params.state)
    proof, grant = stored.proof, stored.grant
    if now >= stored.expires:
        raise await refused(ctx, proof, EsiaError(GRANT_INVALID, "Refresh token has expired", state=params.state))
    if grant.client_id != client.client_id:
        raise await refused(ctx, proof, EsiaError(GRANT_INVALID, "Refresh token was issued to another client",
                                                  state=params.state))
    if grant.access_type != "offline":
        raise await refused(ctx, proof, EsiaError(
            GRANT_INVALID, "Refresh token was issued for online access; ask ac for access_type=offline",
            state=params.state,
        ))
    withdrawn = await ConsentRepository(ctx.store).withdrawn_at(grant.oid, grant.client_id)
    if withdrawn is not None and withdrawn >= grant.auth_time:
        raise await refused(ctx, proof, EsiaError(
            GRANT_INVALID, "Refresh token was revoked: the person withdrew the client's access", state=params.state))
    return Redeemed(grant, proof)


GRANT_HANDLERS: dict[str, GrantHandler] = {
    "authorization_code": authorization_code_grant,
    "refresh_token": refresh_token_grant,
    "client_credentials": client_credentials_grant,
}


async def _organisations(ctx: ServiceContext, grant: Authorization) -> list[dict[str, Any]] | None:
    """The organisations a person's token names, when ``usr_org`` is granted: each one the person
    works for, with the KPPs of its head office and branches (UTKO and FTS decide by them)."""
    if grant.subject_type != "P" or "usr_org" not in grant.scopes:
        return None
    places = await OrganisationRepository(ctx.store).places_of(grant.oid)
    return organisations_claim(
        (org.oid, org.inn, [kpp for kpp in (org.kpp, *(branch.kpp for branch in org.branches)) if kpp])
        for org, _ in places)


async def issue_tokens(
    ctx: ServiceContext,
    grant: Authorization,
    *,
    state: str,
    now: float,
    algorithm: str = "RS256",
    faults: frozenset[str] = frozenset(),
    proof: Proof | None = None,
) -> dict[str, Any]:
    """Sign the tokens a grant earned, spending ``proof`` as they are kept:
    :data:`~..errors.GRANT_INVALID` when another request spent it meanwhile. ``faults``
    (:mod:`.faults`) spoil them on purpose: already expired, not valid yet, another issuer, a tampered
    signature."""
    keys = signing_keys(ctx.settings)
    issuer = WRONG_ISSUER if "wrong_issuer" in faults else ctx.settings.esia_issuer
    issued = now
    if "expired_tokens" in faults:
        issued = now - tokens.ID_TOKEN_LIFETIME - 60
    elif "premature_tokens" in faults:
        issued = now + PREMATURE_BY
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
                organisations=await _organisations(ctx, grant),
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
                trusted=grant.trusted,
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
    if not await GrantRepository(ctx.store).keep_tokens(refresh, grant, now=now, proof=proof):
        assert proof is not None, "only an expectation refuses a commit"
        raise proof.reused(state)
    return tokens.token_response(access_token=access, id_token=identity, refresh_token=refresh, state=state)


async def exchange(
    ctx: ServiceContext, params: Params, *, mandatory: tuple[str, ...], check_secret: SecretCheck
) -> dict[str, Any]:
    """A token request of either protocol generation (v1's ``client_secret``: :mod:`.params`,
    v2's: :mod:`.v2`) → the token answer's body."""
    params.state = params.get("state") if "state" in params else None
    params.require(mandatory)
    handler = GRANT_HANDLERS.get(params.get("grant_type") or "")
    if handler is None:
        raise EsiaError(GRANT_TYPE_UNSUPPORTED, "Grant type is not supported", state=params.state)
    client_id = params.get("client_id") or ""
    client = await ClientRepository(ctx.store).find(client_id)
    if client is None:
        raise EsiaError(CLIENT_NOT_TRUSTED, f"Client {client_id[:64]} is not registered", state=params.state)
    now = await ctx.clock.now()
    timestamp = checked_timestamp(params, client, now=now)
    check_secret(ctx, params, client, timestamp=timestamp)
    switches = FaultRepository(ctx.store)
    faults = await switches.active(client_id=client.client_id, now=now)
    if "overload" in faults:
        raise overloaded(params.state)
    redeemed = await handler(ctx, params, client, now)
    grant = redeemed.grant
    if grant.subject_type == "P":
        faults |= await switches.active(oid=grant.oid, now=now)
        if "overload" in faults:
            error = overloaded(params.state)
            raise error if redeemed.proof is None else await refused(ctx, redeemed.proof, error)
    return await issue_tokens(ctx, grant, state=params.state or "", now=now, algorithm=client.token_algorithm,
                              faults=faults, proof=redeemed.proof)
