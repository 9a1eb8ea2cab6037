"""Where requests a person must still confirm live in the shared store: nothing of a new
account is stored before its phone is confirmed, and nothing changes on a recovery before the
code comes back.

- ``esia:reg:<rid>`` — a registration waiting for its SMS code (:class:`PendingRegistration`);
- ``esia:activation:<token>`` — an e-mail address waiting for its link to be followed
  (:class:`Activation`);
- ``esia:recovery:<rid>`` — a password recovery or an unlock waiting for its code
  (:class:`RecoveryRequest`).

Each is taken (deleted, one winner across replicas) when it is fulfilled.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Literal

from ...core.store import Store
from .users import SeedPlan

__all__ = ["ACTIVATION_LIFETIME", "REQUEST_LIFETIME", "Activation", "PendingRegistration", "PendingRepository",
           "RecoveryRequest"]

#: A registration, a recovery or an unlock must be finished this long after it started.
REQUEST_LIFETIME = 1800
#: The activation link in the e-mail works this long.
ACTIVATION_LIFETIME = 24 * 3600


@dataclass(kw_only=True)
class PendingRegistration:
    plan: SeedPlan
    #: When the person consented to personal-data processing (the form's checkbox).
    consent_at: float
    created: float
    code: str
    sent: float
    attempts: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"plan": self.plan.to_json(), "consent_at": self.consent_at, "created": self.created,
                "code": self.code, "sent": self.sent, "attempts": self.attempts}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PendingRegistration:
        return cls(plan=SeedPlan.from_json(data["plan"]), consent_at=data["consent_at"], created=data["created"],
                   code=data["code"], sent=data["sent"], attempts=data["attempts"])


@dataclass(frozen=True, kw_only=True)
class Activation:
    oid: int
    email: str
    expires: float


@dataclass(kw_only=True)
class RecoveryRequest:
    oid: int
    purpose: Literal["recovery", "unlock"]
    code: str
    sent: float
    attempts: int = 0
    #: Where the code went, as the confirmation page says it.
    hint: str = ""


def _registration_key(rid: str) -> str:
    return f"esia:reg:{rid}"


def _activation_key(token: str) -> str:
    return f"esia:activation:{token}"


def _recovery_key(rid: str) -> str:
    return f"esia:recovery:{rid}"


def _handle(text: str) -> bool:
    """Whether ``text`` can name a request (random handles are short; anything else is not one)."""
    return 0 < len(text) <= 64


class PendingRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    # --- registrations -------------------------------------------------------------------------

    async def save_registration(self, rid: str, pending: PendingRegistration) -> None:
        await self._store.set(_registration_key(rid), json.dumps(pending.to_json()), ttl=REQUEST_LIFETIME * 2)

    async def registration(self, rid: str, *, now: float) -> PendingRegistration | None:
        if not _handle(rid):
            return None
        raw = await self._store.get(_registration_key(rid))
        if raw is None:
            return None
        pending = PendingRegistration.from_json(json.loads(raw))
        return pending if now - pending.created <= REQUEST_LIFETIME else None

    async def drop_registration(self, rid: str) -> None:
        await self._store.delete(_registration_key(rid))

    async def take_registration(self, rid: str) -> bool:
        """Finish the registration; only one caller (on any replica) wins."""
        return await self._store.take(_registration_key(rid)) is not None

    # --- activations ---------------------------------------------------------------------------

    async def save_activation(self, token: str, activation: Activation) -> None:
        await self._store.set(_activation_key(token), json.dumps(asdict(activation)), ttl=ACTIVATION_LIFETIME * 2)

    async def activation(self, token: str) -> Activation | None:
        raw = await self._store.get(_activation_key(token)) if _handle(token) else None
        return None if raw is None else Activation(**json.loads(raw))

    async def drop_activation(self, token: str) -> None:
        await self._store.delete(_activation_key(token))

    # --- recovery and unlock -------------------------------------------------------------------

    async def save_recovery(self, rid: str, request: RecoveryRequest) -> None:
        await self._store.set(_recovery_key(rid), json.dumps(asdict(request)), ttl=REQUEST_LIFETIME)

    async def recovery(self, rid: str) -> RecoveryRequest | None:
        if not _handle(rid):
            return None
        raw = await self._store.get(_recovery_key(rid))
        return None if raw is None else RecoveryRequest(**json.loads(raw))

    async def drop_recovery(self, rid: str) -> None:
        await self._store.delete(_recovery_key(rid))

    async def take_recovery(self, rid: str) -> bool:
        return await self._store.take(_recovery_key(rid)) is not None
