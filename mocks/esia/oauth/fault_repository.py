"""Where the failure switches (:mod:`.faults`) live: ``esia:faults:client:<client_id>`` and
``esia:faults:user:<oid>``, each ``{"faults": [...], "until": epoch seconds or null}``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from ...core.store import Store

__all__ = ["FaultRepository", "Switches"]

#: Whose switches: a client system's or a person's.
Holder = Literal["client", "user"]


def _key(kind: Holder, ident: str | int) -> str:
    return f"esia:faults:{kind}:{ident}"


@dataclass(frozen=True, slots=True)
class Switches:
    """The switches that are on, and when they all go off (``None``: not by themselves)."""

    on: tuple[str, ...]
    until: float | None

    def to_json(self) -> dict[str, Any]:
        return {"faults": list(self.on), "until": self.until}

    def live(self, now: float) -> frozenset[str]:
        return frozenset() if self.until is not None and now >= self.until else frozenset(self.on)


def _parse(raw: str | None) -> Switches | None:
    if raw is None:
        return None
    record = json.loads(raw)
    return Switches(tuple(record["faults"]), record["until"])


class FaultRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def change(self, kind: Holder, ident: str | int, switches: dict[str, bool], seconds: float | None, *,
                     now: float) -> Switches:
        """Turn ``switches`` on or off, keeping the others that are still on; all of them end
        ``seconds`` from ``now`` (``None``: when switched off)."""
        current = _parse(await self._store.get(_key(kind, ident)))
        live = current.live(now) if current is not None else frozenset()
        on = (live | {n for n, v in switches.items() if v}) - {n for n, v in switches.items() if not v}
        changed = Switches(tuple(sorted(on)), None if seconds is None else now + seconds)
        await self._store.set(_key(kind, ident), json.dumps(changed.to_json()))
        return changed

    async def active(self, *, client_id: str | None = None, oid: int | None = None, now: float) -> frozenset[str]:
        """The switches on for this client and this person (either may be ``None``)."""
        keys = []
        if client_id is not None:
            keys.append(_key("client", client_id))
        if oid is not None:
            keys.append(_key("user", oid))
        if not keys:
            return frozenset()
        on: set[str] = set()
        for raw in await self._store.get_many(keys):
            switches = _parse(raw)
            if switches is not None:
                on |= switches.live(now)
        return frozenset(on)
