"""Where what a person granted a client lives between the login and the tokens.

- an authorization code's record — the :class:`Authorization` the code carries, a digest of
  the code, the ``state`` of the ``ac`` it answered and when it expires — is the record of the
  login session it ends (:func:`~.login_repository.record_key` of the code's ``jti``): kept in
  the commit that ends the login, and read back at ``te`` from the ``jti`` of the code shown,
  which must match the digest. A code issued without the login pages (an SSO session at ``ac``,
  a consent given later) gets a record of its own under its ``jti``;
- ``esia:rt:<refresh token>`` — the authorization a refresh token carries, and when it expires.

Both are single use. Reading one gives a :class:`Proof` — the record's key and its text as read —
and the proof is spent — a login's record marked ended, any other record deleted — only while it
still holds that text: in the same store commit that keeps the new refresh token
(:meth:`GrantRepository.keep_tokens`), or at once when the request is refused
(:meth:`GrantRepository.spend`). Why one commit: :mod:`.codes`.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from ...core.store import Store, Writes
from ...crypto.b64url import unb64url
from ..errors import GRANT_INVALID, EsiaError
from .login_repository import ENDED, Ending, commit_ending, login_record, record_key
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
    is spent by replacing ``key``'s text (:meth:`spending`) while it still holds ``text``."""

    key: str
    text: str
    #: What to call it when it turns out to be spent already: "Authorization code", "Refresh token".
    name: str
    #: The proof is the record of a login with pages: spending it leaves the record ended (the
    #: login's handle opens nothing); any other proof is deleted.
    login: bool = False

    def reused(self, state: str | None) -> EsiaError:
        return EsiaError(GRANT_INVALID, f"{self.name} is invalid, expired or already used", state=state)

    def spending(self) -> Writes:
        """The write that spends the proof."""
        return login_record(self.key, ENDED) if self.login else Writes().delete(self.key)


@dataclass(frozen=True, slots=True)
class Stored:
    """A proof found in the store: what it grants, until when, and the proof to spend."""

    grant: Authorization
    expires: float
    proof: Proof


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _code_id(code: str) -> str | None:
    """The ``jti`` of a code (a JWT), unverified — only where to look: the record found must hold
    the code's digest. ``None`` for a text that is no JWT with a ``jti``."""
    parts = code.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(unb64url(parts[1]))
    except (binascii.Error, ValueError, RecursionError):  # not base64, not JSON, or nested past the parser's depth
        return None
    code_id = claims.get("jti") if isinstance(claims, dict) else None
    return code_id if isinstance(code_id, str) and 0 < len(code_id) <= 64 else None


def _refresh_key(token: str) -> str:
    return f"esia:rt:{token}"


class GrantRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def keep_code(self, code: str, code_id: str, grant: Authorization, *, state: str, now: float,
                        along: Ending | None = None) -> None:
        """Keep what ``code`` (whose ``jti`` is ``code_id``) grants — with ``along``, the end of the
        login it finishes, as that login's record in the same commit (``code_id`` is then the
        login's id; :class:`~.login_repository.LoginFinished` when that login ended meanwhile)."""
        record = {**grant.to_json(), "ac_state": state, "expires": now + AUTH_CODE_LIFETIME, "code": _digest(code)}
        if along is not None:
            assert along.login_id == code_id, "a login's code is kept as the login's record"
            await commit_ending(self._store, Writes(), along, record=json.dumps({**record, "login": True}))
            return
        await self._store.set(record_key(code_id), json.dumps(record), ttl=AUTH_CODE_LIFETIME * 4)

    async def find_code(self, code: str) -> Stored | None:
        code_id = _code_id(code) if len(code) < _MAX_CODE else None
        return None if code_id is None else await self._find(record_key(code_id), "Authorization code",
                                                              digest=_digest(code))

    async def find_refresh_token(self, token: str) -> Stored | None:
        return await self._find(_refresh_key(token), "Refresh token") if len(token) <= _MAX_REFRESH_TOKEN else None

    async def _find(self, key: str, name: str, *, digest: str | None = None) -> Stored | None:
        """The record at ``key`` — for a code (``digest``), only the record of that very code."""
        raw = await self._store.get(key)
        if raw is None or not raw.startswith("{"):  # none, or a login's record ended (its code spent)
            return None
        data = json.loads(raw)
        if digest is not None:
            held = data.pop("code", None)
            if not isinstance(held, str) or not hmac.compare_digest(held, digest):
                return None  # a login still in progress, or a text that is not this code
        login = bool(data.pop("login", False))
        expires = data.pop("expires")
        return Stored(Authorization.from_json(data), expires, Proof(key, raw, name, login=login))

    async def spend(self, proof: Proof) -> None:
        """Use the proof up without tokens (a refused redemption)."""
        await self._store.commit(proof.spending())

    async def keep_tokens(self, refresh_token: str, grant: Authorization, *, now: float,
                          proof: Proof | None) -> bool:
        """Keep a new refresh token for ``grant`` and spend ``proof`` in one commit; ``False``
        (nothing written) when another request spent the proof meanwhile."""
        record = {**grant.to_json(), "expires": now + REFRESH_TOKEN_LIFETIME}
        writes = Writes().set(_refresh_key(refresh_token), json.dumps(record), ttl=REFRESH_TOKEN_LIFETIME)
        if proof is not None:
            writes.extend(proof.spending())
        return await self._store.commit(writes, expect=None if proof is None else {proof.key: proof.text})
