"""Where UTKO objects live in the shared store.

- ``utko:object:{id}`` — the object (JSON), including ``createdUs`` and ``updatedUs``;
- ``utko:objects`` — sorted index of ids by creation µs: the list's order (oldest first).

Deleting *takes* the record (get-and-delete in one step), so of two concurrent deletes on two
replicas exactly one succeeds and the other sees 404.
"""

from __future__ import annotations

import json
from typing import Any

from ..core.store import Store

__all__ = ["ObjectRepository"]

_INDEX = "utko:objects"


def _key(object_id: str) -> str:
    return f"utko:object:{object_id}"


class ObjectRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def create(self, record: dict[str, Any]) -> None:
        await self._store.set(_key(record["id"]), json.dumps(record, ensure_ascii=False))
        await self._store.index_add(_INDEX, record["id"], float(record["createdUs"]))

    async def get(self, object_id: str) -> dict[str, Any] | None:
        raw = await self._store.get(_key(object_id))
        return None if raw is None else json.loads(raw)

    async def replace(self, record: dict[str, Any]) -> None:
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
