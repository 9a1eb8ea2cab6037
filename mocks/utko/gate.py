"""Who may call UTKO: a valid ESIA token (:mod:`..core.bearer`), from an address registered for
its client system (:mod:`.allowlist`), within a session that has not ended (:mod:`.sessions`).

:class:`UtkoGate` has the verifier's ``identify`` so handlers need not know the extra rules.
Checks run in that order: 401 for the token, then 403 for the address, then 401 for an ended
session. The identity is left on ``request.state.identity`` for the audit log.
"""

from __future__ import annotations

from starlette.requests import Request

from ..core.bearer import BearerGate, Identity
from ..core.context import context
from ..core.problems import Problem
from .allowlist import address_allowed, load_allowlist
from .sessions import IDLE_SECONDS, session_alive

__all__ = ["UtkoGate"]


class UtkoGate:
    def __init__(self, verifier: BearerGate) -> None:
        self._verifier = verifier

    async def identify(self, request: Request, *, scopes: tuple[str, ...] = ("openid",)) -> Identity:
        identity = await self._verifier.identify(request, scopes=scopes)
        request.state.identity = identity
        ctx = context(request)
        networks = await load_allowlist(ctx.store, identity.client_id)
        address = request.client.host if request.client else None
        if networks is not None and not address_allowed(address, networks):
            raise Problem(403, f"{address} is not an address registered for client {identity.client_id}")
        token = request.headers.get("authorization", "").partition(" ")[2].strip()
        # A personal-account session (no token) keeps its own idle limit (:mod:`..accounts.sessions`).
        if token and not await session_alive(ctx.store, token, now=await ctx.clock.now()):
            minutes = IDLE_SECONDS // 60
            raise Problem(401, f"the session ended after {minutes} min without requests; log in again",
                          headers={"WWW-Authenticate": 'Bearer error="invalid_token", '
                                                       'error_description="session expired"'})
        return identity
