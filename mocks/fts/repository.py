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
  so two replicas cannot withdraw it at two moments.

Every change that writes more than one key is one :meth:`~..core.store.Store.commit`, so a
replica killed in the middle of it leaves the declaration as it was before or after, never half
filed or half withdrawn:

- Filing writes the record, its head, its list indexes, its place among the registrations to
  come and the idempotency key together, expecting the key to be absent: of two replicas racing
  with one key exactly one commit lands, and the other answers with the winner's record.
  (Before, the record was written first and the key claimed after; a crash between them left a
  record no list showed, and one between the claim and the indexing left a filed declaration
  missing from its lists until the client retried.)
- A withdrawal writes its claim, the record, the head and the index changes together, expecting
  no claim yet and the record unchanged since it was read. (A claim written alone first, then
  copied into the record, left a declaration that every other withdrawal refused as "already
  withdrawn" while its status went on to registration.)
- Copying a registration number into the record and its head expects the record unchanged, so
  a copy computed before a withdrawal cannot overwrite it; a copy that loses is made again by
  the next read, since the number itself is kept apart (:mod:`.numbering`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from ..core.store import Store, Writes
from .lifecycle import Progress, progress, registration_delay
from .list_indexes import Scan, declarant_index, filing_indexes, withdrawn_index
from .numbering import (
    forget_registration,
    new_member,
    number_key,
    plan_registration,
    registration_member,
    registration_number,
)
from .paging import Position

__all__ = ["Claim", "DeclarationRepository", "StillChanging", "fingerprint"]

_BATCH = 200
#: How often a withdrawal re-reads a record that changed under it (a registration number being
#: copied in changes it once; more is a declaration someone keeps rewriting).
_WITHDRAWAL_ATTEMPTS = 8
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
#: ``declarant`` too, so that who may read the status is one read as well.
HEAD_FIELDS = ("id", "submittedUs", "plan", "customsOffice", "registrationNumber", "withdrawnUs", "declarant")


def head_of(record: dict[str, Any]) -> dict[str, Any]:
    return {name: record.get(name) for name in HEAD_FIELDS}


def _withdrawal_key(declaration_id: str) -> str:
    return f"fts:withdrawal:{declaration_id}"


def _idempotency_key(declarant: dict[str, Any], key: str) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"fts:idempotency:{declarant['inn']}:{declarant.get('kpp', '')}:{digest}"


class StillChanging(Exception):
    """The declaration changed under every attempt to withdraw it."""


def _registered_us(record: dict[str, Any]) -> int | None:
    """When the record's plan registers it (µs), or ``None`` if it never is."""
    delay = registration_delay(record["plan"])
    return None if delay is None else record["submittedUs"] + round(delay * 1_000_000)


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
            claim = json.dumps({"id": record["id"], "fingerprint": record["fingerprint"]})
            writes = (await self._filing(record)).set(key, claim)
            if await self._store.commit(writes, expect={key: None}):
                return Claim(record, created=True)
            earlier = await self._store.get(key)
            if earlier is None:
                return None
        winner = await self.get(json.loads(earlier)["id"])
        if winner is None:
            return None
        return Claim(winner, created=False)

    async def _filing(self, record: dict[str, Any]) -> Writes:
        """Everything filing a new declaration writes: the record, its head, its list indexes
        and, when its plan registers it, its place in the order of registration."""
        score = float(record["submittedUs"])
        writes = (Writes().set(_record_key(record["id"]), json.dumps(record, ensure_ascii=False))
                  .set(_head_key(record["id"]), json.dumps(head_of(record))))
        for name in filing_indexes(record):
            writes.index_add(name, record["id"], score)
        registered_us = _registered_us(record)
        if registered_us is not None:
            plan_registration(writes, declaration_id=record["id"], office=record["customsOffice"],
                              registered_us=registered_us, member=await new_member(self._store, record["id"]))
        return writes

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
            await self._copy_number(record["id"], record["registrationNumber"])
        return state

    async def _copy_number(self, declaration_id: str, number: str) -> None:
        """Copy an issued number into the record and its head (so that later reads of the status
        stay one store read), unless the record changed since it was read here."""
        raw = await self._store.get(_record_key(declaration_id))
        if raw is None:
            return
        full = json.loads(raw)
        full["registrationNumber"] = number
        writes = (Writes().set(_record_key(declaration_id), json.dumps(full, ensure_ascii=False))
                  .set(_head_key(declaration_id), json.dumps(head_of(full))))
        await self._store.commit(writes, expect={_record_key(declaration_id): raw})

    async def withdrawal(self, declaration_id: str) -> dict[str, Any] | None:
        raw = await self._store.get(_withdrawal_key(declaration_id))
        return None if raw is None else json.loads(raw)

    async def withdraw(self, declaration_id: str, *, key: str,
                       withdrawn_us: int) -> tuple[dict[str, Any], bool] | None:
        """Withdraw the declaration at ``withdrawn_us`` unless it is withdrawn already: the claim,
        the record and its head, the withdrawn index and its leaving the registration queue, in
        one commit. Answers the withdrawal that holds and whether it is this one (not one another
        replica made first), or ``None`` when the declaration is gone (a reset)."""
        claim = {"key": hashlib.sha256(key.encode()).hexdigest(), "withdrawnUs": withdrawn_us}
        claim_key, record_key = _withdrawal_key(declaration_id), _record_key(declaration_id)
        for _ in range(_WITHDRAWAL_ATTEMPTS):
            raw = await self._store.get(record_key)
            if raw is None:
                return None
            record = json.loads(raw)
            record["withdrawnUs"] = withdrawn_us
            record["registrationNumber"] = record.get("registrationNumber") or await self._store.get(
                number_key(declaration_id))
            writes = (Writes().set(claim_key, json.dumps(claim)).set(record_key, json.dumps(record, ensure_ascii=False))
                      .set(_head_key(declaration_id), json.dumps(head_of(record)))
                      .index_add(withdrawn_index(record["declarant"]["inn"]), declaration_id,
                                 float(record["submittedUs"])))
            registered_us = _registered_us(record)
            if registered_us is not None and withdrawn_us < registered_us:
                member = await registration_member(self._store, declaration_id)
                if member is not None:
                    forget_registration(writes, office=record["customsOffice"], registered_us=registered_us,
                                        member=member)
            if await self._store.commit(writes, expect={claim_key: None, record_key: raw}):
                return claim, True
            if (earlier := await self.withdrawal(declaration_id)) is not None:
                return earlier, False
        raise StillChanging(declaration_id)

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
