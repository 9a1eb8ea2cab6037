"""After sign-in: ``GET``/``POST /account/choose`` (whom the person acts for) and ``GET /account``
(the list of declarations or objects of whoever they act for).

In an account with registration (the FGIS), acting for an organisation not yet registered there
leads to the registration first, and the list shows the person's role in the organisation.
"""

from __future__ import annotations

from dataclasses import replace
from html import escape

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..core.context import context
from .acting import choices, choose
from .fgis_registration import ROLE_TITLES, FgisRegister
from .pages import message, page, table
from .sessions import Session, SessionRepository
from .web import Account, form_value

__all__ = ["ActingPages"]


def signed_out(account: Account) -> Response:
    return RedirectResponse("/login", status_code=303)


class ActingPages:
    def __init__(self, account: Account) -> None:
        self._account = account

    @property
    def _title(self) -> str:
        return self._account.system.title

    async def choose_form(self, request: Request) -> Response:
        session = await self._account.session(request)
        if session is None:
            return signed_out(self._account)
        return self._choose_page(session)

    def _choose_page(self, session: Session, *, error: str | None = None, status: int = 200) -> Response:
        forms = []
        for choice in choices(session.inn, session.places):
            detail = "" if choice.organisation is None else f" (ИНН {choice.inn or '—'})"
            forms.append(
                '<form class="choice" method="post" action="/account/choose">'
                f'<input type="hidden" name="choice" value="{escape(choice.key)}">'
                f'<button type="submit" data-choice="{escape(choice.key)}">{escape(choice.label)}{escape(detail)}'
                "</button></form>")
        alert = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
        body = f"{alert}<p>Выберите, от чьего имени вы будете работать.</p>{''.join(forms)}"
        return page(self._title, "Выбор роли", body, status=status, signed_in=session.name)

    async def choose(self, request: Request) -> Response:
        session = await self._account.session(request)
        if session is None:
            return signed_out(self._account)
        chosen = choose(session.inn, session.places, await form_value(request, "choice"))
        if chosen is None:
            return self._choose_page(session, error="Такой роли у вас нет", status=422)
        session = replace(session, acting=chosen, registering=None)
        store = context(request).store
        await SessionRepository(store).save(session)
        place = chosen.organisation
        if self._account.system.registration and place is not None and await FgisRegister(store).consent_of(
                place.oid) is None:
            return RedirectResponse("/account/registration", status_code=303)  # its first time here
        return RedirectResponse("/account", status_code=303)

    async def home(self, request: Request) -> Response:
        session = await self._account.session(request)
        if session is None:
            return signed_out(self._account)
        if session.acting is None:
            return RedirectResponse("/account/choose", status_code=303)
        ctx = context(request)
        role_line = ""
        place = session.acting.organisation
        if self._account.system.registration and place is not None:
            register = FgisRegister(ctx.store)
            consent = await register.consent_of(place.oid)
            if consent is None:
                return RedirectResponse("/account/registration", status_code=303)
            role = await register.role_of(place.oid, session.oid, esia_admin=place.admin)
            roles_link = ' · <a id="roles-link" href="/account/roles">Роли сотрудников</a>' if role == "admin" else ""
            role_line = (f'<p>Ваша роль: <span id="role">{escape(ROLE_TITLES[role])}</span>{roles_link}</p>'
                         f'<p id="consent">Организация зарегистрирована: согласие на обработку персональных данных '
                         f"дано {escape(consent.when)}, OID {consent.oid}</p>")
        try:
            listing = await self._account.system.lister(ctx, session.acting)
        except ValueError as exc:
            return message(self._title, "Список недоступен", str(exc), status=422, link=("/account/choose", "Назад"))
        body = (f'<p>Вы работаете как: <span id="acting">{escape(session.acting.label)}</span> · '
                '<a href="/account/choose">сменить</a></p>'
                f"{role_line}<h2>{escape(listing.title)}</h2>"
                f"{table('list', listing.headings, listing.rows, 'Записей нет')}")
        return page(self._title, "Личный кабинет", body, signed_in=session.name)
