"""UTKO's operational rules from the seed: registered addresses only, an audit log, sessions that expire."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from gosstand.mocks.core.keys import SigningKeys
from starlette.testclient import TestClient
from utko_inputs import OBJECT, T0, bearer


@pytest.fixture
def replica(service_client: Callable[..., TestClient], control_headers: dict[str, str]) -> Callable[..., TestClient]:
    """``replica("10.1.2.3")`` → a UTKO replica seen from that client address (one shared store)."""

    def make(address: str = "127.0.0.1") -> TestClient:
        client = service_client("utko")
        client.post("/_gosstand/control/clock", json={"freeze": T0}, headers=control_headers).raise_for_status()
        return TestClient(client.app, client=(address, 50000), raise_server_exceptions=False)

    return make


@pytest.fixture
def auth(esia_signing_keys: SigningKeys) -> dict[str, str]:
    return bearer(esia_signing_keys)


def test_only_registered_addresses_may_call(replica, auth, control_headers):
    inside, outside = replica("10.1.2.3"), replica("192.0.2.7")
    assert outside.get("/v1/objects", headers=auth).status_code == 200  # no allowlist: open
    url = "/_gosstand/control/allowlist/REGOP"
    assert inside.get(url, headers=control_headers).status_code == 404
    saved = inside.put(url, json={"addresses": ["10.1.0.0/16", "::1"]}, headers=control_headers)
    assert saved.json() == {"clientId": "REGOP", "addresses": ["10.1.0.0/16", "::1/128"]}
    assert inside.get("/v1/objects", headers=auth).status_code == 200
    refused = outside.get("/v1/objects", headers=auth)
    assert refused.status_code == 403 and "192.0.2.7" in refused.json()["detail"]
    assert outside.get("/v1/objects").status_code == 401  # the token is judged first
    bad = inside.put(url, json={"addresses": ["10.1.0.0/16", "nowhere"]}, headers=control_headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/addresses/1"
    assert inside.delete(url, headers=control_headers).status_code == 204
    assert outside.get("/v1/objects", headers=auth).status_code == 200


def test_audit_log_records_requests_and_answers(replica, auth, control_headers):
    client = replica("10.9.9.9")
    client.post("/v1/objects", json=OBJECT, headers=auth)
    client.get("/v1/objects/not-an-id", headers=auth)
    client.get("/v1/requests")
    log = client.get("/_gosstand/control/audit", headers=control_headers).json()
    assert log["recorded"] == 3
    created, missing, anonymous = log["items"]
    assert (created["method"], created["path"], created["status"]) == ("POST", "/v1/objects", 201)
    assert created["clientId"] == "REGOP" and created["clientAddress"] == "10.9.9.9" and created["at"] == T0
    assert "Мусоросортировочный" in created["requestBody"] and '"id"' in created["responseBody"]
    assert "Bearer" not in created["requestBody"]
    assert missing["status"] == 404 and '"status": 404' in missing["responseBody"]
    assert anonymous["status"] == 401 and anonymous["clientId"] is None
    only_objects = client.get("/_gosstand/control/audit", params={"path": "/v1/objects", "limit": 1},
                              headers=control_headers).json()["items"]
    assert [entry["status"] for entry in only_objects] == [404]
    assert client.get("/_gosstand/control/audit", params={"clientId": "OTHER"},
                      headers=control_headers).json()["items"] == []
    for limit in ("0", "²"):  # "²" passes str.isdigit, and int() refused it with a 500
        answer = client.get("/_gosstand/control/audit", params={"limit": limit}, headers=control_headers)
        assert answer.status_code == 400
    assert client.get("/_gosstand/control/audit").status_code == 401


def test_sessions_end_after_thirty_idle_minutes(replica, esia_signing_keys, control_headers):
    client = replica()
    # Tokens live an hour: 5 + 31 minutes leave this one valid, so only the session can end it.
    headers = bearer(esia_signing_keys)
    assert client.get("/v1/objects", headers=headers).status_code == 200
    client.post("/_gosstand/control/clock", json={"advance": 5 * 60}, headers=control_headers)
    assert client.get("/v1/objects", headers=headers).status_code == 200  # used: the idle time restarts
    client.post("/_gosstand/control/clock", json={"advance": 31 * 60}, headers=control_headers)
    ended = client.get("/v1/objects", headers=headers)
    assert ended.status_code == 401 and "session" in ended.headers["www-authenticate"]
    client.post("/_gosstand/control/clock", json={"advance": -31 * 60}, headers=control_headers)
    assert client.get("/v1/objects", headers=headers).status_code == 401  # an ended session stays ended
    fresh = bearer(esia_signing_keys, now=T0 + 5 * 60)
    assert client.get("/v1/objects", headers=fresh).status_code == 200
