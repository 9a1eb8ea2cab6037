"""Where ESIA's organisations and their employees live in the shared store.

- ``esia:org:<org_oid>`` — the organisation (:class:`~.records.Organisation`: names, OGRN, INN,
  KPP, type, OKOPF, OKTMO) with its contacts, addresses and branches (each branch with its own
  contacts and addresses); stored once and read whole, so ``/rs/orgs`` answers from one read;
- ``esia:member:<org_oid>:<oid>`` — one employment (:class:`~.records.Employment`: role, chief,
  since);
- sorted indexes ``esia:org-emps:<org_oid>`` (employees) and ``esia:user-orgs:<oid>`` (the
  person's organisations), so either side is one index read plus one ``get_many``.

Organisations take their OIDs from the same counter as people, and their elements' ids from
the same counter as people's contacts and documents (:class:`~.user_repository.Numbering`).
"""

from __future__ import annotations

import json
from dataclasses import replace

from ...core.problems import Problem
from ...core.store import Store
from .records import Employment, Organisation
from .user_repository import Numbering

__all__ = ["OrganisationRepository"]


def _org_key(org_oid: int) -> str:
    return f"esia:org:{org_oid}"


def _member_key(org_oid: int, oid: int) -> str:
    return f"esia:member:{org_oid}:{oid}"


class OrganisationRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def create(self, draft: Organisation, *, oid: int | None, now: float) -> Organisation:
        """Store a validated organisation with its OID and element ids; 409 when the OID is taken."""
        numbering = Numbering(self._store)
        oid = oid or await numbering.next_oid()
        contacts = tuple([item.numbered(await numbering.next_element_id()) for item in draft.contacts])
        addresses = tuple([item.numbered(await numbering.next_element_id()) for item in draft.addresses])
        branches = []
        for branch in draft.branches:
            branch_contacts = tuple([item.numbered(await numbering.next_element_id()) for item in branch.contacts])
            branch_addresses = tuple([item.numbered(await numbering.next_element_id()) for item in branch.addresses])
            numbered = replace(branch, contacts=branch_contacts, addresses=branch_addresses)
            branches.append(numbered.numbered(await numbering.next_element_id()))
        organisation = replace(draft, oid=oid, contacts=contacts, addresses=addresses, branches=tuple(branches),
                               updated_on=int(now))
        if not await self._store.set(_org_key(oid), json.dumps(organisation.to_json()), only_if_absent=True):
            raise Problem(409, f"an organisation with oid {oid} exists")
        return organisation

    async def get(self, org_oid: int) -> Organisation | None:
        raw = await self._store.get(_org_key(org_oid))
        return None if raw is None else Organisation.from_json(json.loads(raw))

    async def exists(self, org_oid: int) -> bool:
        """Whether ESIA knows the organisation, without reading its record (a token request only asks this)."""
        return await self._store.get(_org_key(org_oid)) is not None

    async def link(self, org_oid: int, employment: Employment, *, now: float) -> Employment:
        """Make the person an employee (or change their role), as of ``now``."""
        employment = replace(employment, since=now)
        await self._store.set(_member_key(org_oid, employment.oid), json.dumps(employment.membership_json()))
        await self._store.index_add(f"esia:org-emps:{org_oid}", str(employment.oid), now)
        await self._store.index_add(f"esia:user-orgs:{employment.oid}", str(org_oid), now)
        return employment

    async def unlink(self, org_oid: int, oid: int) -> bool:
        """The person no longer works for the organisation; ``False`` if they did not."""
        if not await self._store.delete(_member_key(org_oid, oid)):
            return False
        await self._store.index_remove(f"esia:org-emps:{org_oid}", str(oid))
        await self._store.index_remove(f"esia:user-orgs:{oid}", str(org_oid))
        return True

    async def employment(self, org_oid: int, oid: int) -> Employment | None:
        raw = await self._store.get(_member_key(org_oid, oid))
        return None if raw is None else Employment.from_membership(oid, json.loads(raw))

    async def employees(self, org_oid: int) -> list[Employment]:
        """The organisation's employees in the order they joined."""
        oids = await self._store.index_range(f"esia:org-emps:{org_oid}")
        rows = await self._store.get_many([_member_key(org_oid, int(oid)) for oid in oids])
        return [Employment.from_membership(int(oid), json.loads(row)) for oid, row in zip(oids, rows, strict=True)
                if row]

    async def places_of(self, oid: int) -> list[tuple[Organisation, Employment]]:
        """The person's organisations and their place in each, in the order they joined."""
        org_oids = await self._store.index_range(f"esia:user-orgs:{oid}")
        if not org_oids:
            return []
        keys = [_org_key(int(o)) for o in org_oids] + [_member_key(int(o), oid) for o in org_oids]
        rows = await self._store.get_many(keys)
        organisations, memberships = rows[: len(org_oids)], rows[len(org_oids) :]
        return [
            (Organisation.from_json(json.loads(raw_org)), Employment.from_membership(oid, json.loads(raw_member)))
            for raw_org, raw_member in zip(organisations, memberships, strict=True)
            if raw_org is not None and raw_member is not None
        ]
