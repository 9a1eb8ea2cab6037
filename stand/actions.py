"""The one vocabulary of things done to a replica, one dispatch per backend, and the evidence
that each took effect.

A failover schedule, ``gosstand up``'s stack objects and the tests all name an action the same
way (:class:`ReplicaAction`); only here does it become a signal to an embedded replica's process
group or a Docker call on a container. After acting, the replica is *observed* — the process
gone or stopped (``/proc/<pid>/stat``), the container's state — so a run can tell an action that
happened from one that did not (a replica already dead, a container that would not pause), and
say which in its report instead of calling a run with no fault a pass.

Four actions fail the *path* to a replica rather than the replica: ``blackhole``, ``reset``,
``reset_answer`` and ``partition``, done by the TCP fault layer (:mod:`.tcpfaults`) of a stack that runs one (the
manifest's ``tcp_faults``), and ended by ``heal``. Their evidence is what the layer counted
while the fault was in force — connections held unanswered, reset, refused or cut — read back
when it is healed: a fault nobody met proves nothing, and is reported as not taking effect.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from .manifest import ReplicaEntry, StackManifest
from .tcpfaults_control import FAULTS, ControlFailure, TcpFaultControl

if TYPE_CHECKING:
    import docker

__all__ = [
    "NETWORK_FAULTS",
    "ActionUnavailable",
    "Evidence",
    "ReplicaAction",
    "act_on_container",
    "observe_process",
    "perform",
]


class ReplicaAction(StrEnum):
    #: SIGKILL / ``docker kill``: a crash; the replica's connections are reset.
    KILL = "kill"
    #: SIGTERM / ``docker stop``: a graceful shutdown.
    STOP = "stop"
    #: SIGSTOP / the cgroup freezer: the kernel still accepts connections, nothing answers them.
    PAUSE = "pause"
    #: SIGCONT / unfreeze: the end of a pause.
    UNPAUSE = "unpause"
    #: Start again from any state and serve (containers; an embedded replica needs its stack object).
    RESTART = "restart"
    #: The TCP fault layer holds the replica's connections unanswered (a stopped process, a dead path).
    BLACKHOLE = "blackhole"
    #: The TCP fault layer answers each request sent to the replica with a TCP RST, before any byte.
    RESET = "reset"
    #: The TCP fault layer lets each request reach the replica and resets the connection in place of
    #: its answer: applied, and the client cannot know.
    RESET_ANSWER = "reset_answer"
    #: The TCP fault layer cuts the replica off: open connections cut, new ones refused.
    PARTITION = "partition"
    #: The end of a network fault; its evidence is what the fault did.
    HEAL = "heal"


#: The actions the TCP fault layer does, on either backend.
NETWORK_FAULTS = (ReplicaAction.BLACKHOLE, ReplicaAction.RESET, ReplicaAction.RESET_ANSWER, ReplicaAction.PARTITION)


#: The signal each action sends to an embedded replica's process group.
SIGNALS: dict[ReplicaAction, signal.Signals] = {
    ReplicaAction.KILL: signal.SIGKILL,
    ReplicaAction.STOP: signal.SIGTERM,
    ReplicaAction.PAUSE: signal.SIGSTOP,
    ReplicaAction.UNPAUSE: signal.SIGCONT,
}
#: The state a container is in once each action took effect (``docker inspect``'s ``State.Status``).
CONTAINER_STATES: dict[ReplicaAction, tuple[str, ...]] = {
    ReplicaAction.KILL: ("exited", "dead"),
    ReplicaAction.STOP: ("exited", "dead"),
    ReplicaAction.PAUSE: ("paused",),
    ReplicaAction.UNPAUSE: ("running",),
    ReplicaAction.RESTART: ("running",),
}
#: How long a stopped container gets before Docker kills it.
STOP_TIMEOUT = 5
#: How long to watch for an action to show: a SIGTERM'd replica drains its requests first.
OBSERVE_TIMEOUT = {ReplicaAction.STOP: STOP_TIMEOUT + 5.0}
DEFAULT_OBSERVE_TIMEOUT = 3.0


class ActionUnavailable(ValueError):
    """The action cannot be done to this replica from here (say, restart an embedded replica
    from another process): a schedule asking for it is refused before the run."""


@dataclass(frozen=True, kw_only=True)
class Evidence:
    """What was seen of the replica after acting on it."""

    took_effect: bool
    #: In a few words: ``pid 4242 gone``, ``pid 4242 stopped``, ``container 3f2a… paused``,
    #: ``blackhole of esia-1 held 12 connection(s) unanswered in 5.0 s``.
    seen: str
    #: Counts behind ``seen``, where there are some (a healed network fault's).
    counts: dict[str, int] | None = None

    def to_json(self) -> dict[str, Any]:
        raw: dict[str, Any] = {"took_effect": self.took_effect, "seen": self.seen}
        if self.counts is not None:
            raw["counts"] = dict(self.counts)
        return raw


def available(manifest: StackManifest, action: ReplicaAction) -> bool:
    """Whether ``action`` can be done from a manifest of this backend."""
    if action in NETWORK_FAULTS or action is ReplicaAction.HEAL:
        return manifest.tcp_faults is not None
    return manifest.backend == "containers" or action in SIGNALS


def perform(manifest: StackManifest, service: str, index: int, action: ReplicaAction, *,
            sleep: Callable[[float], None] = time.sleep, ttl: float | None = None) -> Evidence:
    """Do ``action`` to replica ``index`` (1-based) of ``service`` and observe the result.

    A network fault (``blackhole``, ``reset``, ``partition``) ends with ``heal`` or, as a safety
    net, after ``ttl`` seconds. Raises :class:`~gosstand.stand.manifest.ManifestError` for a
    replica the stack does not have and :class:`ActionUnavailable` for an action its backend
    cannot do from a manifest.
    """
    entry = manifest.replica(service, index)
    if action in NETWORK_FAULTS or action is ReplicaAction.HEAL:
        return _network(manifest, entry, action, ttl)
    if manifest.backend == "containers":
        if entry.container is None:
            raise ActionUnavailable(f"{entry.name} has no container in the manifest")
        state = act_on_container(entry.container, action)
        wanted = CONTAINER_STATES[action]
        return Evidence(took_effect=state in wanted, seen=f"container {entry.container[:12]} {state}")
    if action not in SIGNALS:
        raise ActionUnavailable(f"{action} of an embedded replica needs its stack object (gosstand up's own "
                                f"process); from a manifest: {', '.join(sorted(SIGNALS))}")
    return _signal(entry, action, sleep=sleep)


def _signal(entry: ReplicaEntry, action: ReplicaAction, *, sleep: Callable[[float], None]) -> Evidence:
    if entry.pid is None:
        raise ActionUnavailable(f"{entry.name} has no process id in the manifest")
    before = observe_process(entry.pid)
    if before == "gone" and action is not ReplicaAction.UNPAUSE:
        return Evidence(took_effect=False, seen=f"pid {entry.pid} was not running")
    try:
        os.killpg(entry.pid, SIGNALS[action])
    except ProcessLookupError:
        return Evidence(took_effect=False, seen=f"pid {entry.pid} was not running")
    wanted = {"gone"} if action in (ReplicaAction.KILL, ReplicaAction.STOP) else \
        {"stopped"} if action is ReplicaAction.PAUSE else {"running", "sleeping"}
    deadline = time.monotonic() + OBSERVE_TIMEOUT.get(action, DEFAULT_OBSERVE_TIMEOUT)
    state = observe_process(entry.pid)
    while state not in wanted and time.monotonic() < deadline:
        sleep(0.01)
        state = observe_process(entry.pid)
    return Evidence(took_effect=state in wanted, seen=f"pid {entry.pid} {state}")


def _network(manifest: StackManifest, entry: ReplicaEntry, action: ReplicaAction, ttl: float | None) -> Evidence:
    """Switch the TCP fault layer: a fault is in force once the layer says so; its heal reads
    back what it did."""
    if manifest.tcp_faults is None:
        raise ActionUnavailable(f"{action} needs the TCP fault layer, and this stack runs without it: start it "
                                f"with `gosstand up --tcp-faults` (gosstand peak starts its own stack with the "
                                f"layer when its schedule asks for one)")
    control = TcpFaultControl(manifest.tcp_faults)
    try:
        if action is ReplicaAction.HEAL:
            ended = control.heal(entry.name)
            return Evidence(took_effect=ended.took_effect, seen=ended.describe(), counts=ended.counts())
        kind = next((fault for fault in FAULTS if fault == action.value), None)  # the layer's name for it
        if kind is None:
            raise ActionUnavailable(f"{action} is not a fault the TCP fault layer makes")
        control.inject(entry.name, kind, ttl=ttl)
    except ControlFailure as failure:
        return Evidence(took_effect=False, seen=str(failure))
    return Evidence(took_effect=True, seen=f"{action} of {entry.name} in force")


def observe_process(pid: int) -> str:
    """``gone`` (no such process, or a zombie nobody reaped yet), ``stopped``, ``sleeping`` or
    ``running`` — read from ``/proc/<pid>/stat``, which needs no privilege over the process."""
    try:
        stat = open(f"/proc/{pid}/stat", encoding="ascii", errors="replace").read()  # noqa: SIM115
    except (FileNotFoundError, ProcessLookupError):
        return "gone"
    state = stat.rsplit(")", 1)[-1].split()[0]  # the name in parentheses may hold spaces
    return {"Z": "gone", "X": "gone", "T": "stopped", "t": "stopped", "R": "running"}.get(state, "sleeping")


def act_on_container(container_id: str, action: ReplicaAction, *,
                     client: docker.DockerClient | None = None) -> str:
    """Do ``action`` to one container; returns its state afterwards (``exited``, ``paused``…).

    Killing a dead container or unpausing a running one is not an error here: the returned
    state is the evidence, and the caller judges it.
    """
    from docker.errors import APIError

    import docker as docker_sdk

    own_client = client is None
    client = client or docker_sdk.from_env(timeout=120)
    try:
        container = client.containers.get(container_id)
        if action is ReplicaAction.KILL:
            _ignore_not_running(lambda: container.kill(signal="SIGKILL"), APIError)
        elif action is ReplicaAction.STOP:
            container.stop(timeout=STOP_TIMEOUT)
        elif action is ReplicaAction.PAUSE:
            _ignore_not_running(container.pause, APIError)  # a dead one stays dead: its state says so
        elif action is ReplicaAction.UNPAUSE:
            _ignore_not_running(container.unpause, APIError)
        else:
            container.reload()
            if container.status == "paused":
                container.unpause()
            container.restart(timeout=STOP_TIMEOUT)
        container.reload()
        return str(container.status)
    finally:
        if own_client:
            client.close()


def _ignore_not_running(call: Callable[[], object], error: type[Exception]) -> None:
    try:
        call()
    except error as failure:
        if "is not running" not in str(failure) and "is not paused" not in str(failure):
            raise
