"""The challenges of the signature login, in the shared store.

A challenge is a random string ESIA shows on the signature page of one login request
(``esia:ds:challenge:<login id>``, the id in its ``rid``); the person's signature tool signs it. Each is used once: a
submitted signature takes it (:meth:`ChallengeRepository.take`, atomic across replicas), and
the page shows a new one after a refusal. A taken challenge is remembered as spent by the
Streebog digests a signer may have put in the signature's ``messageDigest`` attribute (256 and
512 bit), so a signature over it sent again is recognised as a replay rather than as a
signature of something unrelated. Lifetimes are judged on the stand's clock; the store's TTL
only clears leftovers.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from ...core.store import Store, Writes
from ...crypto import gost
from .login_repository import LOGIN_REQUEST_LIFETIME

__all__ = ["CHALLENGE_LIFETIME", "Challenge", "ChallengeRepository"]

#: How long a challenge may be signed after ESIA showed it (our choice).
CHALLENGE_LIFETIME = 300
_PREFIX = "gosstand-esia-ds:"


@dataclass(frozen=True, slots=True)
class Challenge:
    text: str
    issued: float

    def expired(self, now: float) -> bool:
        return now - self.issued > CHALLENGE_LIFETIME


def _challenge_key(login_id: str) -> str:
    return f"esia:ds:challenge:{login_id}"


def _spent_key(digest: bytes) -> str:
    return f"esia:ds:spent:{digest.hex()}"


class ChallengeRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def issue(self, login_id: str, *, now: float) -> Challenge:
        """A new challenge for the login request of id ``login_id``, replacing any earlier one."""
        challenge = Challenge(f"{_PREFIX}{secrets.token_urlsafe(32)}", now)
        await self._store.set(_challenge_key(login_id), json.dumps({"text": challenge.text, "issued": now}),
                              ttl=LOGIN_REQUEST_LIFETIME * 2)
        return challenge

    async def take(self, login_id: str) -> Challenge | None:
        """The request's challenge, which no one else can take after this (``None``: none
        shown, or already taken). It is remembered as spent."""
        raw = await self._store.take(_challenge_key(login_id))
        if raw is None:
            return None
        data = json.loads(raw)
        challenge = Challenge(data["text"], data["issued"])
        message = challenge.text.encode()
        ttl = LOGIN_REQUEST_LIFETIME * 2
        await self._store.commit(Writes().set(_spent_key(gost.streebog256(message)), "1", ttl=ttl)
                                 .set(_spent_key(gost.streebog512(message)), "1", ttl=ttl))
        return challenge

    async def spent(self, digest: bytes) -> bool:
        """Whether ``digest`` is the Streebog of a challenge taken before."""
        return len(digest) in (32, 64) and await self._store.get(_spent_key(digest)) is not None
