"""Seeding an FTS store with a year of declarations, as if every one had been filed over HTTP.

An SRE who load-tests a broker's back office needs the mock to hold what production holds: a
million declarations from tens of thousands of declarants, a few of them customs brokers with
tens of thousands each. Filing them one by one over HTTP would take hours; this writes the
same keys the API would have left (:mod:`.repository`, :mod:`.numbering`,
:mod:`.list_indexes`) in batches (:meth:`~..core.store.Store.set_many`,
:meth:`~..core.store.Store.index_add_many`), so the mock serves them exactly as if submitted.

What is written per declaration: the record and its head, the idempotency claim of the key
``seed-<n>``, every list index, and — when its plan registers it — its entry in the office's
registration index. Registration numbers of declarations registered before ``now`` are issued
here (the rank by registration time per office and year, as :mod:`.numbering` defines it), so
reading a seeded list never writes. Some declarations are withdrawn by their declarant
(``fts:withdrawal:{id}``) and the newest few are still in flight when the seed ends.

Seed only a store that holds no declarations yet: the numbers issued here would otherwise
collide with those issued before. :func:`seed_declarations` refuses a store that has any.

Identifiers pass the real checks: the caller hands in ``people``, which makes a Faker seeded with
the number it is given (the stand passes the identities of :mod:`gosstand.scenarios.identities`,
which the mocks do not import); the same ``seed`` gives the same data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.store import Store
from .lifecycle import MAX_PLAN_SPAN, PLANS, registration_delay
from .list_indexes import filing_indexes
from .repository import fingerprint, head_of

if TYPE_CHECKING:
    from faker import Faker

__all__ = ["Declarant", "SeededDeclarations", "seed_declarations"]

YEAR_US = 365 * 86_400 * 1_000_000
#: Declarations written per store transaction.
CHUNK = 50_000
#: The share of declarations still in flight (filed within the longest plan's span of ``now``).
IN_FLIGHT_SHARE = 0.001
WITHDRAWN_SHARE = 0.005
FILING_ORDER_KEY = "fts:filing-order"

#: How often each plan (scenario) happens: most goods are released without questions.
PLAN_WEIGHTS = {
    "release": 80, "conditional_release": 5, "refusal": 3, "registration_refused": 2,
    "documents_requested": 6, "inspection": 3, "inspection_refusal": 1,
}
#: Procedures by share: release for domestic consumption (ИМ 40) and export (ЭК 10) dominate.
PROCEDURE_WEIGHTS = {
    ("ИМ", "40"): 50, ("ЭК", "10"): 25, ("ИМ", "51"): 3, ("ИМ", "53"): 2, ("ИМ", "60"): 1,
    ("ИМ", "70"): 2, ("ИМ", "78"): 1, ("ИМ", "80"): 3, ("ЭК", "21"): 2, ("ЭК", "23"): 2,
    ("ЭК", "31"): 3, ("ЭК", "70"): 1, ("ЭК", "78"): 1, ("ЭК", "80"): 2, ("ИМ", "96"): 1, ("ЭК", "96"): 1,
}
CUSTOMS_OFFICES = ("10005020", "10005030", "10013160", "10129060", "10130090", "10210200", "10216100",
                   "10221010", "10228010", "10311010", "10317090", "10404083", "10502110", "10702070",
                   "10714040", "10009100")
_GOODS = (("8471300000", "Ноутбуки", "шт", "CN"), ("8517130000", "Смартфоны", "шт", "CN"),
          ("8703231981", "Легковые автомобили", "шт", "DE"), ("0803901000", "Бананы свежие", "кг", "EC"),
          ("6403999800", "Обувь кожаная", "пар", "VN"), ("8418102001", "Холодильники бытовые", "шт", "TR"),
          ("3004900002", "Лекарственные средства", "кг", "IN"), ("2709009000", "Нефть сырая", "т", "RU"),
          ("7208390020", "Прокат плоский горячекатаный", "т", "RU"),
          ("4407119300", "Пиломатериалы хвойные", "м3", "RU"),
          ("1001990000", "Пшеница", "т", "RU"), ("3901109000", "Полиэтилен", "т", "RU"))
_CURRENCIES = {"CN": "CNY", "DE": "EUR", "EC": "USD", "VN": "USD", "TR": "TRY", "IN": "USD", "RU": "RUB"}
_TERMS = ("FCA", "EXW", "CIF", "DAP", "FOB", "CPT")


@dataclass(frozen=True, slots=True)
class Declarant:
    inn: str
    ogrn: str
    name: str
    #: The subdivisions (KPP) it files from; empty for a sole proprietor.
    kpps: tuple[str, ...]
    count: int


@dataclass(slots=True)
class SeededDeclarations:
    """What was written: totals, and the largest declarant (the one a benchmark lists)."""

    declarations: int = 0
    declarants: int = 0
    largest: Declarant | None = None
    statuses: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        largest = self.largest
        return {"declarations": self.declarations, "declarants": self.declarants,
                "largest": None if largest is None else {"inn": largest.inn, "kpps": list(largest.kpps),
                                                         "declarations": largest.count},
                "plans": self.statuses}


def declaration_counts(total: int, rng: random.Random) -> list[int]:
    """How many declarations each declarant files, largest first: one broker with a twentieth of
    all (at most 50,000), ten large ones with a hundredth each, and a long tail of small
    importers with a few each (a Pareto-like spread)."""
    counts = [max(1, min(50_000, total // 20))]
    if total >= 1_000:
        counts += [total // 100] * 10
    left = total - sum(counts)
    while left > 0:
        count = min(left, max(1, int(rng.paretovariate(1.2))))
        counts.append(min(count, 2_000))
        left -= counts[-1]
    return counts


def _declarants(total: int, seed: int, people: Callable[[int], Faker]) -> list[Declarant]:
    rng = random.Random(seed)
    fake = people(seed)
    found: list[Declarant] = []
    for index, count in enumerate(declaration_counts(total, rng)):
        if index > 10 and rng.random() < 0.15:
            proprietor = fake.sole_proprietor()
            found.append(Declarant(proprietor.inn, proprietor.ogrnip, proprietor.full_name, (), count))
            continue
        entity = fake.legal_entity()
        branches = 3 if index <= 10 else 1
        office = entity.kpp[:4]
        kpps = (entity.kpp, *(fake.kpp_code(tax_office=office, reason="43") for _ in range(branches - 1)))
        found.append(Declarant(entity.inn, entity.ogrn, entity.name, tuple(dict.fromkeys(kpps)), count))
    return found


def _weighted(choices: dict[Any, int]) -> tuple[list[Any], list[int]]:
    keys = list(choices)
    return keys, [choices[key] for key in keys]


@dataclass(frozen=True, slots=True)
class _Filing:
    """One declaration's skeleton: enough to rank registrations before any record is built."""

    order: int
    declarant: int
    id: str
    submitted_us: int
    plan: str
    office: str
    withdrawn_us: int | None

    @property
    def registered_us(self) -> int | None:
        delay = registration_delay(self.plan)
        if delay is None:
            return None
        registered = self.submitted_us + round(delay * 1_000_000)
        if self.withdrawn_us is not None and self.withdrawn_us < registered:
            return None
        return registered


def _filings(declarants: list[Declarant], now_us: int, rng: random.Random) -> list[_Filing]:
    plans, plan_weights = _weighted(PLAN_WEIGHTS)
    span_us = round(MAX_PLAN_SPAN * 1_000_000)
    skeletons: list[tuple[int, int, str, str, str, int | None]] = []
    for index, declarant in enumerate(declarants):
        chosen = rng.choices(plans, plan_weights, k=declarant.count)
        for plan in chosen:
            if rng.random() < IN_FLIGHT_SHARE:
                submitted = now_us - rng.randrange(1, span_us)
            else:
                submitted = now_us - span_us - rng.randrange(0, YEAR_US)
            withdrawn = None
            if rng.random() < WITHDRAWN_SHARE:
                last_step = PLANS[plan][-1].after
                withdrawn = submitted + rng.randrange(1_000_000, round(last_step * 1_000_000))
                if withdrawn >= now_us:
                    withdrawn = None
            declaration_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            skeletons.append((submitted, index, declaration_id, plan, rng.choice(CUSTOMS_OFFICES), withdrawn))
    skeletons.sort()
    return [_Filing(order, index, declaration_id, submitted, plan, office, withdrawn)
            for order, (submitted, index, declaration_id, plan, office, withdrawn) in enumerate(skeletons, 1)]


def _member(filing: _Filing) -> str:
    return f"{filing.order:015d}:{filing.id}"


def _registrations_index(office: str, registered_us: int) -> str:
    year = dt.datetime.fromtimestamp(registered_us / 1e6, dt.UTC).year
    return f"fts:registrations:{office}:{year}"


def _numbers(filings: list[_Filing], now_us: int) -> dict[str, str]:
    """Registration numbers of everything registered by ``now``: rank per office and year."""
    ranked: dict[str, list[tuple[int, str, _Filing]]] = defaultdict(list)
    for filing in filings:
        registered = filing.registered_us
        if registered is not None:
            ranked[_registrations_index(filing.office, registered)].append((registered, _member(filing), filing))
    numbers: dict[str, str] = {}
    for entries in ranked.values():
        entries.sort()
        for sequence, (registered, _, filing) in enumerate(entries, 1):
            if registered <= now_us:
                day = dt.datetime.fromtimestamp(registered / 1e6, dt.UTC)
                numbers[filing.id] = f"{filing.office}/{day:%d%m%y}/{sequence % 10_000_000:07d}"
    return numbers


def _record(filing: _Filing, declarant: Declarant, number: str | None, rng: random.Random) -> dict[str, Any]:
    procedure = rng.choices(*_weighted(PROCEDURE_WEIGHTS))[0]
    tnved, description, unit, origin = rng.choice(_GOODS)
    party: dict[str, Any] = {"inn": declarant.inn}
    if declarant.kpps:
        party["kpp"] = rng.choice(declarant.kpps)
    party.update({"ogrn": declarant.ogrn, "name": declarant.name})
    submission: dict[str, Any] = {
        "senderReference": f"SEED-{filing.order:07d}",
        "declarant": party,
        "procedure": {"direction": procedure[0], "code": procedure[1]},
        "customsOffice": filing.office,
        "goods": [{"tnved": tnved, "description": description, "quantity": rng.randint(1, 500), "unit": unit,
                   "customsValue": f"{rng.randint(1_000, 9_000_000)}.{rng.randint(0, 99):02d}",
                   "currency": _CURRENCIES[origin], "originCountry": origin,
                   "deliveryTerms": rng.choice(_TERMS)}],
        "scenario": filing.plan,
    }
    record = {"id": filing.id, **submission, "submittedUs": filing.submitted_us, "plan": filing.plan,
              "registrationNumber": number, "fingerprint": fingerprint(submission),
              "submittedBy": str(1_000_000_000 + filing.declarant)}
    if filing.withdrawn_us is not None:
        record["withdrawnUs"] = filing.withdrawn_us
    return record


def _idempotency_key(record: dict[str, Any], key: str) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"fts:idempotency:{record['declarant']['inn']}:{record['declarant'].get('kpp', '')}:{digest}"


async def _write_chunk(store: Store, filings: list[_Filing], declarants: list[Declarant],
                       numbers: dict[str, str], rng: random.Random) -> dict[str, int]:
    values: dict[str, str] = {}
    entries: list[tuple[str, str, float]] = []
    plans: dict[str, int] = defaultdict(int)
    for filing in filings:
        record = _record(filing, declarants[filing.declarant], numbers.get(filing.id), rng)
        plans[filing.plan] += 1
        values[f"fts:declaration:{filing.id}"] = json.dumps(record, ensure_ascii=False)
        values[f"fts:head:{filing.id}"] = json.dumps(head_of(record))
        key = f"seed-{filing.order}"
        values[_idempotency_key(record, key)] = json.dumps({"id": filing.id, "fingerprint": record["fingerprint"]})
        score = float(filing.submitted_us)
        entries.extend((name, filing.id, score) for name in filing_indexes(record))
        registered = filing.registered_us
        if registered is not None:
            values[f"fts:registration-member:{filing.id}"] = _member(filing)
            entries.append((_registrations_index(filing.office, registered), _member(filing), float(registered)))
        if filing.id in numbers:
            values[f"fts:number:{filing.id}"] = numbers[filing.id]
        if filing.withdrawn_us is not None:
            withdrawal = {"key": hashlib.sha256(f"seed-withdrawal-{filing.order}".encode()).hexdigest(),
                          "withdrawnUs": filing.withdrawn_us}
            values[f"fts:withdrawal:{filing.id}"] = json.dumps(withdrawal)
    await store.set_many(values)
    await store.index_add_many(entries)
    return plans


async def seed_declarations(store: Store, *, count: int, now: float, people: Callable[[int], Faker], seed: int = 1,
                            progress: Callable[[int], None] | None = None) -> SeededDeclarations:
    """Write ``count`` declarations filed over the year before ``now`` (the stand's clock,
    seconds); ``progress`` hears how many are written after each batch."""
    if await store.get(FILING_ORDER_KEY) is not None:
        raise ValueError("this FTS store already holds declarations; seed an empty one "
                         "(registration numbers would collide)")
    result = SeededDeclarations()
    if count <= 0:
        return result
    now_us = round(now * 1_000_000)
    rng = random.Random(seed)
    declarants = _declarants(count, seed, people)
    filings = _filings(declarants, now_us, rng)
    numbers = _numbers(filings, now_us)
    plans: dict[str, int] = defaultdict(int)
    for start in range(0, len(filings), CHUNK):
        written = await _write_chunk(store, filings[start:start + CHUNK], declarants, numbers, rng)
        for plan, n in written.items():
            plans[plan] += n
        if progress is not None:
            progress(min(start + CHUNK, len(filings)))
    await store.set(FILING_ORDER_KEY, str(len(filings)))
    result.declarations = len(filings)
    result.declarants = len(declarants)
    result.largest = declarants[0]
    result.statuses = dict(plans)
    return result
