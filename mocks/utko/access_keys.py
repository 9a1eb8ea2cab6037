"""Per-object access keys for REO's weight-control import (a machine integration, not ESIA).

A key is issued when an object is registered (returned once, in the ``X-Access-Key`` header
of the 201) and can be reissued or set to a known value through the control API. The store
keeps only its SHA-256 (``utko:object:{id}:access-key``), so a key can be checked but never read
back: whoever lost it asks for a new one, which invalidates the old.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from ..core.store import Store

__all__ = ["ACCESS_KEY_HEADER", "check_access_key", "issue_access_key"]

ACCESS_KEY_HEADER = "X-Access-Key"


def _key(object_id: str) -> str:
    return f"utko:object:{object_id}:access-key"


def _digest(access_key: str) -> str:
    return hashlib.sha256(access_key.encode()).hexdigest()


async def issue_access_key(store: Store, object_id: str, *, access_key: str | None = None) -> str:
    """Give the object a (new) key — ``access_key`` when given, else a random one — and return it."""
    issued = access_key if access_key is not None else secrets.token_urlsafe(24)
    await store.set(_key(object_id), _digest(issued))
    return issued


async def check_access_key(store: Store, object_id: str, access_key: str) -> bool:
    expected = await store.get(_key(object_id))
    return expected is not None and hmac.compare_digest(expected, _digest(access_key))
