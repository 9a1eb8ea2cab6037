"""A replica's kept copy of a shared value (:class:`gosstand.mocks.core.refreshed.Refreshed`): the
requests that find it stale together share one read of the store, and a value the replica set
itself is never overwritten by a read that began before it. The store is a fake whose reads wait
until the test lets them finish, and the clock is the test's: nothing sleeps."""

from __future__ import annotations

import asyncio

import pytest
from gosstand.mocks.core.refreshed import Refreshed


class Store:
    """A value read by awaiting a gate the test opens: each read waits until it is let through."""

    def __init__(self, value: str) -> None:
        self.value = value
        self.reads = 0
        self.gate = asyncio.Event()
        self.fails: Exception | None = None

    async def read(self) -> str:
        self.reads += 1
        seen = self.value  # what the store held when the read was sent
        await self.gate.wait()
        if self.fails is not None:
            raise self.fails
        return seen


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def settle() -> None:
    """Let every task that can run do so (each caller, then the read it started, reach their waits)."""
    for _ in range(5):
        await asyncio.sleep(0)


def kept_copy(value: str) -> tuple[Store, Clock, Refreshed[str]]:
    """A store holding ``value``, the test's clock, and a replica's copy of the value kept 20 ms."""
    store, clock = Store(value), Clock()
    return store, clock, Refreshed(store.read, seconds=0.02, monotonic=clock)


def run(test):  # one event loop per test, as a replica's
    return asyncio.run(test())


def test_requests_that_find_the_value_stale_together_share_one_read():
    async def test():
        store, clock, kept = kept_copy("off")
        waiting = [asyncio.ensure_future(kept.get()) for _ in range(50)]  # a cold replica's first burst
        await settle()
        store.gate.set()
        assert await asyncio.gather(*waiting) == ["off"] * 50
        assert store.reads == 1
        assert await kept.get() == "off" and store.reads == 1  # kept for its 20 ms
        clock.now += 0.025
        store.value = "on"
        assert await kept.get() == "on" and store.reads == 2  # aged: read again, once
    run(test)


def test_a_value_the_replica_set_during_a_read_wins_over_that_read():
    async def test():
        store, clock, kept = kept_copy("old")
        reading = asyncio.ensure_future(kept.get())
        await settle()
        kept.remember("new")  # this replica wrote it while the read was on its way
        store.gate.set()
        assert await reading == "old"  # what the store held when that caller asked
        assert await kept.get() == "new" and store.reads == 1
    run(test)


def test_after_forget_the_next_caller_does_not_join_a_read_begun_before_the_change():
    async def test():
        store, clock, kept = kept_copy("rules v1")
        early = asyncio.ensure_future(kept.get())
        await settle()
        store.value = "rules v2"
        kept.forget()  # this replica changed the rules
        late = asyncio.ensure_future(kept.get())
        await settle()
        store.gate.set()
        assert (await early, await late) == ("rules v1", "rules v2")
        assert store.reads == 2
        assert await kept.get() == "rules v2" and store.reads == 2
    run(test)


def test_a_caller_that_goes_away_does_not_end_the_read_the_others_wait_for():
    async def test():
        store, clock, kept = kept_copy("off")
        gone, staying = asyncio.ensure_future(kept.get()), asyncio.ensure_future(kept.get())
        await settle()
        gone.cancel()  # its client disconnected
        store.gate.set()
        assert await staying == "off"
        with pytest.raises(asyncio.CancelledError):
            await gone
        assert store.reads == 1
    run(test)


def test_a_failed_read_fails_every_caller_that_shared_it_and_the_next_one_reads_again():
    async def test():
        store, clock, kept = kept_copy("off")
        store.fails = ConnectionError("the store went away")
        waiting = [asyncio.ensure_future(kept.get()) for _ in range(3)]
        await settle()
        store.gate.set()
        outcomes = await asyncio.gather(*waiting, return_exceptions=True)
        assert all(isinstance(outcome, ConnectionError) for outcome in outcomes)
        store.fails = None
        assert await kept.get() == "off" and store.reads == 2
    run(test)
