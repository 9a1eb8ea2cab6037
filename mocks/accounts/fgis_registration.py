"""First-login registration of an organisation in the FGIS, and the roles its administrator gives.

The person who first acts for an organisation in the FGIS registers it: gives its INN or OGRN
(checked for its check digits, then against what ESIA says of the organisation), reads the
consent to the processing of personal data and agrees to it — the consent is recorded with its
date, time and the person's OID — or refuses, which ends the registration with nothing stored.
The registrant, and whoever ESIA names the organisation's administrator or chief, administer it
in the FGIS: they give each employee a role, ``filer`` (may file and change) or ``reader`` (may
only read, every employee's role until given another).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Literal

from ..core.identifiers import is_valid_inn, is_valid_ogrn, is_valid_ogrnip
from ..core.store import Store
from .acting import Place

__all__ = ["CONSENT_TEXT", "Consent", "FgisRegister", "Role", "assignable_role", "identifier_mismatch"]

Role = Literal["admin", "filer", "reader"]
ASSIGNABLE_ROLES: tuple[Role, ...] = ("filer", "reader")
ROLE_TITLES = {"admin": "Администратор", "filer": "Может подавать сведения", "reader": "Только просмотр"}

CONSENT_TEXT = (
    "Я даю согласие на обработку моих персональных данных (фамилия, имя, отчество, СНИЛС, ИНН, "
    "сведения об организации и о моих полномочиях в ней), полученных из ЕСИА, в целях моей "
    "идентификации и ведения учётной записи организации в ФГИС. Обработка ведётся в соответствии с "
    "Федеральным законом от 27.07.2006 № 152-ФЗ «О персональных данных»; сведения могут передаваться "
    "между информационными системами государственных органов. Согласие действует до его отзыва; "
    "отозвать его можно в любой момент в настройках личного кабинета."
)
#: Which text a consent was given to: a recorded consent names it, so a changed text asks anew.
CONSENT_VERSION = hashlib.sha256(CONSENT_TEXT.encode()).hexdigest()[:16]
_MOSCOW = dt.timezone(dt.timedelta(hours=3), "MSK")
_ORG = "accounts:fgis:org:"
_ROLES = "accounts:fgis:roles:"


def assignable_role(value: str) -> Role | None:
    """``value`` as a role an administrator may give, or ``None``."""
    return next((role for role in ASSIGNABLE_ROLES if role == value), None)


def identifier_mismatch(identifier: str, place: Place) -> str | None:
    """Why ``identifier`` does not name ``place`` (in Russian, for the form), or ``None`` if it does."""
    value = identifier.strip()
    if not value.isascii() or not value.isdigit():
        return "Укажите ИНН (10 или 12 цифр) или ОГРН (13 или 15 цифр) — только цифры"
    checks = {10: ("ИНН", is_valid_inn, place.inn), 12: ("ИНН", is_valid_inn, place.inn),
              13: ("ОГРН", is_valid_ogrn, place.ogrn), 15: ("ОГРНИП", is_valid_ogrnip, place.ogrn)}
    if len(value) not in checks:
        return "ИНН состоит из 10 или 12 цифр, ОГРН — из 13, ОГРНИП — из 15"
    name, valid, known = checks[len(value)]
    if not valid(value):
        return f"Контрольное число {name} не сходится: проверьте номер"
    if value != known:
        return f"{name} {value} не совпадает со сведениями об организации «{place.name}» в ЕСИА"
    return None


@dataclass(frozen=True, slots=True)
class Consent:
    oid: int
    org_oid: int
    at: float
    version: str

    @property
    def when(self) -> str:
        """``07.12.2026 10:15:03 МСК``."""
        return dt.datetime.fromtimestamp(self.at, _MOSCOW).strftime("%d.%m.%Y %H:%M:%S МСК")


class FgisRegister:
    """Registered organisations (with their consent) and employees' roles, in the service's store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def consent_of(self, org_oid: int) -> Consent | None:
        """The registration's consent, or ``None`` while the organisation is not registered."""
        raw = await self._store.get(f"{_ORG}{org_oid}")
        if raw is None:
            return None
        record = json.loads(raw)
        return Consent(oid=record["oid"], org_oid=org_oid, at=record["at"], version=record["version"])

    async def register(self, place: Place, *, oid: int, now: float) -> Consent:
        """Register ``place`` with ``oid``'s consent given at ``now``; the first registration stands
        when two people race."""
        record = {"oid": oid, "at": now, "version": CONSENT_VERSION, "inn": place.inn, "ogrn": place.ogrn}
        await self._store.set(f"{_ORG}{place.oid}", json.dumps(record), only_if_absent=True)
        consent = await self.consent_of(place.oid)
        assert consent is not None
        return consent

    async def roles(self, org_oid: int) -> dict[int, Role]:
        raw = await self._store.get(f"{_ROLES}{org_oid}")
        return {int(oid): role for oid, role in json.loads(raw).items()} if raw else {}

    async def role_of(self, org_oid: int, oid: int, *, esia_admin: bool) -> Role:
        """``oid``'s role in the registered organisation: admin for the registrant and for whom
        ESIA names its administrator or chief (``esia_admin``), else what an administrator gave,
        else reader."""
        consent = await self.consent_of(org_oid)
        if esia_admin or (consent is not None and consent.oid == oid):
            return "admin"
        return (await self.roles(org_oid)).get(oid, "reader")

    async def assign(self, org_oid: int, oid: int, role: Role) -> None:
        roles = await self.roles(org_oid)
        roles[oid] = role
        await self._store.set(f"{_ROLES}{org_oid}", json.dumps({str(k): v for k, v in roles.items()}))
