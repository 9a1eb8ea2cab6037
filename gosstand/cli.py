"""The ``gosstand`` command: one entry point for every kind of user.

    gosstand up          start the mock stack (embedded replicas on loopback) until Ctrl-C
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
    from gosstand.mocks.stack import EmbeddedStack

    stack = EmbeddedStack(
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
        print(f"gosstand stack up: {args.replicas} replica(s) per service, state in {stack.state_dir}")
        for service, url in stack.urls.items():
            print(f"  {service:5} {url}   (contract: {url}/_gosstand/openapi.yaml)")
        print(f"  control token: {stack.control_token}")
        print(f"  manifest: {stack.state_dir}/stack.json")
        print("Ctrl-C stops it.", flush=True)
        while not stopping:
            signal.pause()
    print("stopped")
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
    up.set_defaults(run=_up)

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
