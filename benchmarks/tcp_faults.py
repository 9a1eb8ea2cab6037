"""What the TCP fault layer costs: one replica reached directly, and through the layer, in one run.

    python benchmarks/tcp_faults.py [--duration 5] [--connections 16] [--rounds 2] [--latency-requests 2000]

One embedded ESIA replica with the layer on (``EmbeddedStack(tcp_faults=True)``): its private
port is the baseline, the service port (the layer) the measured path; both take the same
requests in alternating rounds, so a machine that gets busier during the run hurts both alike.
Prints ratios (layer / direct), never absolute targets:

- requests/s of ``GET /_gosstand/health`` — the cheapest request, so the layer's share is the
  largest it can be — with ``wrk`` on keep-alive connections (the layer forwards reads) and on a
  new connection per request (the layer also accepts, picks a replica and connects);
- latency of the same request sent one at a time on one keep-alive connection (the extra hop
  when nothing queues): median and 99th percentile;
- the layer's own CPU per request, read from /proc, beside the replica's, for both kinds of
  connection.

Needs ``wrk`` (Debian: ``apt-get install wrk``) and Linux.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from gosstand.stand.stack import EmbeddedStack

PATH = "/_gosstand/health"


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children's threads (granian's worker is a child)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != pid:
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (ProcessLookupError, FileNotFoundError):
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def wrk(url: str, *, duration: float, connections: int, close: bool) -> float:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{int(duration)}s"]
    if close:
        command += ["-H", "Connection: close"]
    output = subprocess.run([*command, url + PATH], capture_output=True, text=True, check=True).stdout
    if re.search(r"Non-2xx or 3xx responses: (\d+)", output) or "Socket errors" in output and close is False:
        raise RuntimeError(f"{url} answered errors under load:\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]


def sequential_latencies(url: str, count: int) -> list[float]:
    """Seconds per request, one at a time on one keep-alive connection (a raw socket: the client's
    own cost stays small and equal for both paths)."""
    parts = urlsplit(url)
    request = f"GET {PATH} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode()
    latencies = []
    with socket.create_connection((parts.hostname, parts.port)) as conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(count):
            started = time.perf_counter()
            conn.sendall(request)
            answer = b""
            while b"\r\n\r\n" not in answer:
                answer += conn.recv(65536)
            head, _, body = answer.partition(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
            while len(body) < length:
                body += conn.recv(65536)
            latencies.append(time.perf_counter() - started)
    return latencies


def quantile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per wrk measurement")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds of direct and layer")
    parser.add_argument("--latency-requests", type=int, default=2000)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    with EmbeddedStack(replicas=1, services=("esia",), tcp_faults=True) as stack:
        replica = stack.replica("esia", 1)
        assert replica.process is not None and stack.layer is not None
        paths = {"direct": stack.manifest().replicas["esia"][0].url or "", "layer": stack.urls["esia"]}
        results: dict[str, dict[str, list[float]]] = {name: {} for name in paths}
        layer_cpu: dict[str, list[float]] = {}
        replica_cpu: dict[str, list[float]] = {}
        for _ in range(args.rounds):
            for name, url in paths.items():
                for close in (False, True):
                    key = "new connection per request" if close else "keep-alive"
                    layer_before, replica_before = cpu_seconds(stack.layer.process.pid), cpu_seconds(
                        replica.process.pid)
                    rate = wrk(url, duration=args.duration, connections=args.connections, close=close)
                    results[name].setdefault(key, []).append(rate)
                    if name == "layer":
                        served = rate * args.duration
                        layer_cpu.setdefault(key, []).append(
                            (cpu_seconds(stack.layer.process.pid) - layer_before) / served)
                        replica_cpu.setdefault(key, []).append(
                            (cpu_seconds(replica.process.pid) - replica_before) / served)
                latencies = sequential_latencies(url, args.latency_requests)
                results[name].setdefault("p50", []).append(statistics.median(latencies))
                results[name].setdefault("p99", []).append(quantile(latencies, 0.99))
    print(f"TCP fault layer vs the replica reached directly ({args.rounds} alternating rounds, "
          f"{args.connections} wrk connections, {args.duration:g} s each; GET {PATH})")
    for key in ("keep-alive", "new connection per request"):
        direct, layer = statistics.median(results["direct"][key]), statistics.median(results["layer"][key])
        print(f"  requests/s, {key:<27} direct {direct:8.0f}   layer {layer:8.0f}   ratio {layer / direct:.2f}")
    for key in ("p50", "p99"):
        direct, layer = statistics.median(results["direct"][key]), statistics.median(results["layer"][key])
        print(f"  latency {key}, one at a time          direct {direct * 1e3:6.3f} ms   layer {layer * 1e3:6.3f} ms"
              f"   ratio {layer / direct:.2f}   (+{(layer - direct) * 1e6:.0f} µs)")
    for key, spent in layer_cpu.items():
        layer, server = statistics.median(spent), statistics.median(replica_cpu[key])
        print(f"  CPU per request, {key:<27} layer {layer * 1e6:5.0f} µs   replica {server * 1e6:5.0f} µs"
              f"   layer/replica {layer / server:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
