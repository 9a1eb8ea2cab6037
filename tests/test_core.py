"""The shared core: the control API guard and problem+json errors.

Store and clock semantics are tested against every store implementation in
``tests/test_store_contract.py``."""

from __future__ import annotations

import asyncio
import hmac

from gosstand.mocks.core import middleware
from gosstand.mocks.core.clock import Clock
from gosstand.mocks.core.store_url import open_store


def run(coro):
    return asyncio.run(coro)


def test_control_api_requires_the_token(service_client, control_headers):
    client = service_client("utko")
    denied = client.post("/_gosstand/control/clock", json={"advance": 10})
    assert denied.status_code == 401
    assert denied.headers["content-type"] == "application/problem+json"
    moved = client.post("/_gosstand/control/clock", json={"advance": 10}, headers=control_headers)
    assert moved.status_code == 200 and moved.json()["offset"] == 10


def test_the_control_token_is_compared_in_constant_time(service_client, control_headers, monkeypatch):
    # Timing cannot be asserted here; what can is that every token given, right or wrong, a
    # prefix of the right one or longer, goes through hmac.compare_digest and nothing else decides.
    compared: list[tuple[bytes, bytes]] = []
    constant_time = hmac.compare_digest

    def compare_digest(given: bytes, expected: bytes) -> bool:
        compared.append((given, expected))
        return constant_time(given, expected)

    monkeypatch.setattr(middleware.hmac, "compare_digest", compare_digest)
    client = service_client("utko")
    right = control_headers["Authorization"]
    for given, status in ((right[:-1], 401), (right + "x", 401), (b"Bearer \xff", 401), (right, 200)):
        answer = client.get("/_gosstand/control/clock", headers={"Authorization": given})
        assert answer.status_code == status, given
    assert len(compared) == 4  # the non-ASCII token too, as whatever bytes the client sent
    assert (compared[0][0], compared[1][0], compared[3][0]) == (right[:-1].encode(), right.encode() + b"x",
                                                               right.encode())
    assert {expected for _, expected in compared} == {right.encode()}


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
