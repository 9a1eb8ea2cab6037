"""A load run with UTKO traffic: operators keeping objects up to date under If-Match and weigh
stations importing weight controls, while a UTKO replica is killed. What a user relies on: the
traffic reaches both replicas and then the survivor, every weighing acknowledged is held once
(the re-posted file is skipped, not stored twice), and the reconciliation reads it back through
UTKO's own API."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from small_runs import write_small_run_slo

pytestmark = [pytest.mark.stack, pytest.mark.slow, pytest.mark.load]

KILL_AT = 7
JOURNEYS = ("utko_objects", "weight_controls")


def _lines(pattern: str, run_dir: Path) -> list[dict]:
    return [json.loads(line) for path in run_dir.glob(pattern) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("utko-peak")
    profile = base / "profile.yaml"
    profile.write_text("name: weigh-day\nduration_s: 22\npeak_users: 6\ncurve: [1.0]\n"
                       "pacing_s: {utko_objects: 1.0, weight_controls: 0.5}\n"
                       "mix: {utko_objects: 1, weight_controls: 2}\n")
    schedule = base / "failover.yaml"
    schedule.write_text(f"actions:\n  - {{at: {KILL_AT}, service: utko, replica: 1, action: kill}}\n")
    completed = subprocess.run(
        [sys.executable, "-m", "gosstand", "peak", "--profile", str(profile), "--users", "10",
         "--failover", str(schedule), "--slo", str(write_small_run_slo(base, JOURNEYS)),
         "--output", str(base / "runs"),
         "--canary-rate", "50"],  # a light canary: 200/s per service costs as much as these few users
        capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    (run_dir,) = (base / "runs").iterdir()
    return {"dir": run_dir, "stdout": completed.stdout}


def test_utko_traffic_moves_to_the_survivor(run) -> None:
    (kill,) = _lines("failovers.jsonl", run["dir"])
    requests = [r for r in _lines("requests*.jsonl", run["dir"]) if r["service"] == "utko"]
    assert {r["journey"] for r in requests} == set(JOURNEYS)
    assert {r["name"] for r in requests} >= {"utko: update", "utko: list", "utko: weight import"}
    before = {r["replica"] for r in requests if r["ended"] < kill["injected_at"]}
    after = [r for r in requests if r["started"] > kill["injected_at"] + 0.05 and r["ok"]]
    assert before == {"utko-1", "utko-2"} and after
    assert {r["replica"] for r in after} == {"utko-2"}


def test_every_acknowledged_weighing_is_held_once(run) -> None:
    operations = [op for op in _lines("operations*.jsonl", run["dir"]) if op["service"] == "utko"]
    acknowledged = {op["id"] for op in operations if op["acked"]}
    assert len(acknowledged) >= 30, "the weigh stations imported too little to judge"
    records = json.loads((run["dir"] / "records.json").read_text())
    assert records["services"] == ["fts", "utko"]
    held = [r["id"] for r in records["records"] if r["service"] == "utko"]
    assert acknowledged <= set(held) and len(held) == len(set(held))
    summary = json.loads((run["dir"] / "summary.json").read_text())
    assert summary["reconciliation"]["services"] == ["fts", "utko"]
    assert summary["reconciliation"]["lost_writes"] == summary["reconciliation"]["duplicate_writes"] == 0
    assert "Verdict: PASS" in run["stdout"]
