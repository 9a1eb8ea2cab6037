"""Crash points: end a replica right after a chosen write to the shared store.

An operation that writes the store more than once can be interrupted between its writes by a
killed process, and whatever it left must still serve the next request (another replica's, or
this one's after a restart). Killing a replica from outside cannot aim between two writes a few
microseconds apart, so the replica is told where to die: ``GOSSTAND_CRASH_AFTER_WRITE="N:GLOB"``
makes it exit at once (``os._exit``: no clean-up, no answer, exactly as SIGKILL would leave it)
after the Nth store write that touches a key or index matching the shell-style ``GLOB`` —
``1:utko:object:*`` dies right after the first write of a UTKO object, ``0:utko:object:*`` right
before it (everything the request computed first, nothing of it written). Reads never count; a
write counts once whatever it touches (a :meth:`~.store.Store.commit` counts as one, since it
lands whole).

Tests inside one process use the same wrapper with ``crash`` raising :class:`ReplicaCrashed`
instead, so every write of an operation can be tried as the last one in turn.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import NoReturn, TypeVar

from .store import Store, Writes

__all__ = ["CRASH_EXIT_STATUS", "CrashPoint", "CrashingStore", "ReplicaCrashed", "exit_now"]

T = TypeVar("T")

#: The exit status of a replica that reached its crash point (as a SIGKILL'd process would not
#: choose one, any distinct value serves; 137 is what a shell reports for SIGKILL).
CRASH_EXIT_STATUS = 137


class ReplicaCrashed(BaseException):
    """Raised in place of the process exit by in-process tests. A ``BaseException`` so that no
    handler that catches ``Exception`` (the 500 page) answers for a replica that is dead."""


@dataclass(frozen=True, slots=True)
class CrashPoint:
    """After which write to die: the ``after``-th one touching a key that matches ``keys``
    (``0``: instead of the first one)."""

    after: int
    keys: str = "*"

    @classmethod
    def parse(cls, spec: str) -> CrashPoint:
        """``"N:GLOB"`` (or just ``"N"`` for any key), as ``GOSSTAND_CRASH_AFTER_WRITE`` spells it."""
        count, _, keys = spec.partition(":")
        if not count.strip().isdigit():
            raise ValueError(f"a crash point is 'N:GLOB' with N >= 0, not {spec!r}")
        return cls(after=int(count), keys=keys or "*")

    def matches(self, touched: Iterable[str]) -> bool:
        return any(fnmatchcase(key, self.keys) for key in touched)


def exit_now(point: CrashPoint, touched: list[str]) -> NoReturn:
    """End the process as a kill would, after one line in the log saying why."""
    print(f"gosstand: crash point {point.after}:{point.keys} reached after writing {touched[:4]}; exiting",
          file=sys.stderr, flush=True)
    os._exit(CRASH_EXIT_STATUS)


def raise_crash(point: CrashPoint, touched: list[str]) -> NoReturn:
    raise ReplicaCrashed(f"crash point {point.after}:{point.keys} after writing {touched[:4]}")


class CrashingStore:
    """A :class:`~.store.Store` that crashes (``crash``) right after its crash point's write.

    ``writes`` counts the matching writes made so far, so a test can tell whether an operation
    reached the point at all."""

    def __init__(self, inner: Store, point: CrashPoint,
                 crash: Callable[[CrashPoint, list[str]], NoReturn] = exit_now) -> None:
        self._inner = inner
        self._point = point
        self._crash = crash
        self.writes = 0

    async def _write(self, touched: list[str], write: Callable[[], Awaitable[T]]) -> T:
        """Run ``write``, crashing instead of it or right after it when it is the point."""
        matches = self._point.matches(touched)
        if matches and self._point.after == 0:
            self._crash(self._point, touched)
        result = await write()
        if matches:
            self.writes += 1
            if self.writes == self._point.after:
                self._crash(self._point, touched)
        return result

    # -- writes ---------------------------------------------------------------------------
    async def set(self, key: str, value: str, *, ttl: float | None = None, only_if_absent: bool = False) -> bool:
        return await self._write([key], lambda: self._inner.set(key, value, ttl=ttl, only_if_absent=only_if_absent))

    async def set_many(self, values: Mapping[str, str]) -> None:
        await self._write(list(values), lambda: self._inner.set_many(values))

    async def commit(self, writes: Writes, *, expect: Mapping[str, str | None] | None = None) -> bool:
        return await self._write(writes.keys(), lambda: self._inner.commit(writes, expect=expect))

    async def delete(self, *keys: str) -> int:
        return await self._write(list(keys), lambda: self._inner.delete(*keys))

    async def take(self, key: str) -> str | None:
        return await self._write([key], lambda: self._inner.take(key))

    async def incr(self, key: str, amount: int = 1, *, ttl: float | None = None) -> int:
        return await self._write([key], lambda: self._inner.incr(key, amount, ttl=ttl))

    async def index_add(self, index: str, member: str, score: float) -> None:
        await self._write([index], lambda: self._inner.index_add(index, member, score))

    async def index_add_many(self, entries: Iterable[tuple[str, str, float]]) -> None:
        rows = list(entries)
        await self._write([index for index, _, _ in rows], lambda: self._inner.index_add_many(rows))

    async def index_remove(self, index: str, member: str) -> None:
        await self._write([index], lambda: self._inner.index_remove(index, member))

    async def append(self, key: str, value: str) -> int:
        return await self._write([key], lambda: self._inner.append(key, value))

    async def flush(self, prefix: str = "") -> None:
        await self._write([prefix + "*"], lambda: self._inner.flush(prefix))

    # -- reads ----------------------------------------------------------------------------
    async def get(self, key: str) -> str | None:
        return await self._inner.get(key)

    async def get_many(self, keys: list[str]) -> list[str | None]:
        return await self._inner.get_many(keys)

    def known_absent(self, key: str) -> None:
        self._inner.known_absent(key)

    async def index_range(self, index: str, *, min_score: float = -math.inf, max_score: float = math.inf,
                          offset: int = 0, limit: int | None = None, reverse: bool = False) -> list[str]:
        return await self._inner.index_range(index, min_score=min_score, max_score=max_score, offset=offset,
                                             limit=limit, reverse=reverse)

    async def index_count(self, index: str, *, min_score: float = -math.inf, max_score: float = math.inf) -> int:
        return await self._inner.index_count(index, min_score=min_score, max_score=max_score)

    async def items(self, key: str, start: int = 0, stop: int = -1) -> list[str]:
        return await self._inner.items(key, start, stop)

    async def ping(self) -> bool:
        return await self._inner.ping()

    async def close(self) -> None:
        await self._inner.close()
