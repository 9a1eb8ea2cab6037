"""The main job against a system of the user's own: ``gosstand peak --target fts=URL``.

The stand (here started by the test, as `gosstand up` would) keeps serving ESIA — logins and
their SMS codes — while every FTS request of the peak-hour traffic goes to "your FTS": a second,
separate deployment that trusts the stand's ESIA key, as a staging system pointed at the mock
would. gosstand cannot kill a replica it does not run, so the failover is an ``exec`` action:
the command that fails your system (here ``kill -9`` of its first replica's process group).

What a user relies on: the traffic really goes to the target, the command runs on schedule and
is logged, the survivors take over, and the reconciliation reads back from the target.

The run is on two Locust processes — a master runs the shape and the failover, workers share the
users — which a user relies on too: both workers send traffic, no seeded person is signed in by
two workers at once (their SMS codes would cross), the failover command runs once, not once per
worker, and the report reads every worker's timeline. (One run carries both: the same kind of
peak with one failover, its stacks and its start and end once.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from gosstand.stand.stack import EmbeddedStack
from small_runs import write_small_run_slo

pytestmark = [pytest.mark.stack, pytest.mark.slow]

KILL_AT = 6



def _lines(pattern: str, run_dir: Path) -> list[dict]:
    return [json.loads(line) for path in run_dir.glob(pattern) for line in path.read_text().splitlines()]


def _file_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def external_run(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("external")
    with EmbeddedStack(replicas=1, state_dir=base / "stand") as stand:
        manifest = stand.write_manifest()
        (base / "yours").mkdir()
        (base / "yours" / "esia-keys").symlink_to(base / "stand" / "esia-keys")  # it trusts the stand's ESIA
        with EmbeddedStack(replicas=2, services=("fts",), state_dir=base / "yours") as yours:
            group = yours.replica("fts", 1).process.pid  # type: ignore[union-attr]
            slo = write_small_run_slo(base)  # why not the packaged one: tests/small_runs.py
            # Flat, with declarations from the start: SO_REUSEPORT spreads connections, not
            # requests, and the packaged curve's first one or two users before the kill could all
            # land on one of the target's replicas (they did, in a clean-clone CI check).
            profile = base / "profile.yaml"
            profile.write_text("name: flat\nduration_s: 18\npeak_users: 5\ncurve: [1.0]\n"
                               "pacing_s: {esia_login: 1.5, declaration: 1.0}\n"
                               "mix: {esia_login: 1, declaration: 1}\n")
            schedule = base / "failover.yaml"
            schedule.write_text(f'actions:\n  - {{at: {KILL_AT}, service: fts, action: exec, '
                                f'command: "kill -9 -{group}"}}\n')
            completed = subprocess.run(
                [sys.executable, "-m", "gosstand", "peak", "--manifest", str(manifest),
                 "--target", f"fts={yours.urls['fts']}", "--failover", str(schedule), "--profile", str(profile),
                 "--users", "10", "--processes", "2", "--slo", str(slo),
                 "--output", str(base / "runs")],
                capture_output=True, text=True, timeout=300,
            )
            assert completed.returncode == 0, completed.stdout + completed.stderr
            (run,) = (base / "runs").iterdir()
            stand_fts_alive = stand.replica("fts", 1).process.poll() is None  # type: ignore[union-attr]
            yield {"run": run, "target": yours.urls["fts"], "group": group, "stand_fts_alive": stand_fts_alive,
                   "stdout": completed.stdout}


@pytest.mark.load
def test_fts_traffic_goes_to_the_target_and_its_survivor_takes_over(external_run) -> None:
    run = external_run["run"]
    (fault,) = _lines("failovers.jsonl", run)
    assert (fault["action"], fault["service"], fault["detail"]["exit_code"]) == ("exec", "fts", 0)
    assert fault["target"] == f"kill -9 -{external_run['group']}"
    requests = [r for r in _lines("requests*.jsonl", run) if r["service"] == "fts"]
    before = {r["replica"] for r in requests if r["ended"] < fault["injected_at"]}
    after = [r for r in requests if r["started"] > fault["injected_at"] + 0.05 and r["ok"]]
    assert before == {"fts-1", "fts-2"} and after  # the target's two replicas, then ...
    assert {r["replica"] for r in after} == {"fts-2"}  # ... its survivor: the stand's fts-1 never answered
    assert external_run["stand_fts_alive"]
    description = json.loads((run / "run.json").read_text())
    assert description["targets"]["fts"] == external_run["target"]
    assert description["external_services"] == ["fts"]


@pytest.mark.load
def test_the_target_is_reconciled_and_the_verdict_given(external_run) -> None:
    run = external_run["run"]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["reconciliation"]["acknowledged"] > 0
    assert summary["reconciliation"]["lost_writes"] == summary["reconciliation"]["duplicate_writes"] == 0
    assert {f["label"] for f in summary["failovers"]} == {f"exec kill -9 -{external_run['group']}"}
    assert summary["slo"]["title"] == "A small run"
    assert "Verdict: PASS" in external_run["stdout"]


@pytest.mark.load
def test_the_targets_canary_asks_the_target_with_a_head_of_its_base_url(external_run) -> None:
    run = external_run["run"]
    canary = json.loads((run / "run.json").read_text())["canary"]
    assert canary["fts"]["method"] == "HEAD" and canary["fts"]["url"] == external_run["target"] + "/"
    assert canary["esia"]["method"] == "GET" and canary["esia"]["url"].endswith("/_gosstand/health")
    samples = _lines("canary-fts.jsonl", run)
    # The stand runs one FTS replica, the target two: fts-2 can only be the target's.
    assert "fts-2" in {s.get("replica") for s in samples} and canary["fts"]["sent"] == len(samples)


@pytest.mark.load
def test_both_workers_send_traffic_and_the_failover_runs_once(external_run) -> None:
    run = external_run["run"]
    files = {path: _file_lines(path) for path in run.glob("requests-*.jsonl")}
    assert len(files) == 2 and all(files.values()), f"expected two workers' timelines, got {files.keys()}"
    assert len(_file_lines(run / "failovers.jsonl")) == 1  # the master's, not one per worker
    summary = json.loads((run / "summary.json").read_text())
    assert summary["totals"]["all"]["requests"] == sum(len(rows) for rows in files.values())
    assert json.loads((run / "run.json").read_text())["processes"] == 2


@pytest.mark.load
def test_no_person_is_signed_in_by_two_workers(external_run) -> None:
    """Every login reads its SMS code from the person's outbox; a code read by the wrong worker
    fails the login. With the people shared out, every login of the run succeeds."""
    run = external_run["run"]
    logins = [r for path in run.glob("requests-*.jsonl") for r in _file_lines(path)
              if r["journey"] == "esia_login" and r["name"].startswith("esia: otp")]
    assert logins and all(r["ok"] for r in logins)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["reconciliation"]["lost_writes"] == summary["reconciliation"]["duplicate_writes"] == 0
    assert "Verdict: PASS" in external_run["stdout"]


#: Schedules with the mistakes a user makes: each used to run the whole load and pass having
#: injected nothing (a typo of a service or replica), or end in a traceback with exit code 1.
SCHEDULES = {
    "SCHEDULE_WITH_A_TYPO": "actions:\n  - {at: 20, service: esai, replica: 1, action: kill}\n",
    "SCHEDULE_REPLICA_7": "actions:\n  - {at: 20, service: esia, replica: 7, action: kill}\n",
    "SCHEDULE_A_LIST": "- {at: 20, service: esia, replica: 1, action: kill}\n",
    "SCHEDULE_DURTION": "actions:\n  - {at: 20, service: fts, replica: 1, action: pause, durtion: 5}\n",
    "SCHEDULE_AT_WORDS": "actions:\n  - {at: 20 seconds, service: esia, replica: 1, action: kill}\n",
}


@pytest.mark.parametrize(("arguments", "said"), [
    (["--target", "esia=http://127.0.0.1:9"], "SERVICE one of fts"),
    (["--target", "fts=127.0.0.1:9"], "http(s) URL"),
    (["--target", "utko=http://127.0.0.1:9"], "sends no UTKO traffic"),  # the peak hour has none
    (["--profile", "PROFILE_WITH_A_TYPO"], "unknown journey(s) declarations"),
    # the default schedule's times are shares of the run: the FTS kill at 58 % of 15 s leaves no room
    (["--duration", "15"], "entry 2, at: the fault ends at 8.7 s and a 15-s run leaves no 10-s healthy window"),
    (["--target", "fts=http://127.0.0.1:9"], "fail it with an exec action"),  # the default schedule kills fts-1
    (["--failover", "SCHEDULE_WITH_A_TYPO"],
     "entry 1, service: 'esai' is not a service of this run (did you mean 'esia'?)"),
    (["--failover", "SCHEDULE_REPLICA_7"], "entry 1, replica: esia has 2 replica(s), numbered 1..2; not 7"),
    (["--failover", "SCHEDULE_A_LIST"], "expected a mapping with an 'actions' list"),
    (["--failover", "SCHEDULE_DURTION"], "entry 1, durtion: not a field of a pause action (did you mean 'duration'?)"),
    (["--failover", "SCHEDULE_AT_WORDS"], "entry 1, at: '20 seconds': expected seconds after the load starts"),
    (["--slo", "/nonexistent/slo.yaml"], "cannot read /nonexistent/slo.yaml"),
    (["--slo", "SLO_WITH_A_TYPO"], "objectives[0]: unknown key(s) ['every 10 s']"),  # checked before the load
])
def test_runs_that_cannot_work_are_refused_before_anything_starts(tmp_path, arguments, said) -> None:
    if "SLO_WITH_A_TYPO" in arguments:  # an unquoted comma in a flow mapping makes a stray key
        typo = tmp_path.parent / "typo-slo.yaml"
        typo.write_text("objectives:\n  - {name: Declaration success, every 10 s, metric: ttr_s, max: 10}\n")
        arguments = [str(typo) if item == "SLO_WITH_A_TYPO" else item for item in arguments]
    if "PROFILE_WITH_A_TYPO" in arguments:
        typo = tmp_path.parent / "typo-profile.yaml"
        typo.write_text("name: x\nduration_s: 10\npeak_users: 2\ncurve: [1]\nmix: {declarations: 1}\n")
        arguments = [str(typo) if item == "PROFILE_WITH_A_TYPO" else item for item in arguments]
    for name, text in SCHEDULES.items():
        if name in arguments:
            schedule = tmp_path.parent / f"{name}.yaml"
            schedule.write_text(text)
            arguments = [str(schedule) if item == name else item for item in arguments]
    completed = subprocess.run([sys.executable, "-m", "gosstand", "peak", *arguments, "--output", str(tmp_path)],
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 2 and said in completed.stderr
    assert not any(tmp_path.iterdir())
