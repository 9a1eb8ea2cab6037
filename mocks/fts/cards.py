"""The wire shapes of FTS answers, kept apart from the rules that decide their content.

A *card* is the full declaration as ``GET /api/v1/declarations/{id}`` shows it; a *status* is
the cheap summary of ``GET …/{id}/status``. Times are ISO 8601 in UTC with milliseconds
(``2026-05-20T09:15:00.123Z``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .lifecycle import Progress, Step

__all__ = ["card", "history_entry", "iso", "status_summary"]


def iso(seconds: float) -> str:
    moment = dt.datetime.fromtimestamp(seconds, dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def history_entry(step: Step, at: float, number: str | None) -> dict[str, str]:
    """One status change as the declarant sees it, in the card's history and the event feed."""
    return {"status": step.status.value, "at": iso(at), "comment": step.comment.format(number=number or "")}


def _history(record: dict[str, Any], state: Progress) -> list[dict[str, str]]:
    number = record.get("registrationNumber")
    return [history_entry(step, at, number) for step, at in state.reached]


def card(record: dict[str, Any], state: Progress) -> dict[str, Any]:
    return {
        "id": record["id"],
        "senderReference": record["senderReference"],
        "declarant": record["declarant"],
        "procedure": record["procedure"],
        "customsOffice": record["customsOffice"],
        "goods": record["goods"],
        "status": state.status.value,
        "registrationNumber": record.get("registrationNumber") if state.registered_at is not None else None,
        "decisionCode": state.decision,
        "submittedAt": iso(record["submittedUs"] / 1e6),
        "updatedAt": iso(state.updated_at),
        "statusHistory": _history(record, state),
    }


def status_summary(record: dict[str, Any], state: Progress) -> dict[str, Any]:
    return {
        "id": record["id"],
        "status": state.status.value,
        "registrationNumber": record.get("registrationNumber") if state.registered_at is not None else None,
        "decisionCode": state.decision,
        "updatedAt": iso(state.updated_at),
    }
