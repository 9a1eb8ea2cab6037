"""UTKO sessions that end after inactivity (the seed's "sessions expire").

A session is the use of one ESIA access token at UTKO: it opens with the token's first request
and ends when the token has not been used for :data:`IDLE_SECONDS` on the stand's clock — even
if the token itself has not expired yet. An ended session stays ended: the client must log in
through ESIA again and come back with a new token. ``utko:session:{sha256(token)}`` holds the
last use (µs); it is rewritten at most every :data:`TOUCH_SECONDS` so that busy clients do not
write on every request.
"""

from __future__ import annotations

import hashlib

from ..core.store import Store

__all__ = ["IDLE_SECONDS", "TOUCH_SECONDS", "session_alive"]

IDLE_SECONDS = 30 * 60
TOUCH_SECONDS = 30
_ENDED = "ended"
#: Wall-clock garbage collection only; expiry itself is judged on the stand's clock.
_GC_SECONDS = 2 * 24 * 3600


def _key(token: str) -> str:
    return "utko:session:" + hashlib.sha256(token.encode()).hexdigest()[:40]


async def session_alive(store: Store, token: str, *, now: float) -> bool:
    """Whether the token's session is still open at ``now``; records this use."""
    key = _key(token)
    raw = await store.get(key)
    if raw == _ENDED:
        return False
    if raw is not None:
        idle = now - int(raw) / 1e6
        if idle > IDLE_SECONDS:
            await store.set(key, _ENDED, ttl=_GC_SECONDS)
            return False
        if idle < TOUCH_SECONDS:
            return True
    await store.set(key, str(int(now * 1_000_000)), ttl=_GC_SECONDS)
    return True
