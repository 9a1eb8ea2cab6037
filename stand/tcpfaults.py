"""The TCP fault layer: a byte-forwarding proxy in front of replicas that can fail the path to one.

An ASGI app can answer late, answer with an error or drop its answer, but it cannot make the
failures a client meets below HTTP. This layer can, per replica and for a time:

``blackhole``
    Connections are accepted and their request bytes read, and nothing ever answers — what a
    stopped process or a dead network path behind a balancer looks like. New connections routed
    to the replica are held without reaching it; open ones stop moving both ways (what the
    replica already wrote stays in its socket). A held connection ends when its client gives up;
    when the fault ends the held bytes go on to the replica, which answers late, as a resumed
    process does. The client sees a timeout.
``reset``
    The connection is accepted, the request's bytes are read, and the answer is a TCP RST
    (``SO_LINGER`` 0, then close) before any byte of a response: the request never reaches the
    replica. Open connections are reset at their next request; an answer already on its way is
    let through. The client sees "connection reset by peer" on a request it had sent.
``reset_answer``
    The request goes through to the replica, which takes it and answers; the layer then resets
    the client's connection (TCP RST) instead of passing on the first byte of that answer. What
    a replica that crashed between applying a write and answering, or a path that broke at that
    moment, looks like: the client cannot tell whether its request was applied — and it was. A
    retry that is not idempotent is a duplicate; the reconciliation counts them. Open
    connections are reset at their next answer.
``partition``
    The replica is cut off, loudly: every open connection to it is cut with a reset, and new ones
    are refused. Through a balancer that is how a partition looks to a client — the requests in
    flight on the cut connections fail, and the balancer sends the next connections to the other
    replicas (the embedded balancer steers them away; behind HAProxy the replica's port stops
    listening, so HAProxy's connects and health checks are refused, as a firewall's REJECT rule
    makes them, and HAProxy redispatches). A *silent* partition, where packets are dropped and
    nothing answers, is the ``blackhole``.

One layer process serves a whole stack. Each *front* is one listening address balancing its
connections round robin over its *upstreams* (replicas): on the embedded backend one front per
service takes the service's port (the replicas listen on private ports), on the container
backend one front per replica sits between HAProxy and the replica's container, so HAProxy's
own health checks meet the fault as they would meet a real one. (HAProxy cannot make these
faults itself: ``silent-drop`` and ``reject`` act on the client's side of the balancer, and
setting a server to maintenance through its runtime API only stops the balancer sending traffic
there — its checks never see a failure.) A front that reaches no upstream — every replica
refused the connection, or is partitioned — stops listening, so clients are refused as they
would be by a service with no process on its port, and it listens again as soon as one
upstream accepts. A front with one replica behind it also keeps an idle connection to it and
stops listening the moment that closes and a new one is refused, so a killed container is
refused to HAProxy at once, as it is without the layer (HAProxy then redispatches even a POST).

Faults are switched through a Unix socket (:mod:`.tcpfaults_control`, which also starts the
layer as a process of its own, :class:`~.tcpfaults_control.LayerProcess`), and end after their
``ttl`` by themselves too, so a run that dies leaves no fault behind. The layer exits when the
process that started it is gone.

Why it runs only when asked: ``benchmarks/tcp_faults.py`` sends the cheapest request to one
replica directly and through the layer, in alternating rounds of one run. Through the layer,
keep-alive requests/s were 0.73–1.09 of direct (the replica stays the bottleneck), but a new
connection per request only 0.33–0.44, with +46–240 µs at the median one request at a time.
The layer spent 42–67 µs of CPU per keep-alive request (a quarter of the replica's) and about
580 µs per new connection (1.7 times the replica's), most of it the kernel's work for the
second TCP connection (loopback ``send`` and ``connect`` lead a profile of it), on a 2-core
machine it shares with the replicas and the load. A load run opens a connection per journey,
so the layer would take a third to half of every run's connection rate and CPU the replicas
need, for the sake of the few runs that fail a path: a stack runs it only with
``gosstand up --tcp-faults``, and ``gosstand peak`` starts its stack with it only when the
schedule has a ``blackhole``, ``reset`` or ``partition`` action.

Run: ``python -m gosstand.stand.tcpfaults CONFIG.json`` (see :class:`~.tcpfaults_control.LayerConfig`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import struct
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from .tcpfaults_control import FAULTS, MESSAGE_LIMIT, FaultKind, FrontConfig, LayerConfig, UpstreamConfig

__all__ = ["HOLD_LIMIT", "FaultLayer", "main"]

#: Bytes of a held connection's request kept while a blackhole lasts; past that the layer stops
#: reading it and TCP's flow control makes the client's writes wait, as a stopped process would.
HOLD_LIMIT = 256 * 1024
#: How long a connect to a replica may take before the next replica is tried (HAProxy's
#: ``timeout connect`` in this project's configuration).
CONNECT_TIMEOUT = 2.0
#: How often a front that reaches no replica looks for one that accepts again.
PROBE_INTERVAL = 0.05
#: How often faults past their ttl are ended and the parent process is looked for.
TICK = 0.1
_RST = struct.pack("ii", 1, 0)


@dataclass
class Fault:
    kind: FaultKind
    started: float
    until: float | None
    counts: Counter[str] = field(default_factory=Counter)

    def to_json(self, replica: str, now: float) -> dict[str, Any]:
        return {"replica": replica, "kind": self.kind, "held_for": round(now - self.started, 3),
                "ttl_left": None if self.until is None else round(self.until - now, 3),
                "counts": dict(self.counts)}


class Upstream:
    """One replica behind the layer, the fault on the path to it, and the connections to it."""

    def __init__(self, config: UpstreamConfig) -> None:
        self.name, self.host, self.port = config.name, config.host, config.port
        self.fault: Fault | None = None
        self.links: set[Link] = set()
        self.connections = 0


def reset(transport: asyncio.Transport) -> None:
    """Close with a TCP RST instead of a FIN: ``SO_LINGER`` on, timeout 0, then close."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RST)
    transport.abort()


class _Side(asyncio.Protocol):
    """One socket of a link; everything it hears goes to the link."""

    def __init__(self, link: Link, role: str) -> None:
        self.link, self.role = link, role

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # asyncio types the argument BaseTransport for every kind of protocol; a stream's is a Transport
        self.link.made(self.role, cast(asyncio.Transport, transport))

    def data_received(self, data: bytes) -> None:
        self.link.received(self.role, data)

    def eof_received(self) -> bool:
        return self.link.eof(self.role)

    def connection_lost(self, exc: Exception | None) -> None:
        self.link.lost(self.role, exc)

    def pause_writing(self) -> None:  # this side's send buffer is full: stop reading the other
        self.link.pause(_other(self.role), "flow")

    def resume_writing(self) -> None:
        self.link.resume(_other(self.role), "flow")


def _other(role: str) -> str:
    return "upstream" if role == "client" else "client"


class Link:
    """One client connection through a front and, once routed and allowed, its connection to a
    replica. ``mode`` is ``pass`` (bytes flow), ``held`` (a blackhole) or ``reset``."""

    def __init__(self, front: Front) -> None:
        self.front = front
        self.up: Upstream | None = None
        self.transports: dict[str, asyncio.Transport] = {}
        self.mode = "pass"
        self.held = bytearray()  # the client's bytes a blackhole holds
        self.withheld = bytearray()  # the replica's bytes read before its reading stopped
        self.counted = False  # counted once per fault it meets
        self.pauses: dict[str, set[str]] = {"client": set(), "upstream": set()}
        self.closed = False
        self.connecting = False
        #: The replica closed its side while a blackhole held the link: told to the client at the end.
        self.upstream_gone = False
        self.upstream_exc: Exception | None = None

    # -- the sockets' events ---------------------------------------------------------------
    def made(self, role: str, transport: asyncio.Transport) -> None:
        self.transports[role] = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.pauses[role]:  # a blackhole began while this side was being connected
            transport.pause_reading()
        if role == "client":
            self.pause("client", "route")
            self.front.route(self)

    def received(self, role: str, data: bytes) -> None:
        if self.closed:
            return
        if role == "upstream":
            if self.mode == "held":
                self.withheld += data
            elif self.mode == "reset_answer":
                self.reset_now()
            elif "client" in self.transports:
                self.transports["client"].write(data)
            return
        if self.mode == "held":
            self.hold(data)
        elif self.mode == "reset":
            self.reset_now()
        elif "upstream" in self.transports:
            self.transports["upstream"].write(data)

    def eof(self, role: str) -> bool:
        """Either side's FIN ends the link: both sockets close once what was written is sent. An
        HTTP client's FIN means it closed (it never half-closes to read on), and a replica's means
        its answer ended; a link kept open for the other side's FIN stayed in CLOSE-WAIT when a
        stalled replica never sent one, until the replicas ran out of connections."""
        self.close()
        return False

    def lost(self, role: str, exc: Exception | None) -> None:
        self.transports.pop(role, None)
        if self.closed:
            return
        if role == "upstream" and self.mode == "held":
            self.upstream_gone, self.upstream_exc = True, exc  # told to the client when the hold ends
            return
        other = self.transports.get(_other(role))
        if other is not None:
            if exc is not None:
                reset(other)  # a reset travels on as a reset
            else:
                other.close()  # a close as a close, after what was written is sent
        self.close()

    # -- flow control: a side's reading is paused while any reason holds --------------------
    def pause(self, role: str, reason: str) -> None:
        reasons = self.pauses[role]
        if not reasons and role in self.transports:
            self.transports[role].pause_reading()
        reasons.add(reason)

    def resume(self, role: str, reason: str) -> None:
        reasons = self.pauses[role]
        reasons.discard(reason)
        if not reasons and role in self.transports and not self.closed:
            self.transports[role].resume_reading()

    # -- faults ------------------------------------------------------------------------------
    def count(self, what: str) -> None:
        if self.up is not None and self.up.fault is not None and not self.counted:
            self.up.fault.counts[what] += 1
            self.counted = True

    def hold(self, data: bytes) -> None:
        self.count("held")
        self.held += data
        if len(self.held) > HOLD_LIMIT:
            self.pause("client", "hold")

    def reset_now(self) -> None:
        """Reset the client's connection (and drop the replica's, and what it wrote)."""
        self.count("reset")
        client = self.transports.get("client")
        if client is not None:
            reset(client)
        upstream = self.transports.get("upstream")
        if upstream is not None and self.mode == "reset_answer":
            upstream.abort()  # its answer is not to reach the client, nor wait in a buffer
        self.close()

    def blackhole(self) -> None:
        """Stop both ways: the client's bytes are held, the replica's are left unread."""
        self.mode, self.counted = "held", False
        self.pause("upstream", "hold")

    def start_reset(self, kind: FaultKind = "reset") -> None:
        """``reset``: reset at the client's next request bytes; ``reset_answer``: let requests
        through and reset at the replica's next answer bytes."""
        self.mode, self.counted = kind, False

    def cut(self) -> None:
        self.count("cut")
        for transport in list(self.transports.values()):
            reset(transport)
        self.close()

    def heal(self) -> None:
        """The fault ended: let bytes flow again, handing on what was held both ways."""
        self.mode, self.counted = "pass", False
        if self.connecting:  # the connect under way releases the link when it completes
            return
        if "upstream" not in self.transports and not self.upstream_gone:
            self.front.connect_later(self)  # routed during the fault: reach the replica now
            return
        self.release()

    def release(self) -> None:
        """Bytes flow: what was held goes on, reading resumes on both sides."""
        if self.upstream_gone:
            self.upstream_gone = False
            self.lost("upstream", self.upstream_exc)
            return
        client, upstream = self.transports.get("client"), self.transports.get("upstream")
        if self.withheld and client is not None:
            client.write(bytes(self.withheld))
        if self.held and upstream is not None:
            upstream.write(bytes(self.held))
        self.withheld.clear()
        self.held.clear()
        self.resume("upstream", "hold")
        self.resume("client", "hold")
        self.resume("client", "route")

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for transport in list(self.transports.values()):
            transport.close()
        if self.up is not None:
            self.up.links.discard(self)
        self.front.links.discard(self)


class Front:
    """One listening address, balancing connections round robin over its upstreams."""

    def __init__(self, layer: FaultLayer, config: FrontConfig, upstreams: Sequence[Upstream]) -> None:
        self.layer, self.config = layer, config
        self.upstreams = list(upstreams)
        self.links: set[Link] = set()
        self.server: asyncio.Server | None = None
        self.next = 0
        #: Listening stopped because no upstream may take a connection; it listens again when one can.
        self.shut = False
        self.reopening: asyncio.Task[None] | None = None

    async def listen(self) -> None:
        if self.server is not None:
            return
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: _Side(Link(self), "client"), self.config.host,
                                               self.config.port, reuse_address=True, backlog=2048)
        self.shut = False

    def stop_listening(self, *, shut: bool = True) -> None:
        self.shut = shut
        if self.server is not None:
            self.server.close()
            self.server = None

    def reopen_later(self) -> None:
        """Listen again once an upstream takes connections (if it was shut and nobody looks yet)."""
        if self.shut and (self.reopening is None or self.reopening.done()):
            self.reopening = self.layer.spawn(self._reopen())

    def route(self, link: Link) -> None:
        self.links.add(link)
        self.layer.spawn(self._route(link))

    async def _route(self, link: Link) -> None:
        """Pick the next upstream that may take the connection; one that refuses (no process
        listens there) is passed over, as the kernel passes over a port nobody listens on."""
        count = len(self.upstreams)
        start, self.next = self.next, (self.next + 1) % count
        refused = 0
        for offset in range(count):
            up = self.upstreams[(start + offset) % count]
            if up.fault is not None and up.fault.kind == "partition":
                up.fault.counts["refused"] += 1
                refused += 1
                continue
            if link.closed:
                return
            self.attach(link, up)
            if up.fault is not None and up.fault.kind != "reset_answer":  # the replica is not reached
                link.blackhole() if up.fault.kind == "blackhole" else link.start_reset()
                link.resume("client", "route")
                return
            if up.fault is not None:  # reset_answer: the request reaches the replica, its answer does not
                link.start_reset("reset_answer")
            if await self.connect(link, up):
                return
            up.links.discard(link)
            link.up = None
            refused += 1
        client = link.transports.get("client")
        if client is not None:
            reset(client)
        link.close()
        self.no_upstream()

    def attach(self, link: Link, up: Upstream) -> None:
        link.up = up
        up.links.add(link)
        up.connections += 1

    async def connect(self, link: Link, up: Upstream) -> bool:
        loop = asyncio.get_running_loop()
        link.connecting = True
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                await loop.create_connection(lambda: _Side(link, "upstream"), up.host, up.port)
        except (TimeoutError, OSError):
            return False
        finally:
            link.connecting = False
        if link.closed:  # the client left (or was cut) while we connected
            upstream = link.transports.pop("upstream", None)
            if upstream is not None:
                upstream.close()
            return True
        if link.mode in ("pass", "reset_answer"):  # the request's bytes go on to the replica
            link.release()
        else:  # a fault began meanwhile: read the client's bytes, to hold them or to reset on them
            link.resume("client", "route")
        return True

    def connect_later(self, link: Link) -> None:
        async def reach() -> None:
            assert link.up is not None
            if not await self.connect(link, link.up):
                client = link.transports.get("client")
                if client is not None:
                    reset(client)
                link.close()

        self.layer.spawn(reach())

    # -- a front no upstream can take --------------------------------------------------------
    def no_upstream(self) -> None:
        """Every upstream refused or is partitioned: stop listening until one takes connections."""
        self.stop_listening()
        self.reopen_later()

    async def _reopen(self) -> None:
        while not self.layer.stopping:
            await asyncio.sleep(PROBE_INTERVAL)
            for up in self.upstreams:
                if (up.fault is None or up.fault.kind != "partition") and await self._accepts(up):
                    with contextlib.suppress(OSError):
                        await self.listen()
                        return

    async def watch(self) -> None:
        """A front with one replica behind it (a lane behind HAProxy) keeps an idle connection to
        it. The moment the replica's process dies the kernel closes that connection, and the front
        stops listening at once: the balancer's next connect is refused, as it would be with no
        layer in between, instead of being accepted and then reset (which HAProxy would not retry
        for a POST). A stopped (paused) replica keeps it open, as its kernel keeps accepting."""
        (up,) = self.upstreams
        loop = asyncio.get_running_loop()
        while not self.layer.stopping:
            opened = loop.time()
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(up.host, up.port), CONNECT_TIMEOUT)
            except ConnectionRefusedError:
                self.stop_listening()
                self.reopen_later()
            except (TimeoutError, OSError):
                pass
            else:
                with contextlib.suppress(OSError):
                    while await reader.read(65536):  # until the replica closes it, or dies
                        pass
                writer.close()
            if loop.time() - opened < PROBE_INTERVAL:  # a replica that closes idle connections at once
                await asyncio.sleep(PROBE_INTERVAL)

    @staticmethod
    async def _accepts(up: Upstream) -> bool:
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(up.host, up.port), CONNECT_TIMEOUT)
        except (TimeoutError, OSError):
            return False
        writer.close()
        return True

    def partitioned(self) -> bool:
        return all(up.fault is not None and up.fault.kind == "partition" for up in self.upstreams)

    async def verify_refused(self, up: Upstream) -> None:
        """Connect to this front's own port once: the kernel must refuse it (the listener is shut)."""
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(self.config.host, self.config.port),
                                               CONNECT_TIMEOUT)
        except ConnectionRefusedError:
            if up.fault is not None:
                up.fault.counts["probes_refused"] += 1
            return
        except (TimeoutError, OSError):
            return
        writer.close()


class FaultLayer:
    """The layer: its fronts, its upstreams by replica name, and its control socket."""

    def __init__(self, config: LayerConfig, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.config, self.clock = config, clock
        self.upstreams: dict[str, Upstream] = {}
        self.fronts: list[Front] = []
        for front in config.fronts:
            members = [self.upstreams.setdefault(u.name, Upstream(u)) for u in front.upstreams]
            self.fronts.append(Front(self, front, members))
        self.tasks: set[asyncio.Task[Any]] = set()
        self.stopping = False
        self.control: asyncio.Server | None = None

    def spawn(self, coroutine: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def start(self) -> None:
        for front in self.fronts:
            await front.listen()
            if len(front.upstreams) == 1:
                self.spawn(front.watch())
        control = Path(self.config.control)
        control.unlink(missing_ok=True)
        self.control = await asyncio.start_unix_server(self._serve_control, str(control), limit=MESSAGE_LIMIT)
        os.chmod(control, 0o600)

    async def run(self) -> None:
        """Serve until stopped or until the parent process is gone, ending faults past their ttl."""
        await self.start()
        parent = self.config.parent_pid
        while not self.stopping:
            await asyncio.sleep(TICK)
            self.expire()
            if parent is not None and os.getppid() != parent:
                break
        await self.stop()

    async def stop(self) -> None:
        self.stopping = True
        for front in self.fronts:
            front.stop_listening(shut=False)
            for link in list(front.links):
                link.close()
        if self.control is not None:
            self.control.close()
            Path(self.config.control).unlink(missing_ok=True)
        for task in list(self.tasks):
            task.cancel()

    # -- faults ------------------------------------------------------------------------------
    def inject(self, replica: object, kind: object, ttl: float | None) -> tuple[Fault, list[Front]]:
        """Put the fault in force on every connection to ``replica``; the fronts it shut (a
        partition of their every upstream), whose refusal the caller verifies. The arguments come
        from the control socket's JSON as they are: each is checked here."""
        up = self._upstream(replica)
        if kind not in FAULTS:
            raise ValueError(f"{kind!r} is not a fault; known: {', '.join(FAULTS)}")
        if ttl is not None and not (isinstance(ttl, int | float) and ttl > 0):
            raise ValueError(f"ttl {ttl!r}: expected seconds > 0")
        if up.fault is not None:
            raise ValueError(f"{replica} already has a {up.fault.kind} in force; heal it first")
        now = self.clock()
        up.fault = Fault(kind=kind, started=now, until=None if ttl is None else now + ttl)
        for link in list(up.links):
            if kind == "blackhole":
                link.blackhole()
            elif kind in ("reset", "reset_answer"):
                link.start_reset(kind)
            else:
                link.cut()
        shut = []
        if kind == "partition":
            for front in self.fronts:
                if up in front.upstreams and front.partitioned():
                    front.stop_listening()
                    shut.append(front)
        return up.fault, shut

    def heal(self, replica: object) -> tuple[Fault, float]:
        up = self._upstream(replica)
        fault = up.fault
        if fault is None:
            raise ValueError(f"no fault in force on {replica} (did its ttl run out?)")
        up.fault = None
        for link in list(up.links):
            link.heal()
        for front in self.fronts:
            if up in front.upstreams:
                front.reopen_later()
        return fault, self.clock()

    def expire(self) -> list[str]:
        """End the faults whose ttl ran out; their replicas' names."""
        now = self.clock()
        ended = [name for name, up in self.upstreams.items()
                 if up.fault is not None and up.fault.until is not None and up.fault.until <= now]
        for name in ended:
            self.heal(name)
        return ended

    def status(self) -> dict[str, Any]:
        now = self.clock()
        return {name: {"fault": None if up.fault is None else up.fault.to_json(name, now),
                       "open": len(up.links), "connections": up.connections}
                for name, up in self.upstreams.items()}

    def _upstream(self, replica: object) -> Upstream:
        if replica not in self.upstreams:
            raise ValueError(f"no replica {replica!r} behind this layer; it has {', '.join(sorted(self.upstreams))}")
        return self.upstreams[replica]

    # -- the control socket ------------------------------------------------------------------
    async def _serve_control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), 5.0)
            answer = await self.answer(line)
        except (TimeoutError, ValueError, asyncio.LimitOverrunError) as exc:
            answer = {"ok": False, "error": f"unreadable request: {exc}"}
        writer.write(json.dumps(answer).encode() + b"\n")
        with contextlib.suppress(OSError):
            await writer.drain()
        writer.close()

    async def answer(self, line: bytes) -> dict[str, Any]:
        try:
            request = json.loads(line)
            if not isinstance(request, dict):
                raise ValueError("expected a JSON object")
            op = request.get("op")
            if op == "status":
                return {"ok": True, "replicas": self.status()}
            if op == "inject":
                fault, shut = self.inject(request.get("replica"), request.get("fault"), request.get("ttl"))
                for front in shut:
                    await front.verify_refused(self.upstreams[request["replica"]])
                return {"ok": True, "fault": fault.to_json(request["replica"], self.clock())}
            if op == "heal":
                fault, now = self.heal(request.get("replica"))
                return {"ok": True, "fault": fault.to_json(request["replica"], now)}
            raise ValueError(f"unknown op {op!r}; known: inject, heal, status")
        except ValueError as exc:
            return {"ok": False, "error": str(exc)}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gosstand.stand.tcpfaults", description=__doc__.split("\n")[0])
    parser.add_argument("config", help="the layer's configuration (JSON, as LayerConfig.to_json writes it)")
    args = parser.parse_args(argv)
    config = LayerConfig.from_json(json.loads(Path(args.config).read_text(encoding="utf-8")))
    layer = FaultLayer(config)

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, lambda: setattr(layer, "stopping", True))
        await layer.run()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
    sys.exit(0)


if __name__ == "__main__":
    main()
