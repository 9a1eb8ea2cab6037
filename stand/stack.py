"""Start the mock stack: N replica processes per service, each service on one loopback port.

Usable three ways with one API:

- ``gosstand up`` (the CLI) starts it and waits for Ctrl-C;
- Python: ``with EmbeddedStack(replicas=2) as stack: stack.urls["esia"]``;
- pytest: the ``gosstand_stack`` fixture of the conformance plugin.

A running stack writes a manifest (``stack.json`` in its state directory,
:class:`~gosstand.stand.manifest.StackManifest`) with URLs, the control token and each replica's
process group, so another process — a Locust failover hook, an SRE's shell — can act on a replica
with :func:`gosstand.stand.actions.perform` without holding the object.

With ``tcp_faults=True`` (``gosstand up --tcp-faults``) each replica listens on a private port of
its own and the TCP fault layer (:mod:`gosstand.stand.tcpfaults`) takes the service's port,
balancing connections over the replicas round robin, so a replica's path can be blackholed,
reset or partitioned; the manifest then names the layer's control socket (``tcp_faults``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import httpx

from ..mocks.core.keys import ensure_signing_keys
from ..mocks.core.metrics import METRICS_DIR_VARIABLE, METRICS_FOLDER
from ..mocks.core.middleware import REPLICA_HEADER
from ..mocks.core.serve import REFUSAL
from ..mocks.core.settings import SERVICES, Settings, SignatureMode, configured_issuer
from .accounts import prepare_account_keys, register_accounts
from .actions import Evidence, ReplicaAction, perform
from .launcher import ForkedReplica, Launcher, LauncherError
from .lifecycle import StackLifecycle
from .manifest import MANIFEST_NAME, ReplicaEntry, StackManifest
from .ports import claimed_port, free_port
from .protocol import StackError, new_control_token
from .tcpfaults_control import FrontConfig, LayerError, LayerProcess, UpstreamConfig

#: The pause between rounds of health polls while replicas start.
READY_POLL_SECONDS = 0.02


@dataclass
class Replica:
    service: str
    index: int
    name: str
    #: Forked by the stack's launcher (:mod:`.launcher`); its own process group, led by ``pid``.
    process: ForkedReplica | None = None
    log: Path | None = None
    #: Its own port, behind the TCP fault layer; ``None``: it shares the service's port.
    port: int | None = None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class EmbeddedStack(StackLifecycle):
    """The stack as local processes on loopback. Zero system dependencies: state is a SQLite
    file per service in ``state_dir``, shared by that service's replicas."""

    replicas: int | Mapping[str, int] = 2
    services: Iterable[str] = SERVICES
    state_dir: Path | None = None
    host: str = "127.0.0.1"
    ports: Mapping[str, int] = field(default_factory=dict)
    control_token: str = field(default_factory=new_control_token)
    signature_mode: SignatureMode = "strict"
    #: Written into ESIA's tokens; ``GOSSTAND_ESIA_ISSUER`` when set, else the test stand's.
    esia_issuer: str = field(default_factory=configured_issuer)
    startup_timeout: float = 30.0
    #: Put the TCP fault layer in front of the replicas (module docstring).
    tcp_faults: bool = False

    def __post_init__(self) -> None:
        self.services = tuple(self.services)
        self.layer: LayerProcess | None = None
        self.launcher: Launcher | None = None
        self._own_state_dir = self.state_dir is None
        self.state_dir = Path(self.state_dir or tempfile.mkdtemp(prefix="gosstand-"))
        self.urls: dict[str, str] = {}
        self.members: dict[str, list[Replica]] = {}
        self._settings: dict[str, Settings] = {}
        self._ports: dict[str, int] = {}

    # -- life cycle ------------------------------------------------------------------------
    def start(self) -> Self:
        assert self.state_dir is not None
        (self.state_dir / "logs").mkdir(parents=True, exist_ok=True)
        # the launcher imports the replicas' code while this process makes the keys
        self.launcher = Launcher.start(self.services, log=self.state_dir / "logs" / "launcher.log")
        try:
            ensure_signing_keys(self.state_dir / "esia-keys")
            prepare_account_keys(self.state_dir / "esia-keys", tuple(self.services))
            for service in self.services:  # every URL first: FTS and UTKO are told ESIA's
                port = claimed_port(self.host, self.ports[service]) if self.ports.get(service) else free_port(self.host)
                self._ports[service] = port
                self.urls[service] = f"http://{self.host}:{port}"
            for service in self.services:
                count = self.replicas if isinstance(self.replicas, int) else self.replicas.get(service, 1)
                self.members[service] = [Replica(service, i, f"{service}-{i}",
                                                 port=free_port(self.host) if self.tcp_faults else None)
                                         for i in range(1, count + 1)]
                for replica in self.members[service]:
                    self._spawn(replica)
            if self.tcp_faults:
                self._start_layer()
            self._wait_ready({service: {r.name for r in self.members[service]} for service in self.services})
            register_accounts(self.urls, self.control_token, self.state_dir / "esia-keys")
        except BaseException:
            self.close()
            raise
        self.write_manifest()
        return self

    def _replica_settings(self, service: str, replica: str) -> Settings:
        assert self.state_dir is not None
        return Settings.in_state_dir(service, replica, self.state_dir, control_token=self.control_token,
                                     public_url=self.urls[service], esia_issuer=self.esia_issuer,
                                     esia_url=self.urls.get("esia", ""), signature_mode=self.signature_mode)

    def _spawn(self, replica: Replica) -> None:
        assert self.state_dir is not None
        settings = self._replica_settings(replica.service, replica.name)
        env = {
            **os.environ,
            **settings.to_env(),
            "GOSSTAND_HOST": self.host,
            "GOSSTAND_PORT": str(replica.port or self._ports[replica.service]),
            "GOSSTAND_PARENT_PID": str(os.getpid()),  # replicas stop if the runner dies
            # the service's replicas share their series, so a scrape of its port gets them all
            METRICS_DIR_VARIABLE: str(self.state_dir / METRICS_FOLDER / replica.service),
        }
        replica.log = self.state_dir / "logs" / f"{replica.name}.log"
        assert self.launcher is not None
        try:  # its own process group (granian's worker dies with it), its output in its log
            replica.process = self.launcher.spawn(env, replica.log)
        except LauncherError as exc:
            raise StackError(f"replica {replica.name} could not be started: {exc}") from None

    def _start_layer(self) -> None:
        """The layer on each service's port, the service's replicas behind it."""
        assert self.state_dir is not None
        fronts = [FrontConfig(host=self.host, port=self._ports[service],
                              upstreams=tuple(UpstreamConfig(name=r.name, host=self.host, port=r.port or 0)
                                              for r in replicas))
                  for service, replicas in self.members.items()]
        try:
            self.layer = LayerProcess.start(fronts, directory=self.state_dir)
        except LayerError as exc:
            raise StackError(str(exc)) from None

    def _wait_ready(self, waiting: Mapping[str, set[str]]) -> None:
        """Poll each service's port with fresh connections until every replica named in
        ``waiting`` (service → replica names) has answered; all services in each round, a
        short pause between rounds so the polling does not take the CPU the replicas start on."""
        waiting = {service: set(names) for service, names in waiting.items() if names}
        deadline = time.monotonic() + self.startup_timeout
        # one client for every poll (a client per poll made a TLS context each time); no
        # connection kept, so the kernel spreads the polls over a port's replicas
        with httpx.Client(timeout=1.0, limits=httpx.Limits(max_keepalive_connections=0)) as http:
            while waiting:
                for service, names in list(waiting.items()):
                    for replica in self.members[service]:
                        if replica.name in names and not replica.alive:
                            raise StackError(f"replica {replica.name} exited during start: {_why_it_died(replica)}")
                    if time.monotonic() > deadline:
                        raise StackError(f"{service}: replicas {sorted(names)} did not answer within "
                                         f"{self.startup_timeout}s")
                    try:
                        response = http.get(f"{self.urls[service]}/_gosstand/health",
                                            headers={"connection": "close"})
                        names.discard(response.headers.get(REPLICA_HEADER, ""))
                    except httpx.TransportError:
                        pass
                    if not names:
                        del waiting[service]
                if waiting:
                    time.sleep(READY_POLL_SECONDS)

    def close(self) -> None:
        for replicas in self.members.values():
            for replica in replicas:
                _signal_group(replica, signal.SIGTERM)
        deadline = time.monotonic() + 5
        for replicas in self.members.values():
            for replica in replicas:
                if replica.process is None:
                    continue
                try:
                    replica.process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    _signal_group(replica, signal.SIGKILL)
                    replica.process.wait()
                _signal_group(replica, signal.SIGKILL)  # granian's worker, if it outlived its master
        if self.launcher is not None:
            self.launcher.close()
            self.launcher = None
        self._release_layer_and_state()

    # -- failover actions -------------------------------------------------------------------
    def replica(self, service: str, index: int) -> Replica:
        return self.members[service][index - 1]

    def act(self, service: str, index: int, action: ReplicaAction) -> Evidence:
        """Do ``action`` to replica ``index`` (1-based) of ``service``; what was seen of it after."""
        if action is ReplicaAction.RESTART:
            self.restart(service, index)
            return Evidence(took_effect=self.replica(service, index).alive, seen=f"{service}-{index} serving")
        evidence = perform(self.manifest(), service, index, action)
        replica = self.replica(service, index)
        if action in (ReplicaAction.KILL, ReplicaAction.STOP) and replica.process is not None:
            replica.process.wait(timeout=10)
        self.write_manifest()
        return evidence

    def kill(self, service: str, index: int) -> None:
        """Kill replica ``index`` (1-based) of ``service``: a hard crash."""
        self.act(service, index, ReplicaAction.KILL)

    def restart(self, service: str, index: int) -> None:
        """Start a killed replica again and wait until it serves."""
        replica = self.replica(service, index)
        if replica.alive:
            _signal_group(replica, signal.SIGKILL)
            assert replica.process is not None
            replica.process.wait(timeout=10)
        self._spawn(replica)
        self._wait_ready({service: {replica.name}})
        self.write_manifest()

    # -- the manifest other processes read --------------------------------------------------
    def manifest(self) -> StackManifest:
        return StackManifest(
            backend="embedded", urls=dict(self.urls), control_token=self.control_token,
            state_dir=str(self.state_dir), tcp_faults=self.layer.config.control if self.layer else None,
            esia_issuer=self.esia_issuer if "esia" in self.services else None,
            replicas={
                service: [ReplicaEntry(name=r.name, pid=r.process.pid if r.process else None, alive=r.alive,
                                       url=f"http://{self.host}:{r.port}" if r.port else None)
                          for r in replicas]
                for service, replicas in self.members.items()
            },
        )

    def write_manifest(self) -> Path:
        assert self.state_dir is not None
        return self.manifest().write(self.state_dir / MANIFEST_NAME)


def _why_it_died(replica: Replica) -> str:
    """The replica's own one-line refusal (a port in use…) if it gave one, else its log's tail."""
    text = replica.log.read_text(errors="replace") if replica.log else ""
    refusals = [line for line in text.splitlines() if line.startswith(REFUSAL)]
    return refusals[-1].removeprefix(REFUSAL).strip() if refusals else "\n" + text[-2000:]


def _signal_group(replica: Replica, sig: signal.Signals) -> None:
    if replica.process is None:
        return
    try:
        os.killpg(replica.process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
