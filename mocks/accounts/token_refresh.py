"""Keeping a session's ESIA access token in force for as long as the session lives.

ESIA's access token lasts an hour; a session lasts up to eight. When a request finds the token
within :data:`RENEW_AHEAD` of its end (on the service's clock), the account trades the session's
refresh token at ESIA for a new pair, checks the new tokens as at sign-in, and keeps them.

- ESIA refuses (the refresh token was spent, expired or revoked — the person withdrew the
  system's access): the session ends now, and the person signs in again.
- ESIA cannot answer (down, overloaded): the session goes on while its token is still in force,
  and the next request tries again; once the token has ended, so does the session.
- Two requests of one browser renewing at once: ESIA honours a refresh token once, so the loser
  is refused — it then finds the winner's tokens in the store and goes on with them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from ..core.bearer import BearerGate
from ..core.context import ServiceContext
from .esia_backchannel import refresh_tokens
from .esia_requests import EsiaClient
from .refusals import SignInRefused
from .sessions import Session, SessionRepository
from .token_checks import verify_tokens

__all__ = ["RENEW_AHEAD", "EsiaTrust", "renewal_due", "renewed"]

#: Renew this long before the access token ends, so a request never carries one about to lapse.
RENEW_AHEAD = 5 * 60


@dataclass(frozen=True, slots=True)
class EsiaTrust:
    """What a renewal needs of ESIA: the client system, ESIA's clock now, and what the new
    tokens are checked with."""

    client: EsiaClient
    esia_now: float
    gate: BearerGate
    esia_key: RSAPublicKey
    issuer: str


def renewal_due(session: Session, now: float) -> bool:
    return now >= session.token_expires - RENEW_AHEAD


async def renewed(ctx: ServiceContext, session: Session, trust_now: Callable[[], Awaitable[EsiaTrust]], *,
                  now: float) -> Session | None:
    """``session`` with a fresh access token, or as it was while ESIA cannot answer (or the
    replica cannot reach it: ``trust_now`` refused with a 503) and its token still serves;
    ``None`` (and the session ended) when it cannot go on."""
    sessions = SessionRepository(ctx.store)
    try:
        trust = await trust_now()
        if not session.refresh_token:
            raise SignInRefused("ЕСИА не выдала маркер обновления", status=403, detail="no refresh token")
        answer = await refresh_tokens(trust.client, session.refresh_token, now=trust.esia_now)
        fresh = verify_tokens(answer, gate=trust.gate, esia_key=trust.esia_key, issuer=trust.issuer,
                              client_id=trust.client.client_id, now=trust.esia_now)
        if fresh.oid != session.oid:
            raise SignInRefused("Токены ЕСИА выданы другому человеку", status=403, detail=f"oid {fresh.oid}")
    except SignInRefused as refusal:
        current = await sessions.find(session.sid, now=now)
        if current is not None and current.refresh_token != session.refresh_token:
            return current  # another request renewed it first
        if refusal.status == 503 and now < session.token_expires:
            return session
        await sessions.end(session.sid)
        return None
    kept = replace(session, access_token=fresh.access_token, refresh_token=fresh.refresh_token,
                   token_expires=now + (fresh.expires - trust.esia_now))
    return await sessions.save_tokens(kept)
