"""``gosstand worker --master-host HOST``: this host's share of a load run whose master is
``gosstand peak --master`` on another one.

It needs nothing but an install of gosstand: Locust runs the package's locustfile as a worker
(``GOSSTAND_REMOTE_WORKER``), which learns the stand's URLs, the run's parameters and its share
of the people from the master when it joins, and streams its records back
(:mod:`~gosstand.loadtests.distributed`). Locust replaces this process, so a signal meant for the
worker reaches it; its exit code is the command's (2: the master refused it).
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib import resources
from pathlib import Path

from .distributed import REMOTE_WORKER_ENV

__all__ = ["add_arguments", "locust_command", "run_worker"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--master-host", required=True, metavar="HOST",
                        help="the host of `gosstand peak --master` (its address as this host reaches it)")
    parser.add_argument("--master-port", type=int, default=5557, metavar="PORT",
                        help="its --master-bind-port (default 5557)")
    parser.add_argument("--loglevel", default="WARNING", help="Locust's log level (default WARNING)")


def locust_command(args: argparse.Namespace) -> list[str]:
    locustfile = Path(str(resources.files("gosstand.loadtests").joinpath("locustfile.py")))
    return [sys.executable, "-m", "locust", "-f", str(locustfile), "--worker", "--master-host", args.master_host,
            "--master-port", str(args.master_port), "--loglevel", args.loglevel]


def run_worker(args: argparse.Namespace) -> int:
    command = locust_command(args)
    os.execve(command[0], command, {**os.environ, REMOTE_WORKER_ENV: "1"})
