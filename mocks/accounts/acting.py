"""Whom a signed-in person acts for: themselves, an organisation they work for, or their own
business as a sole proprietor — chosen from the organisations ESIA lists for them (``usr_org``).

ESIA types an organisation ``LEGAL`` (a legal entity), ``AGENCY`` (a state body) or
``BUSINESS`` (a sole proprietor, whose OGRNIP has 15 digits); a person acts for a ``BUSINESS``
as its owner, for the others as an employee.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

__all__ = ["ActingFor", "Place", "choices", "choose"]

ActingKind = Literal["self", "employee", "entrepreneur"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Place:
    """One of the person's organisations as ESIA describes it (``/rs/prns/{oid}/roles`` and
    ``/rs/orgs/{org_oid}``)."""

    oid: int
    name: str
    type: str
    ogrn: str
    inn: str
    kpp: str
    #: The person administers the organisation's account at ESIA (or heads it).
    admin: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Place:
        return cls(**data)


@dataclass(frozen=True, slots=True, kw_only=True)
class ActingFor:
    """The session's choice. ``organisation`` is ``None`` when the person acts for themselves;
    ``inn`` is then the person's own."""

    kind: ActingKind
    inn: str
    organisation: Place | None = None

    @property
    def label(self) -> str:
        if self.organisation is None:
            return "Физическое лицо"
        prefix = "ИП" if self.kind == "entrepreneur" else "Сотрудник организации"
        return f"{prefix}: {self.organisation.name}"

    @property
    def key(self) -> str:
        """The form value naming this choice (``self`` or ``org:<oid>``)."""
        return "self" if self.organisation is None else f"org:{self.organisation.oid}"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "inn": self.inn,
                "organisation": None if self.organisation is None else self.organisation.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ActingFor:
        place = data.get("organisation")
        return cls(kind=data["kind"], inn=data["inn"], organisation=None if place is None else Place.from_json(place))


def choices(person_inn: str, places: list[Place]) -> list[ActingFor]:
    """Every way the person may act: as themselves first, then each organisation."""
    found = [ActingFor(kind="self", inn=person_inn)]
    for place in places:
        kind: ActingKind = "entrepreneur" if place.type == "BUSINESS" else "employee"
        found.append(ActingFor(kind=kind, inn=place.inn, organisation=place))
    return found


def choose(person_inn: str, places: list[Place], key: str) -> ActingFor | None:
    """The choice a form sent (``self`` or ``org:<oid>``), or ``None`` if it is not one of the
    person's own — a forged organisation id chooses nothing."""
    return next((choice for choice in choices(person_inn, places) if choice.key == key), None)
