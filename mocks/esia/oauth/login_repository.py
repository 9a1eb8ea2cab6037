"""Where logins in progress and SSO sessions live in the shared store.

- A *login request* (``esia:rid:<rid>``, :class:`LoginRequest`) is what ``ac`` validated:
  client, redirect URI, scopes, state. The login pages carry only its random handle (``rid``).
  After the password it also holds the person's OID and the one-time code sent to them (or,
  for an authenticator app, only the time the code was asked for). A right code ends it
  (:meth:`LoginRepository.finish_request` takes it atomically: one winner across replicas).
- An *SSO session* (``esia:sso:<sid>``, :class:`SsoSession`) lets the next ``ac`` of the same
  browser skip the login pages until logout, :data:`SSO_LIFETIME`, or :data:`SSO_IDLE`
  seconds without use, whichever comes first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ...core.store import Store
from ..accounts.one_time_codes import new_handle

__all__ = ["LOGIN_REQUEST_LIFETIME", "SSO_IDLE", "SSO_LIFETIME", "LoginRepository", "LoginRequest", "SsoSession"]

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

    def to_json(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in (
            "rid", "client_id", "redirect_uri", "scopes", "state", "access_type", "created", "oid", "phone", "otp",
            "otp_sent", "otp_attempts")}
        data["extra"] = {} if self.factor is None else {"factor": self.factor}
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LoginRequest:
        fields = {name: value for name, value in data.items() if name != "extra"}
        return cls(**fields, factor=(data.get("extra") or {}).get("factor"))


@dataclass(kw_only=True)
class SsoSession:
    sid: str
    oid: int
    auth_time: float
    method: str = "PWD"


def _request_key(rid: str) -> str:
    return f"esia:rid:{rid}"


def _session_key(sid: str) -> str:
    return f"esia:sso:{sid}"


class LoginRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def save_request(self, request: LoginRequest) -> None:
        await self._store.set(_request_key(request.rid), json.dumps(request.to_json()),
                              ttl=LOGIN_REQUEST_LIFETIME * 2)

    async def find_request(self, rid: str, *, now: float) -> LoginRequest | None:
        """The live login request ``rid`` names, or ``None`` (unknown, finished or expired)."""
        if not rid or len(rid) > 64:
            return None
        raw = await self._store.get(_request_key(rid))
        if raw is None:
            return None
        request = LoginRequest.from_json(json.loads(raw))
        return request if now - request.created <= LOGIN_REQUEST_LIFETIME else None

    async def finish_request(self, rid: str) -> bool:
        """Consume the request; only one caller (on any replica) wins."""
        return await self._store.take(_request_key(rid)) is not None

    async def open_session(self, *, oid: int, now: float) -> SsoSession:
        session = SsoSession(sid=new_handle(), oid=oid, auth_time=now)
        body = {**vars(session), "expires": now + SSO_LIFETIME, "last_seen": now}
        await self._store.set(_session_key(session.sid), json.dumps(body), ttl=SSO_LIFETIME * 2)
        return session

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
