"""The physical figures of one failover: what clients saw, to the millisecond, from raw records.

For a fault injected at ``t_f``, the requests considered are those of the faulted service that
were in flight at the fault or began in its episode: intended start in
``[t_f − lookback, episode end)`` and end at or after ``t_f`` (the episode runs until the first
healthy window after the fault, :mod:`.failover`). Of those, the affected ones
(:mod:`.affected`) give:

- TTFE (time to first error) = the earliest end of an affected request − ``t_f``;
- outage window = from the first affected request's intended start (not before ``t_f``: the
  outage cannot begin before the fault) to the last affected request's end;
- TTR (time to recover) = the last affected request's end − ``t_f``, so TTR ≥ TTFE always;
- affected requests by class and by connection (opened for the request, or kept alive).

With no affected request, TTFE, outage and TTR are 0 and ``seen`` is false: no client saw the
fault. The same function serves the load's requests and the canary's samples, so the two
observers of one fault are measured alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..stand.records import CONNECTIONS, RequestRecord
from .affected import AFFECTED_CLASSES, LatencyObjective, affected_class

__all__ = ["PhysicalFigures", "physical_figures"]


@dataclass(frozen=True)
class PhysicalFigures:
    #: Who saw it: ``load`` (the users' requests) or ``canary``.
    observer: str
    #: Requests in flight at the fault or begun in its episode.
    requests: int
    affected: int
    ttfe_s: float
    ttr_s: float
    outage_s: float
    #: Epoch seconds; ``None`` when no client saw the fault.
    outage_start: float | None
    outage_end: float | None
    by_class: dict[str, int] = field(default_factory=dict)
    #: ``new``, ``reused`` and ``unknown`` (a record that does not say).
    by_connection: dict[str, int] = field(default_factory=dict)

    @property
    def seen(self) -> bool:
        """Whether any client saw the fault."""
        return self.affected > 0


def physical_figures(requests: Sequence[RequestRecord], *, observer: str, t_f: float, episode_end: float,
                     objective: LatencyObjective) -> PhysicalFigures:
    """The figures of one fault over ``requests`` (one service's, any order)."""
    considered = [
        r for r in requests
        if t_f - objective.lookback_s <= r.intended_start < episode_end and r.ended >= t_f
    ]
    affected = [(r, why) for r in considered if (why := affected_class(r, objective)) is not None]
    by_class = dict.fromkeys(AFFECTED_CLASSES, 0)
    by_connection = dict.fromkeys((*CONNECTIONS, "unknown"), 0)
    for request, why in affected:
        by_class[why] += 1
        by_connection[request.connection or "unknown"] += 1
    if not affected:
        return PhysicalFigures(observer=observer, requests=len(considered), affected=0, ttfe_s=0.0, ttr_s=0.0,
                               outage_s=0.0, outage_start=None, outage_end=None, by_class=by_class,
                               by_connection=by_connection)
    first_end = min(r.ended for r, _ in affected)
    last_end = max(r.ended for r, _ in affected)
    outage_start = max(t_f, min(r.intended_start for r, _ in affected))
    return PhysicalFigures(
        observer=observer, requests=len(considered), affected=len(affected),
        ttfe_s=first_end - t_f, ttr_s=last_end - t_f, outage_s=last_end - outage_start,
        outage_start=outage_start, outage_end=last_end, by_class=by_class, by_connection=by_connection,
    )
