"""The catalogue of metrics an SLO objective can name.

Each metric has a *kind*, which says where its values come from:

- ``window``   — a rate over requests, evaluated on every sliding window of the objective (and
  over the whole run, which the report also shows): success/error ratio, latency percentiles;
  and the success ratio of the services' canaries (``canary_success_ratio``), whose fixed rate
  makes a window's ratio the share of that time the service answered, users or none;
- ``failover`` — one value per fault action whose service the selector matches, over the
  faulted service's requests (narrowed by the selector's journey or name, if it gives one): the
  physical figures of what clients saw (``ttr_s``, ``ttfe_s``, ``outage_s``,
  ``affected_requests``; :mod:`.physical`) and the windowed SLO view
  (``recovery_to_slo_s``, availability, goodput, budget; :mod:`.failover`); and the same
  physical outage and the availability over the episode as the service's canary saw them
  (``canary_outage_s``, ``canary_availability``): a separate process probing at a fixed rate, so
  a fault no user happened to meet still counts against the verdict;
- ``run``      — one value for the whole run (lost and duplicate writes, retry amplification).

and a *direction*: a ``higher`` metric takes a ``min`` threshold, a ``lower`` one a ``max``;
the worst value is the lowest or highest one respectively. A failover no client saw has no TTFE
(it passes any ``ttfe_s`` bound) and a TTR of 0; one that never recovered to its SLO has a
recovery to SLO of +∞.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["METRICS", "LATENCY_PERCENTILES", "Metric"]

Kind = Literal["window", "failover", "run"]
Direction = Literal["higher", "lower"]


@dataclass(frozen=True)
class Metric:
    name: str
    kind: Kind
    better: Direction
    unit: str
    title: str
    #: Whose records the metric is measured on: the load's requests, or the service's canary
    #: (whose samples carry no journey, so a canary metric is selected by service only).
    observer: Literal["load", "canary"] = "load"

    @property
    def quantity(self) -> str:
        """What is computed from the observer's records: a canary metric is the load metric of
        the same name without its ``canary_`` prefix, computed the same way."""
        return self.name.removeprefix("canary_") if self.observer == "canary" else self.name

    @property
    def bound(self) -> Literal["min", "max"]:
        return "min" if self.better == "higher" else "max"


#: Latency metrics and the percentile each one reads.
LATENCY_PERCENTILES = {"p50_ms": 50.0, "p90_ms": 90.0, "p95_ms": 95.0, "p99_ms": 99.0}

METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in [
        Metric("success_ratio", "window", "higher", "", "success ratio"),
        Metric("error_ratio", "window", "lower", "", "error ratio"),
        Metric("canary_success_ratio", "window", "higher", "", "canary success ratio", observer="canary"),
        *(
            Metric(name, "window", "lower", "ms", f"p{p:g} latency")
            for name, p in LATENCY_PERCENTILES.items()
        ),
        Metric("ttr_s", "failover", "lower", "s", "time to recover (last affected request's end)"),
        Metric("ttfe_s", "failover", "higher", "s", "time to first error (first affected request's end)"),
        Metric("outage_s", "failover", "lower", "s", "outage window (first affected start to last end)"),
        Metric("affected_requests", "failover", "lower", "", "requests affected by the fault"),
        Metric("canary_outage_s", "failover", "lower", "s", "outage window the canary saw", observer="canary"),
        Metric("canary_availability", "failover", "higher", "", "canary availability during failover",
               observer="canary"),
        Metric("recovery_to_slo_s", "failover", "lower", "s", "recovery to SLO (windowed)"),
        Metric("availability", "failover", "higher", "", "availability during failover (requests)"),
        Metric("time_availability", "failover", "higher", "", "availability during failover (time)"),
        Metric("goodput_dip", "failover", "lower", "", "goodput dip"),
        Metric("budget_burned", "failover", "lower", "", "error budget burned"),
        Metric("lost_writes", "run", "lower", "", "lost writes"),
        Metric("duplicate_writes", "run", "lower", "", "duplicate writes"),
        Metric("retry_amplification", "run", "lower", "", "retry amplification"),
    ]
}
