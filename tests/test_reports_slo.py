"""SLO files, their evaluation over windows, failovers and reconciliation, and the exit code."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from gosstand.reports.build import build_report, verdict_exit_code
from gosstand.reports.cli import main as report_main
from gosstand.reports.evaluate import Analysis, evaluate
from gosstand.reports.io import load_run
from gosstand.reports.reconcile import reconcile
from gosstand.reports.slo import SloError, load_slo, parse_slo
from gosstand.reports.synthetic import START, canary_samples, failover, steady_requests, write_run

KILL = failover(at=START + 20, target="fts-1")
INFO = {"started": START, "ended": START + 60}


def outage(start: float = 20.0, end: float = 21.5):
    return lambda offset: start <= offset < end


def results_of(tmp_path: Path, objectives: list[dict], requests: list[dict] | None = None, *,
               failovers=(KILL,), **files) -> dict:
    files.setdefault("info", INFO)
    write_run(tmp_path / "run", requests=requests or steady_requests(failed=outage()), failovers=failovers,
              **files)
    spec = parse_slo({"healthy": {"success_ratio": 0.99}, "objectives": objectives})
    analysis = Analysis(load_run(tmp_path / "run"), spec)
    return {o.name: evaluate(o, analysis) for o in spec.objectives}


def objective(name: str, metric: str, **rest) -> dict:
    return {"name": name, "metric": metric, **rest}


def test_windowed_success_ratio_finds_the_windows_holding_the_outage(tmp_path: Path) -> None:
    results = results_of(tmp_path, [
        objective("every 10 s", "success_ratio", min=0.95, window="10s"),
        objective("whole run", "success_ratio", min=0.95, window="run"),
    ])
    windowed, whole = results["every 10 s"], results["whole run"]
    # windows 12..20 hold all 75 failures (0.85); 11 holds 50 (0.90); 21 holds 25 (0.95, meets)
    assert windowed.status == "fail" and not windowed.passed
    assert windowed.worst == pytest.approx(0.85) and windowed.worst_at == "+12…+22 s"
    assert (windowed.evaluated, windowed.breaching) == (51, 10)
    # the whole run averages the outage away (k6 #2379) — the windowed objective is what catches it
    assert whole.status == "pass" and whole.worst == pytest.approx(1 - 75 / 3000)
    assert windowed.whole_run == pytest.approx(whole.worst)


def test_latency_objective_reads_the_window_percentile(tmp_path: Path) -> None:
    slow = steady_requests(latency=lambda i, offset: 2.5 if 40 <= offset < 41 else 0.02)
    results = results_of(tmp_path, [
        objective("p99", "p99_ms", max=1000, window="10s"),
        objective("p50", "p50_ms", max=1000, window="10s"),
    ], slow)
    assert results["p99"].status == "fail" and results["p99"].breaching == 10
    assert results["p99"].worst == pytest.approx(2500, rel=1e-3)
    assert results["p50"].status == "pass" and results["p50"].worst == pytest.approx(20, rel=1e-3)


def test_selectors_pick_journey_service_and_name_patterns(tmp_path: Path) -> None:
    broken_login = steady_requests(
        service="esia", journey="esia_login", name="esia: ac", failed=lambda offset: True
    )
    results = results_of(tmp_path, [
        objective("declarations", "success_ratio", min=0.9, select={"journey": "declaration"}),
        objective("esia by name", "success_ratio", min=0.9, select={"name": "esia: *"}),
        objective("nothing", "success_ratio", min=0.9, select={"service": "utko"}),
    ], steady_requests() + broken_login)
    assert results["declarations"].passed
    assert results["esia by name"].status == "fail" and results["esia by name"].worst == 0.0
    assert results["nothing"].status == "no_data" and not results["nothing"].passed


def test_empty_windows_are_skipped_not_judged(tmp_path: Path) -> None:
    first_half = [r for r in steady_requests() if r["intended_start"] < START + 30]
    objectives = [objective("ok", "success_ratio", min=0.99)]
    result = results_of(tmp_path, objectives, first_half, failovers=())["ok"]
    assert result.passed and result.evaluated == 30  # windows starting at 0..29 hold requests


def test_ttr_objective_bounds_the_last_affected_end_per_failover(tmp_path: Path) -> None:
    recovering = results_of(tmp_path / "a", [objective("ttr", "ttr_s", max=10)])["ttr"]
    assert recovering.passed and recovering.worst == pytest.approx(1.49)  # the last reset ends at +21.49
    assert recovering.worst_at == "kill fts-1 at +20.0 s"
    never = results_of(tmp_path / "b", [objective("ttr", "ttr_s", max=10)],
                       steady_requests(failed=outage(20, 60)))["ttr"]
    assert never.status == "fail" and never.worst == pytest.approx(59.98 + 0.01 - 20)


def test_recovery_to_slo_objective_per_failover_and_not_recovered_is_a_breach(tmp_path: Path) -> None:
    recovering = results_of(tmp_path / "a", [objective("rec", "recovery_to_slo_s", max=10)])["rec"]
    assert recovering.passed and recovering.worst == pytest.approx(2.0)
    never = results_of(tmp_path / "b", [objective("rec", "recovery_to_slo_s", max=10)],
                       steady_requests(failed=outage(20, 60)))["rec"]
    assert never.status == "fail" and never.worst == float("inf")


def test_a_recovery_the_run_ended_too_soon_to_see_is_not_a_verdict_either_way(tmp_path: Path) -> None:
    """A kill 5 s before the end leaves no 10-s window: "not observable", not "never recovered"."""
    late = failover(entry=2, at=START + 55, target="fts-2")
    results = results_of(tmp_path, [objective("rec", "recovery_to_slo_s", max=10)], failovers=(KILL, late))
    assert results["rec"].status == "no_data" and not results["rec"].passed
    assert "recovery not observable after kill fts-2" in results["rec"].message
    assert "10-s healthy window" in results["rec"].message


def test_ttfe_objective_passes_when_no_client_saw_the_fault(tmp_path: Path) -> None:
    results = results_of(tmp_path, [objective("ttfe", "ttfe_s", min=1.0)], steady_requests())
    assert results["ttfe"].passed and results["ttfe"].worst is None
    assert results["ttfe"].message == "no client saw kill fts-1 at +20.0 s: no error to time"


def test_failover_objectives_do_not_apply_to_a_control_run(tmp_path: Path) -> None:
    result = results_of(tmp_path, [objective("ttr", "ttr_s", max=10)], failovers=())["ttr"]
    assert result.status == "not_applicable" and result.passed


def test_journeys_the_profile_does_not_send_are_not_judged_but_silent_ones_are(tmp_path: Path) -> None:
    """One SLO file for the peak hour and the weighing morning: an objective on a journey the
    run's mix gives no share is not applicable; a journey in the mix that sent nothing fails."""
    objectives = [objective("weighings", "success_ratio", min=0.9, select={"journey": "weight_controls"}),
                  objective("logins", "success_ratio", min=0.9, select={"journey": "esia_login"})]
    write_run(tmp_path / "run", requests=steady_requests(), failovers=(KILL,),
              info={**INFO, "mix": {"declaration": 1, "esia_login": 2, "weight_controls": 0}})
    analysis = Analysis(load_run(tmp_path / "run"), parse_slo({"objectives": objectives}))
    results = {o.name: evaluate(o, analysis) for o in analysis.spec.objectives}
    assert results["weighings"].status == "not_applicable" and results["weighings"].passed
    assert "sends no weight_controls traffic" in results["weighings"].message
    assert results["logins"].status == "no_data" and not results["logins"].passed  # in the mix, silent


def test_failover_objective_selects_failovers_by_service(tmp_path: Path) -> None:
    result = results_of(tmp_path, [objective("esia ttr", "ttr_s", max=1, select={"service": "esia"})])
    assert result["esia ttr"].status == "not_applicable"


def operation(i: int, **rest) -> dict:
    return {"op": f"op{i}", "service": "fts", "senderReference": f"ref{i}", "acked": True, "id": f"D{i}",
            "attempts": 1, "t": START + i, **rest}


def records(*pairs: tuple[str, str]) -> dict:
    return {"service": "fts", "records": [{"id": i, "senderReference": ref} for i, ref in pairs]}


def test_lost_writes_are_acknowledged_ids_absent_from_the_target(tmp_path: Path) -> None:
    write_run(tmp_path, requests=steady_requests(duration=1),
              operations=[operation(1), operation(2), operation(3, id=None),
                          operation(4, acked=False, id=None)],
              records=records(("D1", "ref1"), ("D4", "ref4")))
    run = load_run(tmp_path)
    result = reconcile(run.operations, run.reconciled)
    assert result.lost_writes == 2
    assert {(lost.op, lost.reason) for lost in result.lost} == {
        ("op2", "id absent from the target"), ("op3", "acknowledged without an id"),
    }
    assert result.unacknowledged_applied == 1  # op4 landed though its answer never came back


def test_duplicate_writes_are_one_reference_with_several_records(tmp_path: Path) -> None:
    write_run(tmp_path, requests=steady_requests(duration=1), operations=[operation(1), operation(2)],
              records=records(("D1", "ref1"), ("D2", "ref2"), ("D9", "ref2")))
    run = load_run(tmp_path)
    result = reconcile(run.operations, run.reconciled)
    assert result.lost_writes == 0 and result.duplicate_writes == 1
    assert result.duplicates[0].ids == ["D2", "D9"] and result.duplicates[0].ops == ["op2"]


def test_several_services_are_reconciled_each_against_its_own_records(tmp_path: Path) -> None:
    """Declarations and weight controls in one run: a reference or id shared by the two services
    is neither a duplicate nor a proof that a write survived."""
    weighing = {"service": "utko", "acked": True, "attempts": 1, "t": START}
    write_run(tmp_path, requests=steady_requests(duration=1),
              operations=[operation(1), {**weighing, "op": "WC-1", "id": "WC-1", "senderReference": "WC-1"},
                          {**weighing, "op": "WC-2", "id": "WC-2", "senderReference": "WC-2"},
                          {**weighing, "op": "D1", "id": "D1", "senderReference": "ref1"}],
              records={"services": ["fts", "utko"], "records": [
                  {"service": "fts", "id": "D1", "senderReference": "ref1"},
                  {"service": "fts", "id": "WC-2", "senderReference": "WC-2"},
                  {"service": "utko", "id": "WC-1", "senderReference": "WC-1"},
                  {"service": "utko", "id": "WC-1", "senderReference": "WC-1"},
              ]})
    run = load_run(tmp_path)
    assert run.reconciled is not None and run.reconciled.services == ("fts", "utko")
    result = reconcile(run.operations, run.reconciled)
    assert {lost.op for lost in result.lost} == {"WC-2", "D1"}  # held only under fts / only an fts id
    assert [(d.sender_reference, d.ids) for d in result.duplicates] == [("utko:WC-1", ["WC-1", "WC-1"])]


def test_reconciliation_objectives_and_missing_records(tmp_path: Path) -> None:
    objectives = [objective("lost", "lost_writes", max=0), objective("dup", "duplicate_writes", max=0)]
    clean = results_of(tmp_path / "a", objectives, operations=[operation(1)], records=records(("D1", "ref1")))
    assert clean["lost"].passed and clean["dup"].passed and clean["lost"].worst == 0
    lost = results_of(tmp_path / "b", objectives, operations=[operation(1)], records=records())
    assert lost["lost"].status == "fail" and lost["lost"].worst == 1
    unreconciled = results_of(tmp_path / "c", objectives, operations=[operation(1)])
    assert unreconciled["lost"].status == "no_data" and not unreconciled["lost"].passed


def test_retry_amplification_from_operations_and_optional_no_data(tmp_path: Path) -> None:
    ops = [operation(1, attempts=1), operation(2, attempts=2), operation(3, attempts=3)]
    amplified = results_of(tmp_path / "a", [objective("ra", "retry_amplification", max=1.5)], operations=ops)
    assert amplified["ra"].worst == pytest.approx(2.0) and amplified["ra"].status == "fail"
    none = results_of(tmp_path / "b", [objective("ra", "retry_amplification", max=1.5, optional=True)])
    assert none["ra"].status == "no_data" and none["ra"].passed


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"objectives": [{"metric": "nope", "max": 1}]}, "unknown metric"),
        ({"objectives": [{"metric": "success_ratio", "max": 0.9}]}, "give `min`"),
        ({"objectives": [{"metric": "ttr_s"}]}, "needs a `max`"),
        ({"objectives": [{"metric": "ttr_s", "max": 5, "window": "10s"}]}, "takes no window"),
        ({"objectives": [{"metric": "p99_ms", "max": 5, "window": "1.5s"}]}, "whole number"),
        ({"objectives": [{"metric": "p99_ms", "max": 5, "select": {"host": "x"}}]}, "unknown selector"),
        ({"healthy": {"success_ratio": 1.5}}, "between 0 and 1"),
        ({"error_budget": {"objective": 1}}, "below 1"),
        ({"window": "ten"}, "duration"),
        ({"objectives": [{"metric": "ttr_s", "max": 5}, {"metric": "ttr_s", "max": 6}]}, "unique"),
        ({"slow_ms": -1, "objectives": []}, "slow_ms: expected milliseconds above 0"),
        ({"slowms": 500, "objectives": []}, r"unknown key\(s\) \['slowms'\]"),
        ({"objectives": [{"metric": "canary_outage_s", "max": 2, "select": {"journey": "declaration"}}]},
         "canary's own requests"),
    ],
)
def test_malformed_slo_files_are_rejected_with_the_entry_named(raw: dict, message: str) -> None:
    with pytest.raises(SloError, match=message):
        parse_slo(raw)


def test_the_shipped_default_slo_parses_and_states_its_windows() -> None:
    spec = load_slo()
    assert spec.healthy.window == 10 and spec.healthy.success_ratio == 0.99
    by_name = {o.name: o for o in spec.objectives}
    assert by_name["Declaration success, every 10 s"].window == 10
    assert by_name["Declaration success, whole run"].describe_window() == "whole run"
    assert by_name["Time to recover after each failover"].threshold == 10
    assert by_name["Time to recover after each failover"].metric.name == "ttr_s"
    assert by_name["Recovery to SLO after each failover"].metric.name == "recovery_to_slo_s"
    assert {o.metric.name for o in spec.objectives} >= {"lost_writes", "duplicate_writes", "ttr_s"}


def test_default_slo_allows_a_short_failover_blip_but_not_an_outage(tmp_path: Path) -> None:
    def run(name: str, failed) -> int:
        fts = steady_requests(failed=failed, rate=20, op=lambda i: f"op{i}")
        esia = steady_requests(service="esia", journey="esia_login", replicas=("esia-1", "esia-2"), rate=20)
        ops = [operation(i) for i in range(5)]
        write_run(tmp_path / name, requests={"fts": fts, "esia": esia}, failovers=[KILL], info=INFO,
                  operations=ops, records=records(*((f"D{i}", f"ref{i}") for i in range(5))))
        return verdict_exit_code(build_report(tmp_path / name))

    assert run("blip", outage(20.0, 20.2)) == 0  # 4 resets of 200 requests in a window: 0.98
    assert run("outage", outage(20.0, 25.0)) == 1


def test_custom_slo_file_and_exit_code(tmp_path: Path) -> None:
    write_run(tmp_path / "run", requests=steady_requests(failed=outage()), failovers=[KILL], info=INFO)
    strict = tmp_path / "strict.yaml"
    strict.write_text(yaml.safe_dump({"objectives": [{"metric": "success_ratio", "min": 0.99}]}))
    lenient = tmp_path / "lenient.yaml"
    lenient.write_text(yaml.safe_dump({"objectives": [{"metric": "success_ratio", "min": 0.8}]}))
    failed = build_report(tmp_path / "run", slo_path=strict, output_dir=tmp_path / "strict")
    passed = build_report(tmp_path / "run", slo_path=lenient, output_dir=tmp_path / "lenient")
    assert (failed.passed, verdict_exit_code(failed), len(failed.breaches)) == (False, 1, 1)
    assert (passed.passed, verdict_exit_code(passed), passed.breaches) == (True, 0, [])


def canary_down(start: float, end: float):
    """A canary whose samples sent in ``[start, end)`` s time out."""
    return lambda offset: "timeout" if start <= offset < end else None


def quiet_load_noisy_canary(run_dir: Path, canary_outage: tuple[float, float]) -> Path:
    """A run the default SLO passes on the load's records alone: the kill of fts-1 at +20 s costs
    the load one reset; the canary's samples time out over ``canary_outage``."""
    fts = steady_requests(failed=lambda offset: 20.0 <= offset < 20.05, rate=20, op=lambda i: f"op{i}")
    esia = steady_requests(service="esia", journey="esia_login", replicas=("esia-1", "esia-2"), rate=20)
    return write_run(run_dir, requests={"fts": fts, "esia": esia}, failovers=[KILL], info=INFO,
                     operations=[operation(i) for i in range(5)],
                     records=records(*((f"D{i}", f"ref{i}") for i in range(5))),
                     canary={"fts": canary_samples(service="fts", failed=canary_down(*canary_outage))})


def test_a_canary_outage_fails_the_default_slo_when_the_load_barely_met_it(tmp_path: Path, capsys) -> None:
    """The load met the kill once; the canary, probing every 5 ms, saw the service down for 4 s —
    a balancer still sending clients to the dead replica. Before the canary was an SLO metric
    this run passed. A 0.3-s blip (60 of the episode's 2,000 samples) passes."""
    blip = quiet_load_noisy_canary(tmp_path / "blip", (20.0, 20.3))
    assert report_main([str(blip)]) == 0
    outage = quiet_load_noisy_canary(tmp_path / "outage", (20.0, 24.0))
    assert report_main([str(outage)]) == 1
    printed = capsys.readouterr().out
    # the episode is the fault's 10 s (the load's windows were healthy at once): 800 of 2,000 failed
    assert ("✗ Canary availability during each failover: worst 0.6000 (kill fts-1 at +20.0 s), threshold ≥ 0.95"
            in printed)
    assert printed.count("✗") == 1  # the load's objectives all met


def test_each_services_canary_is_judged_on_its_own(tmp_path: Path) -> None:
    """A healthy ESIA canary beside FTS's does not dilute FTS's outage into a pass."""
    canaries = {"fts": canary_samples(service="fts", failed=canary_down(20.0, 21.0)),
                "esia": canary_samples(service="esia")}
    results = results_of(tmp_path, [objective("canary", "canary_success_ratio", min=0.95, window="10s")],
                         canary=canaries)
    assert results["canary"].status == "fail" and results["canary"].worst == pytest.approx(0.9)
    assert results["canary"].worst_at.startswith("fts canary")
    assert results["canary"].whole_run == pytest.approx(1 - 200 / 12000)


def test_canary_objectives_are_not_judged_without_a_canary_and_fail_when_one_recorded_nothing(
        tmp_path: Path) -> None:
    bounds = [objective("outage", "canary_outage_s", max=2),
              objective("availability", "canary_availability", min=0.95),
              objective("ratio", "canary_success_ratio", min=0.95, window="10s")]
    none = results_of(tmp_path / "none", bounds)
    assert {result.status for result in none.values()} == {"not_applicable"}
    assert "kept no canary" in none["outage"].message
    # run.json says an fts canary ran, yet it recorded no sample: no evidence, which fails
    silent = results_of(tmp_path / "silent", bounds, info={**INFO, "canary": {"fts": {"rate": 200}}})
    assert {result.status for result in silent.values()} == {"no_data"}
    assert not any(result.passed for result in silent.values())


def test_canary_outage_per_failover_is_the_canarys_outage_window(tmp_path: Path) -> None:
    bound = [objective("canary", "canary_outage_s", max=2)]
    seen = results_of(tmp_path / "seen", bound,
                      canary={"fts": canary_samples(service="fts", failed=canary_down(20.0, 20.5))})
    assert seen["canary"].status == "pass" and seen["canary"].worst == pytest.approx(0.497)
    long = results_of(tmp_path / "long", bound,
                      canary={"fts": canary_samples(service="fts", failed=canary_down(20.0, 23.0))})
    assert long["canary"].status == "fail" and long["canary"].worst == pytest.approx(2.997)
