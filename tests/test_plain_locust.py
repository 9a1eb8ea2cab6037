"""Plain ``locust -f`` on the package's locustfile, as a Locust user runs it: headless against a
running stand named by its manifest, writing the records ``gosstand report`` builds the report
from and serving the run's Prometheus series while it runs — and refusing, with exit code 2 and
one line, a run that names no stand.

A load test (a few seconds of it): run it under the load lock, as CI does."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import gosstand.loadtests
import httpx
import pytest
from gosstand.stand.ports import free_port
from gosstand.stand.stack import EmbeddedStack
from prometheus_client.parser import text_string_to_metric_families

LOCUSTFILE = Path(gosstand.loadtests.__file__).with_name("locustfile.py")
LOCUST = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]


def _locust(*arguments: str, env: dict[str, str] | None = None, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("GOSSTAND_")}
    return subprocess.run([*LOCUST, *arguments], capture_output=True, text=True, timeout=240, cwd=cwd,
                          stdin=subprocess.DEVNULL, env={**environment, **(env or {})})


def test_a_plain_run_without_a_stand_says_so_and_exits_2(tmp_path: Path) -> None:
    completed = _locust("--headless", cwd=tmp_path)
    assert completed.returncode == 2
    assert "say which stand to load: --gosstand-manifest" in completed.stderr
    completed = _locust("--headless", "--gosstand-esia-url", "http://127.0.0.1:9", "--gosstand-fts-url",
                        "http://127.0.0.1:9", "--gosstand-utko-url", "http://127.0.0.1:9",
                        "--gosstand-control-token", "t", cwd=tmp_path)
    assert completed.returncode == 2 and "esia at http://127.0.0.1:9 does not answer" in completed.stderr
    assert not (tmp_path / "gosstand-runs").exists()


def _scrape_while_running(locust: subprocess.Popen[str], port: int) -> float:
    """The run's request count from its /metrics, once it is above zero (bounded: 60 s)."""
    deadline = time.monotonic() + 60
    while locust.poll() is None and time.monotonic() < deadline:
        try:
            text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
        except httpx.TransportError:
            text = ""
        counted = sum(s.value for family in text_string_to_metric_families(text) for s in family.samples
                      if s.name == "gosstand_load_requests_total")
        if counted:
            return counted
        time.sleep(0.5)
    return 0.0


@pytest.mark.stack
@pytest.mark.slow
@pytest.mark.load
def test_plain_locust_headless_writes_a_run_gosstand_report_reads(tmp_path: Path) -> None:
    run_dir, port = tmp_path / "run", free_port()
    environment = {key: value for key, value in os.environ.items() if not key.startswith("GOSSTAND_")}
    with EmbeddedStack(replicas=1) as stack:
        manifest = stack.write_manifest()
        locust = subprocess.Popen(
            [*LOCUST, "--headless", "--gosstand-run-dir", str(run_dir), "--gosstand-users", "6",
             "--gosstand-declarants", "2", "--gosstand-metrics-port", str(port)], cwd=tmp_path,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            env={**environment, "GOSSTAND_MANIFEST": str(manifest), "GOSSTAND_DURATION": "8",
                 "GOSSTAND_PEAK_USERS": "3"})
        try:
            live = _scrape_while_running(locust, port)  # the run's series, scraped as Prometheus would
            _, stderr = locust.communicate(timeout=240)
        finally:
            locust.kill()
        assert locust.returncode in (0, 1), stderr[-3000:]  # 1: some request failed; judged below
    assert live > 0
    recorded = [json.loads(line) for path in run_dir.glob("requests-*.jsonl") for line in path.open()]
    final = {tuple(sorted(s.labels.items())): s.value
             for family in text_string_to_metric_families((run_dir / "metrics.prom").read_text())
             for s in family.samples if s.name == "gosstand_load_requests_total"}
    assert sum(final.values()) == len(recorded)
    assert recorded and {record["service"] for record in recorded} >= {"esia", "fts"}
    described = json.loads((run_dir / "run.json").read_text())
    assert described["runner"] == "locust" and described["ended"] > described["started"]
    assert described["problems"] == [] and (run_dir / "records.json").exists()  # the writes reconciled
    report = subprocess.run([sys.executable, "-m", "gosstand", "report", str(run_dir)], capture_output=True,
                            text=True, timeout=240, stdin=subprocess.DEVNULL)
    assert report.returncode in (0, 1), report.stdout[-2000:] + report.stderr[-2000:]  # a verdict, not broken
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["totals"]["all"]["requests"] == len(recorded)


@pytest.mark.stack
@pytest.mark.slow
@pytest.mark.load
def test_plain_locust_master_with_two_workers_gets_every_request(tmp_path: Path) -> None:
    """``locust --master`` on the locustfile, and workers told only where the master is
    (``GOSSTAND_REMOTE_WORKER=1 locust --worker``): they get the stand and the people from it, and
    the master's run directory holds each worker's records, as many as each says it sent."""
    run_dir, port = tmp_path / "run", free_port()
    environment = {key: value for key, value in os.environ.items() if not key.startswith("GOSSTAND_")}
    with EmbeddedStack(replicas=1) as stack:
        manifest = stack.write_manifest()
        master = subprocess.Popen(
            [*LOCUST, "--headless", "--master", "--expect-workers", "2", "--master-bind-host", "127.0.0.1",
             "--master-bind-port", str(port), "--gosstand-run-dir", str(run_dir), "--gosstand-users", "6",
             "--gosstand-declarants", "2"], cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True,
            env={**environment, "GOSSTAND_MANIFEST": str(manifest), "GOSSTAND_DURATION": "8",
                 "GOSSTAND_PEAK_USERS": "4"})
        workers = [subprocess.Popen([*LOCUST, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)],
                                    cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True,
                                    env={**environment, "GOSSTAND_REMOTE_WORKER": "1"}) for _ in range(2)]
        try:
            _, stderr = master.communicate(timeout=240)
            said = [worker.communicate(timeout=60)[1] for worker in workers]
        finally:
            for process in (master, *workers):
                process.kill()
        assert master.returncode in (0, 1), stderr[-3000:]
    sent = [int(n) for output in said for n in re.findall(r"done, (\d+) request records sent", output)]
    assert len(sent) == 2 and all(sent), said
    described = json.loads((run_dir / "run.json").read_text())
    assert described["problems"] == [] and described["processes"] == 2
    assert sorted(w["received"]["requests"] for w in described["workers"]) == sorted(sent)
    report = subprocess.run([sys.executable, "-m", "gosstand", "report", str(run_dir)], capture_output=True,
                            text=True, timeout=240, stdin=subprocess.DEVNULL)
    assert report.returncode in (0, 1), report.stdout[-2000:] + report.stderr[-2000:]
    assert json.loads((run_dir / "summary.json").read_text())["totals"]["all"]["requests"] == sum(sent)
