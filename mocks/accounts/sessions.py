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
from dataclasses import dataclass, replace
from typing import Any

from ..core.store import Store
from .acting import ActingFor, Place

__all__ = ["ABSOLUTE_LIFETIME", "IDLE_LIFETIME", "Session", "SessionRepository"]

IDLE_LIFETIME = 30 * 60
ABSOLUTE_LIFETIME = 8 * 3600
#: A request refreshes the idle timer in the store at most this often (one write per minute,
#: not one per page).
_TOUCH_EVERY = 60
_PREFIX = "accounts:session:"


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
        await self.save(session)
        return session

    async def save(self, session: Session) -> None:
        await self._store.set(_PREFIX + session.sid, json.dumps(session.to_json(), ensure_ascii=False),
                              ttl=ABSOLUTE_LIFETIME)

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
            session = replace(session, seen=now)
            await self.save(session)
        return session

    async def end(self, sid: str) -> None:
        await self._store.delete(_PREFIX + sid)
