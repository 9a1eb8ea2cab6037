"""``/aas/oauth2/ac``: the v1 authorization request.

Order of checks, as at ESIA: the client and its ``redirect_uri`` first — errors there are
answered here (400), because redirecting to an unverified address would make the mock an open
redirector; everything after goes back to the client by ``302 <redirect_uri>?error=…``.
A valid request becomes a login request; a browser with a live SSO session gets its code at
once, any other is sent to the password page.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ...core.context import ServiceContext, context
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
from .admission import admit, check_faults
from .clients import find_client
from .codes import Authorization
from .consent import ask_consent, needs_consent
from .faults import active_faults
from .handback import deliver_code
from .params import Params, SecretCheck, check_client_secret, checked_timestamp, is_uuid, read_params
from .sessions import SSO_COOKIE, LoginRequest, find_session, new_id, save_request

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


async def redirect_with_code(
    ctx: ServiceContext, request: Request, login: LoginRequest, grant: Authorization, *, now: float
) -> Response:
    """The end of every successful login: ``302 <redirect_uri>?code=…&state=…`` — unless a
    failure switch or the client's required account level refuses it (:mod:`.admission`), or
    the person must first consent to the data asked for (:mod:`.consent`)."""
    client = await find_client(ctx.store, grant.client_id)
    await admit(ctx.store, client, oid=grant.oid, state=login.state, redirect_uri=login.redirect_uri, now=now)
    if await needs_consent(ctx.store, client, grant):
        return await ask_consent(ctx, request, grant, state=login.state, redirect_uri=login.redirect_uri, now=now)
    return await deliver_code(ctx, request, grant, state=login.state, redirect_uri=login.redirect_uri, now=now)


async def authorize(request: Request) -> Response:
    """v1: ``client_secret`` is CMS over ``scope + timestamp + client_id + state``."""
    return await authorize_request(request)


async def authorize_request(
    request: Request,
    *,
    mandatory: tuple[str, ...] = AC_MANDATORY,
    check_secret: SecretCheck = check_client_secret,
) -> Response:
    """The authorization request of either protocol generation; they differ only in the
    mandatory parameters and in how ``client_secret`` is checked (v2: :mod:`.v2`)."""
    ctx = context(request)
    params = await read_params(request)
    client_id, redirect_uri = params.get("client_id"), params.get("redirect_uri")
    if client_id is None or redirect_uri is None:
        raise missing_parameters(
            [n for n, v in (("client_id", client_id), ("redirect_uri", redirect_uri)) if v is None]
        )
    client = await find_client(ctx.store, client_id) if len(client_id) <= 64 else None
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
    if not is_uuid(state or ""):
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
        await active_faults(ctx.store, client_id=client.client_id, now=now),
        state=state or "",
        redirect_uri=redirect_uri,
    )

    login = LoginRequest(
        rid=new_id(),
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        scopes=scopes,
        state=state,
        access_type=access_type,
        created=now,
    )  # type: ignore[arg-type]
    session = await find_session(ctx.store, request.cookies.get(SSO_COOKIE), now=now)
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
        return await redirect_with_code(ctx, request, login, grant, now=now)
    await save_request(ctx.store, login)
    return RedirectResponse(
        f"{str(request.base_url).rstrip('/')}/aas/oauth2/login?rid={login.rid}", status_code=302
    )
