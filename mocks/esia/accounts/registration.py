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

Refusing consent blocks registration; nothing is stored before the phone is confirmed.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import asdict

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ...core.context import context
from ...core.problems import Problem
from ..oauth.sessions import LOGIN_REQUEST_LIFETIME, MAX_OTP_ATTEMPTS, OTP_LIFETIME, new_id, new_otp, send_sms
from ..pages import mask_phone, read_form
from . import registration_pages as pages
from .mailbox import send_mail
from .registration_rules import check_registration
from .users import SeedPlan, load_user, login_key, save_user, seed_user

ACTIVATION_LIFETIME = 24 * 3600
_EXPIRED = "Срок регистрации истёк или запрос не найден. Начните регистрацию заново."


def _key(rid: str) -> str:
    return f"esia:reg:{rid}"


async def registration_page(request: Request) -> Response:
    return pages.registration_form()


async def submit_registration(request: Request) -> Response:
    ctx = context(request)
    form = await read_form(request)
    shown = {k: v[:200] for k, v in form.items() if not k.startswith("password")}
    plan, messages = check_registration(form)
    if plan is None:
        return pages.registration_form(shown, messages, status=400)
    taken = []
    if await ctx.store.get(login_key("phone", plan.phone)) is not None:
        taken.append("Этот номер телефона уже зарегистрирован")
    if plan.email and await ctx.store.get(login_key("email", plan.email)) is not None:
        taken.append("Эта электронная почта уже зарегистрирована")
    if taken:
        return pages.registration_form(shown, taken, status=409)
    now = await ctx.clock.now()
    rid, code = new_id(), new_otp()
    pending = {"plan": asdict(plan), "consent_at": now, "created": now, "code": code, "sent": now, "attempts": 0}
    await ctx.store.set(_key(rid), json.dumps(pending), ttl=LOGIN_REQUEST_LIFETIME * 2)
    await send_sms(ctx.store, phone=plan.phone, code=code, now=now)
    return RedirectResponse(f"{str(request.base_url).rstrip('/')}/registration/confirm?rid={rid}", status_code=302)


async def _pending(request: Request, rid: str, now: float) -> dict | None:
    if not rid or len(rid) > 64:
        return None
    raw = await context(request).store.get(_key(rid))
    if raw is None:
        return None
    pending = json.loads(raw)
    return pending if now - pending["created"] <= LOGIN_REQUEST_LIFETIME else None


def _hint(pending: dict) -> str:
    return f"Код отправлен на номер {mask_phone(pending['plan']['phone'])}. Он действует 10 минут."


async def confirmation_page(request: Request) -> Response:
    ctx = context(request)
    rid = request.query_params.get("rid", "")
    pending = await _pending(request, rid, await ctx.clock.now())
    if pending is None:
        return pages.done_page("Регистрация", _EXPIRED, status=400)
    return pages.code_form("/registration/confirm", rid, hint=_hint(pending))


async def submit_confirmation(request: Request) -> Response:
    ctx = context(request)
    form = await read_form(request)
    rid, code = form.get("rid", ""), form.get("code", "").strip()
    now = await ctx.clock.now()
    pending = await _pending(request, rid, now)
    if pending is None:
        return pages.done_page("Регистрация", _EXPIRED, status=400)
    if now - pending["sent"] > OTP_LIFETIME:
        await ctx.store.delete(_key(rid))
        return pages.done_page("Регистрация", "Срок действия кода истёк. Начните регистрацию заново.", status=400)
    if not hmac.compare_digest(code.encode(), pending["code"].encode()):
        pending["attempts"] += 1
        if pending["attempts"] >= MAX_OTP_ATTEMPTS:
            await ctx.store.delete(_key(rid))
            return pages.done_page("Регистрация", "Код введён неверно слишком много раз.", status=400)
        await ctx.store.set(_key(rid), json.dumps(pending), ttl=LOGIN_REQUEST_LIFETIME * 2)
        return pages.code_form("/registration/confirm", rid, hint=_hint(pending), errors=["Неверный код"], status=400)
    if await ctx.store.take(_key(rid)) is None:  # another replica finished it first
        return pages.done_page("Регистрация", _EXPIRED, status=400)
    plan = SeedPlan(**pending["plan"])
    try:
        record = await seed_user(ctx.store, plan, now=now)
    except Problem:
        return pages.done_page("Регистрация", "Этот телефон, почта или СНИЛС уже зарегистрированы.", status=409)
    record["registration"] = {
        "registered_at": now,
        "consents": [{"type": "personal_data_processing", "given": True, "given_at": pending["consent_at"]}],
    }
    message = "Учётная запись создана. Войдите с номером телефона и паролем."
    if plan.email:
        record["contacts"] = [
            {**contact, "vrfStu": "NOT_VERIFIED"} if contact["type"] == "EML" else contact
            for contact in record["contacts"]
        ]
        await _send_activation(request, record["oid"], plan.email, now)
        message += " Чтобы подтвердить электронную почту, перейдите по ссылке из письма (она действует 24 часа)."
    await save_user(ctx.store, record)
    return pages.done_page("Регистрация завершена", message, status=201)


async def _send_activation(request: Request, oid: int, email: str, now: float) -> None:
    ctx = context(request)
    token = secrets.token_urlsafe(24)
    body = {"oid": oid, "email": email, "expires": now + ACTIVATION_LIFETIME}
    await ctx.store.set(f"esia:activation:{token}", json.dumps(body), ttl=ACTIVATION_LIFETIME * 2)
    link = f"{ctx.settings.public_url}/registration/activate?token={token}"
    await send_mail(
        ctx.store,
        email=email,
        subject="Подтверждение электронной почты — Госуслуги",
        text=f"Чтобы подтвердить адрес электронной почты, перейдите по ссылке: {link}. Ссылка действует 24 часа.",
        now=now,
        link=link,
    )


async def activate(request: Request) -> Response:
    ctx = context(request)
    token = request.query_params.get("token", "")
    raw = await ctx.store.get(f"esia:activation:{token}") if 0 < len(token) <= 64 else None
    now = await ctx.clock.now()
    if raw is None or now >= json.loads(raw)["expires"]:
        return pages.done_page("Подтверждение почты", "Ссылка недействительна или её срок истёк.", status=400)
    body = json.loads(raw)
    await ctx.store.delete(f"esia:activation:{token}")
    record = await load_user(ctx.store, body["oid"])
    if record is None:
        return pages.done_page("Подтверждение почты", "Учётная запись не найдена.", status=400)
    record["contacts"] = [
        {**contact, "vrfStu": "VERIFIED"} if contact.get("value") == body["email"] else contact
        for contact in record["contacts"]
    ]
    await save_user(ctx.store, record)
    return pages.done_page("Подтверждение почты", "Электронная почта подтверждена.")
