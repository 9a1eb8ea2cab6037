"""Authorization codes: issued after a login, redeemed once at ``te``.

The code is a JWT signed by ESIA (``sbt: authorization_code``, valid
:data:`~.tokens.AUTH_CODE_LIFETIME` seconds). What it grants is kept in the shared store as the
record of the login it ends, found by the code's ``jti`` (the login's id) and holding a digest
of the code text (:mod:`.grant_repository`). Redeeming reads it (:func:`redeem_code`), and the code is spent —
deleted, only if it still holds what was read — in the same store commit that keeps the tokens
it bought (:func:`~.grants.issue_tokens`): of two replicas redeeming one code only one commit
lands, and the other answers :data:`~..errors.GRANT_INVALID`, as do a forged code and an expired one.

Why not take the code first: signing the tokens is most of the request's time, and a replica
killed after the take spent the code with nothing to show for it, so the client's retry was
refused and the person had to log in again. Spent in one commit with the tokens, a code outlives
a replica killed before that commit and buys its tokens on the retry, and a kill after it leaves
the tokens kept as any answered redemption would. A refused request spends the code still (it
is deleted before the refusal is answered): a code shown with the wrong client, redirect URI or
state cannot be tried again with other parameters.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ...core.context import ServiceContext
from ..crypto.keys import signing_keys
from ..errors import GRANT_INVALID, EsiaError
from . import tokens
from .grant_repository import Authorization, GrantRepository, Proof
from .login_repository import Ending
from .token_signing import sign

__all__ = ["Redeemed", "issue_code", "redeem_code", "refused"]


@dataclass(frozen=True, slots=True)
class Redeemed:
    """What a grant handler found: the authorization, and the proof to spend with its tokens
    (none for ``client_credentials``)."""

    grant: Authorization
    proof: Proof | None = None


async def refused(ctx: ServiceContext, proof: Proof, error: EsiaError) -> EsiaError:
    """Spend ``proof`` and give back ``error`` to raise: a refused redemption uses it up."""
    await GrantRepository(ctx.store).spend(proof)
    return error


async def issue_code(
    ctx: ServiceContext,
    grant: Authorization,
    *,
    state: str,
    now: float,
    remote_ip: str = "",
    user_agent: str = "",
    along: Ending | None = None,
) -> str:
    """A signed code for ``grant``, kept in the store — with ``along`` (the end of the login
    request it finishes) in the same commit, as that login's record: its ``jti`` is the login's id."""
    keys = signing_keys(ctx.settings)
    code_id = str(uuid.uuid4()) if along is None else along.login_id
    claims = tokens.auth_code_claims(
        oid=grant.oid,
        client_id=grant.client_id,
        state=state,
        issuer=ctx.settings.esia_issuer,
        now=now,
        session_id=grant.session_id,
        code_id=code_id,
        trusted=grant.trusted,
        method=grant.method,
        remote_ip=remote_ip,
        user_agent=user_agent,
    )
    code = sign(claims, kind="authorization_code", key=keys.private_key, key_id=keys.key_id)
    await GrantRepository(ctx.store).keep_code(code, code_id, grant, state=state, now=now, along=along)
    return code


async def redeem_code(
    ctx: ServiceContext, code: str, *, client_id: str, redirect_uri: str, state: str, now: float
) -> Redeemed:
    """The authorization a code carries and the code to spend with its tokens;
    :data:`~..errors.GRANT_INVALID` (the code spent) for anything but a fresh code issued to this
    client for this redirect URI."""
    stored = await GrantRepository(ctx.store).find_code(code)
    if stored is None:
        raise EsiaError(GRANT_INVALID, "Authorization code is invalid, expired or already used", state=state)
    proof, grant = stored.proof, stored.grant
    if now >= stored.expires:
        raise await refused(ctx, proof, EsiaError(GRANT_INVALID, "Authorization code has expired", state=state))
    if grant.client_id != client_id:
        raise await refused(ctx, proof, EsiaError(GRANT_INVALID, "Authorization code was issued to another client",
                                                  state=state))
    if grant.redirect_uri != redirect_uri:
        raise await refused(ctx, proof, EsiaError(
            GRANT_INVALID, "redirect_uri differs from the one the code was issued for", state=state))
    return Redeemed(grant, proof)
