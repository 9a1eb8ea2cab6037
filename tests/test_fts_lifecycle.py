"""The declaration life cycle on the stand's clock: submitted → registered (number) → released."""

from __future__ import annotations

import calendar
import datetime as dt
import re
import uuid
from collections.abc import Callable

import pytest
from fts_requests import BROKER_ORGANISATIONS
from gosstand.mocks.core.identifiers import is_valid_dt_number
from gosstand.mocks.core.keys import SigningKeys
from gosstand.mocks.core.settings import TEST_STAND_ISSUER
from gosstand.mocks.esia.oauth.token_signing import sign
from gosstand.mocks.esia.oauth.tokens import access_token_claims
from starlette.testclient import TestClient

BASE = "/api/v1/declarations"
#: Five seconds before midnight UTC on New Year's Eve, so the year turns during a test.
T0 = calendar.timegm(dt.datetime(2026, 12, 31, 23, 59, 50).timetuple())
DECLARANT = {"inn": "7707083893", "kpp": "773601001", "ogrn": "1027700132195", "name": "ПАО «Сбербанк»"}


def declaration(office: str = "10005020") -> dict:
    return {
        "senderReference": "LC-1", "declarant": DECLARANT, "procedure": {"direction": "ЭК", "code": "10"},
        "customsOffice": office,
        "goods": [{"tnved": "2709009000", "description": "Нефть сырая", "quantity": 1000.5, "unit": "т",
                   "customsValue": "52000000.00", "currency": "USD", "originCountry": "RU",
                   "deliveryTerms": "FOB"}],
    }


@pytest.fixture
def fts(service_client: Callable[..., TestClient], control_headers: dict[str, str]) -> TestClient:
    client = service_client("fts")
    client.post("/_gosstand/control/clock", json={"freeze": T0}, headers=control_headers).raise_for_status()
    return client


def bearer(keys: SigningKeys, now: float) -> dict[str, str]:
    claims = access_token_claims(oid=1, client_id="BROKER", scopes=["openid", "usr_org"], issuer=TEST_STAND_ISSUER,
                                 now=now, session_id="sid", organisations=BROKER_ORGANISATIONS)
    return {"Authorization": f"Bearer {sign(claims, kind='access', key=keys.private_key)}"}


@pytest.fixture
def auth(esia_signing_keys: SigningKeys) -> dict[str, str]:
    return bearer(esia_signing_keys, T0)


@pytest.fixture
def advance(fts: TestClient, control_headers: dict[str, str]) -> Callable[[float], None]:
    def move(seconds: float) -> None:
        fts.post("/_gosstand/control/clock", json={"advance": seconds}, headers=control_headers).raise_for_status()

    return move


def submit(fts: TestClient, auth: dict[str, str], office: str = "10005020") -> str:
    response = fts.post(BASE, json=declaration(office), headers={**auth, "Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def status(fts: TestClient, auth: dict[str, str], declaration_id: str) -> dict:
    response = fts.get(f"{BASE}/{declaration_id}/status", headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


def test_submitted_then_registered_after_5_s_then_released_after_30_s(fts, auth, advance):
    declaration_id = submit(fts, auth)
    advance(4.9)
    assert status(fts, auth, declaration_id) == {
        "id": declaration_id, "status": "submitted", "registrationNumber": None, "decisionCode": None,
        "updatedAt": "2026-12-31T23:59:50.000Z"}
    advance(0.1)
    registered = status(fts, auth, declaration_id)
    assert registered["status"] == "registered" and registered["decisionCode"] is None
    assert registered["registrationNumber"] == "10005020/311226/0000001"
    assert registered["updatedAt"] == "2026-12-31T23:59:55.000Z"
    advance(25)
    released = status(fts, auth, declaration_id)
    assert (released["status"], released["decisionCode"]) == ("released", "10")
    assert released["registrationNumber"] == registered["registrationNumber"]  # never changes
    card = fts.get(f"{BASE}/{declaration_id}", headers=auth).json()
    assert [(entry["status"], entry["at"]) for entry in card["statusHistory"]] == [
        ("submitted", "2026-12-31T23:59:50.000Z"),
        ("registered", "2026-12-31T23:59:55.000Z"),
        ("released", "2027-01-01T00:00:20.000Z"),
    ]
    number = registered["registrationNumber"]
    assert card["statusHistory"][1]["comment"] == f"ДТ зарегистрирована. Регистрационный номер ДТ {number}"
    assert card["statusHistory"][2]["comment"] == "Выпуск товаров разрешен"


def test_the_number_is_issued_at_registration_time_even_when_read_much_later(fts, auth, advance,
                                                                             esia_signing_keys):
    """Read first a day after: the date part is still the registration date, not the reading date."""
    declaration_id = submit(fts, auth)
    advance(86_400)
    auth = bearer(esia_signing_keys, T0 + 86_400)  # the first token has expired meanwhile
    number = status(fts, auth, declaration_id)["registrationNumber"]
    assert number.split("/")[1] == "311226"
    assert is_valid_dt_number(number, today=dt.date(2027, 1, 2))
    assert fts.get(f"{BASE}/{declaration_id}", headers=auth).json()["registrationNumber"] == number


def test_sequence_counts_per_office_and_restarts_with_the_year(fts, auth, advance):
    first = [submit(fts, auth), submit(fts, auth), submit(fts, auth, office="10702070")]
    advance(5)  # registered 23:59:55 on 31 December
    numbers = [status(fts, auth, i)["registrationNumber"] for i in first]
    assert numbers == ["10005020/311226/0000001", "10005020/311226/0000002", "10702070/311226/0000001"]
    advance(10)  # now 00:00:05 on 1 January 2027
    later = submit(fts, auth)
    advance(5)
    assert status(fts, auth, later)["registrationNumber"] == "10005020/010127/0000001"
    assert all(re.fullmatch(r"10\d{6}/\d{6}/\d{7}", n) for n in numbers)


def test_unknown_ids_are_404_problems(fts, auth):
    for path in (f"{BASE}/{uuid.uuid4()}", f"{BASE}/{uuid.uuid4()}/status", f"{BASE}/not-a-uuid"):
        response = fts.get(path, headers=auth)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
