"""The generator measured too: what each Locust process offered, achieved and burned.

A load generator that cannot keep up still records latencies — of itself. So every Locust
process of a run keeps a :class:`GeneratorMeter` — journeys offered by the arrival timetable,
journeys started and how late, virtual users busy, requests sent — and once a second hands its record sink one
:class:`~gosstand.stand.records.GeneratorSample` (``generator-<pid>.jsonl`` in the run
directory), with the CPU the process used over that second (from ``os.times()``: the kernel's
own accounting of the process, no sampling library) and, on Linux, how long its event loop's
thread waited for a CPU while it had work (``/proc/self/schedstat``): a generator can be late
with its own CPU low, when the machine has none to give it. ``reports/generator.py`` turns the samples
into the report's figures and the "generator saturated" flag.

Workers also hand their running totals to the master with each of Locust's worker reports
(the ``report_to_master`` event), so the master's live line (:mod:`~gosstand.loadtests.live`)
can sum them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..stand.records import LATE_START_S, GeneratorSample
from .streaming import RecordSink

__all__ = ["GeneratorMeter", "Totals", "cpu_seconds", "cpu_wait_seconds", "meter", "register"]

#: Seconds between two samples of a process.
SAMPLE_EVERY_S = 1.0
#: The key of this process's totals in a worker's report to its master.
REPORT_KEY = "gosstand_generator"

Clock = Callable[[], float]


def cpu_seconds() -> float:
    """CPU time this process has used, user and system, in seconds."""
    times = os.times()
    return times.user + times.system


def cpu_wait_seconds() -> float | None:
    """Seconds this process's main thread — the event loop's — has spent ready to run but waiting
    for a CPU (the run-queue delay the kernel accounts in ``/proc/self/schedstat``); ``None``
    where the kernel does not say."""
    try:
        return int(Path("/proc/self/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class Totals:
    """A process's running totals at ``at``: what a live line and a sample are computed from."""

    at: float
    offered: int | None
    started: int
    late: int
    in_flight: int
    pool: int
    pool_full_s: float
    requests: int
    failures: int
    #: CPU seconds the process has used (user and system).
    cpu_s: float = 0.0
    #: Seconds its event loop's thread has waited for a CPU (``None``: not known here).
    cpu_wait_s: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Totals:
        return cls(**{name: raw[name] for name in cls.__slots__})


class GeneratorMeter:
    """Counters of one Locust process, updated by its users or its dispatcher.

    The open model's dispatcher sets :attr:`offered` (the timetable's arrivals due so far) and
    :attr:`pool_max`; a journey reports its start with its lag behind its arrival, and its end.
    """

    def __init__(self, *, role: str, open_model: bool = False, late_after_s: float = LATE_START_S,
                 clock: Clock = time.time,
                 cpu: Callable[[], float] = cpu_seconds,
                 cpu_wait: Callable[[], float | None] = cpu_wait_seconds) -> None:
        self.role = role
        self.late_after_s = late_after_s
        self.worker_index: int | None = None
        self._clock, self._cpu, self._cpu_wait = clock, cpu, cpu_wait
        #: This process's arrivals due so far (none until its timetable starts); ``None`` in the
        #: closed model.
        self.offered: Callable[[], int] | None = (lambda: 0) if open_model else None
        self.pool_max: int | None = None
        self.pool = 0
        self._started = self._late = self._in_flight = self._requests = self._failures = 0
        self._lag_max: float | None = None
        self._full_s = 0.0
        self._full_since: float | None = None
        self._last: Totals | None = None

    # -- what the load does ----------------------------------------------------------------
    def journey_started(self, lag_s: float | None = None) -> None:
        """A journey began; ``lag_s`` behind its scheduled arrival (open model)."""
        self._started += 1
        self._in_flight += 1
        if lag_s is not None:
            if lag_s > self.late_after_s:
                self._late += 1
            self._lag_max = lag_s if self._lag_max is None else max(self._lag_max, lag_s)

    def journey_ended(self) -> None:
        self._in_flight -= 1

    def pool_full(self, full: bool) -> None:
        """The dispatcher waits for a free virtual user (``True``) or has one again."""
        now = self._clock()
        if full and self._full_since is None:
            self._full_since = now
        elif not full and self._full_since is not None:
            self._full_s += now - self._full_since
            self._full_since = None

    def on_request(self, *, context: dict[str, Any] | None = None, exception: BaseException | None = None,
                   **_: Any) -> None:
        """Locust's ``request`` event: the target's requests (not the harness's own calls)."""
        if (context or {}).get("record") is False:
            return
        self._requests += 1
        if exception is not None:
            self._failures += 1

    # -- what is read from it -------------------------------------------------------------
    def totals(self) -> Totals:
        now = self._clock()
        full = self._full_s + (now - self._full_since if self._full_since is not None else 0.0)
        return Totals(at=now, offered=self.offered() if self.offered is not None else None, started=self._started,
                      late=self._late, in_flight=self._in_flight, pool=self.pool, pool_full_s=full,
                      requests=self._requests, failures=self._failures, cpu_s=self._cpu(),
                      cpu_wait_s=self._cpu_wait())

    def start(self) -> None:
        """Begin the first interval (the load starts)."""
        self._last = self.totals()

    def sample(self) -> GeneratorSample:
        """The interval since the last sample (or :meth:`start`), and begin the next."""
        if self._last is None:
            self.start()
        assert self._last is not None
        now = self.totals()
        last, interval = self._last, max(now.at - self._last.at, 1e-9)
        open_model = now.offered is not None
        sample = GeneratorSample(
            pid=os.getpid(), role=self.role, worker_index=self.worker_index, at=now.at, interval_s=interval,
            cpu=max(0.0, now.cpu_s - last.cpu_s) / interval,
            cpu_wait_s=(max(0.0, now.cpu_wait_s - last.cpu_wait_s)
                        if now.cpu_wait_s is not None and last.cpu_wait_s is not None else None),
            offered=None if now.offered is None else now.offered - (last.offered or 0),
            started=now.started - last.started,
            late=now.late - last.late if open_model else None, late_after_s=self.late_after_s,
            lag_max_s=self._lag_max, pool_full_s=now.pool_full_s - last.pool_full_s if open_model else None,
            in_flight=now.in_flight, pool=now.pool, pool_max=self.pool_max,
            requests=now.requests - last.requests, failures=now.failures - last.failures,
        )
        self._last, self._lag_max = now, None
        return sample


_meter: GeneratorMeter | None = None


def meter() -> GeneratorMeter:
    """This process's meter (one per Locust process, made by :func:`register`)."""
    if _meter is None:
        raise RuntimeError("the generator meter was not registered: the locustfile's init hook did not run")
    return _meter


def register(environment: Any, *, sink: RecordSink, open_model: bool = False,
             late_after_s: float = LATE_START_S) -> GeneratorMeter:
    """Measure this Locust process from the load's start to its end, one sample a second."""
    import gevent
    from locust.runners import MasterRunner, WorkerRunner

    global _meter
    runner = environment.runner
    role = "master" if isinstance(runner, MasterRunner) else "worker" if isinstance(runner, WorkerRunner) else "local"
    # A master dispatches no arrival of its own: its samples hold its CPU only.
    current = _meter = GeneratorMeter(role=role, open_model=open_model and role != "master",
                                      late_after_s=late_after_s)
    sampler: list[Any] = []

    def write(sample: GeneratorSample) -> None:
        sink.write("generator", sample.to_json())

    def run() -> None:
        current.start()
        deadline = time.monotonic()
        while True:  # ends when test_stop kills it
            deadline += SAMPLE_EVERY_S
            gevent.sleep(max(0.0, deadline - time.monotonic()))
            write(current.sample())

    def on_test_start(**_: Any) -> None:
        if isinstance(runner, WorkerRunner):
            current.worker_index = max(runner.worker_index, 0)
        if not sampler:
            sampler.append(gevent.spawn(run))

    def on_test_stop(**_: Any) -> None:
        if sampler:
            sampler.pop().kill(block=True)
            write(current.sample())  # the last, partial second

    def on_report(data: dict[str, Any], **_: Any) -> None:
        data[REPORT_KEY] = current.totals().to_json()

    environment.events.test_start.add_listener(on_test_start)
    environment.events.test_stop.add_listener(on_test_stop)
    environment.events.request.add_listener(current.on_request)
    environment.events.report_to_master.add_listener(on_report)
    return current
