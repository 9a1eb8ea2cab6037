"""Where logins in progress and SSO sessions live in the shared store.

- A *login request* (:class:`LoginRequest`) is what ``ac`` validated: client, redirect URI,
  scopes, state. ``ac`` stores nothing: the browser carries the request in its signed handle,
  the ``rid`` (:mod:`.login_handles`). From the password step on, what must be kept once for all
  replicas — the person's OID and the one-time code sent to them (or, for an authenticator app,
  only the time the code was asked for), the wrong attempts — is stored under the handle's random
  id (``esia:rid:<id>``), in the same commit as the SMS (:meth:`LoginRepository.save_request`'s
  ``along``). A right code ends it: an :class:`Ending` marks it ended only while it still holds
  what was read (one winner across replicas; a login never stored expects nothing there) and
  opens the SSO session, in the one commit that also keeps what the login hands back (a code, or
  a login parked for consent) — so a login's last step is one store commit, and a replica killed
  before it leaves the person free to send the code again. The ended mark outlives the handle,
  so a finished login's ``rid`` opens nothing.
- An *SSO session* (``esia:sso:<sid>``, :class:`SsoSession`) lets the next ``ac`` of the same
  browser skip the login pages until logout, :data:`SSO_LIFETIME`, or :data:`SSO_IDLE`
  seconds without use, whichever comes first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ...core.context import ServiceContext
from ...core.store import Store, Writes
from ..accounts.one_time_codes import new_handle
from .login_handles import HandleFields, LoginHandles, login_handles

__all__ = ["LOGIN_REQUEST_LIFETIME", "SSO_IDLE", "SSO_LIFETIME", "Ending", "LoginFinished", "LoginRepository",
           "LoginRequest", "SsoSession", "commit_ending"]

LOGIN_REQUEST_LIFETIME = 1800
#: How long an SSO session lasts at most (assumed).
SSO_LIFETIME = 8 * 3600
#: An SSO session unused this long ends (assumed; ESIA says only "after inactivity").
SSO_IDLE = 30 * 60


#: What a finished login's record holds: its handle opens nothing any more.
_ENDED = "ended"


@dataclass(kw_only=True)
class LoginRequest:
    #: The handle the pages carry (:mod:`.login_handles`).
    rid: str
    #: The handle's random id: where the login's progress is stored.
    id: str
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
    #: The progress text it was read with (``None``: nothing stored yet): what ending it expects to find.
    stored: str | None = field(default=None, repr=False, compare=False)

    def progress_json(self) -> dict[str, Any]:
        """What is stored of the request (the rest is in its handle)."""
        data = {name: getattr(self, name) for name in ("oid", "phone", "otp", "otp_sent", "otp_attempts")}
        data["extra"] = {} if self.factor is None else {"factor": self.factor}
        return data

    @classmethod
    def of(cls, rid: str, fields: HandleFields, progress: dict[str, Any] | None = None, *,
           stored: str | None = None) -> LoginRequest:
        known = {name: value for name, value in (progress or {}).items() if name != "extra"}
        return cls(rid=rid, id=fields.id, client_id=fields.client_id, redirect_uri=fields.redirect_uri,
                   scopes=list(fields.scopes), state=fields.state, access_type=fields.access_type,
                   created=fields.created, **known, factor=((progress or {}).get("extra") or {}).get("factor"),
                   stored=stored)


@dataclass(kw_only=True)
class SsoSession:
    sid: str
    oid: int
    auth_time: float
    method: str = "PWD"


@dataclass(frozen=True, slots=True)
class Ending:
    """The store changes that end a login request at its right code, to be committed together
    with what the login hands back: the request marked ended — only while it still holds ``expect``'s
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


def _ended(request: LoginRequest) -> Writes:
    """The write that marks ``request`` ended, for as long as its handle could be shown."""
    return Writes().set(_request_key(request.id), _ENDED, ttl=LOGIN_REQUEST_LIFETIME * 2)


def _session_key(sid: str) -> str:
    return f"esia:sso:{sid}"


class LoginRepository:
    def __init__(self, store: Store, handles: LoginHandles) -> None:
        self._store = store
        self._handles = handles

    @classmethod
    def of(cls, ctx: ServiceContext) -> LoginRepository:
        return cls(ctx.store, login_handles(ctx.settings))

    def start(self, *, client_id: str, redirect_uri: str, scopes: list[str], state: str, access_type: str,
              now: float) -> LoginRequest:
        """A new login request, carried by its handle: nothing is written."""
        fields = HandleFields(new_handle(), client_id, redirect_uri, tuple(scopes), state, access_type, now)
        return LoginRequest.of(self._handles.seal(fields), fields)

    async def save_request(self, request: LoginRequest, *, along: Writes | None = None) -> None:
        """Store the request's progress, and ``along`` (the SMS that carries its code) in the same commit."""
        text = json.dumps(request.progress_json())
        if along is None:
            await self._store.set(_request_key(request.id), text, ttl=LOGIN_REQUEST_LIFETIME * 2)
            return
        await self._store.commit(Writes().set(_request_key(request.id), text, ttl=LOGIN_REQUEST_LIFETIME * 2)
                                 .extend(along))

    async def find_request(self, rid: str, *, now: float) -> LoginRequest | None:
        """The live login request ``rid`` names, or ``None`` (forged, finished or expired)."""
        fields = self._handles.open(rid)
        if fields is None or now - fields.created > LOGIN_REQUEST_LIFETIME:
            return None
        raw = await self._store.get(_request_key(fields.id))
        if raw is None:
            return LoginRequest.of(rid, fields)
        if raw == _ENDED:
            return None
        return LoginRequest.of(rid, fields, json.loads(raw), stored=raw)

    async def finish_request(self, request: LoginRequest) -> bool:
        """End the request as it was read; only one caller (on any replica) wins."""
        return await self._store.commit(_ended(request), expect={_request_key(request.id): request.stored})

    @staticmethod
    def ending(request: LoginRequest, *, oid: int, now: float, method: str = "PWD") -> Ending:
        """What ends ``request`` (as it was read) with a new SSO session for ``oid``; nothing is
        written until the ending is committed (:func:`commit_ending`, :meth:`end`). ``method`` is
        how the person proved who they are (``PWD``, or ``DS`` for an electronic signature),
        which every code the session yields carries."""
        session = SsoSession(sid=new_handle(), oid=oid, auth_time=now, method=method)
        body = {**vars(session), "expires": now + SSO_LIFETIME, "last_seen": now}
        writes = _ended(request).set(_session_key(session.sid), json.dumps(body), ttl=SSO_LIFETIME * 2)
        return Ending(writes, {_request_key(request.id): request.stored}, session)

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
