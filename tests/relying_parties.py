"""A relying party registered with a running stack's ESIA, and a person seeded to log in to it:
what a test of a journey needs before its first request. Works with any stack that has ``urls``
and a ``control_token`` (in-process, embedded or containers)."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import serialization
from gosstand.scenarios.control import StackControl
from gosstand.scenarios.esia_client import RelyingParty, make_test_identity
from gosstand.scenarios.identities import russian_faker


def registered_person(stack: Any, client_id: str, scope: str, seed: int) -> tuple[StackControl, RelyingParty,
                                                                                   dict[str, Any]]:
    """A relying party registered for ``scope`` and a seeded person: (control, rp, person)."""
    control = StackControl(stack.urls, stack.control_token)
    certificate, key = make_test_identity(f"{client_id} RP")
    rp = RelyingParty(client_id, "https://rp.example/cb", certificate, key, clock=lambda: control.now("esia"))
    control.register_client(client_id, redirect_uris=[rp.redirect_uri], scopes=scope.split(),
                            certificate=certificate.public_bytes(serialization.Encoding.PEM).decode())
    person = russian_faker(seed=seed).person_record()
    person["oid"] = control.seed_user(
        phone=person["phone"], password=person["password"], email=person["email"],
        person={k: person[k] for k in ("firstName", "lastName", "birthDate", "gender", "snils")})
    return control, rp, person


def employ(control: StackControl, person: dict[str, Any], entity: Any) -> dict[str, Any]:
    """Seed ``entity`` (a :class:`~gosstand.scenarios.identities.LegalEntity`) as an organisation at
    ESIA with ``person`` its employee, so the person's next ``usr_org`` login acts for it."""
    return control.create_organisation(fullName=entity.name, ogrn=entity.ogrn, inn=entity.inn, kpp=entity.kpp,
                                       employees=[{"oid": person["oid"], "role": "employee"}])
