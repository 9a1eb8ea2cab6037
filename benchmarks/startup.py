"""How long a stand takes from start to ready: the embedded stack of three services with two
replicas each, and the container stack with its images already built.

    python benchmarks/startup.py [--rounds 3] [--no-containers]

"Ready" is what ``start()`` waits for: every replica answering its health check, and (containers)
HAProxy answering for every service. The embedded stack starts its replicas as processes beside
this one; the container stack runs them in Docker with Redis and HAProxy, from images built (or
found up to date) before the clock starts. Each is started ``--rounds`` times and every time is
printed, with the median and its ratio to the target the project holds it to (1.5 s embedded,
15 s containers). Exits 1 when a median misses its target, 2 when Docker is asked for and cannot
be reached.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from gosstand.stand.stack import EmbeddedStack

TARGETS = {"embedded 3×2": 1.5, "containers 3×2": 15.0}


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-containers", action="store_true", help="measure the embedded stack only")
    args = parser.parse_args()
    results = {"embedded 3×2": _time(lambda tmp: EmbeddedStack(replicas=2, state_dir=tmp).start(), args.rounds)}
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
    print(f"\nStart to ready, {args.rounds} rounds each (medians against the project's targets)")
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
