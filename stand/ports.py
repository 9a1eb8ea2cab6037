"""Free loopback ports for a stack's services, replicas and fault layer."""

from __future__ import annotations

import socket

from .protocol import StackError


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on now. SO_REUSEPORT would let a leftover server share a busy
    port silently, so the port is also probed with a connection attempt."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((host, 0))
            port = probe.getsockname()[1]
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as client:
            client.settimeout(0.2)
            if client.connect_ex((host, port)) != 0:
                return port
    raise StackError("no free port found")
