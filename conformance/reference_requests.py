"""Valid requests the conformance tests start from: the rule tests vary one field of them, the
behaviour tests send them as they are. A target that refuses one of these is wrong before any
rule is judged (``test_*_reference_*_are_accepted``)."""

from __future__ import annotations

import copy
from typing import Any

ORGANISATION = {"inn": "7707083893", "kpp": "773601001", "ogrn": "1027700132195", "name": "ПАО «Сбербанк»"}
PROPRIETOR = {"inn": "500500123491", "ogrn": "304500116000157", "name": "ИП Петров Иван Сергеевич"}

UTKO_OBJECT: dict[str, Any] = {
    "name": "Мусоросортировочный комплекс «Восток»",
    "status": "active",
    "type": "sorting",
    "operator": {"inn": "7707083893", "kpp": "773601001"},
    "region": "77",
    "address": "г. Москва, ул. Промышленная, д. 1",
    "coordinates": {"lat": 55.75, "lon": 37.62},
    "fkkoCodes": ["73310001724"],
}


def declaration(declarant: dict[str, str] = ORGANISATION, **changes: Any) -> dict[str, Any]:
    """An import declaration (ИМ 40) of one goods item by ``declarant``."""
    body = {
        "senderReference": "conformance",
        "declarant": dict(declarant),
        "procedure": {"direction": "ИМ", "code": "40"},
        "customsOffice": "10005020",
        "goods": [{
            "tnved": "8471300000",
            "description": "Портативные вычислительные машины",
            "quantity": 10,
            "unit": "шт",
            "customsValue": "125000.00",
            "currency": "RUB",
            "originCountry": "CN",
            "deliveryTerms": "FCA",
        }],
    }
    return body | changes


def utko_object(**changes: Any) -> dict[str, Any]:
    return copy.deepcopy(UTKO_OBJECT) | changes
