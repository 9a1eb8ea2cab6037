"""Which store a URL names. Apart from :mod:`.store` because the implementations import the
interface they implement from there; the interface knowing its implementations too made a circle."""

from __future__ import annotations

from .store import Store

__all__ = ["open_store"]


def open_store(url: str) -> Store:
    """Open the store a URL names: ``sqlite:///path/to/file``, ``memory:`` or ``redis://host:port/db``."""
    if url.startswith("sqlite:///"):
        from .store_sqlite import SQLiteStore

        return SQLiteStore(url.removeprefix("sqlite:///"))
    if url == "memory:":
        from .store_sqlite import SQLiteStore

        return SQLiteStore(":memory:")
    if url.startswith(("redis://", "rediss://", "unix://")):
        from .store_redis import RedisStore

        return RedisStore(url)
    raise ValueError(f"unsupported store URL {url!r}")
