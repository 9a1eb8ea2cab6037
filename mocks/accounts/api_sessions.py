"""The APIs of FTS and UTKO called from a personal-account session (the cookie instead of a
bearer token), acting for whom the person chose.

The caller is the person of the session's ESIA access token, verified as any bearer token is;
what they may see and change is then decided by the services' one access policy, as for a
token — only the organisations it acts for are the session's choice, not every organisation the
token names. Where organisations register (FGIS UTKO), a write also needs a role that files:
an employee the administrator left a reader may only read.

The session's token is renewed before its hour ends (:mod:`.token_refresh`); a session whose
token could not be renewed has ended, and the call is a 401 like any ended session's.
"""

from __future__ import annotations

from dataclasses import replace

from starlette.requests import Request

from ..core.access import ORGANISATIONS_CLAIM, organisations_claim
from ..core.bearer import BearerGate, Identity, unauthorized
from ..core.context import context
from ..core.problems import Problem
from .fgis_registration import FgisRegister
from .system import AccountSystem
from .web import Account

__all__ = ["AccountSessions"]

#: The scope every write needs at UTKO and FTS: what tells a write from a read here.
WRITE_SCOPE = "usr_org"


class AccountSessions:
    """A :class:`~..core.bearer.SessionSource` for one service's account."""

    def __init__(self, system: AccountSystem) -> None:
        self._system = system
        self._account: Account | None = None

    def _account_of(self, gate: BearerGate) -> Account:
        """The account whose sessions these are; made on first use, as the gate it needs is
        built with this source in it."""
        if self._account is None:
            self._account = Account(self._system, gate)
        return self._account

    async def identify(self, request: Request, gate: BearerGate, scopes: tuple[str, ...]) -> Identity | None:
        sid = request.cookies.get(self._system.session_cookie)
        if not sid:
            return None
        ctx = context(request)
        session = await self._account_of(gate).live_session(ctx, sid)
        if session is None:
            raise unauthorized("the personal account's session ended; sign in again at /login",
                               summary="The session ended")
        if session.acting is None:
            raise Problem(403, "choose whom you act for first (/account/choose)")
        identity = gate.identity(session.access_token)
        missing = [scope for scope in scopes if scope not in identity.scopes]
        if missing:
            raise Problem(403, f"the session's ESIA grant lacks the scope(s) {', '.join(missing)}")
        place = session.acting.organisation
        if WRITE_SCOPE in scopes and self._system.registration and place is not None:
            register = FgisRegister(ctx.store)
            if await register.consent_of(place.oid) is None:
                raise Problem(403, f"{place.name} is not registered in the system yet (/account/registration)")
            if await register.role_of(place.oid, session.oid, esia_admin=place.admin) == "reader":
                raise Problem(403, f"your role at {place.name} is read-only: its administrator gives the right to file")
        # The services' access policy reads whom a caller acts for from the identity's
        # organisations: a session acts for its one choice, not every organisation of the token.
        acting = session.acting
        kpps = [place.kpp] if (place := acting.organisation) is not None and place.kpp else []
        chosen = organisations_claim([(place.oid if place is not None else session.oid, acting.inn, kpps)])
        return replace(identity, claims={**identity.claims, ORGANISATIONS_CLAIM: chosen})
