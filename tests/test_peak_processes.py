"""A load run on several Locust processes: a master runs the shape and the failovers, workers
share the users. What a user relies on: both workers send traffic, no seeded person is signed
in by two workers at once (their SMS codes would cross), the failover runs once, and the report
reads every worker's timeline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from small_runs import write_small_run_slo

pytestmark = [pytest.mark.stack, pytest.mark.slow, pytest.mark.load]


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("processes")
    profile = base / "profile.yaml"
    profile.write_text("name: flat\nduration_s: 20\npeak_users: 6\ncurve: [1.0]\n"
                       "pacing_s: {esia_login: 1.0, declaration: 1.0}\nmix: {esia_login: 1, declaration: 1}\n")
    schedule = base / "failover.yaml"
    schedule.write_text("actions:\n  - {at: 6, service: fts, replica: 1, action: kill}\n")
    completed = subprocess.run(
        [sys.executable, "-m", "gosstand", "peak", "--profile", str(profile), "--users", "8", "--processes", "2",
         "--failover", str(schedule), "--slo", str(write_small_run_slo(base)), "--output", str(base / "runs"),
         "--canary-rate", "50"],  # a light canary: 200/s per service costs as much as these few users
        capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    (run_dir,) = (base / "runs").iterdir()
    return {"dir": run_dir, "stdout": completed.stdout}


def test_both_workers_send_traffic_and_the_failover_runs_once(run) -> None:
    files = {path: _lines(path) for path in run["dir"].glob("requests-*.jsonl")}
    assert len(files) == 2 and all(files.values()), f"expected two workers' timelines, got {files.keys()}"
    assert len(_lines(run["dir"] / "failovers.jsonl")) == 1  # the master's, not one per worker
    summary = json.loads((run["dir"] / "summary.json").read_text())
    assert summary["totals"]["all"]["requests"] == sum(len(rows) for rows in files.values())
    assert json.loads((run["dir"] / "run.json").read_text())["processes"] == 2


def test_no_person_is_signed_in_by_two_workers(run) -> None:
    """Every login reads its SMS code from the person's outbox; a code read by the wrong worker
    fails the login. With the people shared out, every login of the run succeeds."""
    logins = [r for path in run["dir"].glob("requests-*.jsonl") for r in _lines(path)
              if r["journey"] == "esia_login" and r["name"].startswith("esia: otp")]
    assert logins and all(r["ok"] for r in logins)
    summary = json.loads((run["dir"] / "summary.json").read_text())
    assert summary["reconciliation"]["lost_writes"] == summary["reconciliation"]["duplicate_writes"] == 0
    assert "Verdict: PASS" in run["stdout"]
