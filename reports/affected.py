"""Which requests a fault affected, and why: the definition every physical figure rests on.

A request is *affected* when it failed — a timeout, a reset, a refused connection, a 5xx or a
status its journey did not expect — or when it succeeded later than the latency objective
allows, measured from its intended start (a hang a client sat out is an outage, not a success;
class ``slow``). The latency objective is the SLO file's ``slow_ms`` if it sets one, else its
healthy p99 bound; the report says which.

A request in flight when the fault struck counts too: its start may lie up to its latency budget
(the objective, else the client's timeout) before the fault, as long as it ended after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..stand.records import FAILURE_CLASSES, RequestRecord
from .slo import SloSpec

__all__ = ["AFFECTED_CLASSES", "LatencyObjective", "affected_class", "failure_class", "latency_objective"]

#: Why a request was affected: its failure class, or ``slow`` (a success over the objective).
#: ``unclassified``: a failed request recorded before failure classes were (an old run).
AFFECTED_CLASSES: tuple[str, ...] = (*FAILURE_CLASSES, "slow", "unclassified")

#: The client timeout a run gives a journey that its profile does not name; a request in
#: flight at a fault started at most this long before it. The load tests' default.
_DEFAULT_CLIENT_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class LatencyObjective:
    """The latency over which a successful request still counts as affected."""

    #: Seconds from the intended start; ``None``: no latency objective, only failures count.
    slow_after_s: float | None
    #: Where the bound comes from, in words the report prints.
    source: str
    #: How long before a fault a request in flight at it may have started.
    lookback_s: float

    def describe(self) -> str:
        if self.slow_after_s is None:
            return f"failed (no latency objective: {self.source})"
        return f"failed, or slower than {self.slow_after_s * 1000:g} ms from its intended start ({self.source})"


def latency_objective(spec: SloSpec, run_extra: dict[str, Any]) -> LatencyObjective:
    """The SLO file's ``slow_ms``, else its healthy p99 bound, else none (failures only)."""
    timeouts = [float(v) for v in (run_extra.get("timeouts_s") or {}).values() if isinstance(v, int | float)]
    longest_timeout = max(timeouts, default=_DEFAULT_CLIENT_TIMEOUT_S)
    if spec.slow_ms is not None:
        bound, source = spec.slow_ms / 1000, "slow_ms in the SLO file"
    elif "p99_ms" in spec.healthy.latency_ms:
        bound, source = spec.healthy.latency_ms["p99_ms"] / 1000, "the SLO's healthy p99 bound"
    else:
        return LatencyObjective(None, "the SLO file sets neither slow_ms nor healthy.p99_ms", longest_timeout)
    return LatencyObjective(bound, source, bound)


def failure_class(request: RequestRecord) -> str | None:
    """Why ``request`` failed, or ``None`` if it did not; a record without a class (an old run)
    is classed by its status where that says enough."""
    if request.ok:
        return None
    if request.failure is not None:
        return request.failure
    if request.status >= 500:
        return "5xx"
    return "status" if request.status >= 400 else "unclassified"


def affected_class(request: RequestRecord, objective: LatencyObjective) -> str | None:
    """Why ``request`` was affected (one of :data:`AFFECTED_CLASSES`), or ``None`` if it was not."""
    if not request.ok:
        return failure_class(request)
    if objective.slow_after_s is not None and request.latency > objective.slow_after_s:
        return "slow"
    return None
