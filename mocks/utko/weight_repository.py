"""Where imported weight controls live in the shared store.

- ``utko:wc:{objectId}:{id}`` — one weight control (JSON), written only if absent: the write
  *is* the idempotency check, so a file posted twice — to two replicas at once, even — stores
  each id once;
- ``utko:wc:{objectId}`` — sorted index of ids by ``dateBefore`` (µs, UTC): the reading order.

A weight control and its index entry are one :meth:`~..core.store.Store.commit` expecting the
record absent. Written one after the other, a replica killed between them left a record that the
station's retry reported as imported before ("skipped") and no list ever showed.
"""

from __future__ import annotations

import json
from typing import Any

from ..core.store import Store, Writes

__all__ = ["WeightControlRepository"]


def _record_key(object_id: str, key: str) -> str:
    return f"utko:wc:{object_id}:{key}"


def _index(object_id: str) -> str:
    return f"utko:wc:{object_id}"


class WeightControlRepository:
    def __init__(self, store: Store, object_id: str) -> None:
        self._store = store
        self._object_id = object_id

    async def add(self, record: dict[str, Any]) -> bool:
        """Store a validated weight control; ``False`` when its id was imported before."""
        key = _record_key(self._object_id, record["key"])
        writes = (Writes().set(key, json.dumps(record, ensure_ascii=False))
                  .index_add(_index(self._object_id), record["key"], float(record["atUs"])))
        return await self._store.commit(writes, expect={key: None})

    async def page(self, *, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        """Weight controls ``offset``..``offset+limit`` by ``dateBefore``, and how many there are."""
        keys = await self._store.index_range(_index(self._object_id), offset=offset, limit=limit)
        raws = await self._store.get_many([_record_key(self._object_id, key) for key in keys])
        total = await self._store.index_count(_index(self._object_id))
        return [json.loads(raw) for raw in raws if raw is not None], total
