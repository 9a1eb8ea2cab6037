"""Where client systems' registrations live: ``esia:client:<mnemonic>`` in the shared store, so
every replica sees the same clients and a registration changed on one replica is what the next
request reads on any other."""

from __future__ import annotations

import json
from functools import lru_cache

from ...core.store import Store
from .clients import ClientSystem

__all__ = ["ClientRepository"]

#: Longer mnemonics are never registered (the registration checks the same bound).
_MAX_CLIENT_ID = 64


def _key(client_id: str) -> str:
    return f"esia:client:{client_id}"


@lru_cache(maxsize=256)
def _parse(raw: str) -> ClientSystem:
    """Parsed once per distinct stored text: a login reads its client at ``ac``, at its end and at
    ``te``, and a registration changed on another replica is new text, so nothing stale is served."""
    return ClientSystem.from_json(json.loads(raw))


class ClientRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def find(self, client_id: str) -> ClientSystem | None:
        if len(client_id) > _MAX_CLIENT_ID:
            return None
        raw = await self._store.get(_key(client_id))
        return None if raw is None else _parse(raw)

    async def save(self, client: ClientSystem) -> None:
        await self._store.set(_key(client.client_id), json.dumps(client.to_json()))
