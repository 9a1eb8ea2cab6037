"""Carrying out a failover schedule during a load run, and recording what each action did.

Each :class:`~gosstand.loadtests.schedule.ScheduledAction` is carried out in two steps —
:func:`inject`, then (for a pause, a network fault, a fault rule, an exec with ``undo``)
:func:`remove` ``duration`` seconds later — and leaves one
:class:`~gosstand.stand.records.FailoverRecord` in ``failovers.jsonl`` with the evidence that it
took effect: the replica's process gone or stopped, the container's state, the connections the
TCP fault layer held, reset, refused or cut, the exec command's exit code, the fault rule's hit
count. An action that
raised, was refused, or was not seen to take effect is recorded as such (``took_effect: false``
and the reason), and ``gosstand peak`` then exits 2: a run whose fault did not happen proves
nothing, whatever its figures say.

:func:`register` attaches the schedule to Locust through its ``test_start`` hook, so the actions
run on the same clock as the requests they disturb (on the master, or the one local runner).
Replica actions go through :func:`gosstand.stand.actions.perform`, the one dispatch per
backend; fault rules through the control API; exec commands through the shell, bounded by
their ``timeout``, cooperatively under Locust's gevent (the load goes on while one runs).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..scenarios.control import ControlError, StackControl
from ..scenarios.http import TransportFailure
from ..stand.actions import ActionUnavailable, ReplicaAction, perform
from ..stand.manifest import ManifestError, StackManifest
from ..stand.records import FailoverRecord
from .schedule import FAULT_TTL_MARGIN, NETWORK_ACTIONS, ScheduledAction

__all__ = ["carry_out", "inject", "register", "remove", "run_command"]

Clock = Callable[[], float]


def inject(action: ScheduledAction, manifest: StackManifest, *, now: Clock = time.time) -> FailoverRecord:
    """Inject one action's fault; the record's ``injected_at`` is when it began."""
    base = FailoverRecord(entry=action.entry, action=action.action, service=action.service,
                          replica=action.replica, scheduled_at=action.at, injected_at=now())
    try:
        if action.action == "exec":
            return _exec(action, base, now)
        if action.action == "fault":
            return _set_rule(action, manifest, base, now)
        return _act(action, manifest, base, now)
    except (ActionUnavailable, ManifestError, ControlError, TransportFailure, OSError) as exc:
        return replace(base, took_effect=False, error=f"{type(exc).__name__}: {exc}"[:500])


def remove(action: ScheduledAction, manifest: StackManifest, record: FailoverRecord, *,
           now: Clock = time.time) -> FailoverRecord:
    """End a pause (SIGCONT), remove a fault rule (reading how many requests it hit first), or
    run an exec action's undo command. A removal that fails is an error of the run too."""
    if not record.took_effect and action.action != "fault":
        return record
    try:
        if action.action == "exec":
            assert action.undo is not None
            undone = run_command(action.undo, timeout=action.timeout)
            removed = replace(record, removed_at=now(), detail={**record.detail, "undo": undone})
            if undone["exit_code"] != 0:
                return replace(removed, error=f"the undo command ended with exit code {undone['exit_code']}")
            return removed
        if action.action == "fault":
            return _remove_rule(action, manifest, record, now)
        if action.action in NETWORK_ACTIONS:
            return _heal(action, manifest, record, now)
        evidence = perform(manifest, action.service, _replica(action), ReplicaAction.UNPAUSE)
        removed = replace(record, removed_at=now(), evidence=f"{record.evidence}; then {evidence.seen}")
        return removed if evidence.took_effect else replace(removed, error="the replica did not resume")
    except (ActionUnavailable, ManifestError, ControlError, TransportFailure, OSError) as exc:
        return replace(record, removed_at=now(), error=f"removal failed: {type(exc).__name__}: {exc}"[:500])


def carry_out(action: ScheduledAction, manifest: StackManifest, *, now: Clock = time.time,
              sleep: Callable[[float], None] = time.sleep) -> FailoverRecord:
    """Inject, hold for ``duration``, remove: the whole action and its one record."""
    record = inject(action, manifest, now=now)
    if action.duration is not None and (action.action != "exec" or action.undo):
        sleep(max(0.0, record.injected_at + action.duration - now()))
        record = remove(action, manifest, record, now=now)
    return record


def _replica(action: ScheduledAction) -> int:
    if action.replica is None:
        raise ActionUnavailable(f"entry {action.entry}: a {action.action} action needs a replica")
    return action.replica


def _act(action: ScheduledAction, manifest: StackManifest, base: FailoverRecord, now: Clock) -> FailoverRecord:
    replica_action = action.replica_action
    assert replica_action is not None, action
    index = _replica(action)
    name = manifest.replica(action.service, index).name
    # A network fault's own ttl outlives the run's heal: it ends by itself if the run dies.
    ttl = None if action.duration is None else action.duration + FAULT_TTL_MARGIN
    evidence = perform(manifest, action.service, index, replica_action, ttl=ttl)
    record = replace(base, target=name, took_effect=evidence.took_effect, evidence=evidence.seen)
    if not evidence.took_effect:
        return replace(record, error=f"{action.action} of {name} was not seen to take effect ({evidence.seen})")
    if replica_action is ReplicaAction.RESTART:
        served = _wait_healthy(manifest.replica(action.service, index).url, now=now)
        return replace(record, removed_at=now(), took_effect=served,
                       error=None if served else f"{name} did not serve again within 30 s")
    return record


def _heal(action: ScheduledAction, manifest: StackManifest, record: FailoverRecord, now: Clock) -> FailoverRecord:
    """End a network fault and read back what it did: a fault no connection met did not happen."""
    evidence = perform(manifest, action.service, _replica(action), ReplicaAction.HEAL)
    record = replace(record, removed_at=now(), evidence=evidence.seen,
                     detail={**record.detail, **(evidence.counts or {})})
    if not evidence.took_effect:
        return replace(record, took_effect=False,
                       error=f"{evidence.seen}: no connection met the fault, so it proves nothing"
                       if evidence.counts is not None else f"the fault could not be healed: {evidence.seen}")
    return record


def _wait_healthy(url: str | None, *, now: Clock, timeout: float = 30.0) -> bool:
    """Poll a restarted replica's health endpoint, so ``removed_at`` is when it serves again."""
    if not url:
        return True
    import httpx

    deadline = now() + timeout
    while now() < deadline:
        try:
            if httpx.get(f"{url}/_gosstand/health", timeout=1.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return False


def _exec(action: ScheduledAction, base: FailoverRecord, now: Clock) -> FailoverRecord:
    assert action.command is not None
    outcome = run_command(action.command, timeout=action.timeout)
    record = replace(base, target=action.command, detail=outcome, took_effect=outcome["exit_code"] == 0,
                     evidence=f"exit code {outcome['exit_code']}")
    if outcome["exit_code"] != 0:
        tail = (outcome["output"] or "").strip()[-200:]
        return replace(record, error=f"the command ended with exit code {outcome['exit_code']} ({tail}); "
                                     f"the fault may not have happened")
    return record


def run_command(command: str, *, timeout: float) -> dict[str, Any]:
    """Run a user's fault command through the shell: its exit code and the tail of its output
    (a command that outlives ``timeout`` is killed and reported with exit code null)."""
    try:
        completed = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=timeout,
                                   stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired:
        return {"exit_code": None, "output": f"killed after {timeout:g} s"}
    return {"exit_code": completed.returncode, "output": (completed.stdout + completed.stderr)[-500:]}


_controls: dict[tuple[tuple[tuple[str, str], ...], str], StackControl] = {}


def _control(manifest: StackManifest) -> StackControl:
    """The control API of the stack (any replica: the rules are shared), one client per stack
    and process: a new HTTP client loads the CA bundle into an SSL context, tens of milliseconds
    of CPU during which a Locust process's event loop — the load's, in a local run — stands still,
    at the very moment the fault begins."""
    key = (tuple(sorted(manifest.urls.items())), manifest.control_token)
    if key not in _controls:
        _controls[key] = StackControl(manifest.urls, manifest.control_token)
    return _controls[key]


def _set_rule(action: ScheduledAction, manifest: StackManifest, base: FailoverRecord, now: Clock) -> FailoverRecord:
    rule = _control(manifest).add_fault(action.service, **action.rule())
    # The control API answers once every replica applies the rule: that is when the fault starts.
    where = rule.get("replica") or action.service
    return replace(base, injected_at=now(), target=f"{where} {_summary(rule)}", detail={"rule": rule},
                   evidence=f"rule {rule['id']} set")


def _remove_rule(action: ScheduledAction, manifest: StackManifest, record: FailoverRecord,
                 now: Clock) -> FailoverRecord:
    rule = record.detail.get("rule")
    if rule is None:  # never set: nothing to remove
        return record
    control = _control(manifest)
    described = next((r for r in control.faults(action.service) if r.get("id") == rule["id"]), None)
    control.remove_fault(action.service, rule["id"])
    removed_at = now()
    if described is None:
        return replace(record, removed_at=removed_at, took_effect=False,
                       error=f"rule {rule['id']} was gone before its removal (its ttl ran out?)")
    hits, matched = int(described.get("hit", 0)), int(described.get("matched", 0))
    record = replace(record, removed_at=removed_at, evidence=f"rule {rule['id']} hit {hits} of {matched} "
                                                              f"matching requests",
                     detail={**record.detail, "hit": hits, "matched": matched})
    if hits == 0:
        return replace(record, took_effect=False,
                       error=f"no request met the fault rule on {record.target} (0 hits): the fault never "
                             f"happened to anyone — is its path or replica right?")
    return record


def _summary(rule: dict[str, Any]) -> str:
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


def register(environment: Any, *, schedule: list[ScheduledAction], manifest_path: Path, run_dir: Path) -> None:
    """Run ``schedule`` from the moment the load starts, on the master (or local) runner. Every
    action leaves a record, even one that raised: the run's verdict depends on it."""
    if not schedule:
        return
    import gevent
    from locust.runners import WorkerRunner

    log = run_dir / "failovers.jsonl"
    if any(action.action == "fault" for action in schedule) and not isinstance(environment.runner, WorkerRunner):
        try:  # make the control client now, before the load, not at the fault (see _control)
            _control(StackManifest.load(manifest_path))
        except (ManifestError, OSError):
            pass  # the action itself will record why it could not run

    def write(record: FailoverRecord) -> None:
        with log.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")

    def perform_action(action: ScheduledAction) -> None:
        try:
            manifest = StackManifest.load(manifest_path)
            write(carry_out(action, manifest, sleep=gevent.sleep))
        except Exception as exc:  # noqa: BLE001 — recorded: the run then exits 2 naming it
            write(FailoverRecord(entry=action.entry, action=action.action, service=action.service,
                                 replica=action.replica, scheduled_at=action.at, injected_at=time.time(),
                                 took_effect=False, error=f"{type(exc).__name__}: {exc}"[:500]))

    def on_test_start(**_: Any) -> None:
        if isinstance(environment.runner, WorkerRunner):
            return
        for action in schedule:
            gevent.spawn_later(action.at, perform_action, action)

    environment.events.test_start.add_listener(on_test_start)
