"""The suite's own people at the target's ESIA: seeded, employed, switched to fail, logged in.

On a target whose ESIA exposes the gosstand control API the suite does not need anyone's
credentials: it registers its own client system once (:data:`CONFORMANCE_CLIENT_ID`), seeds fresh
people (a random seed, since a shared staging ESIA keeps the people of earlier runs and phones
are unique), links them to organisations it seeds too, and logs them in through the real
password + SMS journey. ESIA's failure switches on a person make the tokens of the next login
spoiled the way an authentication test needs (expired, not valid yet, another issuer).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from gosstand.scenarios.control import StackControl
    from gosstand.scenarios.esia_client import RelyingParty
    from gosstand.scenarios.esia_login import TokenSet

__all__ = ["CONFORMANCE_CLIENT_ID", "CONFORMANCE_REDIRECT_URI", "CONFORMANCE_SCOPES", "SeededPerson",
           "SuiteEsia", "esia_account"]

CONFORMANCE_CLIENT_ID = "GOSSTANDCONFORMANCE"
CONFORMANCE_REDIRECT_URI = "http://127.0.0.1/gosstand/conformance/callback"
#: Enough person data for ``/rs`` to answer, and ``usr_org`` for UTKO and FTS writes.
CONFORMANCE_SCOPES = ("openid", "fullname", "birthdate", "gender", "snils", "inn", "birthplace", "mobile",
                      "email", "contacts", "id_doc", "addresses", "usr_org")
#: The organisation-data scope the suite's client may ask with ``client_credentials``.
ORGANISATION_SCOPE = "org_shortname"


def esia_account(record: Mapping[str, Any]) -> dict[str, Any]:
    """A :func:`~gosstand.scenarios.identities.RussianIdentityProvider.person_record` as the body
    of the control API's ``POST /users``."""
    person_fields = ("firstName", "lastName", "middleName", "birthDate", "birthPlace", "gender", "snils",
                     "inn")
    return {
        "phone": record["phone"],
        "email": record["email"],
        "password": record["password"],
        "person": {name: record[name] for name in person_fields},
        "documents": [{"type": "RF_PASSPORT", **record["passport"]}],
    }


@dataclass(frozen=True, kw_only=True)
class SeededPerson:
    """A person the suite seeded: the OID ESIA gave, and the record (phone, password…)."""

    oid: int
    record: Mapping[str, Any]


class EsiaTarget(Protocol):
    """What the suite needs of a target here (a :class:`~.targets.Target` is one): its control API
    and ESIA's URL. A protocol, so this module does not import the targets that import it."""

    def control(self) -> StackControl: ...

    def url(self, service: str) -> str: ...


class SuiteEsia:
    """The suite's client system at one target's ESIA (registered on first use)."""

    def __init__(self, target: EsiaTarget) -> None:
        from gosstand.scenarios.identities import russian_faker

        self._target = target
        self.control: StackControl = target.control()
        self.esia_url = target.url("esia")
        self._faker = russian_faker(seed=secrets.randbits(48))
        self._party: RelyingParty | None = None

    def relying_party(self) -> RelyingParty:
        if self._party is None:
            from cryptography.hazmat.primitives import serialization
            from gosstand.scenarios.esia_client import RelyingParty, make_test_identity

            certificate, key = make_test_identity("gosstand conformance suite")
            self.control.register_client(
                CONFORMANCE_CLIENT_ID,
                redirect_uris=[CONFORMANCE_REDIRECT_URI],
                certificate=certificate.public_bytes(serialization.Encoding.PEM).decode(),
                scopes=[*CONFORMANCE_SCOPES, ORGANISATION_SCOPE],
            )
            control = self.control
            self._party = RelyingParty(CONFORMANCE_CLIENT_ID, CONFORMANCE_REDIRECT_URI, certificate, key,
                                       clock=lambda: control.now("esia"))  # timestamps on the mock's clock
        return self._party

    def seed_person(self) -> SeededPerson:
        record = self._faker.person_record()
        return SeededPerson(oid=self.control.seed_user(**esia_account(record)), record=record)

    def employ_in_reference_organisations(self, person: SeededPerson) -> None:
        """Make ``person`` an employee of the organisations the reference requests file for (the
        reference declarant and UTKO operator, and the reference sole proprietor), so its
        ``usr_org`` logins act for them. Seeded afresh each time: ESIA tells organisations apart by
        OID, so a staging ESIA that holds them already is no obstacle."""
        from .reference_requests import ORGANISATION, PROPRIETOR

        employees = [{"oid": person.oid, "role": "employee"}]
        self.control.create_organisation(fullName=ORGANISATION["name"], ogrn=ORGANISATION["ogrn"],
                                         inn=ORGANISATION["inn"], kpp=ORGANISATION["kpp"], employees=employees)
        self.control.create_organisation(fullName=PROPRIETOR["name"], ogrn=PROPRIETOR["ogrn"],
                                         inn=PROPRIETOR["inn"], type="BUSINESS", employees=employees)

    def seed_organisation(self, *employees: SeededPerson) -> dict[str, Any]:
        """A fresh legal entity (INN, KPP, OGRN that pass the real checks) employing ``employees``;
        the organisation as ESIA's control API stored it."""
        record = self._faker.organisation_record(branches=0)
        record["employees"] = [{"oid": person.oid, "role": "employee"} for person in employees]
        return self.control.create_organisation(**record)

    def organisation_token(self, org_oid: int) -> str:
        """A ``client_credentials`` access token for an organisation's data: no person behind
        it, and no ``openid`` in its scopes."""
        from gosstand.scenarios import esia_login
        from gosstand.scenarios.http import HttpxClient

        with HttpxClient() as http:
            return esia_login.organisation_token(
                http, esia_url=self.esia_url, rp=self.relying_party(),
                scope=f"http://esia.gosuslugi.ru/{ORGANISATION_SCOPE}?org_oid={org_oid}").access_token

    def log_in(self, person: SeededPerson, *, scopes: Sequence[str] = CONFORMANCE_SCOPES,
               faults: Sequence[str] = ()) -> TokenSet:
        """The password + SMS journey for ``person``; with ``faults`` (ESIA's switches, such as
        ``expired_tokens``) on for this login only."""
        from gosstand.scenarios import esia_login
        from gosstand.scenarios.http import HttpxClient

        if faults:
            self.control.set_user_faults(person.oid, **dict.fromkeys(faults, True))
        try:
            with HttpxClient() as http:
                return esia_login.login(http, esia_url=self.esia_url, rp=self.relying_party(),
                                        login=person.record["phone"], password=person.record["password"],
                                        read_sms=self.control.read_sms, scope=" ".join(scopes),
                                        access_type="offline")
        finally:
            if faults:
                self.control.set_user_faults(person.oid, **dict.fromkeys(faults, False))
