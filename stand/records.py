"""Every record that crosses a process seam of a load run, typed, with its JSON form.

The Locust processes write them, the canary writes its own, the failover runner writes what it
did, ``gosstand peak`` hands Locust its configuration in one file — and ``reports/`` reads them
all back through the same classes. One definition per record, so a field renamed on one side is
a field renamed on the other (the ``op``/``idempotency_key`` mismatch that once left retry
counts unmeasured cannot recur). Times are seconds since the epoch, floats.

``from_json`` is strict about what a figure depends on (a request needs its times and outcome)
and raises :class:`RecordError` naming the field; optional fields default. Run directories
written before these names (``s``/``a``/``e``, ``senderReference``, ``t``/``until``) still read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Self, get_args

__all__ = [
    "CONNECTIONS",
    "FAILOVER_ACTIONS",
    "FAILURE_CLASSES",
    "CanarySample",
    "Connection",
    "FailoverAction",
    "FailoverRecord",
    "FailureClass",
    "GeneratorSample",
    "LATE_START_S",
    "Operation",
    "RECORD_KINDS",
    "RecordBatch",
    "RecordError",
    "RecordKind",
    "RequestRecord",
    "RunConfig",
    "ShippedRun",
    "StreamEnd",
    "WorkerHello",
]

#: Why a request failed, as a client sees it (the report breaks failures down by these):
#: ``timeout`` — no complete answer within the client's timeout (a hang sat out is an outage);
#: ``reset`` — the connection closed or reset before a complete answer;
#: ``refused`` — nobody accepted the connection;
#: ``5xx`` — the server answered that it failed; ``status`` — another status the journey did
#: not expect (a 4xx it did expect is not a failure at all).
FailureClass = Literal["timeout", "reset", "refused", "5xx", "status"]
FAILURE_CLASSES: tuple[FailureClass, ...] = get_args(FailureClass)
#: Whether a request opened its connection (``new``) or rode one kept alive (``reused``).
Connection = Literal["new", "reused"]
CONNECTIONS: tuple[Connection, ...] = get_args(Connection)
#: Every action a failover schedule may name, and a failover record says it did. The replica
#: actions are :class:`~.actions.ReplicaAction`'s (one vocabulary); ``blackhole``, ``reset``,
#: ``reset_answer`` and ``partition`` fail the path to a replica through the TCP fault layer for
#: ``duration`` seconds; ``fault`` sets a fault rule through the control API for ``duration`` seconds; ``exec`` runs a
#: command of the user's — the way to fail a system gosstand does not run.
FailoverAction = Literal["kill", "stop", "pause", "restart", "blackhole", "reset", "reset_answer", "partition", "fault",
                         "exec"]
FAILOVER_ACTIONS: tuple[FailoverAction, ...] = get_args(FailoverAction)


class RecordError(ValueError):
    """A record without a field a figure depends on, or with one of the wrong type."""


def _float(raw: Mapping[str, Any], *names: str, required: bool = True) -> float | None:
    for name in names:
        if raw.get(name) is not None:
            try:
                return float(raw[name])
            except (TypeError, ValueError):
                raise RecordError(f"{name!r} must be a number, not {raw[name]!r}") from None
    if required:
        raise RecordError(f"a number {names[0]!r} is required")
    return None


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _bool(raw: Mapping[str, Any], name: str) -> bool:
    value = raw.get(name)
    if not isinstance(value, bool):
        raise RecordError(f"{name!r} must be true or false, not {value!r}")
    return value


def _failure(value: Any) -> FailureClass | None:
    if value is None:
        return None
    if value not in FAILURE_CLASSES:
        raise RecordError(f"'failure' must be one of {', '.join(FAILURE_CLASSES)}, not {value!r}")
    return value


def _connection(value: Any) -> Connection | None:
    return value if value in CONNECTIONS else None


def _failover_action(value: Any) -> FailoverAction:
    """A record's action; one written before records named it was a fault rule's."""
    if value is None:
        return "fault"
    for action in FAILOVER_ACTIONS:
        if value == action:
            return action
    raise RecordError(f"'action' must be one of {', '.join(FAILOVER_ACTIONS)}, not {value!r}")


def _compact(record: Any) -> dict[str, Any]:
    """A record as JSON, without the fields that are ``None``. Read field by field, not with
    ``dataclasses.asdict``, which deep-copies every value: on the recorder's hot path (every
    request of a load run, every canary sample) that cost about ten times as much."""
    return {name: value for name in record.__slots__ if (value := getattr(record, name)) is not None}


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestRecord:
    """One HTTP request a load user sent (``requests-<pid>.jsonl``)."""

    #: When the arrival schedule meant it to start: latency is measured from here, so a slow
    #: answer that delays the next request cannot hide the load the schedule offered.
    intended_start: float
    started: float
    ended: float
    #: No failure: an answer within the timeout whose status the journey expects.
    ok: bool
    name: str = ""
    journey: str | None = None
    service: str | None = None
    #: HTTP status; 0 when no answer came (timeout, reset, refused).
    status: int = 0
    failure: FailureClass | None = None
    connection: Connection | None = None
    replica: str | None = None
    #: The logical operation (idempotency key) a write belongs to; its retries share it.
    op: str | None = None
    error: str | None = None

    @property
    def latency(self) -> float:
        """Seconds from the intended start to the end (never negative)."""
        return max(0.0, self.ended - self.intended_start)

    def to_json(self) -> dict[str, Any]:
        return _compact(self)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Self:
        ended = _float(raw, "ended", "e")
        started = _float(raw, "started", "a", "intended_start", "s")
        intended = _float(raw, "intended_start", "s", required=False)
        ok = _bool(raw, "ok")
        assert ended is not None and started is not None
        name = str(raw.get("name") or "")
        service = raw.get("service")
        if service is None and ":" in name:
            service = name.split(":", 1)[0].strip() or None
        try:
            status = int(raw.get("status") or 0)
        except (TypeError, ValueError):
            raise RecordError(f"'status' must be an integer, not {raw.get('status')!r}") from None
        return cls(
            intended_start=intended if intended is not None else started, started=started, ended=ended, ok=ok,
            name=name, journey=_str(raw.get("journey")), service=_str(service), status=status,
            failure=_failure(raw.get("failure")), connection=_connection(raw.get("connection")),
            replica=_str(raw.get("replica")), op=_str(raw.get("op")), error=_str(raw.get("error")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CanarySample:
    """One request of a service's canary (``canary-<service>.jsonl``): a separate process sending
    a fixed rate of cheap requests, so a fault no load user happened to meet still shows."""

    service: str
    #: Canary requests are sent on time by construction; ``started`` is the intended start.
    started: float
    ended: float
    ok: bool
    status: int = 0
    failure: FailureClass | None = None
    connection: Connection | None = None
    replica: str | None = None

    def to_json(self) -> dict[str, Any]:
        return _compact(self)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Self:
        started, ended = _float(raw, "started"), _float(raw, "ended")
        assert started is not None and ended is not None
        return cls(service=str(raw.get("service") or ""), started=started, ended=ended, ok=_bool(raw, "ok"),
                   status=int(raw.get("status") or 0), failure=_failure(raw.get("failure")),
                   connection=_connection(raw.get("connection")), replica=_str(raw.get("replica")))

    def as_request(self) -> RequestRecord:
        """The sample as a request record, so the failover figures are computed the same way."""
        return RequestRecord(intended_start=self.started, started=self.started, ended=self.ended, ok=self.ok,
                             name=f"{self.service}: canary", service=self.service, status=self.status,
                             failure=self.failure, connection=self.connection, replica=self.replica)


@dataclass(frozen=True, slots=True, kw_only=True)
class Operation:
    """One logical write, however many attempts it took (``operations-<pid>.jsonl``)."""

    op: str
    service: str | None = None
    sender_reference: str | None = None
    #: The client got a 2xx with an id: the write must be in the target at the end.
    acked: bool = False
    id: str | None = None
    attempts: int | None = None
    #: When the client got its answer or gave up.
    answered_at: float | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return _compact(self)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Self:
        if raw.get("op") is None:
            raise RecordError("an operation needs its 'op' (idempotency key)")
        attempts = raw.get("attempts")
        return cls(
            op=str(raw["op"]), service=_str(raw.get("service")),
            sender_reference=_str(raw.get("sender_reference", raw.get("senderReference"))),
            acked=raw.get("acked") is True, id=_str(raw.get("id")),
            attempts=None if attempts is None else int(attempts),
            answered_at=_float(raw, "answered_at", "t", required=False), error=_str(raw.get("error")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FailoverRecord:
    """What one scheduled failover action did (``failovers.jsonl``), with its evidence."""

    #: The action's place in the schedule (1-based), so every entry can be accounted for.
    entry: int
    action: FailoverAction
    service: str | None = None
    replica: int | None = None
    #: What it acted on: ``esia-1``, the command, ``fts-1 error 503``.
    target: str | None = None
    #: Seconds into the load at which the schedule placed it.
    scheduled_at: float | None = None
    #: ``t_f``: when the fault began (the signal sent, the rule in force on every replica).
    injected_at: float
    #: ``t_r``: when it was removed; ``None`` for a hard failover (a kill has no end).
    removed_at: float | None = None
    #: Whether the fault was seen to happen: the pid gone, the container paused, the command's
    #: exit code 0, the rule set on every replica.
    took_effect: bool = True
    evidence: str | None = None
    #: Why it did not happen, or why its removal failed.
    error: str | None = None
    #: Action-specific facts: an exec command's exit code and output, a fault rule and its hits.
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.action} {self.target or self.service or ''}".strip()

    def to_json(self) -> dict[str, Any]:
        raw = _compact(self)
        if not self.detail:
            raw.pop("detail", None)
        return raw

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Self:
        injected = _float(raw, "injected_at", "t")
        assert injected is not None
        replica = raw.get("replica")
        took_effect = raw.get("took_effect", True)
        if not isinstance(took_effect, bool):
            raise RecordError(f"'took_effect' must be true or false, not {took_effect!r}")
        known = {"entry", "action", "service", "replica", "target", "scheduled_at", "injected_at", "t",
                 "removed_at", "until", "took_effect", "evidence", "error", "detail"}
        detail = dict(raw.get("detail") or {}) | {k: v for k, v in raw.items() if k not in known}
        return cls(
            entry=int(raw.get("entry") or 0), action=_failover_action(raw.get("action")),
            service=_str(raw.get("service")), replica=None if replica is None else int(replica),
            target=_str(raw.get("target")), scheduled_at=_float(raw, "scheduled_at", required=False),
            injected_at=injected, removed_at=_float(raw, "removed_at", "until", required=False),
            took_effect=took_effect, evidence=_str(raw.get("evidence")), error=_str(raw.get("error")),
            detail=detail,
        )


#: By default, a journey that starts more than this after its scheduled arrival started late: the
#: generator, not the target, held it back (a busy event loop, a machine short of CPU, no free
#: virtual user). Ten milliseconds is far above an idle gevent loop's timer jitter (well under a
#: millisecond) and far below the latency objectives of the services measured here; a run may
#: set its own (``gosstand peak --late-start-ms``) to match its objectives.
LATE_START_S = 0.010


@dataclass(frozen=True, slots=True, kw_only=True)
class GeneratorSample:
    """What one Locust process did over about a second (``generator-<pid>.jsonl``): the load it
    offered and achieved, how late it was, and the CPU it burned. The report sums them over the
    processes; the generator's own figures are how a run tells the target's slowness from its own.

    Counts are over the interval that ends at ``at``; gauges (``in_flight``, ``pool``) are read at
    ``at``. In the closed model (a number of users) nothing is scheduled by arrival, so
    ``offered`` and ``late`` stay ``None``.
    """

    pid: int
    #: ``local`` (one process), ``worker`` (sends the load) or ``master`` (shape, failovers).
    role: str
    at: float
    interval_s: float
    #: CPU time the process used over the interval, as a share of one core (1.0: one core busy).
    cpu: float
    #: Seconds of the interval its event loop's thread was ready to run but waited for a CPU the
    #: machine gave to other work (Linux); ``None`` where the kernel does not say.
    cpu_wait_s: float | None = None
    worker_index: int | None = None
    #: Journeys whose scheduled arrival fell in the interval (open model).
    offered: int | None = None
    #: Journeys that began in the interval.
    started: int = 0
    #: Of those, how many began more than ``late_after_s`` after their arrival.
    late: int | None = None
    #: The lag beyond which a start counted as late (:data:`LATE_START_S` unless the run set one).
    late_after_s: float = LATE_START_S
    #: The largest delay of a start behind its arrival in the interval, seconds.
    lag_max_s: float | None = None
    #: Seconds of the interval an arrival waited because every virtual user was busy and the pool
    #: was at its maximum.
    pool_full_s: float | None = None
    #: Journeys running at ``at``.
    in_flight: int = 0
    #: Virtual users at ``at``: the open model's pool, the closed model's running users.
    pool: int = 0
    #: The most virtual users this process may have (open model).
    pool_max: int | None = None
    #: Requests recorded in the interval, and how many of them failed.
    requests: int = 0
    failures: int = 0

    @property
    def process(self) -> tuple[str, int | None, int]:
        """Which Locust process sent the sample: workers on other hosts may share a pid (in
        containers each is often pid 1), so a worker is its index as well."""
        return self.role, self.worker_index, self.pid

    def to_json(self) -> dict[str, Any]:
        return _compact(self)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Self:
        at, interval, cpu = _float(raw, "at"), _float(raw, "interval_s"), _float(raw, "cpu")
        assert at is not None and interval is not None and cpu is not None

        def count(name: str) -> int | None:
            value = raw.get(name)
            if value is None:
                return None
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise RecordError(f"{name!r} must be a count, not {value!r}")
            return value

        index = count("worker_index")
        return cls(
            pid=count("pid") or 0, role=str(raw.get("role") or "local"), at=at, interval_s=interval, cpu=cpu,
            cpu_wait_s=_float(raw, "cpu_wait_s", required=False),
            worker_index=index, offered=count("offered"), started=count("started") or 0, late=count("late"),
            late_after_s=_float(raw, "late_after_s", required=False) or LATE_START_S,
            lag_max_s=_float(raw, "lag_max_s", required=False),
            pool_full_s=_float(raw, "pool_full_s", required=False), in_flight=count("in_flight") or 0,
            pool=count("pool") or 0, pool_max=count("pool_max"), requests=count("requests") or 0,
            failures=count("failures") or 0,
        )


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    """What ``gosstand peak`` hands its Locust processes: one file (``run-config.json``), named
    by the one variable ``GOSSTAND_RUN_CONFIG``. Locust runs as a subprocess — it patches the
    standard library with gevent on import, which must not happen in a process hosting asyncio
    servers or pytest plugins."""

    run_dir: str
    manifest_path: str
    fixtures_path: str
    #: The traffic profile with the command line's overrides applied, as a profile file holds it.
    profile: dict[str, Any]
    #: The failover schedule, validated, one mapping per action (empty: no failover).
    schedule: list[dict[str, Any]] = field(default_factory=list)
    #: How many Locust worker processes share the users (1: one local runner).
    processes: int = 1
    #: Print a live line every this many seconds (0: none).
    live_every_s: float = 5.0
    #: A journey starting more than this after its scheduled arrival is a late start.
    late_start_s: float = LATE_START_S
    #: Serve the run's Prometheus series on this port of 127.0.0.1 while it runs (``None``: not).
    metrics_port: int | None = None
    #: Locust workers on other hosts the master waits for (``gosstand peak --master``; 0: none).
    #: They get this configuration, the manifest and the fixtures from the master in a message
    #: (:class:`ShippedRun`) and stream their records back (:class:`RecordBatch`).
    remote_workers: int = 0
    #: How long the master waits for them before it gives the run up.
    workers_wait_s: float = 300.0

    ENV = "GOSSTAND_RUN_CONFIG"
    FILE = "run-config.json"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Self:
        try:
            return cls(**{k: raw[k] for k in raw if k in cls.__dataclass_fields__})
        except TypeError as exc:
            raise RecordError(f"run configuration: {exc}") from None

    def write(self) -> Path:
        path = Path(self.run_dir) / self.FILE
        path.write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=False), encoding="utf-8")
        return path

    @classmethod
    def read(cls, path: str | Path) -> Self:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


#: The record files each Locust process of a run has, ``<kind>-<process>.jsonl`` in the run
#: directory: :class:`RequestRecord`, :class:`Operation` and :class:`GeneratorSample` lines.
RecordKind = Literal["requests", "operations", "generator"]
RECORD_KINDS: tuple[RecordKind, ...] = get_args(RecordKind)


def _count(raw: Mapping[str, Any], name: str) -> int:
    value = raw.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RecordError(f"{name!r} must be a count, not {value!r}")
    return value


def _counts(raw: Any, name: str) -> dict[RecordKind, int]:
    if not isinstance(raw, Mapping) or set(raw) - set(RECORD_KINDS):
        raise RecordError(f"{name!r} must map {', '.join(RECORD_KINDS)} to counts, not {raw!r}")
    return {kind: _count(raw, kind) for kind in RECORD_KINDS if kind in raw}


@dataclass(frozen=True, slots=True)
class WorkerHello:
    """A Locust worker on another host introducing itself to its master, which answers with the
    run (:class:`ShippedRun`); the host and pid name the worker in the master's ledger."""

    host: str
    pid: int
    version: str = "unknown"

    def to_json(self) -> dict[str, Any]:
        return {"host": self.host, "pid": self.pid, "version": self.version}

    @classmethod
    def from_json(cls, raw: Any) -> Self:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("host"), str):
            raise RecordError(f"a worker's hello needs its 'host', not {raw!r}")
        return cls(host=raw["host"][:200], pid=_count(raw, "pid"), version=str(raw.get("version", "unknown"))[:50])


@dataclass(frozen=True, slots=True)
class ShippedRun:
    """What a master hands a worker on another host, which shares no file with it: the run's
    configuration, the stand's manifest (its URLs and control token) and the seeded fixtures
    (the people, the client system, the declarants)."""

    run: RunConfig
    manifest: dict[str, Any]
    fixtures: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"run": self.run.to_json(), "manifest": self.manifest, "fixtures": self.fixtures}

    @classmethod
    def from_json(cls, raw: Any) -> Self:
        if not isinstance(raw, Mapping) or not all(isinstance(raw.get(k), Mapping) for k in ("run", "manifest",
                                                                                             "fixtures")):
            raise RecordError("a shipped run needs its 'run', 'manifest' and 'fixtures' mappings")
        return cls(run=RunConfig.from_json(raw["run"]), manifest=dict(raw["manifest"]), fixtures=dict(raw["fixtures"]))


@dataclass(frozen=True, slots=True)
class RecordBatch:
    """Records a worker on another host hands its master in one message: its ``seq``-th batch
    (0, 1, 2, … — a gap is a batch lost on the way), each kind's records in their JSON form."""

    seq: int
    records: dict[RecordKind, list[dict[str, Any]]]

    def size(self) -> int:
        return sum(len(rows) for rows in self.records.values())

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "records": self.records}

    @classmethod
    def from_json(cls, raw: Any) -> Self:
        if not isinstance(raw, Mapping):
            raise RecordError(f"a record batch must be a mapping, not {type(raw).__name__}")
        records = raw.get("records")
        if not isinstance(records, Mapping) or set(records) - set(RECORD_KINDS):
            raise RecordError(f"a batch's 'records' must map {', '.join(RECORD_KINDS)} to lists")
        rows: dict[RecordKind, list[dict[str, Any]]] = {}
        for kind in RECORD_KINDS:
            value = records.get(kind, [])
            if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
                raise RecordError(f"a batch's {kind!r} must be a list of records")
            if value:
                rows[kind] = value
        return cls(seq=_count(raw, "seq"), records=rows)


@dataclass(frozen=True, slots=True)
class StreamEnd:
    """A worker's last word on its records: how many of each kind it made, in how many batches,
    and how many it could not hand over (the transport refused them). The master compares it
    with what it received; any difference fails the run closed."""

    batches: int
    produced: dict[RecordKind, int]
    dropped: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"batches": self.batches, "produced": self.produced, "dropped": self.dropped}

    @classmethod
    def from_json(cls, raw: Any) -> Self:
        if not isinstance(raw, Mapping):
            raise RecordError(f"a stream's end must be a mapping, not {type(raw).__name__}")
        return cls(batches=_count(raw, "batches"), produced=_counts(raw.get("produced"), "produced"),
                   dropped=_count(raw, "dropped"))
