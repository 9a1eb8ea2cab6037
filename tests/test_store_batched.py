"""The bulk writes of the store (``set_many``, ``index_add_many``) on SQLite and Redis alike.

A seeded stand is only useful if what the bulk loader wrote reads back exactly as single
writes would have left it, on whichever store the services run.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from gosstand.mocks.core.store import Store

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def shared(connect: Callable[[], Store]) -> Store:
    return connect()


async def test_set_many_writes_every_value_and_overwrites(shared: Store) -> None:
    await shared.set("a", "old", ttl=60)
    await shared.set_many({"a": "1", "b": "2", **{f"k{n}": str(n) for n in range(12_000)}})
    assert await shared.get_many(["a", "b", "k0", "k11999", "missing"]) == ["1", "2", "0", "11999", None]


async def test_set_many_of_nothing_is_harmless(shared: Store) -> None:
    await shared.set_many({})
    await shared.index_add_many([])
    assert await shared.get("a") is None


async def test_index_add_many_orders_like_single_adds(shared: Store) -> None:
    entries = [(f"ix{n % 3}", f"m{n:05d}", float(n // 2)) for n in range(11_000)]
    await shared.index_add_many(iter(entries))
    for name in ("ix0", "ix1", "ix2"):
        expected = sorted(((score, member) for index, member, score in entries if index == name))
        assert await shared.index_range(name) == [member for _, member in expected]
        assert await shared.index_count(name) == len(expected)
    assert await shared.index_range("ix0", reverse=True, limit=2) == ["m10998", "m10995"]


async def test_index_add_many_moves_a_member_readded(shared: Store) -> None:
    await shared.index_add("ix", "a", 5.0)
    await shared.index_add_many([("ix", "a", 1.0), ("ix", "b", 2.0)])
    assert await shared.index_range("ix") == ["a", "b"]
    assert await shared.index_count("ix") == 2
