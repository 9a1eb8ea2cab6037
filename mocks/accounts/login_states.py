"""The ``state`` of each sign-in the account has started, kept in the service's store until the
browser comes back with it (any replica may take the callback), and spent there once.

A state is bound to the browser that started the sign-in by a random value in a cookie of its
own: a callback carrying a state that this browser did not start — an attacker's link that
would sign the victim in to the attacker's account — is refused, as is a state already used.
"""

from __future__ import annotations

import json
import secrets
import uuid

from ..core.store import Store

__all__ = ["LoginStates", "STATE_LIFETIME"]

#: A sign-in must come back within this long (ESIA's own codes live 240 s; the pages take longer).
STATE_LIFETIME = 30 * 60
_PREFIX = "accounts:state:"


class LoginStates:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def start(self, *, binding: str, now: float) -> str:
        """A new state for the browser holding ``binding``."""
        state = str(uuid.uuid4())  # a UUID, as ESIA wants; from the system's random source
        await self._store.set(_PREFIX + state, json.dumps({"binding": binding, "started": now}), ttl=STATE_LIFETIME)
        return state

    async def take(self, state: str, *, binding: str | None, now: float) -> bool:
        """Whether ``state`` was started by this browser and not used yet; spends it either way,
        so a state shown twice opens nothing the second time."""
        if not state or len(state) > 64:
            return False
        raw = await self._store.take(_PREFIX + state)
        if raw is None or binding is None:
            return False
        record = json.loads(raw)
        fresh = now - float(record["started"]) < STATE_LIFETIME
        return fresh and secrets.compare_digest(str(record["binding"]), binding)
