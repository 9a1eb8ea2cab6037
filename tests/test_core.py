"""The shared core: store semantics every replica relies on, the clock, the control API."""

from __future__ import annotations

import asyncio

import pytest

from gosstand.mocks.core.clock import Clock
from gosstand.mocks.core.store import open_store


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def store(tmp_path):
    return open_store(f"sqlite:///{tmp_path / 's.sqlite3'}")


def test_take_is_single_use_across_connections(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    one, two = open_store(url), open_store(url)
    run(one.set("code:1", "value"))
    assert run(two.take("code:1")) == "value"
    assert run(one.take("code:1")) is None


def test_only_if_absent_has_one_winner(store):
    assert run(store.set("idem:k", "first", only_if_absent=True)) is True
    assert run(store.set("idem:k", "second", only_if_absent=True)) is False
    assert run(store.get("idem:k")) == "first"


def test_expired_key_counts_as_absent(store):
    run(store.set("k", "old", ttl=-1))
    assert run(store.get("k")) is None
    assert run(store.set("k", "new", only_if_absent=True)) is True


def test_counter_and_index(store):
    assert [run(store.incr("c")) for _ in range(3)] == [1, 2, 3]
    for member, score in (("b", 2), ("a", 1), ("c", 3)):
        run(store.index_add("idx", member, score))
    assert run(store.index_range("idx")) == ["a", "b", "c"]
    assert run(store.index_range("idx", reverse=True, limit=2)) == ["c", "b"]
    assert run(store.index_range("idx", min_score=2)) == ["b", "c"]
    assert run(store.index_count("idx", max_score=2)) == 2


def test_lists_and_flush(store):
    for value in ("x", "y", "z"):
        run(store.append("outbox", value))
    assert run(store.items("outbox")) == ["x", "y", "z"]
    assert run(store.items("outbox", 1, 1)) == ["y"]
    run(store.set("keep", "1"))
    run(store.flush("out"))
    assert run(store.items("outbox")) == []
    assert run(store.get("keep")) == "1"


def test_clock_moves_for_every_reader(tmp_path):
    url = f"sqlite:///{tmp_path / 'clock.sqlite3'}"
    wall = [1000.0]
    one, two = Clock(open_store(url), wall=lambda: wall[0]), Clock(open_store(url), wall=lambda: wall[0])
    run(one.advance(300))
    assert run(two.now()) == 1300.0
    run(two.freeze())
    wall[0] = 5000.0
    assert run(one.now()) == 1300.0
    run(one.resume())
    assert run(two.now()) == 1300.0


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
