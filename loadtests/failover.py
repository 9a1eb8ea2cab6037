"""The failover schedule of a load run: kill, stop, pause or restart replica X of service S at time t.

The schedule is data (``loadtests/failover.yaml``); :func:`register` attaches it to a Locust
environment through the ``test_start`` hook, so the actions run on the same clock as the
requests they disturb, and each one is written to ``failovers.jsonl`` in the run directory
(the reports read ``t`` as the fault's start and ``until`` as its end, ``null`` for a crash).
Replicas are found through the stack manifest, so the stack may live in another process.
``restart`` (stop and start again, the replica's ``t_r`` is when it serves) needs a container
manifest: an embedded replica cannot be started from another process.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..mocks.stack import act, kill_replica

ACTIONS: dict[str, signal.Signals] = {
    "kill": signal.SIGKILL,
    "stop": signal.SIGTERM,
    "pause": signal.SIGSTOP,
}
#: Actions without a signal of their own, carried out by :func:`gosstand.mocks.stack.act`.
MANIFEST_ACTIONS = ("restart",)


@dataclass(frozen=True, kw_only=True)
class FailoverAction:
    at: float
    service: str
    replica: int
    action: str
    duration: float | None = None

    def __post_init__(self) -> None:
        if self.action not in ACTIONS and self.action not in MANIFEST_ACTIONS:
            known = sorted([*ACTIONS, *MANIFEST_ACTIONS])
            raise ValueError(f"unknown failover action {self.action!r}; known: {known}")
        if self.action == "pause" and not self.duration:
            raise ValueError("a pause needs a duration in seconds")
        if self.at < 0 or self.replica < 1:
            raise ValueError("at must be ≥ 0 and replica ≥ 1")


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


def resume(action: FailoverAction, manifest: Mapping[str, Any]) -> None:
    """End a pause (SIGCONT)."""
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
        if action.action == "pause" and action.duration:
            gevent.sleep(action.duration)
            resume(action, manifest)

    def on_test_start(**_: Any) -> None:
        if isinstance(environment.runner, WorkerRunner):
            return
        for action in schedule:
            gevent.spawn_later(action.at, perform, action)

    environment.events.test_start.add_listener(on_test_start)
