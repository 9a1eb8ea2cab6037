"""Where what a person granted a client lives between the login and the tokens.

- ``esia:code:<sha256 of the code>`` — the :class:`Authorization` an authorization code carries,
  with the ``state`` of the ``ac`` it answered and when it expires;
- ``esia:rt:<refresh token>`` — the authorization a refresh token carries, and when it expires.

Both are single use. Reading one gives a :class:`Proof` — the record's key and its text as read —
and the proof is spent by deleting the key only while it still holds that text: in the same
store commit that keeps the new refresh token (:meth:`GrantRepository.keep_tokens`), or at once
when the request is refused (:meth:`GrantRepository.spend`). Why one commit: :mod:`.codes`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from ...core.store import Store, Writes
from ..errors import GRANT_INVALID, EsiaError
from .login_repository import Ending, commit_ending
from .tokens import AUTH_CODE_LIFETIME, REFRESH_TOKEN_LIFETIME

__all__ = ["Authorization", "GrantRepository", "Proof", "Stored"]

#: Codes longer than this were never issued here (a signed JWT is about 1 kB).
_MAX_CODE = 8192
_MAX_REFRESH_TOKEN = 64


@dataclass(frozen=True, kw_only=True)
class Authorization:
    """What a user granted a client: carried by a code, then by a refresh token."""

    oid: int
    client_id: str
    scopes: tuple[str, ...]
    session_id: str
    auth_time: float
    method: str = "PWD"
    redirect_uri: str = ""
    access_type: str = "online"
    #: The ``state`` of the ``ac`` request the code answered (strict clients: ``te`` must differ).
    ac_state: str = ""
    #: ``P`` — a person logged in; ``O`` — an organisation's data for a client system
    #: (``client_credentials``: ``oid`` is then the organisation's).
    subject_type: str = "P"
    #: The person's account was confirmed when they logged in (the tokens' ``is_tru``).
    trusted: bool = False

    def to_json(self) -> dict[str, Any]:
        return {**vars(self), "scopes": list(self.scopes)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Authorization:
        return cls(**{**data, "scopes": tuple(data["scopes"])})


@dataclass(frozen=True, slots=True)
class Proof:
    """A single-use proof (an authorization code, a refresh token) as read from the store: it
    is spent by deleting ``key`` while it still holds ``text``."""

    key: str
    text: str
    #: What to call it when it turns out to be spent already: "Authorization code", "Refresh token".
    name: str

    def reused(self, state: str | None) -> EsiaError:
        return EsiaError(GRANT_INVALID, f"{self.name} is invalid, expired or already used", state=state)


@dataclass(frozen=True, slots=True)
class Stored:
    """A proof found in the store: what it grants, until when, and the proof to spend."""

    grant: Authorization
    expires: float
    proof: Proof


def _code_key(code: str) -> str:
    return "esia:code:" + hashlib.sha256(code.encode()).hexdigest()


def _refresh_key(token: str) -> str:
    return f"esia:rt:{token}"


class GrantRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def keep_code(self, code: str, grant: Authorization, *, state: str, now: float,
                        along: Ending | None = None) -> None:
        """Keep what ``code`` grants — with ``along``, the end of the login it finishes, in the
        same commit (:class:`~.login_repository.LoginFinished` when that login ended meanwhile)."""
        record = {**grant.to_json(), "ac_state": state, "expires": now + AUTH_CODE_LIFETIME}
        writes = Writes().set(_code_key(code), json.dumps(record), ttl=AUTH_CODE_LIFETIME * 4)
        await commit_ending(self._store, writes, along)

    async def find_code(self, code: str) -> Stored | None:
        return await self._find(_code_key(code), "Authorization code") if len(code) < _MAX_CODE else None

    async def find_refresh_token(self, token: str) -> Stored | None:
        return await self._find(_refresh_key(token), "Refresh token") if len(token) <= _MAX_REFRESH_TOKEN else None

    async def _find(self, key: str, name: str) -> Stored | None:
        raw = await self._store.get(key)
        if raw is None:
            return None
        data = json.loads(raw)
        expires = data.pop("expires")
        return Stored(Authorization.from_json(data), expires, Proof(key=key, text=raw, name=name))

    async def spend(self, proof: Proof) -> None:
        """Use the proof up without tokens (a refused redemption)."""
        await self._store.delete(proof.key)

    async def keep_tokens(self, refresh_token: str, grant: Authorization, *, now: float,
                          proof: Proof | None) -> bool:
        """Keep a new refresh token for ``grant`` and spend ``proof`` in one commit; ``False``
        (nothing written) when another request spent the proof meanwhile."""
        record = {**grant.to_json(), "expires": now + REFRESH_TOKEN_LIFETIME}
        writes = Writes().set(_refresh_key(refresh_token), json.dumps(record), ttl=REFRESH_TOKEN_LIFETIME)
        if proof is not None:
            writes.delete(proof.key)
        return await self._store.commit(writes, expect=None if proof is None else {proof.key: proof.text})
