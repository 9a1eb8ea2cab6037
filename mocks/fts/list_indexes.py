"""Which sorted indexes a declaration is entered into, and which one a list query scans.

A large declarant files tens of thousands of declarations a year; filtering them by reading
every record would make a filtered list as slow as the declarant is large. So besides the
declarant's index of all its declarations (``fts:declarant:{inn}``), each declaration is
entered, when filed, into one index per filter value, every one scored by submission µs like
the main index (so date windows and cursors apply to all of them alike):

- ``fts:declarant:{inn}:kpp:{kpp}`` — the declarant's subdivision (only when a KPP is given);
- ``fts:declarant:{inn}:direction:{ИМ|ЭК}`` and ``fts:declarant:{inn}:procedure:{code}``;
- ``fts:declarant:{inn}:outcome:{status}`` — the final status its plan ends in (released,
  refused…), and ``…:outcome:withdrawn`` once the declarant withdraws it.

Status is a function of the clock, so an index cannot hold "the declarations that are refused
now". The outcome index holds those whose plan *ends* refused: every one of them is refused
once its plan has run (at most :data:`~.lifecycle.MAX_PLAN_SPAN` after filing) unless it was
withdrawn first, so nearly every member scanned matches. A status that is not final
(submitted, registered, under control) is held only by declarations filed less than
``MAX_PLAN_SPAN`` ago, so that query scans only that recent window of whichever index it uses.

A query scans the smallest of the indexes its filters name (counted within its window) and
checks the remaining filters on each record, so every filter it did not scan by still holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.store import Store
from .lifecycle import FINAL, MAX_PLAN_SPAN, PLANS, Status
from .queries import ListQuery

__all__ = ["Scan", "declarant_index", "filing_indexes", "scan_for", "withdrawn_index"]


def declarant_index(inn: str) -> str:
    return f"fts:declarant:{inn}"


def _kpp_index(inn: str, kpp: str) -> str:
    return f"fts:declarant:{inn}:kpp:{kpp}"


def _direction_index(inn: str, direction: str) -> str:
    return f"fts:declarant:{inn}:direction:{direction}"


def _procedure_index(inn: str, code: str) -> str:
    return f"fts:declarant:{inn}:procedure:{code}"


def _outcome_index(inn: str, status: str) -> str:
    return f"fts:declarant:{inn}:outcome:{status}"


def withdrawn_index(inn: str) -> str:
    return _outcome_index(inn, Status.WITHDRAWN.value)


def final_status(plan: str) -> Status:
    """The status a declaration following ``plan`` ends in, if nobody withdraws it."""
    return PLANS[plan][-1].status


def filing_indexes(record: dict[str, Any]) -> list[str]:
    """Every index a newly filed declaration belongs to, the declarant's main index first."""
    inn = record["declarant"]["inn"]
    kpp = record["declarant"].get("kpp")
    procedure = record["procedure"]
    names = [declarant_index(inn)]
    if kpp:
        names.append(_kpp_index(inn, kpp))
    names += [_direction_index(inn, procedure["direction"]), _procedure_index(inn, procedure["code"]),
              _outcome_index(inn, final_status(record["plan"]).value)]
    if record.get("withdrawnUs") is not None:
        names.append(withdrawn_index(inn))
    return names


@dataclass(frozen=True, slots=True)
class Scan:
    """The index to read newest first, and the submission window (µs, inclusive) to read in."""

    index: str
    from_us: int | None
    to_us: int | None


def _window(query: ListQuery, now_us: int) -> tuple[int | None, int | None]:
    from_us, to_us = query.from_us, query.to_us
    if query.status is not None and Status(query.status) not in FINAL:
        # Only a declaration filed within the longest plan's span can still be on its way.
        recent = now_us - round(MAX_PLAN_SPAN * 1_000_000)
        from_us = recent if from_us is None else max(from_us, recent)
    return from_us, to_us


async def scan_for(store: Store, query: ListQuery, now_us: int) -> Scan:
    """The narrowest index that holds every declaration ``query`` can match."""
    from_us, to_us = _window(query, now_us)
    candidates: list[str] = []
    if query.status is not None and Status(query.status) in FINAL:
        candidates.append(_outcome_index(query.inn, query.status))
    if query.procedure is not None:
        candidates.append(_procedure_index(query.inn, query.procedure))
    if query.direction is not None:
        candidates.append(_direction_index(query.inn, query.direction))
    if query.kpp is not None:
        candidates.append(_kpp_index(query.inn, query.kpp))
    if not candidates:
        return Scan(declarant_index(query.inn), from_us, to_us)
    if len(candidates) == 1:
        return Scan(candidates[0], from_us, to_us)
    low = float("-inf") if from_us is None else float(from_us)
    high = float("inf") if to_us is None else float(to_us)
    sizes = [await store.index_count(name, min_score=low, max_score=high) for name in candidates]
    return Scan(candidates[sizes.index(min(sizes))], from_us, to_us)
