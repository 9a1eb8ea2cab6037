"""The main job end to end, shortened: the embedded stack with two replicas per service, steady
traffic for seconds, one ESIA, one FTS and one UTKO replica killed under load, then the report.

What a user relies on: the killed replicas stop answering and their traffic moves to the
survivors, nothing acknowledged is lost or written twice, every figure of the report comes
from the recorded files, and the run's canaries see a replica they were talking to die. (The
canary's own behaviour against scripted servers is ``test_canary.py``; its real-run check shares
this run rather than starting one of its own with the same kills.)

And UTKO traffic beside the peak hour's: operators keeping objects up to date under If-Match and
weigh stations importing weight controls, while a UTKO replica is killed — the traffic reaches
both replicas and then the survivor, every weighing acknowledged is held once (the re-posted
file is skipped, not stored twice), and the reconciliation reads it back through UTKO's own API.
Those users are the ones a run of their own had (two keeping objects, four weighing); one run
carries both, its stack and its start and end once.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from gosstand.stand.records import CanarySample
from small_runs import write_small_run_slo

pytestmark = [pytest.mark.stack, pytest.mark.slow, pytest.mark.load]

UTKO_JOURNEYS = ("utko_objects", "weight_controls")
JOURNEYS = ("esia_login", "declaration", *UTKO_JOURNEYS)
#: A fault rule set from the schedule: FTS answers 300 ms late for 2 s, once declarations flow.
SLOW_FTS_AT, SLOW_FTS_FOR, SLOW_MS = 3, 2, 300
#: The FTS kill comes more than the SLO's 10-s healthy window after the latency fault ends: the
#: next fault on a service ends the previous one's episode, and a fault must be seen healthy for
#: 10 s to count as recovered.
KILL_ESIA_AT, KILL_UTKO_AT, KILL_FTS_AT = 5, 7, 16
DURATION = 27  # the FTS kill is the last fault: one 10-s healthy window must fit after it
#: A light canary: 200/s per service (the default) costs as much as these few users.
CANARY_RATE = 50


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("peak")
    # A flat profile with as many declaration users as login users: each journey opens a new
    # connection, and SO_REUSEPORT spreads connections, not requests — the packaged morning curve
    # starts with one or two users, few enough that every FTS connection before the kill could
    # land on one replica (it did, in CI), and the kill would then prove nothing.
    profile = base / "profile.yaml"
    # Twelve users: three signing in, three filing declarations, two keeping UTKO objects and
    # four weighing (the weights below share them out exactly so).
    profile.write_text(
        f"name: flat\nduration_s: {DURATION}\npeak_users: 12\ncurve: [1.0]\n"
        "pacing_s: {esia_login: 1.5, declaration: 1.0, utko_objects: 1.0, weight_controls: 0.5}\n"
        "mix: {esia_login: 3, declaration: 3, utko_objects: 2, weight_controls: 4}\n"
    )
    schedule = base / "failover.yaml"
    schedule.write_text(
        "actions:\n"
        f"  - {{at: {SLOW_FTS_AT}, service: fts, action: fault, duration: {SLOW_FTS_FOR},"
        f" fault: {{kind: latency, delay_ms: {SLOW_MS}}}}}\n"
        f"  - {{at: {KILL_ESIA_AT}, service: esia, replica: 1, action: kill}}\n"
        f"  - {{at: {KILL_UTKO_AT}, service: utko, replica: 1, action: kill}}\n"
        f"  - {{at: {KILL_FTS_AT}, service: fts, replica: 1, action: kill}}\n"
    )
    completed = subprocess.run(
        [sys.executable, "-m", "gosstand", "peak", "--profile", str(profile), "--users", "24",
         "--failover", str(schedule), "--slo", str(write_small_run_slo(base, JOURNEYS)),  # see tests/small_runs.py
         "--output", str(base / "runs"),
         "--canary-rate", str(CANARY_RATE)],
        capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Verdict: PASS" in completed.stdout  # every journey's objectives, the UTKO ones too
    (run,) = (base / "runs").iterdir()
    assert f"Report: {(run / 'report.html').resolve()}" in completed.stdout
    return run


def _lines(pattern: str, run_dir: Path) -> list[dict]:
    return [json.loads(line) for path in run_dir.glob(pattern) for line in path.read_text().splitlines()]


def test_killed_replicas_stop_answering_and_survivors_take_over(run_dir: Path) -> None:
    kills = {event["target"]: event["injected_at"] for event in _lines("failovers.jsonl", run_dir)
             if event["action"] == "kill"}
    assert set(kills) == {"esia-1", "fts-1", "utko-1"}
    requests = _lines("requests*.jsonl", run_dir)
    for replica, killed_at in kills.items():
        service = replica.split("-")[0]
        before = {r["replica"] for r in requests if r["service"] == service and r["ended"] < killed_at}
        after = [r for r in requests if r["service"] == service and r["started"] > killed_at + 0.05]
        assert {f"{service}-1", f"{service}-2"} <= before, f"{service} traffic did not reach both replicas"
        assert after, f"no {service} traffic after the kill"
        assert {r["replica"] for r in after if r["ok"]} == {f"{service}-2"}


def test_a_scheduled_fault_rule_holds_for_its_duration_only(run_dir: Path) -> None:
    (fault,) = [event for event in _lines("failovers.jsonl", run_dir) if event["action"] == "fault"]
    assert fault["target"] == f"fts latency {SLOW_MS} ms" and fault["detail"]["rule"]["delay_ms"] == SLOW_MS
    # Removed once its duration is over, never before; ``removed_at`` is when the control API
    # confirmed the removal, which on a loaded machine comes a second or two after the timer
    # (measured: 2.58 s for a 2-s fault at load average 20) — so the bound is loose, and what
    # the removal did is judged below by the requests after it. The evidence it took effect is
    # the requests it hit.
    assert SLOW_FTS_FOR <= fault["removed_at"] - fault["injected_at"] < SLOW_FTS_FOR + 5
    assert fault["took_effect"] and fault["detail"]["hit"] > 0
    fts = [r for r in _lines("requests*.jsonl", run_dir) if r["service"] == "fts" and r["ok"]]
    # t is when the control API answered, i.e. when every replica applies the rule
    inside = [r for r in fts if fault["injected_at"] < r["started"] and r["ended"] < fault["removed_at"]]
    after = [r for r in fts if r["started"] > fault["removed_at"] + 0.1]
    assert inside and all(r["ended"] - r["started"] >= SLOW_MS / 1000 for r in inside)
    assert any(r["ended"] - r["started"] < SLOW_MS / 1000 for r in after), "the fault outlived its duration"


def test_no_declaration_lost_or_duplicated(run_dir: Path) -> None:
    operations = _lines("operations*.jsonl", run_dir)
    declarations = {op["id"] for op in operations if op["acked"] and op["service"] == "fts"}
    assert declarations, "the run acknowledged no declaration"
    records = [record for record in json.loads((run_dir / "records.json").read_text())["records"]
               if record["service"] == "fts"]
    held = [record["id"] for record in records]
    assert declarations <= set(held)
    references = [record["senderReference"] for record in records]
    assert len(references) == len(set(references))
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["reconciliation"]["lost_writes"] == 0
    assert summary["reconciliation"]["duplicate_writes"] == 0
    # every service's acknowledged writes, the weighings too
    assert summary["reconciliation"]["acknowledged"] == len({op["id"] for op in operations if op["acked"]})
    # Each submit attempt is tied to its operation in the timeline, so retries can be counted
    # per failover episode (reports/failover.py).
    submits = [r for r in _lines("requests*.jsonl", run_dir) if r["name"] == "fts: submit"]
    assert submits and {r["op"] for r in submits} <= {op["op"] for op in operations}


def test_report_figures_come_from_the_recorded_requests(run_dir: Path) -> None:
    requests = _lines("requests*.jsonl", run_dir)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["totals"]["all"]["requests"] == len(requests)
    assert summary["totals"]["all"]["failures"] == sum(not r["ok"] for r in requests)
    per_second = summary["timeline"]
    assert sum(per_second["requests"]) == len(requests)
    labels = {f["label"] for f in summary["failovers"]}
    assert labels == {"kill esia-1", "kill fts-1", "kill utko-1", f"fault fts latency {SLOW_MS} ms"}
    html = (run_dir / "report.html").read_text()
    assert html.count("<svg") >= 3 and "kill esia-1" in html and "kill fts-1" in html and "kill utko-1" in html
    junit = (run_dir / "junit.xml").read_text()
    assert "testcase" in junit and 'failures="0"' in junit


def test_the_canary_sees_a_replica_it_was_talking_to_die(run_dir: Path) -> None:
    kills = {event["service"]: (event["target"], event["injected_at"])
             for event in _lines("failovers.jsonl", run_dir) if event["action"] == "kill"}
    assert set(kills) == {"esia", "fts", "utko"}
    shown = []
    for service, (replica, killed_at) in kills.items():
        samples = [CanarySample.from_json(raw) for raw in _lines(f"canary-{service}.jsonl", run_dir)]
        assert {s.service for s in samples} == {service}
        before = [s for s in samples if s.ended < killed_at]
        after = [s for s in samples if killed_at < s.started]
        assert {s.replica for s in before if s.ok} >= {f"{service}-1", f"{service}-2"}, "the canary met both"
        assert not [s for s in after if s.ok and s.replica == replica and s.started > killed_at + 0.1]
        assert any(s.ok for s in after), f"the {service} canary saw no survivor"
        # A kept-alive connection to the replica just before the kill meets its death at its
        # next use: a reset (or a refusal) right after the kill.
        kept_on_victim = any(s.connection == "reused" and s.replica == replica and killed_at - 0.3 < s.ended
                             for s in before)
        failed_right_after = [s for s in after if s.started < killed_at + 1.0 and s.failure in ("reset", "refused")]
        if kept_on_victim:
            assert failed_right_after, f"the {service} canary's kept-alive connection to {replica} did not fail"
            shown.append(service)
    # Eight kept-alive connections per canary spread over two replicas (each used every
    # 16 / CANARY_RATE = 0.32 s): with three kills, none on any victim would happen once in
    # 2²⁴ runs.
    assert shown, "no canary had a kept-alive connection on a killed replica"


def test_the_run_describes_its_canaries(run_dir: Path) -> None:
    description = json.loads((run_dir / "run.json").read_text())
    assert set(description["canary"]) == {"esia", "fts", "utko"} and description["problems"] == []
    for service, summary in description["canary"].items():
        assert summary["method"] == "GET" and summary["url"].endswith("/_gosstand/health")
        assert summary["rate"] == CANARY_RATE
        assert summary["sent"] == len(_lines(f"canary-{service}.jsonl", run_dir))
        assert summary["cpu_s"] > 0 and summary["stuck"] == 0


def test_utko_traffic_moves_to_the_survivor(run_dir: Path) -> None:
    (kill,) = [event for event in _lines("failovers.jsonl", run_dir) if event["service"] == "utko"]
    requests = [r for r in _lines("requests*.jsonl", run_dir) if r["service"] == "utko"]
    assert {r["journey"] for r in requests} == set(UTKO_JOURNEYS)
    assert {r["name"] for r in requests} >= {"utko: update", "utko: list", "utko: weight import"}
    before = {r["replica"] for r in requests if r["ended"] < kill["injected_at"]}
    after = [r for r in requests if r["started"] > kill["injected_at"] + 0.05 and r["ok"]]
    assert before == {"utko-1", "utko-2"} and after
    assert {r["replica"] for r in after} == {"utko-2"}


def test_every_acknowledged_weighing_is_held_once(run_dir: Path) -> None:
    operations = [op for op in _lines("operations*.jsonl", run_dir) if op["service"] == "utko"]
    acknowledged = {op["id"] for op in operations if op["acked"]}
    assert len(acknowledged) >= 30, "the weigh stations imported too little to judge"
    records = json.loads((run_dir / "records.json").read_text())
    assert records["services"] == ["fts", "utko"]
    held = [r["id"] for r in records["records"] if r["service"] == "utko"]
    assert acknowledged <= set(held) and len(held) == len(set(held))
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["reconciliation"]["services"] == ["fts", "utko"]
    assert summary["reconciliation"]["lost_writes"] == summary["reconciliation"]["duplicate_writes"] == 0
