"""Leaving a stack leaves nothing behind: its replicas, its TCP fault layer, the state it made."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from gosstand.stand.stack import EmbeddedStack

pytestmark = pytest.mark.stack


def _port_is_free(host: str, port: int) -> bool:
    """Free to listen on: no listener left. SO_REUSEADDR, as servers set it, so the connections
    the readiness checks closed (TIME_WAIT) do not count as held."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def test_leaving_a_stack_with_a_fault_layer_stops_the_layer_and_removes_its_state() -> None:
    with EmbeddedStack(replicas=1, services=("esia",), tcp_faults=True, signature_mode="off") as stack:
        assert stack.layer is not None and stack.state_dir is not None
        layer_process, state_dir = stack.layer.process, stack.state_dir
        port = int(stack.urls["esia"].rsplit(":", 1)[1])
        replica = stack.members["esia"][0].process
        assert replica is not None
    assert layer_process.poll() is not None, "the TCP fault layer outlived its stack"
    assert replica.poll() is not None, "a replica outlived its stack"
    assert not state_dir.exists(), "the state directory the stack made is still there"
    assert _port_is_free("127.0.0.1", port), "the service's port is still held"


def test_a_state_directory_the_caller_gave_is_kept(tmp_path: Path) -> None:
    given = tmp_path / "state"
    with EmbeddedStack(replicas=1, services=("esia",), state_dir=given, signature_mode="off"):
        pass
    assert (given / "logs").is_dir(), "the caller's state directory (and its logs) must survive close"
