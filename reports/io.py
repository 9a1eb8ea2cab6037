"""Reading a run directory: the contract between the load tests and the reports.

A load run (``loadtests/``) leaves these files in one directory; every figure of a report is
computed from them and from nothing else. Each record's fields are defined once, in
:mod:`gosstand.stand.records`, which both sides use.

- ``requests*.jsonl`` — one file per Locust process, one
  :class:`~gosstand.stand.records.RequestRecord` per request.
- ``canary-*.jsonl`` — one file per service's canary, one
  :class:`~gosstand.stand.records.CanarySample` per probe request.
- ``failovers.jsonl`` — one :class:`~gosstand.stand.records.FailoverRecord` per scheduled action:
  when it was injected (``t_f``) and removed (``t_r``, null for a crash), whether it took effect
  and the evidence.
- ``operations*.jsonl`` — one :class:`~gosstand.stand.records.Operation` per logical write.
- ``generator-*.jsonl`` — one file per Locust process, one
  :class:`~gosstand.stand.records.GeneratorSample` a second: the load it offered and achieved,
  its late starts, its CPU.
- ``records.json`` — what the target holds when the run is reconciled at the end:
  ``{"service": "fts", "records": [{"id": ..., "senderReference": ...}, ...]}``, or for several
  services ``{"services": ["fts", "utko"], "records": [{"service": "fts", "id": ..., ...}, ...]}``.
  Absent: the run was not reconciled, and lost/duplicate writes are not measured.
- ``locust_stats_history.csv`` — Locust's own once-a-second statistics; only its ``User Count``
  is read (the concurrent users the load shape ran). Absent: users over time are not shown.
- ``run.json`` — ``started``, ``ended``, ``title``, ``profile``, ``targets`` ({service: url}),
  ``backend``, ``notes`` (list of str), and the run's parameters; every field optional, unknown
  fields kept in :attr:`RunInfo.extra`.

A truncated last line of a JSONL file (a process killed mid-write) is skipped with a warning;
any other malformed line is an error, because a report built on a damaged log would mislead.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ..stand.records import CanarySample, FailoverRecord, GeneratorSample, Operation, RecordError, RequestRecord

T = TypeVar("T")

__all__ = [
    "CanarySample",
    "FailoverRecord",
    "GeneratorSample",
    "Operation",
    "Reconciled",
    "RequestRecord",
    "RunData",
    "RunDirectoryError",
    "RunInfo",
    "load_generator_samples",
    "load_run",
]


class RunDirectoryError(ValueError):
    """The run directory is missing a required file or holds a malformed record."""


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
    failovers: list[FailoverRecord]
    operations: list[Operation]
    reconciled: Reconciled | None
    #: Each service's canary samples, by service, sorted by start.
    canary: dict[str, list[CanarySample]] = field(default_factory=dict)
    #: (epoch second, concurrent users) as Locust sampled them; empty when not recorded.
    users: list[tuple[float, int]] = field(default_factory=list)
    #: What each Locust process offered, achieved and burned, a sample a second, sorted by time.
    generator: list[GeneratorSample] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def failover_of(self, entry: object) -> FailoverRecord | None:
        """The record of the schedule's entry ``entry`` (a number as ``run.json``'s schedule
        gives it), or ``None`` when that entry never ran; of two, the later."""
        if not isinstance(entry, int):
            return None
        return next((record for record in reversed(self.failovers) if record.entry == entry), None)


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


def _records(paths: list[Path], parse: Callable[[dict[str, Any]], T], warnings: list[str]) -> list[T]:
    """Every record of some JSONL files, each error naming its file and line."""
    result = []
    for path in paths:
        for number, raw in _json_lines(path, warnings):
            try:
                result.append(parse(raw))
            except RecordError as exc:
                raise RunDirectoryError(f"{path.name}:{number}: {exc}") from None
    return result


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


def _users(path: Path, warnings: list[str]) -> list[tuple[float, int]]:
    """The ``User Count`` of Locust's aggregated history rows; a file Locust was still writing
    when it died may end mid-row, so a row that does not read is skipped, and said so."""
    if not path.exists():
        return []
    samples = []
    with path.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            if row.get("Name") != "Aggregated":
                continue
            try:
                samples.append((float(row["Timestamp"]), int(row["User Count"])))
            except (KeyError, TypeError, ValueError):
                warnings.append(f"{path.name}:{number}: a row without a timestamp and user count skipped")
    return sorted(samples)


def load_generator_samples(run_dir: Path, warnings: list[str] | None = None) -> list[GeneratorSample]:
    """Every Locust process's samples (``generator-*.jsonl``), sorted by time; none in a run
    directory written before the generator was measured."""
    samples = _records(sorted(Path(run_dir).glob("generator-*.jsonl")), GeneratorSample.from_json,
                       warnings if warnings is not None else [])
    return sorted(samples, key=lambda sample: sample.at)


def load_run(run_dir: Path) -> RunData:
    """Read a run directory; at least one ``requests*.jsonl`` file must exist."""
    run_dir = Path(run_dir)
    request_files = sorted(run_dir.glob("requests*.jsonl"))
    if not request_files:
        raise RunDirectoryError(f"{run_dir}: no requests*.jsonl — is this a run directory?")
    warnings: list[str] = []
    requests = _records(request_files, RequestRecord.from_json, warnings)
    requests.sort(key=lambda r: r.intended_start)
    failovers_path = run_dir / "failovers.jsonl"
    failovers = sorted(
        _records([failovers_path] if failovers_path.exists() else [], FailoverRecord.from_json, warnings),
        key=lambda f: f.injected_at,
    )
    operations = _records(sorted(run_dir.glob("operations*.jsonl")), Operation.from_json, warnings)
    canary: dict[str, list[CanarySample]] = {}
    for sample in _records(sorted(run_dir.glob("canary-*.jsonl")), CanarySample.from_json, warnings):
        canary.setdefault(sample.service, []).append(sample)
    for samples in canary.values():
        samples.sort(key=lambda c: c.started)
    return RunData(
        directory=run_dir, info=_info(run_dir / "run.json"), requests=requests, failovers=failovers,
        operations=operations, reconciled=_reconciled(run_dir / "records.json"), warnings=warnings,
        canary=canary, users=_users(run_dir / "locust_stats_history.csv", warnings),
        generator=load_generator_samples(run_dir, warnings),
    )
