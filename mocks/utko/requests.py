"""Requests (заявки) filed with UTKO on a date — derived from the date, not stored.

Each calendar date (UTC) has its own fixed set of 3–8 requests, drawn from a random generator
seeded with the date itself: every replica and every run shows the same requests for the same
date, without anyone seeding them. What a reader sees still follows the stand's clock: a
request appears once its filing time has passed, and its history grows as its steps come due
(registered → in work one hour later → completed or rejected 4–48 hours after filing).
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
import uuid
from dataclasses import dataclass
from typing import Any

__all__ = ["REQUEST_KINDS", "REQUEST_STATUSES", "requests_on"]

_NAMESPACE = uuid.UUID("5d7c6c1e-8f0a-4c47-9a55-2b8f1f3e6a10")
REQUEST_KINDS = {
    "waste_removal": "Заявка на вывоз ТКО",
    "site_registration": "Включение места накопления ТКО в реестр",
    "object_registration": "Включение объекта обращения с ТКО в реестр",
    "volume_correction": "Корректировка объёмов образования ТКО",
}
#: A request's current status: the last step of its history that has come due.
REQUEST_STATUSES = ("registered", "in_progress", "completed", "rejected")
_ORGANISATIONS = ("ООО «ЭкоЛайн»", "АО «Спецтранс»", "МУП «Чистый город»", "ООО «Регион-Сервис»",
                  "ООО «ТКО-Логистик»", "АО «Эколог»")
_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)


@dataclass(frozen=True, slots=True)
class _Step:
    status: str
    after: float
    comment: str


def _organisation_inn(rng: random.Random) -> str:
    """A 10-digit INN with a correct check digit (tax office 01–99, not 00)."""
    body = f"{rng.randint(1, 99):02d}" + "".join(str(rng.randint(0, 9)) for _ in range(7))
    check = sum(int(d) * w for d, w in zip(body, _INN10_WEIGHTS, strict=True)) % 11 % 10
    return body + str(check)


def _iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _plan(rng: random.Random) -> tuple[_Step, ...]:
    done = rng.uniform(4, 48) * 3600
    final = (_Step("completed", done, "Заявка исполнена") if rng.random() < 0.8
             else _Step("rejected", done, "Отказано: сведения неполны"))
    return (_Step("registered", 0, "Заявка зарегистрирована"),
            _Step("in_progress", 3600, "Заявка принята в работу"), final)


def requests_on(day: dt.date, *, now: float) -> list[dict[str, Any]]:
    """The requests filed on ``day`` that exist at ``now``, in filing order."""
    rng = random.Random(f"utko-requests:{day.isoformat()}")
    day_start = calendar.timegm(day.timetuple())
    count = rng.randint(3, 8)
    filed = sorted(rng.uniform(0, 86_400) for _ in range(count))
    found = []
    for index, offset in enumerate(filed, start=1):
        kind = rng.choice(sorted(REQUEST_KINDS))
        inn = _organisation_inn(rng)
        applicant = {"inn": inn, "kpp": inn[:4] + "01001", "name": rng.choice(_ORGANISATIONS)}
        steps = _plan(rng)
        filed_at = day_start + int(offset)
        if filed_at > now:
            continue
        history = [{"status": step.status, "at": _iso(filed_at + step.after), "comment": step.comment}
                   for step in steps if filed_at + step.after <= now]
        found.append({
            "id": str(uuid.uuid5(_NAMESPACE, f"{day.isoformat()}/{index}")),
            "number": f"{day.year:04d}{day.month:02d}{day.day:02d}-{index:04d}",
            "kind": kind,
            "title": REQUEST_KINDS[kind],
            "applicant": applicant,
            "filedAt": _iso(filed_at),
            "status": history[-1]["status"],
            "statusHistory": history,
        })
    return found
