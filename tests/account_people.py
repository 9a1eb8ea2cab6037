"""People and organisations seeded for the personal-account tests through the control API of any
stack with ``urls`` and a ``control_token``, and the machine client's bearer token and
declarations that give an organisation something to see."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from gosstand.scenarios import declarations, esia_login
from gosstand.scenarios.control import StackControl
from gosstand.scenarios.esia_client import RelyingParty, make_test_identity
from gosstand.scenarios.http import HttpxClient
from gosstand.scenarios.identities import russian_faker


@dataclass
class Employee:
    oid: int
    phone: str
    password: str
    record: dict[str, Any]


def seed_person(control: StackControl, seed: int) -> Employee:
    record = russian_faker(seed=seed).person_record()
    oid = control.seed_user(phone=record["phone"], password=record["password"], email=record["email"],
                            snils=record["snils"],
                            level="confirmed", documents=[{"type": "RF_PASSPORT", **record["passport"]}],
                            person={k: record[k] for k in ("firstName", "lastName", "birthDate", "gender", "snils",
                                                           "inn")})
    return Employee(oid, record["phone"], record["password"], record)


def seed_organisation(control: StackControl, seed: int, *, kind: str = "LEGAL",
                      employees: list[dict[str, Any]]) -> dict[str, Any]:
    fake = russian_faker(seed=seed)
    record = fake.organisation_record()
    if kind == "BUSINESS":
        record.pop("kpp")
        record.pop("branches")
        record = {**record, "type": "BUSINESS", "inn": fake.inn_person(), "ogrn": fake.ogrnip()}
    return control.create_organisation(**{**record, "employees": employees})


def api_token(stack, control, person) -> str:
    """A machine client's bearer token for the same person (the APIs stay as they were)."""
    certificate, key = make_test_identity("APIRP")
    rp = RelyingParty("APIRP", "https://rp.example/cb", certificate, key, clock=lambda: control.now("esia"))
    control.register_client("APIRP", redirect_uris=[rp.redirect_uri],
                            certificate=certificate.public_bytes(serialization.Encoding.PEM).decode())
    with HttpxClient() as http:
        return esia_login.login(http, esia_url=stack.urls["esia"], rp=rp, login=person.phone,
                                password=person.password, read_sms=control.read_sms,
                                scope="openid fullname usr_org").access_token


def submit_declaration(stack, token, organisation) -> dict:
    body = declarations.sample_declaration(russian_faker(seed=organisation["oid"] % 1000))
    body["declarant"] = {**body["declarant"], "inn": organisation["inn"], "kpp": organisation["kpp"],
                         "ogrn": organisation["ogrn"]}
    with HttpxClient() as http:
        answer = http.send("POST", f"{stack.urls['fts']}/api/v1/declarations", name="submit", json=body,
                           headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())})
    assert answer.status == 201, answer.text
    return answer.json()
