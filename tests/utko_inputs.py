"""What tests send to UTKO: a waste-handling object that passes every rule, an ESIA bearer header
UTKO accepts, and a weight control REO's import takes.

Named apart from ``test_utko_requests.py``, which tests UTKO's requests (заявки) resource."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from gosstand.mocks.core.access import organisations_claim
from gosstand.mocks.core.keys import SigningKeys
from gosstand.mocks.core.settings import TEST_STAND_ISSUER
from gosstand.mocks.esia.oauth.token_signing import sign
from gosstand.mocks.esia.oauth.tokens import access_token_claims

#: The stand's clock is frozen here: 2026-05-20 09:00:00 UTC.
T0 = calendar.timegm(dt.datetime(2026, 5, 20, 9, 0, 0).timetuple())

#: A sorting complex in Moscow; the operator's KPP has letters in its reason code, as the tax
#: service allows, and the FKKO codes come bare and grouped.
OBJECT: dict[str, Any] = {
    "name": "Мусоросортировочный комплекс «Восток»",
    "status": "active",
    "type": "sorting",
    "operator": {"inn": "7707083893", "kpp": "7736AB001"},
    "region": "77",
    "address": "г. Москва, ул. Промышленная, д. 1",
    "coordinates": {"lat": 55.75, "lon": 37.62},
    "fkkoCodes": ["73310001724", "4 71 101 01 52 1"],
}

#: REO's weight-control import and the list that reads them back.
IMPORT = "/reo-weight-control-api/api/v1/weight-controls/import"
LIST = "/reo-weight-control-api/api/v1/weight-controls"
#: One weighing of a refuse truck that passes every rule (garbage = before − after − driver).
RECORD: dict[str, Any] = {
    "id": "wc-1",
    "dateBefore": "2026-05-20T08:10:00+03:00",
    "dateAfter": "2026-05-20T08:25:00+03:00",
    "registrationNumber": "А123ВС77",
    "truckType": "Мусоровоз",
    "companyName": "ООО «ЭкоЛайн»",
    "companyInn": "7707083893",
    "companyKpp": "773601001",
    "weightBefore": 18500,
    "weightAfter": 11200,
    "weightDriver": 80,
    "garbageWeight": 7220,
    "codeFKKO": "73310001724",
}


#: The regional operator's person works for the test objects' operator (head office and branch KPPs).
OPERATOR_ORGANISATIONS = organisations_claim([(1000001, "7707083893", ["773601001", "7736AB001"])])
#: A sole proprietor operating objects in person (no KPP).
PROPRIETOR_ORGANISATIONS = organisations_claim([(1000002, "500500123491", [])])


def bearer(keys: SigningKeys, *, scopes: tuple[str, ...] = ("openid", "usr_org"), issuer: str = TEST_STAND_ISSUER,
           now: float = T0, organisations: list[dict[str, Any]] = OPERATOR_ORGANISATIONS) -> dict[str, str]:
    """The bearer header of a regional operator's person (client ``REGOP``), signed with ESIA's
    key; ``usr_org`` lets it write."""
    claims = access_token_claims(oid=2, client_id="REGOP", scopes=scopes, issuer=issuer, now=now, session_id="s",
                                 organisations=organisations)
    return {"Authorization": f"Bearer {sign(claims, kind='access', key=keys.private_key)}"}
