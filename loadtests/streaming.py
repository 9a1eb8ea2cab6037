"""Where a Locust process's records go: its own files in the run directory, or — for a worker on
another host, which shares no disk with the run — batches streamed to the master, which writes
them into the run directory as the same files.

Three pieces, none of them tied to a transport (:mod:`~gosstand.loadtests.distributed` puts them
on Locust's messages):

- :class:`RecordWriter` appends one process's records to ``<kind>-<process>.jsonl``
  (:data:`~gosstand.stand.records.RECORD_KINDS`): a local runner and a worker forked on this host
  write their own; the master writes each remote worker's.
- :class:`RecordStream`, on a remote worker, holds at most :data:`BATCH_RECORDS` records; a
  full batch, or a flush (once a second, and at the end), hands them to ``send`` as one
  :class:`~gosstand.stand.records.RecordBatch`. A batch the transport refuses is counted as
  dropped and let go — memory stays bounded, and the loss is said at the end.
- :class:`StreamCollector`, on the master, writes each worker's batches as they come, and at the
  end compares what arrived with each worker's :class:`~gosstand.stand.records.StreamEnd` — its
  own count of what it made. A worker that never said it ended (it disappeared), a batch missing
  from the sequence, or a count that differs is a problem: the report would lack requests, so
  the run is broken, never judged. The comparison is kept in ``workers.json``
  (:func:`ledger_problems` reads it back for ``gosstand peak``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..stand.records import RECORD_KINDS, RecordBatch, RecordKind, StreamEnd, WorkerHello

__all__ = ["BATCH_RECORDS", "LEDGER", "RecordSink", "RecordStream", "RecordWriter", "StreamCollector",
           "ledger_problems", "stream_ledger"]

#: Records a remote worker holds before it sends them: about 100 KB of JSON a message.
BATCH_RECORDS = 500
#: The master's account of its remote workers' streams, in the run directory.
LEDGER = "workers.json"


class RecordSink:
    """Where a Locust process's records go (:meth:`write` one, in its JSON form)."""

    def write(self, kind: RecordKind, record: dict[str, Any]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """No record follows."""


class RecordWriter(RecordSink):
    """One process's record files in the run directory, opened at their first record. Requests
    are many and buffered (64 KiB); operations and generator samples are few and written a line
    at a time, so a crash keeps what was acknowledged."""

    BUFFERING: dict[RecordKind, int] = {"requests": 1 << 16, "operations": 1, "generator": 1}

    def __init__(self, run_dir: Path, process: str) -> None:
        self.run_dir, self.process = run_dir, process
        self._files: dict[RecordKind, TextIO] = {}

    def path(self, kind: RecordKind) -> Path:
        return self.run_dir / f"{kind}-{self.process}.jsonl"

    def _file(self, kind: RecordKind) -> TextIO:
        handle = self._files.get(kind)
        if handle is None:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            handle = self._files[kind] = self.path(kind).open("a", encoding="utf-8", buffering=self.BUFFERING[kind])
        return handle

    def write(self, kind: RecordKind, record: dict[str, Any]) -> None:
        self._file(kind).write(json.dumps(record, ensure_ascii=False) + "\n")

    def write_many(self, kind: RecordKind, records: list[dict[str, Any]]) -> None:
        if records:
            self._file(kind).write("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in records))

    def flush(self) -> None:
        for handle in self._files.values():
            handle.flush()

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()
        self._files.clear()


class RecordStream(RecordSink):
    """A remote worker's records, in batches of at most ``batch_records`` handed to ``send``,
    which returns False when the transport would not take the batch."""

    def __init__(self, send: Callable[[RecordBatch], bool], *, batch_records: int = BATCH_RECORDS) -> None:
        self._send, self._limit = send, batch_records
        self._pending: dict[RecordKind, list[dict[str, Any]]] = {}
        self._size = self._batches = self._dropped = 0
        self._produced: dict[RecordKind, int] = dict.fromkeys(RECORD_KINDS, 0)
        self.ended: StreamEnd | None = None

    def write(self, kind: RecordKind, record: dict[str, Any]) -> None:
        if self.ended is not None:  # a record after the end would be one the master never counts
            self._dropped += 1
            return
        self._produced[kind] += 1
        self._pending.setdefault(kind, []).append(record)
        self._size += 1
        if self._size >= self._limit:
            self.flush()

    def flush(self) -> None:
        """Send what is held (nothing when nothing is)."""
        if not self._size:
            return
        batch = RecordBatch(seq=self._batches, records=self._pending)
        self._pending, self._size = {}, 0
        self._batches += 1
        if not self._send(batch):
            self._dropped += batch.size()

    def end(self) -> StreamEnd:
        """Flush, and the totals the master checks its copy against (the same on a second call)."""
        if self.ended is None:
            self.flush()
            self.ended = StreamEnd(batches=self._batches, produced=dict(self._produced), dropped=self._dropped)
        return self.ended

    def close(self) -> None:
        self.end()


@dataclass
class WorkerStream:
    """What the master knows of one remote worker's stream."""

    index: int
    hello: WorkerHello
    writer: RecordWriter
    received: dict[RecordKind, int] = field(default_factory=lambda: dict.fromkeys(RECORD_KINDS, 0))
    next_seq: int = 0
    gaps: list[int] = field(default_factory=list)
    malformed: int = 0
    end: StreamEnd | None = None

    @property
    def label(self) -> str:
        return f"worker {self.index} ({self.hello.host}, pid {self.hello.pid})"

    def problems(self) -> list[str]:
        if self.end is None:
            return [f"{self.label} never said it had sent its last records (it disappeared or was cut off): "
                    f"the master got {self._counted(self.received)}, and cannot know what is missing"]
        problems = []
        if self.gaps:
            problems.append(f"{self.label}: batch(es) {', '.join(map(str, self.gaps[:10]))} never arrived")
        if self.malformed:
            problems.append(f"{self.label}: {self.malformed} batch(es) were not record batches")
        if self.end.dropped:
            problems.append(f"{self.label} could not send {self.end.dropped} of its records")
        for kind in RECORD_KINDS:
            made, got = self.end.produced.get(kind, 0), self.received[kind]
            if made != got:
                problems.append(f"{self.label} sent {made} {kind} records, the master got {got}")
        return problems

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, **self.hello.to_json(), "files": self.writer.process,
                "received": self.received, "end": None if self.end is None else self.end.to_json(),
                "problems": self.problems()}

    @staticmethod
    def _counted(counts: dict[RecordKind, int]) -> str:
        return ", ".join(f"{counts[kind]} {kind}" for kind in RECORD_KINDS)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "_", text)[:60] or "host"


class StreamCollector:
    """The master's side: each remote worker's batches written into ``run_dir`` as its files
    (``requests-w<index>-<host>-<pid>.jsonl``…), and the ledger of what each said it sent."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.workers: dict[str, WorkerStream] = {}
        self.strangers = 0

    def joined(self, node: str, index: int, hello: WorkerHello) -> None:
        if node not in self.workers:
            process = f"w{index}-{_safe(hello.host)}-{hello.pid}"
            self.workers[node] = WorkerStream(index=index, hello=hello, writer=RecordWriter(self.run_dir, process))

    def received(self, node: str, raw: Any) -> None:
        """A batch from ``node``, written at once (the master holds no records)."""
        worker = self.workers.get(node)
        if worker is None:  # a worker that never said hello: nothing of it is in the ledger
            self.strangers += 1
            return
        try:
            batch = RecordBatch.from_json(raw)
        except ValueError:
            worker.malformed += 1
            return
        if batch.seq != worker.next_seq:
            worker.gaps.extend(range(worker.next_seq, batch.seq))
        worker.next_seq = max(worker.next_seq, batch.seq + 1)
        for kind, rows in batch.records.items():
            worker.writer.write_many(kind, rows)
            worker.received[kind] += len(rows)
        worker.writer.flush()  # on disk as it comes (a batch a second per worker): a master that dies keeps them

    def ended(self, node: str, raw: Any) -> None:
        worker = self.workers.get(node)
        if worker is None:
            self.strangers += 1
            return
        try:
            worker.end = StreamEnd.from_json(raw)
        except ValueError:
            worker.malformed += 1
            return
        worker.writer.flush()
        if worker.end.batches > worker.next_seq:  # batches after the last one that came
            worker.gaps.extend(range(worker.next_seq, worker.end.batches))

    def unfinished(self) -> list[str]:
        return [node for node, worker in self.workers.items() if worker.end is None]

    def problems(self, expected: int) -> list[str]:
        problems = [problem for worker in self.workers.values() for problem in worker.problems()]
        if len(self.workers) < expected:
            problems.insert(0, f"{len(self.workers)} of the {expected} expected worker(s) joined the run")
        if self.strangers:
            problems.append(f"{self.strangers} message(s) of records came from workers that never joined the run")
        return problems

    def write_ledger(self, expected: int) -> Path:
        for worker in self.workers.values():
            worker.writer.close()
        path = self.run_dir / LEDGER
        path.write_text(json.dumps({"expected": expected,
                                    "workers": [w.to_json() for w in sorted(self.workers.values(),
                                                                            key=lambda w: w.index)],
                                    "problems": self.problems(expected)}, indent=2, ensure_ascii=False),
                        encoding="utf-8")
        return path


def stream_ledger(run_dir: Path) -> list[dict[str, Any]]:
    """Each remote worker as the ledger has it (index, host, pid, what it sent and what came);
    none when there is no ledger."""
    try:
        workers = json.loads((run_dir / LEDGER).read_text(encoding="utf-8"))["workers"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [worker for worker in workers if isinstance(worker, dict)] if isinstance(workers, list) else []


def ledger_problems(run_dir: Path, expected: int) -> list[str]:
    """Why the remote workers' records in ``run_dir`` are not whole (none: they are). No ledger
    when workers were expected means the master ended before it could account for them."""
    path = run_dir / LEDGER
    if not path.exists():
        return [f"the master left no account of its {expected} remote worker(s) ({LEDGER}): their records "
                "may be missing"] if expected else []
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return [str(problem) for problem in raw["problems"]]
    except (ValueError, KeyError, TypeError) as exc:
        return [f"{path}: unreadable ({exc})"]
