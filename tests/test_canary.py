"""The canary: a process per service sending a fixed timetable of cheap requests beside the load.

What a user relies on: the timetable holds whatever the service does (a hang does not thin it),
each failure lands in its class (timeout, refused, reset), half the requests open a connection
and half ride kept-alive ones, the process ends by itself, a canary that cannot reach its
service breaks the run before the load. That in a real run the canary sees a replica it was
talking to die is checked on the killed-replica run of ``test_peak_run.py`` (one run serves both).

The servers here are loopback sockets on threads, each doing one thing to every connection.
"""

from __future__ import annotations

import json
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psutil
import pytest
from gosstand.loadtests.canaries import start_canaries
from gosstand.loadtests.canary import KEPT_ALIVE
from gosstand.mocks.core.middleware import REPLICA_HEADER
from gosstand.stand.ports import free_port
from gosstand.stand.records import CanarySample

CANARY = [sys.executable, "-m", "gosstand.loadtests.canary"]


class _TcpServer:
    """Accepts every connection and hands it to ``handle``; remembers when each came."""

    def __init__(self, handle: Callable[[socket.socket], None]) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=1024)
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self.handle = handle
        self.accepted: list[float] = []
        self.held: list[socket.socket] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            self.accepted.append(time.time())
            self.held.append(connection)
            self.handle(connection)

    @contextmanager
    def running(self) -> Iterator[_TcpServer]:
        self.thread.start()
        try:
            yield self
        finally:
            self.stopping.set()
            self.thread.join(timeout=5)
            for connection in self.held:
                connection.close()
            self.listener.close()


def _never_answer(connection: socket.socket) -> None:
    """A blackholed replica: the kernel accepted the connection, nothing ever answers."""


def _reset(connection: socket.socket) -> None:
    """A replica dying under the request: close with SO_LINGER 0, which sends a RST."""
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()


class _Health(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps connections alive

    def do_GET(self) -> None:  # noqa: N802 — the standard library's name
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header(REPLICA_HEADER, "test-1")
        self.end_headers()
        self.wfile.write(body)

    def do_HEAD(self) -> None:  # noqa: N802
        """A system of the user's that wants a token everywhere."""
        self.send_response(401)
        self.send_header("Content-Length", "0")
        self.send_header(REPLICA_HEADER, "test-1")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


class _FailingHead(_Health):
    """Answers a GET, fails every HEAD: alive for a one-off check, not for the canary."""

    def do_HEAD(self) -> None:  # noqa: N802
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()


@contextmanager
def _health_server(handler: type[BaseHTTPRequestHandler] = _Health) -> Iterator[tuple[int, list[int]]]:
    """A keep-alive HTTP server (healthy by default); yields its port and a growing list with
    one entry per connection it accepted."""
    connections: list[int] = []

    class Counting(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 1024  # the standard library's 5 drops new connections under a burst

        def process_request(self, request: Any, client_address: Any) -> None:
            connections.append(1)
            super().process_request(request, client_address)

    server = Counting(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], connections
    finally:
        server.shutdown()
        server.server_close()


def _run_canary(tmp_path: Path, url: str, *, rate: float, timeout: float,
                external: bool = False) -> tuple[list[CanarySample], dict[str, Any]]:
    """Run a canary process through its first second (however long it takes to start), then
    stop it as its run would, with SIGTERM; its samples and summary."""
    output = tmp_path / "canary-x.jsonl"
    process = subprocess.Popen(
        [*CANARY, "--service", "x", "--url", url, "--output", str(output), "--rate", f"{rate:g}",
         "--timeout", f"{timeout:g}", "--until", f"{time.time() + 120:.3f}", *(["--external"] if external else [])],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        first = json.loads(process.stdout.readline())  # written once its first second has ended
        assert "first_second" in first, first
        process.send_signal(signal.SIGTERM)
        rest, errors = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, errors
    (summary,) = [json.loads(line)["summary"] for line in rest.splitlines() if "summary" in line]
    samples = [CanarySample.from_json(json.loads(line)) for line in output.read_text().splitlines()]
    assert summary["sent"] == len(samples) >= rate  # at least its first second
    return samples, summary


def _assert_timetable(samples: list[CanarySample], summary: dict[str, Any]) -> None:
    """Request k was due at t0 + k/rate, and every slot up to the last one has its one sample."""
    t0, rate = summary["started"], summary["rate"]
    slots = [round((sample.started - t0) * rate) for sample in samples]
    assert all(abs(sample.started - (t0 + slot / rate)) < 1e-6 for sample, slot in zip(samples, slots, strict=True))
    assert sorted(slots) == list(range(len(samples))), "a slot of the timetable was skipped or sent twice"


def test_a_hanging_service_does_not_thin_the_timetable(tmp_path: Path) -> None:
    rate, timeout = 100, 0.3
    with _TcpServer(_never_answer).running() as server:
        samples, summary = _run_canary(tmp_path, f"http://127.0.0.1:{server.port}", rate=rate, timeout=timeout)
    _assert_timetable(samples, summary)
    assert samples and {s.failure for s in samples} == {"timeout"} and not any(s.ok for s in samples)
    # Each request sat out its whole timeout, and none waited behind another.
    assert all(timeout - 0.005 <= s.ended - s.started < timeout + 2.0 for s in samples)
    # They were really sent on time, side by side: while one hung, the next ones reached the
    # server (a canary sending one at a time would open one connection per timeout).
    sending = [t for t in server.accepted if t >= summary["started"]]
    busiest = max(sum(1 for u in sending if t <= u < t + timeout) for t in sending)
    assert busiest >= 10, f"at most {busiest} connections in any {timeout} s"


def test_a_refused_port_is_refused(tmp_path: Path) -> None:
    samples, summary = _run_canary(tmp_path, f"http://127.0.0.1:{free_port()}", rate=100, timeout=0.3)
    _assert_timetable(samples, summary)
    assert samples and {(s.failure, s.status, s.ok) for s in samples} == {("refused", 0, False)}


def test_a_connection_reset_is_a_reset(tmp_path: Path) -> None:
    with _TcpServer(_reset).running() as server:
        samples, summary = _run_canary(tmp_path, f"http://127.0.0.1:{server.port}", rate=100, timeout=0.3)
    _assert_timetable(samples, summary)
    assert samples and {(s.failure, s.ok) for s in samples} == {("reset", False)}


def test_half_the_requests_open_a_connection_and_half_ride_kept_alive_ones(tmp_path: Path) -> None:
    with _health_server() as (port, connections):
        samples, summary = _run_canary(tmp_path, f"http://127.0.0.1:{port}", rate=100, timeout=2.0)
        accepted = len(connections)
    _assert_timetable(samples, summary)
    unlike = [s for s in samples if not (s.ok and s.status == 200 and s.replica == "test-1")]
    assert not unlike, unlike[:5]
    kinds = Counter(s.connection for s in samples)
    assert abs(kinds["new"] - kinds["reused"]) <= 1, kinds
    # The server saw it: one connection per new request, and the kept-alive pool's.
    assert accepted == kinds["new"] + KEPT_ALIVE


def test_a_system_of_the_users_is_alive_whatever_it_answers_below_500(tmp_path: Path) -> None:
    with _health_server() as (port, _):
        samples, summary = _run_canary(tmp_path, f"http://127.0.0.1:{port}/api", rate=50, timeout=2.0,
                                       external=True)
    assert summary["method"] == "HEAD" and summary["url"] == f"http://127.0.0.1:{port}/api/"
    assert samples and all(s.ok and s.status == 401 and s.failure is None for s in samples)


def test_the_canary_stops_by_itself_at_its_deadline(tmp_path: Path) -> None:
    output = tmp_path / "canary-x.jsonl"
    until = time.time() + 1.0
    completed = subprocess.run(  # nobody stops it: it must end by itself (or time out here)
        [*CANARY, "--service", "x", "--url", f"http://127.0.0.1:{free_port()}", "--output", str(output),
         "--rate", "50", "--timeout", "0.2", "--until", f"{until:.3f}"],
        capture_output=True, text=True, timeout=30,
    )
    assert completed.returncode == 0, completed.stderr
    (summary,) = [json.loads(line)["summary"] for line in completed.stdout.splitlines() if "summary" in line]
    samples = [CanarySample.from_json(json.loads(line)) for line in output.read_text().splitlines()]
    assert summary["sent"] == len(samples) and all(s.started < until for s in samples)


def test_the_canary_stops_when_the_run_that_started_it_is_gone(tmp_path: Path) -> None:
    output = tmp_path / "canary-x.jsonl"
    report = tmp_path / "report.jsonl"
    # A parent that starts the canary for a minute, waits until it sends, and dies.
    parent = (
        "import subprocess, sys, time, pathlib\n"
        f"canary = subprocess.Popen({CANARY!r} + ['--service', 'x', '--url', 'http://127.0.0.1:{free_port()}',"
        f" '--output', {str(output)!r}, '--rate', '50', '--timeout', '0.2', '--until', str(time.time() + 60)],"
        f" stdout=open({str(report)!r}, 'w'))\n"
        "print(canary.pid, flush=True)\n"
        f"while not pathlib.Path({str(output)!r}).exists() or not pathlib.Path({str(output)!r}).stat().st_size:\n"
        "    time.sleep(0.02)\n"
    )
    completed = subprocess.run([sys.executable, "-c", parent], capture_output=True, text=True, timeout=30)
    assert completed.returncode == 0, completed.stderr
    orphan = int(completed.stdout.strip())
    orphaned_at = time.time()
    try:
        psutil.Process(orphan).wait(timeout=10)
    except psutil.NoSuchProcess:
        pass
    except psutil.TimeoutExpired:
        psutil.Process(orphan).kill()
        raise AssertionError("the canary outlived its parent") from None
    (summary,) = [json.loads(line)["summary"] for line in report.read_text().splitlines() if "summary" in line]
    assert summary["ended"] < orphaned_at + 10 and summary["sent"] == len(output.read_text().splitlines())


def test_a_canary_that_cannot_reach_its_service_is_said_before_the_load(tmp_path: Path) -> None:
    with _health_server() as (port, _):
        canaries = start_canaries({"up": f"http://127.0.0.1:{port}", "down": f"http://127.0.0.1:{free_port()}"},
                                  external=(), run_dir=tmp_path, rate=50, timeout=0.3, lasts_s=30)
        with canaries:
            (problem,) = canaries.unreachable()
            summaries, ended_early = canaries.stop()
    assert problem.startswith("the down canary could not reach its service: all 50 requests of its first second "
                              "(GET http://127.0.0.1:")
    assert "failed (refused 50; first: ConnectionRefusedError" in problem
    assert ended_early == [] and set(summaries) == {"up", "down"}
    assert summaries["up"]["ok"] == summaries["up"]["sent"] > 0 and summaries["down"]["ok"] == 0
    for service in ("up", "down"):
        assert (tmp_path / f"canary-{service}.jsonl").read_text().count("\n") == summaries[service]["sent"]


@pytest.mark.parametrize(("arguments", "said"), [
    (["--canary-rate", "-1"], "--canary-rate must be 0 (no canary) or more"),
    (["--canary-timeout", "0"], "--canary-timeout above 0 and at most 10 s"),
    (["--canary-rate", "2000", "--canary-timeout", "1"], "--canary-rate × --canary-timeout is 2000"),
])
def test_canary_options_that_cannot_work_are_refused_before_anything_starts(tmp_path: Path, arguments: list[str],
                                                                            said: str) -> None:
    completed = subprocess.run([sys.executable, "-m", "gosstand", "peak", *arguments, "--output", str(tmp_path)],
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 2 and said in completed.stderr, completed.stderr
    assert not any(tmp_path.iterdir())


@pytest.mark.stack
@pytest.mark.slow
@pytest.mark.load
def test_a_run_whose_canary_cannot_reach_its_target_is_broken_before_the_load(tmp_path: Path) -> None:
    with _health_server(_FailingHead) as (port, _):
        completed = subprocess.run(
            [sys.executable, "-m", "gosstand", "peak", "--target", f"fts=http://127.0.0.1:{port}",
             "--replicas", "1", "--users", "4", "--failover", "none", "--output", str(tmp_path / "runs")],
            capture_output=True, text=True, timeout=300,
        )
    assert completed.returncode == 2, completed.stdout + completed.stderr
    (line,) = completed.stderr.strip().splitlines()
    assert line.startswith("gosstand peak: the fts canary could not reach its service: all 200 requests of its first "
                           f"second (HEAD http://127.0.0.1:{port}/) failed (5xx ")
    assert "first: HEAD answered 503" in line
    (run,) = (tmp_path / "runs").iterdir()
    assert json.loads((run / "run.json").read_text())["problems"] == [line.removeprefix("gosstand peak: ")]
    assert not list(run.glob("requests*.jsonl")), "the load ran"
    assert not [p for p in psutil.process_iter(["cmdline"]) if str(run) in " ".join(p.info["cmdline"] or ())]
