"""Where logins in progress and SSO sessions live in the shared store.

- A *login request* (``esia:rid:<rid>``, :class:`LoginRequest`) is what ``ac`` validated:
  client, redirect URI, scopes, state. The login pages carry only its random handle (``rid``).
  After the password it also holds the person's OID and the one-time code sent to them (or,
  for an authenticator app, only the time the code was asked for), saved in the same commit
  as the SMS (:meth:`LoginRepository.save_request`'s ``along``). A right code ends it: an
  :class:`Ending` deletes it only while it still holds what was read (one winner across
  replicas) and opens the SSO session, in the one commit that also keeps what the login hands
  back (a code, or a login parked for consent) — so a login's last step is one store commit,
  and a replica killed before it leaves the person free to send the code again.
- An *SSO session* (``esia:sso:<sid>``, :class:`SsoSession`) lets the next ``ac`` of the same
  browser skip the login pages until logout, :data:`SSO_LIFETIME`, or :data:`SSO_IDLE`
  seconds without use, whichever comes first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ...core.store import Store, Writes
from ..accounts.one_time_codes import new_handle

__all__ = ["LOGIN_REQUEST_LIFETIME", "SSO_IDLE", "SSO_LIFETIME", "Ending", "LoginFinished", "LoginRepository",
           "LoginRequest", "SsoSession", "commit_ending"]

LOGIN_REQUEST_LIFETIME = 1800
#: How long an SSO session lasts at most (assumed).
SSO_LIFETIME = 8 * 3600
#: An SSO session unused this long ends (assumed; ESIA says only "after inactivity").
SSO_IDLE = 30 * 60


@dataclass(kw_only=True)
class LoginRequest:
    rid: str
    client_id: str
    redirect_uri: str
    scopes: list[str]
    state: str
    access_type: str
    created: float
    oid: int | None = None
    phone: str | None = None
    #: The code sent by SMS; "" when it comes from the person's authenticator app.
    otp: str | None = None
    otp_sent: float | None = None
    otp_attempts: int = 0
    #: ``sms`` or ``totp``, once the password was right.
    factor: str | None = None
    #: The text it was read as (``None`` before it was stored): what ending it expects to find.
    stored: str | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in (
            "rid", "client_id", "redirect_uri", "scopes", "state", "access_type", "created", "oid", "phone", "otp",
            "otp_sent", "otp_attempts")}
        data["extra"] = {} if self.factor is None else {"factor": self.factor}
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any], *, stored: str | None = None) -> LoginRequest:
        fields = {name: value for name, value in data.items() if name != "extra"}
        return cls(**fields, factor=(data.get("extra") or {}).get("factor"), stored=stored)


@dataclass(kw_only=True)
class SsoSession:
    sid: str
    oid: int
    auth_time: float
    method: str = "PWD"


@dataclass(frozen=True, slots=True)
class Ending:
    """The store changes that end a login request at its right code, to be committed together
    with what the login hands back: the request deleted — only while it still holds ``expect``'s
    text, so of two right codes sent at once only one ends it — and the SSO session opened."""

    writes: Writes
    expect: dict[str, str | None]
    session: SsoSession


class LoginFinished(Exception):
    """Another request ended (or changed) the login request first: its :class:`Ending` did not land."""


async def commit_ending(store: Store, writes: Writes, ending: Ending | None) -> None:
    """Commit ``writes`` — with ``ending``'s, in one commit, when there is one — or raise
    :class:`LoginFinished` when the ending's expectation no longer holds (nothing written)."""
    if ending is None:
        await store.commit(writes)
        return
    if not await store.commit(Writes().extend(ending.writes).extend(writes), expect=ending.expect):
        raise LoginFinished(ending.session.sid)


def _request_key(rid: str) -> str:
    return f"esia:rid:{rid}"


def _session_key(sid: str) -> str:
    return f"esia:sso:{sid}"


class LoginRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def save_request(self, request: LoginRequest, *, along: Writes | None = None) -> None:
        """Store the request, and ``along`` (the SMS that carries its code) in the same commit."""
        text = json.dumps(request.to_json())
        if along is None:
            await self._store.set(_request_key(request.rid), text, ttl=LOGIN_REQUEST_LIFETIME * 2)
            return
        await self._store.commit(Writes().set(_request_key(request.rid), text, ttl=LOGIN_REQUEST_LIFETIME * 2)
                                 .extend(along))

    async def find_request(self, rid: str, *, now: float) -> LoginRequest | None:
        """The live login request ``rid`` names, or ``None`` (unknown, finished or expired)."""
        if not rid or len(rid) > 64:
            return None
        raw = await self._store.get(_request_key(rid))
        if raw is None:
            return None
        request = LoginRequest.from_json(json.loads(raw), stored=raw)
        return request if now - request.created <= LOGIN_REQUEST_LIFETIME else None

    async def finish_request(self, rid: str) -> bool:
        """Consume the request; only one caller (on any replica) wins."""
        return await self._store.take(_request_key(rid)) is not None

    @staticmethod
    def ending(request: LoginRequest, *, oid: int, now: float, method: str = "PWD") -> Ending:
        """What ends ``request`` (as it was read) with a new SSO session for ``oid``; nothing is
        written until the ending is committed (:func:`commit_ending`, :meth:`end`). ``method`` is
        how the person proved who they are (``PWD``, or ``DS`` for an electronic signature),
        which every code the session yields carries."""
        session = SsoSession(sid=new_handle(), oid=oid, auth_time=now, method=method)
        body = {**vars(session), "expires": now + SSO_LIFETIME, "last_seen": now}
        key = _request_key(request.rid)
        writes = Writes().delete(key).set(_session_key(session.sid), json.dumps(body), ttl=SSO_LIFETIME * 2)
        return Ending(writes, {key: request.stored}, session)

    async def end(self, ending: Ending) -> None:
        """Commit ``ending`` by itself (a login refused after its right code); :class:`LoginFinished`
        when another request ended the login first."""
        await commit_ending(self._store, Writes(), ending)

    async def find_session(self, sid: str | None, *, now: float) -> SsoSession | None:
        """The browser's live SSO session; every use keeps it alive for another :data:`SSO_IDLE`."""
        if not sid or len(sid) > 64:
            return None
        raw = await self._store.get(_session_key(sid))
        if raw is None:
            return None
        data = json.loads(raw)
        expires, last_seen = data.pop("expires"), data.pop("last_seen", data["auth_time"])
        if expires <= now or now - last_seen > SSO_IDLE:
            return None
        await self._store.set(_session_key(sid), json.dumps({**data, "expires": expires, "last_seen": now}),
                              ttl=SSO_LIFETIME * 2)
        return SsoSession(**data)

    async def end_session(self, sid: str | None) -> None:
        if sid and len(sid) <= 64:
            await self._store.delete(_session_key(sid))
