"""A line every few seconds while a run runs: elapsed time, offered and achieved rate, failures,
p95 and the next failover — so an SRE watching a long run sees it happen, not only its report.

Printed by the runner that holds the whole run — the one local runner, or the master, which sums
its workers' totals from Locust's worker reports (``worker_report``; each worker adds its totals
in ``report_to_master``, :mod:`~gosstand.loadtests.generator`). Lines start with
:data:`LIVE_PREFIX`; ``gosstand peak`` passes them on to its own output.

Rates are per process, from the two latest totals of each (so a worker's report arriving a second
later than another's does not skew the sum). The p95 is Locust's own, over its last ten
seconds, from each request's actual start: a live hint, not the report's exact figure.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .generator import REPORT_KEY, GeneratorMeter, Totals
from .schedule import ScheduledAction

__all__ = ["LIVE_PREFIX", "LiveView", "next_failover", "register"]

LIVE_PREFIX = "[live]"


@dataclass(frozen=True, slots=True)
class _Rates:
    offered: float | None
    started: float
    requests: float
    #: The busiest load process's CPU, a share of one core.
    cpu: float | None
    #: The largest share of the time a load process's event loop waited for a CPU.
    waited: float | None


def _rates(pairs: Sequence[tuple[Totals, Totals]]) -> _Rates:
    offered: float | None = None
    started = requests = 0.0
    cpu: float | None = None
    waited: float | None = None
    for before, now in pairs:
        span = now.at - before.at
        if span <= 0:
            continue
        if now.offered is not None:
            offered = (offered or 0.0) + (now.offered - (before.offered or 0)) / span
        started += (now.started - before.started) / span
        requests += (now.requests - before.requests) / span
        if not math.isnan(before.cpu_s):  # a process's first line has no CPU reading to start from
            share = (now.cpu_s - before.cpu_s) / span
            cpu = share if cpu is None else max(cpu, share)
        if now.cpu_wait_s is not None and before.cpu_wait_s is not None:
            wait = (now.cpu_wait_s - before.cpu_wait_s) / span
            waited = wait if waited is None else max(waited, wait)
    return _Rates(offered=offered, started=started, requests=requests, cpu=cpu, waited=waited)


def next_failover(schedule: Sequence[ScheduledAction], elapsed: float) -> str:
    """The failover in force or coming next, in a few words."""
    for action in schedule:
        if action.at <= elapsed < action.ends_at:
            return f"now {action.action} {_where(action)} ({action.ends_at - elapsed:.0f} s left)"
    coming = [action for action in schedule if action.at > elapsed]
    if not coming:
        return "no failover left" if schedule else "no failover"
    action = min(coming, key=lambda a: a.at)
    return f"next {action.action} {_where(action)} in {math.ceil(action.at - elapsed):.0f} s"


def _where(action: ScheduledAction) -> str:
    return f"{action.service}-{action.replica}" if action.replica else action.service


class LiveView:
    """Composes the live line from each load process's totals and Locust's statistics."""

    def __init__(self, *, schedule: Sequence[ScheduledAction], duration_s: float, started_at: float) -> None:
        self.schedule = schedule
        self.duration_s = duration_s
        #: When the load started (epoch seconds): a process's first line counts from there.
        self.started_at = started_at
        self._previous: dict[str, Totals] = {}

    def line(self, elapsed: float, totals: Mapping[str, Totals], *, p95_ms: float | None) -> str:
        pairs = [(self._previous.get(source) or _zero(self.started_at, now), now) for source, now in totals.items()]
        self._previous = dict(totals)
        rates = _rates(pairs)
        everything = [now for _, now in pairs]
        started = sum(t.started for t in everything)
        late = sum(t.late for t in everything)
        failures = sum(t.failures for t in everything)
        requests = sum(t.requests for t in everything)
        parts = [f"{LIVE_PREFIX} {elapsed:5.0f}/{self.duration_s:.0f} s"]
        if rates.offered is not None:
            share = late / started if started else 0.0
            parts += [f"offered {rates.offered:.1f}/s", f"started {rates.started:.1f}/s",
                      f"late {late} ({share:.1%})"]
        else:
            parts.append(f"journeys {rates.started:.1f}/s")
        parts += [f"users {sum(t.pool for t in everything)} ({sum(t.in_flight for t in everything)} busy)",
                  f"{rates.requests:.0f} req/s",
                  f"failures {failures} ({failures / requests if requests else 0.0:.1%})",
                  f"p95 {'—' if p95_ms is None else f'{p95_ms:.0f} ms'}"]
        if rates.cpu is not None:
            parts.append(f"cpu {rates.cpu:.0%}" + (f" (waited {rates.waited:.0%})" if rates.waited is not None else ""))
        parts.append(next_failover(self.schedule, elapsed))
        return " · ".join(parts)


def _zero(at: float, like: Totals) -> Totals:
    """Totals of nothing at the start of the load, for a process's first line."""
    return Totals(at=at, offered=0 if like.offered is not None else None, started=0, late=0, in_flight=0, pool=0,
                  pool_full_s=0.0, requests=0, failures=0, cpu_s=math.nan, cpu_wait_s=None)


def register(environment: Any, *, meter: GeneratorMeter, schedule: Sequence[ScheduledAction], duration_s: float,
             every_s: float, out: Callable[[str], None] | None = None) -> None:
    """Print a live line every ``every_s`` seconds of the load (0: never), on the runner that
    holds the whole run."""
    import gevent
    from locust.runners import MasterRunner, WorkerRunner

    runner = environment.runner
    if every_s <= 0 or isinstance(runner, WorkerRunner):
        return
    write = out or (lambda line: print(line, flush=True))
    reported: dict[str, Totals] = {}
    printer: list[Any] = []

    def totals() -> dict[str, Totals]:
        return dict(reported) if isinstance(runner, MasterRunner) else {"local": meter.totals()}

    def on_worker_report(client_id: str, data: dict[str, Any], **_: Any) -> None:
        try:
            reported[client_id] = Totals.from_json(data[REPORT_KEY])
        except (KeyError, TypeError):  # a report without our totals: nothing to sum, and no reason to
            pass                       # disturb the master's message loop

    def run(started: float) -> None:
        view = LiveView(schedule=schedule, duration_s=duration_s, started_at=time.time())
        for number in range(1, math.ceil(duration_s / every_s) + 1):  # bounded by the run's length
            gevent.sleep(max(0.0, started + number * every_s - time.monotonic()))
            p95 = runner.stats.total.get_current_response_time_percentile(0.95)
            write(view.line(time.monotonic() - started, totals(), p95_ms=p95))

    def on_test_start(**_: Any) -> None:
        if not printer:
            printer.append(gevent.spawn(run, time.monotonic()))

    def on_test_stop(**_: Any) -> None:
        if printer:
            printer.pop().kill(block=False)

    environment.events.worker_report.add_listener(on_worker_report)
    environment.events.test_start.add_listener(on_test_start)
    environment.events.test_stop.add_listener(on_test_stop)
