"""Where logins in progress and SSO sessions live in the shared store.

- A *login request* (:class:`LoginRequest`) is what ``ac`` validated: client, redirect URI,
  scopes, state. ``ac`` stores nothing: the browser carries the request in its signed handle,
  the ``rid`` (:mod:`.login_handles`). Everything else a login session keeps lives in one
  record under the handle's random id (``esia:rid:<id>``, :func:`record_key`), which moves
  through three states:

  1. *in progress* — from the password step on: the person's OID and the one-time code sent to
     them (or, for an authenticator app, only the time the code was asked for) and the wrong
     attempts, stored in the same commit as the SMS (:meth:`LoginRepository.save_request`'s
     ``along``);
  2. *ended with its code* — a right code ends it: an :class:`Ending` replaces the record by
     what the login hands back (the authorization code's grant, :mod:`.grant_repository`: the
     code names the login by its ``jti``) only while it still holds what was read (one winner
     across replicas; a login never stored expects nothing there), and opens the SSO session, in
     one commit — so a login's last step is one store commit of two keys, and a replica killed
     before it leaves the person free to send the code again;
  3. *ended* (:data:`ENDED`) — the code redeemed (in the commit that keeps the tokens), or the
     login refused, or parked for consent. The record outlives the handle, so a finished
     login's ``rid`` opens nothing.
- An *SSO session* (``esia:sso:<sid>``, :class:`SsoSession`) lets the next ``ac`` of the same
  browser skip the login pages until logout, :data:`SSO_LIFETIME`, or :data:`SSO_IDLE`
  seconds without use, whichever comes first.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from ...core.context import ServiceContext
from ...core.store import Store, Writes
from ..accounts.one_time_codes import new_handle
from .login_handles import HandleFields, LoginHandles, login_handles

__all__ = ["ENDED", "LOGIN_RECORD_LIFETIME", "LOGIN_REQUEST_LIFETIME", "SSO_IDLE", "SSO_LIFETIME", "Ending",
           "LoginFinished", "LoginRepository", "LoginRequest", "SsoSession", "commit_ending", "login_record",
           "record_key"]

LOGIN_REQUEST_LIFETIME = 1800
#: How long an SSO session lasts at most (assumed).
SSO_LIFETIME = 8 * 3600
#: An SSO session unused this long ends (assumed; ESIA says only "after inactivity").
SSO_IDLE = 30 * 60


#: How long a login's record is kept (garbage collection): as long as its handle could be shown.
LOGIN_RECORD_LIFETIME = LOGIN_REQUEST_LIFETIME * 2
#: What a finished login's record holds: its handle opens nothing any more.
ENDED = "ended"


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
    with what the login hands back: the login's record replaced — only while it still holds
    ``expect``'s text, so of two right codes sent at once only one ends it — and the SSO
    session opened."""

    #: The login's record (:func:`record_key` of ``login_id``).
    key: str
    login_id: str
    expect: dict[str, str | None]
    session: SsoSession
    #: The SSO session's write.
    opened: Writes

    def writes(self, record: str = ENDED) -> Writes:
        """The login's record set to ``record`` (what it hands back, or just :data:`ENDED`), and
        the SSO session."""
        return login_record(self.key, record).extend(self.opened)


class LoginFinished(Exception):
    """Another request ended (or changed) the login request first: its :class:`Ending` did not land."""


async def commit_ending(store: Store, writes: Writes, ending: Ending | None, *, record: str = ENDED) -> None:
    """Commit ``writes`` — with ``ending``'s, the login's record set to ``record``, in one
    commit, when there is one — or raise :class:`LoginFinished` when the ending's expectation no
    longer holds (nothing written)."""
    if ending is None:
        await store.commit(writes)
        return
    if not await store.commit(ending.writes(record).extend(writes), expect=ending.expect):
        raise LoginFinished(ending.session.sid)


def record_key(login_id: str) -> str:
    """Where the login session of id ``login_id`` keeps its record (its handle's id, or the
    ``jti`` of a code issued without login pages)."""
    return f"esia:rid:{login_id}"


def login_record(key: str, record: str = ENDED) -> Writes:
    """The write that sets the login record ``key`` to ``record`` (:data:`ENDED` unless given),
    kept for as long as its handle could be shown."""
    return Writes().set(key, record, ttl=LOGIN_RECORD_LIFETIME)


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
        """A new login request, carried by its handle: nothing is written. Its id is a UUID: the
        code the login ends with carries it as its ``jti``. Its record is known to be absent
        (the id is new), so its login page, most often on this replica, reads it from memory."""
        fields = HandleFields(str(uuid.uuid4()), client_id, redirect_uri, tuple(scopes), state, access_type, now)
        self._store.known_absent(record_key(fields.id))
        return LoginRequest.of(self._handles.seal(fields), fields)

    async def save_request(self, request: LoginRequest, *, along: Writes | None = None) -> None:
        """Store the request's progress, and ``along`` (the SMS that carries its code) in the same commit."""
        text = json.dumps(request.progress_json())
        if along is None:
            await self._store.set(record_key(request.id), text, ttl=LOGIN_RECORD_LIFETIME)
            return
        await self._store.commit(login_record(record_key(request.id), text).extend(along))

    async def find_request(self, rid: str, *, now: float) -> LoginRequest | None:
        """The live login request ``rid`` names, or ``None`` (forged, finished or expired)."""
        fields = self._handles.open(rid)
        if fields is None or now - fields.created > LOGIN_REQUEST_LIFETIME:
            return None
        raw = await self._store.get(record_key(fields.id))
        if raw is None:
            return LoginRequest.of(rid, fields)
        if raw == ENDED:
            return None
        progress = json.loads(raw)
        if "code" in progress:  # ended with its code, not redeemed yet
            return None
        return LoginRequest.of(rid, fields, progress, stored=raw)

    async def finish_request(self, request: LoginRequest) -> bool:
        """End the request as it was read; only one caller (on any replica) wins."""
        key = record_key(request.id)
        return await self._store.commit(login_record(key), expect={key: request.stored})

    @staticmethod
    def ending(request: LoginRequest, *, oid: int, now: float, method: str = "PWD") -> Ending:
        """What ends ``request`` (as it was read) with a new SSO session for ``oid``; nothing is
        written until the ending is committed (:func:`commit_ending`, :meth:`end`). ``method`` is
        how the person proved who they are (``PWD``, or ``DS`` for an electronic signature),
        which every code the session yields carries."""
        session = SsoSession(sid=new_handle(), oid=oid, auth_time=now, method=method)
        body = {**vars(session), "expires": now + SSO_LIFETIME, "last_seen": now}
        opened = Writes().set(_session_key(session.sid), json.dumps(body), ttl=SSO_LIFETIME * 2)
        key = record_key(request.id)
        return Ending(key, request.id, {key: request.stored}, session, opened)

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
