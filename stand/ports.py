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
        if not _listened_on(host, port):
            return port
    raise StackError("no free port found")


def _listened_on(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as client:
        client.settimeout(0.2)
        return client.connect_ex((host, port)) == 0


def claimed_port(host: str, port: int) -> int:
    """``port``, asked for by the user, or a :class:`StackError` when something listens there
    already. The replicas bind with SO_REUSEPORT, and so does another stack's replicas (the same
    user): their binds would succeed side by side, and the kernel would spread the clients over
    two stacks that share no state — hence a connection attempt, as :func:`free_port` does."""
    if _listened_on(host, port):
        raise StackError(f"port {port} on {host} is in use by another process (something answers "
                         "connections there, another gosstand stack perhaps)")
    return port
