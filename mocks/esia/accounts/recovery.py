"""Password recovery and unlock by a one-time code (the seeds' user side):

- ``GET|POST /login/recovery`` (``login``: phone, e-mail or SNILS) → a 6-digit code to the
  registered phone (by SMS), or to the e-mail when the person typed the e-mail;
  ``GET|POST /login/recovery/confirm`` (``rid``, ``code``, ``password``, ``password2``) sets a
  new password that passes the policy and ends any lockout;
- ``GET|POST /login/unlock`` and ``/login/unlock/confirm`` (``rid``, ``code``) only end the
  lockout that three wrong passwords started.

Codes are valid 10 minutes on the mock's clock, three tries, single use.
"""

from __future__ import annotations

import hmac
import json

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ...core.context import context
from ..oauth.sessions import LOGIN_REQUEST_LIFETIME, MAX_OTP_ATTEMPTS, OTP_LIFETIME, new_id, new_otp, send_sms
from ..pages import mask_phone, read_form
from . import registration_pages as pages
from .mailbox import send_mail
from .registration_rules import password_faults
from .users import account_for_login, load_user, set_password, unlock

PURPOSES = {
    "recovery": ("Восстановление доступа", "/login/recovery"),
    "unlock": ("Разблокировка учётной записи", "/login/unlock"),
}
_EXPIRED = "Запрос не найден или его срок истёк. Начните заново."


def _key(rid: str) -> str:
    return f"esia:recovery:{rid}"


def _purpose(request: Request) -> str:
    return "unlock" if request.url.path.startswith("/login/unlock") else "recovery"


async def start_page(request: Request) -> Response:
    title, action = PURPOSES[_purpose(request)]
    return pages.login_request_form(action, title)


async def submit_start(request: Request) -> Response:
    ctx = context(request)
    purpose = _purpose(request)
    title, action = PURPOSES[purpose]
    login = (await read_form(request)).get("login", "").strip()
    oid = await account_for_login(ctx.store, login)
    user = await load_user(ctx.store, oid) if oid is not None else None
    if user is None:
        return pages.login_request_form(action, title, ["Учётная запись не найдена"], status=400)
    now = await ctx.clock.now()
    rid, code = new_id(), new_otp()
    by_mail = "@" in login and user["logins"].get("email")
    if by_mail:
        await send_mail(
            ctx.store,
            email=user["logins"]["email"],
            subject=f"{title} — Госуслуги",
            text=f"Код подтверждения: {code}. Никому не сообщайте его.",
            now=now,
            code=code,
        )
        hint = "Код отправлен на вашу электронную почту. Он действует 10 минут."
    else:
        await send_sms(ctx.store, phone=user["logins"]["phone"], code=code, now=now)
        hint = f"Код отправлен на номер {mask_phone(user['logins']['phone'])}. Он действует 10 минут."
    pending = {"oid": oid, "purpose": purpose, "code": code, "sent": now, "attempts": 0, "hint": hint}
    await ctx.store.set(_key(rid), json.dumps(pending), ttl=LOGIN_REQUEST_LIFETIME)
    return RedirectResponse(f"{str(request.base_url).rstrip('/')}{action}/confirm?rid={rid}", status_code=302)


async def _pending(request: Request, rid: str) -> dict | None:
    if not rid or len(rid) > 64:
        return None
    raw = await context(request).store.get(_key(rid))
    pending = json.loads(raw) if raw else None
    return pending if pending is not None and pending["purpose"] == _purpose(request) else None


async def confirm_page(request: Request) -> Response:
    purpose = _purpose(request)
    rid = request.query_params.get("rid", "")
    pending = await _pending(request, rid)
    if pending is None:
        return pages.done_page(PURPOSES[purpose][0], _EXPIRED, status=400)
    action = f"{PURPOSES[purpose][1]}/confirm"
    return pages.code_form(action, rid, hint=pending["hint"], new_password=purpose == "recovery")


async def submit_confirm(request: Request) -> Response:
    ctx = context(request)
    purpose = _purpose(request)
    title, start = PURPOSES[purpose]
    form = await read_form(request)
    rid, code = form.get("rid", ""), form.get("code", "").strip()
    now = await ctx.clock.now()
    pending = await _pending(request, rid)
    if pending is None:
        return pages.done_page(title, _EXPIRED, status=400)
    if now - pending["sent"] > OTP_LIFETIME:
        await ctx.store.delete(_key(rid))
        return pages.done_page(title, "Срок действия кода истёк. Запросите новый код.", status=400)
    recovery = purpose == "recovery"
    faults = []
    if not hmac.compare_digest(code.encode(), pending["code"].encode()):
        pending["attempts"] += 1
        if pending["attempts"] >= MAX_OTP_ATTEMPTS:
            await ctx.store.delete(_key(rid))
            return pages.done_page(title, "Код введён неверно слишком много раз.", status=400)
        await ctx.store.set(_key(rid), json.dumps(pending), ttl=LOGIN_REQUEST_LIFETIME)
        faults.append("Неверный код")
    elif recovery:
        faults.extend(password_faults(form.get("password", ""), form.get("password2", "")))
    if faults:
        return pages.code_form(
            f"{start}/confirm", rid, hint=pending["hint"], errors=faults, new_password=recovery, status=400
        )
    if await ctx.store.take(_key(rid)) is None:
        return pages.done_page(title, _EXPIRED, status=400)
    if recovery:
        await set_password(ctx.store, pending["oid"], form["password"])
    await unlock(ctx.store, pending["oid"])
    done = "Пароль изменён. Войдите с новым паролем." if recovery else "Учётная запись разблокирована."
    return pages.done_page(title, done)
