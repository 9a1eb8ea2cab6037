"""FGIS UTKO's personal account («Личный кабинет ФГИС УТКО»): an ESIA relying party
(:mod:`..accounts`) where an organisation registers on its first sign-in (consent, roles) and
whose list shows the waste-handling objects of whoever the person acts for (by operator INN)."""

from __future__ import annotations

from ..accounts.acting import ActingFor
from ..accounts.system import AccountSystem, ListPage
from ..core.context import ServiceContext
from .repository import ObjectRepository

__all__ = ["UTKO_ACCOUNT"]


async def _objects(ctx: ServiceContext, acting: ActingFor) -> ListPage:
    if not acting.inn:
        raise ValueError("ЕСИА не сообщила ИНН: список объектов не построить")
    records, _, _ = await ObjectRepository(ctx.store).page(limit=50, filters={"operator": acting.inn})
    rows = [[str(record.get("name", "")), str(record.get("type", "")), str(record.get("status", "")),
             str(record.get("region", ""))] for record in records]
    return ListPage(title="Объекты обращения с отходами", headings=["Наименование", "Тип", "Статус", "Регион"],
                    rows=rows)


UTKO_ACCOUNT = AccountSystem(client_id="UTKOLK", title="Личный кабинет ФГИС УТКО", lister=_objects,
                             registration=True)
