"""UTKO requests by date: derived from the date (same on every replica and run), revealed by the clock."""

from __future__ import annotations

import calendar
import datetime as dt
import time
from collections.abc import Callable

import pytest
from gosstand.mocks.core.identifiers import is_valid_inn, is_valid_kpp
from gosstand.mocks.core.keys import SigningKeys
from gosstand.mocks.core.settings import TEST_STAND_ISSUER
from gosstand.mocks.esia.oauth.token_signing import sign
from gosstand.mocks.esia.oauth.tokens import access_token_claims
from starlette.testclient import TestClient

NEXT_DAY = calendar.timegm(dt.datetime(2026, 5, 21, 0, 0, 0).timetuple())


def bearer(keys: SigningKeys, now: float) -> dict[str, str]:
    claims = access_token_claims(oid=2, client_id="REGOP", scopes=["openid"], issuer=TEST_STAND_ISSUER, now=now,
                                 session_id="s")
    return {"Authorization": f"Bearer {sign(claims, kind='access', key=keys.private_key)}"}


@pytest.fixture
def at(service_client: Callable[..., TestClient], control_headers: dict[str, str],
       esia_signing_keys: SigningKeys) -> Callable[[float], Callable[[str], dict]]:
    """``at(moment)("2026-05-20")`` → the requests of that date as a fresh replica sees them at ``moment``."""

    def replica_at(moment: float) -> Callable[[str], dict]:
        client = service_client("utko")
        client.post("/_gosstand/control/clock", json={"freeze": moment}, headers=control_headers).raise_for_status()
        headers = bearer(esia_signing_keys, moment)

        def read(date: str) -> dict:
            response = client.get("/v1/requests", params={"date": date}, headers=headers)
            assert response.status_code == 200, response.text
            return response.json()

        return read

    return replica_at


def test_a_past_date_has_the_same_settled_requests_everywhere(at):
    first = at(NEXT_DAY + 10 * 86_400)("2026-05-20")
    second = at(NEXT_DAY + 20 * 86_400)("2026-05-20")
    assert first == second
    assert first["date"] == "2026-05-20"
    items = first["items"]
    assert 3 <= len(items) <= 8
    assert [r["filedAt"] for r in items] == sorted(r["filedAt"] for r in items)
    assert all(r["filedAt"].startswith("2026-05-20T") for r in items)
    assert len({r["id"] for r in items}) == len(items)
    for request in items:
        assert request["status"] in ("completed", "rejected")
        assert [step["status"] for step in request["statusHistory"]] == ["registered", "in_progress", request["status"]]
        assert is_valid_inn(request["applicant"]["inn"], kind="legal") and is_valid_kpp(request["applicant"]["kpp"])
    assert at(NEXT_DAY)("2026-05-19") != first  # another date, other requests


def test_the_clock_reveals_requests_and_their_steps(at):
    settled = at(NEXT_DAY + 10 * 86_400)("2026-05-20")["items"]
    last_filed = dt.datetime.fromisoformat(settled[-1]["filedAt"]).timestamp()
    just_before = at(last_filed - 1)("2026-05-20")["items"]
    assert [r["id"] for r in just_before] == [r["id"] for r in settled[:-1]]
    just_filed = at(last_filed)("2026-05-20")["items"]
    assert just_filed[-1]["id"] == settled[-1]["id"]
    assert just_filed[-1]["status"] == "registered" and len(just_filed[-1]["statusHistory"]) == 1
    assert at(NEXT_DAY - 86_400 - 1)("2026-05-20")["items"] == []  # the day has not begun


@pytest.mark.parametrize("params", [{}, {"date": "2026-02-30"}, {"date": "20.05.2026"}, {"date": ""}])
def test_a_date_is_required(service_client, esia_signing_keys, params):
    client = service_client("utko")
    response = client.get("/v1/requests", params=params, headers=bearer(esia_signing_keys, time.time()))
    assert response.status_code == 400 and response.json()["errors"][0]["parameter"] == "date"
    assert client.get("/v1/requests", params={"date": "2026-05-20"}).status_code == 401


def test_filter_by_current_status(service_client, control_headers, esia_signing_keys):
    client = service_client("utko")
    moment = NEXT_DAY + 10 * 86_400
    client.post("/_gosstand/control/clock", json={"freeze": moment}, headers=control_headers).raise_for_status()
    headers = bearer(esia_signing_keys, moment)
    every = client.get("/v1/requests", params={"date": "2026-05-20"}, headers=headers).json()["items"]
    by_status = {}
    for status in ("registered", "in_progress", "completed", "rejected"):
        response = client.get("/v1/requests", params={"date": "2026-05-20", "status": status}, headers=headers)
        assert response.status_code == 200
        by_status[status] = response.json()["items"]
        assert all(item["status"] == status for item in by_status[status])
    assert sorted(r["id"] for group in by_status.values() for r in group) == sorted(r["id"] for r in every)
    bad = client.get("/v1/requests", params={"date": "2026-05-20", "status": "done"}, headers=headers)
    assert bad.status_code == 400 and bad.json()["errors"][0]["parameter"] == "status"
