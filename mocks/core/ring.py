"""A bounded log in the shared store, written by every replica: the newest ``capacity`` entries.

``{name}:seq`` counts the entries ever appended, and entry ``n`` lives in slot
``{name}:{n mod capacity}``, so the log never grows past its capacity under load and needs no
cleaning. A slot holds its entry's sequence number, which tells a reader whether the slot still
holds the entry it expects or a later lap has overwritten it (or a writer has not finished).
UTKO's audit log and the request journal both keep their entries this way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .store import Store

__all__ = ["Ring"]

#: Slots read per round trip when walking back through the ring.
_BATCH = 500


class Ring:
    def __init__(self, store: Store, name: str, capacity: int) -> None:
        self.store = store
        self.name = name
        self.capacity = capacity
        self._seq = f"{name}:seq"

    def _slot(self, sequence: int) -> str:
        return f"{self.name}:{sequence % self.capacity}"

    async def append(self, entry: dict[str, Any]) -> int:
        """Store ``entry`` with its sequence number (``seq``) and return that number."""
        sequence = await self.store.incr(self._seq)
        await self.store.set(self._slot(sequence), json.dumps({**entry, "seq": sequence}, ensure_ascii=False))
        return sequence

    async def last(self) -> int:
        """The sequence number of the newest entry (0 when none was ever appended)."""
        return int(await self.store.get(self._seq) or 0)

    async def newest(self, limit: int, keep: Callable[[dict[str, Any]], bool] = lambda _: True, *,
                     after: int = 0) -> tuple[list[dict[str, Any]], int]:
        """Up to ``limit`` of the newest entries with a sequence number above ``after`` that
        ``keep`` accepts, oldest first, and the newest sequence number at the time of reading."""
        last = await self.last()
        first = max(1, last - self.capacity + 1, after + 1)
        found: list[dict[str, Any]] = []
        end = last
        while end >= first and len(found) < limit:
            start = max(first, end - _BATCH + 1)
            sequences = range(end, start - 1, -1)
            raws = await self.store.get_many([self._slot(n) for n in sequences])
            for sequence, raw in zip(sequences, raws, strict=True):
                entry = None if raw is None else json.loads(raw)
                if entry is None or entry["seq"] != sequence:  # not written yet, or overwritten by a later lap
                    continue
                if keep(entry):
                    found.append(entry)
                    if len(found) == limit:
                        break
            end = start - 1
        return found[::-1], last

    async def clear(self) -> None:
        """Forget every entry; numbering goes on, so a reader's ``after`` stays meaningful."""
        last = await self.last()
        sequences = range(max(1, last - self.capacity + 1), last + 1)
        for start in range(0, len(sequences), _BATCH):
            await self.store.delete(*(self._slot(n) for n in sequences[start:start + _BATCH]))
