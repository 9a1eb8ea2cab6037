"""Where UTKO objects live in the shared store.

- ``utko:object:{id}`` — the object (JSON), including ``createdUs`` and ``updatedUs``;
- ``utko:objects`` — sorted index of ids by creation µs: the list's order (oldest first);
- ``utko:object:{id}:v{n}`` — the claim of version ``n``: whoever writes it (only if absent)
  owns the change from ``n-1`` to ``n``.

Each record carries a ``version`` (1 at creation). The store has no compare-and-set, so a
change of version ``n`` first *claims* ``n+1`` with ``set(only_if_absent=True)``: of two
replicas racing from the same version exactly one claim succeeds, and the loser answers 412.
A delete claims the next version too, so a delete and a replace cannot both win.

Deleting *takes* the record (get-and-delete in one step), so of two concurrent deletes on two
replicas exactly one succeeds and the other sees 404.
"""

from __future__ import annotations

import json
from typing import Any

from ..core.store import Store

__all__ = ["ObjectRepository", "version_of"]

_INDEX = "utko:objects"


#: Claims only matter while a competitor may still hold the old version (wall-clock GC).
_CLAIM_TTL = 24 * 3600


def _key(object_id: str) -> str:
    return f"utko:object:{object_id}"


def _claim_key(object_id: str, version: int) -> str:
    return f"utko:object:{object_id}:v{version}"


def version_of(record: dict[str, Any]) -> int:
    """Records written before versions existed count as version 1."""
    return int(record.get("version", 1))


class ObjectRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def create(self, record: dict[str, Any]) -> None:
        await self._store.set(_key(record["id"]), json.dumps(record, ensure_ascii=False))
        await self._store.index_add(_INDEX, record["id"], float(record["createdUs"]))

    async def get(self, object_id: str) -> dict[str, Any] | None:
        raw = await self._store.get(_key(object_id))
        return None if raw is None else json.loads(raw)

    async def claim_next(self, record: dict[str, Any]) -> int | None:
        """Claim the version after ``record``'s; the new version, or ``None`` if another won."""
        following = version_of(record) + 1
        won = await self._store.set(_claim_key(record["id"], following), "1", ttl=_CLAIM_TTL, only_if_absent=True)
        return following if won else None

    async def replace(self, record: dict[str, Any]) -> None:
        """Write a record whose ``version`` was claimed with :meth:`claim_next`."""
        await self._store.set(_key(record["id"]), json.dumps(record, ensure_ascii=False))

    async def delete(self, object_id: str) -> bool:
        taken = await self._store.take(_key(object_id))
        await self._store.index_remove(_INDEX, object_id)
        return taken is not None

    async def page(self, *, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        """Objects ``offset``..``offset+limit`` in creation order, and how many there are."""
        ids = await self._store.index_range(_INDEX, offset=offset, limit=limit)
        raws = await self._store.get_many([_key(i) for i in ids])
        total = await self._store.index_count(_INDEX)
        return [json.loads(raw) for raw in raws if raw is not None], total
