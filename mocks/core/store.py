"""The state every replica of a service shares.

Codes, tokens, sessions, lockout counters and declarations live here, never in a replica's
memory, so a request may land on any replica and killing one loses nothing it acknowledged.

The interface is deliberately Redis-shaped (strings, counters, sorted indexes, lists) so that
one implementation is a real Redis server and another is a SQLite file that needs no install
(:mod:`.store_sqlite`). Values are ``str``; callers serialise JSON themselves.

An operation that must change several keys together (a record, its indexes and the claim that
makes it the only one) hands them to :meth:`Store.commit` as one :class:`Writes`: all of them
land or none do, and only while the keys it names in ``expect`` still hold what the caller read.
A replica killed in the middle of such an operation therefore leaves either the state before it
or the state after it, never a half-written one that a later request would have to recognise
and repair (which is what each domain module had to do when every write stood alone).

TTLs given here are garbage collection only, measured on the wall clock. Anything a test must
be able to expire (a code's 240 s, a lockout window) is checked against :class:`.clock.Clock`
by the domain code, so moving the mock's clock works without touching the store.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol, Self

__all__ = ["Append", "DeleteKey", "IndexAdd", "IndexRemove", "SetKey", "Store", "Write", "Writes"]


class SetKey(NamedTuple):
    key: str
    value: str
    ttl: float | None = None


class DeleteKey(NamedTuple):
    key: str


class IndexAdd(NamedTuple):
    #: The index's key (a NamedTuple field may not be called ``index``: that is tuple's method).
    key: str
    member: str
    score: float


class IndexRemove(NamedTuple):
    #: The index's key.
    key: str
    member: str


class Append(NamedTuple):
    key: str
    value: str


Write = SetKey | DeleteKey | IndexAdd | IndexRemove | Append


@dataclass(slots=True)
class Writes:
    """Writes meant to land together, in order, through :meth:`Store.commit`.

    Built up by the domain code (``Writes().set(record_key, text).index_add(index, id, score)``)
    so that an operation names everything it changes before anything is changed."""

    operations: list[Write] = field(default_factory=list)

    def set(self, key: str, value: str, *, ttl: float | None = None) -> Self:
        self.operations.append(SetKey(key, value, ttl))
        return self

    def delete(self, *keys: str) -> Self:
        self.operations.extend(DeleteKey(key) for key in keys)
        return self

    def index_add(self, index: str, member: str, score: float) -> Self:
        self.operations.append(IndexAdd(index, member, score))
        return self

    def index_remove(self, index: str, member: str) -> Self:
        self.operations.append(IndexRemove(index, member))
        return self

    def append(self, key: str, value: str) -> Self:
        self.operations.append(Append(key, value))
        return self

    def extend(self, other: Iterable[Write]) -> Self:
        """Add ``other``'s writes after these: one operation's writes landing with another's."""
        self.operations.extend(other)
        return self

    def __iter__(self) -> Iterator[Write]:
        return iter(self.operations)

    def __len__(self) -> int:
        return len(self.operations)

    def keys(self) -> list[str]:
        """Every key and index these writes touch, in order (what a crash point matches)."""
        return [operation.key for operation in self.operations]


class Store(Protocol):
    async def get(self, key: str) -> str | None:
        """The value of ``key``, or ``None`` when absent or expired."""

    def known_absent(self, key: str) -> None:
        """Note that ``key`` holds nothing: a name just drawn at random, which no one can have
        written yet. A store that remembers its reads answers the next read of it without a
        lookup (a login's record is read on its first page, before anything is written); a
        write to it, by this replica or any other, is seen as any write is."""

    async def get_many(self, keys: list[str]) -> list[str | None]:
        """Values of several keys in one round trip, in the order asked."""

    async def set(self, key: str, value: str, *, ttl: float | None = None, only_if_absent: bool = False) -> bool:
        """Store ``value``; with ``only_if_absent`` nothing changes when the key exists.

        Returns whether the value was written: ``only_if_absent`` makes this the primitive for
        idempotency keys and single winners across replicas.
        """

    async def set_many(self, values: Mapping[str, str]) -> None:
        """Store many values at once (Redis MSET): no TTL, overwriting what exists.

        For bulk loading (seeding a stand with a million declarations): one transaction in
        SQLite, one pipelined round trip per batch in Redis. Not for single-winner writes.
        """

    async def commit(self, writes: Writes, *, expect: Mapping[str, str | None] | None = None) -> bool:
        """Apply every write of ``writes``, in order, as one atomic change — or none of them.

        ``expect`` maps keys to the value each must hold for the change to happen (``None``:
        absent or expired); when one differs nothing is written and the answer is ``False``.
        This is compare-and-set over several keys: "claim this idempotency key and store its
        record and indexes", "replace the object I read, unless someone changed it meanwhile".
        A process killed during the call leaves the store as it was before or after it.
        """

    async def delete(self, *keys: str) -> int:
        """Remove keys; returns how many existed."""

    async def take(self, key: str) -> str | None:
        """Get and delete atomically: the second caller gets ``None`` (single-use codes)."""

    async def incr(self, key: str, amount: int = 1, *, ttl: float | None = None) -> int:
        """Add to an integer counter (absent counts as 0) and return the new value."""

    async def index_add(self, index: str, member: str, score: float) -> None:
        """Put ``member`` into a sorted index (Redis ZADD); re-adding moves it."""

    async def index_add_many(self, entries: Iterable[tuple[str, str, float]]) -> None:
        """Put many ``(index, member, score)`` entries into their sorted indexes at once, as
        :meth:`index_add` would one by one (bulk loading; batched like :meth:`set_many`)."""

    async def index_remove(self, index: str, member: str) -> None:
        """Take ``member`` out of a sorted index."""

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
        """Members ordered by score, then member, ascending unless ``reverse``."""

    async def index_count(self, index: str, *, min_score: float = -math.inf, max_score: float = math.inf) -> int:
        """How many members have a score within the bounds."""

    async def append(self, key: str, value: str) -> int:
        """Append to a list (Redis RPUSH); returns the new length."""

    async def items(self, key: str, start: int = 0, stop: int = -1) -> list[str]:
        """A slice of a list, ``stop`` inclusive as in Redis LRANGE."""

    async def flush(self, prefix: str = "") -> None:
        """Remove every key starting with ``prefix`` (all keys when empty)."""

    async def ping(self) -> bool:
        """Whether the store answers; the readiness check."""

    async def close(self) -> None:
        """Release connections."""
