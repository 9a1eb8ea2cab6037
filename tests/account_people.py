"""People and organisations seeded for the personal-account tests: a person working for two
organisations (one a legal entity, one their own business as a sole proprietor), through the
control API of any stack with ``urls`` and a ``control_token``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gosstand.scenarios.control import StackControl
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
