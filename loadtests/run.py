"""The main job, ``gosstand peak``: stack → seed → peak-hour load with failovers → reconcile →
report → verdict.

Everything the report shows is recorded in one run directory (``out/runs/<time>/``): the
per-request timeline, the failover actions, the logical write operations, what the target held
at the end, and the run's own description. ``gosstand report`` can rebuild the report from it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from contextlib import ExitStack
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .profile import UTKO_JOURNEYS, Profile, load_profile

PACKAGED_FAILOVER = "failover.yaml"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", help="traffic profile: a YAML file, or a packaged one by name — peak-hour "
                                          "(the default) or weighing-morning (UTKO)")
    parser.add_argument("--duration", type=float, help="seconds the hour is compressed into (profile default: 60)")
    parser.add_argument("--peak-users", type=int, help="concurrent users at the peak (profile default)")
    parser.add_argument("--failover", default="default",
                        help="failover schedule YAML; 'default' (the profile's: for the peak hour, kill "
                             "ESIA and FTS replicas) or 'none'")
    parser.add_argument("--slo", help="SLO file (default: the packaged reports/slo.yaml)")
    parser.add_argument("--backend", choices=["embedded", "containers"], default="embedded",
                        help="stack to start: processes on loopback (default) or Docker containers "
                             "behind HAProxy with Redis")
    parser.add_argument("--replicas", type=int, default=2, help="replicas per service of the stack")
    parser.add_argument("--output", default="out/runs", help="parent directory of run directories")
    parser.add_argument("--users", type=int, default=60, help="ESIA test users to seed")
    parser.add_argument("--declarants", type=int, default=8, help="declarant organisations to use")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the test data")
    parser.add_argument("--processes", type=_processes, default=1,
                        help="Locust worker processes sharing the users (a master runs the shape and the "
                             "failovers); 1: one process. One Locust core sends about 5k req/s")
    parser.add_argument("--manifest",
                        help="run against an already running stack (its stack.json, e.g. from `gosstand up`)")
    parser.add_argument("--target", action="append", default=[], metavar="SERVICE=URL",
                        help="send SERVICE's traffic (fts, or utko when the profile has UTKO journeys) to your "
                             "own system at URL instead of the stack's; "
                             "it must accept the stack's ESIA tokens. Its failovers are exec actions")


#: Services whose traffic may go to a system of the user's. ESIA stays the stand's (the login's
#: SMS codes are read from its outbox); UTKO only when the profile sends it traffic.
TARGETABLE = ("fts", "utko")


class UsageError(Exception):
    """The command line asks for something that cannot run; said before anything starts."""


def parse_targets(values: list[str]) -> dict[str, str]:
    """``["fts=https://fts.staging.local"]`` → ``{"fts": "https://fts.staging.local"}``."""
    targets: dict[str, str] = {}
    for value in values:
        service, _, url = value.partition("=")
        if service not in TARGETABLE or not url.startswith(("http://", "https://")):
            raise UsageError(f"--target {value!r}: expected SERVICE=URL with SERVICE one of "
                             f"{', '.join(TARGETABLE)} and an http(s) URL")
        targets[service] = url.rstrip("/")
    return targets


def _processes(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError("from 1 to 64")
    return value


def check_traffic(profile: Profile, targets: dict[str, str]) -> None:
    """A target the profile sends nothing to would make a run that tests nothing of it."""
    if "utko" in targets and not sends_utko_traffic(profile):
        raise UsageError(f"--target utko: the profile {profile.name!r} sends no UTKO traffic; give "
                         f"{' or '.join(UTKO_JOURNEYS)} a share of its mix (--profile)")


def sends_utko_traffic(profile: Profile) -> bool:
    return any(profile.mix.get(journey, 0) > 0 for journey in UTKO_JOURNEYS)


def check_schedule(failover: Path | None, targets: dict[str, str]) -> None:
    """A service sent to the user's system has no replicas of ours to kill: only exec actions."""
    from .failover import EXEC, load_schedule

    for action in load_schedule(failover):
        if action.service in targets and action.action != EXEC:
            raise UsageError(f"{failover}: {action.service} is your system at {targets[action.service]}; "
                             f"fail it with an exec action (command: …), not {action.action}")


def check_recovery_room(failover: Path | None, duration_s: float, window_s: float) -> None:
    """Each failover must leave one healthy window of the run after it ends; otherwise its
    recovery cannot be seen, and the report could only say "never recovered"."""
    from .failover import load_schedule

    for action in load_schedule(failover):
        ends = action.at + (action.duration or 0)
        if ends + window_s > duration_s:
            raise UsageError(
                f"{failover}: the {action.action} of {action.service} at {action.at:g} s ends at {ends:g} s, "
                f"and a {duration_s:g}-s run leaves no {window_s:g}-s healthy window after it to see it "
                f"recover; lengthen --duration to at least {ends + window_s:g} s or move the action")


def _failover_path(choice: str, profile: Profile) -> Path | None:
    """``none``, a file, or ``default``: the schedule the profile names, else the peak hour's."""
    if choice == "none":
        return None
    if choice == "default":
        packaged = resources.files("gosstand.loadtests").joinpath(profile.failover or PACKAGED_FAILOVER)
        if not packaged.is_file():
            raise UsageError(f"the profile {profile.name!r} names failover {profile.failover!r}, "
                             "which is not a schedule packaged in loadtests/")
        return Path(str(packaged))
    return Path(choice)


def _run_locust(run_dir: Path, manifest: Path, fixtures: Path, failover: Path | None,
                args: argparse.Namespace, duration: float) -> int:
    locustfile = Path(str(resources.files("gosstand.loadtests").joinpath("locustfile.py")))
    env = {
        **os.environ,
        "GOSSTAND_RUN_DIR": str(run_dir),
        "GOSSTAND_MANIFEST": str(manifest),
        "GOSSTAND_FIXTURES": str(fixtures),
        "GOSSTAND_FAILOVER": str(failover or ""),
        "GOSSTAND_PROFILE": args.profile or "",
        "GOSSTAND_DURATION": str(duration),
        "GOSSTAND_PEAK_USERS": str(args.peak_users or ""),
        "GOSSTAND_PROCESSES": str(args.processes),
    }
    command = [
        sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "--only-summary",
        "--run-time", f"{int(duration) + 20}s",  # a bound in case the shape never ends
        "--stop-timeout", "10", "--loglevel", "WARNING", "--csv", str(run_dir / "locust"),
        *(["--processes", str(args.processes)] if args.processes > 1 else []),
    ]
    with (run_dir / "locust.log").open("wb") as log:
        completed = subprocess.run(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, timeout=duration + 120, check=False)
    return completed.returncode


def _stack_class(backend: str) -> type[Any]:
    """The stack class of a backend; both share one API (``urls``, ``write_manifest``, …)."""
    if backend == "containers":
        from ..mocks.containers import ContainerStack

        return ContainerStack
    from ..mocks.stack import EmbeddedStack

    return EmbeddedStack


def run_peak(args: argparse.Namespace) -> int:
    from ..mocks.stack import load_manifest
    from ..reports.build import build_report, verdict_exit_code
    from ..reports.slo import load_slo
    from .fixtures import reconcile, seed

    try:
        try:
            profile = load_profile(args.profile, duration_s=args.duration, peak_users=args.peak_users)
        except KeyError as exc:
            raise UsageError(f"{args.profile}: the profile has no {exc.args[0]!r}") from None
        except yaml.YAMLError as exc:
            raise UsageError(f"{args.profile}: not YAML ({exc})") from None
        failover = _failover_path(args.failover, profile)
        targets = parse_targets(getattr(args, "target", []))
        check_traffic(profile, targets)
        check_schedule(failover, targets)
        slo = load_slo(Path(args.slo) if args.slo else None)  # a bad SLO file fails now, not after the load
        check_recovery_room(failover, profile.duration_s, slo.healthy.window)
    except OSError as exc:
        print(f"gosstand peak: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    except (UsageError, ValueError) as exc:
        print(f"gosstand peak: {exc}", file=sys.stderr)
        return 2
    # Absolute: the container backend mounts directories of the run into its containers.
    run_dir = Path(args.output).resolve() / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir.mkdir(parents=True, exist_ok=True)
    description: dict[str, Any] = {
        "title": f"{profile.name}: {profile.description}",
        "profile": profile.name,
        "duration_s": profile.duration_s,
        "peak_users": profile.peak_users,
        "mix": profile.mix,
        "processes": args.processes,
        "failover_schedule": str(failover) if failover else None,
    }
    with ExitStack() as cleanup:
        if args.manifest:
            manifest_path = Path(args.manifest)
            description["backend"] = load_manifest(manifest_path).get("backend", "external")
        else:
            backend = getattr(args, "backend", "embedded")
            print(f"Starting the {backend} stack ({args.replicas} replicas per service)…", flush=True)
            stack = cleanup.enter_context(_stack_class(backend)(replicas=args.replicas, state_dir=run_dir / "stack"))
            manifest_path = stack.write_manifest()
            description["backend"] = backend
        manifest = load_manifest(manifest_path)
        if targets:  # the run's own manifest: the stack's, with the user's systems in place
            manifest["urls"].update(targets)
            manifest_path = run_dir / "manifest.json"
            manifest_path.write_text(json.dumps(manifest, indent=2))
            description["external_services"] = sorted(targets)
        description["targets"] = manifest["urls"]
        print("Seeding ESIA users, the client system and declarants…", flush=True)
        fixtures_path = seed(manifest, run_dir, users=args.users, declarants=args.declarants, seed=args.seed,
                             utko_objects=sends_utko_traffic(profile))
        print(f"Load ({profile.name}) for {profile.duration_s:.0f} s, up to {profile.peak_users} users"
              + (f", failovers from {failover}" if failover else ", no failover") + "…", flush=True)
        description["started"] = time.time()
        code = _run_locust(run_dir, manifest_path, fixtures_path, failover, args, profile.duration_s)
        description["ended"] = time.time()
        description["locust_exit_code"] = code
        if code not in (0, 1):  # 1 only means "some request failed", which the SLOs judge
            print(f"Locust ended with exit code {code}; see {run_dir / 'locust.log'}", file=sys.stderr)
        if not any(run_dir.glob("requests*.jsonl")):
            (run_dir / "run.json").write_text(json.dumps(description, indent=2, ensure_ascii=False))
            print(f"gosstand peak: the load recorded no request; see {run_dir / 'locust.log'}", file=sys.stderr)
            return 2
        failed_faults = _failed_commands(run_dir)
        for note in failed_faults:
            print(f"gosstand peak: {note}", file=sys.stderr)
        description.setdefault("notes", []).extend(failed_faults)
        print("Reconciling the writes with what the targets hold…", flush=True)
        reconcile(manifest, run_dir)
    (run_dir / "run.json").write_text(json.dumps(description, indent=2, ensure_ascii=False))
    result = build_report(run_dir, slo_path=Path(args.slo) if args.slo else None)
    verdict = "PASS" if result.passed else "FAIL"
    print(f"\nVerdict: {verdict}" + ("" if result.passed else f" — {len(result.breaches)} SLO breach(es)"))
    print(f"Report: {result.html.resolve()}")
    if code not in (0, 1) or failed_faults:
        return 2  # the run did not do what was asked: its verdict says nothing
    return verdict_exit_code(result)


def _failed_commands(run_dir: Path) -> list[str]:
    """A note for each exec failover whose command failed, and each fault rule the control API
    did not take: the fault may not have happened."""
    path = run_dir / "failovers.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return [
        f"the failover command {r['target']!r} ended with exit code {r.get('exit_code')} "
        f"({(r.get('output') or '').strip()[-200:]}); the fault may not have happened"
        for r in records
        if r.get("action") == "exec" and r.get("exit_code") != 0
    ] + [
        f"the fault rule on {r.get('service')} could not be set ({r['error']}); the fault did not happen"
        for r in records
        if r.get("action") == "fault" and r.get("error")
    ]
