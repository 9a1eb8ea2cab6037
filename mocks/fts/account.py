"""FTS's participant account («Личный кабинет участника ВЭД»): an ESIA relying party
(:mod:`..accounts`) that lists the declarations of whoever the person acts for — an
organisation's by its INN and KPP, a sole proprietor's or a person's own by their INN."""

from __future__ import annotations

from ..accounts.acting import ActingFor
from ..accounts.system import AccountSystem, ListPage
from ..core.context import ServiceContext
from .listing import declarations_page
from .queries import ListQuery

__all__ = ["FTS_ACCOUNT"]

_STATUS_TITLES = {
    "submitted": "ДТ подана", "registered": "ДТ зарегистрирована", "released": "Выпуск товаров разрешён",
    "conditionally_released": "Условный выпуск", "refused": "Отказ в выпуске товаров",
    "withdrawn": "ДТ отозвана декларантом", "registration_refused": "Отказ в регистрации ДТ",
}


async def _declarations(ctx: ServiceContext, acting: ActingFor) -> ListPage:
    if not acting.inn:
        raise ValueError("ЕСИА не сообщила ИНН: список деклараций не построить")
    kpp = acting.organisation.kpp if acting.organisation is not None and acting.organisation.kpp else None
    cards, _ = await declarations_page(ctx.store, ListQuery(inn=acting.inn, kpp=kpp, limit=50), await ctx.clock.now())
    rows = [[item["registrationNumber"] or "—", item["procedure"].get("code", ""),
             _STATUS_TITLES.get(item["status"], item["status"]), item["submittedAt"][:10]] for item in cards]
    return ListPage(title="Декларации на товары", headings=["Номер ДТ", "Процедура", "Статус", "Подана"], rows=rows)


FTS_ACCOUNT = AccountSystem(client_id="FTSLK", title="Личный кабинет участника ВЭД", lister=_declarations)
