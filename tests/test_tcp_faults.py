"""The TCP fault layer: blackhole, reset (before or after the replica takes the request) and
partition of one replica's path, on a real embedded
stack, as a client sees them — and the schedule actions that drive them, with their evidence.

Each action is carried out as a run carries it out (:func:`gosstand.loadtests.failover.carry_out`);
the time the fault holds is the moment the runner would sleep, so the test does its checks
there instead of sleeping, then sees everything return once the runner heals the fault.
The stack has one client, this test, so the layer's round robin is known: of two fresh
connections in a row, one goes to each replica.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from gosstand.loadtests.failover import carry_out, inject, remove
from gosstand.loadtests.run import run_shape
from gosstand.loadtests.schedule import RunShape, ScheduledAction, ScheduleError, parse_schedule
from gosstand.reports.integrity import broken_reasons
from gosstand.reports.io import load_run
from gosstand.reports.synthetic import steady_requests, write_run
from gosstand.scenarios.control import StackControl
from gosstand.scenarios.http import HttpxClient
from gosstand.stand.actions import ActionUnavailable, ReplicaAction, available, perform
from gosstand.stand.manifest import ReplicaEntry, StackManifest
from gosstand.stand.stack import EmbeddedStack
from gosstand.stand.tcpfaults import HOLD_LIMIT, FaultLayer
from gosstand.stand.tcpfaults_control import (
    ControlFailure,
    FrontConfig,
    LayerConfig,
    TcpFaultControl,
    UpstreamConfig,
)

SHAPE = RunShape(duration_s=60, replicas={"esia": 2, "fts": 2}, tcp_faults=True)
#: How long a client waits for an answer before calling it a hang (the fault lasts until healed).
PATIENCE = 0.6


@pytest.fixture(scope="module")
def stack() -> Iterator[EmbeddedStack]:
    with EmbeddedStack(replicas=2, services=("esia",), tcp_faults=True, signature_mode="off") as running:
        yield running


def ask(url: str, *, timeout: float = PATIENCE, sock: socket.socket | None = None,
        path: str = "/_gosstand/health") -> str:
    """One GET (a health request unless ``path`` says otherwise); what came back: the replica's
    name, ``timeout``, ``reset`` (a RST before any byte of an answer), ``closed`` or ``refused``."""
    parts = urlsplit(url)
    own = sock is None
    try:
        conn = sock or socket.create_connection((parts.hostname, parts.port), timeout=timeout)
    except ConnectionRefusedError:
        return "refused"
    conn.settimeout(timeout)
    answer = b""
    try:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode())
        while b"\r\n\r\n" not in answer:
            chunk = conn.recv(65536)
            if not chunk:
                return "closed" if not answer else "cut short"
            answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        headers = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:])
        length = int(headers[b"content-length"])
        while len(body) < length:
            body += conn.recv(65536)
        return headers[b"x-gosstand-replica"].decode()
    except TimeoutError:
        return "timeout"
    except ConnectionResetError:
        return "reset" if not answer else "reset mid-answer"
    finally:
        if own:
            conn.close()


def quiet(stack: EmbeddedStack) -> None:
    """Wait (bounded) until no connection of an earlier test is still open through the layer: it
    would meet the next fault too, and be counted."""
    control = TcpFaultControl(stack.manifest().tcp_faults)
    deadline = time.monotonic() + 10
    while any(replica["open"] for replica in control.status().values()):
        assert time.monotonic() < deadline, control.status()
        time.sleep(0.05)


def scheduled(action: str, *, replica: int = 1, duration: float = 5.0) -> ScheduledAction:
    (parsed,) = parse_schedule({"actions": [{"at": 1, "service": "esia", "replica": replica, "action": action,
                                             "duration": duration}]}, SHAPE)
    return parsed


def during(check: Callable[[], None]) -> Callable[[float], None]:
    """The runner's sleep while the fault holds: run the check instead of letting time pass."""
    calls: list[float] = []

    def sleep(seconds: float) -> None:
        calls.append(seconds)
        check()

    sleep.calls = calls  # type: ignore[attr-defined]
    return sleep


@pytest.mark.stack
def test_the_layer_balances_fresh_connections_over_the_replicas_and_names_them(stack):
    url = stack.urls["esia"]
    assert {ask(url) for _ in range(4)} == {"esia-1", "esia-2"}
    manifest = StackManifest.load(Path(stack.state_dir) / "stack.json")
    assert manifest.tcp_faults and Path(manifest.tcp_faults).exists()
    own = [entry.url for entry in manifest.replicas["esia"]]
    assert all(own) and url not in own
    # Each replica is also reachable at its own port, and answers as itself there.
    assert [ask(u) for u in own] == ["esia-1", "esia-2"]


@pytest.mark.stack
def test_blackhole_holds_the_replicas_connections_unanswered_then_lets_them_through(stack):
    quiet(stack)
    url = stack.urls["esia"]
    manifest = stack.manifest()
    seen: dict[str, list[str]] = {}

    def check() -> None:
        seen["fresh"] = [ask(url) for _ in range(4)]
        seen["direct to esia-2"] = [ask(manifest.replicas["esia"][1].url)]

    record = carry_out(scheduled("blackhole"), manifest, sleep=during(check))
    # Half the fresh connections meet the blackhole: no answer, no error, just silence.
    assert sorted(seen["fresh"]) == ["esia-2", "esia-2", "timeout", "timeout"]
    assert seen["direct to esia-2"] == ["esia-2"]
    assert record.took_effect and record.error is None and record.target == "esia-1"
    assert record.detail["held"] >= 2 and "held" in (record.evidence or "")
    # Healed: every fresh connection is answered again, by both replicas.
    assert sorted(ask(url) for _ in range(4)) == ["esia-1", "esia-1", "esia-2", "esia-2"]


@pytest.mark.stack
def test_blackhole_freezes_an_open_keep_alive_connection_and_it_answers_after_the_heal(stack):
    quiet(stack)
    url = stack.urls["esia"]
    parts = urlsplit(url)
    connections = [socket.create_connection((parts.hostname, parts.port)) for _ in range(2)]
    on = {ask(url, sock=conn): conn for conn in connections}
    assert set(on) == {"esia-1", "esia-2"}
    control = TcpFaultControl(stack.manifest().tcp_faults)
    control.inject("esia-1", "blackhole", ttl=60)
    try:
        assert ask(url, sock=on["esia-2"]) == "esia-2"
        on["esia-1"].settimeout(PATIENCE)
        on["esia-1"].sendall(f"GET /_gosstand/health HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode())
        with pytest.raises(TimeoutError):
            on["esia-1"].recv(1)
    finally:
        ended = control.heal("esia-1")
    assert ended.held == 1 and ended.took_effect
    # The held request reaches the replica now, and its answer comes back on the same connection.
    on["esia-1"].settimeout(5)
    assert b"esia-1" in on["esia-1"].recv(65536)
    for conn in connections:
        conn.close()


@pytest.mark.stack
def test_a_blackhole_holds_a_bounded_share_of_a_large_upload_and_tcp_makes_the_client_wait(stack):
    """The layer stops reading a held connection past HOLD_LIMIT: the client's writes block, as
    they would against a stopped process, and the layer's memory stays bounded."""
    quiet(stack)
    url = stack.urls["esia"]
    parts = urlsplit(url)
    control = TcpFaultControl(stack.manifest().tcp_faults)
    held = {"esia-1": "esia-2", "esia-2": "esia-1"}[ask(url)]  # the next fresh connection goes there
    control.inject(held, "blackhole", ttl=60)
    sent = 0
    try:
        with socket.create_connection((parts.hostname, parts.port)) as upload:
            upload.settimeout(PATIENCE)
            upload.sendall(b"POST /_gosstand/health HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n")
            chunk = b"x" * 65536
            with pytest.raises(TimeoutError):
                for _ in range(16384):  # 1 GiB at most: far past what the kernel buffers and the layer holds
                    upload.send(chunk)
                    sent += len(chunk)
        status = control.status()[held]
    finally:
        ended = control.heal(held)
    assert HOLD_LIMIT < sent < 256 * 1024 * 1024, sent
    assert status["fault"]["counts"] == {"held": 1} and ended.held == 1


@pytest.mark.stack
def test_reset_answers_a_request_with_a_tcp_reset_before_any_byte(stack):
    quiet(stack)
    url = stack.urls["esia"]
    seen: dict[str, list[str]] = {}

    def check() -> None:
        seen["fresh"] = [ask(url) for _ in range(4)]

    record = carry_out(scheduled("reset"), stack.manifest(), sleep=during(check))
    assert sorted(seen["fresh"]) == ["esia-2", "esia-2", "reset", "reset"]
    assert record.took_effect and record.detail["reset"] == 2
    assert sorted(ask(url) for _ in range(4)) == ["esia-1", "esia-1", "esia-2", "esia-2"]


@pytest.mark.stack
def test_reset_answer_lets_the_request_reach_the_replica_and_resets_in_place_of_its_answer(stack):
    """The replica takes the request (its journal records it, answered) and the client gets a
    RST instead of that answer: what a crash between applying a write and answering looks like."""
    quiet(stack)
    url = stack.urls["esia"]
    http = HttpxClient()  # closed at the end: a kept-alive connection through the layer would meet the next fault
    control = StackControl(stack.urls, stack.control_token, http=http)
    control.record_requests("esia")
    path = "/rs/prns/1000001"  # an ESIA API path (401 without a token): journaled, unlike the health check
    seen: dict[str, list[str]] = {}

    def check() -> None:
        seen["fresh"] = [ask(url, path=path) for _ in range(4)]

    try:
        record = carry_out(scheduled("reset_answer"), stack.manifest(), sleep=during(check))
        journal = control.recorded_requests("esia", path=path)
    finally:
        control.record_requests("esia", on=False)
        http.close()
    assert sorted(seen["fresh"]) == ["esia-2", "esia-2", "reset", "reset"]
    # the two reset requests reached esia-1, which answered them; the client saw none of it
    assert sorted(entry["replica"] for entry in journal) == ["esia-1", "esia-1", "esia-2", "esia-2"]
    assert all(entry["status"] == 401 for entry in journal)
    assert record.took_effect and record.detail["reset"] == 2
    assert "the replica had answered" in str(record.evidence)
    assert sorted(ask(url) for _ in range(4)) == ["esia-1", "esia-1", "esia-2", "esia-2"]


@pytest.mark.stack
def test_partition_cuts_open_connections_and_steers_new_ones_to_the_other_replica(stack):
    quiet(stack)
    url = stack.urls["esia"]
    parts = urlsplit(url)
    connections = [socket.create_connection((parts.hostname, parts.port)) for _ in range(2)]
    on = {ask(url, sock=conn): conn for conn in connections}
    seen: dict[str, list[str]] = {}

    def check() -> None:
        seen["open to esia-1"] = [ask(url, sock=on["esia-1"])]
        seen["open to esia-2"] = [ask(url, sock=on["esia-2"])]
        seen["fresh"] = [ask(url) for _ in range(4)]

    record = carry_out(scheduled("partition"), stack.manifest(), sleep=during(check))
    assert seen["open to esia-1"] in (["reset"], ["closed"])  # the cut connection
    assert seen["open to esia-2"] == ["esia-2"]
    assert seen["fresh"] == ["esia-2"] * 4  # no error: the balancer passes over the cut-off replica
    assert record.took_effect and record.detail["cut"] == 1 and record.detail["refused"] >= 2
    assert sorted(ask(url) for _ in range(4)) == ["esia-1", "esia-1", "esia-2", "esia-2"]
    for conn in connections:
        conn.close()


@pytest.mark.stack
def test_a_client_that_leaves_a_stalled_replica_leaves_no_connection_open_through_the_layer(stack):
    """Clients that time out on a paused replica close their connections; the layer closes its
    side at once too, instead of waiting in CLOSE-WAIT for the FIN a stopped process cannot send
    (a canary's 100 new connections a second used to pile up so until the replicas refused)."""
    quiet(stack)
    url = stack.urls["esia"]
    control = TcpFaultControl(stack.manifest().tcp_faults)
    stalled = {"esia-1": 2, "esia-2": 1}[ask(url)]  # the next fresh connection goes to the other one
    stack.act("esia", stalled, ReplicaAction.PAUSE)
    try:
        assert ask(url) == "timeout"  # the client gives up and closes
        deadline = time.monotonic() + 10
        while control.status()[f"esia-{stalled}"]["open"]:
            assert time.monotonic() < deadline, "the layer kept the left connection open"
            time.sleep(0.05)
    finally:
        stack.act("esia", stalled, ReplicaAction.UNPAUSE)
    assert sorted(ask(url) for _ in range(2)) == ["esia-1", "esia-2"]


@pytest.mark.stack
def test_a_fault_no_connection_met_did_not_take_effect_and_breaks_the_run(stack, tmp_path):
    quiet(stack)
    action = scheduled("blackhole", replica=2)
    record = remove(action, stack.manifest(), inject(action, stack.manifest(), now=lambda: 100.0), now=lambda: 105.0)
    assert not record.took_effect and record.detail["held"] == 0
    assert "no connection met the fault" in (record.error or "")
    write_run(tmp_path, requests=steady_requests(duration=2), failovers=[json.loads(json.dumps(record.to_json()))],
              info={"schedule": [{"entry": 1, "action": "blackhole", "service": "esia", "replica": 2, "at": 1}]})
    (reason,) = broken_reasons(load_run(tmp_path))
    assert reason.startswith("failover entry 1 (blackhole esia-2 at 1 s) did not take effect")


@pytest.mark.stack
def test_a_killed_replica_behind_the_layer_is_passed_over_as_with_a_shared_port(stack):
    url = stack.urls["esia"]
    own = stack.manifest().replicas["esia"][0].url
    stack.kill("esia", 1)
    try:
        # Until its last process is gone the dying replica's kernel may still accept (and then
        # reset) a connection, with or without the layer: judge once its port refuses.
        deadline = time.monotonic() + 10
        while ask(own) != "refused":
            assert time.monotonic() < deadline, "the killed replica's port still accepts"
            time.sleep(0.05)
        assert [ask(url) for _ in range(4)] == ["esia-2"] * 4
    finally:
        stack.restart("esia", 1)
    assert sorted(ask(url) for _ in range(4)) == ["esia-1", "esia-1", "esia-2", "esia-2"]


@pytest.mark.stack
def test_the_control_socket_refuses_what_it_cannot_do(stack):
    control = TcpFaultControl(stack.manifest().tcp_faults)
    with pytest.raises(ControlFailure, match="no replica 'esia-9'.*esia-1, esia-2"):
        control.inject("esia-9", "blackhole")
    with pytest.raises(ControlFailure, match="'drop' is not a fault"):
        control.inject("esia-1", "drop")  # type: ignore[arg-type]
    with pytest.raises(ControlFailure, match="no fault in force on esia-1"):
        control.heal("esia-1")
    control.inject("esia-1", "reset", ttl=60)
    try:
        with pytest.raises(ControlFailure, match="already has a reset"):
            control.inject("esia-1", "blackhole")
    finally:
        control.heal("esia-1")


def test_network_actions_need_a_stack_with_the_layer():
    without = StackManifest(backend="embedded", urls={"esia": "http://127.0.0.1:1"}, control_token="t",
                            replicas={"esia": [ReplicaEntry(name="esia-1", pid=1)]})
    assert not available(without, ReplicaAction.BLACKHOLE) and available(without, ReplicaAction.KILL)
    with pytest.raises(ActionUnavailable, match="gosstand up --tcp-faults"):
        perform(without, "esia", 1, ReplicaAction.RESET)


def test_a_fault_ends_by_itself_after_its_ttl():
    """The layer's own clock: a run that died leaves no fault behind."""
    now = [1000.0]

    async def scenario() -> tuple[list[str], dict]:
        layer = FaultLayer(LayerConfig(control="", fronts=(FrontConfig(host="127.0.0.1", port=0, upstreams=(
            UpstreamConfig(name="esia-1", host="127.0.0.1", port=9),)),)), clock=lambda: now[0])
        layer.inject("esia-1", "blackhole", ttl=35)
        now[0] += 34.9
        early = layer.expire()
        now[0] += 0.2
        return early + layer.expire(), layer.status()

    expired, status = asyncio.run(scenario())
    assert expired == ["esia-1"] and status["esia-1"]["fault"] is None


@pytest.mark.parametrize(("fields", "said"), [
    ({"action": "blackhole", "replica": 1}, "entry 1, duration: a blackhole needs its duration"),
    ({"action": "reset", "duration": 3}, "entry 1, replica: a reset action needs the replica's number"),
    ({"action": "partition", "replica": 3, "duration": 3}, "entry 1, replica: esia has 2 replica"),
    ({"action": "blackhole", "replica": 1, "duration": 0}, "entry 1, duration: 0: expected seconds > 0"),
    ({"action": "partition", "replica": 1, "duration": 3, "fault": {}},
     "entry 1, fault: not a field of a partition action"),
    ({"action": "blackhol", "replica": 1, "duration": 3}, "did you mean 'blackhole'"),
])
def test_malformed_network_actions_are_refused_naming_entry_and_field(fields, said):
    with pytest.raises(ScheduleError, match=said):
        parse_schedule({"actions": [{"at": 1, "service": "esia", **fields}]}, SHAPE)


def test_two_network_faults_on_one_replica_at_once_are_refused_before_the_run():
    entries = [{"at": 10, "service": "esia", "replica": 1, "action": "blackhole", "duration": 5},
               {"at": 12, "service": "esia", "replica": 1, "action": "reset", "duration": 2},
               {"at": 12, "service": "esia", "replica": 2, "action": "reset", "duration": 2},
               {"at": 15, "service": "esia", "replica": 1, "action": "partition", "duration": 2}]
    with pytest.raises(ScheduleError) as refused:
        parse_schedule({"actions": entries}, SHAPE)
    assert refused.value.problems == ["entry 2, at: esia-1 is still under entry 1's blackhole until 15 s; one "
                                      "network fault per replica at a time"]


def test_a_network_action_on_a_running_stack_without_the_layer_is_refused_before_the_run():
    without = StackManifest(backend="embedded", urls={"esia": "http://127.0.0.1:1"}, control_token="t",
                            replicas={"esia": []})
    shape = run_shape(_Args(), _Profile(), {}, 10.0, without)
    assert not shape.tcp_faults
    with pytest.raises(ScheduleError, match="entry 1, action: reset needs the TCP fault layer"):
        parse_schedule({"actions": [{"at": 1, "service": "esia", "replica": 1, "action": "reset", "duration": 2}]},
                       RunShape(duration_s=60, replicas={"esia": 2}, tcp_faults=shape.tcp_faults))
    # A stack the run starts itself gets the layer when the schedule asks for it.
    assert run_shape(_Args(), _Profile(), {}, 10.0, None).tcp_faults


class _Args:
    replicas = 2
    backend = "embedded"


class _Profile:
    duration_s = 60.0


def _layer_processes(config: Path) -> list[int]:
    """Pids of layer processes serving the configuration at ``config`` (read from /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and str(config).encode() in (entry / "cmdline").read_bytes():
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


@pytest.mark.stack
@pytest.mark.slow
def test_gosstand_up_tcp_faults_is_switched_from_another_process_and_its_layer_dies_with_it(tmp_path):
    up = subprocess.Popen([sys.executable, "-m", "gosstand", "up", "--tcp-faults", "--replicas", "2",
                           "--signature-mode", "off", "--state-dir", str(tmp_path)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "stack.json").exists():
            assert up.poll() is None and time.monotonic() < deadline, "gosstand up did not start"
            time.sleep(0.1)
        manifest = StackManifest.load(tmp_path / "stack.json")
        assert manifest.tcp_faults
        assert perform(manifest, "fts", 1, ReplicaAction.PARTITION, ttl=60).took_effect
        assert [ask(manifest.urls["fts"]) for _ in range(2)] == ["fts-2", "fts-2"]
        healed = perform(manifest, "fts", 1, ReplicaAction.HEAL)
        assert healed.took_effect and healed.counts and healed.counts["refused"] == 1, healed
        layer = _layer_processes(tmp_path / "tcp-faults.json")
        assert len(layer) == 1
    finally:
        up.kill()  # a crash: no clean shutdown of the stack
        up.wait()
    deadline = time.monotonic() + 30
    while _layer_processes(tmp_path / "tcp-faults.json") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _layer_processes(tmp_path / "tcp-faults.json"), "the layer outlived the stack that started it"
