"""A value every replica reads from the shared store, kept for a moment between reads.

The clock's state, the fault rules and the journal's switch are consulted on every request, and
reading the store each time would cost the cheap endpoints a fifth of their rate. So a replica
keeps what it read for :data:`CACHE_SECONDS`, and the control API answers a change only after that
long: once a test has its answer, every replica sees the change.

One read at a time: the requests that find the value stale together (a cold replica's first burst,
or the moment it ages, under load) wait for the one read the first of them started, instead of
each reading the store — on Redis, where a read really waits, a burst of N requests asked it 3N
times, and a cold stack's bursts filled its connection pool. A value this replica wrote
(:meth:`Refreshed.remember`, :meth:`Refreshed.forget`) always wins over a read that began before it.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

__all__ = ["CACHE_SECONDS", "Refreshed"]

#: How long a replica trusts a value it read; also how long a change takes to reach every
#: replica (the control API waits this long before answering).
CACHE_SECONDS = 0.02

T = TypeVar("T")


class Refreshed(Generic[T]):
    def __init__(self, read: Callable[[], Awaitable[T]], *, seconds: float = CACHE_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._read = read
        self.seconds = seconds
        self._monotonic = monotonic
        self._value: T | None = None
        self._read_at = -math.inf
        #: The read under way, which callers finding the value stale share.
        self._reading: asyncio.Future[T] | None = None
        #: Moved on by each value this replica sets: a read begun before it is not remembered.
        self._generation = 0

    async def get(self) -> T:
        """The value, read again when what this replica holds is :attr:`seconds` old."""
        value = self._value
        if value is not None and self._monotonic() - self._read_at < self.seconds:
            return value
        reading = self._reading
        if reading is None or reading.get_loop() is not asyncio.get_running_loop():
            reading = self._reading = asyncio.ensure_future(self._read_once(self._generation))
        # shielded: a caller that is cancelled (its client went away) does not end the others' read
        return await asyncio.shield(reading)

    async def _read_once(self, generation: int) -> T:
        try:
            value = await self._read()
        finally:
            if self._generation == generation:
                self._reading = None
        if self._generation == generation:
            self._value, self._read_at = value, self._monotonic()
        return value

    def remember(self, value: T) -> None:
        """Hold ``value`` as just read (after this replica wrote it)."""
        self._generation += 1
        self._reading = None
        self._value, self._read_at = value, self._monotonic()

    def forget(self) -> None:
        """Read the store on the next :meth:`get` (after a change this replica made)."""
        self._generation += 1
        self._reading = None
        self._read_at = -math.inf
