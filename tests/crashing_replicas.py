"""A second in-process replica of a mock that dies right after its Nth write to the shared store.

The crash-safety tests run one request on such a replica for N = 0, 1, 2, … — before its first
write (everything computed, nothing written), every point between the operation's writes, and
after its last — until a run finishes without reaching its crash point. After each crash the
healthy replica (the usual ``service_client``, on the same SQLite file) must find the state
usable. The crash is :class:`ReplicaCrashed` raised in place of the process exit (the write
before it has landed, nothing after it runs), so the dying request gets no answer, as with a
killed process.

Not a conftest: only the crash-safety tests import it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from gosstand.mocks.core.app import create_app
from gosstand.mocks.core.crash_points import CrashingStore, CrashPoint, ReplicaCrashed, raise_crash
from gosstand.mocks.core.settings import Settings
from gosstand.mocks.core.store_url import open_store

__all__ = ["CrashingReplica", "crash_points"]

#: No operation of the mocks writes the store this often in one request; a run that never
#: finishes within it is a failure, not a reason to go on.
MOST_WRITES = 40


class CrashingReplica:
    """One replica, its own store connection, crashing at ``point``."""

    def __init__(self, settings: Settings, point: CrashPoint) -> None:
        self.store = CrashingStore(open_store(settings.store_url), point, crash=raise_crash)
        self.app = create_app(settings, store=self.store)
        self.crashed = False

    def send(self, method: str, url: str, **options: Any) -> httpx.Response | None:
        """The answer, or ``None`` when the replica died handling the request."""

        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                return await client.request(method, url, **options)

        try:
            return asyncio.run(call())
        except ReplicaCrashed:
            self.crashed = True
            return None

    def close(self) -> None:
        asyncio.run(self.store.close())


def crash_points(settings: Settings, *, keys: str = "*") -> Iterator[CrashingReplica]:
    """Replicas crashing before their first write touching ``keys``, then after their 1st, 2nd,
    …, each used for one request; stops after the first that did not crash (its request ran to
    the end)."""
    for after in range(MOST_WRITES + 1):
        replica = CrashingReplica(settings, CrashPoint(after, keys))
        try:
            yield replica
        finally:
            replica.close()
        if not replica.crashed:
            return
    raise AssertionError(f"the operation was still writing after {MOST_WRITES} writes")


def second_replica(make_settings: Callable[..., Settings], service: str) -> Settings:
    """Settings of another replica of ``service`` on the same store as ``service_client``'s."""
    return make_settings(service, replica=f"{service}-2")
