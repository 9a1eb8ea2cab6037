"""Short measuring windows of several stacks taken in turn, and the ratios between them.

On a shared VM whose speed drifts by tens of percent within minutes, two whole measurements
taken one after the other compare the machine's two moments as much as the two checkouts. Windows
of a few seconds, each stack loaded alone in its window and the stacks taking turns, see nearly
the same machine: the ratio of two windows of one round is the comparison, and the median over
the rounds is the figure. The order is reversed every other round, so a machine that speeds up or
slows down within a round does not always favour the stack that goes second.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


def window_order(names: Sequence[str], rounds: int) -> list[tuple[int, str]]:
    """``(round, name)`` in the order the windows are taken: every stack once a round, in
    ``names``' order in even rounds (0, 2, ...) and reversed in odd ones."""
    return [(round_, name) for round_ in range(rounds)
            for name in (names if round_ % 2 == 0 else list(reversed(names)))]


@dataclass(frozen=True)
class Window:
    """One stack's measuring window: logins completed, seconds on the clock, and the seconds of
    CPU its replica used in them."""

    logins: int
    seconds: float
    cpu: float

    @property
    def logins_per_s(self) -> float:
        return self.logins / self.seconds

    @property
    def busy(self) -> float:
        """The replica's share of its core."""
        return self.cpu / self.seconds

    @property
    def cpu_per_login(self) -> float:
        return self.cpu / self.logins if self.logins else math.inf


@dataclass(frozen=True)
class Comparison:
    """Round by round, ``this`` over ``baseline``: the replica's CPU a login and logins a second."""

    cpu_ratios: list[float]
    rate_ratios: list[float]

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu_ratios)

    @property
    def rate_median(self) -> float:
        return statistics.median(self.rate_ratios)


def compare_windows(this: Sequence[Window], baseline: Sequence[Window]) -> Comparison:
    """The ratios of the windows of the same round (the lists are round by round, equally long)."""
    if len(this) != len(baseline) or not this:
        raise ValueError(f"windows of the same rounds needed: {len(this)} and {len(baseline)}")
    return Comparison(cpu_ratios=[a.cpu_per_login / b.cpu_per_login for a, b in zip(this, baseline, strict=True)],
                      rate_ratios=[a.logins_per_s / b.logins_per_s for a, b in zip(this, baseline, strict=True)])
