"""How long a stand takes from start to ready: the embedded stack of three services with two
replicas each, and the container stack with its images already built.

    python benchmarks/startup.py [--rounds 5] [--no-containers] [--baseline OTHER_CHECKOUT/.venv/bin/python]

"Ready" is what ``start()`` waits for: every replica answering its health check, and (containers)
HAProxy answering for every service. The embedded stack starts its replicas as processes beside
the measuring one; the container stack runs them in Docker with Redis and HAProxy, from images
built (or found up to date) before the clock starts.

Each embedded round runs in a fresh interpreter that has imported the stack before its clock
starts, and prints two figures: the seconds to ready, and the CPU seconds every process of the
stack spent from start to the end of ``close()`` (what a busy machine has to find; less noisy
than the wall clock on a shared one). With ``--baseline`` the rounds alternate between this
checkout and the one whose interpreter is given (a worktree of ``main`` with its own
virtualenv), and the medians are printed as ratios to the baseline's. Every median is also
printed against the project's target (1.5 s embedded, 15 s containers). Exits 1 when a median
misses its target, 2 when Docker is asked for and cannot be reached.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

TARGETS = {"embedded 3×2": 1.5, "containers 3×2": 15.0}

#: One embedded round, run by the interpreter of the checkout measured: seconds to ready, and the
#: CPU seconds of the stack's processes (all of them have ended and been waited for by then).
_EMBEDDED_ROUND = """
import json, resource, sys, tempfile, time
from pathlib import Path
from gosstand.stand.stack import EmbeddedStack

def cpu():
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

with tempfile.TemporaryDirectory(prefix="gosstand-startup-") as tmp:
    cpu_before, started = cpu(), time.monotonic()
    stack = EmbeddedStack(replicas=2, state_dir=Path(tmp)).start()
    ready = time.monotonic() - started
    stack.close()
    print(json.dumps({"ready": ready, "cpu": cpu() - cpu_before}))
"""


def _embedded_round(python: str) -> dict[str, float]:
    done = subprocess.run([python, "-c", _EMBEDDED_ROUND], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise SystemExit(f"an embedded round with {python} failed:\n{done.stderr[-3000:]}")
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _time(start: Callable[[Path], object], rounds: int) -> list[float]:
    """Seconds from asking for a stack to its being ready, ``rounds`` times (each closed after)."""
    times = []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(prefix="gosstand-startup-") as tmp:
            started = time.monotonic()
            stack = start(Path(tmp))
            times.append(time.monotonic() - started)
            stack.close()  # type: ignore[attr-defined]
    return times


def _line(values: list[float], unit: str = "s") -> str:
    return f"median {statistics.median(values):6.2f} {unit}   rounds: {', '.join(f'{v:.2f}' for v in values)}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-containers", action="store_true", help="measure the embedded stack only")
    parser.add_argument("--baseline", metavar="PYTHON",
                        help="the interpreter of another checkout (its virtualenv's python) to alternate with")
    args = parser.parse_args()
    checkouts = {"this checkout": sys.executable}
    if args.baseline:
        checkouts["baseline"] = args.baseline
    embedded: dict[str, list[dict[str, float]]] = {name: [] for name in checkouts}
    for _ in range(args.rounds):  # alternated, so a busy spell of the machine hits both
        for name, python in checkouts.items():
            embedded[name].append(_embedded_round(python))
    results = {"embedded 3×2": [figures["ready"] for figures in embedded["this checkout"]]}
    broken = 0
    if not args.no_containers:
        try:
            from gosstand.stand.containers import ContainerStack
            from gosstand.stand.images import build_images

            images = build_images(log=lambda line: None)
        except Exception as exc:  # noqa: BLE001 — no Docker engine, no base image: said, and exit 2
            print(f"the container stack cannot be started here: {type(exc).__name__}: {exc}", file=sys.stderr)
            broken = 2
        else:
            try:
                results["containers 3×2"] = _time(
                    lambda tmp: ContainerStack(replicas=2, state_dir=tmp, images=images, log=lambda line: None).start(),
                    args.rounds)
            except Exception as exc:  # noqa: BLE001 — a replica that did not start: said, and exit 1
                print(f"the container stack did not start: {type(exc).__name__}: {str(exc)[-1500:]}", file=sys.stderr)
                broken = 1
    print(f"\nEmbedded 3×2, {args.rounds} rounds each" + (", alternated with the baseline" if args.baseline else ""))
    for name, rounds in embedded.items():
        print(f"  {name:14} ready  {_line([r['ready'] for r in rounds])}")
        print(f"  {'':14} CPU    {_line([r['cpu'] for r in rounds], 's')}  (every process, start to closed)")
    if args.baseline:
        for figure in ("ready", "cpu"):
            new = statistics.median(r[figure] for r in embedded["this checkout"])
            old = statistics.median(r[figure] for r in embedded["baseline"])
            print(f"  {figure:5} this checkout / baseline = {new / old:4.2f}")
    print("\nStart to ready (medians against the project's targets)")
    missed = bool(broken)
    for name, times in results.items():
        median = statistics.median(times)
        target = TARGETS[name]
        missed |= median > target
        print(f"  {name:16} median {median:6.2f} s = {median / target:4.2f} × the {target:g} s target   "
              f"rounds: {', '.join(f'{t:.2f}' for t in times)} s")
    return broken or (1 if missed else 0)


if __name__ == "__main__":
    sys.exit(main())
