"""Requests put into one-second buckets, with exact percentiles per bucket and per window.

The grid starts at the run's start (``run.json`` ``started``, or the earliest intended start)
and bucket ``k`` holds the requests whose *intended* start lies in ``[origin + k, origin + k + 1)``
— the load the schedule offered in that second, whether or not the target kept up. Latency is
``e - s`` in microseconds, recorded into an HDR histogram (1 µs .. 1 h, 3 significant digits:
every percentile is within 0.1 % of the exact sample, unlike Locust's rounded buckets).
A percentile is HDR's nearest rank: the value at rank ``round(p/100 · n)`` (at least 1) of the
sorted sample. Latency covers failed requests too: a timeout is what the user waited.

Histograms merge exactly (their counts arrays add up), so a window's percentile is the
percentile of the merged bucket histograms. Only recently used buckets' counts are kept, so an
hour-long run stays small.
"""

from __future__ import annotations

import math
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from hdrh.histogram import HdrHistogram

from .io import RequestRecord, RunData

__all__ = [
    "BUCKET_SECONDS", "Grid", "Series", "grid_for", "histogram_counts", "latency_us", "new_histogram",
    "percentiles_from_counts", "replica_counts",
]

BUCKET_SECONDS = 1
_MICRO = 1_000_000
_HIGHEST_US = 3_600 * _MICRO
_DIGITS = 3
_CACHED_BUCKETS = 128


def new_histogram() -> HdrHistogram:
    return HdrHistogram(1, _HIGHEST_US, _DIGITS)


#: Index ↔ value arithmetic of the histograms (a pure function of their configuration).
_TEMPLATE = new_histogram()


def _micros(t: float) -> int:
    return round(t * _MICRO)


@dataclass(frozen=True)
class Grid:
    """The run's one-second buckets; integer microseconds keep ``20.0`` out of bucket 19."""

    origin: float
    buckets: int

    def index(self, t: float) -> int:
        """The bucket holding moment ``t`` (may be outside ``range(buckets)``)."""
        return (_micros(t) - _micros(self.origin)) // _MICRO

    def start(self, k: int) -> float:
        return self.origin + k * BUCKET_SECONDS

    def first_at_or_after(self, t: float) -> int:
        """The first bucket that starts at or after ``t``."""
        return -((_micros(self.origin) - _micros(t)) // _MICRO)

    def whole_before(self, t: float) -> int:
        """How many buckets end at or before ``t`` (clamped to the grid)."""
        return max(0, min(self.buckets, self.index(t)))

    def offset(self, t: float) -> float:
        """Seconds since the origin, for tables and chart axes."""
        return t - self.origin


def grid_for(run: RunData) -> Grid:
    """Buckets from the run's start to its end (or the last intended start, if later)."""
    starts = [r.s for r in run.requests]
    started = run.info.started
    first = starts[0] if starts else (started or 0.0)
    origin = started if started is not None and started <= first else first
    last = starts[-1] if starts else origin
    end = max(last, run.info.ended if run.info.ended is not None else last)
    buckets = max(1, math.ceil(end - origin - 1e-9), Grid(origin=origin, buckets=1).index(last) + 1)
    return Grid(origin=origin, buckets=buckets)


class Series:
    """Per-bucket counts and latencies of one subset of the requests."""

    def __init__(self, grid: Grid, requests: Iterable[RequestRecord]) -> None:
        self.grid = grid
        self.total = [0] * grid.buckets
        self.failed = [0] * grid.buckets
        self._latencies: list[list[int]] = [[] for _ in range(grid.buckets)]
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        for request in requests:
            k = grid.index(request.s)
            if not 0 <= k < grid.buckets:
                continue
            self.total[k] += 1
            self.failed[k] += not request.ok
            self._latencies[k].append(latency_us(request))
        self._cum_total = _cumulative(self.total)
        self._cum_failed = _cumulative(self.failed)

    @property
    def ok(self) -> list[int]:
        return [t - f for t, f in zip(self.total, self.failed, strict=True)]

    def count(self, lo: int, hi: int) -> tuple[int, int]:
        """(requests, failures) in buckets ``lo .. hi-1``."""
        lo, hi = max(0, lo), min(self.grid.buckets, hi)
        if hi <= lo:
            return 0, 0
        return self._cum_total[hi] - self._cum_total[lo], self._cum_failed[hi] - self._cum_failed[lo]

    def bucket_counts(self, k: int) -> np.ndarray:
        """The HDR counts array of bucket ``k`` (recently used ones are cached)."""
        cached = self._cache.get(k)
        if cached is not None:
            self._cache.move_to_end(k)
            return cached
        counts = histogram_counts(self._latencies[k])
        self._cache[k] = counts
        if len(self._cache) > _CACHED_BUCKETS:
            self._cache.popitem(last=False)
        return counts

    def counts(self, lo: int, hi: int) -> np.ndarray:
        """The merged HDR counts of buckets ``lo .. hi-1`` (merging histograms is exact)."""
        lo, hi = max(0, lo), min(self.grid.buckets, hi)
        merged = np.zeros(_TEMPLATE.counts_len, dtype=np.int64)
        for k in range(lo, hi):
            if self.total[k]:
                merged += self.bucket_counts(k)
        return merged

    def percentiles_ms(self, lo: int, hi: int, percentiles: Iterable[float]) -> dict[float, float | None]:
        """Latency percentiles over buckets ``lo .. hi-1`` in ms; ``None`` without requests."""
        return percentiles_from_counts(self.counts(lo, hi), percentiles)

    def percentile_ms(self, lo: int, hi: int, percentile: float) -> float | None:
        return self.percentiles_ms(lo, hi, [percentile])[percentile]

    def per_bucket(self, percentiles: Iterable[float]) -> dict[float, list[float | None]]:
        wanted = list(percentiles)
        result: dict[float, list[float | None]] = {p: [] for p in wanted}
        for k in range(self.grid.buckets):
            values = percentiles_from_counts(self.bucket_counts(k), wanted) if self.total[k] else {}
            for p in wanted:
                result[p].append(values.get(p))
        return result


def latency_us(request: RequestRecord) -> int:
    return min(_HIGHEST_US, max(0, round(request.latency * _MICRO)))


def histogram_counts(latencies_us: Iterable[int]) -> np.ndarray:
    """Record latencies (µs) into an HDR histogram and return its counts array."""
    histogram = new_histogram()
    for value in latencies_us:
        histogram.record_value(value)
    return np.ctypeslib.as_array(histogram.counts).astype(np.int64)


def percentiles_from_counts(counts: np.ndarray, percentiles: Iterable[float]) -> dict[float, float | None]:
    """HDR's value at percentile (nearest rank, highest equivalent value), in ms, in one pass.

    Same answer as ``HdrHistogram.get_value_at_percentile`` for ``p > 0``, which walks every
    count in Python on each call; a cumulative sum and a binary search make a long run cheap.
    """
    wanted = list(percentiles)
    total = int(counts.sum())
    if total == 0:
        return {p: None for p in wanted}
    cumulative = np.cumsum(counts)
    result: dict[float, float | None] = {}
    for p in wanted:
        target = max(1, int(min(p, 100.0) * total / 100 + 0.5))
        index = int(np.searchsorted(cumulative, target, side="left"))
        value = _TEMPLATE.get_highest_equivalent_value(_TEMPLATE.get_value_from_index(index))
        result[p] = value / 1000.0
    return result


def _cumulative(values: list[int]) -> list[int]:
    sums = [0]
    for value in values:
        sums.append(sums[-1] + value)
    return sums


def replica_counts(
    grid: Grid, requests: Iterable[RequestRecord], *, key: Callable[[RequestRecord], str | None]
) -> dict[str, dict[str, list[int]]]:
    """Requests per bucket by group (``key``, e.g. the service) and by the replica that answered.

    A request no replica answered (a transport failure) counts under ``"none"``.
    """
    counts: dict[str, dict[str, list[int]]] = defaultdict(dict)
    for request in requests:
        k = grid.index(request.s)
        if not 0 <= k < grid.buckets:
            continue
        group = key(request) or "other"
        replica = request.replica or "none"
        row = counts[group].setdefault(replica, [0] * grid.buckets)
        row[k] += 1
    return {group: dict(sorted(rows.items())) for group, rows in sorted(counts.items())}
