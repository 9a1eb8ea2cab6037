"""Where UTKO objects live in the shared store.

- ``utko:object:{id}`` — the object (JSON), including ``createdUs`` and ``updatedUs``;
- ``utko:objects`` — sorted index of ids by creation µs: the list's order (oldest first);
- ``utko:objects:{filters}`` — the same for the objects matching one combination of the list's
  filters, e.g. ``utko:objects:operator=7707083893:type=sorting`` (every non-empty combination
  of operator INN, region and facility type: seven per object), so a filtered page and its
  total are read straight from one index at any offset, never by scanning the register;
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
import math
from collections.abc import Mapping
from itertools import combinations
from typing import Any

from ..core.store import Store

__all__ = ["FILTERS", "ObjectRepository", "filter_values", "indexes_of", "version_of"]

_INDEX = "utko:objects"
#: The list's filters, in the order their names appear in an index name.
FILTERS = ("operator", "region", "type")


#: Claims only matter while a competitor may still hold the old version (wall-clock GC).
_CLAIM_TTL = 24 * 3600


def _key(object_id: str) -> str:
    return f"utko:object:{object_id}"


def _claim_key(object_id: str, version: int) -> str:
    return f"utko:object:{object_id}:v{version}"


def filter_values(record: Mapping[str, Any]) -> dict[str, str]:
    """What each list filter sees of an object: its operator's INN, region and facility type
    (a record without one of them — only ever a test's bare record — is simply not filterable by it)."""
    operator = record.get("operator") or {}
    values = {"operator": operator.get("inn"), "region": record.get("region"), "type": record.get("type")}
    return {name: value for name, value in values.items() if isinstance(value, str)}


def _index_of(filters: Mapping[str, str]) -> str:
    """The index of the objects matching ``filters`` (the whole register when empty)."""
    return ":".join([_INDEX, *(f"{name}={filters[name]}" for name in FILTERS if name in filters)])


def indexes_of(record: Mapping[str, Any]) -> list[str]:
    """Every index an object is listed in: the register and each combination of its filter values."""
    values = filter_values(record)
    return [_index_of(dict(chosen)) for size in range(len(FILTERS) + 1)
            for chosen in combinations(values.items(), size)]


def version_of(record: dict[str, Any]) -> int:
    """Records written before versions existed count as version 1."""
    return int(record.get("version", 1))


class ObjectRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def create(self, record: dict[str, Any]) -> None:
        await self._store.set(_key(record["id"]), json.dumps(record, ensure_ascii=False))
        score = float(record["createdUs"])
        await self._store.index_add_many([(name, record["id"], score) for name in indexes_of(record)])

    async def get(self, object_id: str) -> dict[str, Any] | None:
        raw = await self._store.get(_key(object_id))
        return None if raw is None else json.loads(raw)

    async def claim_next(self, record: dict[str, Any]) -> int | None:
        """Claim the version after ``record``'s; the new version, or ``None`` if another won."""
        following = version_of(record) + 1
        won = await self._store.set(_claim_key(record["id"], following), "1", ttl=_CLAIM_TTL, only_if_absent=True)
        return following if won else None

    async def replace(self, record: dict[str, Any], previous: dict[str, Any]) -> None:
        """Write a record whose ``version`` was claimed with :meth:`claim_next` over ``previous``,
        moving it between the filter indexes when its operator, region or type changed."""
        await self._store.set(_key(record["id"]), json.dumps(record, ensure_ascii=False))
        now, before = indexes_of(record), indexes_of(previous)
        score = float(record["createdUs"])
        await self._store.index_add_many([(name, record["id"], score) for name in now if name not in before])
        for name in before:
            if name not in now:
                await self._store.index_remove(name, record["id"])

    async def delete(self, object_id: str) -> bool:
        taken = await self._store.take(_key(object_id))
        names = [_INDEX] if taken is None else indexes_of(json.loads(taken))
        for name in names:
            await self._store.index_remove(name, object_id)
        return taken is not None

    async def page(
        self,
        *,
        limit: int,
        offset: int = 0,
        after: tuple[int, str] | None = None,
        filters: Mapping[str, str] | None = None,
    ) -> tuple[list[dict[str, Any]], int, tuple[int, str] | None]:
        """One page in creation order (only objects matching ``filters``, :data:`FILTERS` →
        value, when given), how many objects match, and the position of the page's last object
        when more follow.

        The page starts ``offset`` objects after the start, or after ``after`` — a (creation µs,
        id) position, the cursor of :mod:`..core.cursors` — which is read from the index at its
        score, so a page deep in the register costs what the first one does. Objects created in
        the same microsecond are ordered by id, as the index orders members of equal score."""
        index = _index_of(filters or {})
        min_score = -math.inf
        if after is not None:
            micros, last_id = after
            min_score = micros
            ties = await self._store.index_range(index, min_score=micros, max_score=micros)
            offset += sum(1 for member in ties if member <= last_id)
        ids = await self._store.index_range(index, min_score=min_score, offset=offset, limit=limit + 1)
        raws = await self._store.get_many([_key(i) for i in ids[:limit]])
        total = await self._store.index_count(index)
        records = [json.loads(raw) for raw in raws if raw is not None]
        last = (records[-1]["createdUs"], records[-1]["id"]) if len(ids) > limit and records else None
        return records, total, last
