"""The TCP fault layer (:mod:`.tcpfaults`) from other processes: what it serves, starting it as a
process, and switching its faults.

The layer listens on a Unix socket in the stack's state directory, named in the manifest
(``tcp_faults``); like the manifest, only the stack's owner may use it (mode 0600), so it needs
no token. One request per connection, one JSON object per line each way::

    {"op": "inject", "replica": "esia-1", "fault": "blackhole", "ttl": 35}
    {"op": "heal", "replica": "esia-1"}     → the fault's counts: the evidence it took effect
    {"op": "status"}

It is synchronous on purpose: the failover runner calls it from Locust, whose gevent makes the
socket cooperative, and tests and ``gosstand up``'s objects call it from plain threads.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

__all__ = [
    "FAULTS",
    "ControlFailure",
    "EndedFault",
    "FaultKind",
    "FrontConfig",
    "LayerConfig",
    "LayerError",
    "LayerProcess",
    "TcpFaultControl",
    "UpstreamConfig",
]

#: What the layer can do to the path to one replica (the module docstring of :mod:`.tcpfaults`
#: says what a client sees of each).
FaultKind = Literal["blackhole", "reset", "reset_answer", "partition"]
FAULTS: tuple[FaultKind, ...] = get_args(FaultKind)
#: The largest control message either side reads: requests and answers are a few hundred bytes.
MESSAGE_LIMIT = 64 * 1024


@dataclass(frozen=True, kw_only=True)
class UpstreamConfig:
    name: str
    host: str
    port: int


@dataclass(frozen=True, kw_only=True)
class FrontConfig:
    host: str
    port: int
    upstreams: tuple[UpstreamConfig, ...]


@dataclass(frozen=True, kw_only=True)
class LayerConfig:
    """What one layer process serves: its fronts and its control socket."""

    control: str
    fronts: tuple[FrontConfig, ...]
    #: The layer exits once this process is gone (the stack that started it).
    parent_pid: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"control": self.control, "parent_pid": self.parent_pid,
                "fronts": [{"host": f.host, "port": f.port,
                            "upstreams": [u.__dict__ for u in f.upstreams]} for f in self.fronts]}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> LayerConfig:
        return cls(control=raw["control"], parent_pid=raw.get("parent_pid"),
                   fronts=tuple(FrontConfig(host=f["host"], port=int(f["port"]),
                                            upstreams=tuple(UpstreamConfig(**u) for u in f["upstreams"]))
                                for f in raw["fronts"]))


class ControlFailure(RuntimeError):
    """The layer refused a request (no such replica, no fault in force) or did not answer."""


@dataclass(frozen=True, kw_only=True)
class EndedFault:
    """A fault as the layer saw it while it was in force: what it did, to how many connections."""

    replica: str
    kind: FaultKind
    #: Seconds it was in force.
    held_for: float
    #: Connections that sent request bytes into a blackhole and got no answer from it.
    held: int = 0
    #: Connections reset (RST) after their request's bytes arrived (``reset``), or after the
    #: replica took the request and began its answer (``reset_answer``), before any answer byte.
    reset: int = 0
    #: Connection attempts refused: steered away from the replica by the balancer, or reset at
    #: once where the layer's port is the replica's only way in.
    refused: int = 0
    #: Connections open to the replica when the partition began, cut with a reset.
    cut: int = 0
    #: Probe connections to the replica's own port behind HAProxy that the kernel refused:
    #: the listener was shut, as a partition's REJECT rule would make it.
    probes_refused: int = 0

    @property
    def affected(self) -> int:
        """How many connections (or attempts) the fault did something to."""
        return self.held + self.reset + self.refused + self.cut + self.probes_refused

    @property
    def took_effect(self) -> bool:
        """Whether anyone met the fault: a fault no connection met proves nothing."""
        return self.affected > 0

    def describe(self) -> str:
        counts = {"blackhole": f"held {self.held} connection(s) unanswered",
                  "reset": f"reset {self.reset} connection(s) before any answer byte",
                  "reset_answer": f"reset {self.reset} connection(s) the replica had answered, before "
                                  f"any byte of the answer",
                  "partition": f"refused {self.refused + self.probes_refused} connection attempt(s), "
                               f"cut {self.cut} open connection(s)"}[self.kind]
        return f"{self.kind} of {self.replica} {counts} in {self.held_for:.1f} s"

    def counts(self) -> dict[str, int]:
        return {"held": self.held, "reset": self.reset, "refused": self.refused, "cut": self.cut,
                "probes_refused": self.probes_refused}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> EndedFault:
        counts = raw.get("counts") or {}
        return cls(replica=str(raw["replica"]), kind=raw["kind"], held_for=float(raw.get("held_for", 0.0)),
                   **{name: int(counts.get(name, 0)) for name in ("held", "reset", "refused", "cut",
                                                                   "probes_refused")})


@dataclass(frozen=True)
class TcpFaultControl:
    """The layer's control socket at ``path`` (the manifest's ``tcp_faults``)."""

    path: str | Path
    timeout: float = 5.0

    def inject(self, replica: str, kind: FaultKind, *, ttl: float | None = None) -> dict[str, Any]:
        """Put ``replica``'s path into ``kind`` until :meth:`heal` (or ``ttl`` seconds, after which the
        layer heals it by itself: a run that dies leaves no fault behind). Answers once the fault is
        in force on every connection to the replica."""
        return self._ask({"op": "inject", "replica": replica, "fault": kind, "ttl": ttl})["fault"]

    def heal(self, replica: str) -> EndedFault:
        """End the fault on ``replica``'s path; what it did while in force."""
        return EndedFault.from_json(self._ask({"op": "heal", "replica": replica})["fault"])

    def status(self) -> dict[str, Any]:
        """Each replica: its fault in force (or null), its open connections, and its counts."""
        return self._ask({"op": "status"})["replicas"]

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.settimeout(self.timeout)
                conn.connect(str(self.path))
                conn.sendall(json.dumps(request).encode() + b"\n")
                answer = _read_line(conn)
        except OSError as exc:
            raise ControlFailure(f"the TCP fault layer at {self.path} did not answer: {exc}") from None
        try:
            reply = json.loads(answer)
        except ValueError:
            raise ControlFailure(f"the TCP fault layer answered {answer[:200]!r}") from None
        if not reply.get("ok"):
            raise ControlFailure(str(reply.get("error", "refused")))
        return reply


def _read_line(conn: socket.socket) -> bytes:
    received = bytearray()
    while b"\n" not in received:
        chunk = conn.recv(4096)
        if not chunk:
            break
        received += chunk
        if len(received) > MESSAGE_LIMIT:
            raise OSError("the answer is too long")
    return bytes(received).split(b"\n", 1)[0]


class LayerError(RuntimeError):
    """The layer process did not start."""


@dataclass
class LayerProcess:
    """The layer running as a process of its own (its own interpreter: the stack's owner, a test
    or ``gosstand up``, does not share its GIL with the bytes of every request)."""

    config: LayerConfig
    process: subprocess.Popen[bytes]
    log: Path

    @classmethod
    def start(cls, fronts: Sequence[FrontConfig], *, directory: Path, timeout: float = 15.0) -> LayerProcess:
        """Start a layer serving ``fronts``, its files in ``directory``; returns once it answers."""
        config = LayerConfig(control=control_path(directory), fronts=tuple(fronts), parent_pid=os.getpid())
        path = directory / "tcp-faults.json"
        path.write_text(json.dumps(config.to_json(), indent=2), encoding="utf-8")
        log = directory / "tcp-faults.log"
        with log.open("ab") as output:
            process = subprocess.Popen([sys.executable, "-m", "gosstand.stand.tcpfaults", str(path)],
                                       stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
        layer = cls(config, process, log)
        deadline = time.monotonic() + timeout
        while True:
            try:
                TcpFaultControl(config.control, timeout=1.0).status()
                return layer
            except ControlFailure as failure:
                if process.poll() is not None or time.monotonic() > deadline:
                    layer.close()
                    raise LayerError(f"the TCP fault layer did not start ({failure}):\n"
                                     f"{log.read_text(errors='replace')[-2000:]}") from None
                time.sleep(0.05)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        Path(self.config.control).unlink(missing_ok=True)


def control_path(directory: Path) -> str:
    """The control socket's path: in ``directory``, unless that is too long for a Unix socket
    address (about 100 bytes), then in a private temporary folder."""
    path = directory.absolute() / "tcp-faults.sock"
    if len(str(path).encode()) < 100:
        return str(path)
    return str(Path(tempfile.mkdtemp(prefix="gosstand-tcp-")) / "tcp-faults.sock")
