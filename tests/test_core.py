"""The shared core: the control API guard and problem+json errors.

Store and clock semantics are tested against every store implementation in
``tests/test_store_contract.py``."""

from __future__ import annotations


def test_control_api_requires_the_token(service_client, control_headers):
    client = service_client("utko")
    denied = client.post("/_gosstand/control/clock", json={"advance": 10})
    assert denied.status_code == 401
    assert denied.headers["content-type"] == "application/problem+json"
    moved = client.post("/_gosstand/control/clock", json={"advance": 10}, headers=control_headers)
    assert moved.status_code == 200 and moved.json()["offset"] == 10


def test_errors_are_problem_json_and_name_the_replica(service_client):
    client = service_client("fts")
    missing = client.get("/no/such/path")
    assert missing.status_code == 404
    assert missing.json()["status"] == 404
    assert missing.headers["x-gosstand-replica"] == "fts-1"
    wrong_method = client.delete("/_gosstand/health")
    assert wrong_method.status_code == 405
    assert "GET" in wrong_method.headers["allow"]
