"""The canary: one process per service, sending a fixed timetable of cheap requests for the
whole load, so a fault no load user happened to meet still shows.

``gosstand peak`` starts one per service the run reaches (:mod:`.canaries`); each writes one
:class:`~gosstand.stand.records.CanarySample` per request to ``canary-<service>.jsonl``.

Why a process of its own. Locust's users are greenlets on one event loop that the load itself
keeps busy: a canary there would slow down with the generator and measure it. Here request
``k`` is due at ``t0 + k/rate`` on an absolute timetable and runs on a thread of its own, from a
pool sized for every request that can be in flight (``rate × (timeout + slack)``), so a hang
holds one thread and never the timetable. A sample's ``started`` is the time it was due: when
the canary itself falls behind, the delay counts in its latency instead of thinning its rate
(the count of late starts is in its summary).

What it asks. The stand's own services: ``GET /_gosstand/health`` — every replica serves it, it
costs a router match and a store ping, it touches no data a journey reads or writes, and the
request journal does not record it. Fault *rules* (latency, 503s, quotas, drops) are set on the
API paths only and never on the reserved ``/_gosstand`` paths, so the canary sees what happens
to a replica — killed, stopped, paused, cut off — and the load's records see the rules. A system
of the user's (``--target``): ``HEAD`` of its base URL — the one request every HTTP server
answers without credentials or data of the user's, and without a body. Whatever status it gives
a caller without a token (401, 404, 405…) shows that it answers; a 5xx or no answer is a failure.

Connections. Even-numbered requests open a connection of their own and close it (a new client,
spread over the replicas by the kernel or the balancer); odd-numbered ones take one of
:data:`KEPT_ALIVE` kept-alive connections. With the kernel spreading connections over two
replicas, eight of them leave a replica without one only once in 2⁷ pools, so a replica's death
almost always shows on the kept-alive half too. A kept-alive connection is used without first
checking whether the server closed it (a request sent on it the moment a replica dies is what a
pooled client meets): the first request after a replica dies gets a reset. After any failure the
connection is dropped and the next request on its place opens a new one (and says so: ``new``).
A request that finds every kept-alive connection busy (all hanging) waits for one within its
timeout, as a pooled client does, and otherwise times out.

Timeouts. ``timeout`` is the whole request — connect, send, the answer and its body — counted
from when it was really sent, so a canary held up by its own machine does not report an outage
of the service. A watchdog shuts down the socket of a request past its deadline, and an answer
that completes after it is a ``timeout`` all the same. Failures are classed by
:func:`.outcomes.classify`.

Bounded. The canary stops at ``--until`` (the parent sets the run's own bound plus a margin), on
SIGTERM, and as soon as its parent process is gone; ``rate × timeout`` is capped at
:data:`MAX_IN_FLIGHT`. It sends only to the URL it is given — the run's own services, which are
loopback addresses for the stand and the user's system for ``--target``.

Cost. Measured with ``python benchmarks/canary_cost.py`` (one embedded ESIA replica, 200
requests/s for 15–20 s, on a 2-core machine busy with other work, load average 10–17): the
canary process spent 0.57–0.82 ms of CPU per request — 11–15 % of one core at 200/s, 1.7 times
what a bare ``http.client`` loop sending the same requests spent in the same run (the timetable,
threads, watchdog and records) — and the replica 0.47–0.69 ms per request, 9–14 % of a core.
Its share of the load: at the default rate each service gets 200 requests/s from its canary,
more requests than the default peak hour's users send (100–140/s in all) though far cheaper ones
(an ESIA login flow costs the server 3.5–10 ms); on such a small load the canaries cost the
servers about as much as the users do, on a load at real scale a few per cent. ``--canary-rate``
lowers it (each sample then stands for a longer time), 0 turns the canaries off; every run's
``run.json`` holds each canary's own CPU seconds.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import queue
import resource
import signal
import socket
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO
from urllib.parse import urlsplit

from ..mocks.core.middleware import REPLICA_HEADER, RESERVED_PREFIX
from ..stand.records import CanarySample, Connection, FailureClass
from .outcomes import classify

__all__ = ["DEFAULT_RATE", "DEFAULT_TIMEOUT_S", "KEPT_ALIVE", "MAX_IN_FLIGHT", "Canary", "Probe", "main",
           "probe_for"]

DEFAULT_RATE = 200.0
DEFAULT_TIMEOUT_S = 0.5
#: Kept-alive connections the reused half rotates over (see the module's docstring).
KEPT_ALIVE = 8
#: ``rate × timeout``: the most requests a total hang can hold in flight at once.
MAX_IN_FLIGHT = 1000
#: How often the dispatcher looks after deadlines, the records file and its parent at least.
TICK_S = 0.02
#: How long past its deadline a request may run before the watchdog has shut it down.
WATCHDOG_SLACK_S = 0.1
#: A request starting this much after it was due is counted late in the summary.
LATE_S = 0.01
#: The first second of requests: if none of them succeeds, the canary never reached its service.
FIRST_SECOND_S = 1.0
_BODY_CHUNK = 64 * 1024


@dataclass(frozen=True, kw_only=True)
class Probe:
    """What a service's canary asks, and which answers count as alive."""

    service: str
    url: str
    method: Literal["GET", "HEAD"]
    #: A system of the user's: any status below 500 shows it answers (it owes a caller without
    #: a token no 200); the stand's services must answer their health check with a 2xx.
    any_answer: bool = False

    def judge(self, status: int, error: BaseException | None) -> FailureClass | None:
        """``None`` for an answer that shows the service alive, else why not."""
        if self.any_answer and error is None and 0 < status < 500:
            return None
        return classify(status, error)


def probe_for(service: str, base_url: str, *, external: bool) -> Probe:
    """The stand's services: their health check; a system of the user's: ``HEAD`` of its base
    URL (see the module's docstring for why each)."""
    base = base_url.rstrip("/")
    if external:
        return Probe(service=service, url=base + "/", method="HEAD", any_answer=True)
    return Probe(service=service, url=f"{base}{RESERVED_PREFIX}/health", method="GET")


class _Endpoint:
    """Where a probe's connections go, and the request line and headers it sends."""

    def __init__(self, probe: Probe) -> None:
        parts = urlsplit(probe.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{probe.url!r}: expected an http(s) URL")
        self.https = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.https else 80)
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.method = probe.method
        self.headers = {"User-Agent": "gosstand-canary", "Accept": "*/*"}

    def open(self, timeout: float) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        connection = cls(self.host, self.port, timeout=max(timeout, 0.001))
        connection.connect()
        return connection


@dataclass
class _Slot:
    """One place in the kept-alive pool: an open connection, or none until the next use."""

    connection: http.client.HTTPConnection | None = None


@dataclass(frozen=True)
class _Ended:
    """A request that ended, on its way from its thread to the records file."""

    k: int
    sample: CanarySample
    #: Why it failed, in words, for the first-second verdict.
    detail: str | None
    #: Seconds it started after it was due.
    lateness: float


@dataclass
class _Tally:
    """What the summary and the first-second verdict count."""

    sent: int = 0
    ok: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    connections: Counter[str] = field(default_factory=Counter)
    late: int = 0
    max_late_s: float = 0.0
    first_sent: int = 0
    first_ok: int = 0
    first_failures: Counter[str] = field(default_factory=Counter)
    first_error: str | None = None

    def add(self, ended: _Ended, *, first_second: bool) -> None:
        sample = ended.sample
        self.sent += 1
        self.ok += sample.ok
        self.connections[sample.connection or "new"] += 1
        if sample.failure:
            self.failures[sample.failure] += 1
        if ended.lateness > LATE_S:
            self.late += 1
            self.max_late_s = max(self.max_late_s, ended.lateness)
        if first_second:
            self.first_sent += 1
            self.first_ok += sample.ok
            if sample.failure:
                self.first_failures[sample.failure] += 1
                self.first_error = self.first_error or ended.detail


class Canary:
    """One service's canary, run in the calling thread by :meth:`run`.

    ``output`` receives the samples (JSON lines); ``report``, if given, two JSON lines for the
    process that started it: ``{"first_second": …}`` once the first second's requests have all
    ended, and ``{"summary": …}`` at the end."""

    def __init__(self, probe: Probe, output: TextIO, *, rate: float = DEFAULT_RATE,
                 timeout: float = DEFAULT_TIMEOUT_S, until: float, parent: int | None = None,
                 report: TextIO | None = None) -> None:
        if not 0 < rate <= MAX_IN_FLIGHT * 10:
            raise ValueError(f"the canary's rate must be above 0 and at most {MAX_IN_FLIGHT * 10} requests/s")
        if not 0 < timeout <= 10:
            raise ValueError("the canary's timeout must be above 0 and at most 10 s")
        if rate * timeout > MAX_IN_FLIGHT:
            raise ValueError(f"rate × timeout is {rate * timeout:g}: at most {MAX_IN_FLIGHT} requests may hang at once")
        self.probe, self.output, self.report = probe, output, report
        self.rate, self.timeout, self.until, self.parent = rate, timeout, until, parent
        self.endpoint = _Endpoint(probe)
        # A plain flag, not a threading.Event: stop() runs in a signal handler on the main thread,
        # and Event.set() there takes the Event's (non-reentrant) lock, which the main thread may be
        # holding inside Event.wait() at that very moment — a deadlock that hung a canary on SIGTERM.
        self._stop_asked = False
        self.tally = _Tally()
        self.first_slots = max(1, math.ceil(rate * FIRST_SECOND_S))
        self._pool: queue.Queue[_Slot] = queue.Queue()
        self._ended: queue.SimpleQueue[_Ended] = queue.SimpleQueue()
        self._watched: dict[int, tuple[float, http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._in_flight = 0
        self._first_reported = False

    def stop(self) -> None:
        """Send nothing more; :meth:`run` returns once the requests in flight have ended."""
        self._stop_asked = True

    def run(self) -> dict[str, Any]:
        """Send on the timetable until stopped, the deadline, or the parent's end; return the
        summary (``stuck``: requests still running after the drain, which should never be)."""
        threading.stack_size(256 * 1024)  # up to rate × timeout threads, each a few frames deep
        workers = math.ceil(self.rate * (self.timeout + WATCHDOG_SLACK_S) * 1.2) + KEPT_ALIVE
        cpu_before = _cpu_seconds()
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="canary")
        for slot in pool.map(self._preopen, range(KEPT_ALIVE)):
            self._pool.put(slot)
        t0 = time.time()
        k = 0
        while not self._should_end():
            now = time.time()
            due = t0 + k / self.rate
            while due <= now:  # on time, or catching up after the process was held up
                with self._lock:
                    self._in_flight += 1
                pool.submit(self._send, k, due)
                k += 1
                due = t0 + k / self.rate
            self._housekeep()
            time.sleep(min(max(due - time.time(), 0.0), TICK_S))
        drain_until = time.time() + self.timeout + 1.0
        while self._in_flight and time.time() < drain_until:
            self._housekeep()
            time.sleep(TICK_S)
        stuck = self._in_flight
        pool.shutdown(wait=not stuck, cancel_futures=True)
        self._housekeep(final=True)
        while not self._pool.empty():
            slot = self._pool.get_nowait()
            if slot.connection is not None:
                slot.connection.close()
        tally = self.tally
        summary = {
            "service": self.probe.service, "url": self.probe.url, "method": self.probe.method,
            "rate": self.rate, "timeout_s": self.timeout, "kept_alive": KEPT_ALIVE,
            "started": t0, "ended": time.time(), "sent": tally.sent, "ok": tally.ok,
            "failures": dict(tally.failures), "connections": dict(tally.connections),
            "late": tally.late, "max_late_s": round(tally.max_late_s, 4),
            "cpu_s": round(_cpu_seconds() - cpu_before, 3), "stuck": stuck,
        }
        self._say({"summary": summary})
        return summary

    def _should_end(self) -> bool:
        if self._stop_asked or time.time() >= self.until:
            return True
        # The run that started it is gone (it was re-parented): nobody would stop it.
        return self.parent is not None and os.getppid() != self.parent

    def _preopen(self, _: int) -> _Slot:
        try:
            return _Slot(self.endpoint.open(self.timeout))
        except OSError:
            return _Slot()  # the first request on this place opens it, and says so

    def _send(self, k: int, due: float) -> None:
        sent_at = time.time()
        lateness = sent_at - due
        # From when it is really sent: a canary held up by its own machine is not an outage of
        # the service (the delay still counts in the sample's latency, and in the summary).
        deadline = max(sent_at, due) + self.timeout
        kept_alive = k % 2 == 1
        slot: _Slot | None = None
        connection: http.client.HTTPConnection | None = None
        kind: Connection = "reused" if kept_alive else "new"
        status, error, replica, reusable, watched = 0, None, None, False, False
        try:
            if kept_alive:
                try:
                    slot = self._pool.get(timeout=max(0.0, deadline - time.time()))
                except queue.Empty:
                    raise TimeoutError("every kept-alive connection was busy until the timeout") from None
                connection = slot.connection
            if connection is None:
                kind = "new"
                connection = self.endpoint.open(deadline - time.time())
                if slot is not None:
                    slot.connection = connection
            self._watch(k, deadline, connection)
            watched = True
            assert connection.sock is not None
            connection.sock.settimeout(max(deadline - time.time(), 0.001))
            connection.request(self.endpoint.method, self.endpoint.path, headers=self.endpoint.headers)
            response = connection.getresponse()
            status, replica = response.status, response.getheader(REPLICA_HEADER)
            while response.read(_BODY_CHUNK):
                pass
            reusable = not response.will_close
        except (OSError, http.client.HTTPException, ValueError) as exc:
            error = exc
        ended = time.time()
        cut = watched and not self._unwatch(k)
        if cut or ended > deadline:
            error = TimeoutError(f"no complete answer within {self.timeout:g} s")
        if connection is not None and not (kept_alive and reusable and error is None):
            connection.close()
            if slot is not None:
                slot.connection = None
        if slot is not None:
            self._pool.put(slot)
        failure = self.probe.judge(status, error)
        sample = CanarySample(service=self.probe.service, started=due, ended=ended, ok=failure is None,
                              status=status, failure=failure, connection=kind, replica=replica)
        detail = None if failure is None else \
            f"{type(error).__name__}: {error}" if error is not None else f"{self.probe.method} answered {status}"
        self._ended.put(_Ended(k, sample, detail, lateness))
        with self._lock:
            self._in_flight -= 1

    def _watch(self, k: int, deadline: float, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            self._watched[k] = (deadline, connection)

    def _unwatch(self, k: int) -> bool:
        """Whether the request was still its own: ``False`` if the watchdog cut it off."""
        with self._lock:
            return self._watched.pop(k, None) is not None

    def _housekeep(self, *, final: bool = False) -> None:
        self._cut_overdue()
        self._write_ended()
        tally = self.tally
        if not self._first_reported and (final or tally.first_sent >= self.first_slots):
            self._first_reported = True
            self._say({"first_second": {"request": f"{self.probe.method} {self.probe.url}", "sent": tally.first_sent,
                                        "ok": tally.first_ok, "failures": dict(tally.first_failures),
                                        "error": tally.first_error}})

    def _cut_overdue(self) -> None:
        """The watchdog: shut down the socket of every request past its deadline."""
        now = time.time()
        with self._lock:
            overdue = [k for k, (deadline, _) in self._watched.items() if now > deadline]
            cut = [self._watched.pop(k)[1] for k in overdue]
        for connection in cut:
            sock = connection.sock
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _write_ended(self) -> None:
        wrote = False
        while True:
            try:
                ended = self._ended.get_nowait()
            except queue.Empty:
                break
            self.output.write(json.dumps(ended.sample.to_json(), separators=(",", ":")) + "\n")
            self.tally.add(ended, first_second=ended.k < self.first_slots)
            wrote = True
        if wrote:
            self.output.flush()

    def _say(self, message: dict[str, Any]) -> None:
        if self.report is None:
            return
        try:
            self.report.write(json.dumps(message) + "\n")
            self.report.flush()
        except (BrokenPipeError, ValueError):
            pass  # the parent stopped listening; the records file is what counts


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gosstand.loadtests.canary", description=__doc__.split("\n")[0])
    parser.add_argument("--service", required=True)
    parser.add_argument("--url", required=True, help="the service's base URL")
    parser.add_argument("--external", action="store_true", help="a system of the user's: HEAD of its base URL")
    parser.add_argument("--output", required=True, help="the records file (canary-<service>.jsonl)")
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE)
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S)
    parser.add_argument("--until", type=float, required=True, help="stop by then (seconds since the epoch)")
    parser.add_argument("--parent", type=int, default=None,
                        help="stop when this process is no longer the parent (default: the parent at start)")
    args = parser.parse_args(argv)
    parent = args.parent if args.parent is not None else os.getppid()
    probe = probe_for(args.service, args.url, external=args.external)
    with Path(args.output).open("a", encoding="utf-8") as output:
        try:
            canary = Canary(probe, output, rate=args.rate, timeout=args.timeout, until=args.until, parent=parent,
                            report=sys.stdout)
        except ValueError as exc:
            print(f"canary: {exc}", file=sys.stderr)
            return 2
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: canary.stop())
        summary = canary.run()
    if summary["stuck"]:  # a request the watchdog could not end: do not wait for its thread
        sys.stdout.flush()
        os._exit(1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
