"""The generator's own figures, and whether it saturated.

From the Locust processes' samples (``generator-*.jsonl``): the rate the timetable offered
against the rate journeys actually started, the starts that came late (by default more than
:data:`~gosstand.stand.records.LATE_START_S` after their arrival) and the arrivals that never
started, the virtual users the open model needed, and each process's CPU.

**A saturated generator makes the run BROKEN (exit 2), not a warning.** A generator that
started more than 1 % of its journeys late, or whose process sat at a full core for seconds on
end, did not offer the load the run was asked for, and every latency it recorded includes time
it spent queueing in itself. Neither verdict is then true: a PASS would certify the target at a
rate it was never offered — the false pass a release gate exists to prevent — and a FAIL may be
the generator's own slowness blamed on the target. That is what exit code 2 means (the run did
not do what it was asked; its figures cannot be judged), and it is fail-closed: a pipeline can
only get 0 from a run whose load was real. The flag names its cause, so the remedy is plain:
more ``--max-users`` when every virtual user was busy, more ``--processes`` (or machines) when a
process's CPU was the limit, or a lower ``--rate``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..stand.records import LATE_START_S, GeneratorSample

__all__ = ["LATE_SHARE_LIMIT", "PEGGED_CPU", "PEGGED_FOR_S", "GeneratorFigures", "ProcessFigures", "busy_users"]

#: More late (or never started) journeys than this share of the offered ones: saturated.
LATE_SHARE_LIMIT = 0.01
#: A process using at least this share of one core…
PEGGED_CPU = 0.9
#: …for at least this many one-second samples in a row is pegged: its event loop had no time
#: left to send on time or to read answers when they came.
PEGGED_FOR_S = 3
#: Load processes whose event loops waited for a CPU this share of the time or more, in the seconds
#: they started journeys late, were starved by the machine (other work had the cores) rather than
#: busy themselves.
STARVED_SHARE = 0.25
#: A process using this share of a core or more in the seconds it started journeys late was
#: busy itself: more processes would help.
BUSY_CPU = 0.5
#: Samples shorter than this (the last, partial second of a process) say little about its CPU.
_SHORT_S = 0.5


@dataclass(frozen=True, slots=True)
class ProcessFigures:
    pid: int
    role: str
    worker_index: int | None
    cpu_mean: float
    cpu_max: float
    #: The longest run of consecutive samples at or above :data:`PEGGED_CPU`, in samples (seconds).
    pegged_s: int
    started: int
    requests: int
    #: The share of the time its event loop's thread waited for a CPU (``None``: not measured).
    cpu_wait_share: float | None = None

    @property
    def label(self) -> str:
        if self.role == "worker":
            return f"worker {self.worker_index} (pid {self.pid})"
        return f"{self.role} (pid {self.pid})"


@dataclass(frozen=True)
class GeneratorFigures:
    #: ``open`` (arrival rate), ``closed`` (users), or ``None``: the run recorded no sample.
    model: str | None
    processes: list[ProcessFigures]
    #: Seconds the samples span.
    seconds: float
    #: Seconds the rates are over: the load's duration when the run says it (the timetable spans
    #: exactly that), else from the first to the last sample that offered (open model) or started
    #: a journey — a second or so longer, as samples are whole seconds of the process's clock.
    active_s: float
    #: Open model: journeys the timetable offered, and of them started, late and never started.
    offered: int | None
    started: int
    late: int | None
    missed: int | None
    lag_max_s: float | None
    #: Virtual users: the most the load processes had at once, and the most they were allowed.
    users_peak: int
    users_limit: int | None
    #: The longest any process's arrivals waited for a free virtual user, in seconds.
    pool_full_s: float
    requests: int
    failures: int
    #: The lag beyond which a start was late (what the run was told, or the default).
    late_after_s: float = LATE_START_S
    #: Over the seconds with late starts: the load processes' CPU (a share of one core each) and
    #: the share of the time their event loops waited for a CPU (``None``: no late second, or
    #: not measured) — what tells a busy generator from a starved one.
    late_cpu: float | None = None
    late_cpu_wait: float | None = None
    #: Per second of the load: journeys offered and started, over every process.
    timeline: dict[str, list[Any]] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

    @property
    def saturated(self) -> bool:
        return bool(self.reasons)

    @property
    def late_share(self) -> float | None:
        """Late or never started journeys, as a share of those offered."""
        if not self.offered or self.late is None or self.missed is None:
            return None
        return (self.late + self.missed) / self.offered

    @property
    def offered_rate(self) -> float | None:
        return self.offered / self.active_s if self.offered is not None and self.active_s else None

    @property
    def achieved_rate(self) -> float | None:
        return self.started / self.active_s if self.active_s else None

    @classmethod
    def of(cls, samples: Sequence[GeneratorSample], *, duration_s: float | None = None) -> GeneratorFigures:
        if not samples:
            return cls(model=None, processes=[], seconds=0.0, active_s=0.0, offered=None, started=0, late=None,
                       missed=None, lag_max_s=None, users_peak=0, users_limit=None, pool_full_s=0.0, requests=0,
                       failures=0)
        load = [s for s in samples if s.role != "master"]
        open_model = any(s.offered is not None for s in load)
        origin = min(s.at - s.interval_s for s in samples)
        seconds = max(s.at for s in samples) - origin
        offered = sum(s.offered or 0 for s in load) if open_model else None
        started = sum(s.started for s in load)
        late = sum(s.late or 0 for s in load) if open_model else None
        lags = [s.lag_max_s for s in load if s.lag_max_s is not None]
        limits = {s.process: s.pool_max for s in load if s.pool_max is not None}
        pool_full: dict[tuple[str, int | None, int], float] = {}
        for s in load:
            pool_full[s.process] = pool_full.get(s.process, 0.0) + (s.pool_full_s or 0.0)
        late_cpu, late_cpu_wait = _when_late(load)
        figures = cls(
            model="open" if open_model else "closed",
            processes=_processes(samples),
            seconds=seconds,
            active_s=duration_s if duration_s else _active_seconds(load, open_model),
            offered=offered, started=started, late=late,
            missed=max(0, offered - started) if offered is not None else None,
            lag_max_s=max(lags) if lags else None,
            users_peak=_peak_users(load),
            users_limit=sum(limits.values()) if limits else None,
            pool_full_s=max(pool_full.values(), default=0.0),
            late_after_s=max(s.late_after_s for s in load) if load else LATE_START_S,
            late_cpu=late_cpu, late_cpu_wait=late_cpu_wait,
            requests=sum(s.requests for s in load), failures=sum(s.failures for s in load),
            timeline=_timeline(load, origin, seconds),
        )
        return _judged(figures)

    def verdict(self) -> dict[str, Any]:
        """The few figures ``run.json`` keeps: whether the generator saturated, and why."""
        return {"model": self.model, "saturated": self.saturated, "reasons": list(self.reasons),
                "offered": self.offered, "started": self.started, "late": self.late, "missed": self.missed,
                "late_share": self.late_share,
                "cpu_max": max((p.cpu_max for p in self.processes), default=None)}

    def to_summary(self) -> dict[str, Any]:
        """Every figure, for ``summary.json`` and the report."""
        return {
            "measured": self.model is not None, "model": self.model, "saturated": self.saturated,
            "reasons": list(self.reasons), "seconds": self.seconds, "active_s": self.active_s,
            "offered": self.offered, "started": self.started, "late": self.late, "missed": self.missed,
            "late_share": self.late_share, "late_after_ms": self.late_after_s * 1000,
            "late_share_limit": LATE_SHARE_LIMIT,
            "lag_max_ms": None if self.lag_max_s is None else self.lag_max_s * 1000,
            "offered_rate_per_s": self.offered_rate, "achieved_rate_per_s": self.achieved_rate,
            "users_peak": self.users_peak, "users_limit": self.users_limit, "pool_full_s": self.pool_full_s,
            "requests": self.requests, "failures": self.failures,
            "pegged_cpu": PEGGED_CPU, "pegged_for_s": PEGGED_FOR_S,
            "processes": [{"pid": p.pid, "role": p.role, "worker_index": p.worker_index, "label": p.label,
                           "cpu_mean": p.cpu_mean, "cpu_max": p.cpu_max, "pegged_s": p.pegged_s,
                           "cpu_wait_share": p.cpu_wait_share,
                           "started": p.started, "requests": p.requests} for p in self.processes],
            "timeline": self.timeline,
        }


def _processes(samples: Sequence[GeneratorSample]) -> list[ProcessFigures]:
    by_process: dict[tuple[str, int | None, int], list[GeneratorSample]] = {}
    for sample in samples:
        by_process.setdefault(sample.process, []).append(sample)
    result = []
    for (_, _, pid), rows in by_process.items():
        timed = [s for s in rows if s.interval_s >= _SHORT_S] or rows
        busy = sum(s.cpu * s.interval_s for s in rows)
        span = sum(s.interval_s for s in rows)
        waits = [s.cpu_wait_s for s in rows if s.cpu_wait_s is not None]
        longest = run = 0
        for s in timed:
            run = run + 1 if s.cpu >= PEGGED_CPU else 0
            longest = max(longest, run)
        result.append(ProcessFigures(pid=pid, role=rows[0].role, worker_index=rows[0].worker_index,
                                     cpu_mean=busy / span if span else 0.0, cpu_max=max(s.cpu for s in timed),
                                     pegged_s=longest, started=sum(s.started for s in rows),
                                     requests=sum(s.requests for s in rows),
                                     cpu_wait_share=sum(waits) / span if waits and span else None))
    return sorted(result, key=lambda p: (p.role != "master", p.worker_index or 0, p.pid))


def _active_seconds(load: Sequence[GeneratorSample], open_model: bool) -> float:
    busy = [s for s in load if (s.offered if open_model else s.started)]
    if not busy:
        return 0.0
    return max(s.at for s in busy) - min(s.at - s.interval_s for s in busy)


def _when_late(load: Sequence[GeneratorSample]) -> tuple[float | None, float | None]:
    """Over the seconds with late starts: the load processes' CPU and their CPU wait share."""
    late = [s for s in load if s.late]
    span = sum(s.interval_s for s in late)
    waits = [s for s in late if s.cpu_wait_s is not None]
    cpu = sum(s.cpu * s.interval_s for s in late) / span if span else None
    cpu_wait = sum(s.cpu_wait_s or 0.0 for s in waits) / sum(s.interval_s for s in waits) if waits else None
    return cpu, cpu_wait


def busy_users(samples: Sequence[GeneratorSample]) -> list[tuple[float, int]]:
    """(time, virtual users running a journey) over every load process, at each sample: the
    open model's concurrent users (its Locust user count is one dispatcher per process)."""
    latest: dict[tuple[str, int | None, int], int] = {}
    series = []
    for sample in samples:  # sorted by time
        if sample.role != "master":
            latest[sample.process] = sample.in_flight
            series.append((sample.at, sum(latest.values())))
    return series


def _peak_users(load: Sequence[GeneratorSample]) -> int:
    """The most virtual users at once, over the processes (each process's latest gauge, summed
    at each sample)."""
    latest: dict[tuple[str, int | None, int], int] = {}
    peak = 0
    for sample in load:  # sorted by time
        latest[sample.process] = sample.pool
        peak = max(peak, sum(latest.values()))
    return peak


def _timeline(load: Sequence[GeneratorSample], origin: float, seconds: float) -> dict[str, list[Any]]:
    buckets = max(1, math.ceil(seconds))
    offered = [0] * buckets
    started = [0] * buckets
    for sample in load:
        k = min(buckets - 1, max(0, int(sample.at - origin - 1e-9)))
        offered[k] += sample.offered or 0
        started[k] += sample.started
    timeline: dict[str, list[Any]] = {"second": list(range(buckets)), "started": started}
    if any(s.offered is not None for s in load):
        timeline["offered"] = offered
    return timeline


def _late_cause(figures: GeneratorFigures) -> str:
    """Why journeys started late, and what to change (each cause seen, most specific first)."""
    causes = []
    if figures.pool_full_s >= figures.late_after_s:
        causes.append(f"every one of its {figures.users_limit} virtual users was busy for up to "
                      f"{figures.pool_full_s:.1f} s (raise --max-users)")
    cpu, waited = figures.late_cpu or 0.0, figures.late_cpu_wait
    if waited is not None and waited >= STARVED_SHARE:
        causes.append(f"in the seconds with late starts Locust waited for a CPU {waited:.0%} of the time, its own "
                      f"CPU at {cpu:.0%} of a core: other work had the machine's cores (a quieter machine)")
    elif cpu >= BUSY_CPU:
        causes.append(f"in the seconds with late starts Locust used {cpu:.0%} of a core (add --processes, or lower "
                      "--rate)")
    return "; ".join(causes) or (f"it could not start them on time, its CPU at {cpu:.0%} of a core "
                                 "(lower --rate, or add --processes)")


def _judged(figures: GeneratorFigures) -> GeneratorFigures:
    reasons = []
    share = figures.late_share
    if share is not None and share > LATE_SHARE_LIMIT:
        cause = _late_cause(figures)
        reasons.append(f"{(figures.late or 0) + (figures.missed or 0)} of {figures.offered} journeys ({share:.1%}) "
                       f"started more than {figures.late_after_s * 1000:g} ms after their arrival or never: {cause}")
    for process in figures.processes:
        if process.pegged_s >= PEGGED_FOR_S:
            reasons.append(f"Locust {process.label} used {PEGGED_CPU:.0%} or more of a core for {process.pegged_s} s "
                           "in a row (add --processes)")
    return replace(figures, reasons=reasons)
