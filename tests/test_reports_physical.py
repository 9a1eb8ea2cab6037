"""What clients saw of a failover, and the report around it — the cases of issue 11, on synthetic
runs whose answers are known by hand.

Each test is one thing an SRE was told wrong before: a kill no load user met reported as a
recovery of 0.598 s; a paused replica's hangs counted as successes; one fault with a TTR of
2.599 s in one table and 1.599 s in the other; an outage of 0.001 s that clients sat through for
1.4 s, "recovered" before its first error.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from gosstand.reports.build import build_report
from gosstand.reports.synthetic import START, canary_samples, failover, steady_requests, write_run

INFO = {"started": START, "ended": START + 60}


def exactly(value: float) -> Any:
    """Equal to the microsecond: epoch floats hold no finer, and the figures claim no less."""
    return pytest.approx(value, abs=1e-6)


def slo_file(directory: Path, *, objectives: str = "", healthy: str = "{window: 10s, success_ratio: 0.99}",
             extra: str = "") -> Path:
    path = directory / "slo.yaml"
    path.write_text(f"healthy: {healthy}\n{extra}objectives:\n{objectives or '  - {metric: ttr_s, max: 10}'}\n")
    return path


def report(tmp_path: Path, *, slo: Path | None = None, **files: Any) -> tuple[dict, str]:
    files.setdefault("info", INFO)
    write_run(tmp_path / "run", **files)
    result = build_report(tmp_path / "run", slo_path=slo or slo_file(tmp_path))
    return json.loads(result.summary.read_text()), result.html.read_text()


def table(html: str, table_id: str) -> str:
    """The text of one table of the report, tags stripped."""
    match = re.search(rf'<table id="{table_id}"[^>]*>(.*?)</table>', html, re.S)
    assert match, f"no table {table_id}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def test_a_kill_no_load_request_met_is_no_client_saw_it_and_the_canary_saw_its_reset(tmp_path: Path) -> None:
    """Seen: SIGKILL of esia-1, a probe saw one reset 2 ms after; the report said TTFE "no error",
    TTR 0.598 s (the distance to the next one-second bucket)."""
    kill = failover(service="esia", target="esia-1", at=START + 20.402)
    probe = canary_samples(service="esia", failed=lambda offset: "reset" if offset == 20.4 else None,
                           latency=lambda offset: 0.004)  # the sample sent at +20.400 is reset at +20.404
    summary, html = report(tmp_path, requests=steady_requests(service="esia", journey="esia_login"),
                           failovers=[kill], canary={"esia": probe})
    (figures,) = summary["failovers"]
    load, canary = figures["physical"], figures["canary"]
    assert load["requests"] > 0 and load["seen"] is False and load["affected"] == 0
    assert (load["ttfe_s"], load["outage_s"], load["ttr_s"]) == (0.0, 0.0, 0.0)
    assert canary["affected"] == 1 and canary["by_class"]["reset"] == 1
    assert canary["ttfe_s"] == exactly(0.002) and canary["ttr_s"] == exactly(0.002)
    # the in-flight sample started 2 ms before the kill: the outage starts at the kill, not before it
    assert canary["outage_start_offset_s"] == exactly(20.402)
    assert canary["outage_s"] == exactly(0.002)
    seen = table(html, "failover-table")
    assert "load 0 / " in seen and "no client saw it" in seen
    assert "canary 1 / " in seen and "1 reset" in seen and "0.002 s" in seen
    assert "0.598" not in seen  # the windowed figure is not in the table of what clients saw
    assert figures["recovery_to_slo_s"] == exactly(0.598)
    assert "0.598 s (10 s)" in table(html, "failover-slo-table")


def test_hangs_on_a_paused_replica_are_affected_even_when_they_ended_as_slow_successes(tmp_path: Path) -> None:
    """Seen: a 5-s pause of fts-1; a probe saw requests hang from +0.01 s to +4.1 s; the report
    said 0 failed requests, availability 100 % — the hangs had no client timeout and ended as
    slow successes. A hang sat out is an outage: slower than the latency objective is affected,
    and so is a request in flight when the pause began."""
    pause = failover(action="pause", target="fts-1", at=START + 20.0, until=START + 25.0)

    def latency(i: int, offset: float) -> float:
        on_paused = i % 2 == 0 and 19.9 <= offset < 25.0
        return 25.0 - offset + 0.01 if on_paused else 0.010  # answered once the replica resumes

    summary, html = report(tmp_path, requests=steady_requests(latency=latency), failovers=[pause],
                           slo=slo_file(tmp_path, healthy="{window: 10s, success_ratio: 0.99, p99_ms: 1000}"))
    (figures,) = summary["failovers"]
    physical = figures["physical"]
    assert figures["failures"] == 0 and figures["availability"] == 1.0  # nothing failed…
    # …but every request on fts-1 that waited over 1 s was affected: those intended from 19.90 (in
    # flight at the pause) until 24.00 (answered at 25.01, 1.01 s later)
    assert physical["by_class"]["slow"] == physical["affected"] == len(range(995, 1201, 2))
    assert physical["ttfe_s"] == exactly(5.01) and physical["ttr_s"] == exactly(5.01)
    assert physical["outage_start_offset_s"] == exactly(20.0)
    assert summary["slo"]["affected"]["slow_after_s"] == 1.0
    assert "slower than 1000 ms from its intended start (the SLO&#39;s healthy p99 bound)" in html


def test_requests_already_over_budget_before_the_fault_are_not_its_victims(tmp_path: Path) -> None:
    """In flight at the fault counts only from one latency budget before it: a request slow
    before the fault happened was slow for another reason."""
    kill = failover(at=START + 20.0, target="fts-1")
    old = steady_requests(duration=1, start=START + 18.0, rate=1, latency=lambda i, o: 2.5)  # 18.0 → 20.5
    fresh = steady_requests(duration=1, start=START + 19.5, rate=1, latency=lambda i, o: 1.2)  # 19.5 → 20.7
    summary, _ = report(tmp_path, requests=steady_requests() + old + fresh, failovers=[kill],
                        slo=slo_file(tmp_path, extra="slow_ms: 1000\n"))
    physical = summary["failovers"][0]["physical"]
    assert physical["affected"] == 1 and physical["ttr_s"] == exactly(0.7)
    assert summary["slo"]["affected"]["source"] == "slow_ms in the SLO file"


def test_one_fault_has_one_value_per_name_in_the_slo_table_and_the_failover_table(tmp_path: Path) -> None:
    """Seen: TTR 2.599 s in the failover table and 1.599 s in the SLO table for one fault — the SLO
    objective judged every request of the run, the table only the faulted service's, and calmer
    ESIA traffic made the run's windows healthy a second earlier."""
    kill = failover(at=START + 20.401, target="fts-1")
    fts = steady_requests(failed=lambda offset: 20.401 <= offset < 21.5)
    esia = steady_requests(service="esia", journey="esia_login", rate=200, replicas=("esia-1", "esia-2"))
    objectives = "\n".join(f"  - {{name: {metric}, metric: {metric}, {bound}: {value}}}" for metric, bound, value in [
        ("ttr_s", "max", 10), ("ttfe_s", "min", 0), ("outage_s", "max", 10), ("affected_requests", "max", 1000),
        ("recovery_to_slo_s", "max", 10), ("availability", "min", 0)])
    summary, html = report(tmp_path, requests={"fts": fts, "esia": esia}, failovers=[kill],
                           slo=slo_file(tmp_path, objectives=objectives))
    (figures,) = summary["failovers"]
    table_values = {**{k: figures["physical"][k] for k in ("ttr_s", "ttfe_s", "outage_s")},
                    "affected_requests": figures["physical"]["affected"],
                    "recovery_to_slo_s": figures["recovery_to_slo_s"], "availability": figures["availability"]}
    slo_values = {o["metric"]: o["worst"] for o in summary["objectives"]}
    assert slo_values == exactly(table_values)
    assert figures["recovery_to_slo_s"] == exactly(1.599)  # fts's windows, not the run's (0.599)
    assert figures["physical"]["ttr_s"] == exactly(21.48 + 0.01 - 20.401)
    # and the two tables never print one label with two numbers: TTR only where clients' TTR is
    assert "TTR" in table(html, "failover-table") and "TTR" not in table(html, "failover-slo-table")


def test_a_stall_until_the_balancer_takes_the_replica_out_is_one_outage_from_its_first_start(tmp_path: Path) -> None:
    """Seen (containers, HAProxy): a pause of fts-1; requests stalled or timed out from +0.03 s
    to +1.42 s, until HAProxy's check took the replica out. The report: TTFE 1.408 s, outage
    0.001 s (first to last *failed end*), TTR 0.365 s — recovered before its first error."""
    t_f = START + 20.635
    freed = t_f + 1.42  # HAProxy takes fts-1 out: what was waiting on it is answered by fts-2

    def stalled(i: int, offset: float) -> bool:
        return i % 2 == 0 and 20.665 <= offset < 22.055

    def latency(i: int, offset: float) -> float:
        return min(1.0, freed - START - offset) if stalled(i, offset) else 0.010

    def failed(offset: float) -> str | bool:
        i = round(offset * 50)
        return "timeout" if stalled(i, offset) and START + offset + 1.0 <= freed else False

    pause = failover(action="pause", target="fts-1", at=t_f, until=t_f + 5)
    summary, html = report(tmp_path, requests=steady_requests(latency=latency, failed=failed), failovers=[pause],
                           slo=slo_file(tmp_path, extra="slow_ms: 500\n"))
    (figures,) = summary["failovers"]
    physical = figures["physical"]
    assert physical["ttfe_s"] == exactly(20.68 + 1.0 - 20.635)  # the first stalled request timed out
    assert physical["outage_start_offset_s"] == exactly(20.68)  # …and began the outage
    assert physical["ttr_s"] == exactly(1.42) and physical["ttr_s"] >= physical["ttfe_s"]
    assert physical["outage_s"] == exactly(1.42 - (20.68 - 20.635))
    timeouts, slow = len(range(1034, 1053, 2)), len(range(1054, 1078, 2))  # intended ≤ 21.055 / until 21.555
    assert physical["by_class"]["timeout"] == timeouts and physical["by_class"]["slow"] == slow
    assert physical["by_connection"]["new"] == timeouts + slow  # every stalled one here opened its connection
    # the windowed figure keeps its own name: recovered to SLO at the next second boundary
    assert figures["recovery_to_slo_s"] == exactly(0.365)
    assert "0.365" not in table(html, "failover-table")


def test_failures_are_broken_down_by_class_and_status_in_every_output(tmp_path: Path) -> None:
    def failed(offset: float) -> str | bool:
        return {20: "timeout", 21: "5xx", 22: "reset", 23: "refused"}.get(int(offset), False) if offset < 24 else False

    write_run(tmp_path / "run", requests=steady_requests(failed=failed, rate=10), info=INFO)
    result = build_report(tmp_path / "run", slo_path=slo_file(tmp_path))
    summary = json.loads(result.summary.read_text())
    assert summary["failures"]["by_class"] == {"timeout": 10, "reset": 10, "refused": 10, "5xx": 10, "status": 0}
    assert summary["failures"]["by_status"] == {"503": 10, "no answer": 30}
    assert summary["failures"]["by_service"] == {"fts": {"timeout": 10, "5xx": 10, "reset": 10, "refused": 10}}
    html = result.html.read_text()
    assert "fts 10 10 10 10 0 40" in table(html, "failures-by-class")
    assert "503 × 10, no answer × 30" in html
    properties = {p.get("name"): p.get("value") for p in ET.parse(result.junit).getroot().iter("property")}
    assert properties["failures.timeout"] == "10" and properties["failures.status"] == "0"


def test_the_header_gives_the_runs_parameters_and_each_actions_evidence(tmp_path: Path) -> None:
    info = {**INFO, "profile": "peak-hour", "peak_users": 24, "seed": 2026, "version": "1.2.3",
            "timeouts_s": {"esia_login": 2.0, "declaration": 1.5}, "mix": {"esia_login": 2, "declaration": 1},
            "failover_schedule": "/srv/failover.yaml",
            "schedule": [{"entry": 1, "action": "pause", "service": "fts", "replica": 1, "at": 20, "duration": 5},
                         {"entry": 2, "action": "kill", "service": "fts", "replica": 2, "at": 40}]}
    pause = failover(action="pause", target="fts-1", at=START + 20.003, until=START + 25.01,
                     evidence="fts-1 stopped (state T); then fts-1 running (state S)")
    summary, html = report(tmp_path, requests=steady_requests(), failovers=[pause], info=info)
    parameters = summary["run"]["parameters"]
    assert (parameters["profile"], parameters["peak_users"], parameters["seed"], parameters["version"]) == (
        "peak-hour", 24, 2026, "1.2.3")
    assert parameters["slo_file"] == str(tmp_path / "slo.yaml") and parameters["control_run"] is False
    first, second = parameters["schedule"]
    assert first["took_effect"] and first["injected_offset_s"] == exactly(20.003)
    assert first["evidence"].startswith("fts-1 stopped (state T)")
    assert second["ran"] is False and second["error"] == "never ran"
    header = table(html, "parameters")
    assert "up to 24 users" in header and "2026" in header and "1.2.3" in header and "declaration 1.5 s" in header
    assert str(tmp_path / "slo.yaml") in header and "/srv/failover.yaml" in header
    schedule = table(html, "schedule")
    assert "pause fts-1 +20 s for 5 s +20.00 s +25.01 s yes fts-1 stopped (state T)" in schedule
    assert "kill fts-2 +40 s never — no" in schedule


def test_the_header_names_the_workers_on_other_hosts_and_what_each_sent(tmp_path: Path) -> None:
    workers = [{"index": 0, "host": "load-a", "pid": 7, "received": {"requests": 120}},
               {"index": 1, "host": "load-b", "pid": 7, "received": {"requests": 80}}]
    summary, html = report(tmp_path, requests=steady_requests(), info={**INFO, "processes": 2, "workers": workers})
    assert [w["requests"] for w in summary["run"]["parameters"]["remote_workers"]] == [120, 80]
    header = table(html, "parameters")
    assert ("2 Locust processes on other hosts: worker 0 (load-a, pid 7: 120 requests), "
            "worker 1 (load-b, pid 7: 80 requests)") in header


def test_a_control_run_says_so_and_objectives_it_cannot_judge_are_one_line(tmp_path: Path) -> None:
    info = {**INFO, "schedule": [], "mix": {"declaration": 1, "weight_controls": 0}}
    objectives = ("  - {name: Weighings, select: {journey: weight_controls}, metric: success_ratio, min: 0.9}\n"
                  "  - {name: TTR, metric: ttr_s, max: 10}\n"
                  "  - {name: Declarations, select: {journey: declaration}, metric: success_ratio, min: 0.9}")
    summary, html = report(tmp_path, requests=steady_requests(), info=info,
                           slo=slo_file(tmp_path, objectives=objectives))
    assert summary["run"]["parameters"]["control_run"] is True
    assert "A control run: no failover was scheduled" in html and "none: a control run" in html
    slo_table = re.search(r'<h2 id="slo">.*?</table>', html, re.S)
    assert slo_table and "Declarations" in slo_table.group(0)
    assert "Weighings" not in slo_table.group(0) and "not applicable" not in slo_table.group(0)
    assert re.search(r'id="skipped">Not judged \(2\): Weighings; TTR —', html)


def test_a_run_that_does_not_list_its_schedule_is_not_called_a_control_run(tmp_path: Path) -> None:
    summary, html = report(tmp_path, requests=steady_requests())
    assert summary["run"]["parameters"]["control_run"] is False
    assert "control run" not in html and "does not list a schedule" in html


def test_users_over_time_and_latency_per_service_are_charted(tmp_path: Path) -> None:
    esia = steady_requests(service="esia", journey="esia_login", replicas=("esia-1", "esia-2"),
                           latency=lambda i, offset: 0.2 if offset < 30 else 0.02)
    users = [(START + second, 4 + second // 10) for second in range(0, 60, 2)]  # Locust samples every ~2 s here
    summary, html = report(tmp_path, requests={"fts": steady_requests(), "esia": esia}, users=users)
    timeline = summary["timeline"]
    assert timeline["users"][:4] == [4, 4, 4, 4] and timeline["users"][58] == 9
    assert timeline["latency_by_service"]["esia"]["p99_ms"][0] == pytest.approx(200, rel=1e-3)
    assert timeline["latency_by_service"]["fts"]["p99_ms"][0] == pytest.approx(10, rel=1e-3)
    assert 'id="chart-users"' in html and html.count("<svg") == 4
    latency = re.search(r'<figure id="chart-latency">.*?</figure>', html, re.S)
    assert latency and ">esia" in latency.group(0) and ">fts" in latency.group(0)  # one row per service


def test_the_canary_is_measured_over_the_same_episode_as_the_load(tmp_path: Path) -> None:
    kill = failover(at=START + 20.0, target="fts-1")
    load = steady_requests(failed=lambda offset: 20.0 <= offset < 20.1)
    # the canary sees the same fault, and a blip of its own long after the episode ended
    probe = canary_samples(service="fts", failed=lambda o: "reset" if 20.0 <= o < 20.05 or 50 <= o < 50.01 else None)
    summary, _ = report(tmp_path, requests=load, failovers=[kill], canary={"fts": probe})
    (figures,) = summary["failovers"]
    assert figures["episode_end_offset_s"] == exactly(30.0)
    assert figures["canary"]["affected"] == 10 and figures["canary"]["ttr_s"] == exactly(0.047)
    assert figures["physical"]["affected"] == 5 and figures["physical"]["ttr_s"] == exactly(0.09)
    junit = ET.parse(tmp_path / "run" / "junit.xml").getroot()
    properties = {p.get("name"): p.get("value") for p in junit.iter("property")}
    assert properties["failover.1 kill fts-1"] == (
        "load: TTFE 0.010 s, outage 0.090 s, TTR 0.090 s, 5 affected (5 reset); "
        "canary: TTFE 0.002 s, outage 0.047 s, TTR 0.047 s, 10 affected (10 reset); recovery to SLO 0.000 s")
