"""Reading the query string of ``GET /api/v1/declarations``: each parameter checked, each bad
one reported (400 problem, ``errors[{parameter, detail}]``) — a list request is malformed, not
semantically wrong, when a filter cannot be parsed."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..core.identifiers import PROCEDURES, is_valid_inn, is_valid_kpp
from ..core.problems import Problem
from ..core.query import bounded_int
from .lifecycle import Status
from .paging import Position, parse_cursor

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "ListQuery", "parse_list_query"]

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PROCEDURE = re.compile(r"[0-9]{2}")
_STATUSES = {status.value for status in Status}


@dataclass(frozen=True, slots=True, kw_only=True)
class ListQuery:
    inn: str
    kpp: str | None = None
    status: str | None = None
    direction: str | None = None
    procedure: str | None = None
    #: Submission window in µs since the epoch, both ends inclusive.
    from_us: int | None = None
    to_us: int | None = None
    limit: int = DEFAULT_LIMIT
    after: Position | None = None

    def matches(self, record: dict[str, object], status: str) -> bool:
        procedure = record["procedure"]
        declarant = record["declarant"]
        assert isinstance(procedure, dict) and isinstance(declarant, dict)
        return (
            (self.kpp is None or declarant.get("kpp") == self.kpp)
            and (self.status is None or status == self.status)
            and (self.direction is None or procedure["direction"] == self.direction)
            and (self.procedure is None or procedure["code"] == self.procedure)
        )


def _day_start_us(value: str) -> int | None:
    if not _DATE.fullmatch(value):
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return None
    return calendar.timegm(day.timetuple()) * 1_000_000


def parse_list_query(params: Mapping[str, str]) -> ListQuery:
    errors: list[dict[str, str]] = []

    def bad(name: str, detail: str) -> None:
        errors.append({"parameter": name, "detail": detail})

    inn = params.get("inn")
    if inn is None:
        bad("inn", "required: the declarant's INN")
    elif not is_valid_inn(inn):
        bad("inn", "not a valid INN")
    kpp = params.get("kpp")
    if kpp is not None and not is_valid_kpp(kpp, digits_only=True):
        bad("kpp", "not a valid KPP (9 digits)")
    status = params.get("status")
    if status is not None and status not in _STATUSES:
        bad("status", f"one of {', '.join(sorted(_STATUSES))}")
    direction = params.get("direction")
    if direction is not None and direction not in PROCEDURES:
        bad("direction", "ИМ or ЭК")
    procedure = params.get("procedure")
    if procedure is not None and not _PROCEDURE.fullmatch(procedure):
        bad("procedure", "a two-digit procedure code such as 40")
    from_us = to_us = None
    if (date_from := params.get("dateFrom")) is not None:
        from_us = _day_start_us(date_from)
        if from_us is None:
            bad("dateFrom", "a calendar date YYYY-MM-DD")
    if (date_to := params.get("dateTo")) is not None:
        start = _day_start_us(date_to)
        if start is None:
            bad("dateTo", "a calendar date YYYY-MM-DD")
        else:
            to_us = start + 86_400_000_000 - 1
    limit = bounded_int(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT, errors)
    after = None
    if (cursor := params.get("cursor")) is not None:
        try:
            after = parse_cursor(cursor)
        except Problem as problem:
            errors.extend(problem.errors or [])
    if errors:
        raise Problem(400, "the query is malformed", errors=errors)
    assert inn is not None
    return ListQuery(inn=inn, kpp=kpp, status=status, direction=direction, procedure=procedure,
                     from_us=from_us, to_us=to_us, limit=limit, after=after)
