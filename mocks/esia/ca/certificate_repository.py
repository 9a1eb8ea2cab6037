"""Where the test CA keeps the certificates it issued and the ones it revoked, in the shared store
(``esia:ca:cert:<serial hex>``), so a revocation made through one replica holds on all of them.

This is the CA's own revocation list: the verifier asks :meth:`CertificateRepository.revoked_at`
for the serial of a certificate the CA signed, and the published CRL lists
:meth:`CertificateRepository.revoked` (an index ordered by the time of revocation). A serial the
CA never recorded (a store reset since) counts as not revoked, as it would be absent from a CRL.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace

from ...core.store import Store, Writes

__all__ = ["CertificateRecord", "CertificateRepository", "serial_text"]


def serial_text(serial: int) -> str:
    """A serial as the control API and the pages write it: upper-case hexadecimal."""
    return f"{serial:X}"


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateRecord:
    serial: str
    #: The account it was issued for; ``None`` for a holder ESIA has no account for.
    oid: int | None
    org_oid: int | None
    qualified: bool
    not_before: float
    not_after: float
    issued_at: float
    revoked_at: float | None = None

    def to_json(self) -> dict[str, object]:
        return asdict(self)


_REVOKED = "esia:ca:revoked"
#: The most entries a published CRL lists (the oldest revocations first); far above any test's.
MAX_CRL_ENTRIES = 10_000


def _key(serial: str) -> str:
    return f"esia:ca:cert:{serial}"


class CertificateRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def record(self, record: CertificateRecord) -> None:
        await self._store.set(_key(record.serial), json.dumps(record.to_json()))

    async def get(self, serial: str) -> CertificateRecord | None:
        if not serial or len(serial) > 40:
            return None
        raw = await self._store.get(_key(serial))
        return None if raw is None else CertificateRecord(**json.loads(raw))

    async def revoke(self, serial: str, *, now: float) -> CertificateRecord | None:
        """Revoke an issued certificate (revoking twice keeps the first time); ``None`` for a
        serial the CA did not issue."""
        record = await self.get(serial)
        if record is None:
            return None
        if record.revoked_at is None:
            record = replace(record, revoked_at=now)
            await self._store.commit(Writes().set(_key(record.serial), json.dumps(record.to_json()))
                                     .index_add(_REVOKED, record.serial, now))
        return record

    async def revoked(self) -> list[CertificateRecord]:
        """The revoked certificates, earliest revocation first (at most :data:`MAX_CRL_ENTRIES`)."""
        serials = await self._store.index_range(_REVOKED, limit=MAX_CRL_ENTRIES)
        texts = await self._store.get_many([_key(serial) for serial in serials])
        return [CertificateRecord(**json.loads(text)) for text in texts if text is not None]

    async def revoked_at(self, serial: int) -> float | None:
        record = await self.get(serial_text(serial))
        return None if record is None else record.revoked_at
