"""The window plan and ratios of ``benchmarks/login_rate.py --baseline`` (``benchmarks/interleave.py``):
each round loads every stack once, the order flips every other round so neither checkout always goes
second on a machine that speeds up or slows down, and a round's ratio compares only that round's two
windows. The measurement itself runs in the benchmark, not here."""

from __future__ import annotations

import math
from collections.abc import Iterator
from types import ModuleType

import pytest
from benchmark_modules import benchmark_module


@pytest.fixture(scope="module")
def interleave() -> Iterator[ModuleType]:
    with benchmark_module("interleave") as module:
        yield module


def test_each_round_loads_every_stack_once_in_alternating_order(interleave: ModuleType) -> None:
    order = interleave.window_order(["baseline", "this"], 4)
    assert order == [(0, "baseline"), (0, "this"), (1, "this"), (1, "baseline"),
                     (2, "baseline"), (2, "this"), (3, "this"), (3, "baseline")]


def test_ratios_compare_the_windows_of_one_round(interleave: ModuleType) -> None:
    window = interleave.Window
    baseline = [window(logins=200, seconds=2.0, cpu=1.0), window(logins=100, seconds=2.0, cpu=1.0),
                window(logins=150, seconds=2.0, cpu=1.5)]
    # the machine halves its speed in round 2: each round, this checkout is 10 % cheaper a login
    this = [window(logins=220, seconds=2.0, cpu=1.0), window(logins=110, seconds=2.0, cpu=1.0),
            window(logins=150, seconds=2.0, cpu=1.35)]
    comparison = interleave.compare_windows(this, baseline)
    assert comparison.cpu_ratios == pytest.approx([1 / 1.1, 1 / 1.1, 0.9])
    assert comparison.rate_ratios == pytest.approx([1.1, 1.1, 1.0])
    assert comparison.cpu_median == pytest.approx(1 / 1.1)
    assert comparison.rate_median == pytest.approx(1.1)
    assert this[0].busy == pytest.approx(0.5) and this[0].logins_per_s == pytest.approx(110)


def test_a_window_without_logins_has_no_finite_cost(interleave: ModuleType) -> None:
    assert math.isinf(interleave.Window(logins=0, seconds=3.0, cpu=2.9).cpu_per_login)


def test_rounds_must_match(interleave: ModuleType) -> None:
    window = interleave.Window(logins=1, seconds=1.0, cpu=0.01)
    with pytest.raises(ValueError, match="same rounds"):
        interleave.compare_windows([window, window], [window])
