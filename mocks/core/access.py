"""Who may see and change what at FTS and UTKO: the organisations a caller acts for.

A declaration is its declarant's, a UTKO object its operator's (an organisation by INN, and KPP
where it has one). The real FTS shows a participant only the declarations of the organisation it
acts for; the mocks do the same for every read, list, change and filing, through
:class:`AccessPolicy`, which every handler asks. The policy does not know where the caller's
organisations come from: an :class:`ActingFor` source says. Today that is the verified ESIA
access token (:class:`TokenOrganisations`: the organisations ESIA wrote into it because the
person works for them and ``usr_org`` was granted); a browser session's "acting for" choice can be
another source without touching the handlers.

The answers are consistent, and chosen so that nothing leaks:

- a record addressed by id (a declaration, its documents, an appeal, an object) that belongs to
  an organisation the caller does not act for is **404**, exactly as an id nobody holds — a
  caller learns nothing of another organisation's records, not even that they exist;
- a request that itself names an organisation the caller does not act for (a submission's
  declarant, an object's operator, a list or feed asked for by INN) is **403**: the caller named
  it, so refusing reveals nothing, and it says why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .bearer import Identity
from .problems import Problem

__all__ = ["ORGANISATIONS_CLAIM", "AccessPolicy", "ActingFor", "Organisation", "TokenOrganisations",
           "organisations_claim"]

#: The access token's claim listing the person's organisations (the stand's own: real ESIA makes
#: a relying party read them from ``/rs/prns/{oid}/roles`` and ``/rs/orgs/{org_oid}``).
ORGANISATIONS_CLAIM = "urn:gosstand:orgs"
#: More than any person works for; a claim longer than this is cut (bounded work per request).
_MOST_ORGANISATIONS = 64


@dataclass(frozen=True, slots=True)
class Organisation:
    """An organisation one may act for: its INN, and the KPPs of its head office and branches
    (none for a sole proprietor)."""

    inn: str
    kpps: frozenset[str] = frozenset()

    def covers(self, inn: Any, kpp: Any = None) -> bool:
        """Whether a party with ``inn`` (and ``kpp``, when it names one) is this organisation."""
        return inn == self.inn and (kpp is None or kpp in self.kpps)


def organisations_claim(organisations: Iterable[tuple[int, str, Iterable[str]]]) -> list[dict[str, Any]]:
    """The claim's value for ``(org_oid, inn, kpps)`` triples (what ESIA writes)."""
    return [{"oid": oid, "inn": inn, "kpps": sorted(kpps)} for oid, inn, kpps in organisations]


class ActingFor(Protocol):
    """Where the organisations a caller acts for come from."""

    def organisations(self, identity: Identity) -> tuple[Organisation, ...]:
        ...


class TokenOrganisations:
    """The organisations the verified access token names (:data:`ORGANISATIONS_CLAIM`); a token
    without the claim (no ``usr_org``, or a person employed nowhere) acts for none."""

    def organisations(self, identity: Identity) -> tuple[Organisation, ...]:
        claim = identity.claims.get(ORGANISATIONS_CLAIM)
        if not isinstance(claim, list):
            return ()
        found = []
        for entry in claim[:_MOST_ORGANISATIONS]:
            if not isinstance(entry, dict) or not isinstance(entry.get("inn"), str):
                continue
            kpps = entry.get("kpps")
            kpps = kpps if isinstance(kpps, list) else []
            found.append(Organisation(entry["inn"], frozenset(k for k in kpps if isinstance(k, str))))
        return tuple(found)


class AccessPolicy:
    """The one place that decides whether a caller may touch a party's records."""

    def __init__(self, source: ActingFor | None = None) -> None:
        self._source = source or TokenOrganisations()

    def organisations(self, identity: Identity) -> tuple[Organisation, ...]:
        return self._source.organisations(identity)

    def acts_for(self, identity: Identity, party: Mapping[str, Any] | None) -> bool:
        """Whether ``identity`` acts for ``party`` (``{"inn", "kpp"?}``: a declarant, an operator)."""
        if not isinstance(party, Mapping):
            return False
        return any(org.covers(party.get("inn"), party.get("kpp")) for org in self.organisations(identity))

    def may_see(self, identity: Identity, party: Mapping[str, Any] | None) -> bool:
        """Whether a record of ``party`` (addressed by id) exists for ``identity`` at all."""
        return self.acts_for(identity, party)

    def require_own(self, identity: Identity, party: Mapping[str, Any] | None, *, missing: str) -> None:
        """A record addressed by id: 404 with ``missing`` (the same words as for an unknown id)
        unless the caller may see it (:meth:`may_see`)."""
        if not self.may_see(identity, party):
            raise Problem(404, missing)

    def require_named(self, identity: Identity, party: Mapping[str, Any], *, pointer: str, what: str) -> None:
        """A request naming ``party`` itself (``what`` at ``pointer``): 403 unless the caller acts
        for it."""
        if self.acts_for(identity, party):
            return
        acting = ", ".join(org.inn for org in self.organisations(identity)) or "no organisation (grant usr_org)"
        where = {"parameter": pointer[1:]} if pointer.startswith("?") else {"pointer": pointer}
        raise Problem(403, f"{what} {party.get('inn')!s:.12} is not an organisation this token acts for "
                           f"(it acts for {acting})", errors=[{**where, "detail": "an organisation you act for"}])

    def only_inn(self, identity: Identity, *, parameter: str) -> str:
        """The INN a list without one is about: the caller's only organisation. 403 when it acts
        for none; 400 naming ``parameter`` when it acts for several (say which)."""
        inns = sorted({org.inn for org in self.organisations(identity)})
        if not inns:
            raise Problem(403, "this token acts for no organisation: log in with usr_org as an employee of one")
        if len(inns) > 1:
            raise Problem(400, f"this token acts for {len(inns)} organisations: say which with {parameter}",
                          errors=[{"parameter": parameter, "detail": f"one of {', '.join(inns)}"}])
        return inns[0]
