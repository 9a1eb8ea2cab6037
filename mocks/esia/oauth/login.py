"""The interactive login after ``ac``: password, then the one-time code (by SMS, or from the
person's authenticator app), then back to the client; and the logout that ends the SSO session.

URLs and form fields (pages: :mod:`..pages`, HTTP: :mod:`.handlers`): ``GET|POST
/aas/oauth2/login`` (``rid``, ``login``, ``password``), ``GET|POST /aas/oauth2/otp`` (``rid``,
``code``), ``GET /idp/ext/Logout`` (``client_id``, ``redirect_url``).
"""

from __future__ import annotations

import hmac
from dataclasses import replace

from ...core.context import ServiceContext
from ..accounts.message_repository import MessageRepository
from ..accounts.one_time_codes import MAX_ATTEMPTS, OTP_LIFETIME, new_otp
from ..accounts.totp import matching_step
from ..accounts.user_repository import LoginRefused, UserRepository
from ..browser import Answer, Browser, Page, Redirect
from ..errors import REDIRECT_NOT_REGISTERED, EsiaError, missing_parameters, unknown_client
from ..pages import mask_phone, message_page, otp_form, password_form
from .client_repository import ClientRepository
from .completion import complete_login
from .grant_repository import Authorization
from .login_repository import LoginFinished, LoginRepository, LoginRequest

__all__ = ["finish_login", "logout", "otp_page", "password_page", "submit_otp", "submit_password", "totp_accepted"]

_EXPIRED = "Сеанс входа истёк или не найден. Вернитесь на сайт и начните вход заново."


def _expired() -> Page:
    return message_page("Вход не выполнен", _EXPIRED, status=400)


async def totp_accepted(ctx: ServiceContext, oid: int, code: str, *, now: float) -> bool:
    """Whether ``code`` is the person's TOTP now (RFC 6238, one step of drift either way) and
    its time step was not used before: a code read over someone's shoulder cannot be replayed."""
    users = UserRepository(ctx.store)
    account = await users.get(oid)
    secret = account.second_factor.totp_secret if account is not None and account.second_factor else None
    step = matching_step(secret, code, now) if secret else None
    if step is None:
        return False
    return await users.use_totp_step(oid, step)


async def password_page(ctx: ServiceContext, rid: str) -> Page:
    if await LoginRepository.of(ctx).find_request(rid, now=await ctx.clock.now()) is None:
        return _expired()
    return password_form(rid)


async def submit_password(ctx: ServiceContext, rid: str, login: str, password: str) -> Answer:
    logins = LoginRepository.of(ctx)
    now = await ctx.clock.now()
    pending = await logins.find_request(rid, now=now)
    if pending is None:
        return _expired()
    if not login or not password or len(login) > 320 or len(password) > 256:
        return password_form(rid, error="Введите логин и пароль", login=login[:320], status=400)
    try:
        account = await UserRepository(ctx.store).authenticate(login, password, now=now)
    except LoginRefused as refusal:
        status = 403 if refusal.locked_until is not None else 400
        return password_form(rid, error=str(refusal), login=login, status=status)
    pending.oid = account.oid
    pending.phone = account.logins.phone
    factor = account.second_factor.method if account.second_factor is not None else "sms"
    pending.factor = factor
    pending.otp_sent, pending.otp_attempts = now, 0
    if factor == "totp":  # the code comes from the person's authenticator app, not by SMS
        pending.otp = ""
        await logins.save_request(pending)
    else:
        pending.otp = new_otp()
        await logins.save_request(pending, along=MessageRepository.sms(phone=pending.phone, code=pending.otp, now=now))
    return Redirect(location=f"/aas/oauth2/otp?rid={rid}")


async def otp_page(ctx: ServiceContext, rid: str) -> Page:
    pending = await LoginRepository.of(ctx).find_request(rid, now=await ctx.clock.now())
    if pending is None or pending.otp is None:
        return _expired()
    return otp_form(rid, masked_phone=mask_phone(pending.phone), totp=pending.factor == "totp")


async def submit_otp(ctx: ServiceContext, rid: str, code: str, browser: Browser) -> Answer:
    logins = LoginRepository.of(ctx)
    now = await ctx.clock.now()
    pending = await logins.find_request(rid, now=now)
    if pending is None or pending.otp is None or pending.oid is None:
        return _expired()
    masked = mask_phone(pending.phone)
    totp = pending.factor == "totp"
    if totp:
        right = await totp_accepted(ctx, pending.oid, code, now=now)
    else:
        right = hmac.compare_digest(code.encode(), pending.otp.encode())
    if not totp and now - (pending.otp_sent or 0) > OTP_LIFETIME:
        await logins.finish_request(pending)
        return message_page("Вход не выполнен", "Срок действия кода истёк. Начните вход заново.", status=400)
    if not right:
        pending.otp_attempts += 1
        if pending.otp_attempts >= MAX_ATTEMPTS:
            await logins.finish_request(pending)
            return message_page("Вход не выполнен", "Код введён неверно слишком много раз.", status=400)
        await logins.save_request(pending)
        return otp_form(rid, masked_phone=masked, error="Неверный код", status=400, totp=totp)
    return await finish_login(ctx, pending, oid=pending.oid, method="PWD", browser=browser, now=now)


async def finish_login(ctx: ServiceContext, pending: LoginRequest, *, oid: int, method: str, browser: Browser,
                       now: float) -> Answer:
    """End a login whose person has proved who they are — ``PWD`` (password and code) or ``DS``
    (an electronic signature): the SSO session, the admission checks, consent, the code, all in
    the one commit the login request ends with."""
    logins = LoginRepository.of(ctx)
    ending = logins.ending(pending, oid=oid, now=now, method=method)
    session = ending.session
    grant = Authorization(
        oid=oid,
        client_id=pending.client_id,
        scopes=tuple(pending.scopes),
        session_id=session.sid,
        auth_time=now,
        method=method,
        redirect_uri=pending.redirect_uri,
        access_type=pending.access_type,
    )
    client = await ClientRepository(ctx.store).find(pending.client_id)
    try:
        answer = await complete_login(ctx, client, grant, state=pending.state, redirect_uri=pending.redirect_uri,
                                      browser=browser, now=now, along=ending)
    except EsiaError:  # refused after the right code: the login request ends all the same
        try:
            await logins.end(ending)
        except LoginFinished:
            return _expired()
        raise
    except LoginFinished:  # another request with the right code ended this login first
        return _expired()
    return replace(answer, open_sso=session.sid)  # the browser keeps the session it just logged in to


async def logout(ctx: ServiceContext, client_id: str | None, redirect_url: str | None, browser: Browser) -> Answer:
    """End the SSO session and return to ``redirect_url`` (which must be registered)."""
    if not client_id:
        raise missing_parameters(["client_id"])
    client = await ClientRepository(ctx.store).find(client_id)
    if client is None:
        raise unknown_client(client_id)
    if redirect_url is not None and redirect_url not in client.redirect_uris:
        raise EsiaError(REDIRECT_NOT_REGISTERED, "redirect_url is not registered for the client")
    await LoginRepository.of(ctx).end_session(browser.sso_session)
    if redirect_url is None:
        return replace(message_page("Выход", "Вы вышли из учётной записи.", status=200), end_sso=True)
    return Redirect(location=redirect_url, end_sso=True)
