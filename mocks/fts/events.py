"""The event feed: every status change of a declarant's declarations, in order, by cursor.

A client that tracks hundreds of declarations polls one feed instead of every card. Nothing
is stored per event: the events are the steps of each declaration's life cycle
(:mod:`.lifecycle`), computed from the clock every replica shares, so every replica serves the
same feed and a moved clock shows the changes it caused.

Order and cursors: events sort by (time µs, declaration id, step index) — a total order — and
an event's id *is* its cursor, ``<µs>_<declaration hex>_<step>``. Only events strictly before
the current instant are served: an event at the present instant could still be joined by
another one at the same instant that sorts before it (a declaration submitted in the same
microsecond), and a cursor must never skip one. Everything before ``now`` is fixed for good
(the clock does not go back; a withdrawal only cuts steps that lie in the future), so reading
on from a cursor never misses or repeats an event.

Which declarations to read: every step of every plan lies within
:data:`~.lifecycle.MAX_PLAN_SPAN` of submission (a withdrawal too: it comes before the
decision), so events after a cursor come from declarations submitted at most that long before it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..core.identifiers import is_valid_inn
from ..core.problems import Problem
from ..core.query import bounded_int
from .cards import history_entry
from .lifecycle import MAX_PLAN_SPAN
from .repository import DeclarationRepository

__all__ = ["EVENT_CURSOR_PATTERN", "EventPosition", "EventsQuery", "feed", "parse_events_query"]

EVENT_CURSOR_PATTERN = r"^[0-9]{1,16}_[0-9a-f]{32}_[0-9]{1,2}$"
_CURSOR = re.compile(EVENT_CURSOR_PATTERN)
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass(frozen=True, slots=True, order=True)
class EventPosition:
    at_us: int
    declaration_id: str
    step: int

    @property
    def cursor(self) -> str:
        return f"{self.at_us}_{uuid.UUID(self.declaration_id).hex}_{self.step}"


@dataclass(frozen=True, slots=True)
class EventsQuery:
    inn: str
    after: EventPosition | None
    limit: int


def parse_events_query(params: Mapping[str, str]) -> EventsQuery:
    errors: list[dict[str, str]] = []
    inn = params.get("inn")
    if inn is None:
        errors.append({"parameter": "inn", "detail": "required: the declarant's INN"})
    elif not is_valid_inn(inn):
        errors.append({"parameter": "inn", "detail": "not a valid INN"})
    after = None
    if (cursor := params.get("cursor")) is not None:
        if _CURSOR.fullmatch(cursor):
            micros, hex_id, step = cursor.split("_")
            after = EventPosition(int(micros), str(uuid.UUID(hex=hex_id)), int(step))
        else:
            errors.append({"parameter": "cursor", "detail": f"must match {EVENT_CURSOR_PATTERN}"})
    limit = bounded_int(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT, errors)
    if errors:
        raise Problem(400, "the query is malformed", errors=errors)
    assert inn is not None
    return EventsQuery(inn=inn, after=after, limit=limit)


async def feed(repository: DeclarationRepository, query: EventsQuery, now: float) -> dict[str, Any]:
    """The page of events after ``query.after``: ``{"items": [...], "nextCursor": ...}``.

    ``nextCursor`` is the last event's id, or the cursor sent when nothing new happened (poll
    again with it); ``null`` only when there was neither."""
    now_us = round(now * 1_000_000)
    since = float("-inf") if query.after is None else query.after.at_us - MAX_PLAN_SPAN * 1_000_000
    found: list[tuple[EventPosition, dict[str, Any]]] = []
    async for head in repository.heads_submitted_since(query.inn, since):
        if len(found) >= query.limit:
            found.sort(key=lambda pair: pair[0])
            del found[query.limit:]
            if found[-1][0].at_us < head["submittedUs"]:
                break  # this and every later declaration's events sort after a full page
        state = await repository.settle(head, now)
        number = head.get("registrationNumber")
        for index, (step, at) in enumerate(state.reached):
            position = EventPosition(round(at * 1_000_000), head["id"], index)
            if position.at_us >= now_us or (query.after is not None and position <= query.after):
                continue
            entry = history_entry(step, at, number if state.registered_at is not None else None)
            found.append((position, {
                "id": position.cursor, "declarationId": head["id"], **entry,
                "registrationNumber": number if state.registered_at is not None else None,
                "decisionCode": step.decision,
            }))
    found.sort(key=lambda pair: pair[0])
    page = [event for _, event in found[:query.limit]]
    next_cursor = page[-1]["id"] if page else (None if query.after is None else query.after.cursor)
    return {"items": page, "nextCursor": next_cursor}
