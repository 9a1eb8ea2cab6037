"""Requests put into one-second buckets, with exact percentiles per bucket and per window.

The grid starts at the run's start (``run.json`` ``started``, or the earliest intended start)
and bucket ``k`` holds the requests whose *intended* start lies in ``[origin + k, origin + k + 1)``
— the load the schedule offered in that second, whether or not the target kept up. Latency is
``e - s`` in microseconds, recorded into an HDR histogram (1 µs .. 1 h, 3 significant digits:
every percentile is within 0.1 % of the exact sample, unlike Locust's rounded buckets).
A percentile is HDR's nearest rank: the value at rank ``round(p/100 · n)`` (at least 1) of the
sorted sample. Latency covers failed requests too: a timeout is what the user waited.

Histograms merge exactly, so a window's percentile is the percentile of the merged bucket
histograms. Only recently used bucket histograms are kept, so an hour-long run stays small.
"""

from __future__ import annotations

import math
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from hdrh.histogram import HdrHistogram

from .io import RequestRecord, RunData

__all__ = ["BUCKET_SECONDS", "Grid", "Series", "grid_for", "new_histogram", "percentile_ms", "replica_counts"]

BUCKET_SECONDS = 1
_MICRO = 1_000_000
_HIGHEST_US = 3_600 * _MICRO
_DIGITS = 3
_CACHED_BUCKETS = 128


def new_histogram() -> HdrHistogram:
    return HdrHistogram(1, _HIGHEST_US, _DIGITS)


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
        self._cache: OrderedDict[int, HdrHistogram] = OrderedDict()
        for request in requests:
            k = grid.index(request.s)
            if not 0 <= k < grid.buckets:
                continue
            self.total[k] += 1
            self.failed[k] += not request.ok
            self._latencies[k].append(min(_HIGHEST_US, max(0, round(request.latency * _MICRO))))
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

    def bucket_histogram(self, k: int) -> HdrHistogram:
        cached = self._cache.get(k)
        if cached is not None:
            self._cache.move_to_end(k)
            return cached
        histogram = new_histogram()
        for value in self._latencies[k]:
            histogram.record_value(value)
        self._cache[k] = histogram
        if len(self._cache) > _CACHED_BUCKETS:
            self._cache.popitem(last=False)
        return histogram

    def histogram(self, lo: int, hi: int) -> HdrHistogram:
        """The merged histogram of buckets ``lo .. hi-1``."""
        lo, hi = max(0, lo), min(self.grid.buckets, hi)
        if hi - lo == 1:
            return self.bucket_histogram(lo)
        merged = new_histogram()
        for k in range(lo, hi):
            if self.total[k]:
                merged.add(self.bucket_histogram(k))
        return merged

    def percentile_ms(self, lo: int, hi: int, percentile: float) -> float | None:
        """The latency percentile over buckets ``lo .. hi-1`` in ms; ``None`` without requests."""
        histogram = self.histogram(lo, hi)
        return percentile_ms(histogram, percentile)

    def per_bucket(self, percentiles: Iterable[float]) -> dict[float, list[float | None]]:
        wanted = list(percentiles)
        result: dict[float, list[float | None]] = {p: [] for p in wanted}
        for k in range(self.grid.buckets):
            histogram = self.bucket_histogram(k) if self.total[k] else None
            for p in wanted:
                result[p].append(percentile_ms(histogram, p) if histogram is not None else None)
        return result


def percentile_ms(histogram: HdrHistogram, percentile: float) -> float | None:
    if histogram.get_total_count() == 0:
        return None
    return histogram.get_value_at_percentile(percentile) / 1000.0


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
