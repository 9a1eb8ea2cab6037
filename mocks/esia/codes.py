"""Authorization codes: issued after a login, redeemed once at ``te``.

The code is a JWT signed by ESIA (``sbt: authorization_code``, valid
:data:`~.tokens.AUTH_CODE_LIFETIME` seconds). What it grants is kept in the shared store under
a digest of the code text, so redemption is one atomic ``take`` on any replica: a second
redemption, a forged code and an expired one all find nothing usable (ESIA-007011).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass

from ..core.context import ServiceContext
from . import tokens
from .errors import EsiaError
from .runtime import signing_keys


@dataclass(frozen=True, kw_only=True)
class Authorization:
    """What a user granted a client: carried by a code, then by a refresh token."""

    oid: int
    client_id: str
    scopes: tuple[str, ...]
    session_id: str
    auth_time: float
    method: str = "PWD"
    redirect_uri: str = ""
    access_type: str = "online"
    #: The ``state`` of the ``ac`` request the code answered (strict clients: ``te`` must differ).
    ac_state: str = ""
    #: ``P`` — a person logged in; ``O`` — an organisation's data for a client system
    #: (``client_credentials``: ``oid`` is then the organisation's).
    subject_type: str = "P"


def _key(code: str) -> str:
    return "esia:code:" + hashlib.sha256(code.encode()).hexdigest()


async def issue_code(
    ctx: ServiceContext,
    grant: Authorization,
    *,
    state: str,
    now: float,
    remote_ip: str = "",
    user_agent: str = "",
) -> str:
    keys = signing_keys(ctx.settings)
    claims = tokens.auth_code_claims(
        oid=grant.oid,
        client_id=grant.client_id,
        state=state,
        issuer=ctx.settings.esia_issuer,
        now=now,
        session_id=grant.session_id,
        code_id=str(uuid.uuid4()),
        method=grant.method,
        remote_ip=remote_ip,
        user_agent=user_agent,
    )
    code = tokens.sign(claims, kind="authorization_code", key=keys.private_key, key_id=keys.key_id)
    record = {**vars(grant), "ac_state": state, "expires": now + tokens.AUTH_CODE_LIFETIME}
    await ctx.store.set(_key(code), json.dumps(record), ttl=tokens.AUTH_CODE_LIFETIME * 4)
    return code


async def redeem_code(
    ctx: ServiceContext, code: str, *, client_id: str, redirect_uri: str, state: str, now: float
) -> Authorization:
    """The authorization a code carries, consumed; ESIA-007011 for anything but a fresh code
    issued to this client for this redirect URI."""
    raw = await ctx.store.take(_key(code)) if len(code) < 8192 else None
    if raw is None:
        raise EsiaError("007011", "Authorization code is invalid, expired or already used", state=state)
    data = json.loads(raw)
    expires = data.pop("expires")
    if now >= expires:
        raise EsiaError("007011", "Authorization code has expired", state=state)
    grant = Authorization(**{**data, "scopes": tuple(data["scopes"])})
    if grant.client_id != client_id:
        raise EsiaError("007011", "Authorization code was issued to another client", state=state)
    if grant.redirect_uri != redirect_uri:
        raise EsiaError("007011", "redirect_uri differs from the one the code was issued for", state=state)
    return grant
