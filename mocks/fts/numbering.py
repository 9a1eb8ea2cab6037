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

from ..core.store import Store, Writes

__all__ = ["forget_registration", "new_member", "number_key", "plan_registration", "registration_member",
           "registration_number"]


def number_key(declaration_id: str) -> str:
    return f"fts:number:{declaration_id}"


def _registrations(office: str, registered_us: int) -> str:
    year = dt.datetime.fromtimestamp(registered_us / 1e6, dt.UTC).year
    return f"fts:registrations:{office}:{year}"


def _member_key(declaration_id: str) -> str:
    return f"fts:registration-member:{declaration_id}"


async def new_member(store: Store, declaration_id: str) -> str:
    """A declaration's member in the registration index, with a filing counter drawn now. Drawn
    before the commit that files the declaration: a replica killed in between leaves a gap in
    the counter, which ranks nothing (only the order of the members drawn matters)."""
    order = await store.incr("fts:filing-order")
    return f"{order:015d}:{declaration_id}"


async def registration_member(store: Store, declaration_id: str) -> str | None:
    return await store.get(_member_key(declaration_id))


def plan_registration(writes: Writes, *, declaration_id: str, office: str, registered_us: int, member: str) -> Writes:
    """Add to ``writes`` the entry of a declaration that will be registered at ``registered_us``."""
    return (writes.set(_member_key(declaration_id), member)
            .index_add(_registrations(office, registered_us), member, float(registered_us)))


def forget_registration(writes: Writes, *, office: str, registered_us: int, member: str) -> Writes:
    """Add to ``writes`` taking out a declaration withdrawn before it was registered."""
    return writes.index_remove(_registrations(office, registered_us), member)


async def _entered(store: Store, *, declaration_id: str, office: str, registered_us: int) -> str:
    """The declaration's member, entering it now if it was filed before the index existed."""
    member = await registration_member(store, declaration_id)
    if member is None:
        drawn = await new_member(store, declaration_id)
        await store.commit(plan_registration(Writes(), declaration_id=declaration_id, office=office,
                                             registered_us=registered_us, member=drawn),
                           expect={_member_key(declaration_id): None})
        member = await registration_member(store, declaration_id)
        assert member is not None, "a member key is only removed by a reset"
    return member


async def registration_number(store: Store, *, declaration_id: str, office: str, registered_at: float) -> str:
    """The declaration's number, issuing it now if nobody has."""
    key = number_key(declaration_id)
    existing = await store.get(key)
    if existing is not None:
        return existing
    registered_us = round(registered_at * 1_000_000)
    # Records filed before this index existed enter it now (then reading order decides for them).
    member = await _entered(store, declaration_id=declaration_id, office=office, registered_us=registered_us)
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
