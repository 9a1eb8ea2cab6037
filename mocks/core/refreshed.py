"""A value every replica reads from the shared store, kept for a moment between reads.

The clock's state, the fault rules and the journal's switch are consulted on every request, and
reading the store each time would cost the cheap endpoints a fifth of their rate. So a replica
keeps what it read for :data:`CACHE_SECONDS`, and the control API answers a change only after that
long: once a test has its answer, every replica sees the change.
"""

from __future__ import annotations

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

    async def get(self) -> T:
        """The value, read again when what this replica holds is :attr:`seconds` old."""
        value = self._value
        if value is None or self._monotonic() - self._read_at >= self.seconds:
            value = await self._read()
            self.remember(value)
        return value

    def remember(self, value: T) -> None:
        """Hold ``value`` as just read (after this replica wrote it)."""
        self._value, self._read_at = value, self._monotonic()

    def forget(self) -> None:
        """Read the store on the next :meth:`get` (after a change this replica made)."""
        self._read_at = -math.inf
