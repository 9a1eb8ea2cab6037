"""Requests put into one-second buckets, with exact percentiles per bucket and per window.

The grid starts at the run's start (``run.json`` ``started``, or the earliest intended start)
and bucket ``k`` holds the requests whose *intended* start lies in ``[origin + k, origin + k + 1)``
— the load the schedule offered in that second, whether or not the target kept up. Latency is
``e - s`` in microseconds, recorded into an HDR histogram (1 µs .. 1 h, 3 significant digits:
every percentile is within 0.1 % of the exact sample, unlike Locust's rounded buckets).
A percentile is HDR's nearest rank: the value at rank ``round(p/100 · n)`` (at least 1) of the
sorted sample. Latency covers failed requests too: a timeout is what the user waited.

Histograms merge exactly (their counts arrays add up), so a window's percentile is the
percentile of the merged bucket histograms. The histogram layout is hdrh's; recording is done
on whole arrays (:func:`hdr_indices`), so an hour-long run takes seconds, not minutes.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from hdrh.histogram import HdrHistogram

from .io import RequestRecord, RunData

__all__ = [
    "BUCKET_SECONDS", "COUNTS_LEN", "Grid", "Series", "grid_for", "hdr_indices", "histogram_counts",
    "latencies_us", "new_histogram", "percentiles_from_counts", "replica_counts", "users_per_bucket",
]

BUCKET_SECONDS = 1
_MICRO = 1_000_000
_HIGHEST_US = 3_600 * _MICRO
_DIGITS = 3


def new_histogram() -> HdrHistogram:
    return HdrHistogram(1, _HIGHEST_US, _DIGITS)


#: Index ↔ value arithmetic of the histograms (a pure function of their configuration).
_TEMPLATE = new_histogram()
COUNTS_LEN = _TEMPLATE.counts_len


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

    def indices(self, times: np.ndarray) -> np.ndarray:
        """:meth:`index` of many moments at once (the same integer arithmetic)."""
        micros = np.round(times * _MICRO).astype(np.int64)
        return (micros - _micros(self.origin)) // _MICRO

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
    starts = [r.intended_start for r in run.requests]
    started = run.info.started
    first = starts[0] if starts else (started or 0.0)
    origin = started if started is not None and started <= first else first
    last = starts[-1] if starts else origin
    end = max(last, run.info.ended if run.info.ended is not None else last)
    buckets = max(1, math.ceil(end - origin - 1e-9), Grid(origin=origin, buckets=1).index(last) + 1)
    return Grid(origin=origin, buckets=buckets)


class Series:
    """Per-bucket counts and latencies of one subset of the requests.

    Requests are held in bucket order as arrays, so the requests of buckets ``lo .. hi-1`` are
    one slice, and the histogram of any window is one ``bincount`` of that slice.
    """

    def __init__(self, grid: Grid, requests: Iterable[RequestRecord]) -> None:
        self.grid = grid
        rows = list(requests)
        buckets = grid.indices(np.array([r.intended_start for r in rows], dtype=np.float64))
        failed = np.array([not r.ok for r in rows], dtype=bool)
        latencies = latencies_us(
            np.array([r.intended_start for r in rows], dtype=np.float64),
            np.array([r.ended for r in rows], dtype=np.float64),
        )
        inside = (buckets >= 0) & (buckets < grid.buckets)
        order = np.argsort(buckets[inside], kind="stable")
        buckets, failed, latencies = buckets[inside][order], failed[inside][order], latencies[inside][order]
        self.total: list[int] = np.bincount(buckets, minlength=grid.buckets).tolist()
        self.failed: list[int] = np.bincount(buckets[failed], minlength=grid.buckets).tolist()
        self._bounds = np.searchsorted(buckets, np.arange(grid.buckets + 1), side="left")
        self._indices = hdr_indices(latencies)
        self._cum_total = _cumulative(self.total)
        self._cum_failed = _cumulative(self.failed)

    @property
    def ok(self) -> list[int]:
        return [t - f for t, f in zip(self.total, self.failed, strict=True)]

    def _clamp(self, lo: int, hi: int) -> tuple[int, int]:
        return max(0, lo), min(self.grid.buckets, hi)

    def count(self, lo: int, hi: int) -> tuple[int, int]:
        """(requests, failures) in buckets ``lo .. hi-1``."""
        lo, hi = self._clamp(lo, hi)
        if hi <= lo:
            return 0, 0
        return self._cum_total[hi] - self._cum_total[lo], self._cum_failed[hi] - self._cum_failed[lo]

    def counts(self, lo: int, hi: int) -> np.ndarray:
        """The HDR counts array of buckets ``lo .. hi-1`` — the merged histogram of the window."""
        lo, hi = self._clamp(lo, hi)
        if hi <= lo:
            return np.zeros(COUNTS_LEN, dtype=np.int64)
        return np.bincount(self._indices[self._bounds[lo]:self._bounds[hi]], minlength=COUNTS_LEN)

    def percentiles_ms(self, lo: int, hi: int, percentiles: Iterable[float]) -> dict[float, float | None]:
        """Latency percentiles over buckets ``lo .. hi-1`` in ms; ``None`` without requests."""
        return percentiles_from_counts(self.counts(lo, hi), percentiles)

    def percentile_ms(self, lo: int, hi: int, percentile: float) -> float | None:
        return self.percentiles_ms(lo, hi, [percentile])[percentile]

    def per_bucket(self, percentiles: Iterable[float]) -> dict[float, list[float | None]]:
        wanted = list(percentiles)
        result: dict[float, list[float | None]] = {p: [] for p in wanted}
        for k in range(self.grid.buckets):
            values = self.percentiles_ms(k, k + 1, wanted) if self.total[k] else {}
            for p in wanted:
                result[p].append(values.get(p))
        return result


def latencies_us(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Latencies ``e - s`` in whole microseconds, clamped to the histogram's range."""
    return np.clip(np.round((ends - starts) * _MICRO), 0, _HIGHEST_US).astype(np.int64)


def hdr_indices(values: np.ndarray) -> np.ndarray:
    """The HDR counts index of each value (µs), as ``HdrHistogram.record_value`` computes it.

    Recording one value at a time in Python costs microseconds each; this is the same layout
    arithmetic (bucket = bit length of ``value | sub_bucket_mask``, then the sub-bucket) done on
    a whole array. The tests check it against hdrh's own recording.
    """
    h = _TEMPLATE
    values = np.asarray(values, dtype=np.int64)
    _, bit_length = np.frexp((values | h.sub_bucket_mask).astype(np.float64))
    bucket = bit_length.astype(np.int64) - h.unit_magnitude - (h.sub_bucket_half_count_magnitude + 1)
    sub_bucket = values >> (bucket + h.unit_magnitude)
    return ((bucket + 1) << h.sub_bucket_half_count_magnitude) + (sub_bucket - h.sub_bucket_half_count)


def histogram_counts(latencies: Iterable[int]) -> np.ndarray:
    """The HDR counts array of a sample of latencies in µs (clamped to the histogram's range)."""
    values = np.clip(np.fromiter(latencies, dtype=np.int64), 0, _HIGHEST_US)
    return np.bincount(hdr_indices(values), minlength=COUNTS_LEN)


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
        k = grid.index(request.intended_start)
        if not 0 <= k < grid.buckets:
            continue
        group = key(request) or "other"
        replica = request.replica or "none"
        row = counts[group].setdefault(replica, [0] * grid.buckets)
        row[k] += 1
    return {group: dict(sorted(rows.items())) for group, rows in sorted(counts.items())}


def users_per_bucket(grid: Grid, samples: Iterable[tuple[float, int]]) -> list[int | None]:
    """Concurrent users per bucket from timestamped samples: each sample holds until the next;
    ``None`` before the first sample and after the last one's bucket."""
    values: list[int | None] = [None] * grid.buckets
    ordered = sorted(samples)
    for i, (t, users) in enumerate(ordered):
        start = grid.index(t)
        end = grid.index(ordered[i + 1][0]) if i + 1 < len(ordered) else start + 1
        for k in range(max(0, start), min(grid.buckets, max(end, start + 1))):
            values[k] = users
    return values
