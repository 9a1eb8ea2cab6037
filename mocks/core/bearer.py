"""Bearer tokens at UTKO and FTS (RFC 6750 answers), behind a one-method interface.

The gate knows nothing of how a token is signed. A service is handed a :class:`TokenVerifier`
(for UTKO and FTS, ESIA's access tokens checked as a relying party checks them,
:mod:`.access_tokens`) and wraps it in a :class:`BearerGate`, which reads the ``Authorization``
header, remembers what each token text proved (the same bytes always verify the same way), and
checks on every request that the token is in force on the mock's clock and carries the scopes
the operation needs.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.requests import Request

from .context import context
from .problems import Problem

__all__ = ["BearerGate", "Identity", "SessionSource", "TokenVerifier", "authorize", "unauthorized"]

_CACHE_SIZE = 8192


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is calling: the person's OID, the client system, and the granted scopes by name."""

    oid: int
    client_id: str
    scopes: frozenset[str]
    claims: dict[str, Any]


class TokenVerifier(Protocol):
    """Checks a token's signature and issuer; whether it is still in force is the gate's job."""

    def identity(self, token: str) -> Identity:
        """Who ``token`` proves the caller is, or :func:`unauthorized` raised."""
        ...


def unauthorized(detail: str, *, summary: str = "The access token is invalid") -> Problem:
    """The 401 of a token that does not prove anything (RFC 6750 ``invalid_token``): its body says
    exactly why (``detail``, PyJWT's message among others) and its ``WWW-Authenticate`` carries
    only ``summary``, a fixed sentence of the visible ASCII that RFC 6750 allows in
    ``error_description`` — no library message and nothing the client sent."""
    return Problem(
        401,
        detail,
        headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{summary}"'},
    )


class SessionSource(Protocol):
    """A second way in beside the bearer token: a browser session of the service's personal
    account, whose pages and API calls carry a cookie instead of a token."""

    async def identify(self, request: Request, gate: BearerGate, scopes: tuple[str, ...]) -> Identity | None:
        """The session's caller (``None`` when the request carries no session at all), or the
        401/403 :class:`Problem` of a session that ended or may not do this."""
        ...


class BearerGate:
    """A :class:`TokenVerifier` with memory, and the door of every authenticated operation.

    With ``sessions``, a request without an ``Authorization`` header may come in through a
    browser session instead (:class:`SessionSource`)."""

    def __init__(self, verifier: TokenVerifier, *, sessions: SessionSource | None = None) -> None:
        self._verifier = verifier
        self._sessions = sessions
        self._verified: OrderedDict[str, Identity] = OrderedDict()

    def identity(self, token: str) -> Identity:
        """Who ``token`` proves the caller is, verified once per token text (an LRU cache)."""
        identity = self._verified.get(token)
        if identity is not None:
            self._verified.move_to_end(token)
            return identity
        identity = self._verifier.identity(token)
        self._verified[token] = identity
        if len(self._verified) > _CACHE_SIZE:
            self._verified.popitem(last=False)
        return identity

    async def identify(self, request: Request, *, scopes: tuple[str, ...] = ("openid",)) -> Identity:
        """The caller, or a 401 (no/invalid/expired token) or 403 (a scope is missing)."""
        header = request.headers.get("authorization", "")
        if not header and self._sessions is not None:
            from_session = await self._sessions.identify(request, self, scopes)
            if from_session is not None:
                return from_session
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Problem(401, "send Authorization: Bearer <ESIA access token>",
                          headers={"WWW-Authenticate": 'Bearer realm="gosstand"'})
        identity = self.identity(token.strip())
        authorize(identity, await context(request).clock.now(), scopes)
        return identity


def authorize(identity: Identity, now: float, scopes: tuple[str, ...]) -> None:
    """Whether ``identity``'s token is in force at ``now`` (401) and grants ``scopes`` (403)."""
    if now >= identity.claims["exp"]:
        raise unauthorized("token expired", summary="The access token expired")
    if now < identity.claims.get("nbf", 0) - 5:
        raise unauthorized("token not valid yet", summary="The access token is not valid yet")
    missing = [scope for scope in scopes if scope not in identity.scopes]
    if missing:
        raise Problem(
            403,
            f"the token lacks the scope(s) {', '.join(missing)}",
            headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{" ".join(scopes)}"'},
        )
