"""Per-request timeline capture, attached to Locust through its ``request`` event.

Locust's own statistics round percentiles into buckets and forget which replica answered; the
failover figures need every request. Each Locust process hands its sink one
:class:`~gosstand.stand.records.RequestRecord` per request and one
:class:`~gosstand.stand.records.Operation` per logical write: in the run directory they become
``requests-<pid>.jsonl`` and ``operations-<pid>.jsonl`` (a worker on another host streams them to
its master, which writes them so, :mod:`~gosstand.loadtests.streaming`) — the records module
documents each field, and ``reports/`` reads them back through it.

A request is ``ok`` when it got an answer below 400 in time; otherwise its failure class says
why (:func:`~gosstand.loadtests.outcomes.classify`). Requests the harness makes for itself
(reading SMS codes through the control API) carry ``record: False`` and are not the target's
traffic.
"""

from __future__ import annotations

from typing import Any

from locust.event import EventHook

from ..mocks.core.middleware import REPLICA_HEADER
from ..stand.records import Operation, RequestRecord
from .outcomes import classify
from .streaming import RecordSink

#: Fired by journeys' users for every logical write: ``operation.fire(record=Operation(...))``.
operation = EventHook()


class TimelineRecorder:
    def __init__(self, sink: RecordSink) -> None:
        self._sink = sink

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
        failure = classify(status, exception)
        record = RequestRecord(
            intended_start=context.get("intended_start", started),
            started=started,
            ended=started + response_time / 1000.0,
            ok=failure is None,
            name=name,
            journey=context.get("journey"),
            service=name.split(":", 1)[0].strip() if ":" in name else None,
            status=status,
            failure=failure,
            connection=context.get("connection"),
            replica=headers.get(REPLICA_HEADER) if hasattr(headers, "get") else None,
            op=context.get("op"),
            error=None if exception is None else f"{type(exception).__name__}: {exception}"[:300],
        )
        self._sink.write("requests", record.to_json())

    def on_operation(self, *, record: Operation, **_: Any) -> None:
        self._sink.write("operations", record.to_json())


def register(environment: Any, *, sink: RecordSink) -> TimelineRecorder:
    """Record every request this Locust process sends (workers and local runners alike); the
    sink is closed by whoever made it, once the process's last record is in."""
    recorder = TimelineRecorder(sink)
    environment.events.request.add_listener(recorder.on_request)
    operation.add_listener(recorder.on_operation)
    return recorder
