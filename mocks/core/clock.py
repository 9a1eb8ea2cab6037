"""The mock's clock: wall time plus an offset that every replica reads from the shared store.

OTP and code expiry, lockout windows, token lifetimes and declaration status transitions all
ask this clock, never ``time.time()``, so a test moves time forward through the control API
(``POST /_gosstand/control/clock``) instead of sleeping, and every replica agrees on the result.

A replica keeps what it last read for a moment (:mod:`.refreshed`), and the control API
answers a clock change only after that long, so once a test has its answer every replica sees
the new time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from .refreshed import CACHE_SECONDS, Refreshed
from .store import Store

CLOCK_KEY = "clock"


class Clock:
    def __init__(
        self,
        store: Store,
        *,
        wall: Callable[[], float] = time.time,
        cache_seconds: float = CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._wall = wall
        self.cache_seconds = cache_seconds
        self._cached = Refreshed(self._read, seconds=cache_seconds, monotonic=monotonic)

    async def _read(self) -> dict[str, float]:
        raw = await self._store.get(CLOCK_KEY)
        return json.loads(raw) if raw else {}

    async def _state(self) -> dict[str, float]:
        return await self._cached.get()

    async def _write(self, state: dict[str, float]) -> None:
        await self._store.set(CLOCK_KEY, json.dumps(state))
        self._cached.remember(state)

    async def now(self) -> float:
        """Seconds since the epoch as the mock sees them."""
        state = await self._state()
        if "frozen_at" in state:
            return state["frozen_at"]
        return self._wall() + state.get("offset", 0.0)

    async def advance(self, seconds: float) -> float:
        """Move time forward (or back) by ``seconds`` for every replica; returns the new now."""
        state = dict(await self._state())
        if "frozen_at" in state:
            state["frozen_at"] += seconds
        else:
            state["offset"] = state.get("offset", 0.0) + seconds
        await self._write(state)
        return await self.now()

    async def freeze(self, at: float | None = None) -> float:
        """Stop time at ``at`` (default: now) until :meth:`resume`; tests that compare exact
        timestamps use this."""
        moment = await self.now() if at is None else at
        await self._write({"frozen_at": moment})
        return moment

    async def resume(self) -> float:
        """Let a frozen clock run again from where it stood."""
        state = await self._state()
        if "frozen_at" in state:
            await self._write({"offset": state["frozen_at"] - self._wall()})
        return await self.now()

    async def reset(self) -> None:
        await self._store.delete(CLOCK_KEY)
        self._cached.remember({})

    async def describe(self) -> dict[str, float | bool]:
        state = await self._state()
        return {"now": await self.now(), "offset": state.get("offset", 0.0), "frozen": "frozen_at" in state}
