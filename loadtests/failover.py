"""The failover schedule of a load run: kill, stop, pause or restart replica X of service S at
time t; set a fault rule on the stand's service S (``fault``: 503s, a quota, latency, dropped
connections — :mod:`gosstand.mocks.core.faults`) for ``duration`` seconds, on one replica or all;
or, for a system gosstand does not run (``gosstand peak --target fts=URL``), run the command that
fails it (``exec``: ``kubectl delete pod …``, an ``iptables`` rule…), with an optional ``undo``
command ``duration`` seconds later.

The schedule is data (``loadtests/failover.yaml``); :func:`register` attaches it to a Locust
environment through the ``test_start`` hook, so the actions run on the same clock as the
requests they disturb, and each one is written to ``failovers.jsonl`` in the run directory
(the reports read ``t`` as the fault's start and ``until`` as its end, ``null`` for a crash).
Replicas are found through the stack manifest, so the stack may live in another process.
``restart`` (stop and start again, the replica's ``t_r`` is when it serves) needs a container
manifest: an embedded replica cannot be started from another process. An ``exec`` command runs
through the shell, bounded by its ``timeout``, cooperatively under Locust's gevent (the load
goes on while it runs); its exit code and the tail of its output are logged with the action.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..mocks.stack import act, kill_replica
from ..scenarios.control import ControlError, StackControl
from ..scenarios.http import TransportFailure

ACTIONS: dict[str, signal.Signals] = {
    "kill": signal.SIGKILL,
    "stop": signal.SIGTERM,
    "pause": signal.SIGSTOP,
}
#: Actions without a signal of their own, carried out by :func:`gosstand.mocks.stack.act`.
MANIFEST_ACTIONS = ("restart",)
#: Runs a command of the user's: the way to fail a system gosstand does not run.
EXEC = "exec"
#: Sets a fault rule through the service's control API, and removes it after ``duration``.
FAULT = "fault"
#: How much longer a scheduled fault rule's own ttl runs than its ``duration``.
FAULT_TTL_MARGIN = 30.0


@dataclass(frozen=True, kw_only=True)
class FailoverAction:
    at: float
    service: str
    action: str
    replica: int | None = None
    duration: float | None = None
    #: ``exec`` only: the shell command that injects the fault, and the one that removes it.
    command: str | None = None
    undo: str | None = None
    timeout: float = 60.0
    #: ``fault`` only: the rule, as the control API takes it (``{kind: error, status: 503}``).
    fault: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.action not in ACTIONS and self.action not in MANIFEST_ACTIONS and self.action not in (EXEC, FAULT):
            known = sorted([*ACTIONS, *MANIFEST_ACTIONS, EXEC, FAULT])
            raise ValueError(f"unknown failover action {self.action!r}; known: {known}")
        if self.at < 0:
            raise ValueError("at must be ≥ 0")
        if (self.fault is not None) != (self.action == FAULT):
            raise ValueError("a fault action needs its rule (fault: {kind: …}), and only a fault action has one")
        if self.action == FAULT:
            self._check_fault()
            return
        if self.action == EXEC:
            if not self.command:
                raise ValueError("an exec action needs a command")
            if bool(self.undo) != bool(self.duration):
                raise ValueError("an exec action's undo and duration come together")
            if self.timeout <= 0:
                raise ValueError("timeout must be > 0")
            return
        if self.command or self.undo:
            raise ValueError(f"command and undo belong to exec actions, not {self.action}")
        if self.action == "pause" and not self.duration:
            raise ValueError("a pause needs a duration in seconds")
        if self.replica is None or self.replica < 1:
            raise ValueError(f"a {self.action} action needs replica ≥ 1")


    def _check_fault(self) -> None:
        """The rule as the control API will judge it, so a bad schedule fails before the load."""
        from ..mocks.core.faults import parse_rule
        from ..mocks.core.problems import Problem

        if self.command or self.undo:
            raise ValueError("command and undo belong to exec actions, not fault")
        if self.replica is not None and self.replica < 1:
            raise ValueError("a fault's replica is ≥ 1 (or absent: every replica)")
        if self.duration is not None and self.duration <= 0:
            raise ValueError("a fault's duration must be > 0 seconds")
        try:
            parse_rule(self.rule(), rule_id="", now=0.0)
        except Problem as problem:
            said = "; ".join(f"{e['pointer']}: {e['detail']}" for e in problem.errors or []) or problem.detail
            raise ValueError(f"fault rule: {said}") from None

    def rule(self) -> dict[str, Any]:
        """The rule to set: the schedule's, scoped to the replica. The run removes it
        ``duration`` seconds after setting it; its own ``ttl`` runs :data:`FAULT_TTL_MARGIN`
        seconds longer, so it ends by itself if the run dies, but never before the removal
        (the report's window would then hold requests the rule no longer touched)."""
        rule = dict(self.fault or {})
        if self.replica is not None:
            rule["replica"] = f"{self.service}-{self.replica}"
        if self.duration is not None:
            rule.setdefault("ttl", self.duration + FAULT_TTL_MARGIN)
        return rule


def load_schedule(path: str | Path | None) -> list[FailoverAction]:
    """Actions from a schedule file, in time order; an absent path means no failover."""
    if path is None:
        return []
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    actions = [FailoverAction(**item) for item in data.get("actions", [])]
    return sorted(actions, key=lambda a: a.at)


def apply(
    action: FailoverAction, manifest: Mapping[str, Any], *, now: Callable[[], float] = time.time
) -> dict[str, Any]:
    """Carry out one action against a stack manifest; returns the ``failovers.jsonl`` record."""
    started = now()
    if action.action == EXEC:
        assert action.command is not None
        record = {"t": started, "action": EXEC, "service": action.service, "target": action.command,
                  **run_command(action.command, timeout=action.timeout)}
        return {**record, "until": started + action.duration if action.duration else None}
    if action.action == FAULT:
        try:
            rule = _control(manifest).add_fault(action.service, **action.rule())
        except (ControlError, TransportFailure) as exc:  # reported as a failed fault: the run then exits 2
            return {"t": started, "action": FAULT, "service": action.service, "target": f"{action.service} fault",
                    "until": None, "error": str(exc)}
        # The control API answers once every replica applies the rule: that is when the fault starts.
        began = now()
        where = rule["replica"] or action.service
        return {"t": began, "action": FAULT, "service": action.service, "target": f"{where} {_summary(rule)}",
                "until": began + action.duration if action.duration else None, "rule": rule}
    assert action.replica is not None
    if action.action in MANIFEST_ACTIONS:
        name = act(manifest, action.service, action.replica, action.action)
        entry = manifest["replicas"][action.service][action.replica - 1]
        _wait_healthy(entry.get("url"), now=now)
        return {"t": started, "action": action.action, "service": action.service, "target": name,
                "until": now()}
    name = kill_replica(manifest, action.service, action.replica, ACTIONS[action.action])
    until = started + action.duration if action.action == "pause" and action.duration else None
    return {"t": started, "action": action.action, "service": action.service, "target": name, "until": until}


def _wait_healthy(url: str | None, *, now: Callable[[], float], timeout: float = 30.0) -> None:
    """Poll a restarted replica's health endpoint, so ``until`` is when it serves again."""
    if not url:
        return
    import httpx

    deadline = now() + timeout
    while now() < deadline:
        try:
            if httpx.get(f"{url}/_gosstand/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)


def run_command(command: str, *, timeout: float) -> dict[str, Any]:
    """Run a user's fault command through the shell: its exit code and the tail of its output
    (a command that outlives ``timeout`` is killed and reported with exit code null)."""
    try:
        completed = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=timeout,
                                   stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired:
        return {"exit_code": None, "output": f"killed after {timeout:g} s"}
    return {"exit_code": completed.returncode, "output": (completed.stdout + completed.stderr)[-500:]}


def _control(manifest: Mapping[str, Any]) -> StackControl:
    """The control API of the stack in ``manifest`` (any replica: the rules are shared)."""
    return StackControl(manifest["urls"], manifest["control_token"])


def _summary(rule: Mapping[str, Any]) -> str:
    """A fault rule in a few words, for the report's markers: ``error 503``, ``latency 800 ms``…"""
    kind = rule["kind"]
    detail = {
        "error": lambda: f"{rule['status']}",
        "latency": lambda: f"{rule['delay_ms']:g} ms",
        "quota": lambda: f"{rule['limit']}/{rule['window']:g} s",
        "drop": lambda: rule.get("phase", "before"),
    }[kind]()
    share = "" if rule.get("probability", 1) >= 1 else f" p={rule['probability']:g}"
    return f"{kind} {detail}{share}"


def resume(action: FailoverAction, manifest: Mapping[str, Any], record: Mapping[str, Any]) -> None:
    """End a pause (SIGCONT), remove a fault rule, or run an exec action's undo command."""
    if action.action == FAULT:
        if "rule" in record:  # else it was never set
            _control(manifest).remove_fault(action.service, record["rule"]["id"])
        return
    if action.action == EXEC:
        if action.undo:
            run_command(action.undo, timeout=action.timeout)
        return
    assert action.replica is not None
    kill_replica(manifest, action.service, action.replica, signal.SIGCONT)


def register(environment: Any, *, schedule: list[FailoverAction], manifest_path: Path, run_dir: Path) -> None:
    """Run ``schedule`` from the moment the load starts, on the master (or local) runner."""
    if not schedule:
        return
    import gevent
    from locust.runners import WorkerRunner

    log = run_dir / "failovers.jsonl"

    def perform(action: FailoverAction) -> None:
        manifest = json.loads(manifest_path.read_text())
        record = apply(action, manifest)
        with log.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
        if action.duration and (action.action in ("pause", FAULT) or action.undo):
            gevent.sleep(max(0.0, record["t"] + action.duration - time.time()))
            resume(action, manifest, record)

    def on_test_start(**_: Any) -> None:
        if isinstance(environment.runner, WorkerRunner):
            return
        for action in schedule:
            gevent.spawn_later(action.at, perform, action)

    environment.events.test_start.add_listener(on_test_start)
