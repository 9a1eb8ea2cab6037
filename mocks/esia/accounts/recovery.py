"""Password recovery and unlock by a one-time code (the seeds' user side):

- ``GET|POST /login/recovery`` (``login``: phone, e-mail or SNILS) → a 6-digit code to the
  registered phone (by SMS), or to the e-mail when the person typed the e-mail;
  ``GET|POST /login/recovery/confirm`` (``rid``, ``code``, ``password``, ``password2``) sets a
  new password that passes the policy and ends any lockout;
- ``GET|POST /login/unlock`` and ``/login/unlock/confirm`` (``rid``, ``code``) only end the
  lockout that three wrong passwords started.

Codes are valid 10 minutes on the mock's clock, three tries, single use. The HTTP side:
:mod:`.handlers`.
"""

from __future__ import annotations

import hmac
from typing import Literal

from ...core.context import ServiceContext
from ..browser import Answer, Page, Redirect
from ..pages import mask_phone
from . import registration_pages as pages
from .message_repository import MessageRepository
from .one_time_codes import MAX_ATTEMPTS, OTP_LIFETIME, new_handle, new_otp
from .pending_repository import PendingRepository, RecoveryRequest
from .registration_rules import password_faults
from .user_repository import UserRepository

__all__ = ["PURPOSES", "Purpose", "confirm_page", "start_page", "submit_confirm", "submit_start"]

Purpose = Literal["recovery", "unlock"]
#: Each purpose's page title and the path its pages live under.
PURPOSES: dict[Purpose, tuple[str, str]] = {
    "recovery": ("Восстановление доступа", "/login/recovery"),
    "unlock": ("Разблокировка учётной записи", "/login/unlock"),
}
_EXPIRED = "Запрос не найден или его срок истёк. Начните заново."


def start_page(purpose: Purpose) -> Page:
    title, action = PURPOSES[purpose]
    return pages.login_request_form(action, title)


async def submit_start(ctx: ServiceContext, purpose: Purpose, login: str) -> Answer:
    title, action = PURPOSES[purpose]
    users = UserRepository(ctx.store)
    oid = await users.oid_for_login(login)
    account = await users.get(oid) if oid is not None else None
    if account is None:
        return pages.login_request_form(action, title, ["Учётная запись не найдена"], status=400)
    now = await ctx.clock.now()
    rid, code = new_handle(), new_otp()
    messages = MessageRepository(ctx.store)
    if "@" in login and account.logins.email:
        await messages.send_mail(
            email=account.logins.email,
            subject=f"{title} — Госуслуги",
            text=f"Код подтверждения: {code}. Никому не сообщайте его.",
            now=now,
            code=code,
        )
        hint = "Код отправлен на вашу электронную почту. Он действует 10 минут."
    else:
        await messages.send_sms(phone=account.logins.phone, code=code, now=now)
        hint = f"Код отправлен на номер {mask_phone(account.logins.phone)}. Он действует 10 минут."
    request = RecoveryRequest(oid=account.oid, purpose=purpose, code=code, sent=now, hint=hint)
    await PendingRepository(ctx.store).save_recovery(rid, request)
    return Redirect(location=f"{action}/confirm?rid={rid}")


async def _pending(ctx: ServiceContext, purpose: Purpose, rid: str) -> RecoveryRequest | None:
    request = await PendingRepository(ctx.store).recovery(rid)
    return request if request is not None and request.purpose == purpose else None


async def confirm_page(ctx: ServiceContext, purpose: Purpose, rid: str) -> Page:
    pending = await _pending(ctx, purpose, rid)
    if pending is None:
        return pages.done_page(PURPOSES[purpose][0], _EXPIRED, status=400)
    action = f"{PURPOSES[purpose][1]}/confirm"
    return pages.code_form(action, rid, hint=pending.hint, new_password=purpose == "recovery")


async def submit_confirm(ctx: ServiceContext, purpose: Purpose, form: dict[str, str]) -> Page:
    title, start = PURPOSES[purpose]
    rid, code = form.get("rid", ""), form.get("code", "").strip()
    requests = PendingRepository(ctx.store)
    now = await ctx.clock.now()
    pending = await _pending(ctx, purpose, rid)
    if pending is None:
        return pages.done_page(title, _EXPIRED, status=400)
    if now - pending.sent > OTP_LIFETIME:
        await requests.drop_recovery(rid)
        return pages.done_page(title, "Срок действия кода истёк. Запросите новый код.", status=400)
    recovery = purpose == "recovery"
    faults = []
    if not hmac.compare_digest(code.encode(), pending.code.encode()):
        pending.attempts += 1
        if pending.attempts >= MAX_ATTEMPTS:
            await requests.drop_recovery(rid)
            return pages.done_page(title, "Код введён неверно слишком много раз.", status=400)
        await requests.save_recovery(rid, pending)
        faults.append("Неверный код")
    elif recovery:
        faults.extend(password_faults(form.get("password", ""), form.get("password2", "")))
    if faults:
        return pages.code_form(
            f"{start}/confirm", rid, hint=pending.hint, errors=faults, new_password=recovery, status=400
        )
    if not await requests.take_recovery(rid):
        return pages.done_page(title, _EXPIRED, status=400)
    users = UserRepository(ctx.store)
    if recovery:
        await users.set_password(pending.oid, form["password"])
    await users.unlock(pending.oid)
    done = "Пароль изменён. Войдите с новым паролем." if recovery else "Учётная запись разблокирована."
    return pages.done_page(title, done)
