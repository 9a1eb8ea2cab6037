"""What a canary costs: its own CPU, and the server's, at its rate against a real replica.

    python benchmarks/canary_cost.py [--rate 200] [--seconds 20]

Starts an embedded stack with one ESIA replica, then, for ``--seconds`` each:

1. the baseline: the same health request, sent by a bare loop in one thread with the standard
   library's ``http.client`` (half on new connections, half on one kept-alive one), at the same
   rate — the least a client can spend on these requests in Python;
2. the canary process itself (``python -m gosstand.loadtests.canary``), at ``--rate``.

Prints, for each: requests sent, client CPU per request and as a share of one core, the replica's
CPU per request; and the canary's client CPU over the baseline's — what its timetable, threads,
watchdog and records add. Figures are one machine's and vary with its load, never targets.
"""

from __future__ import annotations

import argparse
import http.client
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from gosstand.stand.stack import EmbeddedStack


def _tree_cpu(pid: int) -> float:
    """CPU seconds of a replica's process and its children (granian's workers)."""
    root = psutil.Process(pid)
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        times = process.cpu_times()
        total += times.user + times.system
    return total


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def baseline(host: str, port: int, rate: float, seconds: float) -> tuple[int, float]:
    """A bare loop at ``rate`` for ``seconds``; (requests, client CPU seconds)."""
    kept = http.client.HTTPConnection(host, port, timeout=2)
    cpu, start, sent = _own_cpu(), time.time(), 0
    while (due := start + sent / rate) < start + seconds:
        pause = due - time.time()
        if pause > 0:
            time.sleep(pause)
        connection = kept if sent % 2 else http.client.HTTPConnection(host, port, timeout=2)
        connection.request("GET", "/_gosstand/health")
        response = connection.getresponse()
        response.read()
        if connection is not kept:
            connection.close()
        sent += 1
    kept.close()
    return sent, _own_cpu() - cpu


def canary(url: str, rate: float, seconds: float, directory: Path) -> dict:
    """The canary process for ``seconds``; its summary (``cpu_s`` is its own CPU)."""
    completed = subprocess.run(
        [sys.executable, "-m", "gosstand.loadtests.canary", "--service", "esia", "--url", url,
         "--output", str(directory / "canary-esia.jsonl"), "--rate", f"{rate:g}",
         "--until", f"{time.time() + seconds:.3f}"],
        capture_output=True, text=True, timeout=seconds + 60, check=True,
    )
    return next(json.loads(line)["summary"] for line in completed.stdout.splitlines() if "summary" in line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, \
            EmbeddedStack(replicas=1, services=("esia",), state_dir=Path(scratch) / "stack") as stack:
        url = stack.urls["esia"]
        replica = stack.replica("esia", 1).process.pid  # type: ignore[union-attr]
        host, port = url.removeprefix("http://").split(":")

        server = _tree_cpu(replica)
        sent, client = baseline(host, int(port), args.rate, args.seconds)
        base_server = _tree_cpu(replica) - server

        server = _tree_cpu(replica)
        summary = canary(url, args.rate, args.seconds, Path(scratch))
        canary_server = _tree_cpu(replica) - server

    rows = [("bare loop (baseline)", sent, client, base_server),
            ("canary process", summary["sent"], summary["cpu_s"], canary_server)]
    print(f"{args.rate:g} requests/s for {args.seconds:g} s against one embedded ESIA replica's health check\n")
    print(f"{'client':24} {'requests':>9} {'client µs/req':>14} {'client % core':>14} {'server µs/req':>14}")
    for name, count, cpu, server_cpu in rows:
        print(f"{name:24} {count:9d} {cpu / count * 1e6:14.0f} {cpu / args.seconds * 100:13.1f}% "
              f"{server_cpu / count * 1e6:14.0f}")
    ratio = (summary["cpu_s"] / summary["sent"]) / (client / sent)
    print(f"\ncanary client CPU per request / baseline: {ratio:.2f}×; "
          f"late starts (>10 ms): {summary['late']} of {summary['sent']}, the latest {summary['max_late_s']} s")


if __name__ == "__main__":
    main()
