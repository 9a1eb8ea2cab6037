"""The account's own sessions, in the service's store so that every replica serves them.

A session ends after :data:`IDLE_LIFETIME` without a request, :data:`ABSOLUTE_LIFETIME` after
sign-in in any case (the limits ESIA's own sessions keep in the stand), or at logout; all three
are read on the service's clock, so a test moves time instead of waiting. The cookie holds only
the session's random id.

The session also keeps ESIA's tokens: the access token the APIs are called with, the refresh
token that renews it, and when the access token ends — on the service's clock, as its remaining
life when it was issued, so the service's clock alone decides when to renew it
(:mod:`.token_refresh`).
"""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from ..core.store import Store, Writes
from .acting import ActingFor, Place

__all__ = ["ABSOLUTE_LIFETIME", "IDLE_LIFETIME", "Session", "SessionContended", "SessionRepository"]

IDLE_LIFETIME = 30 * 60
ABSOLUTE_LIFETIME = 8 * 3600
#: A request refreshes the idle timer in the store at most this often (one write per minute,
#: not one per page).
_TOUCH_EVERY = 60
_PREFIX = "accounts:session:"
#: Compare-and-set rounds before a save gives up (one person's concurrent requests, not a crowd).
_UPDATE_ATTEMPTS = 8


class SessionContended(RuntimeError):
    """A session record kept changing under a save: :data:`_UPDATE_ATTEMPTS` rounds lost."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    sid: str
    oid: int
    name: str
    inn: str
    places: list[Place]
    access_token: str
    created: float
    seen: float
    #: ESIA's refresh token ("" when ESIA gave none: the session then ends with its access token).
    refresh_token: str = ""
    #: When the access token ends, on the service's clock.
    token_expires: float = math.inf
    acting: ActingFor | None = None
    #: A first-login registration under way (:mod:`.fgis_registration`): the organisation's OID
    #: once its INN or OGRN matched, awaiting consent.
    registering: int | None = None

    def live_at(self, now: float) -> bool:
        return now - self.seen < IDLE_LIFETIME and now - self.created < ABSOLUTE_LIFETIME

    def to_json(self) -> dict[str, Any]:
        return {"sid": self.sid, "oid": self.oid, "name": self.name, "inn": self.inn,
                "places": [place.to_json() for place in self.places], "access_token": self.access_token,
                "created": self.created, "seen": self.seen, "registering": self.registering,
                "refresh_token": self.refresh_token, "token_expires": self.token_expires,
                "acting": None if self.acting is None else self.acting.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Session:
        acting = data.get("acting")
        return cls(sid=data["sid"], oid=data["oid"], name=data["name"], inn=data["inn"],
                   places=[Place.from_json(place) for place in data["places"]], access_token=data["access_token"],
                   created=data["created"], seen=data["seen"], registering=data.get("registering"),
                   refresh_token=data.get("refresh_token", ""), token_expires=data.get("token_expires", math.inf),
                   acting=None if acting is None else ActingFor.from_json(acting))


class SessionRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def open(self, *, oid: int, name: str, inn: str, places: list[Place], access_token: str,
                   refresh_token: str, token_expires: float, now: float) -> Session:
        session = Session(sid=secrets.token_urlsafe(32), oid=oid, name=name, inn=inn, places=places,
                          access_token=access_token, refresh_token=refresh_token, token_expires=token_expires,
                          created=now, seen=now)
        await self._store.set(_PREFIX + session.sid, json.dumps(session.to_json(), ensure_ascii=False),
                              ttl=ABSOLUTE_LIFETIME)
        return session

    async def save(self, session: Session) -> Session | None:
        """Keep a page's change of ``session`` (whom the person acts for, a registration under
        way, the idle timer) — everything but ESIA's tokens, which stay as stored: the page's copy
        may predate a renewal another request made meanwhile. ``None`` when the session ended."""
        return await self._update(session.sid, lambda stored: replace(
            session, access_token=stored.access_token, refresh_token=stored.refresh_token,
            token_expires=stored.token_expires))

    async def save_tokens(self, session: Session) -> Session | None:
        """Keep ``session``'s renewed ESIA tokens, and nothing else of a copy that may predate a
        page's change. ``None`` when the session ended meanwhile (logout): it stays ended."""
        return await self._update(session.sid, lambda stored: replace(
            stored, access_token=session.access_token, refresh_token=session.refresh_token,
            token_expires=session.token_expires))

    async def _update(self, sid: str, change: Callable[[Session], Session]) -> Session | None:
        """Read, change, write back unless another request wrote between (compare-and-set), and
        try again on the new record if one did: two requests of one browser never undo each
        other's change. Bounded: the contenders are one person's requests."""
        key = _PREFIX + sid
        for _ in range(_UPDATE_ATTEMPTS):
            raw = await self._store.get(key)
            if raw is None:
                return None
            updated = change(Session.from_json(json.loads(raw)))
            text = json.dumps(updated.to_json(), ensure_ascii=False)
            if await self._store.commit(Writes().set(key, text, ttl=ABSOLUTE_LIFETIME), expect={key: raw}):
                return updated
        raise SessionContended(f"session {sid[:8]}… changed {_UPDATE_ATTEMPTS} times while being saved")

    async def find(self, sid: str | None, *, now: float) -> Session | None:
        """The live session ``sid`` names, its idle timer restarted; ``None`` (and the record
        gone) once it has ended."""
        if not sid or len(sid) > 64:
            return None
        raw = await self._store.get(_PREFIX + sid)
        if raw is None:
            return None
        session = Session.from_json(json.loads(raw))
        if not session.live_at(now):
            await self.end(sid)
            return None
        if now - session.seen >= _TOUCH_EVERY:
            return await self.save(replace(session, seen=now))
        return session

    async def end(self, sid: str) -> None:
        await self._store.delete(_PREFIX + sid)
