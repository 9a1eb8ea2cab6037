"""Synthetic run directories with known answers — for tests, demos and trying an SLO file.

:func:`write_run` writes the files :mod:`.io` reads (the same contract the load tests follow);
:func:`steady_requests` makes a constant-rate request stream where a callable decides, per
request, its latency and outcome, so every figure of the report can be computed by hand.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..stand.records import CanarySample, Connection, FailoverAction, FailoverRecord, FailureClass, RequestRecord

__all__ = ["canary_samples", "failover", "steady_requests", "write_run"]

START = 1_700_000_000.0


def steady_requests(
    *,
    start: float = START,
    duration: float = 60.0,
    rate: float = 50.0,
    latency: Callable[[int, float], float] = lambda i, offset: 0.010,
    failed: Callable[[float], bool | FailureClass] = lambda offset: False,
    service: str = "fts",
    journey: str = "declaration",
    name: str | None = None,
    replicas: Sequence[str] = ("fts-1", "fts-2"),
    op: Callable[[int], str | None] = lambda i: None,
    connection: Callable[[int], Connection | None] = lambda i: "new" if i % 2 == 0 else "reused",
) -> list[dict[str, Any]]:
    """``duration · rate`` requests, request ``i`` intended to start at ``start + i / rate``.

    ``latency(i, offset)`` gives its latency in seconds and ``failed(offset)`` whether it failed
    — ``True`` for a reset, or the failure class (``"timeout"``, ``"5xx"``…); ``offset`` is
    seconds since ``start``. A 5xx is answered by its replica with a 503; the others get no answer.
    """
    records = []
    for i in range(round(duration * rate)):
        offset = i / rate
        s = start + offset
        bad = failed(offset)
        failure: FailureClass | None = None if not bad else "reset" if bad is True else bad
        answered = failure in (None, "5xx", "status")
        records.append(RequestRecord(
            intended_start=s, started=s, ended=s + latency(i, offset), ok=failure is None,
            name=name or f"{service}: call", journey=journey, service=service,
            status={None: 200, "5xx": 503, "status": 409}.get(failure, 0), failure=failure,
            connection=connection(i), replica=replicas[i % len(replicas)] if answered else None,
            op=op(i), error=None if answered else failure,
        ).to_json())
    return records


def canary_samples(
    *,
    service: str,
    start: float = START,
    duration: float = 60.0,
    rate: float = 200.0,
    latency: Callable[[float], float] = lambda offset: 0.002,
    failed: Callable[[float], FailureClass | None] = lambda offset: None,
) -> list[dict[str, Any]]:
    """A canary's samples: one every ``1/rate`` s, half on new connections; ``failed(offset)`` is
    the failure class of the sample sent at ``offset`` s, or ``None``."""
    samples = []
    for i in range(round(duration * rate)):
        offset = i / rate
        failure = failed(offset)
        samples.append(CanarySample(
            service=service, started=start + offset, ended=start + offset + latency(offset), ok=failure is None,
            status=200 if failure is None else 503 if failure == "5xx" else 0, failure=failure,
            connection="new" if i % 2 == 0 else "reused",
        ).to_json())
    return samples


def failover(*, entry: int = 1, action: FailoverAction = "kill", service: str = "fts", target: str | None = None,
             at: float, until: float | None = None, took_effect: bool = True,
             evidence: str | None = None) -> dict[str, Any]:
    """One failover action's record, ``at``/``until`` as epoch seconds (``injected_at``/``removed_at``)."""
    return FailoverRecord(
        entry=entry, action=action, service=service, target=target, injected_at=at, removed_at=until,
        took_effect=took_effect, evidence=evidence or ("pid gone" if action == "kill" else "stopped"),
    ).to_json()


def _jsonl(path: Path, rows: Iterable[Mapping[str, Any]]) -> None:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")


def write_run(
    run_dir: Path,
    *,
    requests: Iterable[Mapping[str, Any]] | Mapping[str, Iterable[Mapping[str, Any]]],
    failovers: Iterable[Mapping[str, Any]] = (),
    operations: Iterable[Mapping[str, Any]] | None = None,
    records: Mapping[str, Any] | None = None,
    info: Mapping[str, Any] | None = None,
    canary: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
    users: Iterable[tuple[float, int]] | None = None,
) -> Path:
    """Write a run directory; ``requests`` may be a mapping ``{file suffix: rows}`` to spread
    them over several ``requests-<suffix>.jsonl`` files, as several Locust processes do.
    ``canary`` maps a service to its samples; ``users`` is (epoch second, users) as Locust's
    history file holds it."""
    run_dir.mkdir(parents=True, exist_ok=True)
    files = requests if isinstance(requests, Mapping) else {"1": requests}
    for suffix, rows in files.items():
        _jsonl(run_dir / f"requests-{suffix}.jsonl", rows)
    failovers = list(failovers)
    if failovers:
        _jsonl(run_dir / "failovers.jsonl", failovers)
    if operations is not None:
        _jsonl(run_dir / "operations-1.jsonl", operations)
    if records is not None:
        (run_dir / "records.json").write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    if info is not None:
        (run_dir / "run.json").write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
    for service, samples in (canary or {}).items():
        _jsonl(run_dir / f"canary-{service}.jsonl", samples)
    if users is not None:
        with (run_dir / "locust_stats_history.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["Timestamp", "User Count", "Type", "Name", "Requests/s"])
            for t, count in users:
                writer.writerow([int(t), count, "", "Aggregated", 0])
    return run_dir
