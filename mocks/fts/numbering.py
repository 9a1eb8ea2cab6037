"""Registration numbers of declarations: ``office/DDMMYY/NNNNNNN``, issued exactly once.

The sequence counts per customs office per calendar year, in the order of registration. The
date part is the registration date in UTC — the same calendar the card's ISO timestamps use, so
a client can check the invariant "date part = registration date" from the card alone.

Numbers are issued lazily (the first time anyone reads a registered declaration), yet the
sequence must follow registration order, not reading order. So every declaration that is to be
registered is entered, when it is filed, into the index ``fts:registrations:{office}:{year}``
scored by its registration µs (a withdrawal before registration takes it out again), and its
sequence is its rank there: how many were registered before it, ties (declarations filed in the
same microsecond, common on a frozen test clock) broken by filing order — the member is
``<filing counter>:<id>``, the counter drawn once per declaration. Everything
ranked before a declaration is registered before it, hence already fixed when it is first read:
every replica computes the same number, in any reading order. The first number computed is kept
under ``fts:number:{id}`` (``set(only_if_absent=True)``), so it never changes afterwards.
"""

from __future__ import annotations

import datetime as dt

from ..core.store import Store

__all__ = ["forget_registration", "number_key", "plan_registration", "registration_number"]


def number_key(declaration_id: str) -> str:
    return f"fts:number:{declaration_id}"


def _registrations(office: str, registered_us: int) -> str:
    year = dt.datetime.fromtimestamp(registered_us / 1e6, dt.UTC).year
    return f"fts:registrations:{office}:{year}"


def _member_key(declaration_id: str) -> str:
    return f"fts:registration-member:{declaration_id}"


async def plan_registration(store: Store, *, declaration_id: str, office: str, registered_us: int) -> str:
    """Enter a declaration that will be registered at ``registered_us`` (harmless to repeat);
    answers its member in the index."""
    member = await store.get(_member_key(declaration_id))
    if member is None:
        order = await store.incr("fts:filing-order")
        await store.set(_member_key(declaration_id), f"{order:015d}:{declaration_id}", only_if_absent=True)
        member = await store.get(_member_key(declaration_id))
        assert member is not None, "a claimed member key is only removed by a reset"
    await store.index_add(_registrations(office, registered_us), member, float(registered_us))
    return member


async def forget_registration(store: Store, *, declaration_id: str, office: str, registered_us: int) -> None:
    """Take out a declaration withdrawn before it was registered."""
    member = await store.get(_member_key(declaration_id))
    if member is not None:
        await store.index_remove(_registrations(office, registered_us), member)


async def registration_number(store: Store, *, declaration_id: str, office: str, registered_at: float) -> str:
    """The declaration's number, issuing it now if nobody has."""
    key = number_key(declaration_id)
    existing = await store.get(key)
    if existing is not None:
        return existing
    registered_us = round(registered_at * 1_000_000)
    # Records filed before this index existed enter it now (then reading order decides for them).
    member = await plan_registration(store, declaration_id=declaration_id, office=office,
                                     registered_us=registered_us)
    index = _registrations(office, registered_us)
    earlier = await store.index_count(index, max_score=float(registered_us - 1))
    same_instant = await store.index_range(index, min_score=float(registered_us), max_score=float(registered_us))
    sequence = earlier + same_instant.index(member) + 1
    day = dt.datetime.fromtimestamp(registered_us / 1e6, dt.UTC)
    number = f"{office}/{day:%d%m%y}/{sequence % 10_000_000:07d}"
    if await store.set(key, number, only_if_absent=True):
        return number
    winner = await store.get(key)
    assert winner is not None, "a claimed number key is never deleted"
    return winner
