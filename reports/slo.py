"""The SLO file: what a run must achieve, with every threshold and its window spelled out.

Format (YAML; see ``reports/slo.yaml`` for the shipped default)::

    title: Peak hour                    # shown in the report
    window: 10s                         # default sliding window of window metrics
    baseline: 10s                       # pre-fault period a failover's goodput is compared with
    healthy:                            # what "recovered to SLO" means (and time-based availability)
      window: 10s
      success_ratio: 0.99
      p99_ms: 2000                      # optional latency bounds: p50_ms/p90_ms/p95_ms/p99_ms
    slow_ms: 2000                       # optional: a request slower than this (from its intended
                                        # start) is affected by a fault; default healthy.p99_ms
    error_budget: {objective: 0.999, period: 30d, rate: null}   # rate req/s; null = measured
    objectives:
      - name: ESIA login success        # optional; defaults to "<metric> (<selector>)"
        select: {journey: esia_login}   # journey/service/name, strings or lists, glob patterns
        metric: success_ratio           # see reports/metrics.py
        min: 0.95                       # `min` for higher-is-better metrics, `max` otherwise
        window: 10s                     # window metrics: every such window; `run` = whole run
        optional: false                 # true: "no data" does not fail the run

Durations are numbers of seconds or strings with a unit (``500ms`` is not allowed: windows are
whole one-second buckets): ``10s``, ``5m``, ``1h``, ``30d``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from .metrics import LATENCY_PERCENTILES, METRICS, Metric
from .selectors import Selector

__all__ = [
    "default_slo_path", "ErrorBudget", "Healthy", "Objective", "SloError", "SloSpec", "load_slo", "parse_slo",
]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")


class SloError(ValueError):
    """The SLO file is malformed; the message names the offending entry."""


def default_slo_path() -> Path:
    """The packaged default SLO file (the peak-hour run)."""
    return Path(str(resources.files("gosstand.reports").joinpath("slo.yaml")))


def parse_duration(value: Any, where: str) -> float:
    if isinstance(value, bool):
        raise SloError(f"{where}: expected a duration such as 10s, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise SloError(f"{where}: expected a duration such as 10s, 5m, 1h or 30d, got {value!r}")
        seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    if seconds <= 0:
        raise SloError(f"{where}: a duration must be positive")
    return seconds


def parse_window(value: Any, where: str) -> int:
    seconds = parse_duration(value, where)
    if seconds != int(seconds):
        raise SloError(f"{where}: a window is a whole number of seconds (one-second buckets)")
    return int(seconds)


def _ratio(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise SloError(f"{where}: expected a ratio between 0 and 1, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Healthy:
    """A window is healthy when its success ratio and latency percentiles meet these bounds."""

    window: int
    success_ratio: float
    latency_ms: dict[str, float] = field(default_factory=dict)

    def describe(self) -> str:
        bounds = [f"success ≥ {self.success_ratio:g}"]
        bounds += [f"{name.removesuffix('_ms')} ≤ {limit:g} ms" for name, limit in self.latency_ms.items()]
        return f"{' and '.join(bounds)} in a {self.window} s window"


@dataclass(frozen=True)
class ErrorBudget:
    objective: float
    period_s: float
    rate: float | None

    def describe(self) -> str:
        days = self.period_s / 86400
        period = f"{days:g} days" if days >= 1 else f"{self.period_s:g} s"
        return f"SLO {self.objective:.3%} over {period}"


@dataclass(frozen=True)
class Objective:
    name: str
    metric: Metric
    selector: Selector
    threshold: float
    window: int | None  # seconds; None = the whole run only (and for non-window metrics)
    optional: bool = False

    @property
    def bound(self) -> Literal["min", "max"]:
        return self.metric.bound

    def meets(self, value: float) -> bool:
        return value >= self.threshold if self.bound == "min" else value <= self.threshold

    def describe_threshold(self) -> str:
        sign = "≥" if self.bound == "min" else "≤"
        unit = f" {self.metric.unit}" if self.metric.unit else ""
        return f"{sign} {self.threshold:g}{unit}"

    def describe_window(self) -> str:
        if self.metric.kind == "failover":
            return "each failover"
        if self.metric.kind == "run" or self.window is None:
            return "whole run"
        return f"every {self.window} s window"


@dataclass(frozen=True)
class SloSpec:
    title: str
    window: int
    baseline_s: int
    healthy: Healthy
    budget: ErrorBudget
    objectives: list[Objective]
    source: str | None = None
    #: A request slower than this (ms, from its intended start) counts as affected by a fault,
    #: as a failed one does; ``None``: the healthy p99 bound decides (:mod:`.affected`).
    slow_ms: float | None = None


def _healthy(raw: Mapping[str, Any] | None, default_window: int) -> Healthy:
    raw = dict(raw or {})
    unknown = set(raw) - {"window", "success_ratio", *LATENCY_PERCENTILES}
    if unknown:
        raise SloError(f"healthy: unknown key(s) {sorted(unknown)}")
    latency = {
        name: float(raw[name]) for name in LATENCY_PERCENTILES if raw.get(name) is not None
    }
    return Healthy(
        window=parse_window(raw.get("window", default_window), "healthy.window"),
        success_ratio=_ratio(raw.get("success_ratio", 0.99), "healthy.success_ratio"),
        latency_ms=latency,
    )


def _budget(raw: Mapping[str, Any] | None) -> ErrorBudget:
    raw = dict(raw or {})
    rate = raw.get("rate")
    if rate is not None and (isinstance(rate, bool) or not isinstance(rate, int | float) or rate <= 0):
        raise SloError("error_budget.rate: expected a positive number of requests per second or null")
    objective = _ratio(raw.get("objective", 0.999), "error_budget.objective")
    if objective >= 1:
        raise SloError("error_budget.objective: must be below 1 (a 100 % SLO has no budget)")
    return ErrorBudget(
        objective=objective,
        period_s=parse_duration(raw.get("period", "30d"), "error_budget.period"),
        rate=None if rate is None else float(rate),
    )


def _objective(raw: Any, index: int, default_window: int) -> Objective:
    where = f"objectives[{index}]"
    if not isinstance(raw, Mapping):
        raise SloError(f"{where}: expected a mapping")
    unknown = set(raw) - {"name", "select", "metric", "min", "max", "window", "optional"}
    if unknown:
        raise SloError(f"{where}: unknown key(s) {sorted(unknown)}")
    metric = METRICS.get(str(raw.get("metric")))
    if metric is None:
        raise SloError(f"{where}: unknown metric {raw.get('metric')!r}; known: {sorted(METRICS)}")
    wrong = "max" if metric.bound == "min" else "min"
    if wrong in raw:
        raise SloError(
            f"{where}: {metric.name} is better when {metric.better}; give `{metric.bound}`, not `{wrong}`"
        )
    if metric.bound not in raw:
        raise SloError(f"{where}: {metric.name} needs a `{metric.bound}` threshold")
    threshold = raw[metric.bound]
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise SloError(f"{where}: the threshold must be a number")
    try:
        selector = Selector.parse(raw.get("select"))
    except ValueError as exc:
        raise SloError(f"{where}.select: {exc}") from exc
    if metric.observer == "canary" and (selector.journey or selector.name):
        raise SloError(f"{where}: {metric.name} is measured on the canary's own requests, which have no journey "
                       f"or name; select it by service only")
    window: int | None = None
    if metric.kind == "window":
        given = raw.get("window", default_window)
        window = None if given == "run" else parse_window(given, f"{where}.window")
    elif "window" in raw:
        raise SloError(f"{where}: {metric.name} is a {metric.kind} metric and takes no window")
    name = raw.get("name") or f"{metric.title} ({selector.describe()})"
    return Objective(
        name=str(name), metric=metric, selector=selector, threshold=float(threshold), window=window,
        optional=raw.get("optional") is True,
    )


_KEYS = {"title", "window", "baseline", "healthy", "error_budget", "objectives", "slow_ms"}


def _slow_ms(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < float("inf"):
        raise SloError(f"slow_ms: expected milliseconds above 0 (a request slower than this is affected), "
                       f"got {value!r}")
    return float(value)


def parse_slo(raw: Any, *, source: str | None = None) -> SloSpec:
    if not isinstance(raw, Mapping):
        raise SloError("the SLO file must be a mapping with an `objectives` list")
    unknown = set(raw) - _KEYS
    if unknown:
        raise SloError(f"unknown key(s) {sorted(unknown)}; an SLO file has {', '.join(sorted(_KEYS))}")
    default_window = parse_window(raw.get("window", 10), "window")
    objectives = raw.get("objectives") or []
    if not isinstance(objectives, list):
        raise SloError("objectives: expected a list")
    parsed = [_objective(item, i, default_window) for i, item in enumerate(objectives)]
    names = [objective.name for objective in parsed]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise SloError(f"objective names must be unique: {duplicated}")
    return SloSpec(
        title=str(raw.get("title") or "SLO"),
        window=default_window,
        baseline_s=parse_window(raw.get("baseline", 10), "baseline"),
        healthy=_healthy(raw.get("healthy"), default_window),
        budget=_budget(raw.get("error_budget")),
        objectives=parsed,
        source=source,
        slow_ms=_slow_ms(raw.get("slow_ms")),
    )


def load_slo(path: Path | None = None) -> SloSpec:
    """Read an SLO file; ``None`` reads the packaged default (``reports/slo.yaml``)."""
    path = Path(path) if path is not None else default_slo_path()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SloError(f"{path}: not YAML ({exc})") from exc
    return parse_slo(raw, source=str(path))
