"""Where requests to customs (обращения) and their comments live in the shared store.

Keys (under ``fts:``): ``fts:appeal:{id}`` — the appeal; ``fts:appeals:{inn}`` — index of a
declarant's appeals by submission µs; ``fts:appeal-idempotency:{inn}:{sha256(key)}`` — the
appeal a key produced; ``fts:appeal-comments:{id}`` — the comments, a list in order;
``fts:appeal-comment-idempotency:{id}:{sha256(key)}`` — the comment a key produced;
``fts:appeal-sequence:{year}`` — appeal numbers.

Idempotency as for declarations: an appeal's record, its key and its index entry are one
:meth:`~..core.store.Store.commit` expecting the key absent, and so are a comment's key and its
place in the list. A replica killed during either leaves all of it or none. (Written one by one,
a crash between a comment's key and the list left a comment that the client's retry
acknowledged — the key said it existed — and no list ever showed.) An appeal number drawn before
the commit is lost with the crash: a gap in the sequence.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from ..core.store import Store, Writes
from .paging import Position

__all__ = ["AppealRepository"]


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _record_key(appeal_id: str) -> str:
    return f"fts:appeal:{appeal_id}"


class AppealRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def number(self, now: float) -> str:
        """``YYYYMMDD/NNNNNN``: the day of filing (UTC) and a sequence per calendar year."""
        day = dt.datetime.fromtimestamp(now, dt.UTC)
        sequence = await self._store.incr(f"fts:appeal-sequence:{day.year}")
        return f"{day:%Y%m%d}/{sequence % 1_000_000:06d}"

    async def add(self, record: dict[str, Any], *, idempotency_key: str) -> tuple[dict[str, Any], bool] | None:
        claim_key = f"fts:appeal-idempotency:{record['inn']}:{_digest(idempotency_key)}"
        earlier = await self._store.get(claim_key)
        if earlier is None:
            writes = (Writes().set(_record_key(record["id"]), json.dumps(record, ensure_ascii=False))
                      .set(claim_key, record["id"])
                      .index_add(f"fts:appeals:{record['inn']}", record["id"], float(record["submittedUs"])))
            if await self._store.commit(writes, expect={claim_key: None}):
                return record, True
            earlier = await self._store.get(claim_key)
            if earlier is None:
                return None
        winner = await self.get(earlier)
        return None if winner is None else (winner, False)

    async def get(self, appeal_id: str) -> dict[str, Any] | None:
        raw = await self._store.get(_record_key(appeal_id))
        return None if raw is None else json.loads(raw)

    async def newest_first(self, inn: str, limit: int, *, after: Position | None = None) -> list[dict[str, Any]]:
        """Up to ``limit`` of the declarant's appeals, newest first (ties by id), strictly after
        ``after`` — the same cursor order as the declaration list (:mod:`.paging`)."""
        index, offset = f"fts:appeals:{inn}", 0
        found: list[dict[str, Any]] = []
        max_score = float("inf") if after is None else float(after.submitted_us)
        while len(found) < limit:
            ids = await self._store.index_range(index, max_score=max_score, offset=offset,
                                                limit=limit + 1, reverse=True)
            offset += len(ids)
            raws = await self._store.get_many([_record_key(i) for i in ids])
            found.extend(record for raw in raws if raw is not None
                         and (record := json.loads(raw)) is not None
                         and (after is None or after.is_after(record["submittedUs"], record["id"])))
            if len(ids) < limit + 1:
                break
        return found[:limit]

    async def comments(self, appeal_id: str) -> list[dict[str, Any]]:
        return [json.loads(raw) for raw in await self._store.items(f"fts:appeal-comments:{appeal_id}")]

    async def add_comment(self, appeal_id: str, comment: dict[str, Any], *,
                          idempotency_key: str) -> tuple[dict[str, Any], bool]:
        """Append ``comment`` unless this key already added one; then that one comes back."""
        claim_key = f"fts:appeal-comment-idempotency:{appeal_id}:{_digest(idempotency_key)}"
        encoded = json.dumps(comment, ensure_ascii=False)
        writes = Writes().set(claim_key, encoded).append(f"fts:appeal-comments:{appeal_id}", encoded)
        if await self._store.commit(writes, expect={claim_key: None}):
            return comment, True
        earlier = await self._store.get(claim_key)
        return (comment, True) if earlier is None else (json.loads(earlier), False)
