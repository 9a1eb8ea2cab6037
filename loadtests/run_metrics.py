"""The load run's own Prometheus series, while it runs and after.

An SRE watching a run in Grafana needs the generator's side beside the stand's: what was offered
and achieved, what failed and why, how long requests took, and when the failovers came. The
process that holds the whole run (the local runner, or the master) serves them at ``/metrics`` on
the port ``gosstand peak --metrics-port`` (or a plain run's ``--gosstand-metrics-port``) names, on
127.0.0.1 unless told otherwise, for Prometheus to scrape like any exporter; at the end the same
figures go to ``metrics.prom`` in the run directory, in the text format node_exporter's textfile
collector reads, so a finished run's figures can be kept with it.

- ``gosstand_load_requests_total{service, outcome}`` — requests the journeys sent (``outcome``:
  ``ok`` or the failure class the report uses: ``timeout``, ``connect``, ``5xx``, …);
- ``gosstand_load_request_duration_seconds{service}`` — their latency, from each request's start;
- ``gosstand_load_journeys_offered_total``, ``…_started_total``, ``…_late_total`` and
  ``gosstand_load_users_busy`` — the generator's own totals (offered is the open model's timetable);
- ``gosstand_load_failovers_total{action, service, took_effect}`` — the failover actions done so far.

Workers count their own requests and hand the counts to the master with each of Locust's worker
reports (``report_to_master``), cumulative, so a lost report costs nothing but a second's delay.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server, write_to_textfile
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from ..mocks.core.metrics import LATENCY_BUCKETS
from .generator import REPORT_KEY as GENERATOR_KEY
from .generator import GeneratorMeter, Totals
from .outcomes import classify

__all__ = ["LoadTally", "RunCollector", "register"]

#: The key of a worker's request counts in its report to the master.
REPORT_KEY = "gosstand_metrics"
TEXTFILE = "metrics.prom"


class LoadTally:
    """One Locust process's requests: counts by service and outcome, latency buckets by service."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str], int] = {}
        #: Per service: observations per bucket (the last is +Inf), then their sum in seconds.
        self.latency: dict[str, list[float]] = {}

    def on_request(self, *, name: str, response_time: float, response: Any = None,
                   context: dict[str, Any] | None = None, exception: BaseException | None = None, **_: Any) -> None:
        if (context or {}).get("record") is False:  # the harness's own calls, as the recorder skips them
            return
        service = name.split(":", 1)[0].strip() if ":" in name else "other"
        outcome = classify(int(getattr(response, "status_code", 0) or 0), exception) or "ok"
        self.requests[service, outcome] = self.requests.get((service, outcome), 0) + 1
        cells = self.latency.get(service)
        if cells is None:
            cells = self.latency[service] = [0.0] * (len(LATENCY_BUCKETS) + 2)
        seconds = response_time / 1000.0
        cells[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        cells[-1] += seconds

    def to_json(self) -> dict[str, Any]:
        return {"requests": [[service, outcome, count] for (service, outcome), count in self.requests.items()],
                "latency": self.latency}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> LoadTally:
        tally = cls()
        tally.requests = {(str(service), str(outcome)): int(count) for service, outcome, count in raw["requests"]}
        tally.latency = {str(service): [float(v) for v in cells] for service, cells in raw["latency"].items()}
        return tally


class RunCollector(Collector):
    """The whole run's series, from this process's tally and generator totals and each worker's
    latest report, summed when scraped."""

    def __init__(self, *, run_dir: Path, own: LoadTally | None, meter: GeneratorMeter | None) -> None:
        self.run_dir, self.own, self.meter = run_dir, own, meter
        self.workers: dict[str, LoadTally] = {}
        self.worker_totals: dict[str, Totals] = {}

    def on_worker_report(self, client_id: str, data: dict[str, Any], **_: Any) -> None:
        try:
            self.workers[client_id] = LoadTally.from_json(data[REPORT_KEY])
            self.worker_totals[client_id] = Totals.from_json(data[GENERATOR_KEY])
        except (KeyError, TypeError, ValueError):  # a report without our figures: nothing to add
            pass

    def collect(self) -> Iterable[Metric]:
        tallies = [*self.workers.values(), *([self.own] if self.own is not None else [])]
        requests = CounterMetricFamily("gosstand_load_requests", "Requests the journeys sent, by outcome",
                                       labels=["service", "outcome"])
        counts: dict[tuple[str, str], int] = {}
        latency: dict[str, list[float]] = {}
        for tally in tallies:
            for key, count in tally.requests.items():
                counts[key] = counts.get(key, 0) + count
            for service, cells in tally.latency.items():
                summed = latency.setdefault(service, [0.0] * len(cells))
                for index, value in enumerate(cells):
                    summed[index] += value
        for (service, outcome), count in sorted(counts.items()):
            requests.add_metric([service, outcome], count)
        yield requests
        durations = HistogramMetricFamily("gosstand_load_request_duration_seconds",
                                          "Latency of the journeys' requests, from each one's start",
                                          labels=["service"])
        for service, cells in sorted(latency.items()):
            cumulative, buckets = 0.0, []
            for bound, observed in zip([*map(str, LATENCY_BUCKETS), "+Inf"], cells[:-1], strict=True):
                cumulative += observed
                buckets.append((bound, cumulative))
            durations.add_metric([service], buckets, sum_value=cells[-1])
        yield durations
        yield from self._generator()
        yield self._failovers()

    def _generator(self) -> Iterable[Metric]:
        totals = list(self.worker_totals.values()) + ([self.meter.totals()] if self.meter is not None else [])
        for name, field, what in (("offered", "offered", "Journeys the arrival timetable offered (open model)"),
                                  ("started", "started", "Journeys started"),
                                  ("late", "late", "Journeys started later than their arrival allowed")):
            family = CounterMetricFamily(f"gosstand_load_journeys_{name}", what)
            family.add_metric([], sum(getattr(t, field) or 0 for t in totals))
            yield family
        busy = GaugeMetricFamily("gosstand_load_users_busy", "Virtual users in a journey now")
        busy.add_metric([], sum(t.in_flight for t in totals))
        yield busy

    def _failovers(self) -> Metric:
        family = CounterMetricFamily("gosstand_load_failovers", "Failover actions done so far",
                                     labels=["action", "service", "took_effect"])
        counts: dict[tuple[str, str, str], int] = {}
        path = self.run_dir / "failovers.jsonl"
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        for line in lines:
            try:
                record = json.loads(line)
                key = (str(record["action"]), str(record.get("service") or ""), str(bool(record.get("took_effect"))))
            except (ValueError, KeyError, TypeError):  # a line being written: counted at the next scrape
                continue
            counts[key] = counts.get(key, 0) + 1
        for labels, count in sorted(counts.items()):
            family.add_metric(list(labels), count)
        return family


def register(environment: Any, *, run_dir: Path, meter: GeneratorMeter, port: int | None,
             host: str = "127.0.0.1") -> RunCollector | None:
    """Count this process's requests; on the runner that holds the run, serve the whole run's
    series on ``port`` while it runs and write them to ``metrics.prom`` when Locust quits."""
    from locust.runners import MasterRunner, WorkerRunner

    runner = environment.runner
    tally = None if isinstance(runner, MasterRunner) else LoadTally()
    if tally is not None:
        environment.events.request.add_listener(tally.on_request)
    if isinstance(runner, WorkerRunner):
        assert tally is not None
        environment.events.report_to_master.add_listener(
            lambda data, **_: data.__setitem__(REPORT_KEY, tally.to_json()))
        return None
    collector = RunCollector(run_dir=run_dir, own=tally, meter=meter)
    environment.events.worker_report.add_listener(collector.on_worker_report)
    registry = CollectorRegistry()
    registry.register(collector)
    if port is not None:
        start_http_server(port, addr=host, registry=registry)
    environment.events.quitting.add_listener(lambda **_: write_to_textfile(str(run_dir / TEXTFILE), registry))
    return collector
