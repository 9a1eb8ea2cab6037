"""The highest arrival rate one Locust process holds, open model, against the embedded stack.

    python benchmarks/arrival_rate.py [--duration 20] [--baseline 4] [--max-users 300] [--steps 3]
                                      [--mix esia_login=2,declaration=1] [--replicas 2] [--late-start-ms 10]

Starts one embedded stack, seeds it once, then runs the open-model load (``gosstand peak
--rate``'s Locust side, one process, no failover) at a baseline rate and at doubling rates until
more than 1 % of the journeys start late (by default more than 10 ms after their arrival, as in
``gosstand peak``) or never start,
then bisects between the last rate held and the first one lost. Prints, per rate, what the
generator offered and started, its late share, its CPU (and how long it waited for one) and the
machine's, the requests per second and the median latency — and every figure as a ratio to the
baseline measured in the same run, so the result says how far one process scales here, not a
number to hold another machine to.

The stack runs on the same machine: when the machine is busy (its CPU share near 100 %), the
limit found is the machine's, and the generator's own CPU says how much of it was Locust's.
Linux only (reads /proc/stat).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from gosstand.loadtests.fixtures import seed
from gosstand.loadtests.profile import Profile
from gosstand.loadtests.run import _run_locust as run_locust  # the very launch `gosstand peak` uses
from gosstand.reports.generator import BUSY_CPU, LATE_SHARE_LIMIT, STARVED_SHARE, GeneratorFigures
from gosstand.reports.io import load_generator_samples
from gosstand.stand.records import LATE_START_S, RequestRecord, RunConfig
from gosstand.stand.stack import EmbeddedStack

#: Doublings above the baseline at most (4/s × 2¹⁰ ≈ 4000/s: far beyond one process).
MAX_DOUBLINGS = 10
#: Seconds between two rates, for the stack to finish what an overloaded rate left queued.
SETTLE_S = 5.0


@dataclass(frozen=True)
class Step:
    rate: float
    offered: int
    started: int
    late_share: float
    #: The Locust process's CPU over the load, a share of one core (mean, and its busiest second).
    cpu_mean: float
    cpu_max: float
    #: The share of the time Locust's event loop waited for a CPU held by other work.
    cpu_wait: float | None
    #: The whole machine's CPU over the load, a share of all its cores.
    machine: float
    requests_per_s: float
    p50_ms: float | None

    @property
    def held(self) -> bool:
        return self.offered > 0 and self.late_share <= LATE_SHARE_LIMIT

    @property
    def cpu_per_journey_ms(self) -> float:
        return self.cpu_mean / self.rate * 1000


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU time of the whole machine so far, in clock ticks (/proc/stat)."""
    fields = [float(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields) - idle, sum(fields)


def measure(rate: float, *, base: Path, manifest_path: Path, fixtures: Path, mix: dict[str, int], duration: float,
            max_users: int, late_start_s: float) -> Step:
    run_dir = base / f"rate-{rate:g}"
    run_dir.mkdir()
    time.sleep(SETTLE_S)
    profile = Profile.from_mapping({"name": f"bench-{rate:g}", "duration_s": duration, "peak_rate": rate,
                                    "max_users": max_users, "curve": [1.0], "mix": mix})
    config = RunConfig(run_dir=str(run_dir), manifest_path=str(manifest_path), fixtures_path=str(fixtures),
                       profile=profile.to_mapping(), live_every_s=0, late_start_s=late_start_s)
    busy_before, total_before = machine_busy()
    code = run_locust(config, 1, duration)
    busy_after, total_after = machine_busy()
    if code not in (0, 1):
        raise SystemExit(f"Locust ended with exit code {code} at {rate:g}/s; see {run_dir / 'locust.log'}")
    figures = GeneratorFigures.of(load_generator_samples(run_dir), duration_s=duration)
    (process,) = [p for p in figures.processes if p.role == "local"]
    latencies = [RequestRecord.from_json(json.loads(line)).latency * 1000
                 for path in run_dir.glob("requests-*.jsonl") for line in path.read_text().splitlines()]
    return Step(rate=rate, offered=figures.offered or 0, started=figures.started, late_share=figures.late_share or 0.0,
                cpu_mean=process.cpu_mean, cpu_max=process.cpu_max, cpu_wait=process.cpu_wait_share,
                machine=(busy_after - busy_before) / max(total_after - total_before, 1.0),
                requests_per_s=figures.requests / figures.active_s if figures.active_s else 0.0,
                p50_ms=statistics.median(latencies) if latencies else None)


def _print(step: Step, baseline: Step) -> None:
    p50 = f"{step.p50_ms:6.1f} ms" if step.p50_ms is not None else "     —"
    print(f"{step.rate:8.1f}/s  {step.rate / baseline.rate:6.1f}×  {step.started:6d}/{step.offered:<6d} "
          f"late {step.late_share:6.2%}  {'held' if step.held else 'LOST'}  "
          f"Locust CPU {step.cpu_mean:5.0%} (max {step.cpu_max:4.0%}, waited {step.cpu_wait or 0:4.0%}), "
          f"{step.cpu_per_journey_ms / baseline.cpu_per_journey_ms:4.2f}× CPU per journey  "
          f"machine {step.machine:4.0%}  {step.requests_per_s:7.1f} req/s "
          f"({step.requests_per_s / max(baseline.requests_per_s, 1e-9):5.1f}×)  p50 {p50}", flush=True)


def _limit(lost: Step) -> str:
    """What stopped the first rate lost: Locust's own CPU, a machine that gave it none, or
    neither — short stalls of its event loop."""
    waited = lost.cpu_wait or 0.0
    if lost.cpu_mean >= BUSY_CPU:
        return f"At {lost.rate:g}/s Locust used {lost.cpu_mean:.0%} of a core: its own CPU was the limit."
    if waited >= STARVED_SHARE:
        return (f"At {lost.rate:g}/s Locust used {lost.cpu_mean:.0%} of a core and waited for one {waited:.0%} of the "
                "time: the machine (the stack on it, and any other work) was the limit, not Locust.")
    return (f"At {lost.rate:g}/s Locust used {lost.cpu_mean:.0%} of a core and waited for one {waited:.0%} of the "
            "time, neither near a limit: its late starts came from short stalls of its event loop (a journey's "
            "signature or parsing running as an arrival fell due, a moment's wait for a CPU the stack had).")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load per rate (default 20)")
    parser.add_argument("--baseline", type=float, default=4.0, help="the baseline rate, journeys/s (default 4)")
    parser.add_argument("--max-users", type=int, default=300, help="virtual users at most (default 300)")
    parser.add_argument("--steps", type=int, default=3, help="bisection steps after the doubling (default 3)")
    parser.add_argument("--mix", default="esia_login=2,declaration=1",
                        help="journey=weight,… (default: the peak hour's)")
    parser.add_argument("--replicas", type=int, default=2, help="replicas per service of the stack (default 2)")
    parser.add_argument("--late-start-ms", type=float, default=LATE_START_S * 1000,
                        help="a start later than this after its arrival is late (default %(default)g)")
    args = parser.parse_args()
    mix = {journey: int(weight) for journey, _, weight in (part.partition("=") for part in args.mix.split(","))}
    with tempfile.TemporaryDirectory(prefix="arrival-rate-") as tmp, \
            EmbeddedStack(replicas=args.replicas, state_dir=Path(tmp) / "stack") as stack:
        base = Path(tmp)
        manifest_path = stack.write_manifest()
        print(f"Seeding {args.max_users} people on the embedded stack ({args.replicas} replicas per service)…",
              flush=True)
        fixtures = seed(stack.manifest(), base, users=args.max_users, declarants=8, seed=2026)
        print(f"One Locust process, open model, mix {mix}, {args.duration:g} s per rate; a rate is held with at most "
              f"{LATE_SHARE_LIMIT:.0%} of its journeys more than {args.late_start_ms:g} ms late.", flush=True)

        def run(rate: float) -> Step:
            return measure(rate, base=base, manifest_path=manifest_path, fixtures=fixtures, mix=mix,
                           duration=args.duration, max_users=args.max_users, late_start_s=args.late_start_ms / 1000)

        started = time.monotonic()
        baseline = run(args.baseline)
        _print(baseline, baseline)
        if not baseline.held:
            print("The baseline itself was not held: this machine is too busy to measure on.")
            return 1
        held, lost = baseline, None
        for _ in range(MAX_DOUBLINGS):
            step = run(held.rate * 2)
            _print(step, baseline)
            if not step.held:
                lost = step
                break
            held = step
        for _ in range(args.steps if lost is not None else 0):
            assert lost is not None
            step = run(round((held.rate * lost.rate) ** 0.5, 1))
            _print(step, baseline)
            held, lost = (step, lost) if step.held else (held, step)
        print(f"\nHighest rate held by one Locust process: {held.rate:g} journeys/s "
              f"({held.rate / baseline.rate:.1f}× the baseline of {baseline.rate:g}/s), "
              f"at {held.cpu_mean:.0%} of a core for Locust and {held.machine:.0%} of the machine; "
              f"{held.requests_per_s:.0f} requests/s. "
              f"Measured in {time.monotonic() - started:.0f} s.")
        if lost is not None:
            print(_limit(lost))
    return 0


if __name__ == "__main__":
    sys.exit(main())
