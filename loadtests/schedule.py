"""The failover schedule: read once, judged whole before anything starts.

A schedule is a YAML mapping with one key, ``actions``: a list of entries such as
``{at: 20, service: esia, replica: 1, action: kill}``. Every entry is checked against the run it
belongs to — the stack's services and replica counts, the systems of the user's (``--target``),
the backend, the run's length — and a schedule with any fault in it is refused whole with one
:class:`ScheduleError` per problem, each naming the entry and the field. A schedule that would
inject nothing where the user asked for a fault is the worst kind of bad input: the run would
end in a PASS that proves nothing.

``at`` is seconds after the load starts (``20``, ``"20s"``) or a share of the run
(``"33%"``), which scales with ``--duration``; the packaged schedules use shares.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Self

import yaml

from ..stand.actions import NETWORK_FAULTS, ReplicaAction
from ..stand.records import FAILOVER_ACTIONS, FailoverAction

__all__ = [
    "FAULT_TTL_MARGIN",
    "NETWORK_ACTIONS",
    "RunShape",
    "ScheduleError",
    "ScheduledAction",
    "load_schedule",
    "parse_schedule",
]

#: Actions done to one replica of the stand's (they need ``replica``); every action a schedule may
#: name is a :data:`~..stand.records.FailoverAction`.
REPLICA_ACTIONS: dict[FailoverAction, ReplicaAction] = {
    "kill": ReplicaAction.KILL, "stop": ReplicaAction.STOP, "pause": ReplicaAction.PAUSE,
    "restart": ReplicaAction.RESTART, "blackhole": ReplicaAction.BLACKHOLE, "reset": ReplicaAction.RESET,
    "reset_answer": ReplicaAction.RESET_ANSWER, "partition": ReplicaAction.PARTITION,
}
#: Actions the TCP fault layer does: the stack must run it.
NETWORK_ACTIONS = frozenset(action.value for action in NETWORK_FAULTS)
#: Actions that last ``duration`` seconds and must say how long.
TIMED_ACTIONS = frozenset({"pause", "fault", *NETWORK_ACTIONS})
#: The fields each action takes besides ``at``, ``service`` and ``action``.
FIELDS: dict[FailoverAction, frozenset[str]] = {
    "kill": frozenset({"replica"}),
    "stop": frozenset({"replica"}),
    "restart": frozenset({"replica"}),
    "pause": frozenset({"replica", "duration"}),
    "blackhole": frozenset({"replica", "duration"}),
    "reset": frozenset({"replica", "duration"}),
    "reset_answer": frozenset({"replica", "duration"}),
    "partition": frozenset({"replica", "duration"}),
    "fault": frozenset({"replica", "duration", "fault"}),
    "exec": frozenset({"command", "undo", "duration", "timeout"}),
}
COMMON = frozenset({"at", "service", "action"})
#: How much longer a scheduled fault rule's own ttl runs than its ``duration``: it ends by itself
#: if the run dies, but never before the run removes it.
FAULT_TTL_MARGIN = 30.0
_SECONDS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*s?\s*$")
_SHARE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


class ScheduleError(ValueError):
    """A schedule that cannot run as written; ``problems`` lists each, naming entry and field."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__(f"{source}: " + "; ".join(self.problems))


@dataclass(frozen=True, kw_only=True)
class RunShape:
    """What a schedule is judged against."""

    duration_s: float
    #: Replicas per service of the stand's stack (services it runs).
    replicas: Mapping[str, int]
    #: Services whose traffic goes to the user's own systems: exec actions only.
    targets: Mapping[str, str] = field(default_factory=dict)
    #: ``embedded``: restart cannot be done from the load's process.
    backend: str = "embedded"
    #: Each failover needs one healthy window of the run after it ends, to see it recover.
    healthy_window_s: float = 0.0
    #: Whether the stack runs the TCP fault layer (``blackhole``, ``reset``, ``partition``): a
    #: stack the run starts gets it when its schedule asks; a running stack's manifest says.
    tcp_faults: bool = False


@dataclass(frozen=True, kw_only=True)
class ScheduledAction:
    #: The entry's place in the schedule (1-based): what errors and the report call it.
    entry: int
    #: Seconds after the load starts.
    at: float
    action: FailoverAction
    service: str
    replica: int | None = None
    duration: float | None = None
    command: str | None = None
    undo: str | None = None
    timeout: float = 60.0
    fault: dict[str, Any] | None = None

    @property
    def replica_action(self) -> ReplicaAction | None:
        return REPLICA_ACTIONS.get(self.action)

    @property
    def ends_at(self) -> float:
        return self.at + (self.duration or 0.0)

    @property
    def summary(self) -> str:
        where = f"{self.service}-{self.replica}" if self.replica else self.service
        return f"{self.action} {where} at {self.at:g} s"

    def rule(self) -> dict[str, Any]:
        """A ``fault`` action's rule as the control API takes it."""
        return scoped_rule(self.fault or {}, self.service, self.replica, self.duration)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Self:
        """A validated action back from the run configuration (validated again: cheap, and a
        hand-edited configuration gets the same errors)."""
        return cls(**raw)


def load_schedule(path: str | Path | None, shape: RunShape) -> list[ScheduledAction]:
    """The schedule file at ``path``, judged against ``shape``; ``None`` means no failover."""
    if path is None:
        return []
    source = str(path)
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ScheduleError(source, [f"not YAML ({exc})"]) from None
    return parse_schedule(data, shape, source=source)


def parse_schedule(data: Any, shape: RunShape, *, source: str = "schedule") -> list[ScheduledAction]:
    if data is None:
        return []
    if not isinstance(data, Mapping):
        raise ScheduleError(source, [f"expected a mapping with an 'actions' list (actions: [{{at: 20, service: "
                                     f"esia, replica: 1, action: kill}}]), not a {type(data).__name__}"])
    problems = [f"unknown key {key!r} (a schedule has only 'actions')" for key in data if key != "actions"]
    entries = data.get("actions") or []
    if not isinstance(entries, list):
        raise ScheduleError(source, [*problems, "'actions' must be a list of entries"])
    actions: list[ScheduledAction] = []
    for number, raw in enumerate(entries, start=1):
        checked = _Entry(number, raw, shape)
        action = checked.read()
        problems.extend(checked.problems)
        if action is not None:
            actions.append(action)
    problems.extend(_overlapping_network_faults(actions))
    if problems:
        raise ScheduleError(source, problems)
    return sorted(actions, key=lambda a: (a.at, a.entry))


class _Entry:
    """Reads one entry, collecting every problem with the entry's number and the field."""

    def __init__(self, number: int, raw: Any, shape: RunShape) -> None:
        self.number, self.raw, self.shape = number, raw, shape
        self.problems: list[str] = []

    def fail(self, name: str | None, detail: str) -> None:
        where = f"entry {self.number}" + (f", {name}" if name else "")
        self.problems.append(f"{where}: {detail}")

    def read(self) -> ScheduledAction | None:
        raw = self.raw
        if not isinstance(raw, Mapping):
            self.fail(None, f"expected a mapping such as {{at: 20, service: esia, replica: 1, action: kill}}, "
                            f"not {raw!r}")
            return None
        action = raw.get("action")
        if action not in FAILOVER_ACTIONS:
            self.fail("action", f"{action!r} is not an action{_did_you_mean(action, FAILOVER_ACTIONS)}; "
                                f"known: {', '.join(FAILOVER_ACTIONS)}")
            return None
        allowed = COMMON | FIELDS[action]
        for key in raw:
            if key not in allowed:
                self.fail(str(key), f"not a field of a {action} action{_did_you_mean(key, sorted(allowed))}; "
                                    f"it takes {', '.join(sorted(allowed))}")
        at = self._at(raw.get("at"))
        service = self._service(raw.get("service"), action)
        replica = self._replica(raw.get("replica"), action, service)
        duration = self._duration(raw.get("duration"), action)
        command, undo, timeout = self._exec(raw, action)
        fault = self._fault(raw.get("fault"), action, service, replica, duration)
        if action == "restart" and self.shape.backend == "embedded" and service not in self.shape.targets:
            self.fail("action", "restart needs the container backend (an embedded replica is started by "
                                "the stack's own process); kill it, or run with --backend containers")
        if action in NETWORK_ACTIONS and not self.shape.tcp_faults and service not in self.shape.targets:
            self.fail("action", f"{action} needs the TCP fault layer, and the running stack has none: start it "
                                f"with `gosstand up --tcp-faults`, or let gosstand peak start its own stack")
        if at is not None and not self.problems:
            self._room(at, duration, _share(raw.get("at")))
        if self.problems or at is None or service is None:
            return None
        return ScheduledAction(entry=self.number, at=at, action=action, service=service, replica=replica,
                               duration=duration, command=command, undo=undo, timeout=timeout, fault=fault)

    def _at(self, value: Any) -> float | None:
        seconds: float | None = None
        if isinstance(value, bool) or value is None:
            pass
        elif isinstance(value, int | float):
            seconds = float(value)
        elif isinstance(value, str) and (match := _SHARE.match(value)):
            seconds = float(match.group(1)) / 100 * self.shape.duration_s
        elif isinstance(value, str) and (match := _SECONDS.match(value)):
            seconds = float(match.group(1))
        if seconds is None or not math.isfinite(seconds):
            self.fail("at", f"{value!r}: expected seconds after the load starts (20, '20s') or a share "
                            f"of the run ('33%')")
            return None
        if not 0 <= seconds < self.shape.duration_s:
            self.fail("at", f"{value!r} is {seconds:g} s, outside the {self.shape.duration_s:g}-s run")
            return None
        return seconds

    def _service(self, value: Any, action: str) -> str | None:
        known = sorted({*self.shape.replicas, *self.shape.targets})
        if value not in known:
            self.fail("service", f"{value!r} is not a service of this run{_did_you_mean(value, known)}; "
                                 f"it has {', '.join(known)}")
            return None
        if value in self.shape.targets and action != "exec":
            self.fail("action", f"{value} is your system at {self.shape.targets[value]}; gosstand cannot "
                                f"{action} it — fail it with an exec action (command: …)")
        return str(value)

    def _replica(self, value: Any, action: str, service: str | None) -> int | None:
        if value is None:
            if action in REPLICA_ACTIONS:
                self.fail("replica", f"a {action} action needs the replica's number (1..)")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail("replica", f"{value!r}: expected a replica number (1, 2, …)")
            return None
        count = self.shape.replicas.get(service or "", 0)
        if service in self.shape.replicas and not 1 <= value <= count:
            self.fail("replica", f"{service} has {count} replica(s), numbered 1..{count}; not {value}")
            return None
        return value

    def _duration(self, value: Any, action: str) -> float | None:
        if value is None:
            if action in TIMED_ACTIONS:
                self.fail("duration", f"a {action} needs its duration in seconds (when it is removed)")
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
            self.fail("duration", f"{value!r}: expected seconds > 0")
            return None
        return float(value)

    def _exec(self, raw: Mapping[str, Any], action: str) -> tuple[str | None, str | None, float]:
        command, undo, timeout = raw.get("command"), raw.get("undo"), raw.get("timeout", 60.0)
        if action != "exec":
            return None, None, 60.0
        for name, value in (("command", command), ("undo", undo)):
            if value is not None and (not isinstance(value, str) or not value.strip()):
                self.fail(name, "expected a shell command")
        if command is None:
            self.fail("command", "an exec action needs the command that injects the fault")
        if (undo is None) != (raw.get("duration") is None):
            self.fail("undo", "an exec action's undo and duration come together")
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout < math.inf:
            self.fail("timeout", f"{timeout!r}: expected seconds > 0")
            timeout = 60.0
        return command, undo, float(timeout)

    def _fault(self, value: Any, action: str, service: str | None, replica: int | None,
               duration: float | None) -> dict[str, Any] | None:
        if action != "fault":
            return None
        if not isinstance(value, Mapping):
            self.fail("fault", "a fault action needs its rule, e.g. fault: {kind: error, status: 503}")
            return None
        from ..mocks.core.faults import parse_rule
        from ..mocks.core.problems import Problem

        try:
            parse_rule(scoped_rule(value, service or "", replica, duration), rule_id="", now=0.0)
        except Problem as problem:
            for error in problem.errors or [{"pointer": "", "detail": problem.detail}]:
                self.fail(f"fault{error['pointer'].replace('/', '.')}", str(error["detail"]))
        return dict(value)

    def _room(self, at: float, duration: float | None, share: float | None) -> None:
        """One healthy window must fit after the fault ends, or its recovery cannot be seen. An
        ``at`` given as a share of the run moves with ``--duration``, so the shortest run that
        fits is where ``share × D + duration + window`` reaches ``D``, not ``ends + window``."""
        ends = at + (duration or 0.0)
        needed = ends + self.shape.healthy_window_s
        if needed > self.shape.duration_s:
            if share is None:
                remedy = f"lengthen --duration to at least {needed:g} s or move it earlier"
            elif share < 1:
                shortest = ((duration or 0.0) + self.shape.healthy_window_s) / (1 - share)
                remedy = f"lengthen --duration to at least {math.ceil(shortest * 10) / 10:g} s or move it earlier"
            else:
                remedy = "move it earlier"
            self.fail("at", f"the fault ends at {ends:g} s and a {self.shape.duration_s:g}-s run leaves no "
                            f"{self.shape.healthy_window_s:g}-s healthy window after it to see it recover; {remedy}")


def _overlapping_network_faults(actions: Sequence[ScheduledAction]) -> list[str]:
    """The TCP fault layer holds one fault per replica at a time: a second one on the same
    replica before the first ends could not be injected, so it is refused now, not mid-run."""
    problems = []
    last: dict[tuple[str, int | None], ScheduledAction] = {}
    for action in sorted((a for a in actions if a.action in NETWORK_ACTIONS), key=lambda a: (a.at, a.entry)):
        key = (action.service, action.replica)
        earlier = last.get(key)
        if earlier is not None and action.at < earlier.ends_at:
            problems.append(f"entry {action.entry}, at: {action.service}-{action.replica} is still under entry "
                            f"{earlier.entry}'s {earlier.action} until {earlier.ends_at:g} s; one network fault "
                            f"per replica at a time")
        if earlier is None or action.ends_at > earlier.ends_at:
            last[key] = action
    return problems


def scoped_rule(fault: Mapping[str, Any], service: str, replica: int | None,
                duration: float | None) -> dict[str, Any]:
    """A schedule's fault rule as the control API takes it: scoped to the replica, with a ttl that
    outlives the run's removal by :data:`FAULT_TTL_MARGIN` (the rule ends by itself if the run
    dies, but never before the run removes it and reads its hit count)."""
    rule = dict(fault)
    if replica is not None:
        rule["replica"] = f"{service}-{replica}"
    if duration is not None:
        rule.setdefault("ttl", duration + FAULT_TTL_MARGIN)
    return rule


def _share(value: Any) -> float | None:
    """The fraction of the run an ``at`` such as ``"67%"`` names; ``None`` for seconds."""
    match = _SHARE.match(value) if isinstance(value, str) else None
    return float(match.group(1)) / 100 if match else None


def _did_you_mean(value: Any, known: Sequence[str]) -> str:
    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
