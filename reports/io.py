"""Reading a run directory: the contract between the load tests and the reports.

A load run (``loadtests/``) leaves these files in one directory; every figure of a report is
computed from them and from nothing else. Times are seconds since the epoch (floats).

``requests*.jsonl`` — one file per Locust process, one JSON object per request:

==========  ============================================================================
``s``       intended start, from the arrival schedule. Latency is measured from here
            (``e - s``), so a slow answer that delays the next request cannot hide the load
            the schedule offered ("coordinated omission"). Absent: the actual start.
``a``       actual start. Absent: ``s``.
``e``       end (response complete or transport error). Required.
``ok``      outcome. Timeouts, resets and 5xx are failures; a 4xx the scenario expects is
            not. Required.
``name``    request name, e.g. ``"fts: submit"``.
``journey`` the journey that sent it: ``"declaration"``, ``"esia_login"``, ... or null.
``service`` ``"esia"`` | ``"fts"`` | ``"utko"``; absent: the part of ``name`` before ``:``.
``status``  HTTP status, ``0`` for a transport failure.
``replica`` the replica that answered (``x-gosstand-replica`` header), or null.
``op``      the logical operation (idempotency key) a write belongs to, or null; retries of
            one operation share it.
``error``   a short error text, or null.
==========  ============================================================================

``failovers.jsonl`` — one object per fault action: ``t`` (injected), ``action`` (``kill``,
``stop``, ``pause``, ...), ``service``, ``target`` (replica name, e.g. ``"esia-1"``), ``until``
(when the fault was removed; null for a hard failover, which has no recovery moment ``t_r``).

``operations*.jsonl`` (also ``operations.jsonl``) — one object per logical write operation,
possibly retried: ``op`` (idempotency key), ``service``, ``senderReference``, ``acked`` (the
client got a 2xx with an id), ``id`` (declaration id or null), ``attempts`` (requests sent for
it; null when unknown), ``t`` (when the client got its answer or gave up).

``records.json`` — what the target holds when the run is reconciled at the end:
``{"service": "fts", "records": [{"id": ..., "senderReference": ...}, ...]}``, or for several
services ``{"services": ["fts", "utko"], "records": [{"service": "fts", "id": ..., ...}, ...]}``
(ids and references are then told apart by service). Absent: the
run was not reconciled, and lost/duplicate writes are not measured.

``run.json`` — ``started``, ``ended``, ``title``, ``profile``, ``targets`` ({service: url}),
``backend`` (``embedded`` | ``containers`` | ``external``), ``notes`` (list of str); every
field optional, unknown fields kept in :attr:`RunInfo.extra`.

A truncated last line of a JSONL file (a process killed mid-write) is skipped with a warning;
any other malformed line is an error, because a report built on a damaged log would mislead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "FaultAction",
    "Operation",
    "Reconciled",
    "RequestRecord",
    "RunData",
    "RunDirectoryError",
    "RunInfo",
    "load_run",
]


class RunDirectoryError(ValueError):
    """The run directory is missing a required file or holds a malformed record."""


@dataclass(frozen=True, slots=True)
class RequestRecord:
    s: float
    a: float
    e: float
    ok: bool
    name: str = ""
    journey: str | None = None
    service: str | None = None
    status: int = 0
    replica: str | None = None
    op: str | None = None
    error: str | None = None

    @property
    def latency(self) -> float:
        """Seconds from the intended start to the end (never negative)."""
        return max(0.0, self.e - self.s)


@dataclass(frozen=True, slots=True)
class FaultAction:
    t: float
    action: str
    service: str | None = None
    target: str | None = None
    until: float | None = None

    @property
    def label(self) -> str:
        return f"{self.action} {self.target or self.service or ''}".strip()


@dataclass(frozen=True, slots=True)
class Operation:
    op: str
    service: str | None = None
    sender_reference: str | None = None
    acked: bool = False
    id: str | None = None
    attempts: int | None = None
    t: float | None = None


@dataclass(frozen=True, slots=True)
class Reconciled:
    #: The services reconciled; empty: every service (a file that names none).
    services: tuple[str, ...]
    records: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class RunInfo:
    started: float | None = None
    ended: float | None = None
    title: str | None = None
    profile: str | None = None
    targets: dict[str, str] = field(default_factory=dict)
    backend: str | None = None
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class RunData:
    """Everything recorded about one run, requests sorted by intended start."""

    directory: Path
    info: RunInfo
    requests: list[RequestRecord]
    failovers: list[FaultAction]
    operations: list[Operation]
    reconciled: Reconciled | None
    warnings: list[str] = field(default_factory=list)


def _json_lines(path: Path, warnings: list[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            if number == len(lines):
                warnings.append(f"{path.name}:{number}: truncated last line skipped")
                continue
            raise RunDirectoryError(f"{path}:{number}: not JSON ({exc.msg})") from exc
        if not isinstance(value, dict):
            raise RunDirectoryError(f"{path}:{number}: expected a JSON object")
        yield number, value


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _request(raw: dict[str, Any], where: str) -> RequestRecord:
    try:
        end = float(raw["e"])
        ok = raw["ok"]
        start = float(raw["s"]) if raw.get("s") is not None else float(raw["a"])
        actual = float(raw["a"]) if raw.get("a") is not None else start
    except (KeyError, TypeError, ValueError) as exc:
        raise RunDirectoryError(f"{where}: a request needs numeric 'e', 's' or 'a', and 'ok'") from exc
    if not isinstance(ok, bool):
        raise RunDirectoryError(f"{where}: 'ok' must be true or false")
    name = str(raw.get("name") or "")
    service = raw.get("service")
    if service is None and ":" in name:
        service = name.split(":", 1)[0].strip() or None
    return RequestRecord(
        s=start, a=actual, e=end, ok=ok, name=name,
        journey=_optional_str(raw.get("journey")), service=_optional_str(service),
        status=int(raw.get("status") or 0), replica=_optional_str(raw.get("replica")),
        op=_optional_str(raw.get("op")), error=_optional_str(raw.get("error")),
    )


def _fault(raw: dict[str, Any], where: str) -> FaultAction:
    try:
        t = float(raw["t"])
        until = None if raw.get("until") is None else float(raw["until"])
    except (KeyError, TypeError, ValueError) as exc:
        raise RunDirectoryError(f"{where}: a fault action needs a numeric 't'") from exc
    return FaultAction(
        t=t, action=str(raw.get("action") or "fault"), service=_optional_str(raw.get("service")),
        target=_optional_str(raw.get("target")), until=until,
    )


def _operation(raw: dict[str, Any], where: str) -> Operation:
    if raw.get("op") is None:
        raise RunDirectoryError(f"{where}: an operation needs its 'op' key")
    attempts = raw.get("attempts")
    return Operation(
        op=str(raw["op"]), service=_optional_str(raw.get("service")),
        sender_reference=_optional_str(raw.get("senderReference")), acked=raw.get("acked") is True,
        id=_optional_str(raw.get("id")), attempts=None if attempts is None else int(attempts),
        t=None if raw.get("t") is None else float(raw["t"]),
    )


def _info(path: Path) -> RunInfo:
    if not path.exists():
        return RunInfo()
    raw = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise RunDirectoryError(f"{path}: expected a JSON object")
    known = {"started", "ended", "title", "profile", "targets", "backend", "notes"}
    return RunInfo(
        started=None if raw.get("started") is None else float(raw["started"]),
        ended=None if raw.get("ended") is None else float(raw["ended"]),
        title=_optional_str(raw.get("title")),
        profile=_optional_str(raw.get("profile")),
        targets={str(k): str(v) for k, v in (raw.get("targets") or {}).items()},
        backend=_optional_str(raw.get("backend")),
        notes=[str(note) for note in raw.get("notes") or []],
        extra={k: v for k, v in raw.items() if k not in known},
    )


def _reconciled(path: Path) -> Reconciled | None:
    if not path.exists():
        return None
    raw = json.loads(path.read_text(encoding="utf-8"))
    records = raw.get("records") if isinstance(raw, dict) else None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise RunDirectoryError(f"{path}: expected {{'service': ..., 'records': [{{...}}, ...]}}")
    named = raw.get("services", [raw["service"]] if raw.get("service") is not None else [])
    if not isinstance(named, list) or not all(isinstance(service, str) for service in named):
        raise RunDirectoryError(f"{path}: 'services' must be a list of service names")
    return Reconciled(services=tuple(named), records=records)


def load_run(run_dir: Path) -> RunData:
    """Read a run directory; at least one ``requests*.jsonl`` file must exist."""
    run_dir = Path(run_dir)
    request_files = sorted(run_dir.glob("requests*.jsonl"))
    if not request_files:
        raise RunDirectoryError(f"{run_dir}: no requests*.jsonl — is this a run directory?")
    warnings: list[str] = []
    requests = [
        _request(raw, f"{path.name}:{number}")
        for path in request_files
        for number, raw in _json_lines(path, warnings)
    ]
    requests.sort(key=lambda r: r.s)
    failovers_path = run_dir / "failovers.jsonl"
    failovers = (
        sorted((_fault(raw, f"failovers.jsonl:{n}") for n, raw in _json_lines(failovers_path, warnings)),
               key=lambda f: f.t)
        if failovers_path.exists() else []
    )
    operations = [
        _operation(raw, f"{path.name}:{number}")
        for path in sorted(run_dir.glob("operations*.jsonl"))
        for number, raw in _json_lines(path, warnings)
    ]
    return RunData(
        directory=run_dir, info=_info(run_dir / "run.json"), requests=requests, failovers=failovers,
        operations=operations, reconciled=_reconciled(run_dir / "records.json"), warnings=warnings,
    )
