"""Signing in and out: ``GET /login``, ``GET /login/callback``, ``POST /logout``,
``GET /logged-out``.

``/login`` starts a sign-in (a new ``state`` bound to this browser) and sends the browser to
ESIA with the signed request. The callback takes the state once, trades the code, verifies the
tokens, reads the person and their organisations, and opens the session; it then asks whom the
person acts for. Logout ends the session here and sends the browser on to ESIA's logout, which
ends the ESIA session too and comes back to ``/logged-out``.
"""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..core.context import context
from .esia_backchannel import exchange_code, read_person
from .login_states import STATE_LIFETIME, LoginStates
from .pages import message
from .refusals import SignInRefused
from .sessions import SessionRepository
from .token_checks import verify_tokens
from .web import LOGGED_OUT_PATH, Account, set_cookie

__all__ = ["SignInPages"]


class SignInPages:
    def __init__(self, account: Account) -> None:
        self._account = account

    def _refused(self, refusal: SignInRefused) -> Response:
        headers = {"Retry-After": "30"} if refusal.status == 503 else {}
        answer = message(self._account.system.title, "Вход не выполнен", refusal.message,
                         status=refusal.status, detail=refusal.detail)
        answer.headers.update(headers)
        return answer

    async def login(self, request: Request) -> Response:
        """A live session goes straight to the account; otherwise off to ESIA."""
        if await self._account.session(request) is not None:
            return RedirectResponse("/account", status_code=303)
        ctx = context(request)
        try:
            client = self._account.client(ctx)
        except SignInRefused as refusal:
            return self._refused(refusal)
        now = await ctx.clock.now()
        cookie = self._account.system.login_cookie
        binding = request.cookies.get(cookie) or secrets.token_urlsafe(24)
        state = await LoginStates(ctx.store).start(binding=binding[:64], now=now)
        authorization_url = client.authorization_url(state=state, now=await self._account.esia_now(ctx))
        response = RedirectResponse(authorization_url, status_code=302)
        set_cookie(response, cookie, binding[:64], max_age=STATE_LIFETIME)
        return response

    async def callback(self, request: Request) -> Response:
        try:
            return await self._callback(request)
        except SignInRefused as refusal:
            return self._refused(refusal)

    async def _callback(self, request: Request) -> Response:
        ctx = context(request)
        query = request.query_params
        now = await ctx.clock.now()
        binding = request.cookies.get(self._account.system.login_cookie)
        if not await LoginStates(ctx.store).take(query.get("state", ""), binding=binding, now=now):
            raise SignInRefused("Ссылка входа недействительна: начните вход заново", status=400,
                                detail="state unknown, spent, expired or started in another browser")
        if "error" in query:
            raise SignInRefused("ЕСИА не подтвердила вход", status=403,
                                detail=query.get("error_description") or query["error"])
        code = query.get("code", "")
        if not code or len(code) > 8192:
            raise SignInRefused("ЕСИА не передала код авторизации", status=400, detail="no code")
        client = self._account.client(ctx)
        esia_now = await self._account.esia_now(ctx)
        answer = await exchange_code(client, code, now=esia_now)
        signed_in = verify_tokens(answer, gate=self._account.gate, esia_key=self._account.esia_key(ctx),
                                  issuer=ctx.settings.esia_issuer, client_id=client.client_id, now=esia_now)
        person = await read_person(client, signed_in.oid, signed_in.access_token)
        session = await SessionRepository(ctx.store).open(
            oid=person.oid, name=person.name, inn=person.inn, places=person.places,
            access_token=signed_in.access_token, refresh_token=signed_in.refresh_token,
            token_expires=now + (signed_in.expires - esia_now), now=now)
        response = RedirectResponse("/account/choose", status_code=303)
        self._account.open_session_cookie(response, session)
        response.delete_cookie(self._account.system.login_cookie, path="/")
        return response

    async def logout(self, request: Request) -> Response:
        """The session ends here, then the browser goes to ESIA's logout (its session ends too)."""
        ctx = context(request)
        sid = request.cookies.get(self._account.system.session_cookie)
        if sid:
            await SessionRepository(ctx.store).end(sid[:64])
        try:
            target = self._account.client(ctx).logout_url(ctx.settings.public_url + LOGGED_OUT_PATH)
        except SignInRefused:
            target = LOGGED_OUT_PATH
        response = RedirectResponse(target, status_code=303)
        response.delete_cookie(self._account.system.session_cookie, path="/")
        return response

    async def logged_out(self, request: Request) -> Response:
        return message(self._account.system.title, "Вы вышли", "Вы вышли из личного кабинета и из Госуслуг.",
                       status=200, link=("/login", "Войти через Госуслуги"))
