"""SLO evaluation: one verdict per objective, from the recorded run and nothing else.

:class:`Analysis` holds a loaded run with its grid and caches (series and request subsets per
selector, failover figures per fault and selector). :func:`evaluate` looks up the evaluator of
the objective's metric kind in a small registry and returns an :class:`ObjectiveResult` with
the worst measured value, where it happened, how many windows/failovers were judged and how
many breached, and the whole-run value next to it.

Statuses: ``pass``, ``fail``, ``no_data`` (nothing to measure — fails the run unless the
objective is ``optional``, because a verdict must not pass on an absence of evidence) and
``not_applicable`` (a failover metric in a run without a matching failover, e.g. the control
run; or an objective on journeys the run's profile gives no share — ``run.json`` ``mix``, or
for a run without one the journeys its requests carry — so one SLO file judges a peak hour of
logins and declarations and a morning of UTKO weighings alike: passes; or a canary metric in a
run that kept no canary of the faulted service). A failover metric is
always measured over the faulted service's requests (a selector's journey or name narrows
them), so with no narrowing it is the very figure the failover table shows. Run metrics
(lost/duplicate writes, retry amplification) ignore selectors: the reconciliation covers the
services ``records.json`` names.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from .affected import LatencyObjective, latency_objective
from .failover import FailoverFigures, RequestSet, analyse_failover, horizons
from .io import FailoverRecord, RunData
from .reconcile import Reconciliation, reconcile
from .selectors import Selector
from .slo import Objective, SloSpec
from .timeline import Grid, Series, grid_for
from .windows import window_starts, window_value

__all__ = ["Analysis", "ObjectiveResult", "evaluate", "format_value"]

Status = Literal["pass", "fail", "no_data", "not_applicable"]


@dataclass(frozen=True)
class ObjectiveResult:
    objective: Objective
    status: Status
    worst: float | None = None
    worst_at: str | None = None
    whole_run: float | None = None
    evaluated: int = 0
    breaching: int = 0
    breaches: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""

    @property
    def passed(self) -> bool:
        if self.status == "no_data":
            return self.objective.optional
        return self.status in ("pass", "not_applicable")


def format_value(value: float | None, unit: str = "", *, missing: str = "—") -> str:
    """Numbers as the report prints them: ratios to 4 places, ms to 0.1, seconds to 0.001."""
    if value is None:
        return missing
    if math.isinf(value):
        return "∞"
    if unit == "ms":
        return f"{value:.1f} ms"
    if unit == "s":
        return f"{value:.3f} s"
    if float(value).is_integer() and abs(value) >= 1:
        return f"{int(value)}"
    return f"{value:.4f}"


class Analysis:
    """A loaded run, its grid and the cached figures every part of the report shares."""

    def __init__(self, run: RunData, spec: SloSpec) -> None:
        self.run = run
        self.spec = spec
        self.grid: Grid = grid_for(run)
        self.reconciliation: Reconciliation = reconcile(run.operations, run.reconciled)
        #: What makes a request "affected" by a fault (failed, or slower than this).
        self.latency_objective: LatencyObjective = latency_objective(spec, run.info.extra)
        self._sets: dict[Selector, RequestSet] = {}
        self._canary: dict[str, RequestSet] = {
            service: RequestSet(sample.as_request() for sample in samples) for service, samples in run.canary.items()
        }
        self._series: dict[Selector, Series] = {}
        self._canary_series: dict[str, Series] = {}
        self._figures: dict[tuple[int, Selector], FailoverFigures] = {}
        self._horizons = horizons(run.failovers, self.grid.start(self.grid.buckets))

    def requests(self, selector: Selector) -> RequestSet:
        if selector not in self._sets:
            self._sets[selector] = RequestSet(r for r in self.run.requests if selector.matches(r))
        return self._sets[selector]

    def series(self, selector: Selector) -> Series:
        if selector not in self._series:
            self._series[selector] = Series(self.grid, self.requests(selector).requests)
        return self._series[selector]

    def canary_series(self, service: str) -> Series:
        """One service's canary samples on the run's grid."""
        if service not in self._canary_series:
            canary = self._canary.get(service)
            self._canary_series[service] = Series(self.grid, canary.requests if canary else ())
        return self._canary_series[service]

    def kept_canaries(self) -> set[str]:
        """The services the run kept a canary of: it recorded samples, or ``run.json`` has the
        canary's summary. A canary that was kept yet recorded nothing where it is asked is then no
        evidence, not an absent observer."""
        summaries = self.run.info.extra.get("canary")
        return {*self.run.canary, *(str(service) for service in (summaries if isinstance(summaries, dict) else ()))}

    @staticmethod
    def service_selector(fault: FailoverRecord, narrowed_by: Selector | None = None) -> Selector:
        """The requests a fault's figures are about: every request to the faulted service (the
        failover table), or those of them an objective's journey or name picks."""
        narrowed_by = narrowed_by or Selector()
        service = (fault.service,) if fault.service else ()
        return Selector(journey=narrowed_by.journey, service=service, name=narrowed_by.name)

    def figures(self, index: int, selector: Selector | None = None) -> FailoverFigures:
        """The figures of failover ``index`` over its service's requests, narrowed by ``selector``'s
        journey and name; the canary's beside them when the selection is the whole service."""
        fault = self.run.failovers[index]
        table = self.service_selector(fault)
        selector = self.service_selector(fault, selector)
        key = (index, selector)
        if key not in self._figures:
            previous = [
                j for j in range(index)
                if (earlier := self.run.failovers[j]).service == fault.service
                and earlier.injected_at < fault.injected_at
            ]
            previous_end = self.figures(previous[-1], selector).episode_end if previous else None
            self._figures[key] = analyse_failover(
                fault, selection=selector.describe(), requests=self.requests(selector),
                series=self.series(selector), grid=self.grid, healthy=self.spec.healthy,
                baseline_s=self.spec.baseline_s, budget=self.spec.budget, horizon=self._horizons[index],
                objective=self.latency_objective, previous_end=previous_end,
                canary=self._canary.get(fault.service or "") if selector == table else None,
            )
        return self._figures[key]

    def failover_table(self) -> list[FailoverFigures]:
        return [self.figures(i) for i in range(len(self.run.failovers))]

    def retry_amplification(self) -> float | None:
        """Attempts per operation: from ``operations*.jsonl``, else from the requests' op ids."""
        recorded = self.reconciliation.retry_amplification
        if recorded is not None:
            return recorded
        attempts = self.requests(Selector()).attempts
        return sum(attempts.values()) / len(attempts) if attempts else None


def _worst(objective: Objective, values: list[float]) -> float:
    return min(values) if objective.bound == "min" else max(values)


def _conclude(
    objective: Objective, measured: list[tuple[str, float]], *, whole_run: float | None, unit_name: str,
) -> ObjectiveResult:
    values = [value for _, value in measured]
    worst = _worst(objective, values)
    worst_at = next(where for where, value in measured if value == worst)
    breaches = [{"where": where, "value": value} for where, value in measured if not objective.meets(value)]
    unit = objective.metric.unit
    status: Status = "fail" if breaches else "pass"
    message = (
        f"worst {format_value(worst, unit)} ({worst_at}), threshold {objective.describe_threshold()}"
        f" {objective.describe_window()}; {len(breaches)} of {len(measured)} {unit_name} breach"
    )
    return ObjectiveResult(
        objective=objective, status=status, worst=worst, worst_at=worst_at, whole_run=whole_run,
        evaluated=len(measured), breaching=len(breaches), breaches=breaches[:20], message=message,
    )


def _observed_series(objective: Objective, analysis: Analysis) -> list[tuple[str, Series]]:
    """The series a window objective judges, each with the label its windows are named by: the
    selected requests of the load, or each selected service's canary on its own (merging them
    would let one service's healthy canary dilute another's outage)."""
    if objective.metric.observer == "load":
        return [("", analysis.series(objective.selector))]
    services = sorted(s for s in analysis.kept_canaries() if objective.selector.matches_service(s))
    return [(f"{service} canary ", analysis.canary_series(service)) for service in services]


def _evaluate_window(objective: Objective, analysis: Analysis) -> ObjectiveResult:
    observed = _observed_series(objective, analysis)
    if not observed:
        return ObjectiveResult(objective=objective, status="not_applicable",
                               message="the run kept no canary of the selected services (--canary-rate 0)")
    buckets = analysis.grid.buckets
    metric = objective.metric.quantity
    measured: list[tuple[str, float]] = []
    wholes: list[float] = []
    for label, series in observed:
        whole = window_value(series, metric, 0, buckets).value
        if whole is not None:
            wholes.append(whole)
        if objective.window is None:
            values = [window_value(series, metric, 0, buckets)]
        else:
            width = objective.window
            values = [window_value(series, metric, k, width) for k in window_starts(buckets, width)]
        measured += [(f"{label}+{w.start}…+{w.start + w.width} s", w.value) for w in values if w.value is not None]
    if not measured:
        return _nothing_measured(objective, analysis, f"no requests match {objective.selector.describe()}")
    unit_name = "windows" if objective.window is not None else "whole-run values"
    return _conclude(objective, measured, whole_run=_worst(objective, wholes), unit_name=unit_name)


def _sent_journeys(analysis: Analysis) -> set[str]:
    """The journeys the run's profile gives a share (``run.json`` ``mix``); for a run that did
    not record its mix (an older run, or one recorded by other tools), the journeys its
    requests carry."""
    mix = analysis.run.info.extra.get("mix")
    if isinstance(mix, dict):
        return {str(journey) for journey, weight in mix.items() if isinstance(weight, int | float) and weight > 0}
    return {request.journey for request in analysis.run.requests if request.journey}


def _nothing_measured(objective: Objective, analysis: Analysis, message: str) -> ObjectiveResult:
    """``no_data`` — unless the objective is about journeys the run does not send."""
    journeys = objective.selector.journey
    if journeys and not set(journeys) & _sent_journeys(analysis):
        return ObjectiveResult(objective=objective, status="not_applicable",
                               message=f"the run's profile sends no {' or '.join(journeys)} traffic")
    return ObjectiveResult(objective=objective, status="no_data", message=message)


def _clients(value: Callable[[FailoverFigures], float]) -> Callable[[FailoverFigures], float | None]:
    """A physical figure, or ``None`` when no request of the selection was there to see anything."""
    return lambda f: value(f) if f.physical.requests else None


#: Each failover metric's value in a failover's figures. ``None``: nothing to judge — no request
#: of the selection near the fault, or the TTFE of a fault no client saw (no error came, which
#: meets any bound on it).
FAILOVER_VALUES: dict[str, Callable[[FailoverFigures], float | None]] = {
    "ttr_s": _clients(lambda f: f.physical.ttr_s),
    "ttfe_s": lambda f: f.physical.ttfe_s if f.physical.seen else None,
    "outage_s": _clients(lambda f: f.physical.outage_s),
    "affected_requests": _clients(lambda f: float(f.physical.affected)),
    "canary_outage_s": lambda f: f.canary.outage_s if f.canary is not None and f.canary.requests else None,
    "canary_availability": lambda f: f.canary_availability,
    "recovery_to_slo_s": lambda f: f.recovery_to_slo_s if f.recovered else math.inf,
    "availability": lambda f: f.availability,
    "time_availability": lambda f: f.time_availability,
    "goodput_dip": lambda f: f.goodput_dip,
    "budget_burned": lambda f: f.budget_burned,
}


def _evaluate_failover(objective: Objective, analysis: Analysis) -> ObjectiveResult:
    indices = [i for i, f in enumerate(analysis.run.failovers) if objective.selector.matches_failover(f)]
    if not indices:
        return ObjectiveResult(objective=objective, status="not_applicable",
                               message="no failover of the selected service in this run")
    if objective.metric.observer == "canary":
        indices = [i for i in indices if analysis.run.failovers[i].service in analysis.kept_canaries()]
        if not indices:
            return ObjectiveResult(objective=objective, status="not_applicable",
                                   message="the run kept no canary of the faulted service (--canary-rate 0)")
    metric = objective.metric.name
    measured = []
    unobserved = []
    unseen = []
    for i in indices:
        figures = analysis.figures(i, objective.selector)
        if metric == "recovery_to_slo_s" and not figures.recovered and not figures.observable:
            unobserved.append(figures.label)  # censored: the run ended before a healthy window fit
            continue
        value = FAILOVER_VALUES[metric](figures)
        where = f"{figures.label} at +{analysis.grid.offset(figures.t):.1f} s"
        if value is not None:
            measured.append((where, value))
        elif metric == "ttfe_s" and figures.physical.requests:
            unseen.append(where)
    if unobserved:  # one unseen recovery is no evidence, whatever the others show
        return ObjectiveResult(
            objective=objective, status="no_data",
            message=f"recovery not observable after {', '.join(unobserved)}: the run (or the next fault) ended "
                    f"before one {analysis.spec.healthy.window}-s healthy window fit after it")
    if not measured and unseen:
        return ObjectiveResult(objective=objective, status="pass", evaluated=len(unseen),
                               message=f"no client saw {', '.join(unseen)}: no error to time")
    if not measured:
        return _nothing_measured(objective, analysis, "no requests of the selection during the failover episodes")
    return _conclude(objective, measured, whole_run=None, unit_name="failovers")


def _evaluate_run(objective: Objective, analysis: Analysis) -> ObjectiveResult:
    metric = objective.metric.name
    if metric == "retry_amplification":
        value: float | None = analysis.retry_amplification()
        missing = "no operations recorded"
    else:
        reconciliation = analysis.reconciliation
        value = getattr(reconciliation, metric)
        missing = "the run was not reconciled (no records.json)"
    if value is None:
        return ObjectiveResult(objective=objective, status="no_data", message=missing)
    return _conclude(objective, [("whole run", float(value))], whole_run=float(value), unit_name="values")


EVALUATORS: dict[str, Callable[[Objective, Analysis], ObjectiveResult]] = {
    "window": _evaluate_window,
    "failover": _evaluate_failover,
    "run": _evaluate_run,
}


def evaluate(objective: Objective, analysis: Analysis) -> ObjectiveResult:
    return EVALUATORS[objective.metric.kind](objective, analysis)
