"""Whether a recorded run did what it was asked — before any figure of it is judged.

A run whose scheduled fault never happened measures a quiet stack; its SLO table may be all
green and still prove nothing about failover. So a run is *broken* (exit code 2, never PASS)
when any action of its schedule (``run.json`` ``schedule``) left no record in
``failovers.jsonl``, or left one saying it did not take effect or could not be undone, or when
the run itself recorded a problem (``run.json`` ``problems``: Locust crashed, a target did not
answer), or when its load generator saturated (:mod:`~gosstand.reports.generator` says why that
is not a mere warning). The reasons are sentences a CI log can show as they are.
"""

from __future__ import annotations

from typing import Any

from .generator import GeneratorFigures
from .io import RunData

__all__ = ["broken_reasons"]


def broken_reasons(run: RunData) -> list[str]:
    reasons = [str(problem) for problem in run.info.extra.get("problems") or []]
    scheduled: list[dict[str, Any]] = list(run.info.extra.get("schedule") or [])
    for action in scheduled:
        entry = action.get("entry")
        what = _summary(action)
        record = run.failover_of(entry)
        if record is None:
            reasons.append(f"failover entry {entry} ({what}) never ran: the load ended before it, or its runner "
                           f"died (see locust.log)")
        elif not record.took_effect:
            reasons.append(f"failover entry {entry} ({what}) did not take effect: {record.error or record.evidence}")
        elif record.error:
            reasons.append(f"failover entry {entry} ({what}): {record.error}")
    known = {action.get("entry") for action in scheduled}
    for record in run.failovers:
        if record.entry not in known and not record.took_effect:
            reasons.append(f"failover {record.label} did not take effect: {record.error or record.evidence}")
    reasons += [f"the generator saturated: {reason}" for reason in GeneratorFigures.of(run.generator).reasons]
    return reasons


def _summary(action: dict[str, Any]) -> str:
    replica = action.get("replica")
    where = f"{action.get('service')}-{replica}" if replica else str(action.get("service"))
    return f"{action.get('action')} {where} at {float(action.get('at') or 0):g} s"
