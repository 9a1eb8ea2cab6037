"""The processes behind a running embedded stack's replicas: their memory, their health.

A replica is a granian process whose worker (its child) runs the app, so the worker's memory is
the app's. The peak resident size (``VmHWM``) is read after resetting it (writing ``5`` to
``/proc/<pid>/clear_refs``): what a request made the worker hold at its worst, not what is
left once Python has given the memory back.
"""

from __future__ import annotations

from pathlib import Path

import httpx
from gosstand.mocks.core.middleware import REPLICA_HEADER
from gosstand.stand.stack import EmbeddedStack

__all__ = ["answering_replicas", "peak_kib", "reset_peak", "workers"]

#: Fresh connections tried before concluding that a replica does not answer; the kernel spreads
#: connections over a port's replicas, so with two the chance of missing a live one is 2^-39.
HEALTH_ATTEMPTS = 40


def workers(stack: EmbeddedStack, service: str) -> dict[str, int]:
    """Replica name → the PID of its worker process."""
    found = {}
    for replica in stack.members[service]:
        assert replica.process is not None and replica.alive, f"{replica.name} is not running"
        pid = replica.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        found[replica.name] = int(children[0]) if children else pid
    return found


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(f"no {field} in /proc/{pid}/status")


def reset_peak(pid: int) -> int:
    """Reset the process's peak resident size to its current one, which is returned (KiB).
    Raises ``OSError`` where ``/proc/<pid>/clear_refs`` cannot be written."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    return _status_kib(pid, "VmRSS")


def peak_kib(pid: int) -> int:
    """The process's peak resident size since the last :func:`reset_peak` (KiB)."""
    return _status_kib(pid, "VmHWM")


def answering_replicas(stack: EmbeddedStack, service: str) -> set[str]:
    """The replicas of ``service`` that answered ``/_gosstand/health`` with 200, each asked on
    fresh connections until all have or :data:`HEALTH_ATTEMPTS` are spent."""
    expected = {replica.name for replica in stack.members[service]}
    seen: set[str] = set()
    for _ in range(HEALTH_ATTEMPTS):
        try:
            answer = httpx.get(f"{stack.urls[service]}/_gosstand/health", headers={"Connection": "close"},
                               timeout=10)
        except httpx.TransportError:
            continue
        if answer.status_code == 200:
            seen.add(answer.headers.get(REPLICA_HEADER, ""))
        if seen >= expected:
            break
    return seen
