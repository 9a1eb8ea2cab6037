"""A server's response times as the loopback wire saw them: an observer that shares no code with
the load generator or the server.

A load generator's own response times include its own delays: Locust's are taken in a greenlet,
and while another greenlet signs a ``client_secret`` or parses a page no greenlet runs, so a
response that arrived waits on the client before its time is read. ``locust_replica.py`` asks
whether the *replica* keeps its p99, so it also measures on the wire: a packet socket on ``lo``
receives every TCP segment with the kernel's timestamp (``SO_TIMESTAMPNS``, taken as the segment
is sent, however late this process reads it), and HTTP/1.1 on a kept-alive connection without
pipelining alternates: the client's data, then the server's. A response time is from the first
client segment carrying data after the server last spoke on that connection to the last server
segment carrying data before the client speaks again (or the connection's end). What lies between
is the server's: its receive queue, its HTTP layer, its app and its send, and nothing of the
client.

Parsing is by hand (``struct`` on the fixed IPv4 and TCP header fields) rather than with dpkt: the
capture runs beside the load for the whole step at ~10,000 segments a second, so it must cost a
few microseconds a segment; a dpkt ``Ethernet`` object per frame costs several times the three
``unpack_from`` calls here, and only the ports, the length and the data offset are read.
Needs root (``CAP_NET_RAW``); Linux only.
"""

from __future__ import annotations

import math
import select
import socket
import struct
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

ETH_P_ALL = 0x0003
SO_TIMESTAMPNS = 35
ETHERNET_HEADER = 14
IPPROTO_TCP = 6
#: Bytes of each frame read: Ethernet, the longest IPv4 header (60) and the TCP ports, length and offset.
SNAP = ETHERNET_HEADER + 60 + 20


@dataclass(frozen=True)
class Segment:
    """One TCP segment carrying data to or from the server: when, on which client port, which way."""

    at: float
    client_port: int
    to_server: bool


def segment_of(frame: bytes, at: float, server_port: int) -> Segment | None:
    """The data-carrying segment ``frame`` (an Ethernet frame from ``lo``) is, if it is one to or
    from ``server_port`` over IPv4; ``None`` for anything else (ACKs, other ports, other protocols)."""
    if len(frame) < ETHERNET_HEADER + 20:
        return None
    ip = ETHERNET_HEADER
    if frame[ip] >> 4 != 4 or frame[ip + 9] != IPPROTO_TCP:
        return None
    ip_header = (frame[ip] & 0x0F) * 4
    tcp = ip + ip_header
    if len(frame) < tcp + 13:
        return None
    (total,) = struct.unpack_from("!H", frame, ip + 2)
    source, destination = struct.unpack_from("!HH", frame, tcp)
    data = total - ip_header - (frame[tcp + 12] >> 4) * 4
    if data <= 0:
        return None
    if destination == server_port:
        return Segment(at, source, True)
    if source == server_port:
        return Segment(at, destination, False)
    return None


def response_times(segments: Iterable[Segment]) -> list[float]:
    """Each exchange's seconds from the request's first segment to the response's last, per
    connection, in the order the responses ended. Only exchanges wholly inside the capture count:
    on each connection the first one seen may have begun before the capture did (its request's
    first segment unseen) and the last may still have been answering when it stopped, so both are
    left out, as is a request the capture saw no answer to."""
    asked: dict[int, float] = {}  # client port -> when the request under way began
    answered: dict[int, float] = {}  # client port -> the last server segment of its answer so far
    begun: set[int] = set()  # client ports whose first exchange has ended
    ended: list[tuple[float, float]] = []  # (when the response ended, its response time)
    for segment in sorted(segments, key=lambda s: s.at):
        port = segment.client_port
        if segment.to_server:
            if port in answered:  # the client speaks again: the previous exchange has ended
                end = answered.pop(port)
                started = asked.pop(port)
                if port in begun:
                    ended.append((end, end - started))
                begun.add(port)
            asked.setdefault(port, segment.at)
        elif port in asked:
            answered[port] = segment.at
    return [elapsed for _, elapsed in sorted(ended)]


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value at least ``share`` of ``values`` are at or
    below (what Locust's and most load tools' p99 means)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


class WireWatch:
    """Captures the segments to and from ``server_port`` on ``lo`` in a thread, from ``start()``
    until ``stop()``, which returns them. The thread waits at most ``poll_s`` between checks that
    it should stop, so it ends by itself."""

    def __init__(self, server_port: int, poll_s: float = 0.2) -> None:
        self._port = server_port
        self._poll_s = poll_s
        self._socket = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self._socket.bind(("lo", 0))
        self._socket.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self._segments: list[Segment] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._capture, name="wire-watch", daemon=True)
        self.frames = 0
        self.cpu_s = 0.0

    def start(self) -> WireWatch:
        self._thread.start()
        return self

    def stop(self) -> list[Segment]:
        self._stopping.set()
        self._thread.join()
        self._socket.close()
        return self._segments

    def _capture(self) -> None:
        started = time.thread_time()
        for frame, at in self._frames():
            segment = segment_of(frame, at, self._port)
            if segment is not None:
                self._segments.append(segment)
        self.cpu_s = time.thread_time() - started

    def _frames(self) -> Iterator[tuple[bytes, float]]:
        ancillary = socket.CMSG_SPACE(16)
        while not self._stopping.is_set():
            ready, _, _ = select.select([self._socket], [], [], self._poll_s)
            while ready:
                try:
                    frame, messages, _, address = self._socket.recvmsg(SNAP, ancillary, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    break
                self.frames += 1
                if address[2] == socket.PACKET_OUTGOING:  # lo shows each frame leaving and arriving
                    continue
                seconds, nanoseconds = struct.unpack_from("qq", messages[0][2])
                yield frame, seconds + nanoseconds * 1e-9
