"""Sliding-window evaluation — the precise meaning of "in every 10 s window".

A window of width ``W`` seconds is ``W`` consecutive one-second buckets of the run's grid
(:mod:`.timeline`): window ``k`` holds the requests whose intended start lies in
``[origin + k, origin + k + W)``. Windows slide by one bucket, so a run of ``N`` buckets has
``N - W + 1`` complete windows, ``k = 0 .. N - W``; a run shorter than ``W`` has one window, the
whole run. Partial windows at the end are not evaluated (they would judge a few requests as if
they were ``W`` seconds of traffic).

A window without requests of the selected kind has no value and is skipped: it is neither a
pass nor a breach. "Every window meets the threshold" means every window that has a value.
The value of a window for a ratio metric is computed from its request counts; for a latency
metric it is the percentile of the merged HDR histograms of its buckets (exact, not an average
of per-second percentiles).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .metrics import LATENCY_PERCENTILES
from .slo import Healthy
from .timeline import Series

__all__ = ["WindowValue", "bucket_is_healthy", "is_healthy", "window_starts", "window_value"]


@dataclass(frozen=True)
class WindowValue:
    start: int  # first bucket
    width: int  # buckets
    requests: int
    failures: int
    value: float | None


def window_starts(buckets: int, width: int, *, lo: int = 0) -> Iterator[int]:
    """Starts of the complete windows of ``width`` buckets within ``lo .. buckets - 1``.

    When fewer than ``width`` buckets remain, the one window ``lo .. buckets - 1`` is evaluated
    instead — a short run is still judged, on everything it has.
    """
    if buckets - lo < width:
        if buckets > lo:
            yield lo
        return
    yield from range(lo, buckets - width + 1)


def _ratio_value(metric: str, requests: int, failures: int) -> float | None:
    if requests == 0:
        return None
    if metric == "success_ratio":
        return (requests - failures) / requests
    return failures / requests


def window_value(series: Series, metric: str, start: int, width: int) -> WindowValue:
    """The value of a window metric (see :mod:`.metrics`) over buckets ``start .. start+width-1``."""
    requests, failures = series.count(start, start + width)
    if metric in LATENCY_PERCENTILES:
        value = series.percentile_ms(start, start + width, LATENCY_PERCENTILES[metric]) if requests else None
    else:
        value = _ratio_value(metric, requests, failures)
    return WindowValue(start=start, width=width, requests=requests, failures=failures, value=value)


def _meets(series: Series, healthy: Healthy, start: int, width: int) -> bool:
    requests, failures = series.count(start, start + width)
    if requests == 0:
        return True
    if (requests - failures) / requests < healthy.success_ratio:
        return False
    if not healthy.latency_ms:
        return True
    values = series.percentiles_ms(start, start + width, [LATENCY_PERCENTILES[n] for n in healthy.latency_ms])
    return all(
        (values[LATENCY_PERCENTILES[name]] or 0.0) <= limit for name, limit in healthy.latency_ms.items()
    )


def is_healthy(series: Series, healthy: Healthy, start: int) -> bool:
    """Whether window ``start`` (of ``healthy.window`` buckets) meets the healthy bounds.

    An empty window counts as healthy: nothing was asked, so nothing failed.
    """
    return _meets(series, healthy, start, healthy.window)


def bucket_is_healthy(series: Series, healthy: Healthy, k: int) -> bool | None:
    """The same bounds applied to one bucket; ``None`` for an empty bucket (no evidence)."""
    if series.total[k] == 0:
        return None
    return _meets(series, healthy, k, 1)


def first_breach(values: list[WindowValue], meets: Callable[[float], bool]) -> WindowValue | None:
    return next((w for w in values if w.value is not None and not meets(w.value)), None)
