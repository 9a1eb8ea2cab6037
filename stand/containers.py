"""The stack in containers: N replicas per service behind one HAProxy each, one Redis for all state.

The same API as :class:`~.stack.EmbeddedStack`, :class:`~.protocol.ReplicatedStack` (``urls``,
``control_token``, ``act``/``kill``/``restart`` of replica *i* of service *s*, ``manifest()``,
``close()``)::

    with ContainerStack(replicas=2) as stack:
        httpx.get(stack.urls["esia"] + "/_gosstand/health")   # through HAProxy
        stack.kill("esia", 1)                                  # docker kill, SIGKILL

How it runs (the testcontainers traps behind these choices: docs/pitfalls.md):

- Containers are started with testcontainers-python, without its reaper (``Ryuk`` cannot be
  pulled here): ``TESTCONTAINERS_RYUK_DISABLED=true``. Every container carries the labels below,
  so :func:`clean` (``gosstand containers clean``) removes what a crashed run left behind.
- Host networking, set in ONE ``with_kwargs`` call (a second call would replace the first):
  every process binds a loopback port of its own, chosen free at start, so several stacks run
  side by side. Readiness is polled on 127.0.0.1 (port lookups do not work with host networking).
- The three services share one Redis server and keep apart by database number (ESIA 0, UTKO 1,
  FTS 2), as the embedded stack gives each service its own SQLite file.
- HAProxy health-checks ``/_gosstand/health`` every 250 ms and retries a request whose
  connection failed on another replica; ``docker/haproxy.cfg.template`` is its configuration.
- When the stack is given a ``state_dir`` (a load run's ``stack/``), each container's output —
  replicas, HAProxy, Redis — is kept there as ``logs/<name>.log`` when the stack closes, as the
  embedded stack's replicas write theirs: the containers, and with them their logs, are removed.
- With ``tcp_faults=True`` (``gosstand up --backend containers --tcp-faults``) the TCP fault layer
  (:mod:`gosstand.stand.tcpfaults`, a process on the host) sits between HAProxy and each replica:
  HAProxy's server line for a replica is the layer's port for it, so HAProxy's own health checks
  meet a blackhole, a reset or a partition as they would meet a real one.

The manifest (``stack.json``) says ``"backend": "containers"`` and names each replica's container,
so :func:`gosstand.stand.actions.perform` can act on it from any process.
"""

from __future__ import annotations

import os
import re
import secrets
import string
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Self

import httpx

from ..extras import MissingExtra, require
from ..mocks.core.keys import ensure_signing_keys
from ..mocks.core.metrics import METRICS_DIR_VARIABLE, METRICS_FOLDER
from ..mocks.core.middleware import REPLICA_HEADER
from ..mocks.core.settings import SERVICES, Settings, SignatureMode, configured_issuer
from .accounts import prepare_account_keys, register_accounts
from .actions import Evidence, ReplicaAction, perform
from .images import ImageBuildError, ImageSet, build_images, docker_client, project_dir
from .lifecycle import StackLifecycle
from .manifest import MANIFEST_NAME, ReplicaEntry, StackManifest
from .ports import claimed_port, free_port
from .protocol import StackError, new_control_token
from .tcpfaults_control import FrontConfig, LayerError, LayerProcess, UpstreamConfig

if TYPE_CHECKING:
    from testcontainers.core.container import DockerContainer

    import docker

__all__ = [
    "LABEL_APP",
    "LABEL_STACK",
    "ContainerStack",
    "clean",
    "docker_unavailable_reason",
]

LABEL_APP = "org.gosstand"
LABEL_STACK = "org.gosstand.stack"
LABEL_ROLE = "org.gosstand.role"
LABEL_SERVICE = "org.gosstand.service"
LABEL_REPLICA = "org.gosstand.replica"

#: Each service's Redis database: one Redis for the stack, a keyspace per service.
SERVICE_DATABASES = {"esia": 0, "utko": 1, "fts": 2}
HAPROXY_TEMPLATE = "haproxy.cfg.template"


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _quiet(message: str) -> None:
    pass


def docker_unavailable_reason() -> str | None:
    """Why the container stack cannot run here, or ``None`` when a Docker daemon answers."""
    try:
        require("the container stack", "containers")
        from docker.errors import DockerException

        import docker
    except MissingExtra as missing:
        return str(missing)
    try:
        client = docker.from_env(timeout=5)
        client.ping()
        client.close()
    except DockerException as error:
        return f"no Docker daemon answers ({error.__class__.__name__}); start dockerd"
    return None


def _without_reaper() -> None:
    """testcontainers' reaper image cannot be pulled here: label and sweep instead."""
    os.environ["TESTCONTAINERS_RYUK_DISABLED"] = "true"
    from testcontainers.core.config import testcontainers_config

    testcontainers_config.ryuk_disabled = True


@dataclass
class ContainerReplica:
    service: str
    index: int
    name: str
    port: int
    host: str = "127.0.0.1"
    container: DockerContainer | None = None
    #: The TCP fault layer's port for this replica, which HAProxy uses instead of ``port``.
    lane_port: int | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def balanced_port(self) -> int:
        """Where HAProxy reaches the replica: through the layer when there is one."""
        return self.lane_port or self.port

    @property
    def container_id(self) -> str | None:
        return self.container.get_container_id() if self.container and self.container._container else None

    def status(self) -> str:
        """Docker's word for it: running, paused, exited, …"""
        if self.container is None or self.container._container is None:
            return "absent"
        wrapped = self.container.get_wrapped_container()
        wrapped.reload()
        return str(wrapped.status)

    @property
    def alive(self) -> bool:
        return self.status() == "running"


@dataclass
class ContainerStack(StackLifecycle):
    """The stack as containers on host networking; see the module docstring."""

    replicas: int | Mapping[str, int] = 2
    services: Iterable[str] = SERVICES
    state_dir: Path | None = None
    host: str = "127.0.0.1"
    ports: Mapping[str, int] = field(default_factory=dict)
    control_token: str = field(default_factory=new_control_token)
    signature_mode: SignatureMode = "strict"
    #: Written into ESIA's tokens; ``GOSSTAND_ESIA_ISSUER`` when set, else the test stand's.
    esia_issuer: str = field(default_factory=configured_issuer)
    startup_timeout: float = 60.0
    #: Images to run; ``None`` builds (or reuses) them with :func:`~.images.build_images`.
    images: ImageSet | None = None
    #: ``auto``, ``registry`` or ``offline`` when images are built here (``GOSSTAND_IMAGES``).
    image_mode: str | None = None
    log: Callable[[str], None] = _stderr
    #: Put the TCP fault layer between HAProxy and the replicas (module docstring).
    tcp_faults: bool = False

    def __post_init__(self) -> None:
        self.services = tuple(self.services)
        self._own_state_dir = self.state_dir is None
        # Docker bind mounts take absolute paths only: a relative --state-dir would be
        # read as a named volume (or refused), so it is resolved against the cwd here.
        self.state_dir = Path(self.state_dir or tempfile.mkdtemp(prefix="gosstand-containers-")).absolute()
        self.stack_id = secrets.token_hex(4)
        self.urls: dict[str, str] = {}
        self.members: dict[str, list[ContainerReplica]] = {}
        self.proxies: dict[str, DockerContainer] = {}
        self.redis: DockerContainer | None = None
        self.redis_port: int | None = None
        self.layer: LayerProcess | None = None

    # -- life cycle ------------------------------------------------------------------------
    def start(self) -> Self:
        assert self.state_dir is not None
        _without_reaper()
        self.images = self.images or build_images(mode=self.image_mode, log=self.log)
        ensure_signing_keys(self.keys_dir)
        prepare_account_keys(self.keys_dir, tuple(self.services))
        try:
            self._start_redis()
            for service in self.services:  # every URL first: FTS and UTKO are told ESIA's
                port = claimed_port(self.host, self.ports[service]) if self.ports.get(service) else free_port(self.host)
                self.urls[service] = f"http://{self.host}:{port}"
            for service in self.services:
                count = self.replicas if isinstance(self.replicas, int) else self.replicas.get(service, 1)
                self.members[service] = [
                    ContainerReplica(service, i, f"{service}-{i}", free_port(self.host), self.host)
                    for i in range(1, count + 1)
                ]
                for replica in self.members[service]:
                    self._start_replica(replica)
            for service in self.services:
                for replica in self.members[service]:
                    self._wait_replica(replica)
            if self.tcp_faults:
                self._start_layer()
            for service in self.services:
                self._start_proxy(service)
            for service in self.services:
                self._wait_through_proxy(service)
            register_accounts(self.urls, self.control_token, self.keys_dir)
        except BaseException:
            self.close()
            raise
        self.write_manifest()
        return self

    @property
    def keys_dir(self) -> Path:
        assert self.state_dir is not None
        return self.state_dir / "esia-keys"

    def _labels(self, role: str, **extra: str) -> dict[str, str]:
        return {LABEL_APP: "true", LABEL_STACK: self.stack_id, LABEL_ROLE: role, **extra}

    def _container(self, image: str, *, name: str, labels: dict[str, str]) -> DockerContainer:
        from testcontainers.core.container import DockerContainer

        container = DockerContainer(image).with_name(f"gosstand-{self.stack_id}-{name}")
        # Everything in one call: with_kwargs replaces what an earlier call set.
        return container.with_kwargs(network_mode="host", labels=labels)

    def _start_redis(self) -> None:
        from testcontainers.core.wait_strategies import LogMessageWaitStrategy

        assert self.images is not None
        self.redis_port = free_port(self.host)
        self.redis = (
            self._container(self.images.redis, name="redis", labels=self._labels("redis"))
            .with_command(["redis-server", "--bind", self.host, "--port", str(self.redis_port), "--save", "",
                           "--appendonly", "no", "--protected-mode", "no", "--databases", "16"])
            .waiting_for(LogMessageWaitStrategy(re.escape("Ready to accept connections")).with_startup_timeout(
                int(self.startup_timeout)))
        )
        self.redis.start()

    @property
    def store_url(self) -> str:
        return f"redis://{self.host}:{self.redis_port}"

    def _replica_settings(self, replica: ContainerReplica) -> Settings:
        return Settings(
            service=replica.service,
            replica=replica.name,
            state_dir=Path("/tmp/gosstand"),
            store_url=f"{self.store_url}/{SERVICE_DATABASES[replica.service]}",
            control_token=self.control_token,
            public_url=self.urls[replica.service],
            esia_issuer=self.esia_issuer,
            esia_url=self.urls.get("esia", ""),
            esia_keys_dir=self.keys_dir,
            signature_mode=self.signature_mode,
        )

    def _start_replica(self, replica: ContainerReplica) -> None:
        assert self.images is not None
        assert self.state_dir is not None
        metrics = self.state_dir / METRICS_FOLDER / replica.service
        metrics.mkdir(parents=True, exist_ok=True)
        env = {
            **self._replica_settings(replica).to_env(),
            "GOSSTAND_HOST": self.host,
            "GOSSTAND_PORT": str(replica.port),
            # the service's replicas share their series, so a scrape through HAProxy gets them all
            METRICS_DIR_VARIABLE: str(metrics),
        }
        container = self._container(
            self.images.mocks, name=replica.name,
            labels=self._labels("mock", **{LABEL_SERVICE: replica.service, LABEL_REPLICA: replica.name}),
        # Read-write: ESIA replicas create the GOST key pair there on first start (atomically).
        ).with_volume_mapping(str(self.keys_dir), str(self.keys_dir), "rw").with_volume_mapping(
            str(metrics), str(metrics), "rw")
        for key, value in env.items():
            container.with_env(key, value)
        replica.container = container.start()

    def _wait_replica(self, replica: ContainerReplica) -> None:
        """Poll the replica's own port until it answers as itself."""
        deadline = time.monotonic() + self.startup_timeout
        while True:
            try:
                response = httpx.get(f"{replica.url}/_gosstand/health", timeout=1.0)
                if response.status_code == 200 and response.headers.get(REPLICA_HEADER) == replica.name:
                    return
            except httpx.TransportError:
                pass
            status = replica.status()
            if status not in ("running", "created", "restarting"):
                raise StackError(f"replica {replica.name} is {status} during start:\n{self._logs(replica.container)}")
            if time.monotonic() > deadline:
                raise StackError(f"replica {replica.name} did not answer within {self.startup_timeout}s:\n"
                                 f"{self._logs(replica.container)}")
            time.sleep(0.1)

    def _start_layer(self) -> None:
        """One front per replica, on a port of its own, forwarding to the replica's port."""
        assert self.state_dir is not None
        fronts = []
        for replica in (r for members in self.members.values() for r in members):
            replica.lane_port = free_port(self.host)
            fronts.append(FrontConfig(host=self.host, port=replica.lane_port, upstreams=(
                UpstreamConfig(name=replica.name, host=self.host, port=replica.port),)))
        try:
            self.layer = LayerProcess.start(fronts, directory=self.state_dir)
        except LayerError as exc:
            raise StackError(str(exc)) from None

    def _haproxy_config(self, service: str) -> str:
        template = string.Template((project_dir() / "docker" / HAPROXY_TEMPLATE).read_text())
        members = self.members[service]
        servers = "\n".join(
            [f"    server {r.name} {r.host}:{r.balanced_port} check" for r in members]
            + [f"    server {r.name}-fallback {r.host}:{r.balanced_port} backup" for r in members]
        )
        port = self.urls[service].rsplit(":", 1)[1]
        return template.substitute(service=service, host=self.host, port=port, servers=servers)

    def _start_proxy(self, service: str) -> None:
        assert self.images is not None
        proxy = (
            self._container(self.images.haproxy, name=f"{service}-haproxy",
                            labels=self._labels("haproxy", **{LABEL_SERVICE: service}))
            .with_env("HAPROXY_CFG", self._haproxy_config(service))
            # The configuration travels in the environment: no file to mount, same for both images.
            .with_command(["sh", "-c", 'printf "%s\\n" "$HAPROXY_CFG" > /tmp/haproxy.cfg '
                                       "&& exec haproxy -W -db -f /tmp/haproxy.cfg"])
        )
        self.proxies[service] = proxy.start()

    def _wait_through_proxy(self, service: str, names: set[str] | None = None) -> None:
        """Until every replica (or those named) has answered through HAProxy (round robin reaches
        them all once its health checks count them up)."""
        waiting = set(names or (r.name for r in self.members[service]))
        deadline = time.monotonic() + self.startup_timeout
        while waiting:
            try:
                response = httpx.get(f"{self.urls[service]}/_gosstand/health", timeout=1.0)
                waiting.discard(response.headers.get(REPLICA_HEADER, ""))
            except httpx.TransportError:
                time.sleep(0.1)
            if time.monotonic() > deadline:
                raise StackError(f"{service}: HAProxy did not reach {sorted(waiting)} within {self.startup_timeout}s:"
                                 f"\n{self._logs(self.proxies.get(service))}")

    @staticmethod
    def _logs(container: DockerContainer | None) -> str:
        if container is None or container._container is None:
            return ""
        try:
            return container.get_wrapped_container().logs(tail=40).decode(errors="replace")
        except Exception as error:  # noqa: BLE001 - diagnostics only
            return f"(no logs: {error})"

    def _named_containers(self) -> dict[str, DockerContainer | None]:
        """Every container of this stack by the name its log is kept under."""
        named: dict[str, DockerContainer | None] = {r.name: r.container for rs in self.members.values() for r in rs}
        named.update({f"haproxy-{service}": proxy for service, proxy in self.proxies.items()})
        named["redis"] = self.redis
        return named

    def _keep_logs(self, containers: Mapping[str, DockerContainer | None]) -> None:
        """Each container's whole output into ``logs/<name>.log`` of a state directory the caller
        keeps (a temporary one is removed at close anyway), streamed: a long run's log is never
        held in memory. Each line starts with Docker's timestamp of it (RFC 3339, UTC): HAProxy's
        lines and the replicas' carry none of their own, and a mark-down is read against the
        run's records by its time."""
        if self._own_state_dir or self.state_dir is None:
            return
        folder = self.state_dir / "logs"
        folder.mkdir(parents=True, exist_ok=True)
        for name, container in containers.items():
            if container is None or container._container is None:
                continue
            with (folder / f"{name}.log").open("wb") as log:
                try:
                    for chunk in container.get_wrapped_container().logs(stream=True, follow=False, timestamps=True):
                        log.write(chunk)
                except Exception as error:  # noqa: BLE001 - diagnostics only: the close goes on
                    log.write(f"\n(the rest of this log could not be read: {error})\n".encode())

    def close(self) -> None:
        """Remove every container of this stack, also ones a failed start left half made, after
        keeping their logs (:meth:`_keep_logs`)."""
        containers = self._named_containers()
        self._keep_logs(containers)
        for container in containers.values():
            if container is not None and container._container is not None:
                try:
                    container.stop()
                except Exception:  # noqa: BLE001 - the sweep by label below catches the rest
                    pass
        try:
            clean(stack=self.stack_id)
        except ImageBuildError:
            pass
        self._release_layer_and_state()

    # -- failover actions -------------------------------------------------------------------
    def replica(self, service: str, index: int) -> ContainerReplica:
        return self.members[service][index - 1]

    def act(self, service: str, index: int, action: ReplicaAction) -> Evidence:
        """Do ``action`` to replica ``index`` (1-based) of ``service``; what was seen of it after."""
        replica = self.replica(service, index)
        if replica.container_id is None:
            raise StackError(f"replica {replica.name} has no container")
        evidence = perform(self.manifest(), service, index, action)
        if action is ReplicaAction.RESTART:
            self._wait_replica(replica)
            if service in self.proxies:
                self._wait_through_proxy(service, {replica.name})
        self.write_manifest()
        return evidence

    def kill(self, service: str, index: int) -> None:
        """``docker kill`` of one replica: a hard crash (SIGKILL)."""
        self.act(service, index, ReplicaAction.KILL)

    def restart(self, service: str, index: int) -> None:
        """Start the replica's container again (whatever state it is in) and wait until it serves,
        also through HAProxy."""
        self.act(service, index, ReplicaAction.RESTART)

    # -- the manifest other processes read --------------------------------------------------
    def manifest(self) -> StackManifest:
        return StackManifest(
            backend="containers", urls=dict(self.urls), control_token=self.control_token,
            state_dir=str(self.state_dir), stack_id=self.stack_id, store=self.store_url,
            images=None if self.images is None else dict(self.images.__dict__),
            tcp_faults=self.layer.config.control if self.layer else None,
            esia_issuer=self.esia_issuer if "esia" in self.services else None,
            replicas={
                service: [
                    ReplicaEntry(name=r.name, container=r.container_id, url=r.url, status=(status := r.status()),
                                 alive=status == "running")
                    for r in replicas
                ]
                for service, replicas in self.members.items()
            },
        )

    def write_manifest(self) -> Path:
        assert self.state_dir is not None
        return self.manifest().write(self.state_dir / MANIFEST_NAME)


# -- acting on containers from any process ---------------------------------------------------------
def clean(*, stack: str | None = None, client: docker.DockerClient | None = None) -> list[str]:
    """Remove gosstand's containers (one stack's, or every leftover); returns their names."""
    client = client or docker_client()
    selector = f"{LABEL_STACK}={stack}" if stack else f"{LABEL_APP}=true"
    removed = []
    for container in client.containers.list(all=True, filters={"label": selector}):
        container.remove(force=True, v=True)
        removed.append(container.name or container.short_id)
    return removed
