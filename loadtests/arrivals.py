"""The open model's arrival timetable: when each journey is due, and which journey it is.

Journeys arrive at the profile's rate — ``peak_rate`` times the curve's share, linear between
the curve's steps — evenly spaced in the rate, as k6's arrival-rate executors space their
iterations: arrival ``j`` (from 0) is due at the moment the rate's integral from the start of
the run reaches ``j``. The timetable depends on nothing but the profile, so no answer, however
slow, can move an arrival: a late start is the generator's, and is counted as such.

With several load processes, process ``i`` of ``n`` takes arrivals ``i, i + n, i + 2n, …``: the
processes interleave and together offer exactly the timetable. Each process gives its own
arrivals journeys by smooth weighted round robin over the mix, so every process — and the run —
keeps the mix's shares to within one journey per journey kind.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from .profile import Profile

__all__ = ["Arrival", "Timetable", "journey_cycle"]


@dataclass(frozen=True, slots=True)
class Arrival:
    #: Seconds after the load started at which the journey is due (its intended start).
    offset: float
    journey: str


@dataclass(frozen=True)
class _Segment:
    """A stretch of the run over which the rate changes linearly, and the arrivals before it."""

    start: float
    length: float
    rate_from: float
    rate_to: float
    #: The rate's integral from the start of the run to ``start``: arrivals due before it.
    before: float

    @property
    def arrivals(self) -> float:
        return (self.rate_from + self.rate_to) / 2 * self.length

    def integral(self, elapsed: float) -> float:
        """Arrivals due ``elapsed`` seconds into the segment (the rate's integral)."""
        slope = (self.rate_to - self.rate_from) / self.length if self.length else 0.0
        return self.rate_from * elapsed + slope * elapsed * elapsed / 2

    def inverse(self, amount: float) -> float:
        """Seconds into the segment at which ``amount`` more arrivals are due (the integral's
        inverse; the root of a quadratic written so that it stays exact as the slope nears 0)."""
        if amount <= 0:
            return 0.0
        slope = (self.rate_to - self.rate_from) / self.length
        root = math.sqrt(max(0.0, self.rate_from * self.rate_from + 2 * slope * amount))
        return min(self.length, 2 * amount / (self.rate_from + root))


class Timetable:
    """Every arrival of a run, lazily; ``offered(elapsed)`` counts those due so far."""

    def __init__(self, profile: Profile, *, share: tuple[int, int] = (0, 1)) -> None:
        if profile.peak_rate is None:
            raise ValueError(f"the profile {profile.name!r} has no arrival rate (peak_rate): it is a closed-model "
                             "profile; give --rate")
        index, count = share
        if not 0 <= index < count:
            raise ValueError(f"process {index} of {count}")
        self.profile = profile
        self.index, self.count = index, count
        self.duration_s = profile.duration_s
        self._segments = list(_segments(profile))

    @property
    def total(self) -> float:
        """Arrivals the whole run offers (over every process; the integral of the rate)."""
        last = self._segments[-1]
        return last.before + last.arrivals

    def due(self, elapsed: float) -> float:
        """The rate's integral up to ``elapsed``: how many arrivals of the whole run are due."""
        elapsed = min(max(elapsed, 0.0), self.duration_s)
        for segment in self._segments:
            if elapsed <= segment.start + segment.length:
                return segment.before + segment.integral(elapsed - segment.start)
        return self.total

    def offered(self, elapsed: float) -> int:
        """This process's arrivals due by ``elapsed`` (those at exactly ``elapsed`` included)."""
        if elapsed < 0:
            return 0
        # The j-th arrival is due when the integral reaches j; arrivals 0..floor(due) are due.
        # A hair of tolerance keeps an arrival due at the instant the integral reaches it.
        # The run's last arrival is the last one due before its end, not at it.
        last = min(math.floor(self.due(elapsed) + 1e-9), math.ceil(self.total - 1e-9) - 1)
        if last < self.index:
            return 0
        return (last - self.index) // self.count + 1

    def offsets(self) -> Iterator[float]:
        """This process's arrival times, seconds after the load started, in order."""
        segments = iter(self._segments)
        segment = next(segments)
        j = self.index
        while True:
            while j >= segment.before + segment.arrivals - 1e-9:
                following = next(segments, None)
                if following is None:
                    return
                segment = following
            yield segment.start + segment.inverse(j - segment.before)
            j += self.count

    def arrivals(self) -> Iterator[Arrival]:
        """This process's arrivals with the journey each one runs."""
        journeys = journey_cycle(self.profile.mix)
        for offset in self.offsets():
            yield Arrival(offset, next(journeys))


def _segments(profile: Profile) -> Iterator[_Segment]:
    rate = profile.peak_rate or 0.0
    steps = profile.curve if len(profile.curve) > 1 else (profile.curve[0], profile.curve[0])
    length = profile.duration_s / (len(steps) - 1)
    before = 0.0
    for number, (left, right) in enumerate(zip(steps, steps[1:], strict=False)):
        segment = _Segment(start=number * length, length=length, rate_from=rate * left, rate_to=rate * right,
                           before=before)
        before += segment.arrivals
        yield segment


def journey_cycle(mix: Mapping[str, int]) -> Iterator[str]:
    """The mix's journeys, endlessly, each as often as its weight and as evenly spread as can be
    (smooth weighted round robin: ``{a: 2, b: 1}`` gives a, b, a, a, b, a, …)."""
    weights = {journey: weight for journey, weight in mix.items() if weight > 0}
    if not weights:
        raise ValueError("the mix gives no journey a share")
    total = sum(weights.values())
    current = dict.fromkeys(weights, 0)
    while True:
        for journey, weight in weights.items():
            current[journey] += weight
        chosen = max(current, key=lambda journey: current[journey])
        current[chosen] -= total
        yield chosen
