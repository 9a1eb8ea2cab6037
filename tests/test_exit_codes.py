"""The exit codes a CI pipeline gates on, for ``peak``, ``report`` and ``conformance``: 0 every
objective met, 1 an objective breached, 2 the run could not do what it was asked — with one line
on stderr saying why. A run whose scheduled fault never happened is never a PASS."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from gosstand.reports.cli import main as report_main
from gosstand.reports.synthetic import START, steady_requests, write_run
from gosstand.stand.actions import ReplicaAction, perform
from gosstand.stand.ports import free_port
from gosstand.stand.stack import EmbeddedStack
from small_runs import write_writes_only_slo

GOSSTAND = [sys.executable, "-m", "gosstand"]


def _gosstand(*arguments: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GOSSTAND, *arguments], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def test_report_of_a_run_whose_scheduled_kill_never_ran_is_broken(tmp_path: Path) -> None:
    schedule = [{"entry": 1, "action": "kill", "service": "fts", "replica": 1, "at": 20.0}]
    write_run(tmp_path, requests=steady_requests(duration=60), info={"started": START, "schedule": schedule})
    assert report_main([str(tmp_path)]) == 2  # no failovers.jsonl: the fault never happened
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert not summary["verdict"]["passed"] and "never ran" in summary["verdict"]["broken"][0]
    assert "BROKEN" in (tmp_path / "report.html").read_text()
    dead = {"entry": 1, "action": "kill", "service": "fts", "replica": 1, "injected_at": START + 20,
            "target": "fts-1", "took_effect": False, "evidence": "pid 4242 was not running"}
    (tmp_path / "failovers.jsonl").write_text(json.dumps(dead) + "\n")
    assert report_main([str(tmp_path)]) == 2
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["verdict"]["broken"] == ["failover entry 1 (kill fts-1 at 20 s) did not take effect: "
                                            "pid 4242 was not running"]


def test_conformance_against_a_target_that_does_not_answer_fails_closed() -> None:
    completed = _gosstand("conformance", "--fts-url", "http://127.0.0.1:9", "-k", "fts")
    assert completed.returncode == 2, completed.stdout[-2000:]
    assert completed.stderr.strip().splitlines()[-1] == ("gosstand conformance: fts at http://127.0.0.1:9 does "
                                                         "not answer (ConnectError)")


def test_conformance_that_selects_nothing_is_not_a_pass() -> None:
    completed = _gosstand("conformance", "-k", "no_such_test_anywhere")
    assert completed.returncode == 2
    assert "no conformance test was selected" in completed.stderr


@pytest.mark.stack
def test_conformance_where_every_test_skips_is_not_a_pass() -> None:
    """A target without a token or control API: every authenticated test skips. Plain pytest
    says 0 — a green build that checked nothing."""
    with EmbeddedStack(replicas=1, services=("fts",)) as stack:
        completed = _gosstand("conformance", "--fts-url", stack.urls["fts"], "-k", "fts and behaviour",
                              timeout=300)
    assert completed.returncode == 2, completed.stdout[-2000:]
    assert "no conformance test ran" in completed.stderr and "skipped" in completed.stderr


def test_peak_against_a_stack_that_does_not_answer_stops_before_the_load(tmp_path: Path) -> None:
    manifest = tmp_path / "stack.json"
    manifest.write_text(json.dumps({"backend": "embedded", "control_token": "t", "replicas": {},
                                    "urls": {"esia": "http://127.0.0.1:9", "fts": "http://127.0.0.1:9"}}))
    completed = _gosstand("peak", "--manifest", str(manifest), "--failover", "none",
                          "--output", str(tmp_path / "runs"))
    assert completed.returncode == 2
    assert "gosstand peak: esia at http://127.0.0.1:9 does not answer" in completed.stderr
    assert "Load (" not in completed.stdout
    (run,) = (tmp_path / "runs").iterdir()
    assert not list(run.glob("requests*.jsonl"))


def test_peak_master_with_local_processes_too_is_refused_before_anything_starts(tmp_path: Path) -> None:
    completed = _gosstand("peak", "--master", "--expect-workers", "2", "--processes", "2",
                          "--output", str(tmp_path / "runs"))
    assert completed.returncode == 2
    assert "--master shares the load among workers on other hosts" in completed.stderr
    assert not (tmp_path / "runs").exists()


@pytest.mark.stack
def test_replica_actions_leave_evidence_and_a_dead_replica_cannot_be_killed_again() -> None:
    with EmbeddedStack(replicas=2, services=("fts",)) as stack:
        paused = perform(stack.manifest(), "fts", 1, ReplicaAction.PAUSE)
        assert paused.took_effect and paused.seen.endswith("stopped")
        resumed = perform(stack.manifest(), "fts", 1, ReplicaAction.UNPAUSE)
        assert resumed.took_effect and not resumed.seen.endswith("stopped")
        killed = perform(stack.manifest(), "fts", 1, ReplicaAction.KILL)
        assert killed.took_effect and killed.seen.endswith("gone")
        again = perform(stack.manifest(), "fts", 1, ReplicaAction.KILL)
        assert not again.took_effect and "was not running" in again.seen


@pytest.mark.stack
@pytest.mark.slow
@pytest.mark.load
def test_a_run_whose_scheduled_fault_met_no_request_is_broken_not_pass(tmp_path: Path) -> None:
    """A fault rule on a path no journey sends (a typo a schedule can hold) injects nothing: the
    run used to end 'Verdict: PASS'. The verdict turns on the fault's evidence, so the SLO is the
    writes-only one (tests/small_runs.py): its 5-s healthy window lets the run end 5 s after the
    fault, where the 10-s one of a small run needed 10."""
    profile = tmp_path / "profile.yaml"
    profile.write_text("name: flat\nduration_s: 10\npeak_users: 4\ncurve: [1.0]\n"
                       "pacing_s: {esia_login: 1.5, declaration: 1.0}\nmix: {esia_login: 1, declaration: 1}\n")
    schedule = tmp_path / "failover.yaml"
    schedule.write_text("actions:\n  - {at: 2, service: fts, action: fault, duration: 2,"
                        " fault: {kind: error, status: 503, path: /api/v1/declaratoins}}\n")
    completed = _gosstand("peak", "--profile", str(profile), "--users", "8", "--failover", str(schedule),
                          "--slo", str(write_writes_only_slo(tmp_path)), "--output", str(tmp_path / "runs"),
                          timeout=300)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert "Verdict: BROKEN" in completed.stdout and "Verdict: PASS" not in completed.stdout
    assert "failover entry 1 (fault fts at 2 s) did not take effect: no request met the fault rule" \
        in completed.stderr


@pytest.mark.stack
@pytest.mark.slow
def test_a_master_whose_workers_never_join_gives_the_run_up_before_the_load(tmp_path: Path) -> None:
    """Nobody joins: the run is broken (exit 2), said, and sent nothing. (Not a load test: no
    worker, no canary, no request — the spread phase can run it; tests/test_peak_distributed.py
    has the runs whose workers do join.)"""
    with EmbeddedStack(replicas=1) as stack:
        completed = subprocess.run(
            [*GOSSTAND, "peak", "--master", "--expect-workers", "1", "--master-bind-host", "127.0.0.1",
             "--master-bind-port", str(free_port()), "--workers-wait", "2",
             "--manifest", str(stack.write_manifest()), "--failover", "none", "--canary-rate", "0",
             "--duration", "10", "--output", str(tmp_path / "runs")],
            capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert "0 of the 1 expected worker(s) joined the run" in completed.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert not list(run_dir.glob("requests*.jsonl"))


def test_a_port_in_use_is_said_in_one_line_not_a_backtrace() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        completed = _gosstand("up", "--replicas", "1", "--port", f"fts={port}", timeout=120)
    assert completed.returncode == 2
    assert f"port {port} on 127.0.0.1 is in use by another process" in completed.stderr
    assert "panicked" not in completed.stderr and "Traceback" not in completed.stderr
    assert _gosstand("up", "--port", "fts=http").returncode == 2


def test_a_port_another_stack_serves_is_in_use_too() -> None:
    """Another stack's replicas listen with SO_REUSEPORT, as this one's would: their binds both
    succeed, and clients of the port would be spread over two stacks sharing no state."""
    with socket.socket() as other_stack:
        other_stack.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other_stack.bind(("127.0.0.1", 0))
        other_stack.listen()
        port = other_stack.getsockname()[1]
        completed = _gosstand("up", "--replicas", "1", "--port", f"fts={port}", timeout=120)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert f"port {port} on 127.0.0.1 is in use by another process" in completed.stderr
    assert "Traceback" not in completed.stderr


@pytest.mark.stack
def test_conformance_of_a_target_without_an_esia_url_tests_what_it_was_given() -> None:
    """README's run against a deployment of one's own FTS with a ready token: ESIA's contract
    test has no URL to go to and skips, saying which option it needs — not an error that fails
    the run as if the target broke a rule (exit 1)."""
    from gosstand.conformance.targets import Target, log_in

    with EmbeddedStack(replicas=1) as stack:
        token = log_in(Target(kind="urls", urls=dict(stack.urls), control_token=stack.control_token)).access_token
        completed = _gosstand("conformance", "--fts-url", stack.urls["fts"], "--access-token", token,
                              "--contract-examples", "1", "-k", "test_esia_contract or test_fts_contract",
                              "-rs", timeout=300)
    assert completed.returncode == 0, completed.stdout[-3000:]
    assert "no esia URL for this target: pass --esia-url" in completed.stdout


@pytest.mark.parametrize("command", [["containers", "build", "--offline"], ["up", "--backend", "containers"],
                                     ["peak", "--backend", "containers", "--failover", "none"]])
def test_no_docker_daemon_is_said_in_one_line_not_a_traceback(command: list[str], tmp_path: Path) -> None:
    """The images cannot be built (here: no daemon at DOCKER_HOST; elsewhere no registry, no
    debootstrap): the container commands say why and exit 2."""
    environment = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"}
    output = ["--output", str(tmp_path / "runs")] if command[0] == "peak" else []
    completed = subprocess.run([*GOSSTAND, *command, *output], capture_output=True, text=True, timeout=120,
                               stdin=subprocess.DEVNULL, env=environment)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert "no Docker daemon answers" in completed.stderr.strip().splitlines()[-1]
    assert "Traceback" not in completed.stderr


def test_the_account_journey_without_a_gost_engine_is_refused_before_anything_starts(tmp_path: Path) -> None:
    """A fresh Debian machine without libengine-gost-openssl (here: the engines' directory moved
    away): the peak hour's account_login signs with GOST, so the run says what to install, exit 2."""
    environment = {**os.environ, "OPENSSL_ENGINES": str(tmp_path / "no-engines")}
    completed = subprocess.run([*GOSSTAND, "peak", "--failover", "none", "--output", str(tmp_path / "runs")],
                               capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, env=environment)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert "apt-get install -y libengine-gost-openssl" in completed.stderr.strip().splitlines()[-1]
    assert "Starting the" not in completed.stdout and not (tmp_path / "runs").exists()
