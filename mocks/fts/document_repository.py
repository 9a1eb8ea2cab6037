"""Where the documents submitted for a declaration live in the shared store.

Keys (under ``fts:``): ``fts:document:{id}`` — the document's record (metadata and digest);
``fts:document-content:{sha256}`` — the bytes (base64), stored once per distinct content and
written before any record that names them, so a record never points at missing bytes;
``fts:documents:{declaration id}`` — index of its documents by upload µs;
``fts:document-idempotency:{declaration id}:{sha256(key)}`` — the document a key produced;
``fts:application:{year}`` — the sequence of application numbers.

Idempotency across replicas as for declarations: the record, the key and the index entry are
one :meth:`~..core.store.Store.commit` that expects the key absent, so of two replicas racing
with one key one stores its document and the other answers the winner's, and a replica killed
during an upload leaves either no trace of the document or all of it. (Written one by one, a
crash between the record and the key left a record no list showed, a second copy once the
client retried.) What is written before that commit is harmless to lose or repeat: the bytes,
kept under their digest, which a retry names again, and an application number, whose sequence
then has a gap.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from typing import Any

from ..core.store import Store, Writes

__all__ = ["DocumentRepository", "application_number"]


def _record_key(document_id: str) -> str:
    return f"fts:document:{document_id}"


def _content_key(sha256: str) -> str:
    return f"fts:document-content:{sha256}"


def _index_key(declaration_id: str) -> str:
    return f"fts:documents:{declaration_id}"


async def application_number(store: Store, now: float) -> str:
    """``YYYYMMDD-NNNNNNN``: the day of submission (UTC) and a sequence per calendar year."""
    day = dt.datetime.fromtimestamp(now, dt.UTC)
    sequence = await store.incr(f"fts:application:{day.year}")
    return f"{day:%Y%m%d}-{sequence % 10_000_000:07d}"


class DocumentRepository:
    def __init__(self, store: Store, declaration_id: str) -> None:
        self._store = store
        self._declaration_id = declaration_id

    async def add(self, record: dict[str, Any], *, idempotency_key: str) -> tuple[dict[str, Any], bool] | None:
        """Store ``record`` unless this key already produced a document: ``(winner, created)``;
        ``None`` if the key's document vanished (a reset meanwhile)."""
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()
        claim_key = f"fts:document-idempotency:{self._declaration_id}:{digest}"
        earlier = await self._store.get(claim_key)
        if earlier is None:
            writes = (Writes().set(_record_key(record["id"]), json.dumps(record, ensure_ascii=False))
                      .set(claim_key, record["id"])
                      .index_add(_index_key(self._declaration_id), record["id"], float(record["uploadedUs"])))
            if await self._store.commit(writes, expect={claim_key: None}):
                return record, True
            earlier = await self._store.get(claim_key)
            if earlier is None:
                return None
        raw = await self._store.get(_record_key(earlier))
        return None if raw is None else (json.loads(raw), False)

    async def keep_content(self, sha256: str, content: bytes) -> None:
        """Keep the bytes whose SHA-256 is ``sha256`` (once, whoever sends them again)."""
        await self._store.set(_content_key(sha256), base64.b64encode(content).decode(), only_if_absent=True)

    async def content(self, sha256: str) -> bytes | None:
        raw = await self._store.get(_content_key(sha256))
        return None if raw is None else base64.b64decode(raw)

    async def get(self, document_id: str) -> dict[str, Any] | None:
        """The document, if it is one of this declaration's."""
        raw = await self._store.get(_record_key(document_id))
        record = None if raw is None else json.loads(raw)
        return record if record is not None and record["declarationId"] == self._declaration_id else None

    async def all(self) -> list[dict[str, Any]]:
        """The declaration's documents in upload order."""
        ids = await self._store.index_range(_index_key(self._declaration_id))
        raws = await self._store.get_many([_record_key(i) for i in ids])
        return [json.loads(raw) for raw in raws if raw is not None]
