"""What tests send to FTS: declarations that pass validation, ESIA access tokens the FTS mock
accepts, and the calls that file, withdraw and move the stand's clock.

Two frozen moments, because assertions name their dates: ``T0`` (2026-05-20 09:00 UTC) for the
declaration, fault and journal tests, and ``PLANS_T0`` (2026-06-01 08:00 UTC), the day the
life-cycle, document, appeal and event tests file on (``…/010626/…`` registration numbers,
``20260601-…`` application numbers). The fixtures built on ``PLANS_T0`` (``fts``, ``auth``,
``advance``) are in ``conftest.py``."""

from __future__ import annotations

import calendar
import datetime as dt
import uuid
from typing import Any

from gosstand.mocks.core.access import organisations_claim
from gosstand.mocks.core.keys import SigningKeys
from gosstand.mocks.core.settings import TEST_STAND_ISSUER
from gosstand.mocks.esia.oauth.token_signing import sign
from gosstand.mocks.esia.oauth.tokens import access_token_claims
from starlette.testclient import TestClient

DECLARATIONS = "/api/v1/declarations"
#: 2026-05-20 09:00:00 UTC, a whole minute: quota windows start here.
T0 = calendar.timegm(dt.datetime(2026, 5, 20, 9, 0, 0).timetuple())
#: 2026-06-01 08:00:00 UTC: the filing day of the life-cycle tests.
PLANS_T0 = calendar.timegm(dt.datetime(2026, 6, 1, 8, 0, 0).timetuple())

ORGANISATION = {"inn": "7707083893", "kpp": "773601001", "ogrn": "1027700132195", "name": "ПАО «Сбербанк»"}
PROPRIETOR = {"inn": "500500123491", "ogrn": "304500116000157", "name": "ИП Петров Иван Сергеевич"}


def acting_for(*parties: Any) -> list[dict[str, Any]]:
    """The organisations claim of a token whose person works for each of ``parties`` (a
    declarant or an operator: ``{"inn", "kpp"?}``), as ESIA writes it."""
    return organisations_claim((1000000 + index, party["inn"], [party["kpp"]] if party.get("kpp") else [])
                               for index, party in enumerate(parties))


#: The test broker's person works for both test declarants (and the head office's KPP a UTKO
#: object's operator uses).
BROKER_ORGANISATIONS = organisations_claim([(1000001, ORGANISATION["inn"], [ORGANISATION["kpp"], "7736AB001"]),
                                            (1000002, PROPRIETOR["inn"], [])])


def declaration(declarant: dict[str, str] = ORGANISATION, **changes: Any) -> dict[str, Any]:
    """An import declaration (ИМ 40) of one goods item that passes every rule, by ``declarant``,
    with top-level ``changes``. The same body on every call, as a client's retry sends it."""
    body: dict[str, Any] = {
        "senderReference": "BRK-0001",
        "declarant": dict(declarant),
        "procedure": {"direction": "ИМ", "code": "40"},
        "customsOffice": "10005020",
        "goods": [{
            "tnved": "8471300000", "description": "Ноутбуки", "quantity": 10, "unit": "шт",
            "customsValue": "125000.00", "currency": "CNY", "originCountry": "CN", "deliveryTerms": "FCA",
        }],
    }
    body.update(changes)
    return body


def token(keys: SigningKeys, *, scopes: tuple[str, ...] = ("openid", "usr_org"), now: float = T0,
          issuer: str = TEST_STAND_ISSUER, oid: int = 1000328686,
          organisations: list[dict[str, Any]] | None = BROKER_ORGANISATIONS) -> str:
    """An access token of a customs broker's person, signed with ESIA's key: what FTS accepts
    (``usr_org`` is needed to file), acting for ``organisations`` (both test declarants)."""
    claims = access_token_claims(oid=oid, client_id="BROKER", scopes=scopes, issuer=issuer, now=now,
                                 session_id="sid", organisations=organisations)
    return sign(claims, kind="access", key=keys.private_key)


def post(client: TestClient, auth: dict[str, str], body: Any, key: str = "key-1") -> Any:
    """``POST`` ``body`` as a declaration under the ``Idempotency-Key`` ``key``."""
    return client.post(DECLARATIONS, json=body, headers={**auth, "Idempotency-Key": key})


def submit(fts: TestClient, auth: dict[str, str], scenario: str | None = None) -> str:
    """File a declaration following the life-cycle plan ``scenario`` (the default plan if
    ``None``) under a fresh key; its id."""
    body = declaration() if scenario is None else declaration(scenario=scenario)
    response = post(fts, auth, body, key=str(uuid.uuid4()))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def withdraw(fts: TestClient, auth: dict[str, str], declaration_id: str, key: str | None = None) -> Any:
    """The declarant withdraws ``declaration_id`` (a fresh key unless ``key``); the answer."""
    return fts.post(f"{DECLARATIONS}/{declaration_id}/withdrawal",
                    headers={**auth, "Idempotency-Key": key or str(uuid.uuid4())})


def advance(client: TestClient, control_headers: dict[str, str], seconds: float) -> None:
    """Move the stand's clock ``seconds`` forward through the control API."""
    client.post("/_gosstand/control/clock", json={"advance": seconds}, headers=control_headers).raise_for_status()
