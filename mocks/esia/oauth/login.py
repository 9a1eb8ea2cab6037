"""The interactive login after ``ac``: password, SMS code, then back to the client; and the
logout that ends the SSO session.

URLs and form fields (see :mod:`.pages`): ``GET|POST /aas/oauth2/login`` (``rid``, ``login``,
``password``), ``GET|POST /aas/oauth2/otp`` (``rid``, ``code``), ``GET /idp/ext/Logout``
(``client_id``, ``redirect_url``).
"""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ...core.context import context
from ...core.store import Store
from .. import pages
from ..accounts.totp import matching_step
from ..accounts.users import LoginRefused, authenticate, load_user
from ..errors import REDIRECT_NOT_REGISTERED, EsiaError, missing_parameters, unknown_client
from .authorize import redirect_with_code
from .clients import find_client
from .codes import Authorization
from .sessions import (
    MAX_OTP_ATTEMPTS,
    OTP_LIFETIME,
    SSO_COOKIE,
    SSO_LIFETIME,
    LoginRequest,
    end_session,
    find_request,
    finish_request,
    new_otp,
    open_session,
    save_request,
    send_sms,
)

_EXPIRED = "Сеанс входа истёк или не найден. Вернитесь на сайт и начните вход заново."


async def _form(request: Request) -> dict[str, str]:
    return await pages.read_form(request)


def _expired() -> HTMLResponse:
    return pages.message_page("Вход не выполнен", _EXPIRED, status=400)


def _is_totp(pending: LoginRequest) -> bool:
    return pending.extra.get("factor") == "totp"


async def totp_accepted(store: Store, oid: int, code: str, *, now: float) -> bool:
    """Whether ``code`` is the person's TOTP now (RFC 6238, one step of drift either way) and
    its time step was not used before: a code read over someone's shoulder cannot be replayed."""
    user = await load_user(store, oid)
    secret = ((user or {}).get("second_factor") or {}).get("totp_secret")
    step = matching_step(secret, code, now) if secret else None
    if step is None:
        return False
    last = await store.get(f"esia:totp-step:{oid}")
    if last is not None and step <= int(last):
        return False
    await store.set(f"esia:totp-step:{oid}", str(step), ttl=3600)
    return True


async def password_page(request: Request) -> Response:
    ctx = context(request)
    rid = request.query_params.get("rid", "")
    if await find_request(ctx.store, rid, now=await ctx.clock.now()) is None:
        return _expired()
    return pages.password_form(rid)


async def submit_password(request: Request) -> Response:
    ctx = context(request)
    form = await _form(request)
    rid, login, password = form.get("rid", ""), form.get("login", ""), form.get("password", "")
    now = await ctx.clock.now()
    pending = await find_request(ctx.store, rid, now=now)
    if pending is None:
        return _expired()
    if not login or not password or len(login) > 320 or len(password) > 256:
        return pages.password_form(rid, error="Введите логин и пароль", login=login[:320], status=400)
    try:
        user = await authenticate(ctx.store, login, password, now=now)
    except LoginRefused as refusal:
        status = 403 if refusal.locked_until is not None else 400
        return pages.password_form(rid, error=str(refusal), login=login, status=status)
    pending.oid = user["oid"]
    pending.phone = user["logins"]["phone"]
    factor = (user.get("second_factor") or {}).get("method", "sms")
    pending.extra["factor"] = factor
    if factor == "totp":  # the code comes from the person's authenticator app, not by SMS
        pending.otp, pending.otp_sent, pending.otp_attempts = "", now, 0
        await save_request(ctx.store, pending)
    else:
        pending.otp, pending.otp_sent, pending.otp_attempts = new_otp(), now, 0
        await save_request(ctx.store, pending)
        await send_sms(ctx.store, phone=pending.phone, code=pending.otp, now=now)  # type: ignore[arg-type]
    return RedirectResponse(f"{str(request.base_url).rstrip('/')}/aas/oauth2/otp?rid={rid}", status_code=302)


async def otp_page(request: Request) -> Response:
    ctx = context(request)
    rid = request.query_params.get("rid", "")
    pending = await find_request(ctx.store, rid, now=await ctx.clock.now())
    if pending is None or pending.otp is None:
        return _expired()
    return pages.otp_form(rid, masked_phone=pages.mask_phone(pending.phone), totp=_is_totp(pending))


async def submit_otp(request: Request) -> Response:
    ctx = context(request)
    form = await _form(request)
    rid, code = form.get("rid", ""), form.get("code", "").strip()
    now = await ctx.clock.now()
    pending = await find_request(ctx.store, rid, now=now)
    if pending is None or pending.otp is None or pending.oid is None:
        return _expired()
    masked = pages.mask_phone(pending.phone)
    totp = _is_totp(pending)
    if totp:
        right = await totp_accepted(ctx.store, pending.oid, code, now=now)
    else:
        right = hmac.compare_digest(code.encode(), pending.otp.encode())
    if not totp and now - (pending.otp_sent or 0) > OTP_LIFETIME:
        await finish_request(ctx.store, rid)
        return pages.message_page("Вход не выполнен", "Срок действия кода истёк. Начните вход заново.", status=400)
    if not right:
        pending.otp_attempts += 1
        if pending.otp_attempts >= MAX_OTP_ATTEMPTS:
            await finish_request(ctx.store, rid)
            return pages.message_page("Вход не выполнен", "Код введён неверно слишком много раз.", status=400)
        await save_request(ctx.store, pending)
        return pages.otp_form(rid, masked_phone=masked, error="Неверный код", status=400, totp=totp)
    if not await finish_request(ctx.store, rid):
        return _expired()
    session = await open_session(ctx.store, oid=pending.oid, now=now)
    grant = Authorization(
        oid=pending.oid,
        client_id=pending.client_id,
        scopes=tuple(pending.scopes),
        session_id=session.sid,
        auth_time=now,
        redirect_uri=pending.redirect_uri,
        access_type=pending.access_type,
    )
    response = await redirect_with_code(ctx, request, pending, grant, now=now)
    response.set_cookie(SSO_COOKIE, session.sid, max_age=SSO_LIFETIME, httponly=True, samesite="lax", path="/")
    return response


async def logout(request: Request) -> Response:
    """End the SSO session and return to ``redirect_url`` (which must be registered)."""
    ctx = context(request)
    client_id = request.query_params.get("client_id")
    redirect_url = request.query_params.get("redirect_url")
    if not client_id:
        raise missing_parameters(["client_id"])
    client = await find_client(ctx.store, client_id) if len(client_id) <= 64 else None
    if client is None:
        raise unknown_client(client_id)
    if redirect_url is not None and redirect_url not in client.redirect_uris:
        raise EsiaError(REDIRECT_NOT_REGISTERED, "redirect_url is not registered for the client")
    await end_session(ctx.store, request.cookies.get(SSO_COOKIE))
    response: Response
    if redirect_url is None:
        response = pages.message_page("Выход", "Вы вышли из учётной записи.", status=200)
    else:
        response = RedirectResponse(redirect_url, status_code=302)
    response.delete_cookie(SSO_COOKIE, path="/")
    return response
