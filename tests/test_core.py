"""The shared core: the control API guard and problem+json errors.

Store and clock semantics are tested against every store implementation in
``tests/test_store_contract.py``."""

from __future__ import annotations

import asyncio

from gosstand.mocks.core.clock import Clock
from gosstand.mocks.core.store import open_store


def run(coro):
    return asyncio.run(coro)


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


def test_clock_reading_is_cached_only_briefly(tmp_path):
    url = f"sqlite:///{tmp_path / 'clock.sqlite3'}"
    ticks = [0.0]
    reader = Clock(open_store(url), wall=lambda: 1000.0, cache_seconds=0.02, monotonic=lambda: ticks[0])
    writer = Clock(open_store(url), wall=lambda: 1000.0)
    assert run(reader.now()) == 1000.0
    run(writer.advance(60))
    assert run(reader.now()) == 1000.0  # within the cache period another replica's change is unseen
    ticks[0] = 0.021
    assert run(reader.now()) == 1060.0
