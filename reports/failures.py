"""The run's failed requests broken down: by failure class, by HTTP status, per service.

A timeout, a reset and a 503 call for different fixes (a client timeout, connection handling,
capacity), so the report never shows failures as one number only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from ..stand.records import FAILURE_CLASSES
from .affected import failure_class
from .io import RequestRecord

__all__ = ["failure_breakdown", "status_label"]


def status_label(status: int) -> str:
    """An HTTP status as the report names it; 0 means no answer came."""
    return str(status) if status else "no answer"


def failure_breakdown(requests: Iterable[RequestRecord]) -> dict[str, Any]:
    """``by_class`` (every class, zeros included), ``by_status`` and ``by_service`` (class counts)."""
    by_class: Counter[str] = Counter(dict.fromkeys(FAILURE_CLASSES, 0))
    by_status: Counter[str] = Counter()
    by_service: dict[str, Counter[str]] = {}
    for request in requests:
        why = failure_class(request)
        if why is None:
            continue
        by_class[why] += 1
        by_status[status_label(request.status)] += 1
        by_service.setdefault(request.service or "(none)", Counter())[why] += 1
    return {
        "by_class": dict(by_class),
        "by_status": dict(sorted(by_status.items())),
        "by_service": {service: dict(counts) for service, counts in sorted(by_service.items())},
    }
