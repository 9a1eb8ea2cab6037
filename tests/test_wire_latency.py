"""The wire observer of ``benchmarks/locust_replica.py``: which segments it reads as a server's,
how it pairs them into response times, and that a live capture on ``lo`` sees each exchange."""

from __future__ import annotations

import http.client
import struct
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType

import pytest

from tests.benchmark_modules import benchmark_module

SERVER = 8443


@pytest.fixture(scope="module")
def wire() -> Iterator[ModuleType]:
    with benchmark_module("wire_latency") as module:
        yield module


def frame(source: int, destination: int, data: bytes = b"", *, version: int = 4, protocol: int = 6,
          options: bytes = b"") -> bytes:
    """An Ethernet frame as ``lo`` gives it: a zero MAC header, IPv4 (with ``options``), TCP, data."""
    ip_header = 20 + len(options)
    total = ip_header + 20 + len(data)
    ip = struct.pack("!BBHHHBBH4s4s", (version << 4) | (ip_header // 4), 0, total, 0, 0, 64, protocol, 0,
                     bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])) + options
    tcp = struct.pack("!HHIIBBHHH", source, destination, 0, 0, 5 << 4, 0x18, 65535, 0, 0)
    return bytes(14) + ip + tcp + data


def test_a_request_and_a_response_are_read_with_the_client_port(wire: ModuleType) -> None:
    assert wire.segment_of(frame(50001, SERVER, b"GET / HTTP/1.1\r\n\r\n"), 1.5, SERVER) == \
        wire.Segment(1.5, 50001, True)
    assert wire.segment_of(frame(SERVER, 50001, b"HTTP/1.1 200 OK\r\n"), 2.0, SERVER) == \
        wire.Segment(2.0, 50001, False)


def test_ip_options_move_the_tcp_header(wire: ModuleType) -> None:
    assert wire.segment_of(frame(50002, SERVER, b"x", options=bytes(4)), 0.0, SERVER) == \
        wire.Segment(0.0, 50002, True)


@pytest.mark.parametrize("unread", [
    frame(50001, SERVER),  # an ACK: no data
    frame(50001, 9999, b"data"),  # another server
    frame(50001, SERVER, b"data", protocol=17),  # UDP
    frame(50001, SERVER, b"data", version=6),
    bytes(20),  # too short to hold the headers
], ids=["ack", "other port", "udp", "not ipv4", "short"])
def test_what_is_not_the_servers_data_is_skipped(wire: ModuleType, unread: bytes) -> None:
    assert wire.segment_of(unread, 0.0, SERVER) is None


def test_response_times_pair_each_connection_and_drop_its_first_and_unfinished_exchanges(wire: ModuleType) -> None:
    def to(port: int, at: float) -> object:
        return wire.Segment(at, port, True)

    def back(port: int, at: float) -> object:
        return wire.Segment(at, port, False)

    segments = [
        back(1, 0.5),  # the tail of an answer whose request came before the capture: ignored
        to(1, 1.0), back(1, 1.2),  # connection 1's first exchange seen: may have begun earlier, dropped
        to(1, 2.0), to(1, 2.1), back(1, 2.3), back(1, 2.7),  # a request in two segments, an answer in two
        to(2, 2.2), back(2, 2.4),  # connection 2's first: dropped
        to(2, 3.0), back(2, 3.05),
        to(1, 4.0), back(1, 4.5),  # connection 1's last: the capture stopped before the client spoke again
        to(2, 5.0),  # never answered
    ]
    assert wire.response_times(reversed(segments)) == pytest.approx([0.7, 0.05])


def test_percentile_is_the_nearest_rank(wire: ModuleType) -> None:
    values = [float(n) for n in range(1, 201)]
    assert wire.percentile(values, 0.99) == 198.0
    assert wire.percentile([3.0], 0.99) == 3.0
    with pytest.raises(ValueError):
        wire.percentile([], 0.99)


class _Answer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_live_capture_sees_every_whole_exchange_within_what_the_client_saw(wire: ModuleType) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        try:
            watch = wire.WireWatch(port, poll_s=0.05).start()
        except PermissionError:
            pytest.skip("a packet socket needs CAP_NET_RAW")
        connection = http.client.HTTPConnection("127.0.0.1", port)
        client_seconds = []
        for n in range(12):
            sent = time.perf_counter()
            connection.request("POST", "/", body=b"x" * (n * 1000))
            assert connection.getresponse().read() == b"x" * (n * 1000)
            client_seconds.append(time.perf_counter() - sent)
        connection.close()
        segments = watch.stop()
        times = wire.response_times(segments)
    finally:
        server.shutdown()
        server.server_close()
    assert len(times) == 10  # the first and the last exchange of the one connection are left out
    assert watch.frames == len(segments)  # the kernel's filter let through only the server's data segments
    assert watch.dropped == 0  # the ring had room: nothing is missing from the pairs
    assert all(0 < seen <= max(client_seconds) for seen in times)
    assert sum(times) <= sum(client_seconds)
