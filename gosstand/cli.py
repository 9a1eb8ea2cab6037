"""The ``gosstand`` command: one entry point for every kind of user.

    gosstand up          start the mock stack (embedded replicas on loopback) until Ctrl-C
                         (--backend containers: Docker replicas behind HAProxy, state in Redis)
    gosstand containers  build|clean: the container images (--offline/--registry), leftovers
    gosstand peak        the main job: stack + peak-hour load + failovers + report + verdict
    gosstand report DIR  rebuild the report of a recorded run
    gosstand conformance run the conformance suite against the stack or any target
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path


def _up(args: argparse.Namespace) -> int:
    from gosstand.mocks.containers import ContainerStack
    from gosstand.mocks.stack import EmbeddedStack

    stack_class = ContainerStack if args.backend == "containers" else EmbeddedStack
    stack = stack_class(
        replicas=args.replicas,
        state_dir=Path(args.state_dir) if args.state_dir else None,
        signature_mode=args.signature_mode,
        **({"control_token": args.control_token} if args.control_token else {}),
    )
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with stack:
        print(f"gosstand stack up ({args.backend}): {args.replicas} replica(s) per service, "
              f"state in {stack.state_dir}")
        for service, url in stack.urls.items():
            print(f"  {service:5} {url}   (contract: {url}/_gosstand/openapi.yaml)")
        print(f"  control token: {stack.control_token}")
        print(f"  manifest: {stack.state_dir}/stack.json")
        print("Ctrl-C stops it.", flush=True)
        while not stopping:
            signal.pause()
    print("stopped")
    return 0


def _containers(args: argparse.Namespace) -> int:
    from gosstand.mocks import containers, images

    if args.action == "build":
        mode = "offline" if args.offline else "registry" if args.registry else None
        print(images.describe(images.build_images(mode=mode, force=args.force)))
    else:
        for name in containers.clean():
            print(f"removed container {name}")
        if args.images:
            for tag in images.remove_images(images.docker_client()):
                print(f"removed image {tag}")
    return 0


def _peak(args: argparse.Namespace) -> int:
    from gosstand.loadtests.run import run_peak

    return run_peak(args)


def _report(args: argparse.Namespace) -> int:
    from gosstand.reports.cli import main as report_main

    argv = [args.run_dir]
    if args.slo:
        argv += ["--slo", args.slo]
    if args.output:
        argv += ["--output", args.output]
    return report_main(argv)


def _conformance(args: argparse.Namespace, extra: list[str]) -> int:
    import pytest

    return int(pytest.main(["--pyargs", "gosstand.conformance", "-p", "no:cacheprovider", *extra]))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gosstand", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="start the mock stack until Ctrl-C")
    up.add_argument("--replicas", type=int, default=2, help="replica processes per service (default 2)")
    up.add_argument("--state-dir", help="keep state here (default: a temporary directory)")
    up.add_argument("--control-token", help="token of the control API (default: random, printed)")
    up.add_argument("--signature-mode", choices=["strict", "structural", "off"], default="strict")
    up.add_argument("--backend", choices=["embedded", "containers"], default="embedded",
                    help="processes on loopback (default) or Docker containers behind HAProxy with Redis")
    up.set_defaults(run=_up)

    boxes = commands.add_parser("containers", help="images and leftovers of the container backend")
    boxes.add_argument("action", choices=["build", "clean"])
    how = boxes.add_mutually_exclusive_group()
    how.add_argument("--offline", action="store_true", help="debootstrap base + wheelhouse, no registry")
    how.add_argument("--registry", action="store_true", help="FROM python:3.11-slim, official redis/haproxy")
    boxes.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    boxes.add_argument("--images", action="store_true", help="clean: also remove the images gosstand built")
    boxes.set_defaults(run=_containers)

    peak = commands.add_parser("peak", help="the main job: peak-hour load with failovers, report, verdict")
    from gosstand.loadtests.run import add_arguments

    add_arguments(peak)
    peak.set_defaults(run=_peak)

    report = commands.add_parser("report", help="rebuild the report of a recorded run directory")
    report.add_argument("run_dir")
    report.add_argument("--slo", help="SLO file (default: the one the run used, else reports/slo.yaml)")
    report.add_argument("--output", help="write the report here (default: the run directory)")
    report.set_defaults(run=_report)

    conformance = commands.add_parser(
        "conformance", help="run the conformance suite; other options go to pytest (--esia-url …)")
    conformance.set_defaults(run=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "conformance":
        return _conformance(args, extra)
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
