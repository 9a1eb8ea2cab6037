"""The main job, ``gosstand peak``: stack → seed → peak-hour load with failovers → reconcile →
report → verdict.

Everything the report shows is recorded in one run directory (``out/runs/<time>/``): the
per-request timeline, the failover actions, the logical write operations, what the target held
at the end, and the run's own description. ``gosstand report`` can rebuild the report from it.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import yaml

from ..mocks.core.settings import SERVICES
from ..scenarios.answers import ServiceError
from ..scenarios.control import ControlError
from ..scenarios.esia_login import EsiaJourneyError
from ..scenarios.http import TransportFailure
from ..stand.backends import BACKENDS, StackBackend, stack_factory
from ..stand.manifest import ManifestError, StackManifest
from ..stand.protocol import StackError
from ..stand.records import LATE_START_S, RunConfig
from .canaries import FIRST_SECOND_WAIT_S, Canaries, start_canaries
from .canary import DEFAULT_RATE as DEFAULT_CANARY_RATE
from .canary import DEFAULT_TIMEOUT_S as DEFAULT_CANARY_TIMEOUT_S
from .canary import MAX_IN_FLIGHT as CANARY_MAX_IN_FLIGHT
from .live import LIVE_PREFIX
from .profile import ACCOUNT_JOURNEYS, UTKO_JOURNEYS, Profile, load_profile
from .schedule import NETWORK_ACTIONS, RunShape, ScheduleError, load_schedule
from .streaming import ledger_problems, stream_ledger

PACKAGED_FAILOVER = "failover.yaml"
#: How long Locust may run past the load's duration before the run stops it.
LOAD_GRACE_S = 120
#: Seconds Locust's workers get to end after their master has exited, with the web UI (see :func:`_follow`).
#: They never end by themselves then (each waits for its master's heartbeat), so the grace is only
#: for a worker already on its way out; SIGTERM closes a worker's records as any quit does.
WORKERS_GRACE_S = 1.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", help="traffic profile: a YAML file, or a packaged one by name — peak-hour "
                                          "(the default) or weighing-morning (UTKO)")
    parser.add_argument("--duration", type=float, help="seconds the hour is compressed into (profile default: 60)")
    parser.add_argument("--peak-users", type=int, help="closed model: concurrent users at the peak (profile default)")
    parser.add_argument("--rate", type=float, metavar="R",
                        help="open model: R journeys start per second at the curve's peak, on a timetable a slow "
                             "target cannot delay (profile field peak_rate); the mix gives each journey's share")
    parser.add_argument("--max-users", type=int, metavar="N",
                        help="open model: the most virtual users running journeys at once, over every process "
                             "(default: the profile's max_users, else 100); at least as many people are seeded")
    parser.add_argument("--late-start-ms", type=_positive, default=LATE_START_S * 1000, metavar="MS",
                        help="open model: a journey starting more than MS after its scheduled arrival is a late "
                             "start; over 1 %% of them marks the generator saturated (default: %(default)g)")
    parser.add_argument("--web", action="store_true",
                        help="open Locust's own web UI on this run, on 127.0.0.1 (the run still ends by itself)")
    parser.add_argument("--metrics-port", type=int, metavar="PORT",
                        help="serve the run's Prometheus series (rates, failures, latency, failovers) on this "
                             "port of 127.0.0.1 while it runs; they are written to metrics.prom either way")
    parser.add_argument("--live-every", type=float, default=5.0, metavar="S",
                        help="print a live line every S seconds of the load (0: none)")
    parser.add_argument("--failover", default="default",
                        help="failover schedule YAML; 'default' (the profile's: for the peak hour, kill "
                             "ESIA and FTS replicas) or 'none'")
    parser.add_argument("--slo", help="SLO file (default: the packaged reports/slo.yaml)")
    parser.add_argument("--backend", choices=BACKENDS, default="embedded",
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
    parser.add_argument("--master", action="store_true",
                        help="Locust workers on other hosts send the load: wait for --expect-workers of them "
                             "(`gosstand worker --master-host THIS_HOST`), ship them the run, collect their records")
    parser.add_argument("--expect-workers", type=_processes, default=1, metavar="N",
                        help="with --master: the workers to wait for, sharing the users and people (default 1)")
    parser.add_argument("--master-bind-host", default="*", metavar="HOST",
                        help="with --master: the address workers connect to (default: every interface)")
    parser.add_argument("--master-bind-port", type=int, default=5557, metavar="PORT",
                        help="with --master: the port workers connect to (default 5557)")
    parser.add_argument("--workers-wait", type=float, default=300.0, metavar="S",
                        help="with --master: give the run up (exit 2) when the workers have not joined in S seconds")
    parser.add_argument("--host", default="127.0.0.1",
                        help="the address the stack this run starts binds and is reached at (default 127.0.0.1; "
                             "with --master, one the workers' hosts reach)")
    parser.add_argument("--manifest",
                        help="run against an already running stack (its stack.json, e.g. from `gosstand up`)")
    parser.add_argument("--target", action="append", default=[], metavar="SERVICE=URL",
                        help="send SERVICE's traffic (fts, or utko when the profile has UTKO journeys) to your "
                             "own system at URL instead of the stack's; "
                             "it must accept the stack's ESIA tokens. Its failovers are exec actions")
    parser.add_argument("--canary-rate", type=float, default=DEFAULT_CANARY_RATE, metavar="N",
                        help="requests per second of each service's canary, a separate process beside the load "
                             f"(default {DEFAULT_CANARY_RATE:g}; 0: no canary)")
    parser.add_argument("--canary-timeout", type=float, default=DEFAULT_CANARY_TIMEOUT_S, metavar="SECONDS",
                        help=f"the canary's timeout per request (default {DEFAULT_CANARY_TIMEOUT_S:g})")


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


def _positive(text: str) -> float:
    value = float(text)
    if not 0 < value < 3_600_000:
        raise argparse.ArgumentTypeError("a positive number of milliseconds")
    return value


def _processes(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError("from 1 to 64")
    return value


def check_gost(profile: Profile) -> None:
    """The account journey signs in with an electronic signature every other time — a GOST CMS
    made here, through the system OpenSSL's gost engine — and its people's certificates come from
    the stand's GOST CA: without the engine the run stopped at seeding on ESIA's 503, its reason
    buried in a JSON body. Said before anything starts instead."""
    if signs_in_to_accounts(profile):
        from ..scenarios.gost import gost_ready

        if (reason := gost_ready()) is not None:
            raise UsageError(f"the profile {profile.name!r} has account_login, which signs in with a GOST "
                             f"electronic signature, and {reason}; or run a profile without account_login")


def check_traffic(profile: Profile, targets: dict[str, str]) -> None:
    """A target the profile sends nothing to would make a run that tests nothing of it."""
    if "utko" in targets and not sends_utko_traffic(profile):
        raise UsageError(f"--target utko: the profile {profile.name!r} sends no UTKO traffic; give "
                         f"{' or '.join(UTKO_JOURNEYS)} a share of its mix (--profile)")


def check_processes(profile: Profile, processes: int) -> None:
    """Each load process of an open-model run needs a virtual user of its own at least."""
    if profile.open_model and profile.max_users < processes:
        raise UsageError(f"--max-users {profile.max_users} is fewer than the {processes} load processes: each needs "
                         "one virtual user at least")


def seeded_people(profile: Profile, users: int) -> int:
    """ESIA people to seed: each virtual user holds one (its SMS codes go to one phone), so an
    open-model run seeds one for each virtual user it may have."""
    return max(users, profile.max_users) if profile.open_model else users


def _load_size(profile: Profile) -> str:
    if profile.open_model:
        return f"{profile.peak_rate:g} journeys/s at the peak (up to {profile.max_users} users)"
    return f"up to {profile.peak_users} users"


def signs_in_to_accounts(profile: Profile) -> bool:
    return any(profile.mix.get(journey, 0) > 0 for journey in ACCOUNT_JOURNEYS)


def sends_utko_traffic(profile: Profile) -> bool:
    return any(profile.mix.get(journey, 0) > 0 for journey in UTKO_JOURNEYS)


def _backend(args: argparse.Namespace) -> StackBackend:
    """The backend of the stack a run starts: ``--backend`` (argparse keeps it to
    :data:`BACKENDS`), embedded when the arguments, built by a caller of its own, have none."""
    return "containers" if getattr(args, "backend", "embedded") == "containers" else "embedded"


def run_shape(args: argparse.Namespace, profile: Profile, targets: dict[str, str], healthy_window_s: float,
              manifest: StackManifest | None) -> RunShape:
    """What the schedule is judged against: the stack's services and replica counts (the
    running stack's manifest, or the stack this run will start), the user's systems, the run's
    length and the SLO's healthy window."""
    if manifest is not None:
        replicas = {service: len(members) for service, members in manifest.replicas.items()}
        backend = manifest.backend
    else:
        replicas = {service: args.replicas for service in SERVICES}
        backend = _backend(args)
    # A stack this run starts gets the TCP fault layer if the schedule asks for it.
    tcp_faults = manifest is None or manifest.tcp_faults is not None
    return RunShape(duration_s=profile.duration_s, replicas={s: n for s, n in replicas.items() if s not in targets},
                    targets=targets, backend=backend, healthy_window_s=healthy_window_s, tcp_faults=tcp_faults)


def remote_workers(args: argparse.Namespace) -> int:
    """How many Locust workers on other hosts the run waits for (0: its load runs on this host)."""
    if not getattr(args, "master", False):
        return 0
    if args.processes > 1:
        raise UsageError("--master shares the load among workers on other hosts (--expect-workers); "
                         "--processes forks workers on this one: give one or the other")
    if not 0 < args.workers_wait <= 86_400:
        raise UsageError("--workers-wait must be above 0 and at most a day")
    return int(args.expect_workers)


def _on_loopback(url: str) -> bool:
    import ipaddress
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_canary(rate: float, timeout: float) -> None:
    """The canary's options, checked before anything starts."""
    if rate < 0 or not 0 < timeout <= 10:
        raise UsageError("--canary-rate must be 0 (no canary) or more, --canary-timeout above 0 and at most 10 s")
    if rate * timeout > CANARY_MAX_IN_FLIGHT:
        raise UsageError(f"--canary-rate × --canary-timeout is {rate * timeout:g}: a hang would hold that many "
                         f"canary requests at once; at most {CANARY_MAX_IN_FLIGHT}")


def start_run_canaries(args: argparse.Namespace, profile: Profile, urls: dict[str, str], targets: dict[str, str],
                       run_dir: Path, *, workers_wait_s: float = 0.0) -> Canaries:
    """A canary per service the profile reaches, for the whole load (:mod:`.canaries`) — on
    this host, beside the stand, whatever hosts the workers are on: the independent observer."""
    return start_canaries({service: urls[service] for service in profile.services() if service in urls},
                          external=set(targets), run_dir=run_dir, rate=args.canary_rate,
                          timeout=args.canary_timeout,
                          lasts_s=FIRST_SECOND_WAIT_S + workers_wait_s + profile.duration_s + LOAD_GRACE_S)


def unanswered(urls: dict[str, str], *, timeout: float = 5.0) -> list[str]:
    """Each service URL that gives no HTTP answer at all (any status will do: a target of the
    user's may want a token everywhere) — found before the load, not after it."""
    import httpx

    silent = []
    for service, url in urls.items():
        try:
            httpx.get(url, timeout=timeout)
        except httpx.HTTPError as exc:
            silent.append(f"{service} at {url} does not answer ({type(exc).__name__}: {exc})")
    return silent


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


@dataclass(frozen=True)
class MasterBind:
    """Where a master of workers on other hosts listens for them (Locust's ``--master-bind-*``)."""

    host: str
    port: int


def _run_locust(config: RunConfig, processes: int, duration: float, *, web_port: int | None = None,
                master: MasterBind | None = None) -> int:
    """Run the load in Locust — headless, or with its web UI on ``web_port`` (loopback only),
    starting at once and quitting when the shape ends — and return its exit code. With
    ``master``, Locust is the master of ``config.remote_workers`` workers on other hosts."""
    locustfile = Path(str(resources.files("gosstand.loadtests").joinpath("locustfile.py")))
    env = {**os.environ, RunConfig.ENV: str(config.write())}
    run_dir = Path(config.run_dir)
    mode = (["--autostart", "--autoquit", "0", "--web-host", "127.0.0.1", "--web-port", str(web_port)]
            if web_port else ["--headless"])
    command = [
        sys.executable, "-m", "locust", "-f", str(locustfile), *mode, "--only-summary",
        "--run-time", f"{int(duration) + 20}s",  # a bound in case the shape never ends
        "--stop-timeout", "10", "--loglevel", "WARNING", "--csv", str(run_dir / "locust"),
        *(["--processes", str(processes)] if processes > 1 else []),
        *(["--master", "--expect-workers", str(config.remote_workers), "--master-bind-host", master.host,
           "--master-bind-port", str(master.port)] if master else []),
    ]
    waits = config.workers_wait_s if master else 0.0
    with (run_dir / "locust.log").open("wb") as log:
        return _follow(command, env, log, timeout=waits + duration + LOAD_GRACE_S,
                       workers_grace=WORKERS_GRACE_S if web_port else None)


def _follow(command: list[str], env: dict[str, str], log: Any, *, timeout: float,
            workers_grace: float | None = None) -> int:
    """Run ``command``, keeping all its output in ``log`` and passing its live lines on to ours.

    It runs in a process group of its own — Locust's workers are its forked children and hold
    its output too — so the whole group is killed after ``timeout`` seconds (its exit code then
    says so), and asked to stop (SIGTERM) if this process is interrupted (Ctrl-C reaches the
    terminal's foreground group, which it is no longer in), leaving nothing behind.

    With ``workers_grace`` (the web UI), the run is over when the master (``command``'s own
    process) exits: its workers then have that many seconds to close the output and are asked to
    stop (SIGTERM) after it. With the web UI, Locust's master quits (``--autoquit``) without
    telling its workers, and each waited a minute for the master's heartbeat before giving up —
    every ``--web --processes N`` run ended a minute after its load. A worker closes its records
    on SIGTERM as on any quit. Headless, the master tells its workers to quit, and they are left
    to finish however long their records take.
    """
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, process_group=0)

    def signal_group(number: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, number)

    def copy_output() -> None:
        assert process.stdout is not None
        for line in process.stdout:  # ends when the group has closed its output
            log.write(line)
            if line.startswith((LIVE_PREFIX.encode(), b"gosstand")):
                print(line.decode("utf-8", "replace").rstrip(), flush=True)

    watchdog = threading.Timer(timeout, signal_group, args=(signal.SIGKILL,))
    watchdog.start()
    copier = threading.Thread(target=copy_output, name="locust-output", daemon=True)
    copier.start()
    try:
        code = process.wait()
        copier.join(workers_grace)
        if copier.is_alive():  # workers outlived their master: nothing is left for them to do
            signal_group(signal.SIGTERM)
            copier.join()  # bounded: the watchdog kills the group at ``timeout``
        return code
    except BaseException:
        signal_group(signal.SIGTERM)
        raise
    finally:
        watchdog.cancel()


def run_peak(args: argparse.Namespace) -> int:
    """The whole job; returns the exit code: 0 PASS, 1 an SLO breached, 2 the run is broken
    (said on stderr in one line per reason)."""
    from ..reports.generator import GeneratorFigures
    from ..reports.io import load_generator_samples
    from ..reports.slo import load_slo
    from ..stand.ports import free_port
    from .fixtures import reconcile, seed

    try:
        try:
            profile = load_profile(args.profile, duration_s=args.duration, peak_users=args.peak_users,
                                   peak_rate=getattr(args, "rate", None), max_users=getattr(args, "max_users", None))
        except KeyError as exc:
            raise UsageError(f"{args.profile}: the profile has no {exc.args[0]!r}") from None
        except yaml.YAMLError as exc:
            raise UsageError(f"{args.profile}: not YAML ({exc})") from None
        failover = _failover_path(args.failover, profile)
        targets = parse_targets(getattr(args, "target", []))
        check_traffic(profile, targets)
        check_gost(profile)
        workers = remote_workers(args)
        check_processes(profile, workers or args.processes)
        check_canary(args.canary_rate, args.canary_timeout)
        slo = load_slo(Path(args.slo) if args.slo else None)  # a bad SLO file fails now, not after the load
        given = StackManifest.load(args.manifest) if args.manifest else None
        schedule = load_schedule(failover, run_shape(args, profile, targets, slo.healthy.window, given))
    except OSError as exc:
        return _broken(f"cannot read {exc.filename}: {exc.strerror}")
    except ScheduleError as exc:
        return _broken(*(f"{exc.source}: {problem}" for problem in exc.problems))
    except (UsageError, ManifestError, ValueError) as exc:
        return _broken(str(exc))
    # Absolute: the container backend mounts directories of the run into its containers.
    run_dir = Path(args.output).resolve() / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir.mkdir(parents=True, exist_ok=True)
    description: dict[str, Any] = {
        "title": f"{profile.name}: {profile.description}",
        "profile": profile.name,
        "duration_s": profile.duration_s,
        "model": "open" if profile.open_model else "closed",
        **({"rate": profile.peak_rate, "max_users": profile.max_users,
            "late_start_ms": getattr(args, "late_start_ms", LATE_START_S * 1000)} if profile.open_model
           else {"peak_users": profile.peak_users}),
        "mix": profile.mix,
        "timeouts_s": {journey: profile.timeout_s(journey) for journey, share in profile.mix.items() if share},
        "processes": workers or args.processes,
        **({"remote_workers": workers} if workers else {}),
        "seed": args.seed,
        "slo": str(Path(args.slo).resolve()) if args.slo else None,
        "failover_schedule": str(failover) if failover else None,
        "schedule": [{"entry": a.entry, "action": a.action, "service": a.service, "replica": a.replica,
                      "at": a.at, "duration": a.duration} for a in schedule],
        "version": _version(),
        "problems": [],
    }
    with ExitStack() as cleanup:
        if given is not None:
            manifest_path = Path(args.manifest)
            manifest = given
        else:
            backend = _backend(args)
            # The layer costs a hop per connection (benchmarks/tcp_faults.py): only when asked for.
            tcp_faults = any(action.action in NETWORK_ACTIONS for action in schedule)
            print(f"Starting the {backend} stack ({args.replicas} replicas per service"
                  f"{', behind the TCP fault layer' if tcp_faults else ''})…", flush=True)
            try:
                stack = cleanup.enter_context(stack_factory(backend)(replicas=args.replicas, tcp_faults=tcp_faults,
                                                                     state_dir=run_dir / "stack",
                                                                     host=getattr(args, "host", "127.0.0.1")))
            except StackError as exc:
                return _broken(f"the stack did not start: {exc}".splitlines()[0])
            manifest_path = stack.write_manifest()
            manifest = stack.manifest()
        description["backend"] = manifest.backend
        description["tcp_faults"] = manifest.tcp_faults is not None  # the TCP fault layer in front of replicas
        if targets:  # the run's own manifest: the stack's, with the user's systems in place
            manifest = manifest.with_urls(targets)
            manifest_path = manifest.write(run_dir / "manifest.json")
            description["external_services"] = sorted(targets)
        description["targets"] = manifest.urls
        silent = unanswered(manifest.urls)
        if silent:
            _write_description(run_dir, description)
            return _broken(*silent)
        print("Seeding ESIA users, the client system and declarants…", flush=True)
        try:
            fixtures_path = seed(manifest, run_dir, users=seeded_people(profile, args.users),
                                 declarants=args.declarants, seed=args.seed,
                                 utko_objects=sends_utko_traffic(profile),
                                 certificates=signs_in_to_accounts(profile))
        except HARNESS_ERRORS as exc:
            description["problems"].append(f"seeding the stand failed: {type(exc).__name__}: {exc}"[:500])
            _write_description(run_dir, description)
            return _broken(*description["problems"])
        print(f"Load ({profile.name}) for {profile.duration_s:.0f} s, {_load_size(profile)}"
              + (f", {len(schedule)} failover(s) from {failover}" if schedule else ", no failover") + "…",
              flush=True)
        config = RunConfig(run_dir=str(run_dir), manifest_path=str(manifest_path), fixtures_path=str(fixtures_path),
                           profile=profile.to_mapping(), schedule=[a.to_json() for a in schedule],
                           processes=workers or args.processes, live_every_s=getattr(args, "live_every", 5.0),
                           late_start_s=getattr(args, "late_start_ms", LATE_START_S * 1000) / 1000,
                           metrics_port=getattr(args, "metrics_port", None), remote_workers=workers,
                           workers_wait_s=getattr(args, "workers_wait", 300.0))
        web_port = free_port() if getattr(args, "web", False) else None
        if web_port:
            print(f"Locust's web UI: http://127.0.0.1:{web_port} (until the run ends)", flush=True)
        canaries = cleanup.enter_context(start_run_canaries(args, profile, manifest.urls, targets, run_dir,
                                                            workers_wait_s=config.workers_wait_s if workers else 0))
        unreachable = canaries.unreachable()
        if unreachable:
            description["problems"].extend(unreachable)
            _write_description(run_dir, description)
            return _broken(*unreachable)
        description["started"] = time.time()
        if workers and all(_on_loopback(url) for url in manifest.urls.values()):
            print("Note: the stand is on loopback addresses, which only workers on this host reach "
                  "(--host with an address the workers' hosts reach)", flush=True)
        if workers:
            print(f"Waiting for {workers} Locust worker(s): on each of their hosts run `gosstand worker "
                  f"--master-host <this host's address> --master-port {args.master_bind_port}`", flush=True)
        code = _run_locust(config, args.processes, profile.duration_s, web_port=web_port,
                           master=MasterBind(args.master_bind_host, args.master_bind_port) if workers else None)
        description["ended"] = time.time()
        if workers:  # every request a remote worker sent must be in the run directory, or nothing is judged
            description["workers"] = stream_ledger(run_dir)
            description["problems"].extend(ledger_problems(run_dir, workers))
        description["canary"], ended_early = canaries.stop()
        description["problems"].extend(ended_early)
        description["locust_exit_code"] = code
        if code not in (0, 1):  # 1 only means "some request failed", which the SLOs judge
            description["problems"].append(f"Locust ended with exit code {code}; see {run_dir / 'locust.log'}")
        if not any(run_dir.glob("requests*.jsonl")):
            _write_description(run_dir, description)
            return _broken(f"the load recorded no request; see {run_dir / 'locust.log'}", *description["problems"])
        print("Reconciling the writes with what the targets hold…", flush=True)
        try:
            reconcile(manifest, run_dir)
        except HARNESS_ERRORS as exc:  # lost and duplicated writes cannot be judged: the run is broken
            description["problems"].append(f"reconciling the writes failed: {type(exc).__name__}: {exc}"[:500])
    generator = GeneratorFigures.of(load_generator_samples(run_dir), duration_s=profile.duration_s)
    description["generator"] = generator.verdict()
    if generator.saturated:
        print(f"Generator saturated: {'; '.join(generator.reasons)} — its latency figures measure the "
              "generator, not the target", flush=True)
    _write_description(run_dir, description)
    # Imported here, not above: it brings matplotlib and numpy (0.7 s), which a run refused
    # before its load (a mistyped schedule, an impossible rate) never needs.
    from ..reports.build import build_report, verdict_exit_code

    result = build_report(run_dir, slo_path=Path(args.slo) if args.slo else None)
    detail = {"BROKEN": " — the run did not do what it was asked",
              "FAIL": f" — {len(result.breaches)} SLO breach(es)", "PASS": ""}[result.verdict]
    print(f"\nVerdict: {result.verdict}{detail}")
    for reason in result.broken:
        print(f"gosstand peak: {reason}", file=sys.stderr)
    print(f"Report: {result.html.resolve()}")
    return verdict_exit_code(result)


#: What the harness's own calls to the stand (seeding, reconciling) raise when the stand or a
#: target fails them: the run is then broken (exit 2), said in one line, not a traceback.
HARNESS_ERRORS: tuple[type[BaseException], ...] = (
    ServiceError, ControlError, EsiaJourneyError, TransportFailure, httpx.HTTPError, ValueError,
)


def _broken(*reasons: str) -> int:
    """Say why the run cannot be judged, one line each, and give its exit code."""
    for reason in reasons:
        print(f"gosstand peak: {reason}", file=sys.stderr)
    return 2


def _write_description(run_dir: Path, description: dict[str, Any]) -> None:
    (run_dir / "run.json").write_text(json.dumps(description, indent=2, ensure_ascii=False))


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gosstand")
    except PackageNotFoundError:
        return "unknown"
