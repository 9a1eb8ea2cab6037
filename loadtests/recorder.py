"""Per-request timeline capture, attached to Locust through its ``request`` event.

Locust's own statistics round percentiles into buckets and forget which replica answered; the
failover figures need every request. Each Locust process appends one JSON line per request to
``requests-<pid>.jsonl`` in the run directory, and one per logical write operation to
``operations-<pid>.jsonl``. The columns are the contract with ``reports/`` (documented in
``reports/io.py``):

``s``       intended start (epoch s) — from the journey's pacing schedule for a journey's first
            request, so slow answers do not hide offered load; the actual start otherwise
``a``       actual start;  ``e`` end
``ok``      no transport error and a status below 400 (redirects are part of ESIA's flow)
``name``    the request's name (``"fts: submit"``); ``service`` is the part before the colon
``journey`` the journey that sent it; ``status`` HTTP status, 0 for a transport failure
``replica`` the ``x-gosstand-replica`` header, or null; ``op`` the logical operation id; ``error``
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, TextIO

from locust.event import EventHook

from ..mocks.core.middleware import REPLICA_HEADER

#: Fired by journeys' users for every logical write: ``operation.fire(record={...})``.
operation = EventHook()


class TimelineRecorder:
    def __init__(self, run_dir: Path) -> None:
        run_dir.mkdir(parents=True, exist_ok=True)
        pid = os.getpid()
        self._requests: TextIO = (run_dir / f"requests-{pid}.jsonl").open("a", encoding="utf-8", buffering=1 << 16)
        self._operations: TextIO = (run_dir / f"operations-{pid}.jsonl").open("a", encoding="utf-8", buffering=1)

    def on_request(
        self,
        *,
        name: str,
        response_time: float,
        start_time: float | None = None,
        response: Any = None,
        context: dict[str, Any] | None = None,
        exception: BaseException | None = None,
        **_: Any,
    ) -> None:
        context = context or {}
        if context.get("record") is False:
            return
        started = start_time if start_time is not None else 0.0
        status = int(getattr(response, "status_code", 0) or 0)
        headers = getattr(response, "headers", None) or {}
        replica = headers.get(REPLICA_HEADER) if hasattr(headers, "get") else None
        record = {
            "s": context.get("intended_start", started),
            "a": started,
            "e": started + response_time / 1000.0,
            "ok": exception is None and 0 < status < 400,
            "name": name,
            "journey": context.get("journey"),
            "service": name.split(":", 1)[0].strip() if ":" in name else None,
            "status": status,
            "replica": replica,
            "op": context.get("op"),
            "error": None if exception is None else f"{type(exception).__name__}: {exception}"[:300],
        }
        self._requests.write(json.dumps(record, ensure_ascii=False) + "\n")

    def on_operation(self, *, record: dict[str, Any], **_: Any) -> None:
        self._operations.write(json.dumps(record, ensure_ascii=False) + "\n")

    def close(self, **_: Any) -> None:
        self._requests.close()
        self._operations.close()


def register(environment: Any, *, run_dir: Path) -> TimelineRecorder:
    """Record every request this Locust process sends (workers and local runners alike)."""
    recorder = TimelineRecorder(run_dir)
    environment.events.request.add_listener(recorder.on_request)
    operation.add_listener(recorder.on_operation)
    environment.events.quit.add_listener(recorder.close)
    return recorder
