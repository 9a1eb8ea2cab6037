"""What a report run leaves behind: report.html, summary.json, junit.xml, the CLI, and how the
run directory is read (several request files, missing optional files, a truncated last line).

The failovers here are written with the record names of runs before typed records (``t``,
``until``): old run directories must still give a report."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from gosstand.reports.build import ReportResult, build_report
from gosstand.reports.cli import main
from gosstand.reports.io import RunDirectoryError, load_run
from gosstand.reports.synthetic import START, steady_requests, write_run

KILL = {"t": START + 20, "action": "kill", "service": "fts", "target": "fts-1", "until": None}
PAUSE = {"t": START + 40, "action": "pause", "service": "esia", "target": "esia-2", "until": START + 45}


def outage(offset: float) -> bool:
    return 20.0 <= offset < 21.5


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> ReportResult:
    run_dir = tmp_path_factory.mktemp("run")
    fts = steady_requests(failed=outage, op=lambda i: f"op{i}")
    esia = steady_requests(service="esia", journey="esia_login", replicas=("esia-1", "esia-2"), rate=20)
    operations = [{"op": f"op{i}", "service": "fts", "senderReference": f"ref{i}", "acked": True,
                   "id": f"D{i}", "attempts": 1, "t": START + i} for i in range(3)]
    records = {"service": "fts", "records": [{"id": "D1", "senderReference": "ref1"},
                                            {"id": "D2", "senderReference": "ref2"},
                                            {"id": "D7", "senderReference": "ref2"}]}
    write_run(run_dir, requests={"fts": fts, "esia": esia}, failovers=[KILL, PAUSE], operations=operations,
              records=records, info={"started": START, "ended": START + 60, "title": "Synthetic peak",
                                     "profile": "peak-hour", "backend": "embedded", "notes": ["made up"]})
    return build_report(run_dir, output_dir=run_dir / "out")


def test_outputs_are_written_to_the_output_directory(report: ReportResult) -> None:
    assert [report.html.name, report.summary.name, report.junit.name] == ["report.html", "summary.json", "junit.xml"]
    assert all(path.parent.name == "out" and path.stat().st_size > 0
               for path in (report.html, report.summary, report.junit))


def test_html_has_verdict_slo_table_failovers_and_three_inline_charts(report: ReportResult) -> None:
    html = report.html.read_text()
    assert "Synthetic peak" in html and 'class="verdict fail"' in html
    for section in ('id="slo"', 'id="failover-table"', 'id="reconciliation"', 'id="chart-throughput"',
                    'id="chart-latency"', 'id="chart-replicas"'):
        assert section in html
    assert html.count("<svg") == 3 and "<script" not in html and "<?xml" not in html  # no users recorded
    # failovers are marked on the charts as text labels and listed in the table
    assert html.count("kill fts-1") >= 4 and html.count("pause esia-2") >= 3
    # every threshold is shown with its window
    assert "every 10 s window" in html and "whole run" in html and "each failover" in html
    assert "Lost writes: 1" in html and "duplicate writes: 1" in html


def test_summary_json_holds_every_figure(report: ReportResult) -> None:
    summary = json.loads(report.summary.read_text())
    assert summary["schema"] == "gosstand.report/2" and summary["verdict"]["passed"] is False
    kill = summary["failovers"][0]
    assert kill["label"] == "kill fts-1" and kill["t_offset_s"] == 20.0
    assert kill["recovery_to_slo_s"] == pytest.approx(2.0) and kill["window"] == 10
    assert kill["physical"]["ttfe_s"] == pytest.approx(0.01) and kill["failures"] == 75
    assert kill["physical"]["affected"] == 75 and kill["physical"]["ttr_s"] == pytest.approx(1.49)
    assert "ttr_s" not in kill and kill["canary"] is None  # one name, one value: TTR is the physical one
    pause = summary["failovers"][1]
    assert pause["until_offset_s"] == 45.0 and pause["physical"]["seen"] is False
    timeline = summary["timeline"]
    assert len(timeline["requests"]) == 60 and timeline["requests"][20] == 70 and timeline["failures"][20] == 50
    assert timeline["replicas"]["fts"]["none"][20] == 50 and set(timeline["replicas"]) == {"esia", "fts"}
    assert summary["totals"]["by_service"]["fts"]["failures"] == 75
    assert summary["reconciliation"]["lost_writes"] == 1 and summary["reconciliation"]["duplicate_writes"] == 1
    assert summary["retry_amplification"] == 1.0
    assert summary["slo"]["healthy"]["window"] == 10 and summary["slo"]["baseline_s"] == 10
    names = {o["name"]: o for o in summary["objectives"]}
    assert names["Declaration success, every 10 s"]["worst"] == pytest.approx(0.85)
    assert names["Declaration success, every 10 s"]["window"] == "every 10 s window"


def test_junit_has_one_testcase_per_objective_with_measured_vs_threshold(report: ReportResult) -> None:
    root = ET.parse(report.junit).getroot()
    suite = root.find("testsuite")
    assert suite is not None
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert len(cases) == len(report.results) == int(suite.get("tests", "0"))
    # declarations: 10 s windows and the whole run (75 of 3000 failed: 0.975); lost; duplicated
    assert int(suite.get("failures", "0")) == len(report.breaches) == 4
    failure = cases["Declaration success, every 10 s"].find("failure")
    assert failure is not None
    assert "worst 0.8500" in failure.get("message", "") and "≥ 0.95 every 10 s window" in failure.get("message", "")
    assert cases["Time to recover after each failover"].find("failure") is None
    assert cases["No lost writes"].find("failure") is not None


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_run(tmp_path / "good", requests=steady_requests(duration=20))
    lenient = tmp_path / "slo.yaml"
    lenient.write_text("objectives:\n  - {metric: success_ratio, min: 0.99, window: 5s}\n")
    assert main([str(tmp_path / "good"), "--slo", str(lenient), "--output", str(tmp_path / "out")]) == 0
    assert "PASS" in capsys.readouterr().out and (tmp_path / "out" / "report.html").exists()
    write_run(tmp_path / "bad", requests=steady_requests(duration=20, failed=lambda offset: offset > 10))
    assert main([str(tmp_path / "bad"), "--slo", str(lenient)]) == 1
    assert "FAIL" in capsys.readouterr().out and (tmp_path / "bad" / "junit.xml").exists()
    assert main([str(tmp_path / "missing")]) == 2
    broken = tmp_path / "broken.yaml"
    broken.write_text("objectives: [{metric: ttr_s}]\n")
    assert main([str(tmp_path / "good"), "--slo", str(broken)]) == 2
    assert "needs a `max`" in capsys.readouterr().err


def test_the_slo_file_named_by_the_run_is_the_default(tmp_path: Path) -> None:
    (tmp_path / "lenient.yaml").write_text("objectives:\n  - {metric: success_ratio, min: 0.5}\n")
    write_run(tmp_path, requests=steady_requests(duration=5, failed=lambda offset: offset < 1),
              info={"slo": "lenient.yaml"})
    assert build_report(tmp_path).passed
    strict = tmp_path / "strict.yaml"
    strict.write_text("objectives:\n  - {metric: success_ratio, min: 0.99}\n")
    assert not build_report(tmp_path, slo_path=strict).passed


def test_run_directory_reading_is_tolerant_where_it_may_be(tmp_path: Path) -> None:
    rows = steady_requests(duration=2)
    write_run(tmp_path, requests={"b": rows[50:], "a": rows[:50]})
    with (tmp_path / "requests-b.jsonl").open("a") as log:
        log.write('{"s": 1.0, "e": ')  # a process killed mid-write
    no_intended_start = {"e": START + 0.5, "a": START + 0.4, "ok": False, "name": "esia: te"}
    (tmp_path / "requests-c.jsonl").write_text(json.dumps(no_intended_start) + "\n")
    run = load_run(tmp_path)
    starts = [r.intended_start for r in run.requests]
    assert len(run.requests) == 101 and starts == sorted(starts)
    derived = next(r for r in run.requests if r.name == "esia: te")
    assert derived.service == "esia" and derived.intended_start == START + 0.4  # no intended start: the actual one
    assert run.warnings == ["requests-b.jsonl:51: truncated last line skipped"]
    assert run.info.started is None and run.reconciled is None and run.failovers == []


def test_a_malformed_line_inside_a_log_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "requests-1.jsonl").write_text('{"s": 1, "e": 2, "ok": true}\nnot json\n{"s": 1, "e": 2, "ok": true}\n')
    with pytest.raises(RunDirectoryError, match="requests-1.jsonl:2"):
        load_run(tmp_path)
    (tmp_path / "requests-1.jsonl").write_text('{"s": 1, "e": 2, "ok": "yes"}\n')
    with pytest.raises(RunDirectoryError, match="'ok' must be true or false"):
        load_run(tmp_path)
    (tmp_path / "requests-1.jsonl").unlink()
    with pytest.raises(RunDirectoryError, match="no requests"):
        load_run(tmp_path)


def test_a_failover_record_names_an_action_of_the_schedule_vocabulary(tmp_path: Path) -> None:
    write_run(tmp_path, requests={"fts": steady_requests(duration=2)}, failovers=[KILL, {**PAUSE, "action": "freeze"}])
    with pytest.raises(RunDirectoryError, match=r"failovers.jsonl:2: 'action' must be one of kill, .*not 'freeze'"):
        load_run(tmp_path)
    legacy_rule = {key: value for key, value in PAUSE.items() if key != "action"}  # written before records named it
    write_run(tmp_path, requests={"fts": steady_requests(duration=2)}, failovers=[legacy_rule])
    assert [failover.action for failover in load_run(tmp_path).failovers] == ["fault"]
