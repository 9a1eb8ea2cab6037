"""The ``gosstand`` command: one entry point for every kind of user.

    gosstand up          start the mock stack (embedded replicas on loopback) until Ctrl-C
                         (--backend containers: Docker replicas behind HAProxy, state in Redis)
    gosstand keys DIR    ESIA's signing keys, for a deployment's replicas to share (a Kubernetes Secret)
    gosstand accounts    register FTS's and UTKO's personal accounts with a running stand's ESIA
                         (Compose and Kubernetes, where no stack runner does it)
    gosstand containers  build|clean: the container images (--offline/--registry), leftovers
    gosstand peak        the main job: stack + peak-hour load + failovers + report + verdict
    gosstand worker      --master-host HOST: this host's share of a `gosstand peak --master` run
    gosstand report DIR  rebuild the report of a recorded run
    gosstand replay LOG  a traffic profile from your own recorded peak (nginx, HAProxy, HAR)
    gosstand conformance run the conformance suite against the stack or any target
    gosstand seed        fill a stand's stores at production scale before a load run
                         (--declarations 1000000 --objects 100000; then gosstand up --state-dir)
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from gosstand.extras import MissingExtra, missing, require

#: The extra of gosstand each command needs beyond the base install (which serves the mocks:
#: ``up``, ``keys``, ``accounts``); without it the command says which to install and exits 2.
COMMAND_EXTRAS = {"peak": "load", "worker": "load", "replay": "load", "seed": "load", "report": "report",
                  "conformance": "conformance", "containers": "containers"}


def _up(args: argparse.Namespace) -> int:
    from gosstand.mocks.core.settings import configured_issuer, parse_issuer
    from gosstand.stand.backends import stack_factory
    from gosstand.stand.protocol import StackError

    try:
        ports = _ports(args.port)
        issuer = parse_issuer(args.esia_issuer) if args.esia_issuer else configured_issuer()
    except ValueError as exc:
        print(f"gosstand up: {exc}", file=sys.stderr)
        return 2
    stack = stack_factory(args.backend)(
        replicas=args.replicas,
        state_dir=Path(args.state_dir) if args.state_dir else None,
        signature_mode=args.signature_mode,
        tcp_faults=args.tcp_faults,
        ports=ports,
        host=args.host,
        esia_issuer=issuer,
        **({"control_token": args.control_token} if args.control_token else {}),
    )
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        stack.start()
    except StackError as exc:
        print(f"gosstand up: {exc}", file=sys.stderr)
        return 2
    try:
        manifest_path = stack.write_manifest()
        manifest = stack.manifest()
        print(f"gosstand stack up ({args.backend}): {args.replicas} replica(s) per service, "
              f"state in {manifest.state_dir}")
        for service, url in stack.urls.items():
            print(f"  {service:5} {url}   (contract: {url}/_gosstand/openapi.yaml)")
        if manifest.esia_issuer:
            print(f"  ESIA issuer: {manifest.esia_issuer}")
        print(f"  control token: {stack.control_token}")
        print(f"  manifest: {manifest_path}")
        if manifest.tcp_faults is not None:
            print(f"  TCP fault layer: {manifest.tcp_faults} (blackhole, reset, reset_answer, partition)")
        print("Ctrl-C stops it.", flush=True)
        while not stopping:
            signal.pause()
    finally:
        stack.close()
    print("stopped")
    return 0


def _ports(values: list[str]) -> dict[str, int]:
    """``["esia=8001"]`` → ``{"esia": 8001}``; a bare ``["8000"]`` is a base port, the services on
    it and the ports after it in their usual order (esia 8000, utko 8001, fts 8002)."""
    from gosstand.mocks.core.settings import SERVICES

    ports: dict[str, int] = {}
    for value in values:
        service, sign, port = value.rpartition("=")
        if not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536 or (sign and service not in SERVICES):
            raise ValueError(f"--port {value!r}: expected PORT (a base port) or SERVICE=PORT with SERVICE one of "
                             f"{', '.join(SERVICES)}")
        if sign:
            ports[service] = int(port)
        elif int(port) + len(SERVICES) - 1 >= 65536:
            raise ValueError(f"--port {value}: the base port leaves no room for {len(SERVICES)} services")
        else:
            ports |= {name: int(port) + offset for offset, name in enumerate(SERVICES) if name not in ports}
    if len(set(ports.values())) < len(ports):
        raise ValueError(f"--port: two services on one port ({', '.join(f'{k}={v}' for k, v in ports.items())})")
    return ports


def _keys(args: argparse.Namespace) -> int:
    from gosstand.mocks.core.keys import ensure_signing_keys
    from gosstand.mocks.core.settings import Settings
    from gosstand.mocks.esia.ca.authority import certification_authority
    from gosstand.mocks.esia.crypto.gost_keys import ensure_gost_signing_keys
    from gosstand.stand.accounts import prepare_account_keys

    directory = Path(args.directory)
    directory.mkdir(parents=True, exist_ok=True)
    ensure_signing_keys(directory)
    gost_made = ensure_gost_signing_keys(directory) is not None
    if gost_made:  # the CA of the electronic-signature login, which every ESIA replica must share too
        certification_authority(Settings(service="esia", replica="keys", state_dir=directory, store_url="",
                                         control_token="-", esia_keys_dir=directory))
        # the personal accounts' pairs: every FTS and UTKO replica signs with them, ESIA registers them
        prepare_account_keys(directory, ("esia", "fts", "utko"))
    for path in sorted(directory.iterdir()):
        if not path.name.startswith("."):
            print(path)
    if not gost_made:
        print("gosstand keys: no gost engine here (libengine-gost-openssl), so no GOST pair: the replicas "
              "would each make their own; make the keys where the engine is", file=sys.stderr)
        return 1
    return 0


def _accounts(args: argparse.Namespace) -> int:
    from gosstand.stand.accounts import register_when_ready
    from gosstand.stand.protocol import StackError

    accounts: dict[str, str] = {}
    for value in args.account:
        service, sign, url = value.partition("=")
        if not sign or not url.startswith(("http://", "https://")):
            print(f"gosstand accounts: --account {value!r}: expected SERVICE=URL, e.g. fts=http://127.0.0.1:8002",
                  file=sys.stderr)
            return 2
        accounts[service] = url
    if not args.control_token or not args.keys_dir:
        print("gosstand accounts: give --control-token and --keys-dir (or GOSSTAND_CONTROL_TOKEN and "
              "GOSSTAND_ESIA_KEYS)", file=sys.stderr)
        return 2
    try:
        registered = register_when_ready(args.esia_url, accounts, args.control_token, Path(args.keys_dir),
                                         wait_s=args.wait)
    except StackError as exc:
        print(f"gosstand accounts: {exc}", file=sys.stderr)
        return 1
    print(f"registered with ESIA at {args.esia_url}: {', '.join(registered)}")
    return 0


def _containers(args: argparse.Namespace) -> int:
    from gosstand.stand import containers, images

    try:
        if args.action == "build":
            mode = "offline" if args.offline else "registry" if args.registry else None
            print(images.describe(images.build_images(mode=mode, force=args.force, load=args.load)))
        else:
            for name in containers.clean():
                print(f"removed container {name}")
            if args.images:
                for tag in images.remove_images(images.docker_client()):
                    print(f"removed image {tag}")
    except images.ImageBuildError as exc:  # no daemon, no registry, no debootstrap: said, not a traceback
        print(f"gosstand containers {args.action}: {exc}", file=sys.stderr)
        return 2
    return 0


def _peak(args: argparse.Namespace) -> int:
    from gosstand.loadtests.run import run_peak

    return run_peak(args)


def _worker(args: argparse.Namespace) -> int:
    from gosstand.loadtests.worker import run_worker

    return run_worker(args)


def _replay(args: argparse.Namespace) -> int:
    from gosstand.loadtests.replay.command import run_replay

    return run_replay(args)


def _report(args: argparse.Namespace) -> int:
    from gosstand.reports.cli import main as report_main

    argv = [args.run_dir]
    if args.slo:
        argv += ["--slo", args.slo]
    if args.output:
        argv += ["--output", args.output]
    return report_main(argv)


def _conformance(args: argparse.Namespace, extra: list[str]) -> int:
    from gosstand.conformance.command import run

    return run(extra)


def _seed(args: argparse.Namespace) -> int:
    import asyncio
    import json

    from gosstand.stand.seed import SeedPlan, seed_stand, store_urls

    urls = store_urls(Path(args.state_dir)) if args.state_dir else {}
    fts_url, utko_url = args.fts_store or urls.get("fts"), args.utko_store or urls.get("utko")
    if fts_url is None or utko_url is None:
        print("say where: --state-dir DIR, or --fts-store URL and --utko-store URL", file=sys.stderr)
        return 2

    def progress(what: str, written: int) -> None:
        print(f"  {what}: {written}", file=sys.stderr, flush=True)

    plan = SeedPlan(declarations=args.declarations, objects=args.objects, weight_controls=args.weight_controls,
                    seed=args.seed)
    try:
        summary = asyncio.run(seed_stand(plan, fts_url=fts_url, utko_url=utko_url, progress=progress))
    except ValueError as refused:
        print(f"gosstand seed: {refused}", file=sys.stderr)
        return 1
    print(f"seeded fts={fts_url} utko={utko_url}")
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


def _arguments_if_installed(parser: argparse.ArgumentParser, extra: str,
                            add: Callable[[argparse.ArgumentParser], None]) -> None:
    """The command's own arguments when its extra is installed (they are defined in its modules);
    without it any arguments are taken, so that the command can say which extra it needs."""
    if missing(extra):
        parser.add_argument("arguments", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    else:
        add(parser)


def _add_peak_arguments(parser: argparse.ArgumentParser) -> None:
    from gosstand.loadtests.run import add_arguments

    add_arguments(parser)


def _add_worker_arguments(parser: argparse.ArgumentParser) -> None:
    from gosstand.loadtests.worker import add_arguments

    add_arguments(parser)


def _add_replay_arguments(parser: argparse.ArgumentParser) -> None:
    from gosstand.loadtests.replay.command import add_arguments

    add_arguments(parser)


def build_parser() -> argparse.ArgumentParser:
    from gosstand.stand.backends import BACKENDS

    parser = argparse.ArgumentParser(
        prog="gosstand", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="start the mock stack until Ctrl-C")
    up.add_argument("--replicas", type=int, default=2, help="replica processes per service (default 2)")
    up.add_argument("--state-dir", help="keep state here (default: a temporary directory)")
    up.add_argument("--control-token", help="token of the control API (default: random, printed)")
    up.add_argument("--signature-mode", choices=["strict", "structural", "off"], default="strict")
    up.add_argument("--backend", choices=BACKENDS, default="embedded",
                    help="processes on loopback (default) or Docker containers behind HAProxy with Redis")
    up.add_argument("--host", default="127.0.0.1",
                    help="the address to bind and to put in the URLs (default 127.0.0.1); another machine's "
                         "clients need this machine's address here")
    up.add_argument("--port", action="append", default=[], metavar="[SERVICE=]PORT",
                    help="fixed ports, so the URLs stay the same between starts: --port 8000 puts esia, utko "
                         "and fts on 8000, 8001, 8002; --port esia=8443 one service (default: free ports)")
    up.add_argument("--esia-issuer", metavar="URL",
                    help="the issuer ESIA writes into tokens, e.g. http://esia.gosuslugi.ru/ for clients that "
                         "expect production's (default: $GOSSTAND_ESIA_ISSUER, else the test stand's)")
    up.add_argument("--tcp-faults", action="store_true",
                    help="put the TCP fault layer in front of the replicas, so a failover schedule can "
                         "blackhole, reset (before or after the replica takes a request) or partition one "
                         "(it costs a hop per connection)")
    up.set_defaults(run=_up)

    keys = commands.add_parser("keys", help="make ESIA's signing keys and the personal accounts' pairs, for "
                                            "replicas that share them from a Secret")
    keys.add_argument("directory", help="where the key files go (kept if they are there)")
    keys.set_defaults(run=_keys)

    accounts = commands.add_parser(
        "accounts", help="register FTS's and UTKO's personal accounts with a running stand's ESIA")
    accounts.add_argument("--esia-url", required=True, metavar="URL", help="ESIA as this command reaches it")
    accounts.add_argument("--account", action="append", required=True, metavar="SERVICE=URL",
                          help="an account and the URL browsers reach its service at (ESIA accepts its "
                               "URL/login/callback): fts=http://127.0.0.1:8002; repeatable")
    accounts.add_argument("--keys-dir", default=os.environ.get("GOSSTAND_ESIA_KEYS"), metavar="DIR",
                          help="the keys directory the services' replicas share, where each account's key pair "
                               "is (made there if absent) [GOSSTAND_ESIA_KEYS]")
    accounts.add_argument("--control-token", default=os.environ.get("GOSSTAND_CONTROL_TOKEN"), metavar="TOKEN",
                          help="ESIA's control API token [GOSSTAND_CONTROL_TOKEN]")
    accounts.add_argument("--wait", type=float, default=120.0, metavar="SECONDS",
                          help="how long to wait for ESIA to answer its health check (default 120)")
    accounts.set_defaults(run=_accounts)

    boxes = commands.add_parser("containers", help="images and leftovers of the container backend")
    boxes.add_argument("action", choices=["build", "clean"])
    how = boxes.add_mutually_exclusive_group()
    how.add_argument("--offline", action="store_true", help="debootstrap base + wheelhouse, no registry")
    how.add_argument("--registry", action="store_true", help="FROM python:3.11-slim, official redis/haproxy")
    boxes.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    boxes.add_argument("--images", action="store_true", help="clean: also remove the images gosstand built")
    boxes.add_argument("--load", action="store_true",
                       help="build: also gosstand-load, the mocks' image with the [load] extra (Locust on the "
                            "journeys: the Kubernetes base's Locust pod)")
    boxes.set_defaults(run=_containers)

    peak = commands.add_parser("peak", help="the main job: peak-hour load with failovers, report, verdict")
    _arguments_if_installed(peak, "load", _add_peak_arguments)
    peak.set_defaults(run=_peak)

    worker = commands.add_parser("worker", help="send a share of the load of `gosstand peak --master` on another host")
    _arguments_if_installed(worker, "load", _add_worker_arguments)
    worker.set_defaults(run=_worker)

    report = commands.add_parser("report", help="rebuild the report of a recorded run directory")
    report.add_argument("run_dir")
    report.add_argument("--slo", help="SLO file (default: the one the run used, else reports/slo.yaml)")
    report.add_argument("--output", help="write the report here (default: the run directory)")
    report.set_defaults(run=_report)

    replay = commands.add_parser(
        "replay", help="a traffic profile from a recorded peak: nginx or HAProxy access logs, HAR files")
    _arguments_if_installed(replay, "load", _add_replay_arguments)
    replay.set_defaults(run=_replay)

    seed = commands.add_parser("seed", help="fill a stand's FTS and UTKO stores with a year of data")
    seed.add_argument("--state-dir", help="the state directory a later `gosstand up --state-dir` serves")
    seed.add_argument("--fts-store", help="FTS store URL instead (sqlite:///file or redis://host:port/2)")
    seed.add_argument("--utko-store", help="UTKO store URL instead (sqlite:///file or redis://host:port/1)")
    seed.add_argument("--declarations", type=int, default=1_000_000, help="FTS declarations (default 1000000)")
    seed.add_argument("--objects", type=int, default=100_000, help="UTKO objects (default 100000)")
    seed.add_argument("--weight-controls", type=int, default=10_000,
                      help="weight controls over the first 10 objects (default 10000)")
    seed.add_argument("--seed", type=int, default=1, help="the same seed gives the same data")
    seed.set_defaults(run=_seed)

    conformance = commands.add_parser(
        "conformance", help="run the conformance suite; other options go to pytest (--esia-url …)")
    conformance.set_defaults(run=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    try:
        if args.command in COMMAND_EXTRAS:
            require(f"gosstand {args.command}", COMMAND_EXTRAS[args.command])
        if args.command == "up" and args.backend == "containers":
            require("gosstand up --backend containers", "containers")
    except MissingExtra as absent:
        print(absent, file=sys.stderr)
        return 2
    if args.command == "conformance":
        return _conformance(args, extra)
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
