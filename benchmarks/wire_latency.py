"""A server's response times as the loopback wire saw them: an observer that shares no code with
the load generator or the server.

A load generator's own response times include its own delays: Locust's are taken in a greenlet,
and while another greenlet signs a ``client_secret`` or parses a page no greenlet runs, so a
response that arrived waits on the client before its time is read. ``locust_replica.py`` asks
whether the *replica* keeps its p99, so it also measures on the wire: a packet socket on ``lo``
receives every TCP segment with the kernel's timestamp (taken as the segment passes, however late
this process reads it), and HTTP/1.1 on a kept-alive connection without
pipelining alternates: the client's data, then the server's. A response time is from the first
client segment carrying data after the server last spoke on that connection to the last server
segment carrying data before the client speaks again (or the connection's end). What lies between
is the server's: its receive queue, its HTTP layer, its app and its send, and nothing of the
client.

Parsing is by hand (``struct`` on the fixed IPv4 and TCP header fields) rather than with dpkt:
only the ports, the lengths and the data offset are read, and :func:`segment_of` took 1.3 µs a
frame where dpkt's ``Ethernet`` object with its IP and TCP took 10.2 µs (``timeit``, one
request's frame) — a step's ~70,000 frames are read between the steps, on the Locust core.
Needs root (``CAP_NET_RAW``); Linux only.
"""

from __future__ import annotations

import ctypes
import math
import mmap
import select
import socket
import struct
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

ETH_P_ALL = 0x0003
ETHERNET_HEADER = 14
IPPROTO_TCP = 6
#: Bytes of each frame read: Ethernet, the longest IPv4 header (60) and the TCP ports, length and offset.
SNAP = ETHERNET_HEADER + 60 + 20
SO_ATTACH_FILTER = 26
PACKET_OUTGOING = 4
#: A classic BPF load of the frame's packet type (``SKF_AD_OFF + SKF_AD_PKTTYPE``).
_PACKET_TYPE = 0xFFFFF000 + 4


def _instruction(code: int, k: int = 0, jump_true: int = 0, jump_false: int = 0) -> bytes:
    return struct.pack("HBBI", code, jump_true, jump_false, k)


def kernel_filter(server_port: int) -> list[bytes]:
    """A classic BPF program keeping only what :func:`segment_of` keeps — frames arriving on
    ``lo`` (each is also seen leaving), IPv4, TCP, to or from ``server_port``, with data — so the
    kernel drops the rest (the copies, the ACKs) before they cost this process a read. Without it
    the capture took 11 % of the Locust core at 850 requests/s; the instructions are from
    ``linux/filter.h``. :func:`segment_of` still checks every frame that passes."""
    drop = 23
    return [
        _instruction(0x20, _PACKET_TYPE),  # 0: A = packet type
        _instruction(0x15, PACKET_OUTGOING, drop - 2, 0),  # 1: leaving: drop
        _instruction(0x28, 12),  # 2: A = ethertype
        _instruction(0x15, 0x0800, 0, drop - 4),  # 3: not IPv4: drop
        _instruction(0x30, 23),  # 4: A = IP protocol
        _instruction(0x15, IPPROTO_TCP, 0, drop - 6),  # 5: not TCP: drop
        _instruction(0xB1, ETHERNET_HEADER),  # 6: X = IP header length
        _instruction(0x48, ETHERNET_HEADER),  # 7: A = source port
        _instruction(0x15, server_port, 2, 0),  # 8: from the server: go to 11
        _instruction(0x48, ETHERNET_HEADER + 2),  # 9: A = destination port
        _instruction(0x15, server_port, 0, drop - 11),  # 10: not to the server either: drop
        _instruction(0x50, ETHERNET_HEADER + 12),  # 11: A = TCP data offset byte
        _instruction(0x54, 0xF0),  # 12: A &= 0xf0
        _instruction(0x74, 2),  # 13: A >>= 2 (the TCP header length)
        _instruction(0x02, 0),  # 14: M[0] = A
        _instruction(0x87),  # 15: A = X
        _instruction(0x61, 0),  # 16: X = M[0]
        _instruction(0x0C),  # 17: A += X (both headers)
        _instruction(0x02, 0),  # 18: M[0] = A
        _instruction(0x28, ETHERNET_HEADER + 2),  # 19: A = IP total length
        _instruction(0x61, 0),  # 20: X = M[0]
        _instruction(0x2D, 0, 0, 1),  # 21: A > X (data follows the headers): keep, else drop
        _instruction(0x06, SNAP),  # 22: keep SNAP bytes
        _instruction(0x06, 0),  # 23: drop
    ]


def attach_filter(sock: socket.socket, program: list[bytes]) -> None:
    """Attach a classic BPF ``program`` to ``sock`` (``SO_ATTACH_FILTER`` takes a ``sock_fprog``:
    the instruction count and a pointer to them, kept alive only for the call)."""
    code = ctypes.create_string_buffer(b"".join(program))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, struct.pack("HL", len(program), ctypes.addressof(code)))


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


SOL_PACKET = 263
PACKET_RX_RING = 5
PACKET_STATISTICS = 6
PACKET_VERSION = 10
TPACKET_V3 = 2
TP_STATUS_USER = 1
#: The ring the kernel writes frames into: blocks handed over whole, a block handed over at the
#: latest ``RETIRE_MS`` after its first frame even when not full.
BLOCK_BYTES = 1 << 18
BLOCKS = 32
FRAME_BYTES = 1 << 11
RETIRE_MS = 10
#: ``struct tpacket3_hdr`` is followed by the ``sockaddr_ll`` at this offset (``TPACKET_ALIGN``-ed).
_ADDRESS_OFFSET = 48


def frames_of_block(block: bytes) -> list[tuple[bytes, float, int]]:
    """The frames of one ``TPACKET_V3`` block (``struct tpacket_block_desc`` then a chain of
    ``struct tpacket3_hdr``, each with its frame): each as ``(frame, kernel timestamp, packet type)``."""
    count, offset = struct.unpack_from("II", block, 12)
    frames = []
    for _ in range(count):
        following, seconds, nanoseconds, captured = struct.unpack_from("IIII", block, offset)
        (mac,) = struct.unpack_from("H", block, offset + 24)
        packet_type = block[offset + _ADDRESS_OFFSET + 10]
        frames.append((block[offset + mac:offset + mac + captured], seconds + nanoseconds * 1e-9, packet_type))
        offset += following
    return frames


class WireWatch:
    """Captures the segments to and from ``server_port`` on ``lo`` from ``start()`` until
    ``stop()``, which returns them. The kernel filters the frames (:func:`kernel_filter`) and
    writes them with their timestamps into a ring of blocks shared with this process
    (``PACKET_RX_RING``, ``TPACKET_V3``); a thread copies each full block out and hands it back,
    which costs a copy a block rather than a system call a frame (with ``recvmsg`` the capture
    took 10 µs a frame, 11 % of the Locust core). Frames are read after ``stop()``. The thread
    waits at most ``poll_s`` between checks that it should stop, so it ends by itself."""

    def __init__(self, server_port: int, poll_s: float = 0.2) -> None:
        self._port = server_port
        self._poll_s = poll_s
        # No protocol until the filter is on, so no frame is queued unfiltered.
        self._socket = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        attach_filter(self._socket, kernel_filter(server_port))
        self._socket.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V3)
        self._socket.setsockopt(SOL_PACKET, PACKET_RX_RING, struct.pack(
            "7I", BLOCK_BYTES, BLOCKS, FRAME_BYTES, BLOCK_BYTES * BLOCKS // FRAME_BYTES, RETIRE_MS, 0, 0))
        self._ring = mmap.mmap(self._socket.fileno(), BLOCK_BYTES * BLOCKS)
        self._socket.bind(("lo", ETH_P_ALL))  # the address takes the protocol in host order
        self._blocks: list[bytes] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._capture, name="wire-watch", daemon=True)
        self.frames = 0
        #: Frames the kernel dropped because the ring was full: any means exchanges are missing or
        #: merged, and the response times cannot be trusted (read at :meth:`stop`).
        self.dropped = 0
        self.cpu_s = 0.0

    def start(self) -> WireWatch:
        self._thread.start()
        return self

    def stop(self) -> list[Segment]:
        """Ends the capture and reads what it kept (after the measuring, not during it)."""
        self._stopping.set()
        self._thread.join()
        # struct tpacket_stats_v3: frames passed to the ring, frames dropped, freezes (then reset)
        _, self.dropped, _ = struct.unpack("III", self._socket.getsockopt(SOL_PACKET, PACKET_STATISTICS, 12))
        self._ring.close()
        self._socket.close()
        segments = []
        for block in self._blocks:
            for frame, at, packet_type in frames_of_block(block):
                self.frames += 1
                if packet_type == PACKET_OUTGOING:  # the kernel's filter drops these; checked once more
                    continue
                segment = segment_of(frame, at, self._port)
                if segment is not None:
                    segments.append(segment)
        return segments

    def _capture(self) -> None:
        started = time.thread_time()
        ring, index, last_look = self._ring, 0, False
        while True:
            start = index * BLOCK_BYTES
            (status,) = struct.unpack_from("I", ring, start + 8)
            if status & TP_STATUS_USER:
                (length,) = struct.unpack_from("I", ring, start + 20)
                self._blocks.append(ring[start:start + length])
                struct.pack_into("I", ring, start + 8, 0)  # the block is the kernel's again
                index = (index + 1) % BLOCKS
            elif last_look:
                break
            elif self._stopping.is_set():  # a block under way is handed over RETIRE_MS after its first frame
                last_look = True
                select.select([self._socket], [], [], 3 * RETIRE_MS / 1000)
            else:
                select.select([self._socket], [], [], self._poll_s)
        self.cpu_s = time.thread_time() - started
