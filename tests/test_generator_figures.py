"""The generator measured too: a Locust process's meter counts late starts and CPU per second,
the report turns the samples into offered against achieved rate, and a generator that could not
keep up makes the run BROKEN (exit 2) with the reason — its latencies measure itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gosstand.loadtests.generator import GeneratorMeter, Totals
from gosstand.loadtests.live import LiveView, next_failover
from gosstand.loadtests.schedule import ScheduledAction
from gosstand.reports.build import build_report, verdict_exit_code
from gosstand.reports.generator import GeneratorFigures
from gosstand.reports.synthetic import START, steady_requests, write_run
from gosstand.stand.records import GeneratorSample


class Clock:
    def __init__(self) -> None:
        self.now = START
        self.cpu = 0.0
        self.waited = 10.0

    def __call__(self) -> float:
        return self.now


def test_the_meter_counts_late_starts_cpu_and_waits_for_a_free_user_per_interval():
    clock = Clock()
    meter = GeneratorMeter(role="local", open_model=True, late_after_s=0.010, clock=clock, cpu=lambda: clock.cpu,
                           cpu_wait=lambda: clock.waited)
    meter.start()
    clock.now = START + 0.5
    before = meter.sample()  # the load began, the timetable not yet: nothing offered, and said so
    assert (before.offered, before.started, before.late) == (0, 0, 0)
    due = {"n": 0}
    meter.offered = lambda: due["n"]
    clock.now, clock.cpu, due["n"] = START + 1.5, 0.25, 4
    for lag in (0.0, 0.010, 0.0101, 0.5):  # exactly the tolerance is on time
        meter.journey_started(lag)
    meter.journey_ended()
    meter.on_request(context={"journey": "esia_login"})
    meter.on_request(context={"record": False})  # the harness's own call is not the target's traffic
    meter.on_request(context={}, exception=TimeoutError())
    first = meter.sample()
    assert (first.offered, first.started, first.late, first.in_flight) == (4, 4, 2, 3)
    assert first.cpu == pytest.approx(0.25) and first.lag_max_s == pytest.approx(0.5)
    assert (first.requests, first.failures, first.pool_full_s) == (2, 1, 0.0)
    meter.pool_full(True)
    clock.now, due["n"] = START + 2.0, 6
    meter.pool_full(False)
    clock.now, clock.cpu, clock.waited = START + 2.5, 1.2, 10.3
    second = meter.sample()
    assert (second.offered, second.started, second.late, second.lag_max_s) == (2, 0, 0, None)
    assert first.cpu_wait_s == 0 and second.cpu_wait_s == pytest.approx(0.3)
    assert second.pool_full_s == pytest.approx(0.5) and second.cpu == pytest.approx(0.95)
    assert GeneratorSample.from_json(json.loads(json.dumps(second.to_json()))) == second
    closed = GeneratorMeter(role="local", clock=clock, cpu=lambda: clock.cpu, cpu_wait=lambda: None).sample()
    assert (closed.offered, closed.late, closed.cpu_wait_s) == (None, None, None)


def sample(second: int, *, pid: int = 1, offered: int | None = 10, started: int = 10, late: int = 0,
           cpu: float = 0.2, role: str = "local", pool_full_s: float = 0.0, pool: int = 4,
           cpu_wait_s: float = 0.01) -> GeneratorSample:
    return GeneratorSample(pid=pid, role=role, at=START + second + 1, interval_s=1.0, cpu=cpu, cpu_wait_s=cpu_wait_s,
                           offered=offered,
                           started=started, late=None if offered is None else late, lag_max_s=0.002,
                           pool_full_s=None if offered is None else pool_full_s, pool=pool, pool_max=20,
                           requests=5 * started)


def test_a_generator_that_kept_up_is_not_saturated_and_its_rates_agree():
    figures = GeneratorFigures.of([sample(k, late=1 if k == 3 else 0) for k in range(20)]
                                  + [sample(k, pid=9, role="master", offered=None, started=0, cpu=0.05)
                                     for k in range(20)])
    assert not figures.saturated and figures.model == "open"
    assert (figures.offered, figures.started, figures.late, figures.missed) == (200, 200, 1, 0)
    assert figures.late_share == pytest.approx(0.005)
    assert figures.offered_rate == pytest.approx(10) and figures.achieved_rate == pytest.approx(10)
    over_the_run = GeneratorFigures.of([sample(k) for k in range(20)], duration_s=25)  # what run.json says
    assert over_the_run.offered_rate == pytest.approx(8) and over_the_run.achieved_rate == pytest.approx(8)
    assert figures.timeline["offered"] == [10] * 20 and figures.timeline["started"] == [10] * 20
    assert [p.role for p in figures.processes] == ["master", "local"]


def test_more_than_one_percent_late_or_never_started_is_saturation_naming_the_cause():
    # every virtual user busy: arrivals waited, and the last ones never started
    pooled = GeneratorFigures.of([sample(k, started=8, late=3, pool_full_s=0.6) for k in range(10)])
    assert pooled.saturated and (pooled.late, pooled.missed) == (30, 20)
    assert pooled.late_share == pytest.approx(0.5)
    assert "50 of 100 journeys" in pooled.reasons[0] and "raise --max-users" in pooled.reasons[0]
    # a busy process: late without waiting for a user
    busy = GeneratorFigures.of([sample(k, late=2 if k % 2 else 0, cpu=0.8 if k % 2 else 0.2) for k in range(10)])
    assert busy.saturated and "Locust used 80% of a core (add --processes" in busy.reasons[0]
    # late with its own CPU low, because the machine gave the loop no core: said so
    starved = GeneratorFigures.of([sample(k, late=2 if k % 2 else 0, cpu=0.1, cpu_wait_s=0.6 if k % 2 else 0.0)
                                   for k in range(10)])
    assert "Locust waited for a CPU 60% of the time, its own CPU at 10% of a core" in starved.reasons[0]
    both = GeneratorFigures.of([sample(k, late=2, cpu=0.1, cpu_wait_s=0.6, pool_full_s=0.5) for k in range(10)])
    assert "raise --max-users" in both.reasons[0] and "a quieter machine" in both.reasons[0]


def test_a_process_pegged_for_three_seconds_in_a_row_is_saturation_two_are_not():
    cpus = [0.3, 0.95, 0.97, 0.4, 0.92, 0.99, 0.91, 0.2]
    figures = GeneratorFigures.of([sample(k, cpu=cpu) for k, cpu in enumerate(cpus)])
    assert figures.saturated and figures.processes[0].pegged_s == 3
    assert "used 90% or more of a core for 3 s in a row" in figures.reasons[0]
    assert not GeneratorFigures.of([sample(k, cpu=cpu) for k, cpu in enumerate(cpus[:4])]).saturated
    # the closed model has no timetable: only its CPU is judged
    closed = GeneratorFigures.of([sample(k, offered=None) for k in range(5)])
    assert closed.model == "closed" and closed.late_share is None and not closed.saturated


def test_workers_on_two_hosts_with_one_pid_are_two_processes():
    """Workers in containers on two hosts are often both pid 1: their index tells them apart, so
    neither's CPU, users or pool hides behind the other's."""
    def worker(second: int, index: int, cpu: float) -> GeneratorSample:
        return GeneratorSample(pid=1, role="worker", worker_index=index, at=START + second + 1, interval_s=1.0,
                               cpu=cpu, offered=None, started=2, pool=3, requests=10)

    figures = GeneratorFigures.of([worker(k, index, cpu) for k in range(5) for index, cpu in ((0, 0.2), (1, 0.95))])
    assert [(p.worker_index, p.started) for p in figures.processes] == [(0, 10), (1, 10)]
    assert figures.users_peak == 6 and figures.saturated  # worker 1 alone sat at a core for 5 s


def _run_dir(tmp_path: Path, samples: list[GeneratorSample]) -> Path:
    run_dir = write_run(tmp_path / "run", requests=steady_requests(duration=20, rate=10),
                        operations=[], records={"service": "fts", "records": []},
                        info={"started": START, "ended": START + 20, "title": "open model", "mix": {"declaration": 1}})
    for pid in {s.pid for s in samples}:
        (run_dir / f"generator-{pid}.jsonl").write_text(
            "".join(json.dumps(s.to_json()) + "\n" for s in samples if s.pid == pid))
    return run_dir


def test_a_saturated_generator_makes_the_run_broken_in_every_output(tmp_path: Path):
    result = build_report(_run_dir(tmp_path, [sample(k, started=5, late=5, pool_full_s=1.0) for k in range(20)]))
    assert result.verdict == "BROKEN" and verdict_exit_code(result) == 2
    assert any(reason.startswith("the generator saturated: ") for reason in result.broken)
    summary = json.loads(result.summary.read_text())
    assert summary["generator"]["saturated"] and summary["generator"]["offered"] == 200
    assert summary["verdict"]["broken"] == result.broken
    html = result.html.read_text()
    assert 'id="generator-saturated"' in html and "raise --max-users" in html


def test_a_generator_that_kept_up_leaves_the_verdict_to_the_slo(tmp_path: Path):
    result = build_report(_run_dir(tmp_path, [sample(k) for k in range(20)]))
    assert result.verdict == "PASS" and not result.broken
    summary = json.loads(result.summary.read_text())
    assert summary["generator"]["measured"] and not summary["generator"]["saturated"]
    assert 'id="generator-table"' in result.html.read_text()


def test_the_live_line_sums_the_processes_and_names_the_next_failover():
    schedule = [ScheduledAction(entry=1, at=20, action="kill", service="fts", replica=1),
                ScheduledAction(entry=2, at=30, action="pause", service="esia", replica=2, duration=5)]
    view = LiveView(schedule=schedule, duration_s=60, started_at=START)

    def totals(at: float, started: int, late: int) -> Totals:
        return Totals(at=START + at, offered=started, started=started, late=late, in_flight=2, pool=5,
                      pool_full_s=0.0, requests=started * 4, failures=1, cpu_s=at / 4, cpu_wait_s=at / 10)

    view.line(5, {"w1": totals(5, 50, 0), "w2": totals(5, 50, 1)}, p95_ms=40)
    line = view.line(10, {"w1": totals(10, 100, 0), "w2": totals(10, 100, 1)}, p95_ms=42.4)
    assert line.startswith("[live]") and "10/60 s" in line
    assert "offered 20.0/s" in line and "started 20.0/s" in line and "late 1 (0.5%)" in line
    assert "80 req/s" in line and "failures 2" in line and "p95 42 ms" in line and "cpu 25% (waited 10%)" in line
    assert "next kill fts-1 in 10 s" in line and "users 10 (4 busy)" in line
    assert next_failover(schedule, 31) == "now pause esia-2 (4 s left)"
    assert next_failover(schedule, 40) == "no failover left" and next_failover([], 1) == "no failover"
