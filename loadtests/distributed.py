"""A load run whose Locust workers are on other hosts: ``gosstand peak --master`` and
``gosstand worker --master-host HOST``, on Locust's own master/worker mode and its custom
messages — the worker shares no file with the master.

The exchange, every message Locust's (``runner.send_message``/``register_message``):

1. A worker, once connected, says hello (``gosstand_hello``: its host and pid), again every two
   seconds until the run comes (a master still seeding the stand drops it). The master answers
   with the run (``gosstand_config``: the configuration, the stand's manifest with its URLs and
   control token, the seeded fixtures — :class:`~gosstand.stand.records.ShippedRun`); the worker
   attaches the journeys, its meter and its recorder to that configuration in the handler
   itself, so Locust's spawn message, which comes after it, finds everything in place. Its share
   of the people follows from its worker index, as for workers on one host.
2. The master's ``init`` hook holds the run until the workers it expects have had their
   configuration (Locust starts the load right after ``init``), or gives it up (exit 2).
3. The worker streams its records in batches (``gosstand_records``,
   :class:`~gosstand.loadtests.streaming.RecordStream`); the master writes them into the run
   directory as it gets them (:class:`~gosstand.loadtests.streaming.StreamCollector`).
4. When the load ends, the master (Locust's ``test_stopping``) asks each worker to finish
   (``gosstand_finish``); the worker stops its users, sends what it holds and its own count of
   what it made (``gosstand_end``). The master waits for every worker's end — or for Locust to
   find it gone — and writes the ledger. A worker that disappeared or whose count differs makes
   the run broken (exit 2): a report missing requests is never judged.

A worker beyond the number expected is refused (``gosstand_refused``; it exits 2): the people
are shared out by that number, and an extra worker would sign in as people another one holds.
The failovers and the canary stay with the master, beside the stand it started or can reach.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

from ..stand.records import RecordBatch, RecordError, ShippedRun, WorkerHello
from .config import LoadConfig
from .streaming import RecordStream, StreamCollector

__all__ = ["REMOTE_WORKER_ENV", "join", "serve"]

log = logging.getLogger("gosstand.distributed")

#: Set by ``gosstand worker``: this Locust process learns the run from its master.
REMOTE_WORKER_ENV = "GOSSTAND_REMOTE_WORKER"
HELLO, CONFIG, REFUSED = "gosstand_hello", "gosstand_config", "gosstand_refused"
RECORDS, FINISH, END = "gosstand_records", "gosstand_finish", "gosstand_end"
#: A remote worker sends what it holds at least this often, so the master's copy stays current.
FLUSH_EVERY_S = 1.0
#: A worker says hello this often until the master sends the run, at most this many times.
HELLO_EVERY_S, HELLO_TRIES = 2.0, 450
#: Beyond Locust's stop timeout, how long the master waits for its workers' last records.
FINISH_GRACE_S = 30.0

Attach = Callable[[LoadConfig, RecordStream], None]


def _gosstand_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gosstand")
    except PackageNotFoundError:
        return "unknown"


def serve(environment: Any, config: LoadConfig, *, say: Callable[[str], None] = print) -> StreamCollector:
    """On the master: ship the run to each worker that joins, collect their records, and hold
    ``init`` until ``config.run.remote_workers`` of them have the run."""
    import gevent

    runner = environment.runner
    expected = config.run.remote_workers
    collector = StreamCollector(config.run_dir)
    shipment = config.shipment().to_json()

    def on_hello(msg: Any, **_: Any) -> None:
        index = runner.get_worker_index(msg.node_id)
        try:
            hello = WorkerHello.from_json(msg.data)
        except RecordError as exc:
            runner.send_message(REFUSED, {"reason": f"a hello the master cannot read: {exc}"}, msg.node_id)
            return
        if index >= expected and msg.node_id not in collector.workers:
            runner.send_message(REFUSED, {"reason": f"this run shares its people among {expected} worker(s), and "
                                                    f"they have joined"}, msg.node_id)
            say(f"gosstand: refused worker {index} ({hello.host}): the run expects {expected} worker(s)")
            return
        known = msg.node_id in collector.workers
        collector.joined(msg.node_id, index, hello)
        runner.send_message(CONFIG, shipment, msg.node_id)  # again to a worker asking again: it attaches once
        if not known:
            say(f"gosstand: worker {index} ({hello.host}, pid {hello.pid}) joined "
                f"({len(collector.workers)} of {expected})")

    runner.register_message(HELLO, on_hello)
    runner.register_message(RECORDS, lambda msg, **_: collector.received(msg.node_id, msg.data))
    runner.register_message(END, lambda msg, **_: collector.ended(msg.node_id, msg.data))

    finished: list[bool] = []

    def gone(node: str) -> bool:
        return node not in runner.clients or runner.clients[node].state == "missing"

    def finish(**_: Any) -> None:
        """Ask every worker for its last records and wait for them (Locust's ``test_stopping``)."""
        if finished:
            return
        finished.append(True)
        for node in collector.unfinished():
            if not gone(node):
                runner.send_message(FINISH, None, node)
        deadline = time.monotonic() + (environment.stop_timeout or 0) + FINISH_GRACE_S
        while time.monotonic() < deadline and any(not gone(node) for node in collector.unfinished()):
            gevent.sleep(0.1)
        collector.write_ledger(expected)

    environment.events.test_stopping.add_listener(finish)
    environment.events.quitting.add_listener(lambda **_: finished or collector.write_ledger(expected))

    deadline = time.monotonic() + config.run.workers_wait_s
    said = time.monotonic()
    while len(collector.workers) < expected:  # bounded by workers_wait_s
        if time.monotonic() >= deadline:
            collector.write_ledger(expected)
            print(f"gosstand: {len(collector.workers)} of {expected} worker(s) joined within "
                  f"{config.run.workers_wait_s:g} s; start them with `gosstand worker --master-host <this host>`",
                  file=sys.stderr, flush=True)
            runner.quit()
            raise SystemExit(2)
        if time.monotonic() - said >= 10:
            say(f"gosstand: waiting for workers, {len(collector.workers)} of {expected} joined")
            said = time.monotonic()
        gevent.sleep(0.2)
    return collector


def join(environment: Any, attach: Attach) -> None:
    """On a worker of another host: ask the master for the run, attach to it when it comes,
    stream the records, and end the stream when the master asks."""
    import gevent
    from locust.exception import RPCError, RPCSendError

    runner = environment.runner

    def send(batch: RecordBatch) -> bool:
        try:
            runner.send_message(RECORDS, batch.to_json())
            return True
        except (RPCError, RPCSendError) as exc:
            log.error("records could not be sent to the master: %s", exc)
            return False

    stream = RecordStream(send)

    def flush_regularly(lasts_s: float) -> None:
        for _ in range(int(lasts_s / FLUSH_EVERY_S) + 1):  # bounded by the run's length; ends with the stream
            gevent.sleep(FLUSH_EVERY_S)
            if stream.ended is not None:
                return
            stream.flush()

    attached: list[LoadConfig] = []

    def on_config(msg: Any, **_: Any) -> None:
        if attached:  # once: a second attachment would record every request twice
            return
        try:
            shipped = ShippedRun.from_json(msg.data)
        except RecordError as exc:
            refuse(f"the master's run cannot be read: {exc}")
            return
        config = LoadConfig.from_shipment(shipped)
        attached.append(config)
        attach(config, stream)
        gevent.spawn(flush_regularly, config.profile.duration_s + config.run.workers_wait_s + 600)
        index, count = max(runner.worker_index, 0), max(config.processes, 1)
        seeded = len(config.fixtures.get("users", []))
        share = range(index, seeded, count)
        print(f"gosstand worker {index}: joined the run {config.profile.name!r}, {len(share)} of the {seeded} "
              f"people ({', '.join(map(str, share[:3]))}{', …' if len(share) > 3 else ''}); "
              f"stand {', '.join(config.manifest.urls.values())}", file=sys.stderr, flush=True)

    def on_finish(**_: Any) -> None:
        runner.stop()  # the users' last requests are recorded before the end is counted
        end = stream.end()
        try:
            runner.send_message(END, end.to_json())
        except (RPCError, RPCSendError) as exc:
            log.error("the end of the records could not be sent to the master: %s", exc)
        lost = f", {end.dropped} of them could not be" if end.dropped else ""
        print(f"gosstand worker {runner.worker_index}: done, {end.produced.get('requests', 0)} request records sent "
              f"({end.produced.get('operations', 0)} operations, {end.produced.get('generator', 0)} generator "
              f"samples) in {end.batches} batches{lost}", file=sys.stderr, flush=True)

    def refuse(reason: str) -> None:
        refused.append(reason)
        print(f"gosstand worker: the master refused this worker: {reason}", file=sys.stderr, flush=True)
        environment.process_exit_code = 2
        gevent.spawn(runner.quit)

    def say_hello() -> None:
        """Until the run comes: a master still in its own ``init`` (seeding the stand) has no
        handler for a hello yet, and Locust drops a message nobody handles."""
        hello = WorkerHello(host=socket.gethostname(), pid=os.getpid(), version=_gosstand_version()).to_json()
        for _ in range(HELLO_TRIES):
            if attached or refused:
                return
            try:
                runner.send_message(HELLO, hello)
            except (RPCError, RPCSendError) as exc:
                log.error("could not say hello to the master: %s", exc)
            gevent.sleep(HELLO_EVERY_S)
        refuse(f"no run came from the master within {HELLO_TRIES * HELLO_EVERY_S:g} s")

    refused: list[str] = []
    runner.register_message(CONFIG, on_config)
    runner.register_message(FINISH, on_finish, concurrent=True)
    runner.register_message(REFUSED, lambda msg, **_: refuse(str((msg.data or {}).get("reason"))))
    gevent.spawn(say_hello)
