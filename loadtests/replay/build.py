"""The replay profile: the recorded window's journey starts as an arrival curve, a mix and a peak.

The curve has one point per step of the window: the journey starts of that step as a share of
the busiest step's, so ``peak_rate`` (starts per second at the curve's 1.0) times the curve gives
back the recorded rate step by step, and the mix is the recorded count of each journey — both
exact, no rounding: the starts of all steps add up to the starts matched.

A users-based run (the closed model) needs ``peak_users`` instead. Each virtual user starts one
journey per ``pacing_s``; the profile gives every journey the same pacing, the longest the
patterns name for its journeys, so that users split by the mix start journeys in the recorded
proportions, and sizes the users by Little's law: users = peak rate × pacing.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import yaml

from ..profile import JOURNEYS, UTKO_JOURNEYS
from .arrivals import ArrivalCounter
from .formats import FileReading
from .patterns import Role

#: The steps a default step is chosen from: the shortest that keeps the curve to MAX_STEPS points.
STEP_CHOICES_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
MAX_STEPS = 3600
#: The failover schedule a profile of UTKO journeys only names (the one the weighing morning uses).
UTKO_FAILOVER = "failover_weighing.yaml"
_STEP = re.compile(r"(?P<amount>\d+)\s*(?P<unit>s|m|h)?")


class ReplayError(ValueError):
    """Nothing to replay (no journey start in the window), or a step that cannot be read; the
    message says why."""


def parse_step(text: str) -> int:
    """``1s``, ``30s``, ``5m``, ``1h`` or plain seconds, as whole seconds."""
    found = _STEP.fullmatch(text.strip().lower())
    seconds = int(found["amount"]) * {"s": 1, "m": 60, "h": 3600}[found["unit"] or "s"] if found else 0
    if seconds < 1:
        raise ReplayError(f"--step {text!r}: expected whole seconds, minutes or hours, e.g. 1s, 30s, 5m")
    return seconds


def default_step(length_s: int) -> int:
    return next((step for step in STEP_CHOICES_S if math.ceil(length_s / step) <= MAX_STEPS), STEP_CHOICES_S[-1])


@dataclass(frozen=True, slots=True)
class Replay:
    """A recorded window, reduced to what a profile needs."""

    start_s: int
    end_s: int
    step_s: int
    #: Journey starts in each step, all journeys together.
    arrivals: tuple[int, ...]
    #: Journey starts in the window, by journey (only journeys that started at least once).
    starts: dict[str, int]
    peak_second_s: int
    peak_second_starts: int
    pacing_s: float

    @property
    def duration_s(self) -> int:
        return len(self.arrivals) * self.step_s

    @property
    def peak_rate(self) -> float:
        """Journey starts per second in the busiest step."""
        return max(self.arrivals) / self.step_s

    @property
    def curve(self) -> list[float]:
        peak = max(self.arrivals)
        return [count / peak for count in self.arrivals]

    @property
    def peak_users(self) -> int:
        return max(1, math.ceil(self.peak_rate * self.pacing_s - 1e-9))


def replay_of(counter: ArrivalCounter, *, step_s: int | None = None) -> Replay:
    start, end = counter.bounds()
    seconds = {second: counts for second, counts in counter.per_second.items() if start <= second < end}
    if not seconds:
        raise ReplayError(_nothing_matched(counter))
    step = step_s or default_step(end - start)
    arrivals = [0] * math.ceil((end - start) / step)
    starts: Counter[str] = Counter()
    for second, counts in seconds.items():
        arrivals[(second - start) // step] += counts.total()
        starts.update(counts)
    peak_second = min(seconds, key=lambda second: (-seconds[second].total(), second))
    pacing = counter.patterns.pacing()
    return Replay(
        start_s=start, end_s=end, step_s=step, arrivals=tuple(arrivals),
        starts={journey: starts[journey] for journey in JOURNEYS if starts[journey]},
        peak_second_s=peak_second, peak_second_starts=seconds[peak_second].total(),
        pacing_s=max(pacing[journey] for journey in starts),
    )


def _nothing_matched(counter: ArrivalCounter) -> str:
    seen = counter.requests_in_window
    top = ", ".join(f"{shape} ({count})" for shape, count in counter.unmatched.most_common(3))
    return (f"none of the {seen} request(s) in {counter.window.describe()} starts a journey of "
            f"{counter.patterns.source}" + (f"; the most frequent unmatched: {top}" if top else "")
            + " — edit the patterns (--patterns FILE)")


def profile_mapping(replay: Replay, *, name: str, description: str) -> dict[str, Any]:
    """The profile, as :meth:`Profile.from_mapping` reads it."""
    mapping: dict[str, Any] = {
        "name": name,
        "description": description,
        "duration_s": replay.duration_s,
        "peak_rate": replay.peak_rate,
        "peak_users": replay.peak_users,
        "curve": replay.curve,
        "pacing_s": {journey: replay.pacing_s for journey in replay.starts},
        "mix": dict(replay.starts),
    }
    if set(replay.starts) <= set(UTKO_JOURNEYS):
        mapping["failover"] = UTKO_FAILOVER
    return mapping


def render(replay: Replay, counter: ArrivalCounter, readings: list[FileReading], *, name: str) -> str:
    """The profile file: a header saying where it came from, then the profile."""
    wall = counter.wall_of
    offset = dt.timedelta(seconds=counter.offset_s)
    zone = "UTC" + ("" if not offset else ("+" if offset >= dt.timedelta(0) else "-")
                    + f"{abs(counter.offset_s) // 3600:02d}:{abs(counter.offset_s) % 3600 // 60:02d}")
    total = sum(replay.starts.values())
    window = f"{wall(replay.start_s):%Y-%m-%d %H:%M:%S} – {wall(replay.end_s):%Y-%m-%d %H:%M:%S} ({zone})"
    description = f"Replay of {', '.join(r.source for r in readings)}, {window}"
    lines = [
        "# A recorded peak, derived by `gosstand replay` from:",
        *(f"#   {line}" for line in file_lines(readings)),
        f"# Window: {window}, {replay.end_s - replay.start_s} s, in steps of {replay.step_s} s.",
        f"# Journey starts: {', '.join(f'{j} {n}' for j, n in replay.starts.items())} (total {total}); "
        f"busiest second {wall(replay.peak_second_s):%H:%M:%S} with {replay.peak_second_starts}.",
        f"# Requests in the window: {share_line(counter)}.",
        f"# Patterns: {counter.patterns.source}.",
        "#",
        "# curve: each step's journey starts as a share of the busiest step's; peak_rate: starts per",
        "# second at 1.0 (a --rate run). mix: the recorded starts of each journey. peak_users: a",
        "# users-based run's size, peak_rate x pacing_s (Little's law). `--duration` compresses it.",
    ]
    body = yaml.safe_dump(profile_mapping(replay, name=name, description=description), sort_keys=False,
                          allow_unicode=True, default_flow_style=None, width=100)
    return "\n".join(lines) + "\n" + body


def file_lines(readings: list[FileReading]) -> list[str]:
    lines = []
    for reading in readings:
        line = f"{reading.source} ({reading.format}): {reading.requests} request(s)"
        if reading.unreadable:
            at = ", ".join(str(n) for n in reading.unreadable_at)
            kind = "entries" if reading.format == "har" else "lines"
            line += f", {reading.unreadable} unreadable {kind} skipped (first at {at})"
        if reading.stopped:
            line += f"; reading stopped: {reading.stopped}"
        lines.append(line)
    return lines


def share_line(counter: ArrivalCounter) -> str:
    seen = counter.requests_in_window or 1
    parts = {"journey starts": Role.START, "their other requests": Role.PART, "ignored": Role.IGNORED,
             "unmatched": Role.UNMATCHED}
    shares = ", ".join(f"{label} {100 * counter.roles[role] / seen:.1f} %" for label, role in parts.items())
    return f"{counter.requests_in_window}: {shares}"
