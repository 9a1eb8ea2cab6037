"""Reconciliation: did every acknowledged write survive, and did any write land twice?

- A *lost write* is an operation acknowledged to the client (``acked``: a 2xx with an id) whose
  id is absent from what the target holds at the end (``records.json``). An acknowledgement
  without an id cannot be checked and counts as lost too: the client was told "done" and has
  nothing to show for it.
- A *duplicate write* is one logical operation that produced two or more records: records are
  grouped by ``senderReference`` (the client's own reference, which the load run makes unique
  per operation), and any group of two or more is one duplicate, listed with its operation ids.

Operations of a service that was not reconciled are not judged; with several services, a record
and an operation meet only within one service. Writes the target holds
but never acknowledged (the answer was lost on the way back) are counted for information: they
are not errors when a retry with the same idempotency key returns the same record.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from .io import Operation, Reconciled

__all__ = ["Duplicate", "LostWrite", "Reconciliation", "reconcile"]


@dataclass(frozen=True)
class LostWrite:
    op: str
    id: str | None
    sender_reference: str | None
    reason: str


@dataclass(frozen=True)
class Duplicate:
    sender_reference: str
    ids: list[str]
    ops: list[str]


@dataclass(frozen=True)
class Reconciliation:
    measured: bool
    services: tuple[str, ...] = ()
    operations: int = 0
    acknowledged: int = 0
    records: int = 0
    lost: list[LostWrite] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    unacknowledged_applied: int = 0
    attempts: int = 0
    attempted_operations: int = 0

    @property
    def lost_writes(self) -> int | None:
        return len(self.lost) if self.measured else None

    @property
    def duplicate_writes(self) -> int | None:
        return len(self.duplicates) if self.measured else None

    @property
    def retry_amplification(self) -> float | None:
        """Attempts per logical operation over the whole run (operations with a known count)."""
        return self.attempts / self.attempted_operations if self.attempted_operations else None


def _judged(operations: list[Operation], services: tuple[str, ...]) -> list[Operation]:
    return [op for op in operations if not services or op.service in (None, *services)]


def _key(service: str | None, value: Any, services: tuple[str, ...]) -> str:
    """An id or reference, told apart by service when several were reconciled."""
    return f"{service}:{value}" if len(services) > 1 else str(value)


def reconcile(operations: list[Operation], reconciled: Reconciled | None) -> Reconciliation:
    judged = _judged(operations, reconciled.services if reconciled else ())
    counted = [op for op in judged if op.attempts is not None]
    attempts, attempted = sum(op.attempts or 0 for op in counted), len(counted)
    if reconciled is None:
        return Reconciliation(measured=False, operations=len(judged), attempts=attempts, attempted_operations=attempted)
    services = reconciled.services
    records: list[dict[str, Any]] = reconciled.records
    held_ids = {_key(r.get("service"), r["id"], services) for r in records if r.get("id") is not None}
    lost = [
        LostWrite(
            op=op.op, id=op.id, sender_reference=op.sender_reference,
            reason="acknowledged without an id" if op.id is None else "id absent from the target",
        )
        for op in judged
        if op.acked and (op.id is None or _key(op.service, op.id, services) not in held_ids)
    ]
    by_reference: dict[str, list[str]] = defaultdict(list)
    for record in records:
        reference = record.get("senderReference")
        if reference is not None:
            by_reference[_key(record.get("service"), reference, services)].append(str(record.get("id")))
    ops_by_reference: dict[str, list[str]] = defaultdict(list)
    for op in judged:
        if op.sender_reference is not None:
            ops_by_reference[_key(op.service, op.sender_reference, services)].append(op.op)
    duplicates = [
        Duplicate(
            sender_reference=reference, ids=sorted(ids), ops=sorted(set(ops_by_reference.get(reference, []))),
        )
        for reference, ids in sorted(by_reference.items())
        if len(ids) > 1
    ]
    acked_references = {_key(op.service, op.sender_reference, services) for op in judged if op.acked}
    unacknowledged = sum(
        1 for op in judged
        if not op.acked and op.sender_reference is not None
        and _key(op.service, op.sender_reference, services) in by_reference
        and _key(op.service, op.sender_reference, services) not in acked_references
    )
    return Reconciliation(
        measured=True, services=services, operations=len(judged),
        acknowledged=sum(op.acked for op in judged), records=len(records), lost=lost, duplicates=duplicates,
        unacknowledged_applied=unacknowledged, attempts=attempts, attempted_operations=attempted,
    )
