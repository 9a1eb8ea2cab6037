"""Failover figures and the timeline, on synthetic runs whose answers are known by hand.

The reference run: 60 s at 50 req/s on fts (request i intended at start + i/50), a kill of
fts-1 at t = 20 s and every request intended in [20.0, 21.5) failing (75 resets), 5 ms each.
Its SLO sets no latency bound, so only failed requests are affected.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from gosstand.reports.evaluate import Analysis
from gosstand.reports.io import load_run
from gosstand.reports.selectors import Selector
from gosstand.reports.slo import parse_slo
from gosstand.reports.synthetic import START, failover, steady_requests, write_run
from gosstand.reports.timeline import Grid
from gosstand.reports.windows import window_starts

KILL = failover(at=START + 20, target="fts-1")
INFO = {"started": START, "ended": START + 60}


def slo(success_ratio: float = 0.99, **healthy: float) -> dict:
    return {
        "window": "10s", "baseline": "10s",
        "healthy": {"window": "10s", "success_ratio": success_ratio, **healthy},
        "error_budget": {"objective": 0.999, "period": "30d"},
        "objectives": [],
    }


def analyse(tmp_path: Path, requests: list[dict], *, failovers=(KILL,), spec: dict | None = None,
            **files) -> Analysis:
    write_run(tmp_path / "run", requests=requests, failovers=failovers, info=INFO, **files)
    return Analysis(load_run(tmp_path / "run"), parse_slo(spec or slo()))


def outage(start: float = 20.0, end: float = 21.5):
    return lambda offset: start <= offset < end


@pytest.fixture
def reference(tmp_path: Path) -> Analysis:
    return analyse(tmp_path, steady_requests(failed=outage(), latency=lambda i, o: 0.005))


def test_time_to_first_error_is_first_affected_end_after_the_fault(reference: Analysis) -> None:
    physical = reference.failover_table()[0].physical
    assert physical.ttfe_s == pytest.approx(0.005, abs=1e-6)


def test_outage_window_spans_first_affected_start_to_last_affected_end(reference: Analysis) -> None:
    physical = reference.failover_table()[0].physical
    # the first failure is intended at 20.0 (the fault), the last at 21.48 (request 1074), ending 5 ms later
    assert physical.outage_start == pytest.approx(START + 20.0)
    assert physical.outage_s == pytest.approx(21.485 - 20.0, abs=1e-6)
    assert physical.affected == 75 and physical.by_class["reset"] == 75
    assert physical.by_connection == {"new": 38, "reused": 37, "unknown": 0}


def test_time_to_recover_is_the_last_affected_end(reference: Analysis) -> None:
    figures = reference.failover_table()[0]
    assert figures.physical.ttr_s == pytest.approx(1.485, abs=1e-6)
    assert figures.failures == 75


def test_recovery_to_slo_is_start_of_first_window_from_which_every_window_is_healthy(reference: Analysis) -> None:
    # windows [20,30) holds 75 failures of 500, [21,31) 25: both below 0.99; [22,32) on are clean
    figures = reference.failover_table()[0]
    assert figures.recovered
    assert figures.recovery_to_slo_s == pytest.approx(2.0)
    assert figures.window == 10


def test_recovery_to_slo_depends_on_the_healthy_ratio(tmp_path: Path) -> None:
    # at 0.95 the window [21,31) with 25 failures of 500 (0.95 exactly) is already healthy
    analysis = analyse(tmp_path, steady_requests(failed=outage()), spec=slo(0.95))
    assert analysis.failover_table()[0].recovery_to_slo_s == pytest.approx(1.0)


def test_recovery_to_slo_waits_for_latency_to_recover_too(tmp_path: Path) -> None:
    # 3 s answers for everything intended in [30, 31): every window holding that second has p99 = 3 s
    slow = steady_requests(failed=outage(), latency=lambda i, offset: 3.0 if 30 <= offset < 31 else 0.01)
    analysis = analyse(tmp_path, slow, spec=slo(0.99, p99_ms=1000))
    figures = analysis.failover_table()[0]
    assert figures.recovery_to_slo_s == pytest.approx(11.0)
    # and the slow second is inside the episode, so clients saw the fault until its last slow answer
    assert figures.physical.by_class["slow"] == 50
    assert figures.physical.ttr_s == pytest.approx(30.98 + 3.0 - 20.0)


def test_never_recovering_gives_no_recovery_and_an_episode_to_the_end(tmp_path: Path) -> None:
    analysis = analyse(tmp_path, steady_requests(failed=outage(20.0, 60.0)))
    figures = analysis.failover_table()[0]
    assert not figures.recovered and figures.recovery_to_slo_s is None
    assert figures.episode_end == pytest.approx(START + 60)
    assert figures.availability == 0.0


def test_an_episode_stops_at_the_next_fault_on_the_same_service(tmp_path: Path) -> None:
    # failures until 35 s, a second kill at 38 s: the first episode's last complete window starts
    # at 28, so it cannot have recovered before the second fault
    second = failover(entry=2, at=START + 38, target="fts-2")
    analysis = analyse(tmp_path, steady_requests(failed=outage(20.0, 35.0)), failovers=(KILL, second))
    first, later = analysis.failover_table()
    assert first.horizon == pytest.approx(START + 38) and not first.recovered
    assert not later.physical.seen and later.recovery_to_slo_s == pytest.approx(0.0)
    assert later.baseline_start == pytest.approx(first.episode_end)


def test_availability_request_and_time_based_over_the_episode(reference: Analysis) -> None:
    figures = reference.failover_table()[0]
    # episode [20, 32): 600 requests, 75 failed; seconds 20 and 21 miss the SLO, 22..31 meet it
    assert (figures.episode_start, figures.episode_end) == pytest.approx((START + 20, START + 32))
    assert figures.requests == 600
    assert figures.availability == pytest.approx(525 / 600)
    assert (figures.buckets_meeting, figures.buckets_evaluated) == (10, 12)
    assert figures.time_availability == pytest.approx(10 / 12)


def test_goodput_dip_against_the_ten_seconds_before_the_fault(reference: Analysis) -> None:
    figures = reference.failover_table()[0]
    assert figures.baseline_start == pytest.approx(START + 10)
    assert figures.baseline_goodput == pytest.approx(50.0)
    assert figures.episode_goodput == pytest.approx(525 / 12)
    assert figures.goodput_dip == pytest.approx(1 - (525 / 12) / 50)


def test_error_budget_burned_for_the_stated_slo_period(reference: Analysis) -> None:
    figures = reference.failover_table()[0]
    allowed = 0.001 * 50 * 30 * 86400  # 129,600 failures allowed in 30 days at 50 req/s
    assert figures.budget_rate == pytest.approx(50.0)
    assert figures.budget_allowed_failures == pytest.approx(allowed)
    assert figures.budget_burned == pytest.approx(75 / allowed)


def test_retry_amplification_counts_every_attempt_of_operations_begun_in_the_episode(tmp_path: Path) -> None:
    # every request carries an op; those intended in the outage share an op with the next request
    def op(i: int) -> str:
        return f"retry{i // 2}" if 1000 <= i < 1075 else f"op{i}"

    analysis = analyse(tmp_path, steady_requests(failed=outage(), op=op))
    figures = analysis.failover_table()[0]
    # episode [20, 32) = requests 1000..1599: 75 in 38 shared ops, then 525 single ones
    assert figures.attempts == 600
    assert figures.operations == 38 + 525
    assert figures.retry_amplification == pytest.approx(600 / 563)


def test_no_affected_request_means_no_client_saw_it(tmp_path: Path) -> None:
    figures = analyse(tmp_path, steady_requests()).failover_table()[0]
    physical = figures.physical
    assert not physical.seen and physical.requests > 0
    assert (physical.ttfe_s, physical.outage_s, physical.ttr_s) == (0.0, 0.0, 0.0)
    assert figures.recovery_to_slo_s == 0.0 and figures.availability == 1.0


def test_per_failover_figures_only_count_the_faulted_service(tmp_path: Path) -> None:
    esia = steady_requests(service="esia", journey="esia_login", failed=lambda offset: True)
    analysis = analyse(tmp_path, steady_requests() + esia)
    assert analysis.failover_table()[0].failures == 0


def test_bucket_of_a_whole_second_is_that_second() -> None:
    grid = Grid(origin=START, buckets=60)
    assert grid.index(START + 20 * 0.02 * 50) == 20  # 20.000000000000004 or 19.99999 in floats
    assert grid.index(START + 1000 / 50) == 20
    assert grid.first_at_or_after(START + 20.3) == 21 and grid.first_at_or_after(START + 20) == 20


def test_per_second_percentiles_match_the_sorted_sample(tmp_path: Path) -> None:
    def latency(i: int, offset: float) -> float:
        return ((i * 7919) % 997 + 1) / 1000  # 1..997 ms, scrambled

    requests = steady_requests(latency=latency, failed=outage())
    series = analyse(tmp_path, requests).series(Selector())
    per_bucket = series.per_bucket([50.0, 95.0, 99.0])
    for k in (0, 20, 37):
        sample = sorted(r["ended"] - r["intended_start"] for r in requests if k <= r["intended_start"] - START < k + 1)
        for p in (50.0, 95.0, 99.0):
            rank = max(1, round(p / 100 * len(sample)))
            assert per_bucket[p][k] == pytest.approx(sample[rank - 1] * 1000, rel=1e-3)
    assert series.total[20] == 50 and series.failed[20] == 50 and series.failed[21] == 25


def test_window_percentile_is_of_the_merged_sample_not_an_average(tmp_path: Path) -> None:
    # second 0 is fast, second 1 slow: the p99 over both is a slow answer, not their mean
    requests = steady_requests(duration=2, latency=lambda i, offset: 0.001 if offset < 1 else 1.0)
    series = analyse(tmp_path, requests, failovers=()).series(Selector())
    assert series.percentile_ms(0, 2, 99.0) == pytest.approx(1000, rel=1e-3)
    assert series.percentile_ms(0, 2, 50.0) == pytest.approx(1, rel=1e-2)


def test_sliding_windows_are_complete_and_step_by_one_second() -> None:
    assert list(window_starts(60, 10)) == list(range(51))
    assert list(window_starts(5, 10)) == [0]  # a short run is judged as one window
    assert list(window_starts(60, 10, lo=55)) == [55]
    assert list(window_starts(0, 10)) == []


def test_replica_counts_per_service(tmp_path: Path) -> None:
    from gosstand.reports.timeline import replica_counts

    analysis = analyse(tmp_path, steady_requests(failed=outage()))
    counts = replica_counts(analysis.grid, analysis.run.requests, key=lambda r: r.service)
    assert set(counts["fts"]) == {"fts-1", "fts-2", "none"}
    assert counts["fts"]["none"][20] == 50 and counts["fts"]["fts-1"][20] == 0
    assert counts["fts"]["fts-1"][10] + counts["fts"]["fts-2"][10] == 50


def test_vectorised_recording_matches_hdrhistogram() -> None:
    import random

    import numpy as np
    from gosstand.reports.timeline import histogram_counts, new_histogram

    rng = random.Random(7)
    values = [0, 1, 2047, 2048, 3_600_000_000] + [int(rng.lognormvariate(9, 2.5)) % 3_600_000_000 for _ in range(5000)]
    reference = new_histogram()
    for value in values:
        reference.record_value(value)
    assert np.array_equal(histogram_counts(values), np.ctypeslib.as_array(reference.counts))
