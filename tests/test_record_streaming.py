"""The records of a Locust worker on another host reach the master's run directory whole, or the
run says they did not: a worker streams them in bounded batches (loadtests/streaming.py), the
master writes each batch as it comes and compares the total with the worker's own count.

The batches cross msgpack here as they cross Locust's messages; no network, no Locust process.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgpack
from gosstand.loadtests.streaming import RecordStream, StreamCollector, ledger_problems, stream_ledger
from gosstand.reports.io import load_run
from gosstand.stand.records import GeneratorSample, Operation, RecordBatch, RequestRecord, WorkerHello


def _request(number: int) -> dict[str, Any]:
    start = 1_000.0 + number / 10
    return RequestRecord(intended_start=start, started=start, ended=start + 0.05, ok=number % 7 != 0,
                         name="fts: submit", journey="declaration", status=201 if number % 7 else 503,
                         failure=None if number % 7 else "5xx", replica=f"fts-{number % 2 + 1}").to_json()


class Wire:
    """Locust's worker→master channel as the master sees it: each batch packed and unpacked with
    msgpack (as Locust's messages are), in order, into the master's collector — except the
    batches it is told to lose."""

    def __init__(self, collector: StreamCollector, node: str, *, lose: set[int] | None = None,
                 refuse: bool = False) -> None:
        self.collector, self.node, self.lose, self.refuse = collector, node, lose or set(), refuse
        self.sent: list[int] = []

    def send(self, batch: RecordBatch) -> bool:
        if self.refuse:
            return False
        self.sent.append(batch.size())
        if batch.seq not in self.lose:
            self.collector.received(self.node, msgpack.unpackb(msgpack.packb(batch.to_json())))
        return True


def _worker(collector: StreamCollector, node: str, index: int, **wire: Any) -> tuple[RecordStream, Wire]:
    collector.joined(node, index, WorkerHello(host=f"load-{index}.example", pid=40 + index))
    channel = Wire(collector, node, **wire)
    return RecordStream(channel.send, batch_records=50), channel


def _run_dir(tmp_path: Path) -> Path:
    (tmp_path / "run.json").write_text(json.dumps({"title": "streamed", "problems": []}))
    return tmp_path


def test_two_workers_records_land_whole_in_the_masters_run_directory(tmp_path) -> None:
    run_dir = _run_dir(tmp_path)
    collector = StreamCollector(run_dir)
    first, first_wire = _worker(collector, "node-a", 0)
    second, second_wire = _worker(collector, "node-b", 1)
    for number in range(120):
        (first if number % 3 else second).write("requests", _request(number))
    first.write("operations", Operation(op="op-1", service="fts", acked=True, id="D1").to_json())
    second.write("generator", GeneratorSample(pid=41, role="worker", worker_index=1, at=1_001.0, interval_s=1.0,
                                              cpu=0.2, requests=40).to_json())
    # Bounded: a worker never holds more than a batch — full ones left as they filled up.
    assert first_wire.sent == [50] and second_wire.sent == []
    for node, stream in (("node-a", first), ("node-b", second)):
        collector.ended(node, msgpack.unpackb(msgpack.packb(stream.end().to_json())))
    assert collector.problems(expected=2) == []
    collector.write_ledger(expected=2)

    run = load_run(run_dir)  # what reports/ reads: every request of both workers, one report
    assert len(run.requests) == 120
    assert sorted(r.intended_start for r in run.requests) == sorted(_request(n)["intended_start"] for n in range(120))
    assert [op.op for op in run.operations] == ["op-1"] and len(run.generator) == 1
    assert sorted(path.name for path in run_dir.glob("requests-*.jsonl")) == [
        "requests-w0-load-0.example-40.jsonl", "requests-w1-load-1.example-41.jsonl"]
    assert ledger_problems(run_dir, expected=2) == []
    ledger = {worker["index"]: worker for worker in stream_ledger(run_dir)}
    assert ledger[0]["received"]["requests"] + ledger[1]["received"]["requests"] == 120
    assert ledger[0]["end"]["produced"]["requests"] == 80


def test_a_batch_lost_on_the_way_fails_the_run_closed(tmp_path) -> None:
    collector = StreamCollector(_run_dir(tmp_path))
    stream, _ = _worker(collector, "node-a", 0, lose={1})
    for number in range(130):
        stream.write("requests", _request(number))
    collector.ended("node-a", stream.end().to_json())
    problems = collector.problems(expected=1)
    assert "worker 0 (load-0.example, pid 40): batch(es) 1 never arrived" in problems
    assert "worker 0 (load-0.example, pid 40) sent 130 requests records, the master got 80" in problems
    collector.write_ledger(expected=1)
    assert ledger_problems(tmp_path, expected=1) == problems


def test_a_worker_that_disappears_or_never_joins_fails_the_run_closed(tmp_path) -> None:
    collector = StreamCollector(_run_dir(tmp_path))
    stream, _ = _worker(collector, "node-a", 0)
    for number in range(60):
        stream.write("requests", _request(number))  # one batch sent; then the worker is gone: no end
    problems = collector.problems(expected=2)
    assert problems[0] == "1 of the 2 expected worker(s) joined the run"
    assert problems[1].startswith("worker 0 (load-0.example, pid 40) never said it had sent its last records")
    assert "50 requests" in problems[1]
    # The master died before it wrote its ledger: the records cannot be vouched for either.
    assert ledger_problems(tmp_path, expected=2) and ledger_problems(tmp_path, expected=0) == []


def test_records_the_transport_refused_are_counted_not_kept(tmp_path) -> None:
    collector = StreamCollector(_run_dir(tmp_path))
    stream, _ = _worker(collector, "node-a", 0, refuse=True)
    for number in range(120):
        stream.write("requests", _request(number))
    end = stream.end()
    assert end.dropped == 120 and end.batches == 3
    collector.ended("node-a", end.to_json())
    assert "worker 0 (load-0.example, pid 40) could not send 120 of its records" in collector.problems(expected=1)


def test_a_batch_from_a_worker_that_never_joined_is_not_written(tmp_path) -> None:
    collector = StreamCollector(_run_dir(tmp_path))
    collector.received("stranger", RecordBatch(seq=0, records={"requests": [_request(1)]}).to_json())
    collector.received("stranger", {"seq": "x"})
    assert not list(tmp_path.glob("requests-*.jsonl"))
    assert collector.problems(expected=0) == ["2 message(s) of records came from workers that never joined the run"]
