"""Where UTKO objects live in the shared store.

- ``utko:object:{id}`` — the object (JSON), including ``createdUs`` and ``updatedUs``;
- ``utko:objects`` — sorted index of ids by creation µs: the list's order (oldest first);
- ``utko:objects:{filters}`` — the same for the objects matching one combination of the list's
  filters, e.g. ``utko:objects:operator=7707083893:type=sorting`` (every non-empty combination
  of operator INN, region and facility type: seven per object), so a filtered page and its
  total are read straight from one index at any offset, never by scanning the register.

Each record carries a ``version`` (1 at creation). A change is one compare-and-set
(:meth:`~..core.store.Store.commit`): the new record and its moves between the filter indexes
are written together, and only while the stored record is still exactly the text the change
was computed from. Of two replicas racing from the same version exactly one commit succeeds and
the loser answers 412; a delete and a replace cannot both win. Deleting is the same kind of
commit, so of two concurrent deletes one succeeds and the other finds the object gone.

Why one atomic write rather than the version claim this module used to write first: a claim was
a second record that had to agree with the object, and a replica killed between the claim and
the object left a claimed version that every later ``PUT`` (412) and ``DELETE`` (409) ran into
for the claim's 24 hours. A compare-and-set has no state between "before" and "after" to repair,
and both stores provide it natively (an SQLite transaction, a Redis Lua script).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from ..core.store import Store, Writes

__all__ = ["FILTERS", "ObjectRepository", "Stored", "filter_values", "indexes_of", "version_of"]

_INDEX = "utko:objects"
#: The list's filters, in the order their names appear in an index name.
FILTERS = ("operator", "region", "type")


def _key(object_id: str) -> str:
    return f"utko:object:{object_id}"


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


@dataclass(frozen=True, slots=True)
class Stored:
    """An object as read: the record, and its text exactly as stored (what a change expects)."""

    record: dict[str, Any]
    text: str


def _dumps(record: Mapping[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False)


class ObjectRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def create(self, record: dict[str, Any]) -> None:
        """Store a new object and list it, in one commit (a new id expects nothing)."""
        score = float(record["createdUs"])
        writes = Writes().set(_key(record["id"]), _dumps(record))
        for name in indexes_of(record):
            writes.index_add(name, record["id"], score)
        await self._store.commit(writes)

    async def get(self, object_id: str) -> dict[str, Any] | None:
        stored = await self.read(object_id)
        return None if stored is None else stored.record

    async def read(self, object_id: str) -> Stored | None:
        raw = await self._store.get(_key(object_id))
        return None if raw is None else Stored(json.loads(raw), raw)

    async def replace(self, record: dict[str, Any], previous: Stored) -> bool:
        """Write ``record`` over ``previous`` unless the object changed since it was read
        (``False``: nothing written), moving it between the filter indexes when its operator,
        region or type changed."""
        now, before = indexes_of(record), indexes_of(previous.record)
        score = float(record["createdUs"])
        writes = Writes().set(_key(record["id"]), _dumps(record))
        for name in now:
            if name not in before:
                writes.index_add(name, record["id"], score)
        for name in before:
            if name not in now:
                writes.index_remove(name, record["id"])
        return await self._store.commit(writes, expect={_key(record["id"]): previous.text})

    async def delete(self, previous: Stored) -> bool:
        """Remove the object and unlist it unless it changed since it was read (``False``)."""
        object_id = previous.record["id"]
        writes = Writes().delete(_key(object_id))
        for name in indexes_of(previous.record):
            writes.index_remove(name, object_id)
        return await self._store.commit(writes, expect={_key(object_id): previous.text})

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
