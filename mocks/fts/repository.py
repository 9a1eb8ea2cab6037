"""Where declarations live in the shared store, and the two multi-replica rules about them.

Keys (all under ``fts:``):

- ``fts:declaration:{id}`` — the record (JSON): the validated submission, ``submittedUs``,
  ``plan``, ``registrationNumber`` (copied in once issued), the request ``fingerprint``;
- ``fts:idempotency:{inn}:{kpp}:{sha256(key)}`` — ``{"id", "fingerprint"}``: which declaration
  a declarant's ``Idempotency-Key`` produced;
- ``fts:declarant:{inn}`` — sorted index of the declarant's declaration ids by submission µs,
  and beside it one index per filter value (:mod:`.list_indexes`) so filtered lists stay fast;
- ``fts:number:{id}`` and ``fts:sequence:{office}:{year}`` — see :mod:`.numbering`;
- ``fts:withdrawal:{id}`` — ``{"key", "withdrawnUs"}``: the one withdrawal of a declaration,
  claimed with ``set(only_if_absent=True)`` so two replicas cannot withdraw it at two moments;
  ``withdrawnUs`` is then copied into the record and its head.

Idempotency across replicas: the record is written first, then the key is claimed with
``set(only_if_absent=True)``. The one winner indexes its record; a loser (a concurrent retry
on another replica) deletes its own record and answers with the winner's. A crash between the
claim and the indexing is healed by the next retry, which re-indexes (re-adding is harmless).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from ..core.store import Store
from .lifecycle import Progress, progress, registration_delay
from .list_indexes import Scan, declarant_index, filing_indexes, withdrawn_index
from .numbering import forget_registration, number_key, plan_registration, registration_number
from .paging import Position

__all__ = ["Claim", "DeclarationRepository", "fingerprint"]

_BATCH = 200
#: The most records one read of a list scan fetches (the first read fetches one page's worth).
_MAX_BATCH = 800


def fingerprint(submission: dict[str, Any]) -> str:
    """The same submission always has the same fingerprint, whatever its key order."""
    canonical = json.dumps(submission, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _record_key(declaration_id: str) -> str:
    return f"fts:declaration:{declaration_id}"


def _head_key(declaration_id: str) -> str:
    return f"fts:head:{declaration_id}"


#: What the status of a declaration is computed from: a small record beside the full card, so
#: the cheap status read decodes a few fields rather than every goods item.
HEAD_FIELDS = ("id", "submittedUs", "plan", "customsOffice", "registrationNumber", "withdrawnUs")


def head_of(record: dict[str, Any]) -> dict[str, Any]:
    return {name: record.get(name) for name in HEAD_FIELDS}


def _withdrawal_key(declaration_id: str) -> str:
    return f"fts:withdrawal:{declaration_id}"


def _idempotency_key(declarant: dict[str, Any], key: str) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"fts:idempotency:{declarant['inn']}:{declarant.get('kpp', '')}:{digest}"


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of a submission: the record that holds the key, and whether it was ours."""

    record: dict[str, Any]
    created: bool


class DeclarationRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def submit(self, record: dict[str, Any], *, idempotency_key: str) -> Claim | None:
        """Store ``record`` unless the declarant already used ``idempotency_key``; then the
        earlier record comes back (``created=False``). ``None``: the key's record is gone
        (a reset between the claim and now) — the caller answers 409."""
        key = _idempotency_key(record["declarant"], idempotency_key)
        earlier = await self._store.get(key)
        if earlier is None:
            await self._store.set(_record_key(record["id"]), json.dumps(record, ensure_ascii=False))
            await self._store.set(_head_key(record["id"]), json.dumps(head_of(record)))
            claim = json.dumps({"id": record["id"], "fingerprint": record["fingerprint"]})
            if await self._store.set(key, claim, only_if_absent=True):
                await self._index(record)
                return Claim(record, created=True)
            await self._store.delete(_record_key(record["id"]), _head_key(record["id"]))
            earlier = await self._store.get(key)
            if earlier is None:
                return None
        winner = await self.get(json.loads(earlier)["id"])
        if winner is None:
            return None
        await self._index(winner)
        return Claim(winner, created=False)

    async def _index(self, record: dict[str, Any]) -> None:
        score = float(record["submittedUs"])
        await self._store.index_add_many([(name, record["id"], score) for name in filing_indexes(record)])
        delay = registration_delay(record["plan"])
        if delay is not None and record.get("withdrawnUs") is None:
            await plan_registration(self._store, declaration_id=record["id"], office=record["customsOffice"],
                                    registered_us=record["submittedUs"] + round(delay * 1_000_000))

    async def get(self, declaration_id: str) -> dict[str, Any] | None:
        raw = await self._store.get(_record_key(declaration_id))
        return None if raw is None else json.loads(raw)

    async def head(self, declaration_id: str) -> dict[str, Any] | None:
        """The fields the status is computed from (:data:`HEAD_FIELDS`)."""
        raw = await self._store.get(_head_key(declaration_id))
        if raw is not None:
            return json.loads(raw)
        record = await self.get(declaration_id)
        return None if record is None else head_of(record)

    async def head_text(self, declaration_id: str) -> str | None:
        """The stored head as JSON text, or ``None`` when there is none (the hot status read
        reuses its rendering while this text stays the same)."""
        return await self._store.get(_head_key(declaration_id))

    async def settle(self, record: dict[str, Any], now: float) -> Progress:
        """The record's progress at ``now``; issues the registration number the first time a
        registered declaration is read, and copies it into the record so that later reads of
        the status stay one store read. ``record`` may be the full record or its head."""
        withdrawn_us = record.get("withdrawnUs")
        state = progress(submitted_at=record["submittedUs"] / 1e6, plan=record["plan"], now=now,
                         withdrawn_at=None if withdrawn_us is None else withdrawn_us / 1e6)
        registered_at = state.registered_at
        if registered_at is not None and record.get("registrationNumber") is None:
            record["registrationNumber"] = await registration_number(
                self._store, declaration_id=record["id"], office=record["customsOffice"],
                registered_at=registered_at,
            )
            full = record if "declarant" in record else await self.get(record["id"])
            if full is not None:
                full["registrationNumber"] = record["registrationNumber"]
                await self._store.set(_record_key(full["id"]), json.dumps(full, ensure_ascii=False))
            await self._store.set(_head_key(record["id"]), json.dumps(head_of(record)))
        return state

    async def withdrawal(self, declaration_id: str) -> dict[str, Any] | None:
        raw = await self._store.get(_withdrawal_key(declaration_id))
        return None if raw is None else json.loads(raw)

    async def claim_withdrawal(self, declaration_id: str, *, key: str, withdrawn_us: int) -> bool:
        """Record the declaration's withdrawal unless one is recorded already (``False``)."""
        claim = json.dumps({"key": hashlib.sha256(key.encode()).hexdigest(), "withdrawnUs": withdrawn_us})
        return await self._store.set(_withdrawal_key(declaration_id), claim, only_if_absent=True)

    async def apply_withdrawal(self, declaration_id: str, withdrawn_us: int) -> None:
        """Copy a claimed withdrawal into the record and its head (a retry repeats it harmlessly)."""
        record = await self.get(declaration_id)
        if record is None:
            return
        record["withdrawnUs"] = withdrawn_us
        delay = registration_delay(record["plan"])
        registered_us = None if delay is None else record["submittedUs"] + round(delay * 1_000_000)
        if registered_us is not None and withdrawn_us < registered_us:
            await forget_registration(self._store, declaration_id=declaration_id,
                                      office=record["customsOffice"], registered_us=registered_us)
        record["registrationNumber"] = record.get("registrationNumber") or await self._store.get(
            number_key(declaration_id))
        await self._store.set(_record_key(declaration_id), json.dumps(record, ensure_ascii=False))
        await self._store.set(_head_key(declaration_id), json.dumps(head_of(record)))
        await self._store.index_add(withdrawn_index(record["declarant"]["inn"]), declaration_id,
                                    float(record["submittedUs"]))

    async def heads_submitted_since(self, inn: str, from_us: float) -> AsyncIterator[dict[str, Any]]:
        """The heads of the declarant's declarations submitted at or after ``from_us``, oldest first."""
        index = declarant_index(inn)
        offset = 0
        while True:
            ids = await self._store.index_range(index, min_score=from_us, max_score=float("inf"),
                                                offset=offset, limit=_BATCH)
            if not ids:
                return
            offset += len(ids)
            raws = await self._store.get_many([_head_key(i) for i in ids])
            for declaration_id, raw in zip(ids, raws, strict=True):
                if raw is not None:
                    yield json.loads(raw)
                elif (record := await self.get(declaration_id)) is not None:
                    yield head_of(record)
            if len(ids) < _BATCH:
                return

    async def newest_first(self, scan: Scan, *, after: Position | None, page: int) -> AsyncIterator[dict[str, Any]]:
        """The records in ``scan``'s index, newest first, strictly after ``after``, submitted
        within its window (inclusive, µs). Reads ``page + 1`` records first (enough when every
        record matches) and then ever larger batches while the caller's filters skip records."""
        max_score = float(scan.to_us) if scan.to_us is not None else float("inf")
        if after is not None:
            max_score = min(max_score, float(after.submitted_us))
        min_score = float(scan.from_us) if scan.from_us is not None else float("-inf")
        offset = 0
        batch = page + 1
        while True:
            ids = await self._store.index_range(scan.index, min_score=min_score, max_score=max_score,
                                                offset=offset, limit=batch, reverse=True)
            if not ids:
                return
            offset += len(ids)
            raws = await self._store.get_many([_record_key(i) for i in ids])
            for raw in raws:
                if raw is None:
                    continue
                record = json.loads(raw)
                if after is None or after.is_after(record["submittedUs"], record["id"]):
                    yield record
            if len(ids) < batch:
                return
            batch = min(batch * 4, _MAX_BATCH)
