"""Seeding a UTKO store with a register of objects (and weight controls), as the API would.

The register holds a hundred thousand waste-handling facilities and accumulation sites across
the regions, run by operators of very different size (a regional operator runs hundreds of
sites, most companies one or two). This writes the keys :mod:`.repository` would have left —
record, every list index (:func:`~.repository.indexes_of`) — in batches, plus each object's
access key for REO's weight-control import, and imports weight controls into the first few
objects so that reading them back has something to page through.

The access key of a seeded object is :func:`access_key_for` of its id and the seed, so a load
test can import weight controls into seeded objects without asking the control API for keys.
The same ``seed`` gives the same register. Operators' identifiers pass the real checks: the
caller hands in ``people``, which makes a Faker seeded with the number it is given (the stand
passes the identities of :mod:`gosstand.scenarios.identities`, which the mocks do not import).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.store import Store
from .repository import indexes_of
from .weight_validation import validate_weight_control

if TYPE_CHECKING:
    from faker import Faker

__all__ = ["SeededObjects", "access_key_for", "seed_objects"]

YEAR_US = 365 * 86_400 * 1_000_000
CHUNK = 20_000
#: Objects that receive weight controls (the first ones seeded).
OBJECTS_WITH_WEIGHT_CONTROLS = 10

TYPE_WEIGHTS = {"accumulation": 60, "transfer": 12, "sorting": 12, "utilisation": 6, "neutralisation": 4,
                "disposal": 6}
STATUS_WEIGHTS = {"active": 85, "inactive": 7, "suspended": 5, "closed": 3}
_TYPE_NAMES = {"accumulation": "Контейнерная площадка", "transfer": "Мусороперегрузочная станция",
               "sorting": "Мусоросортировочный комплекс", "utilisation": "Комплекс по утилизации отходов",
               "neutralisation": "Установка обезвреживания отходов", "disposal": "Полигон ТКО"}
#: Region codes of the subjects, the large ones more often.
_REGIONS = tuple(f"{code:02d}" for code in range(1, 90) if code not in (80, 81, 82, 84, 85, 88))
_BIG_REGIONS = ("77", "50", "78", "47", "23", "66", "16", "54", "52", "63", "61", "02", "74", "24")
_STREETS = ("ул. Промышленная", "ул. Заводская", "ш. Энтузиастов", "ул. Складская", "пр-д Строителей",
            "ул. Центральная", "ул. Лесная", "ул. Набережная")


def access_key_for(object_id: str, seed: int = 1) -> str:
    """The weight-control access key of a seeded object (what its registration would have returned)."""
    return hashlib.sha256(f"gosstand-seed:{seed}:{object_id}".encode()).hexdigest()[:32]


@dataclass(slots=True)
class SeededObjects:
    objects: int = 0
    operators: int = 0
    weight_controls: int = 0
    #: The operator with the most objects (its INN, KPP and object count), and one object that has
    #: weight controls with its operator (a reader must act for them: the access policy).
    largest_operator: str | None = None
    largest_operator_kpp: str | None = None
    largest_operator_objects: int = 0
    object_with_weight_controls: str | None = None
    object_with_weight_controls_operator: dict[str, str] | None = None
    types: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {"objects": self.objects, "operators": self.operators, "weightControls": self.weight_controls,
                "largestOperator": self.largest_operator, "largestOperatorKpp": self.largest_operator_kpp,
                "largestOperatorObjects": self.largest_operator_objects,
                "objectWithWeightControls": self.object_with_weight_controls,
                "objectWithWeightControlsOperator": self.object_with_weight_controls_operator, "types": self.types}


def _operators(count: int, seed: int, rng: random.Random, people: Callable[[int], Faker]) -> list[dict[str, str]]:
    fake = people(seed + 1)
    found: list[dict[str, str]] = []
    for _ in range(max(1, count // 8)):
        if rng.random() < 0.1:
            found.append({"inn": fake.sole_proprietor().inn})
        else:
            entity = fake.legal_entity()
            found.append({"inn": entity.inn, "kpp": entity.kpp})
    return found


def _object(index: int, operator: dict[str, str], now_us: int, rng: random.Random,
            fkko: list[str]) -> dict[str, Any]:
    kind = rng.choices(list(TYPE_WEIGHTS), list(TYPE_WEIGHTS.values()))[0]
    region = rng.choice(_BIG_REGIONS) if rng.random() < 0.5 else rng.choice(_REGIONS)
    created = now_us - rng.randrange(0, YEAR_US)
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "name": f"{_TYPE_NAMES[kind]} № {index + 1}",
        "status": rng.choices(list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values()))[0],
        "type": kind,
        "operator": dict(operator),
        "region": region,
        "address": f"Регион {region}, {rng.choice(_STREETS)}, д. {rng.randint(1, 200)}",
        "coordinates": {"lat": round(rng.uniform(42.0, 70.0), 5), "lon": round(rng.uniform(20.0, 180.0), 5)},
        "fkkoCodes": rng.sample(fkko, rng.randint(1, 4)),
        "createdUs": created, "updatedUs": created, "version": 1,
    }


def _weight_control(object_index: int, number: int, created_us: int, now_us: int,
                    rng: random.Random, plates: list[str]) -> dict[str, Any]:
    before = dt.datetime.fromtimestamp(rng.randrange(created_us, now_us) / 1e6, dt.UTC).replace(microsecond=0)
    weight_before = rng.randint(12_000, 40_000)
    weight_after = rng.randint(8_000, weight_before - 500)
    raw = {
        "id": f"seed-{object_index}-{number}",
        "dateBefore": before.isoformat().replace("+00:00", "Z"),
        "dateAfter": (before + dt.timedelta(minutes=rng.randint(5, 40))).isoformat().replace("+00:00", "Z"),
        "registrationNumber": rng.choice(plates),
        "weightBefore": weight_before, "weightAfter": weight_after, "weightDriver": 80,
        "garbageWeight": weight_before - weight_after - 80,
        "codeFKKO": "73111001724", "nameFKKO": "отходы из жилищ несортированные (исключая крупногабаритные)",
    }
    stored, errors = validate_weight_control(raw, number)
    assert stored is not None, errors
    return stored


async def seed_objects(store: Store, *, count: int, now: float, people: Callable[[int], Faker], seed: int = 1,
                       weight_controls: int = 0,
                       progress: Callable[[int], None] | None = None) -> SeededObjects:
    """Write ``count`` objects registered over the year before ``now`` (seconds, the stand's
    clock) and ``weight_controls`` weight controls spread over the first few of them."""
    rng = random.Random(seed)
    now_us = round(now * 1_000_000)
    result = SeededObjects()
    if count <= 0:
        return result
    operators = _operators(count, seed, rng, people)
    fake = people(seed + 2)
    fkko = list({fake.fkko_code() for _ in range(200)})
    plates = [fake.vehicle_plate() for _ in range(200)]
    weights = [1 / (rank + 1) for rank in range(len(operators))]
    owners = rng.choices(range(len(operators)), weights, k=count)
    types: dict[str, int] = {}
    heavy: list[dict[str, Any]] = []
    for start in range(0, count, CHUNK):
        values: dict[str, str] = {}
        entries: list[tuple[str, str, float]] = []
        for index in range(start, min(count, start + CHUNK)):
            record = _object(index, operators[owners[index]], now_us, rng, fkko)
            types[record["type"]] = types.get(record["type"], 0) + 1
            values[f"utko:object:{record['id']}"] = json.dumps(record, ensure_ascii=False)
            access_key = access_key_for(record["id"], seed)
            values[f"utko:object:{record['id']}:access-key"] = hashlib.sha256(access_key.encode()).hexdigest()
            entries.extend((name, record["id"], float(record["createdUs"])) for name in indexes_of(record))
            if len(heavy) < OBJECTS_WITH_WEIGHT_CONTROLS:
                heavy.append(record)
        await store.set_many(values)
        await store.index_add_many(entries)
        if progress is not None:
            progress(min(count, start + CHUNK))
    imported_us = now_us
    for position, record in enumerate(heavy):
        share = weight_controls // len(heavy) + (1 if position < weight_controls % len(heavy) else 0)
        values = {}
        entries = []
        for number in range(share):
            stored = _weight_control(position, number, record["createdUs"], now_us, rng, plates)
            values[f"utko:wc:{record['id']}:{stored['key']}"] = json.dumps({**stored, "importedUs": imported_us},
                                                                           ensure_ascii=False)
            entries.append((f"utko:wc:{record['id']}", stored["key"], float(stored["atUs"])))
        await store.set_many(values)
        await store.index_add_many(entries)
        result.weight_controls += share
    result.objects = count
    result.operators = len(set(owners))
    result.largest_operator = operators[0]["inn"]
    result.largest_operator_kpp = operators[0].get("kpp")
    result.largest_operator_objects = owners.count(0)
    result.object_with_weight_controls = heavy[0]["id"]
    result.object_with_weight_controls_operator = dict(heavy[0]["operator"])
    result.types = types
    return result
