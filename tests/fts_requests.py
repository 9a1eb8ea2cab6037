"""What the fault and journal tests send to FTS: a declaration that passes validation, and an
ESIA access token the FTS mock accepts."""

from __future__ import annotations

import calendar
import datetime as dt
import uuid

from gosstand.mocks.core.keys import SigningKeys
from gosstand.mocks.core.settings import TEST_STAND_ISSUER
from gosstand.mocks.esia.oauth.token_signing import sign
from gosstand.mocks.esia.oauth.tokens import access_token_claims

DECLARATIONS = "/api/v1/declarations"
#: 2026-05-20 09:00:00 UTC, a whole minute: quota windows start here.
T0 = calendar.timegm(dt.datetime(2026, 5, 20, 9, 0, 0).timetuple())


def token(keys: SigningKeys, *, now: float = T0) -> str:
    claims = access_token_claims(oid=1000328686, client_id="BROKER", scopes=("openid", "usr_org"),
                                 issuer=TEST_STAND_ISSUER, now=now, session_id="sid")
    return sign(claims, kind="access", key=keys.private_key)


def declaration() -> dict:
    return {
        "senderReference": f"BRK-{uuid.uuid4().hex[:8]}",
        "declarant": {"inn": "7707083893", "kpp": "773601001", "ogrn": "1027700132195", "name": "ПАО «Сбербанк»"},
        "procedure": {"direction": "ИМ", "code": "40"},
        "customsOffice": "10005020",
        "goods": [{"tnved": "8471300000", "description": "Ноутбуки", "quantity": 10, "unit": "шт",
                   "customsValue": "125000.00", "currency": "CNY", "originCountry": "CN", "deliveryTerms": "FCA"}],
    }
