"""One store contract, two implementations: every test runs against SQLite and Redis.

Replicas rely on these semantics for correctness across processes (single-use codes, one
winner of an idempotency key, shared counters), so both stores must behave identically.
The Redis leg starts Debian's ``redis-server`` on a free loopback port and is skipped, with
the reason, when that binary is absent (the fixtures ``connect`` and ``store_url``: conftest.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from gosstand.mocks.core.clock import Clock
from gosstand.mocks.core.store import Store, Writes
from gosstand.mocks.core.store_redis import WaitingPool
from gosstand.mocks.core.store_url import open_store
from gosstand.stand.ports import free_port
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def store(connect: Callable[[], Store]) -> Store:
    return connect()


async def test_take_is_single_use_across_connections(connect):
    one, two = connect(), connect()
    await one.set("code:1", "value")
    assert await two.take("code:1") == "value"
    assert await one.take("code:1") is None


async def test_only_if_absent_has_one_winner(store):
    assert await store.set("idem:k", "first", only_if_absent=True) is True
    assert await store.set("idem:k", "second", only_if_absent=True) is False
    assert await store.get("idem:k") == "first"


async def test_concurrent_takers_get_the_value_once(connect):
    await connect().set("code:race", "v")
    takers = [connect() for _ in range(8)]
    results = await asyncio.gather(*(taker.take("code:race") for taker in takers))
    assert results.count("v") == 1 and results.count(None) == 7


async def test_a_burst_of_reads_on_a_fresh_connection_is_served_not_refused(connect):
    """A replica's first moments under load: hundreds of requests read the store at once while
    it has no connection open yet. Each waits its turn; none is refused. (redis-py's default
    pool refused the 101st concurrent command with MaxConnectionsError: a fresh container
    stack's first seconds answered ESIA's ``ac`` and login steps with 500s.)"""
    await connect().set("journal:recording", "1")
    replica = connect()
    results = await asyncio.gather(*(replica.get("journal:recording") for _ in range(300)))
    assert results == ["1"] * 300


async def test_expired_key_counts_as_absent(store):
    await store.set("k", "old", ttl=-1)
    assert await store.get("k") is None
    assert await store.set("k", "new", only_if_absent=True) is True
    assert await store.get("k") == "new"


async def test_ttl_keeps_a_key_until_it_runs_out(store):
    await store.set("session", "s", ttl=60)
    assert await store.get("session") == "s"
    assert await store.set("session", "other", ttl=60, only_if_absent=True) is False


async def test_get_many_keeps_the_order_asked(store):
    await store.set("a", "1")
    await store.set("c", "3")
    assert await store.get_many(["c", "b", "a"]) == ["3", None, "1"]
    assert await store.get_many([]) == []


async def test_delete_counts_what_existed(store):
    await store.set("x", "1")
    await store.set("y", "2")
    assert await store.delete("x", "y", "z") == 2
    assert await store.get("x") is None


async def test_counter_and_index(store):
    assert [await store.incr("c") for _ in range(3)] == [1, 2, 3]
    assert await store.incr("c", 5, ttl=60) == 8
    for member, score in (("b", 2), ("a", 1), ("c", 3)):
        await store.index_add("idx", member, score)
    assert await store.index_range("idx") == ["a", "b", "c"]
    assert await store.index_range("idx", reverse=True, limit=2) == ["c", "b"]
    assert await store.index_range("idx", min_score=2) == ["b", "c"]
    assert await store.index_range("idx", offset=1, limit=1) == ["b"]
    assert await store.index_count("idx", max_score=2) == 2
    await store.index_remove("idx", "b")
    assert await store.index_range("idx") == ["a", "c"]


async def test_equal_scores_order_by_member(store):
    for member in ("m2", "m3", "m1"):
        await store.index_add("same", member, 7)
    assert await store.index_range("same") == ["m1", "m2", "m3"]
    assert await store.index_range("same", reverse=True) == ["m3", "m2", "m1"]


async def test_counter_is_shared_between_connections(connect):
    one, two = connect(), connect()
    await asyncio.gather(*(store.incr("lockout:user") for store in (one, two) for _ in range(5)))
    assert await one.incr("lockout:user", 0) == 10


async def test_lists_and_flush(store):
    for value in ("x", "y", "z"):
        await store.append("outbox", value)
    assert await store.items("outbox") == ["x", "y", "z"]
    assert await store.items("outbox", 1, 1) == ["y"]
    assert await store.items("outbox", -2) == ["y", "z"] and await store.items("outbox", -5) == ["x", "y", "z"]
    assert await store.items("outbox", -1, 1) == [] and await store.items("outbox", -2, -2) == ["y"]
    await store.set("keep", "1")
    await store.index_add("out-index", "m", 1)
    await store.flush("out")
    assert await store.items("outbox") == []
    assert await store.index_count("out-index") == 0
    assert await store.get("keep") == "1"


async def test_flush_treats_pattern_characters_literally(store):
    await store.set("a*b:1", "literal")
    await store.set("axb:1", "other")
    await store.set("a_b:1", "underscore")
    await store.flush("a*")
    await store.flush("a_")
    assert await store.get("a*b:1") is None
    assert await store.get("a_b:1") is None
    assert await store.get("axb:1") == "other"


async def test_flush_everything(store):
    await store.set("one", "1")
    await store.append("two", "2")
    await store.flush()
    assert await store.get("one") is None and await store.items("two") == []
    assert await store.ping() is True


async def test_clock_moves_for_every_reader(connect):
    wall = [1000.0]
    one = Clock(connect(), wall=lambda: wall[0], cache_seconds=0)
    two = Clock(connect(), wall=lambda: wall[0], cache_seconds=0)
    await one.advance(300)
    assert await two.now() == 1300.0
    await two.freeze()
    wall[0] = 5000.0
    assert await one.now() == 1300.0
    await one.resume()
    assert await two.now() == 1300.0


async def test_ping_is_false_when_redis_is_gone():
    port = free_port()
    store = open_store(f"redis://127.0.0.1:{port}/0")
    try:
        assert await store.ping() is False
    finally:
        await store.close()


async def test_the_size_of_an_index_follows_every_change(connect):
    """``index_count`` over the whole index is answered from a kept size (as Redis' ZCARD):
    it must match the members through adds, re-adds, removals, bulk adds and flushes, seen
    from another connection (another replica)."""
    writer, reader = connect(), connect()
    assert await reader.index_count("objects") == 0
    for n in range(5):
        await writer.index_add("objects", f"m{n}", float(n))
    await writer.index_add("objects", "m1", 10.0)  # re-adding moves, does not count twice
    await writer.index_remove("objects", "m3")
    await writer.index_remove("objects", "absent")
    await writer.index_add_many([("objects", "m7", 7.0), ("objects", "m0", 0.5), ("others", "x", 1.0)])
    assert await reader.index_count("objects") == len(await reader.index_range("objects")) == 5
    assert await reader.index_count("objects", min_score=1.0) == 4  # m1, m2, m4, m7
    await writer.flush("obj")
    assert await reader.index_count("objects") == 0 and await reader.index_count("others") == 1


async def test_a_store_written_before_sizes_were_kept_is_counted_when_opened(tmp_path):
    import sqlite3

    from gosstand.mocks.core.store_sqlite import SQLiteStore

    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)
    old.executescript("CREATE TABLE zset (name TEXT NOT NULL, member TEXT NOT NULL, score REAL NOT NULL, "
                      "PRIMARY KEY (name, member)) WITHOUT ROWID;"
                      "INSERT INTO zset VALUES ('a', 'x', 1), ('a', 'y', 2), ('b', 'z', 3);")
    old.commit()
    old.close()
    store = SQLiteStore(str(path))
    assert (await store.index_count("a"), await store.index_count("b")) == (2, 1)
    await store.index_add("a", "w", 4)
    assert await SQLiteStore(str(path)).index_count("a") == 3  # a second opening counts nothing again


async def test_commit_applies_every_write_or_none(connect):
    """A multi-key change is all-or-nothing and seen whole by another connection (replica)."""
    writer, reader = connect(), connect()
    await writer.set("record:old", "gone soon")
    await writer.index_add("records", "old", 1.0)
    await writer.append("comments", "first")
    writes = (Writes().set("record:new", "новая запись").set("claim:k", "new").delete("record:old")
              .index_add("records", "new", 1_732_262_400_123_456.0).index_remove("records", "old")
              .append("comments", "второй"))
    assert await writer.commit(writes, expect={"claim:k": None}) is True
    assert await reader.get_many(["record:new", "claim:k", "record:old"]) == ["новая запись", "new", None]
    assert await reader.items("comments") == ["first", "второй"]
    assert await reader.index_range("records", min_score=1_732_262_400_123_456.0,
                                    max_score=1_732_262_400_123_456.0) == ["new"]
    assert await reader.index_count("records") == 1


async def test_commit_writes_nothing_when_an_expectation_fails(connect):
    writer, reader = connect(), connect()
    await writer.set("object:1", "v1")
    stale = Writes().set("object:1", "v2 from a stale read").index_add("objects", "1", 1.0).append("log", "x")
    assert await writer.commit(stale, expect={"object:1": "v0"}) is False
    assert await writer.commit(stale, expect={"object:2": "anything"}) is False  # absent ≠ a value
    assert await writer.commit(Writes().set("object:1", "dup"), expect={"object:1": None}) is False
    assert await reader.get("object:1") == "v1" and await reader.index_count("objects") == 0
    assert await reader.items("log") == []
    assert await writer.commit(Writes().set("object:1", "v2"), expect={"object:1": "v1"}) is True
    assert await reader.get("object:1") == "v2"


async def test_commit_treats_an_expired_key_as_absent_and_keeps_ttls(store):
    await store.set("claim:old", "x", ttl=-1)
    assert await store.commit(Writes().set("claim:old", "mine", ttl=60), expect={"claim:old": None}) is True
    assert await store.get("claim:old") == "mine"
    assert await store.commit(Writes().set("claim:old", "again", ttl=60), expect={"claim:old": None}) is False
    await store.commit(Writes().set("claim:old", "expired at once", ttl=0))
    assert await store.get("claim:old") is None


async def test_a_stale_expectation_on_a_later_write_undoes_the_writes_before_it(connect):
    """The expectation may be checked where its key is written (SQLite: in that one statement),
    after other writes of the commit: those are undone with it, and a fresh expectation lands."""
    writer, reader = connect(), connect()
    await writer.set("object:1", "v1")
    for stale in ({"object:1": "v0"}, {"object:1": None}):
        writes = (Writes().set("claim:other", "x").index_add("objects", "1", 1.0).append("log", "x")
                  .set("object:1", "v2"))
        assert await writer.commit(writes, expect=stale) is False
        assert await writer.commit(Writes().set("claim:other", "x").delete("object:1"), expect=stale) is False
    assert await reader.get_many(["object:1", "claim:other"]) == ["v1", None]
    assert await reader.index_count("objects") == 0 and await reader.items("log") == []
    assert await writer.commit(Writes().set("claim:other", "y").delete("object:1"), expect={"object:1": "v1"})
    assert await reader.get_many(["object:1", "claim:other"]) == [None, "y"]


async def test_a_single_write_with_its_expectation_is_compare_and_set(connect):
    """A commit of one write expecting its own key: one winner, an expired key counts as absent,
    and a counter's value is expected as its text."""
    first, second = connect(), connect()
    assert await first.commit(Writes().set("claim:1", "first"), expect={"claim:1": None}) is True
    assert await second.commit(Writes().set("claim:1", "second"), expect={"claim:1": None}) is False
    assert await second.commit(Writes().set("claim:1", "second"), expect={"claim:1": "first"}) is True
    assert await first.commit(Writes().delete("claim:1"), expect={"claim:1": "first"}) is False
    assert await first.commit(Writes().delete("claim:1"), expect={"claim:1": "second"}) is True
    assert await second.get("claim:1") is None
    await first.set("claim:2", "old", ttl=-1)
    assert await second.commit(Writes().set("claim:2", "new"), expect={"claim:2": "old"}) is False
    assert await second.commit(Writes().delete("claim:2"), expect={"claim:2": "old"}) is False
    await first.incr("counter:1", 3)
    assert await second.commit(Writes().set("counter:1", "reset"), expect={"counter:1": "3"}) is True
    assert await first.get("counter:1") == "reset"


async def test_concurrent_commits_on_one_expectation_have_one_winner(connect):
    """Compare-and-set across replicas: eight racing from the same version, exactly one wins."""
    await connect().set("object:race", "v1")
    racers = [connect() for _ in range(8)]
    results = await asyncio.gather(*(
        racer.commit(Writes().set("object:race", f"v2 by {n}").index_add("winners", str(n), 1.0),
                     expect={"object:race": "v1"})
        for n, racer in enumerate(racers)))
    assert results.count(True) == 1
    winner = results.index(True)
    assert await racers[0].get("object:race") == f"v2 by {winner}"
    assert await racers[0].index_range("winners") == [str(winner)]


async def test_a_redis_commit_that_cannot_apply_a_write_applies_none(redis_server):
    """Redis keeps the writes a script made before one of its commands failed, so the commit
    must refuse before writing anything (SQLite keeps strings and indexes apart: no such case)."""
    store = open_store(f"{redis_server}/3")
    try:
        await store.flush()
        await store.set("taken", "a string")
        with pytest.raises(RedisError):
            await store.commit(Writes().set("record", "new").index_add("taken", "member", 1.0))
        assert await store.get("record") is None and await store.get("taken") == "a string"
    finally:
        await store.close()


async def test_a_redis_command_finding_every_connection_busy_takes_the_first_given_back(redis_server):
    """The replicas' pool (:class:`WaitingPool`) with room for one connection: while it is held,
    a command waits rather than failing, and runs as soon as the connection comes back."""
    pool = WaitingPool.from_url(f"{redis_server}/4", decode_responses=True, max_connections=1, wait_seconds=60)
    client = Redis.from_pool(pool)
    try:
        await client.set("k", "v")
        held = await pool.get_connection()
        waiting = asyncio.ensure_future(client.get("k"))
        for _ in range(5):  # let it run up to its wait (no time passes: the loop only turns)
            await asyncio.sleep(0)
        assert not waiting.done()
        await pool.release(held)
        assert await waiting == "v"
    finally:
        await client.aclose()


async def test_a_redis_command_gives_up_once_the_wait_is_over(redis_server):
    """A connection that never comes back: after ``wait_seconds`` (none here) the command fails
    with a ConnectionError, which the health check reports as a degraded store."""
    pool = WaitingPool.from_url(f"{redis_server}/5", max_connections=1, wait_seconds=0)
    client = Redis.from_pool(pool)
    try:
        await client.flushdb()
        held = await pool.get_connection()
        with pytest.raises(RedisConnectionError, match="all 1 connections to Redis stayed busy for 0 s"):
            await client.get("k")
        await pool.release(held)
        assert await client.get("k") is None  # and the pool serves again once one is back
    finally:
        await client.aclose()
