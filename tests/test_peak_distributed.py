"""A peak whose load comes from Locust workers on other hosts: ``gosstand peak --master`` here,
beside the stand, and two ``gosstand worker --master-host …`` each in a network namespace of its
own — hosts as far as the network goes: their loopback is not the master's, and they reach the
stand and the master only through veth pairs on a test network this module makes (10.231.x.0/24).

What a user relies on: the workers get the run from the master (they are given nothing else),
the people are shared between them, every request either sent is in the master's one report,
and the failover ran and was measured there.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from gosstand.scenarios.control import StackControl
from gosstand.stand.manifest import StackManifest
from gosstand.stand.stack import EmbeddedStack
from small_runs import write_small_run_slo

pytestmark = [pytest.mark.stack, pytest.mark.slow, pytest.mark.load]

GOSSTAND = [sys.executable, "-m", "gosstand"]
TOKEN = "distributed-test"


def _why_no_namespaces() -> str | None:
    if shutil.which("ip") is None:
        return "network namespaces need iproute2's `ip`, which is not installed"
    if os.geteuid() != 0:
        return "network namespaces (ip netns add, veth pairs) need root"
    return None


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=30)


@dataclass(frozen=True)
class NamespaceNetwork:
    """The master's address on the test network, and a namespace per worker host."""

    host: str
    namespaces: tuple[str, ...]


def _free_subnet() -> int:
    """A third octet of 10.231.x.0/24 that no interface of this host uses (two runs at once)."""
    taken = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True, timeout=10).stdout
    for _ in range(200):  # bounded
        octet = secrets.randbelow(250)
        if f"10.231.{octet}." not in taken and f"10.231.{octet + 1}." not in taken:
            return octet
    raise RuntimeError("no free subnet of 10.231.0.0/16")


@pytest.fixture(scope="module")
def test_network() -> Iterator[NamespaceNetwork]:
    """Two namespaces, each joined to this host by a veth pair on a /24 of its own; the first
    pair's host end (10.231.x.1) is where the stand and the master listen, and each namespace
    routes to it through its own pair. Names are unique per run, and everything made is removed
    at the end, whatever happened."""
    reason = _why_no_namespaces()
    if reason:
        pytest.skip(reason)
    tag = secrets.token_hex(3)
    octet = _free_subnet()
    namespaces = tuple(f"gosstand-{tag}-{i}" for i in range(2))
    links = tuple(f"gs{tag}h{i}" for i in range(2))
    try:
        for i, (namespace, link) in enumerate(zip(namespaces, links, strict=True)):
            _ip("netns", "add", namespace)
            _ip("link", "add", link, "type", "veth", "peer", "name", f"gs{tag}n{i}")
            _ip("link", "set", f"gs{tag}n{i}", "netns", namespace)
            _ip("addr", "add", f"10.231.{octet + i}.1/24", "dev", link)
            _ip("link", "set", link, "up")
            _ip("-n", namespace, "addr", "add", f"10.231.{octet + i}.2/24", "dev", f"gs{tag}n{i}")
            _ip("-n", namespace, "link", "set", f"gs{tag}n{i}", "up")
            _ip("-n", namespace, "route", "add", "default", "via", f"10.231.{octet + i}.1")
        yield NamespaceNetwork(host=f"10.231.{octet}.1", namespaces=namespaces)
    finally:
        for namespace in namespaces:  # deleting a namespace deletes the veth ends in it, and their peers
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, timeout=30)
        for link in links:
            subprocess.run(["ip", "link", "del", link], capture_output=True, timeout=30)


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def run(test_network: NamespaceNetwork, tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("distributed")
    profile = base / "profile.yaml"
    profile.write_text("name: flat\nduration_s: 20\npeak_users: 6\ncurve: [1.0]\n"
                       "pacing_s: {esia_login: 1.0, declaration: 1.0}\nmix: {esia_login: 1, declaration: 1}\n")
    schedule = base / "failover.yaml"
    schedule.write_text("actions:\n  - {at: 6, service: fts, replica: 1, action: kill}\n")
    host = test_network.host
    stand = subprocess.Popen([*GOSSTAND, "up", "--host", host, "--state-dir", str(base / "stand"),
                              "--control-token", TOKEN], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    workers: list[subprocess.Popen[str]] = []
    try:
        manifest_path = base / "stand" / "stack.json"
        for _ in range(600):  # up to 60 s for the stand to start
            if manifest_path.exists() or stand.poll() is not None:
                break
            time.sleep(0.1)
        assert manifest_path.exists(), f"the stand did not start: {stand.stderr.read() if stand.stderr else ''}"
        port = _free_port(host)
        master = subprocess.Popen(
            [*GOSSTAND, "peak", "--master", "--expect-workers", "2", "--master-bind-host", host,
             "--master-bind-port", str(port), "--workers-wait", "60", "--manifest", str(manifest_path),
             "--profile", str(profile), "--users", "8", "--failover", str(schedule),
             "--slo", str(write_small_run_slo(base)), "--output", str(base / "runs"), "--canary-rate", "50"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for number, namespace in enumerate(test_network.namespaces):
            home = base / f"worker-{number}"  # the worker's working directory: it must stay empty
            home.mkdir()
            workers.append(subprocess.Popen(
                ["ip", "netns", "exec", namespace, *GOSSTAND, "worker", "--master-host", host,
                 "--master-port", str(port)], cwd=home, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        try:
            stdout, _ = master.communicate(timeout=240)
        finally:
            _stop(master)
        said = [worker.communicate(timeout=60)[0] for worker in workers]
        manifest = StackManifest.load(manifest_path)
        control = StackControl(manifest.urls, TOKEN)
        fixtures_dir = next((base / "runs").iterdir())
        people = json.loads((fixtures_dir / "fixtures.json").read_text())["users"]
        signed_in = [index for index, person in enumerate(people) if control.sms_messages(person["phone"])]
        return {"code": master.returncode, "stdout": stdout, "workers": said, "dir": fixtures_dir,
                "signed_in": signed_in, "people": len(people), "homes": [base / f"worker-{n}" for n in range(2)]}
    finally:
        for worker in workers:
            _stop(worker)
        _stop(stand)


def test_one_report_holds_every_request_the_workers_sent(run) -> None:
    assert run["code"] == 0, run["stdout"] + "\n".join(run["workers"])
    sent = []
    for output in run["workers"]:
        (line,) = re.findall(r"gosstand worker \d+: done, (\d+) request records sent", output)
        sent.append(int(line))
    assert all(sent), f"each worker sent load: {sent}"
    summary = json.loads((run["dir"] / "summary.json").read_text())
    assert summary["totals"]["all"]["requests"] == sum(sent)
    # The master wrote each worker's records as they came; no worker wrote a file of its own.
    assert sorted(p.name.split("-")[1] for p in run["dir"].glob("requests-*.jsonl")) == ["w0", "w1"]
    assert all(not any(home.iterdir()) for home in run["homes"])
    ledger = json.loads((run["dir"] / "workers.json").read_text())
    assert ledger["problems"] == [] and len(ledger["workers"]) == 2


def test_the_people_are_shared_between_the_workers(run) -> None:
    """Worker i signs in as people i, i + 2, … of the seeded list: the stand's own SMS outboxes
    show both workers' people signed in, and every login of the run got its code."""
    assert {index % 2 for index in run["signed_in"]} == {0, 1}, run["signed_in"]
    logins = [json.loads(line) for path in run["dir"].glob("requests-*.jsonl")
              for line in path.read_text().splitlines()]
    codes = [r for r in logins if r["journey"] == "esia_login" and r["name"].startswith("esia: otp")]
    assert codes and all(r["ok"] for r in codes)


def test_the_failover_ran_on_the_master_and_was_measured(run) -> None:
    failovers = [json.loads(line) for line in (run["dir"] / "failovers.jsonl").read_text().splitlines()]
    assert len(failovers) == 1 and failovers[0]["took_effect"]
    summary = json.loads((run["dir"] / "summary.json").read_text())
    (figures,) = summary["failovers"]
    assert figures["recovery_to_slo_s"] is not None and figures["requests"] > 0
    assert figures["physical"]["observer"] == "load" and figures["physical"]["ttr_s"] is not None
    assert figures["canary"] is not None, "the canary ran beside the master and saw the failover"


def test_a_worker_that_disappears_mid_run_makes_the_run_broken(tmp_path) -> None:
    """A worker killed while it sends load: the master's report would lack what it had not yet
    streamed, so the run is broken (exit 2) and the worker is named — never a verdict on part of
    the load."""
    profile = tmp_path / "profile.yaml"
    profile.write_text("name: flat\nduration_s: 12\npeak_users: 4\ncurve: [1.0]\n"
                       "pacing_s: {esia_login: 0.5, declaration: 0.5}\nmix: {esia_login: 1, declaration: 1}\n")
    port = _free_port("127.0.0.1")
    with EmbeddedStack(replicas=1) as stack:
        master = subprocess.Popen(
            [*GOSSTAND, "peak", "--master", "--expect-workers", "2", "--master-bind-host", "127.0.0.1",
             "--master-bind-port", str(port), "--workers-wait", "60", "--manifest", str(stack.write_manifest()),
             "--profile", str(profile), "--users", "8", "--failover", "none", "--canary-rate", "0",
             "--output", str(tmp_path / "runs")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        workers = [subprocess.Popen([*GOSSTAND, "worker", "--master-host", "127.0.0.1", "--master-port", str(port)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
        try:
            streamed: list[Path] = []
            for _ in range(600):  # up to 60 s for worker 1's first batch to reach the master
                streamed = [p for p in (tmp_path / "runs").glob("*/requests-w1-*.jsonl") if p.stat().st_size]
                if streamed or master.poll() is not None:
                    break
                time.sleep(0.1)
            assert streamed, "worker 1 never streamed a record"
            # the master numbers workers in the order they join: find index 1 by the pid its file names
            pid = int(streamed[0].stem.rsplit("-", 1)[1])
            (index_1,) = [worker for worker in workers if worker.pid == pid]
            index_1.kill()
            stdout, stderr = master.communicate(timeout=240)
        finally:
            for process in (master, *workers):
                _stop(process)
    assert master.returncode == 2, stdout + stderr
    assert "worker 1 (" in stderr and "never said it had sent its last records" in stderr
    assert "Verdict: BROKEN" in stdout


def test_a_worker_beyond_those_expected_is_refused_and_the_run_is_whole(tmp_path) -> None:
    """The people are shared out by the number of workers expected: one more would sign in as
    people another holds. It is told so and exits 2; the run goes on with those expected."""
    profile = tmp_path / "profile.yaml"
    profile.write_text("name: flat\nduration_s: 8\npeak_users: 2\ncurve: [1.0]\n"
                       "pacing_s: {esia_login: 0.5}\nmix: {esia_login: 1}\n")
    port = _free_port("127.0.0.1")
    with EmbeddedStack(replicas=1) as stack:
        master = subprocess.Popen(
            [*GOSSTAND, "peak", "--master", "--expect-workers", "1", "--master-bind-host", "127.0.0.1",
             "--master-bind-port", str(port), "--workers-wait", "60", "--manifest", str(stack.write_manifest()),
             "--profile", str(profile), "--users", "4", "--failover", "none", "--canary-rate", "0",
             "--output", str(tmp_path / "runs")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        workers = [subprocess.Popen([*GOSSTAND, "worker", "--master-host", "127.0.0.1", "--master-port", str(port)],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(2)]
        try:
            stdout, _ = master.communicate(timeout=240)
            said = [(worker.communicate(timeout=60)[0], worker.returncode) for worker in workers]
        finally:
            for process in (master, *workers):
                _stop(process)
    refused = [(output, code) for output, code in said if "the master refused this worker" in output]
    assert len(refused) == 1 and refused[0][1] == 2, said
    assert "the run expects 1 worker(s)" in stdout
    (run_dir,) = (tmp_path / "runs").iterdir()
    ledger = json.loads((run_dir / "workers.json").read_text())
    assert ledger["problems"] == [] and len(ledger["workers"]) == 1
    assert master.returncode in (0, 1), stdout
