"""The FGIS's first-login registration and its roles page:

- ``GET``/``POST /account/registration``: the organisation's INN or OGRN;
- ``GET``/``POST /account/registration/consent``: the consent text, ``agree`` or ``refuse``;
- ``GET``/``POST /account/roles``: the organisation's administrator gives employees their roles.

The registration is for the organisation the session acts for; the identifier is held in the
session between the two steps, and only an agreed consent stores anything.
"""

from __future__ import annotations

from dataclasses import replace
from html import escape

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..core.context import context
from .acting import Place
from .acting_pages import signed_out
from .esia_backchannel import read_employees
from .fgis_registration import (
    ASSIGNABLE_ROLES,
    CONSENT_TEXT,
    ROLE_TITLES,
    FgisRegister,
    assignable_role,
    identifier_mismatch,
)
from .pages import message, page, table
from .refusals import SignInRefused
from .sessions import Session, SessionRepository
from .web import Account, form_value

__all__ = ["RegistrationPages"]


class RegistrationPages:
    def __init__(self, account: Account) -> None:
        self._account = account

    @property
    def _title(self) -> str:
        return self._account.system.title

    async def _organisation(self, request: Request) -> tuple[Session, Place] | Response:
        """The session and the organisation it acts for, or where the browser goes instead."""
        session = await self._account.session(request)
        if session is None:
            return signed_out(self._account)
        if session.acting is None or session.acting.organisation is None:
            return RedirectResponse("/account/choose", status_code=303)
        return session, session.acting.organisation

    def _identifier_page(self, session: Session, place: Place, *, error: str = "", value: str = "",
                         status: int = 200) -> Response:
        alert = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
        body = (f"{alert}<p>Организация «{escape(place.name)}» ещё не зарегистрирована в ФГИС. "
                "Укажите её ИНН или ОГРН: они будут сверены со сведениями ЕСИА.</p>"
                '<form class="main" method="post" action="/account/registration">'
                '<label for="identifier">ИНН или ОГРН организации</label>'
                f'<input type="text" id="identifier" name="identifier" inputmode="numeric" maxlength="15" '
                f'value="{escape(value)}" required><button type="submit">Продолжить</button></form>')
        return page(self._title, "Регистрация организации", body, status=status, signed_in=session.name)

    async def identifier_form(self, request: Request) -> Response:
        found = await self._organisation(request)
        if isinstance(found, Response):
            return found
        session, place = found
        if await FgisRegister(context(request).store).consent_of(place.oid) is not None:
            return RedirectResponse("/account", status_code=303)
        return self._identifier_page(session, place)

    async def identifier(self, request: Request) -> Response:
        found = await self._organisation(request)
        if isinstance(found, Response):
            return found
        session, place = found
        value = (await form_value(request, "identifier"))[:64]
        mismatch = identifier_mismatch(value, place)
        if mismatch is not None:
            return self._identifier_page(session, place, error=mismatch, value=value, status=422)
        await SessionRepository(context(request).store).save(replace(session, registering=place.oid))
        return RedirectResponse("/account/registration/consent", status_code=303)

    async def consent_form(self, request: Request) -> Response:
        found = await self._organisation(request)
        if isinstance(found, Response):
            return found
        session, place = found
        if session.registering != place.oid:
            return RedirectResponse("/account/registration", status_code=303)
        body = (f'<p>Регистрация организации «{escape(place.name)}» в ФГИС.</p>'
                f'<div id="consent-text"><p>{escape(CONSENT_TEXT)}</p></div>'
                '<form class="actions" method="post" action="/account/registration/consent">'
                '<button type="submit" name="decision" value="agree">Согласен</button> '
                '<button class="secondary" type="submit" name="decision" value="refuse">Не согласен</button></form>')
        return page(self._title, "Согласие на обработку персональных данных", body, signed_in=session.name)

    async def consent(self, request: Request) -> Response:
        found = await self._organisation(request)
        if isinstance(found, Response):
            return found
        session, place = found
        if session.registering != place.oid:
            return RedirectResponse("/account/registration", status_code=303)
        ctx = context(request)
        decision = await form_value(request, "decision")
        if decision not in ("agree", "refuse"):
            return message(self._title, "Регистрация", "Выберите «Согласен» или «Не согласен»", status=422,
                           link=("/account/registration/consent", "Назад"))
        if decision == "refuse":
            await SessionRepository(ctx.store).save(replace(session, registering=None, acting=None))
            return message(self._title, "Регистрация прекращена",
                           "Без согласия на обработку персональных данных регистрация в ФГИС невозможна.",
                           status=200, link=("/account/choose", "Выбрать другую роль"))
        await FgisRegister(ctx.store).register(place, oid=session.oid, now=await ctx.clock.now())
        await SessionRepository(ctx.store).save(replace(session, registering=None))
        return RedirectResponse("/account", status_code=303)

    async def _administered(self, request: Request) -> tuple[Session, Place] | Response:
        found = await self._organisation(request)
        if isinstance(found, Response):
            return found
        session, place = found
        role = await FgisRegister(context(request).store).role_of(place.oid, session.oid, esia_admin=place.admin)
        if role != "admin":
            return message(self._title, "Роли сотрудников", "Назначать роли может только администратор организации",
                           status=403, link=("/account", "В личный кабинет"))
        return found

    async def roles_form(self, request: Request) -> Response:
        found = await self._administered(request)
        if isinstance(found, Response):
            return found
        session, place = found
        employees = await self._employees(request, session, place)
        register = FgisRegister(context(request).store)
        rows, forms = [], []
        for oid, esia_admin in employees.items():
            role = await register.role_of(place.oid, oid, esia_admin=esia_admin)
            rows.append([str(oid), ROLE_TITLES[role]])
            if role != "admin":
                options = "".join(f'<option value="{r}"{" selected" if r == role else ""}>{ROLE_TITLES[r]}</option>'
                                  for r in ASSIGNABLE_ROLES)
                forms.append(f'<form class="actions" method="post" action="/account/roles">'
                             f'<input type="hidden" name="oid" value="{oid}">OID {oid}: '
                             f'<select name="role" id="role-{oid}">{options}</select> '
                             f'<button type="submit" id="assign-{oid}">Назначить</button></form>')
        body = table("employees", ["OID сотрудника", "Роль"], rows, "Сотрудников нет") + "".join(forms)
        return page(self._title, "Роли сотрудников", body, signed_in=session.name)

    async def assign(self, request: Request) -> Response:
        found = await self._administered(request)
        if isinstance(found, Response):
            return found
        session, place = found
        oid, role = await form_value(request, "oid"), assignable_role(await form_value(request, "role"))
        employees = await self._employees(request, session, place)
        if not oid.isdigit() or int(oid) not in employees or employees[int(oid)] or role is None:
            return message(self._title, "Роли сотрудников", "Такого сотрудника или роли нет", status=422,
                           link=("/account/roles", "Назад"))
        await FgisRegister(context(request).store).assign(place.oid, int(oid), role)
        return RedirectResponse("/account/roles", status_code=303)

    async def _employees(self, request: Request, session: Session, place: Place) -> dict[int, bool]:
        """The organisation's employees, each with whether ESIA names them its administrator."""
        try:
            return await read_employees(self._account.client(context(request)), place.oid, session.access_token)
        except SignInRefused:
            return {}
