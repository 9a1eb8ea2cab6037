"""``/aas/oauth2/ac`` (v1) and ``/aas/oauth2/v2/ac``: the authorization request.

Order of checks, as at ESIA: the client and its ``redirect_uri`` first — errors there are
answered here (400), because redirecting to an unverified address would make the mock an open
redirector; everything after goes back to the client by ``302 <redirect_uri>?error=…``.
A valid request becomes a login request, carried by its signed handle (:mod:`.login_handles`:
nothing is stored); a browser with a live SSO session gets its code at once, any other is sent
to the password page. The HTTP side: :mod:`.handlers`.
"""

from __future__ import annotations

from ...core.context import ServiceContext
from ..browser import Answer, Browser, Redirect
from ..errors import (
    BAD_PARAMETER,
    OPENID_MISSING,
    REDIRECT_NOT_REGISTERED,
    SCOPE_UNKNOWN,
    EsiaError,
    missing_parameters,
    unknown_client,
)
from ..scopes import PERSON_SCOPES
from .admission import check_faults
from .client_repository import ClientRepository
from .completion import complete_login
from .fault_repository import FaultRepository
from .grant_repository import Authorization
from .login_repository import LoginRepository
from .params import Params, SecretCheck, checked_timestamp, is_uuid

__all__ = ["AC_MANDATORY", "authorize"]

AC_MANDATORY = ("client_secret", "response_type", "scope", "state", "timestamp")
ACCESS_TYPES = ("online", "offline")


def _scopes(params: Params, allowed: frozenset[str]) -> list[str]:
    names = (params.get("scope") or "").split()
    if "openid" not in names:
        raise EsiaError(
            OPENID_MISSING, "Scope openid is missing", state=params.state, redirect_uri=params.redirect_uri
        )
    unknown = [name for name in names if name not in PERSON_SCOPES or name not in allowed]
    if unknown:
        raise EsiaError(
            SCOPE_UNKNOWN,
            f"Scope is unknown or not allowed for the client: {' '.join(unknown)}",
            state=params.state,
            redirect_uri=params.redirect_uri,
        )
    return list(dict.fromkeys(names))


async def authorize(
    ctx: ServiceContext, params: Params, browser: Browser, *, mandatory: tuple[str, ...], check_secret: SecretCheck
) -> Answer:
    """The authorization request of either protocol generation; they differ only in the
    mandatory parameters and in how ``client_secret`` is checked (v1: :mod:`.params`, v2: :mod:`.v2`)."""
    client_id, redirect_uri = params.get("client_id"), params.get("redirect_uri")
    if client_id is None or redirect_uri is None:
        raise missing_parameters(
            [n for n, v in (("client_id", client_id), ("redirect_uri", redirect_uri)) if v is None]
        )
    client = await ClientRepository(ctx.store).find(client_id)
    if client is None:
        raise unknown_client(client_id)
    if redirect_uri not in client.redirect_uris:
        raise EsiaError(REDIRECT_NOT_REGISTERED, "redirect_uri is not registered for the client")

    # From here on errors go back to the client.
    params.redirect_uri = redirect_uri
    state = params.get("state")
    params.state = state
    params.require(mandatory)
    if params.get("response_type") != "code":
        raise EsiaError(
            BAD_PARAMETER, "Parameter response_type must be code", state=state, redirect_uri=redirect_uri
        )
    if state is None or not is_uuid(state):
        raise EsiaError(BAD_PARAMETER, "Parameter state must be a UUID", state=state, redirect_uri=redirect_uri)
    scopes = _scopes(params, client.scopes)
    access_type = params.get("access_type") or "online"
    if access_type not in ACCESS_TYPES:
        raise EsiaError(
            BAD_PARAMETER,
            "Parameter access_type must be online or offline",
            state=state,
            redirect_uri=redirect_uri,
        )
    now = await ctx.clock.now()
    timestamp = checked_timestamp(params, client, now=now)
    check_secret(ctx, params, client, timestamp=timestamp)
    check_faults(
        await FaultRepository(ctx.store).active(client_id=client.client_id, now=now),
        state=state,
        redirect_uri=redirect_uri,
    )
    logins = LoginRepository.of(ctx)
    session = await logins.find_session(browser.sso_session, now=now)
    if session is not None:
        grant = Authorization(
            oid=session.oid,
            client_id=client.client_id,
            scopes=tuple(scopes),
            session_id=session.sid,
            auth_time=session.auth_time,
            method=session.method,
            redirect_uri=redirect_uri,
            access_type=access_type,
        )
        return await complete_login(ctx, client, grant, state=state, redirect_uri=redirect_uri, browser=browser,
                                    now=now)
    login = logins.start(client_id=client.client_id, redirect_uri=redirect_uri, scopes=scopes, state=state,
                         access_type=access_type, now=now)
    return Redirect(location=f"/aas/oauth2/login?rid={login.rid}")
