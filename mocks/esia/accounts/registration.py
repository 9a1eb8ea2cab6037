"""Registration of a new account, as a person does it (the seeds' user side):

1. ``GET /registration`` — the form (name, mobile phone, e-mail, optional birth date, SNILS,
   INN, passport, the password twice, consent to personal-data processing);
   ``POST /registration`` checks it (:mod:`.registration_rules`) and sends an SMS code;
2. ``GET|POST /registration/confirm`` (``rid``, ``code``) — the code is valid 10 minutes on the
   mock's clock, three tries; then the account exists: *standard* when SNILS and passport were
   given (verified against the registries), else *simplified*; the consent is recorded with its
   time;
3. with an e-mail, an activation link valid 24 hours goes to the mailbox
   (control ``GET /mailbox``); ``GET /registration/activate?token=…`` verifies the address.

Refusing consent blocks registration; nothing is stored before the phone is confirmed
(:mod:`.pending_repository`). The HTTP side: :mod:`.handlers`.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import replace

from ...core.context import ServiceContext
from ...core.problems import Problem
from ..browser import Answer, Page, Redirect
from ..pages import mask_phone
from . import registration_pages as pages
from .message_repository import MessageRepository
from .one_time_codes import MAX_ATTEMPTS, OTP_LIFETIME, new_handle, new_otp
from .pending_repository import ACTIVATION_LIFETIME, Activation, PendingRegistration, PendingRepository
from .records import Consent, Registration, UserAccount
from .registration_rules import check_registration
from .user_repository import UserRepository

__all__ = ["activate", "confirmation_page", "registration_page", "submit_confirmation", "submit_registration"]

_EXPIRED = "Срок регистрации истёк или запрос не найден. Начните регистрацию заново."


def registration_page() -> Page:
    return pages.registration_form()


async def submit_registration(ctx: ServiceContext, form: dict[str, str]) -> Answer:
    shown = {k: v[:200] for k, v in form.items() if not k.startswith("password")}
    plan, messages = check_registration(form)
    if plan is None:
        return pages.registration_form(shown, messages, status=400)
    users = UserRepository(ctx.store)
    taken = []
    if await users.login_taken("phone", plan.phone):
        taken.append("Этот номер телефона уже зарегистрирован")
    if plan.email and await users.login_taken("email", plan.email):
        taken.append("Эта электронная почта уже зарегистрирована")
    if taken:
        return pages.registration_form(shown, taken, status=409)
    now = await ctx.clock.now()
    rid, code = new_handle(), new_otp()
    pending = PendingRegistration(plan=plan, consent_at=now, created=now, code=code, sent=now)
    await PendingRepository(ctx.store).save_registration(rid, pending)
    await MessageRepository(ctx.store).send_sms(phone=plan.phone, code=code, now=now)
    return Redirect(location=f"/registration/confirm?rid={rid}")


def _hint(pending: PendingRegistration) -> str:
    return f"Код отправлен на номер {mask_phone(pending.plan.phone)}. Он действует 10 минут."


async def confirmation_page(ctx: ServiceContext, rid: str) -> Page:
    pending = await PendingRepository(ctx.store).registration(rid, now=await ctx.clock.now())
    if pending is None:
        return pages.done_page("Регистрация", _EXPIRED, status=400)
    return pages.code_form("/registration/confirm", rid, hint=_hint(pending))


async def submit_confirmation(ctx: ServiceContext, rid: str, code: str) -> Page:
    registrations = PendingRepository(ctx.store)
    now = await ctx.clock.now()
    pending = await registrations.registration(rid, now=now)
    if pending is None:
        return pages.done_page("Регистрация", _EXPIRED, status=400)
    if now - pending.sent > OTP_LIFETIME:
        await registrations.drop_registration(rid)
        return pages.done_page("Регистрация", "Срок действия кода истёк. Начните регистрацию заново.", status=400)
    if not hmac.compare_digest(code.encode(), pending.code.encode()):
        pending.attempts += 1
        if pending.attempts >= MAX_ATTEMPTS:
            await registrations.drop_registration(rid)
            return pages.done_page("Регистрация", "Код введён неверно слишком много раз.", status=400)
        await registrations.save_registration(rid, pending)
        return pages.code_form("/registration/confirm", rid, hint=_hint(pending), errors=["Неверный код"], status=400)
    if not await registrations.take_registration(rid):  # another replica finished it first
        return pages.done_page("Регистрация", _EXPIRED, status=400)
    plan = pending.plan
    users = UserRepository(ctx.store)
    try:
        account = await users.create(plan, now=now)
    except Problem:
        return pages.done_page("Регистрация", "Этот телефон, почта или СНИЛС уже зарегистрированы.", status=409)
    consent = Consent(type="personal_data_processing", given=True, given_at=pending.consent_at)
    account = replace(account, registration=Registration(registered_at=now, consents=(consent,)))
    message = "Учётная запись создана. Войдите с номером телефона и паролем."
    if plan.email:
        account = _email_unverified(account)
        await _send_activation(ctx, account.oid, plan.email, now)
        message += " Чтобы подтвердить электронную почту, перейдите по ссылке из письма (она действует 24 часа)."
    await users.save(account)
    return pages.done_page("Регистрация завершена", message, status=201)


def _email_unverified(account: UserAccount) -> UserAccount:
    """The e-mail a person typed at registration is theirs only once they follow the link."""
    return replace(account, contacts=tuple(
        replace(contact, verification="NOT_VERIFIED") if contact.type == "EML" else contact
        for contact in account.contacts
    ))


async def _send_activation(ctx: ServiceContext, oid: int, email: str, now: float) -> None:
    token = secrets.token_urlsafe(24)
    await PendingRepository(ctx.store).save_activation(
        token, Activation(oid=oid, email=email, expires=now + ACTIVATION_LIFETIME))
    link = f"{ctx.settings.public_url}/registration/activate?token={token}"
    await MessageRepository(ctx.store).send_mail(
        email=email,
        subject="Подтверждение электронной почты — Госуслуги",
        text=f"Чтобы подтвердить адрес электронной почты, перейдите по ссылке: {link}. Ссылка действует 24 часа.",
        now=now,
        link=link,
    )


async def activate(ctx: ServiceContext, token: str) -> Page:
    activations = PendingRepository(ctx.store)
    activation = await activations.activation(token)
    now = await ctx.clock.now()
    if activation is None or now >= activation.expires:
        return pages.done_page("Подтверждение почты", "Ссылка недействительна или её срок истёк.", status=400)
    await activations.drop_activation(token)
    users = UserRepository(ctx.store)
    account = await users.get(activation.oid)
    if account is None:
        return pages.done_page("Подтверждение почты", "Учётная запись не найдена.", status=400)
    await users.save(replace(account, contacts=tuple(
        replace(contact, verification="VERIFIED") if contact.value == activation.email else contact
        for contact in account.contacts
    )))
    return pages.done_page("Подтверждение почты", "Электронная почта подтверждена.")
