"""The end of every successful login, wherever it ends (the SMS code, or ``ac`` itself for a
browser with an SSO session): the admission checks (:mod:`.admission`), the consent page if the
person must first consent to the data asked for (:mod:`.consent`), then the code (:mod:`.handback`)."""

from __future__ import annotations

from dataclasses import replace

from ...core.context import ServiceContext
from ..browser import Answer, Browser
from .admission import admit
from .clients import ClientSystem
from .consent import ask_consent, needs_consent
from .grant_repository import Authorization
from .handback import deliver_code
from .login_repository import Ending

__all__ = ["complete_login"]


async def complete_login(
    ctx: ServiceContext, client: ClientSystem | None, grant: Authorization, *, state: str, redirect_uri: str,
    browser: Browser, now: float, along: Ending | None = None,
) -> Answer:
    """``302 <redirect_uri>?code=…&state=…`` — unless a failure switch or the client's required
    account level refuses it, or the person must first consent. ``client`` is the registration
    the request already read (``None``: no longer registered), so it is read once per request.
    ``along`` (the end of the login request, after a right code) lands in the same commit as
    the code or the parked consent; a refusal raises before anything is written."""
    trusted = await admit(ctx, client, oid=grant.oid, state=state, redirect_uri=redirect_uri, now=now)
    grant = replace(grant, trusted=trusted)  # the level as of this login, carried into code and tokens
    if await needs_consent(ctx, client, grant):
        return await ask_consent(ctx, grant, state=state, redirect_uri=redirect_uri, now=now, along=along)
    return await deliver_code(ctx, grant, state=state, redirect_uri=redirect_uri, browser=browser, now=now,
                              along=along)
