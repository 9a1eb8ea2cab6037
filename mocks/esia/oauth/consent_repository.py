"""Where consent lives in the shared store.

- ``esia:consent:<oid>:<client_id>`` — the scopes a person has granted a client system (sorted
  JSON list), so the consent page is asked once per set of scopes;
- ``esia:consent-rid:<crid>`` — a finished login parked while the person decides
  (:class:`PendingConsent`);
- ``esia:withdrawn:<oid>:<client_id>`` — when the person last withdrew the client system's
  access (in their profile, as on Gosuslugi): refresh tokens of logins before it are revoked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ...core.store import Store, Writes
from .grant_repository import Authorization
from .login_repository import LOGIN_REQUEST_LIFETIME, Ending, commit_ending
from .tokens import REFRESH_TOKEN_LIFETIME

__all__ = ["ConsentRepository", "PendingConsent"]


@dataclass(frozen=True, slots=True)
class PendingConsent:
    """A login that only waits for the person's decision: what it would grant, and where to."""

    grant: Authorization
    state: str
    redirect_uri: str
    created: float

    def to_json(self) -> dict[str, Any]:
        return {"grant": self.grant.to_json(), "state": self.state, "redirect_uri": self.redirect_uri,
                "created": self.created}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PendingConsent:
        return cls(Authorization.from_json(data["grant"]), data["state"], data["redirect_uri"], data["created"])


def _granted_key(oid: int, client_id: str) -> str:
    return f"esia:consent:{oid}:{client_id}"


def _withdrawn_key(oid: int, client_id: str) -> str:
    return f"esia:withdrawn:{oid}:{client_id}"


def _pending_key(crid: str) -> str:
    return f"esia:consent-rid:{crid}"


class ConsentRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def granted(self, oid: int, client_id: str) -> frozenset[str]:
        raw = await self._store.get(_granted_key(oid, client_id))
        return frozenset(json.loads(raw)) if raw else frozenset()

    async def remember(self, oid: int, client_id: str, scopes: list[str]) -> None:
        """Add ``scopes`` to what the person has granted the client."""
        granted = await self.granted(oid, client_id)
        await self._store.set(_granted_key(oid, client_id), json.dumps(sorted(granted | set(scopes))))

    async def withdraw(self, oid: int, client_id: str, *, now: float) -> None:
        """The person withdraws the client's access: consent forgotten (the next login asks
        again), and every refresh token of an earlier login revoked."""
        await self._store.commit(Writes().delete(_granted_key(oid, client_id))
                                 .set(_withdrawn_key(oid, client_id), json.dumps(now), ttl=REFRESH_TOKEN_LIFETIME))

    async def withdrawn_at(self, oid: int, client_id: str) -> float | None:
        raw = await self._store.get(_withdrawn_key(oid, client_id))
        return None if raw is None else float(json.loads(raw))

    async def park(self, crid: str, pending: PendingConsent, *, along: Ending | None = None) -> None:
        """Park the login — with ``along``, the end of its login request, in the same commit."""
        writes = Writes().set(_pending_key(crid), json.dumps(pending.to_json()), ttl=LOGIN_REQUEST_LIFETIME * 2)
        await commit_ending(self._store, writes, along)

    async def pending(self, crid: str, *, now: float, take: bool = False) -> PendingConsent | None:
        """The live parked login ``crid`` names (taken, so only one decision counts, with ``take``)."""
        if not crid or len(crid) > 64:
            return None
        raw = await (self._store.take if take else self._store.get)(_pending_key(crid))
        if raw is None:
            return None
        pending = PendingConsent.from_json(json.loads(raw))
        return pending if now - pending.created <= LOGIN_REQUEST_LIFETIME else None
