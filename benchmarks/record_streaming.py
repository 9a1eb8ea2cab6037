"""What streaming a remote worker's records to its master costs, against writing them locally.

    python benchmarks/record_streaming.py [--records 200000]

The same request records (as a load run records them) go, in turn:

1. the baseline: into a run directory by one process's own :class:`RecordWriter`, as a local
   runner or a worker on the master's host writes them;
2. streamed: through a worker's :class:`RecordStream` (batches of 500), each batch packed and
   unpacked with msgpack as Locust's messages carry it, into the master's
   :class:`StreamCollector`, which writes them into a run directory.

Prints each one's CPU per record, the worker's and the master's share of the streamed cost, and
the streamed cost over the baseline. No network and no Locust: the figures are the records' own
handling, one machine's, and vary with its load — never targets.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import msgpack
from gosstand.loadtests.streaming import RecordStream, RecordWriter, StreamCollector
from gosstand.stand.records import RequestRecord, WorkerHello


def _records(count: int) -> list[dict[str, object]]:
    return [RequestRecord(intended_start=1e9 + n / 100, started=1e9 + n / 100, ended=1e9 + n / 100 + 0.02, ok=True,
                          name="fts: submit", journey="declaration", service="fts", status=201, connection="reused",
                          replica="fts-1", op=f"op-{n}").to_json() for n in range(count)]


def _cpu() -> float:
    return time.process_time()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    args = parser.parse_args()
    rows = _records(args.records)
    with tempfile.TemporaryDirectory() as scratch:
        local = RecordWriter(Path(scratch) / "local", "1")
        started = _cpu()
        for row in rows:
            local.write("requests", row)
        local.close()
        baseline = (_cpu() - started) / len(rows)

        collector = StreamCollector(Path(scratch) / "master")
        collector.joined("node", 0, WorkerHello(host="load-1", pid=1))
        wire: list[bytes] = []
        stream = RecordStream(lambda batch: wire.append(msgpack.packb(batch.to_json())) is None)
        started = _cpu()
        for row in rows:
            stream.write("requests", row)
        end = stream.end()
        worker = _cpu() - started
        started = _cpu()
        for message in wire:
            collector.received("node", msgpack.unpackb(message))
        collector.ended("node", end.to_json())
        master = _cpu() - started
        assert collector.problems(expected=1) == [], collector.problems(expected=1)
    streamed = (worker + master) / len(rows)
    print(f"records: {len(rows)}, batches: {end.batches}")
    print(f"local file:  {baseline * 1e6:6.2f} µs CPU per record")
    print(f"streamed:    {streamed * 1e6:6.2f} µs CPU per record "
          f"(worker {worker / len(rows) * 1e6:.2f}, master {master / len(rows) * 1e6:.2f})")
    print(f"streamed / local file: {streamed / baseline:.2f}×")


if __name__ == "__main__":
    main()
