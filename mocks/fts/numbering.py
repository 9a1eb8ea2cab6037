"""Registration numbers of declarations: ``office/DDMMYY/NNNNNNN``, issued exactly once.

The sequence counts per customs office per calendar year (``store.incr``). The date part is the
registration date in UTC — the same calendar the card's ISO timestamps use, so a client can
check the invariant "date part = registration date" from the card alone.

Two replicas may read a just-registered declaration at the same moment and both try to issue
its number. Each draws a sequence value, then the first to claim the declaration's number key
(``set(only_if_absent=True)``) wins and the other adopts the winner's number. The loser's
sequence value is not reused: under such a race the sequence has a gap, as real registries
do, but it still only increases and no declaration ever has two numbers.
"""

from __future__ import annotations

import datetime as dt

from ..core.store import Store

__all__ = ["number_key", "registration_number"]


def number_key(declaration_id: str) -> str:
    return f"fts:number:{declaration_id}"


def _sequence_key(office: str, year: int) -> str:
    return f"fts:sequence:{office}:{year}"


async def registration_number(store: Store, *, declaration_id: str, office: str, registered_at: float) -> str:
    """The declaration's number, issuing it now if nobody has."""
    key = number_key(declaration_id)
    existing = await store.get(key)
    if existing is not None:
        return existing
    day = dt.datetime.fromtimestamp(registered_at, dt.UTC)
    sequence = await store.incr(_sequence_key(office, day.year))
    number = f"{office}/{day:%d%m%y}/{sequence % 10_000_000:07d}"
    if await store.set(key, number, only_if_absent=True):
        return number
    winner = await store.get(key)
    assert winner is not None, "a claimed number key is never deleted"
    return winner
