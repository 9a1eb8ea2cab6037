"""What a paused or killed replica costs the clients of a service behind HAProxy.

    python benchmarks/haproxy_failover.py [--action pause|kill|both] [--pause 2] [--rounds 1]

Starts the container stack (FTS, two replicas behind HAProxy, ``docker/haproxy.cfg.template``)
and, for each round and action: a canary (``python -m gosstand.loadtests.canary``: 200 health
GETs a second, half on new connections, a 1-s timeout, its own process) runs for 12 s; 4 s in,
replica fts-1 is paused for ``--pause`` seconds or killed (and restarted after the round). The
canary's samples are measured with the report's own definitions (``reports/physical.py``):
affected requests, TTFE, outage window and TTR, and the slowest success — what a client of the
service saw, set beside the pause it came from. HAProxy's log lines about its servers (taken
out, back in, "Running on backup") are printed too: they say when its checks noticed.

Needs Docker and the images (``gosstand containers build``). Figures are one machine's and vary
with its load; they are a measurement, never a target.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gosstand.reports.affected import LatencyObjective
from gosstand.reports.physical import physical_figures
from gosstand.stand.actions import ReplicaAction
from gosstand.stand.containers import ContainerStack
from gosstand.stand.images import build_images
from gosstand.stand.records import CanarySample

BEFORE_S = 4.0
OBSERVED_S = 12.0
RATE = 200.0
TIMEOUT_S = 1.0
#: A success slower than this counts as affected (the default SLO's healthy p99 bound).
SLOW_AFTER_S = 2.0


def _canary(url: str, records: Path, seconds: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "gosstand.loadtests.canary", "--service", "fts", "--url", url, "--output", str(records),
         "--rate", str(RATE), "--timeout", str(TIMEOUT_S), "--until", str(time.time() + seconds)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _server_lines(stack: ContainerStack) -> list[str]:
    log = stack.proxies["fts"].get_wrapped_container().logs().decode(errors="replace")
    return [line for line in log.splitlines() if " is DOWN" in line or " is UP" in line]


def observe(stack: ContainerStack, action: str, pause_s: float, directory: Path) -> dict[str, object]:
    records = directory / f"canary-{action}-{time.time():.0f}.jsonl"
    seen_before = len(_server_lines(stack))
    canary = _canary(stack.urls["fts"], records, OBSERVED_S)
    time.sleep(BEFORE_S)
    t_f = time.time()
    if action == "pause":
        stack.act("fts", 1, ReplicaAction.PAUSE)
        time.sleep(pause_s)
        stack.act("fts", 1, ReplicaAction.UNPAUSE)
    else:
        stack.act("fts", 1, ReplicaAction.KILL)
    canary.wait(timeout=OBSERVED_S + 30)
    if action == "kill":
        stack.restart("fts", 1)
    samples = [CanarySample.from_json(json.loads(line)).as_request()
               for line in records.read_text().splitlines() if line.strip()]
    objective = LatencyObjective(SLOW_AFTER_S, "the default SLO's healthy p99 bound", SLOW_AFTER_S)
    figures = physical_figures(samples, observer="canary", t_f=t_f, episode_end=t_f + OBSERVED_S - BEFORE_S,
                               objective=objective)
    after = [r for r in samples if r.intended_start >= t_f and r.ok]
    return {
        "action": action if action == "kill" else f"pause {pause_s:g} s",
        "requests": figures.requests, "affected": figures.affected,
        "by_class": {name: n for name, n in figures.by_class.items() if n},
        "ttfe_s": round(figures.ttfe_s, 3), "outage_s": round(figures.outage_s, 3), "ttr_s": round(figures.ttr_s, 3),
        "slowest_success_s": round(max((r.ended - r.intended_start for r in after), default=0.0), 3),
        "haproxy": [line.split(": ", 1)[-1][:110] for line in _server_lines(stack)[seen_before:]
                    if not line.startswith("[")],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--action", choices=("pause", "kill", "both"), default="both")
    parser.add_argument("--pause", type=float, default=2.0, help="seconds a pause lasts (default 2)")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    actions = ("pause", "kill") if args.action == "both" else (args.action,)
    images = build_images(log=lambda message: None)
    with tempfile.TemporaryDirectory() as directory, \
            ContainerStack(replicas=2, services=("fts",), images=images, log=lambda message: None) as stack:
        for _ in range(args.rounds):
            for action in actions:
                print(json.dumps(observe(stack, action, args.pause, Path(directory)), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
