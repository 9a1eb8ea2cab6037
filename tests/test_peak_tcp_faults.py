"""``gosstand peak`` with a blackhole in its schedule: the run starts its stack behind the TCP fault
layer, the blackholed FTS replica's requests time out on the client while the other replica
serves, the fault's evidence is what the layer held, and both replicas serve once it ends.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from small_runs import write_writes_only_slo

pytestmark = [pytest.mark.stack, pytest.mark.slow, pytest.mark.load]

#: The hole ends at 8 s; the 7 s after it hold the SLO's 5-s healthy window, with 2 s to spare.
HOLE_AT, HOLE_FOR, DURATION = 5, 3, 15
#: The declaration journey's client timeout: a held request is given up after it.
TIMEOUT_S = 1.0


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("blackhole")
    profile = base / "profile.yaml"
    profile.write_text(
        f"name: flat\nduration_s: {DURATION}\npeak_users: 6\ncurve: [1.0]\npacing_s: {{declaration: 0.5}}\n"
        f"mix: {{declaration: 1}}\ntimeouts_s: {{declaration: {TIMEOUT_S}}}\n"
    )
    schedule = base / "failover.yaml"
    schedule.write_text(f"actions:\n  - {{at: {HOLE_AT}, service: fts, replica: 1, action: blackhole, "
                        f"duration: {HOLE_FOR}}}\n")
    completed = subprocess.run(
        [sys.executable, "-m", "gosstand", "peak", "--profile", str(profile), "--users", "12",
         # The writes-only SLO: the verdict turns on the fault's evidence, not on how many
         # requests the hole happened to swallow.
         "--failover", str(schedule), "--slo", str(write_writes_only_slo(base)), "--output", str(base / "runs"),
         # A light canary: three at 200 requests/s, half of them new connections, would ask the
         # layer for a fifth of a core on a 2-core machine the stack and Locust share already.
         "--canary-rate", "20"],
        capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "behind the TCP fault layer" in completed.stdout and "Verdict: PASS" in completed.stdout
    (run,) = (base / "runs").iterdir()
    return run


def _lines(pattern: str, run_dir: Path) -> list[dict]:
    return [json.loads(line) for path in run_dir.glob(pattern) for line in path.read_text().splitlines()]


def test_the_blackhole_took_effect_for_its_duration_and_says_what_it_held(run_dir: Path) -> None:
    (hole,) = _lines("failovers.jsonl", run_dir)
    assert hole["action"] == "blackhole" and hole["target"] == "fts-1" and hole["took_effect"]
    assert hole["detail"]["held"] > 0 and f"held {hole['detail']['held']} connection(s)" in hole["evidence"]
    assert hole["removed_at"] - hole["injected_at"] >= HOLE_FOR


def test_clients_of_the_blackholed_replica_time_out_while_the_other_serves(run_dir: Path) -> None:
    (hole,) = _lines("failovers.jsonl", run_dir)
    fts = [r for r in _lines("requests*.jsonl", run_dir) if r["service"] == "fts"]
    inside = [r for r in fts if hole["injected_at"] < r["started"] and r["ended"] < hole["removed_at"]]
    assert any(r.get("failure") == "timeout" and r["status"] == 0 for r in inside), "no request met the hole"
    assert {r["replica"] for r in inside if r["ok"]} == {"fts-2"}
    after = [r for r in fts if r["started"] > hole["removed_at"] + 0.5 and r["ok"]]
    assert {r["replica"] for r in after} == {"fts-1", "fts-2"}, "the healed replica did not serve again"


def test_the_report_lists_the_blackhole(run_dir: Path) -> None:
    assert json.loads((run_dir / "run.json").read_text())["tcp_faults"] is True
    summary = json.loads((run_dir / "summary.json").read_text())
    assert [f["label"] for f in summary["failovers"]] == ["blackhole fts-1"]
    assert summary["reconciliation"]["lost_writes"] == 0 and summary["reconciliation"]["duplicate_writes"] == 0
