"""The shared store on a Redis server: what replicas in containers (and at scale) use.

Every :class:`~.store.Store` operation is one Redis command, one ``MULTI`` transaction or one
Lua script, so each is atomic across replicas exactly as the SQLite store's transactions are:
``take`` is ``GETDEL``, ``set(only_if_absent=True)`` is ``SET NX PX``, ``incr`` is ``INCRBY``
(+ ``PEXPIRE``), indexes are sorted sets and lists are lists. ``commit`` is a Lua script
(:data:`_COMMIT`): Redis runs a script to its end before any other command, so checking the
expected values and applying the writes cannot interleave with another replica, and needs no
``WATCH``/retry loop as ``MULTI`` would for a compare-and-set. Redis does not undo a script's
writes when a later command in it fails, so the script first checks everything that could fail
(an index or list write to a key holding another kind of value) and only then writes. ``flush`` walks keys with ``SCAN``
and removes them with ``UNLINK`` so a large flush never blocks the server.

The services of one stack share one Redis server and keep apart by database number
(``redis://host:port/0`` for ESIA, ``/1`` UTKO, ``/2`` FTS), just as the embedded stack gives
each service its own SQLite file.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections import deque
from collections.abc import Iterable, Mapping
from itertools import islice
from typing import Any, cast

from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import MaxConnectionsError, RedisError

from .store import Append, DeleteKey, IndexAdd, IndexRemove, SetKey, Writes

__all__ = ["RedisStore", "WaitingPool"]

_SCAN_BATCH = 1000
#: Commands per pipelined round trip of the bulk writes.
_PIPELINE_BATCH = 5000
_GLOB_SPECIALS = re.compile(r"([\\*?\[\]])")
#: Connections one replica keeps to Redis at most (redis-py's own default). A command that finds
#: them all busy waits for one, up to :data:`CONNECTION_WAIT_SECONDS` (as a SQLite replica waits
#: up to 10 s for the database's lock), then fails with a ``ConnectionError`` (:class:`WaitingPool`).
MAX_CONNECTIONS = 100
CONNECTION_WAIT_SECONDS = 10.0
#: ``KEYS``: every key the commit reads or writes. ``ARGV[1]``: JSON ``{"expect": [[key number,
#: value or false]], "writes": [[op, key number, ...]]}``. Numbers that must survive exactly
#: (scores in µs, TTLs) travel as strings: Lua's own numbers print with 14 digits.
_COMMIT = """
local plan = cjson.decode(ARGV[1])
for _, wanted in ipairs(plan.expect) do
  local held = redis.call('GET', KEYS[wanted[1]])
  if held ~= wanted[2] then return 0 end
end
local kinds = {zadd = 'zset', zrem = 'zset', rpush = 'list'}
for _, op in ipairs(plan.writes) do
  local wanted = kinds[op[1]]
  if wanted then
    local kind = redis.call('TYPE', KEYS[op[2]]).ok
    if kind ~= 'none' and kind ~= wanted then
      return redis.error_reply('WRONGTYPE ' .. KEYS[op[2]] .. ' is no ' .. wanted .. ': nothing written')
    end
  end
end
for _, op in ipairs(plan.writes) do
  local key = KEYS[op[2]]
  if op[1] == 'set' then
    if op[4] then redis.call('SET', key, op[3], 'PX', op[4]) else redis.call('SET', key, op[3]) end
  elseif op[1] == 'del' then
    redis.call('DEL', key)
  elseif op[1] == 'zadd' then
    redis.call('ZADD', key, op[3], op[4])
  elseif op[1] == 'zrem' then
    redis.call('ZREM', key, op[3])
  elseif op[1] == 'rpush' then
    redis.call('RPUSH', key, op[3])
  end
end
return 1
"""


def _score(value: float) -> float | str:
    """Redis spells the unbounded ends of a score range ``-inf`` and ``+inf``."""
    if value == math.inf:
        return "+inf"
    if value == -math.inf:
        return "-inf"
    return value


def _score_text(value: float) -> str:
    """A score as ``ZADD`` reads it, every digit kept (µs timestamps have sixteen)."""
    bounded = _score(value)
    return bounded if isinstance(bounded, str) else repr(float(bounded))


def _milliseconds(ttl: float) -> int:
    return max(1, math.ceil(ttl * 1000))


class WaitingPool(ConnectionPool):
    """redis-py's default connection pool, except that a command finding every one of its
    ``max_connections`` busy waits for one to be given back, up to ``wait_seconds``, instead of
    failing at once with ``MaxConnectionsError``.

    A replica under a burst is that case: every request reads the store (the hot front reads the
    journal switch and the fault rules first), and while the pool is cold each opens a connection
    of its own, slowly on a starved machine — a fresh stack's first seconds, or the one replica
    left when the other is killed. On a container stack on 2 cores the default pool refused the
    101st: ESIA's ``ac`` and FTS's declarations were answered 500 (``MaxConnectionsError`` in the
    replicas' logs).

    redis-py's ``BlockingConnectionPool`` waits too, but every command pays for it (a condition,
    a lock and a timer): 13.8 µs of CPU per connection taken and given back, against 6.3 for the
    default pool and 6.9 for this one (medians of 9 alternated rounds of 20,000 on a warm pool).
    Here a command that finds a connection takes the default pool's path; only one that finds
    none waits, for the next :meth:`release`."""

    def __init__(self, *, wait_seconds: float, **options: Any) -> None:
        super().__init__(**options)
        self.wait_seconds = wait_seconds
        self._waiting: deque[asyncio.Future[None]] = deque()

    async def get_connection(self, *args: Any, **options: Any) -> AbstractConnection:
        deadline: float | None = None
        while True:  # each turn waits for a release or ends: bounded by the deadline
            try:
                return cast(AbstractConnection, await super().get_connection(*args, **options))
            except MaxConnectionsError:
                loop = asyncio.get_running_loop()
                deadline = loop.time() + self.wait_seconds if deadline is None else deadline
                if loop.time() >= deadline:
                    raise RedisConnectionError(f"all {self.max_connections} connections to Redis stayed busy for "
                                               f"{self.wait_seconds:g} s") from None
                turn: asyncio.Future[None] = loop.create_future()
                self._waiting.append(turn)
                try:
                    await asyncio.wait_for(turn, deadline - loop.time())
                except TimeoutError:
                    pass  # the next turn finds the deadline passed, unless a connection came free
                finally:
                    if turn in self._waiting:
                        self._waiting.remove(turn)

    async def release(self, connection: AbstractConnection) -> None:
        await super().release(connection)
        while self._waiting:  # the first command still waiting takes its turn
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                break


class RedisStore:
    # redis-py types every reply as ``bytes | str`` whatever decode_responses says; this client
    # decodes (decode_responses=True), so the replies are str and the casts below only say so.

    def __init__(self, url: str) -> None:
        # Connections are made on first use, inside the event loop that serves requests; a command
        # that finds them all busy waits for one (WaitingPool).
        pool = WaitingPool.from_url(url, decode_responses=True, health_check_interval=30,
                                    max_connections=MAX_CONNECTIONS, wait_seconds=CONNECTION_WAIT_SECONDS)
        self._redis: Redis = Redis.from_pool(pool)
        self._commit = self._redis.register_script(_COMMIT)

    async def get(self, key: str) -> str | None:
        return cast(str | None, await self._redis.get(key))

    def known_absent(self, key: str) -> None:
        """Nothing to note: Redis remembers no reads (every read is one round trip)."""

    async def get_many(self, keys: list[str]) -> list[str | None]:
        if not keys:
            return []
        return cast(list[str | None], await self._redis.mget(keys))

    async def set(self, key: str, value: str, *, ttl: float | None = None, only_if_absent: bool = False) -> bool:
        if ttl is not None and ttl <= 0:
            # Written and expired in the same instant: it never becomes visible, but it
            # replaces (removes) a live value unless only_if_absent protects it.
            if only_if_absent:
                return not await self._redis.exists(key)
            await self._redis.delete(key)
            return True
        written = await self._redis.set(
            key, value, px=None if ttl is None else _milliseconds(ttl), nx=only_if_absent
        )
        return bool(written)

    async def set_many(self, values: Mapping[str, str]) -> None:
        pairs = iter(values.items())
        while batch := dict(islice(pairs, _PIPELINE_BATCH)):
            await self._redis.mset(batch)

    async def index_add_many(self, entries: Iterable[tuple[str, str, float]]) -> None:
        rows = iter(entries)
        while batch := list(islice(rows, _PIPELINE_BATCH)):
            async with self._redis.pipeline(transaction=False) as pipe:
                for index, member, score in batch:
                    pipe.zadd(index, {member: score})
                await pipe.execute()

    async def commit(self, writes: Writes, *, expect: Mapping[str, str | None] | None = None) -> bool:
        keys: dict[str, int] = {}

        def number(key: str) -> int:
            return keys.setdefault(key, len(keys) + 1)

        wanted = [[number(key), False if value is None else value] for key, value in (expect or {}).items()]
        plan: list[list[object]] = []
        for operation in writes:
            match operation:
                case SetKey(key, value, ttl) if ttl is not None and ttl <= 0:
                    plan.append(["del", number(key)])  # written and expired at once: never visible
                case SetKey(key, value, ttl):
                    plan.append(["set", number(key), value, False if ttl is None else str(_milliseconds(ttl))])
                case DeleteKey(key):
                    plan.append(["del", number(key)])
                case IndexAdd(index, member, score):
                    plan.append(["zadd", number(index), _score_text(score), member])
                case IndexRemove(index, member):
                    plan.append(["zrem", number(index), member])
                case Append(key, value):
                    plan.append(["rpush", number(key), value])
        arguments = json.dumps({"expect": wanted, "writes": plan}, ensure_ascii=False)
        return bool(await self._commit(keys=list(keys), args=[arguments]))

    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        return int(await self._redis.delete(*keys))

    async def take(self, key: str) -> str | None:
        return cast(str | None, await self._redis.getdel(key))

    async def incr(self, key: str, amount: int = 1, *, ttl: float | None = None) -> int:
        if ttl is None:
            return int(await self._redis.incrby(key, amount))
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incrby(key, amount)
            pipe.pexpire(key, _milliseconds(ttl) if ttl > 0 else 1)
            value, _ = await pipe.execute()
        return int(value)

    async def index_add(self, index: str, member: str, score: float) -> None:
        await self._redis.zadd(index, {member: score})

    async def index_remove(self, index: str, member: str) -> None:
        await self._redis.zrem(index, member)

    async def index_range(
        self,
        index: str,
        *,
        min_score: float = -math.inf,
        max_score: float = math.inf,
        offset: int = 0,
        limit: int | None = None,
        reverse: bool = False,
    ) -> list[str]:
        count = -1 if limit is None else limit
        if count == 0:
            return []
        low, high = _score(min_score), _score(max_score)
        if reverse:
            return cast(list[str], await self._redis.zrevrangebyscore(index, high, low, start=offset, num=count))
        return cast(list[str], await self._redis.zrangebyscore(index, low, high, start=offset, num=count))

    async def index_count(self, index: str, *, min_score: float = -math.inf, max_score: float = math.inf) -> int:
        return int(await self._redis.zcount(index, _score(min_score), _score(max_score)))

    async def append(self, key: str, value: str) -> int:
        return int(await self._redis.rpush(key, value))

    async def items(self, key: str, start: int = 0, stop: int = -1) -> list[str]:
        return cast(list[str], await self._redis.lrange(key, start, stop))

    async def flush(self, prefix: str = "") -> None:
        if not prefix:
            await self._redis.flushdb(asynchronous=True)
            return
        pattern = _GLOB_SPECIALS.sub(r"\\\1", prefix) + "*"
        batch: list[str] = []
        async for key in self._redis.scan_iter(match=pattern, count=_SCAN_BATCH):
            batch.append(key)
            if len(batch) >= _SCAN_BATCH:
                await self._redis.unlink(*batch)
                batch.clear()
        if batch:
            await self._redis.unlink(*batch)

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        await self._redis.aclose()
