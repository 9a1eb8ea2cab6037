"""The figures of one failover episode: the windowed SLO view, beside the physical one.

Two kinds of figure, each under its own name. The *physical* figures (:mod:`.physical`: TTFE,
outage window, TTR, affected requests) say to the millisecond what clients saw. The *windowed*
ones, computed here, say when the service met its SLO again and what the episode cost:

For a fault injected at ``t_f`` on service S, the requests considered are those the selector
picks (the report's per-failover table uses "every request to S"), with intended start before
the *horizon* — the next fault on S, or the end of the run — so episodes do not bleed into one
another.

- Recovery to SLO. Windows are the ``healthy.window`` (W) second windows of the grid that start
  at or after ``t_f`` (the first starts at the first bucket boundary ≥ ``t_f``) and end by the
  horizon. ``T`` is the start of the earliest such window from which on *every* window is
  healthy (success ratio and latency bounds of ``healthy``); recovery to SLO = ``T − t_f``. No
  such window: not recovered, ``None``. Resolution: one bucket (1 s), so it may come before a
  client's last error — it is a statement about windows, not about requests. W is reported with it.
- Episode: ``[t_f, T + W)`` — until the end of the first healthy window, when recovery is
  confirmed (``[t_f, horizon)`` if never recovered). Using ``T + W`` rather than ``T`` keeps the
  failures the first healthy window tolerated inside the episode, so a blip that never breaks
  the SLO (recovery 0) still shows its failures, availability and budget. The physical figures
  count the affected requests of this same episode.
- Availability: request-based = successes / requests with ``s`` in the episode (and the same over
  the service's canary samples, when the run kept a canary); time-based =
  share of the episode's one-second buckets (from the one holding ``t_f``) meeting the healthy
  bounds, empty buckets left out.
- Goodput dip: ``1 − (successes/s in the episode) / (successes/s in the baseline)``, baseline =
  the ``baseline_s`` seconds before ``t_f`` (clipped to the run's start and to the end of the
  previous episode on S). Negative means more goodput than before (e.g. a retry burst).
- Retry amplification: requests carrying an operation id / distinct operations, over the
  operations whose first attempt starts in the episode (all their attempts count).
- Error budget burned: failures in the episode / ((1 − objective) · rate · period), rate from
  the SLO file or, if null, the selected requests' mean rate over the run.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from .affected import LatencyObjective
from .io import FailoverRecord, RequestRecord
from .physical import PhysicalFigures, physical_figures
from .slo import ErrorBudget, Healthy
from .timeline import Grid, Series
from .windows import bucket_is_healthy, is_healthy

__all__ = ["FailoverFigures", "RequestSet", "analyse_failover", "horizons"]


class RequestSet:
    """One subset of the requests, sorted by intended start, with interval queries."""

    def __init__(self, requests: Iterable[RequestRecord]) -> None:
        self.requests = sorted(requests, key=lambda r: r.intended_start)
        self.starts = [r.intended_start for r in self.requests]
        attempts: dict[str, int] = defaultdict(int)
        first_start: dict[str, float] = {}
        for request in self.requests:
            if request.op is not None:
                attempts[request.op] += 1
                first_start.setdefault(request.op, request.intended_start)
        self.attempts = dict(attempts)
        self.first_start = first_start

    def __len__(self) -> int:
        return len(self.requests)

    def between(self, t0: float, t1: float) -> list[RequestRecord]:
        """Requests with ``t0 ≤ s < t1``."""
        return self.requests[bisect_left(self.starts, t0):bisect_left(self.starts, t1)]

    def physical(self, *, observer: str, t_f: float, episode_end: float,
                 objective: LatencyObjective) -> PhysicalFigures:
        """The physical figures of a fault over this set (only the requests that can count)."""
        nearby = self.between(t_f - objective.lookback_s, episode_end)
        return physical_figures(nearby, observer=observer, t_f=t_f, episode_end=episode_end, objective=objective)


@dataclass(frozen=True)
class FailoverFigures:
    failover: FailoverRecord
    selection: str
    window: int
    t: float
    horizon: float
    recovered: bool
    #: Whether one whole healthy window fits between the fault and its horizon: if not, the run
    #: (or the next fault) ended before recovery could be seen, and "not recovered" means
    #: "not observed", not "never".
    observable: bool
    #: Windowed: seconds from the fault to the first window from which on every window is healthy.
    recovery_to_slo_s: float | None
    recovery_to_slo_after_removal_s: float | None
    #: What the load's clients saw (the requests the selector picks).
    physical: PhysicalFigures
    #: What the service's canary saw, when the run kept one (the failover table's selection only).
    canary: PhysicalFigures | None
    #: The canary's availability over the episode (its successes / its samples sent in it), as
    #: ``availability`` is the load's; ``None`` without a canary or with no sample in the episode.
    canary_availability: float | None
    episode_start: float
    episode_end: float
    requests: int
    failures: int
    availability: float | None
    time_availability: float | None
    buckets_meeting: int
    buckets_evaluated: int
    baseline_start: float
    baseline_end: float
    baseline_goodput: float | None
    episode_goodput: float | None
    goodput_dip: float | None
    operations: int
    attempts: int
    retry_amplification: float | None
    budget_rate: float
    budget_allowed_failures: float
    budget_burned: float | None

    @property
    def label(self) -> str:
        return self.failover.label


def horizons(failovers: list[FailoverRecord], run_end: float) -> list[float]:
    """For each fault, when the next fault on the same service starts (or the run ends)."""
    result = []
    for i, fault in enumerate(failovers):
        later = [
            other.injected_at for other in failovers[i + 1:]
            if other.injected_at > fault.injected_at
            and (other.service == fault.service or None in (other.service, fault.service))
        ]
        result.append(min(later, default=run_end))
    return result


def _recovery_start(series: Series, healthy: Healthy, first: int, last: int) -> int | None:
    """The earliest window start ``T`` in ``first .. last`` from which every window is healthy."""
    if last < first:
        return None
    for k in range(last, first - 1, -1):
        if not is_healthy(series, healthy, k):
            return k + 1 if k < last else None
    return first


def _availability(requests: list[RequestRecord]) -> float | None:
    """Successes / requests; ``None`` for none."""
    return sum(r.ok for r in requests) / len(requests) if requests else None


def _goodput(requests: list[RequestRecord], seconds: float) -> float | None:
    if seconds <= 0:
        return None
    return sum(r.ok for r in requests) / seconds


def analyse_failover(
    fault: FailoverRecord,
    *,
    selection: str,
    requests: RequestSet,
    series: Series,
    grid: Grid,
    healthy: Healthy,
    baseline_s: float,
    budget: ErrorBudget,
    horizon: float,
    objective: LatencyObjective,
    previous_end: float | None = None,
    canary: RequestSet | None = None,
) -> FailoverFigures:
    W = healthy.window  # noqa: N806 — the reference's name for it
    t_f = fault.injected_at
    first_window = grid.first_at_or_after(t_f)
    last_window = min(grid.whole_before(horizon), grid.buckets) - W
    start = _recovery_start(series, healthy, first_window, last_window)
    recovered = start is not None
    recovery = grid.start(start) - t_f if start is not None else None
    episode_end = min(horizon, grid.start(start + W)) if start is not None else horizon

    episode = requests.between(t_f, episode_end)
    successes = sum(r.ok for r in episode)

    first_bucket = max(0, grid.index(t_f))
    last_bucket = min(grid.buckets, grid.index(episode_end - 1e-6) + 1)
    verdicts = [bucket_is_healthy(series, healthy, k) for k in range(first_bucket, last_bucket)]
    evaluated = [v for v in verdicts if v is not None]

    after_previous = previous_end if previous_end is not None else grid.origin
    baseline_start = max(grid.origin, t_f - baseline_s, after_previous)
    baseline_goodput = _goodput(requests.between(baseline_start, t_f), t_f - baseline_start)
    episode_goodput = _goodput(episode, episode_end - t_f)
    dip = (
        1 - episode_goodput / baseline_goodput
        if baseline_goodput and episode_goodput is not None else None
    )

    ops = [op for op, first in requests.first_start.items() if t_f <= first < episode_end]
    attempts = sum(requests.attempts[op] for op in ops)

    run_seconds = grid.buckets * 1.0
    rate = budget.rate if budget.rate is not None else len(requests) / run_seconds
    allowed = (1 - budget.objective) * rate * budget.period_s

    return FailoverFigures(
        failover=fault, selection=selection, window=W, t=t_f, horizon=horizon, recovered=recovered,
        observable=last_window >= first_window,
        recovery_to_slo_s=recovery,
        recovery_to_slo_after_removal_s=(
            max(0.0, grid.start(start) - fault.removed_at)
            if start is not None and fault.removed_at is not None else None
        ),
        physical=requests.physical(observer="load", t_f=t_f, episode_end=episode_end, objective=objective),
        canary=None if canary is None else canary.physical(
            observer="canary", t_f=t_f, episode_end=episode_end, objective=objective),
        canary_availability=None if canary is None else _availability(canary.between(t_f, episode_end)),
        episode_start=t_f, episode_end=episode_end,
        requests=len(episode), failures=len(episode) - successes,
        availability=_availability(episode),
        time_availability=sum(evaluated) / len(evaluated) if evaluated else None,
        buckets_meeting=sum(evaluated), buckets_evaluated=len(evaluated),
        baseline_start=baseline_start, baseline_end=t_f,
        baseline_goodput=baseline_goodput, episode_goodput=episode_goodput, goodput_dip=dip,
        operations=len(ops), attempts=attempts, retry_amplification=attempts / len(ops) if ops else None,
        budget_rate=rate, budget_allowed_failures=allowed,
        budget_burned=(len(episode) - successes) / allowed if allowed > 0 else None,
    )
