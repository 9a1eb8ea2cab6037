"""Synthetic run directories with known answers — for tests, demos and trying an SLO file.

:func:`write_run` writes the files :mod:`.io` reads (the same contract the load tests follow);
:func:`steady_requests` makes a constant-rate request stream where a callable decides, per
request, its latency and outcome, so every figure of the report can be computed by hand.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["steady_requests", "write_run"]

START = 1_700_000_000.0


def steady_requests(
    *,
    start: float = START,
    duration: float = 60.0,
    rate: float = 50.0,
    latency: Callable[[int, float], float] = lambda i, offset: 0.010,
    failed: Callable[[float], bool] = lambda offset: False,
    service: str = "fts",
    journey: str = "declaration",
    name: str | None = None,
    replicas: Sequence[str] = ("fts-1", "fts-2"),
    op: Callable[[int], str | None] = lambda i: None,
) -> list[dict[str, Any]]:
    """``duration · rate`` requests, request ``i`` intended to start at ``start + i / rate``.

    ``latency(i, offset)`` gives its latency in seconds and ``failed(offset)`` whether it failed
    (a reset: status 0, no replica), ``offset`` being seconds since ``start``.
    """
    records = []
    for i in range(round(duration * rate)):
        offset = i / rate
        s = start + offset
        bad = failed(offset)
        records.append({
            "s": s, "a": s, "e": s + latency(i, offset), "ok": not bad,
            "name": name or f"{service}: call", "journey": journey, "service": service,
            "status": 0 if bad else 200, "replica": None if bad else replicas[i % len(replicas)],
            "op": op(i), "error": "ConnectionResetError" if bad else None,
        })
    return records


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
) -> Path:
    """Write a run directory; ``requests`` may be a mapping ``{file suffix: rows}`` to spread
    them over several ``requests-<suffix>.jsonl`` files, as several Locust processes do."""
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
    return run_dir
