"""The state of a login in progress, the SMS second factor, and the SSO session.

- A *login request* (``esia:rid:<rid>``) is what ``ac`` validated: client, redirect URI,
  scopes, state. The login pages carry only its random id (``rid``).
- After the password, the request holds the user's OID and a 6-digit SMS code valid for
  :data:`OTP_LIFETIME` seconds on the mock's clock; the message goes to the user's outbox
  (``esia:sms:<phone>``), which the control API reads back for tests and load runs.
- A right code ends the request (taken atomically: one winner across replicas) and opens an
  SSO session (``esia:sso:<sid>``, cookie :data:`SSO_COOKIE`) that lets the next ``ac`` of the
  same browser skip the login pages until logout, :data:`SSO_LIFETIME` or
  :data:`SSO_IDLE` seconds without use, whichever comes first.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from ...core.store import Store

LOGIN_REQUEST_LIFETIME = 1800
OTP_LIFETIME = 600
MAX_OTP_ATTEMPTS = 3
#: How long an SSO session lasts at most (assumed).
SSO_LIFETIME = 8 * 3600
#: An SSO session unused this long ends (assumed; the seeds say only "after inactivity").
SSO_IDLE = 30 * 60
SSO_COOKIE = "esia_sso"


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
    otp: str | None = None
    otp_sent: float | None = None
    otp_attempts: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"esia:rid:{self.rid}"


def new_id() -> str:
    return secrets.token_urlsafe(18)


async def save_request(store: Store, request: LoginRequest) -> None:
    await store.set(request.key, json.dumps(vars(request)), ttl=LOGIN_REQUEST_LIFETIME * 2)


async def find_request(store: Store, rid: str, *, now: float) -> LoginRequest | None:
    """The live login request ``rid`` names, or ``None`` (unknown, finished or expired)."""
    if not rid or len(rid) > 64:
        return None
    raw = await store.get(f"esia:rid:{rid}")
    if raw is None:
        return None
    request = LoginRequest(**json.loads(raw))
    return request if now - request.created <= LOGIN_REQUEST_LIFETIME else None


async def finish_request(store: Store, rid: str) -> bool:
    """Consume the request; only one caller (on any replica) wins."""
    return await store.take(f"esia:rid:{rid}") is not None


def new_otp() -> str:
    return f"{secrets.randbelow(10**6):06d}"


async def send_sms(store: Store, *, phone: str, code: str, now: float) -> None:
    message = {
        "phone": phone,
        "code": code,
        "sent_at": now,
        "text": f"Код подтверждения: {code}. Никому не сообщайте его. Госуслуги",
    }
    await store.append(f"esia:sms:{phone}", json.dumps(message, ensure_ascii=False))


async def outbox(store: Store, phone: str, *, last: int | None = None) -> list[dict[str, Any]]:
    """The messages sent to ``phone``, oldest first; only the ``last`` few when given (a load
    run reads one code per login, and a phone's outbox grows with every login)."""
    start = -last if last else 0
    return [json.loads(item) for item in await store.items(f"esia:sms:{phone}", start)]


@dataclass(kw_only=True)
class SsoSession:
    sid: str
    oid: int
    auth_time: float
    method: str = "PWD"


async def open_session(store: Store, *, oid: int, now: float) -> SsoSession:
    session = SsoSession(sid=new_id(), oid=oid, auth_time=now)
    body = {**vars(session), "expires": now + SSO_LIFETIME, "last_seen": now}
    await store.set(f"esia:sso:{session.sid}", json.dumps(body), ttl=SSO_LIFETIME * 2)
    return session


async def find_session(store: Store, sid: str | None, *, now: float) -> SsoSession | None:
    if not sid or len(sid) > 64:
        return None
    raw = await store.get(f"esia:sso:{sid}")
    if raw is None:
        return None
    data = json.loads(raw)
    expires, last_seen = data.pop("expires"), data.pop("last_seen", data["auth_time"])
    if expires <= now or now - last_seen > SSO_IDLE:
        return None
    # Every use keeps the session alive for another SSO_IDLE seconds.
    await store.set(f"esia:sso:{sid}", json.dumps({**data, "expires": expires, "last_seen": now}), ttl=SSO_LIFETIME * 2)
    return SsoSession(**data)


async def end_session(store: Store, sid: str | None) -> None:
    if sid and len(sid) <= 64:
        await store.delete(f"esia:sso:{sid}")
