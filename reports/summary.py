"""Every figure of a report as one JSON-ready mapping (``summary.json``; the HTML renders it).

Times are given twice where they matter: as epochs (``t``) and as seconds since the run's start
(``*_offset_s``), the axis of the charts. Infinite values (a TTR that never came) are written
as ``null`` with the status saying why; JSON has no infinity.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

from .evaluate import Analysis, ObjectiveResult
from .failover import FailoverFigures
from .failures import failure_breakdown
from .io import RequestRecord
from .parameters import run_parameters
from .physical import PhysicalFigures
from .selectors import Selector
from .timeline import histogram_counts, percentiles_from_counts, replica_counts, users_per_bucket

__all__ = ["SCHEMA", "build_summary", "clean", "junit_properties"]

SCHEMA = "gosstand.report/2"
_PERCENTILES = {"p50_ms": 50.0, "p95_ms": 95.0, "p99_ms": 99.0}
_BURN_WINDOW_S = 3600


def clean(value: Any) -> Any:
    """Make a value JSON-safe: no inf/nan, tuples as lists, nested mappings cleaned."""
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def _totals(requests: list[RequestRecord], seconds: float) -> dict[str, Any]:
    counts = histogram_counts(round(r.latency * 1_000_000) for r in requests)
    latency = percentiles_from_counts(counts, _PERCENTILES.values())
    failures = sum(not r.ok for r in requests)
    return {
        "requests": len(requests),
        "failures": failures,
        "success_ratio": (len(requests) - failures) / len(requests) if requests else None,
        "rate_per_s": len(requests) / seconds if seconds else None,
        **{name: latency[p] for name, p in _PERCENTILES.items()},
    }


def _grouped(requests: list[RequestRecord], key: Callable[[RequestRecord], str | None],
             seconds: float) -> dict[str, Any]:
    groups: dict[str, list[RequestRecord]] = {}
    for request in requests:
        groups.setdefault(key(request) or "(none)", []).append(request)
    return {name: _totals(rows, seconds) for name, rows in sorted(groups.items())}


def _physical(analysis: Analysis, figures: PhysicalFigures | None) -> dict[str, Any] | None:
    if figures is None:
        return None
    offset = analysis.grid.offset
    return {
        **dataclasses.asdict(figures), "seen": figures.seen,
        "outage_start_offset_s": None if figures.outage_start is None else offset(figures.outage_start),
        "outage_end_offset_s": None if figures.outage_end is None else offset(figures.outage_end),
    }


def _failover(analysis: Analysis, figures: FailoverFigures) -> dict[str, Any]:
    offset = analysis.grid.offset
    fault = figures.failover
    data = {k: v for k, v in dataclasses.asdict(figures).items() if k not in ("physical", "canary")}
    data["failover"] = dataclasses.asdict(fault)
    data["label"] = figures.label
    data["physical"] = _physical(analysis, figures.physical)
    data["canary"] = _physical(analysis, figures.canary)
    data["t_offset_s"] = offset(fault.injected_at)
    data["until_offset_s"] = offset(fault.removed_at) if fault.removed_at is not None else None
    data["recovered_offset_s"] = (
        offset(fault.injected_at) + figures.recovery_to_slo_s if figures.recovery_to_slo_s is not None else None
    )
    for name in ("episode_start", "episode_end", "baseline_start", "baseline_end", "horizon"):
        data[f"{name}_offset_s"] = offset(getattr(figures, name))
    return data


def _latency_by_service(analysis: Analysis) -> dict[str, dict[str, list[float | None]]]:
    """p50/p95/p99 per second of each service's requests."""
    services = sorted({r.service for r in analysis.run.requests if r.service})
    result = {}
    for service in services:
        per_bucket = analysis.series(Selector(service=(service,))).per_bucket(_PERCENTILES.values())
        result[service] = {name: per_bucket[p] for name, p in _PERCENTILES.items()}
    return result


def _burn_rates(analysis: Analysis) -> dict[str, Any]:
    """Peak burn rate per service over sliding 1 h windows (the whole run if shorter)."""
    objective = analysis.spec.budget.objective
    width = min(_BURN_WINDOW_S, analysis.grid.buckets)
    services = sorted({r.service for r in analysis.run.requests if r.service})
    result: dict[str, Any] = {"window_s": width, "objective": objective, "peak": {}}
    for service in services:
        series = analysis.series(Selector(service=(service,)))
        peak = 0.0
        for k in range(0, analysis.grid.buckets - width + 1):
            requests, failures = series.count(k, k + width)
            if requests:
                peak = max(peak, failures / requests / (1 - objective))
        result["peak"][service] = peak
    return result


def _objective(result: ObjectiveResult) -> dict[str, Any]:
    objective = result.objective
    return {
        "name": objective.name, "metric": objective.metric.name, "kind": objective.metric.kind,
        "select": objective.selector.as_dict(), "bound": objective.bound, "threshold": objective.threshold,
        "window_s": objective.window, "window": objective.describe_window(), "optional": objective.optional,
        "status": result.status, "passed": result.passed, "worst": result.worst, "worst_at": result.worst_at,
        "whole_run": result.whole_run, "evaluated": result.evaluated, "breaching": result.breaching,
        "breaches": result.breaches, "message": result.message,
    }


def build_summary(analysis: Analysis, results: list[ObjectiveResult], *,
                  broken: list[str] | None = None) -> dict[str, Any]:
    run, grid, spec = analysis.run, analysis.grid, analysis.spec
    seconds = float(grid.buckets)
    everything = analysis.series(Selector())
    per_bucket = everything.per_bucket(_PERCENTILES.values())
    reconciliation = analysis.reconciliation
    info = run.info
    return clean({
        "schema": SCHEMA,
        "run": {
            "directory": str(run.directory), "title": info.title, "profile": info.profile,
            "backend": info.backend, "targets": info.targets, "started": info.started, "ended": info.ended,
            "origin": grid.origin, "duration_s": seconds, "notes": info.notes, "extra": info.extra,
            "parameters": run_parameters(run, spec, grid),
        },
        "verdict": {
            "passed": all(r.passed for r in results) and not broken,
            "breaches": [r.objective.name for r in results if not r.passed],
            #: Why the run did not do what it was asked; non-empty: the verdict is BROKEN.
            "broken": list(broken or []),
        },
        "slo": {
            "source": spec.source, "title": spec.title,
            "window_s": spec.window, "baseline_s": spec.baseline_s,
            "healthy": {**dataclasses.asdict(spec.healthy), "description": spec.healthy.describe()},
            "error_budget": {**dataclasses.asdict(spec.budget), "description": spec.budget.describe()},
            #: What counts as a request affected by a fault (the physical figures).
            "affected": {**dataclasses.asdict(analysis.latency_objective),
                         "description": analysis.latency_objective.describe()},
        },
        "objectives": [_objective(r) for r in results],
        "totals": {
            "all": _totals(run.requests, seconds),
            "by_service": _grouped(run.requests, lambda r: r.service, seconds),
            "by_journey": _grouped(run.requests, lambda r: r.journey, seconds),
            "by_name": _grouped(run.requests, lambda r: r.name, seconds),
        },
        "failures": failure_breakdown(run.requests),
        "failovers": [_failover(analysis, f) for f in analysis.failover_table()],
        "reconciliation": {
            **dataclasses.asdict(reconciliation),
            "lost_writes": reconciliation.lost_writes,
            "duplicate_writes": reconciliation.duplicate_writes,
        },
        "retry_amplification": analysis.retry_amplification(),
        "burn_rate": _burn_rates(analysis),
        "timeline": {
            "bucket_s": 1,
            "origin": grid.origin,
            "second": list(range(grid.buckets)),
            "requests": everything.total,
            "failures": everything.failed,
            **{name: per_bucket[p] for name, p in _PERCENTILES.items()},
            "latency_by_service": _latency_by_service(analysis),
            "users": users_per_bucket(grid, run.users) if run.users else None,
            "replicas": replica_counts(grid, run.requests, key=lambda r: r.service),
        },
        "warnings": run.warnings,
    })


def _seen(physical: dict[str, Any]) -> str:
    if not physical["requests"]:
        return "no request near the fault"
    if not physical["seen"]:
        return "no client saw it"
    classes = ", ".join(f"{n} {name}" for name, n in physical["by_class"].items() if n)
    return (f"TTFE {physical['ttfe_s']:.3f} s, outage {physical['outage_s']:.3f} s, TTR {physical['ttr_s']:.3f} s, "
            f"{physical['affected']} affected ({classes})")


def junit_properties(summary: dict[str, Any]) -> dict[str, str]:
    """The run's parameters, failures by class and each failover's figures, as JUnit properties."""
    parameters = summary["run"]["parameters"]
    properties = {
        name: str(parameters[name]) for name in ("profile", "peak_users", "rate", "seed", "version", "slo_file")
        if parameters.get(name) is not None
    }
    if parameters["control_run"]:
        properties["failovers"] = "none scheduled: a control run"
    for name, count in summary["failures"]["by_class"].items():
        properties[f"failures.{name}"] = str(count)
    for number, failover in enumerate(summary["failovers"], start=1):
        recovery = failover["recovery_to_slo_s"]
        line = f"load: {_seen(failover['physical'])}"
        if failover["canary"] is not None:
            line += f"; canary: {_seen(failover['canary'])}"
        line += "; recovery to SLO " + (f"{recovery:.3f} s" if recovery is not None else "not seen")
        properties[f"failover.{number} {failover['label']}"] = line
    return properties
