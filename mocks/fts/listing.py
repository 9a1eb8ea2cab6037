"""One page of a declarant's declarations, newest first: what ``GET /api/v1/declarations`` answers
and what the participant's personal account lists for whoever the person acts for."""

from __future__ import annotations

from typing import Any

from ..core.store import Store
from .cards import card
from .list_indexes import scan_for
from .paging import Position
from .queries import ListQuery
from .repository import DeclarationRepository

__all__ = ["declarations_page"]


async def declarations_page(store: Store, query: ListQuery, now: float) -> tuple[list[dict[str, Any]], str | None]:
    """The cards of the page ``query`` asks for, and the cursor of the next page (``None``: last)."""
    repository = DeclarationRepository(store)
    page: list[dict[str, Any]] = []
    last: Position | None = None
    more = False
    scan = await scan_for(store, query, round(now * 1_000_000))
    async for record in repository.newest_first(scan, after=query.after, page=query.limit):
        state = await repository.settle(record, now)
        if not query.matches(record, state.status.value):
            continue
        if len(page) == query.limit:
            more = True
            break
        page.append(card(record, state))
        last = Position(record["submittedUs"], record["id"])
    return page, last.cursor if more and last is not None else None
