"""Run one replica: ``python -m gosstand.mocks.core.serve`` with ``GOSSTAND_*`` settings.

Two servers can carry the app, chosen with ``GOSSTAND_SERVER`` (measured with
``benchmarks/http_stack.py``; figures in ``docs/performance.md``):

- ``granian`` (default): one worker process whose I/O runs in Rust threads;
- ``uvicorn`` with uvloop and httptools: one process, one thread (the ``[uvicorn]`` extra).

Either way the listening socket has SO_REUSEPORT, so N replica processes of a service bind the
same loopback port and the kernel spreads connections between them: when one is killed, new
connections go to the survivors.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterable

from ...extras import MissingExtra, require
from .settings import Settings


def _reuseport_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve_uvicorn(host: str, port: int, log_level: str) -> None:
    import uvicorn

    config = uvicorn.Config(
        "gosstand.mocks.core.app:app_from_env", factory=True, loop="uvloop", http="httptools",
        lifespan="off", access_log=False, log_level=log_level, server_header=False, date_header=False,
    )
    uvicorn.Server(config).run(sockets=[_reuseport_socket(host, port)])


def serve_granian(host: str, port: int, log_level: str) -> None:
    from granian import Granian
    from granian.constants import Interfaces, Loops
    from granian.log import LogLevels

    # asyncio named, not granian's "auto", which takes uvloop wherever it is installed (the
    # [uvicorn] extra brings it): a replica on granian runs the same loop on every install. uvloop
    # under granian cost a login the same CPU (``docs/performance.md``).
    Granian(
        "gosstand.mocks.core.app:app_from_env", factory=True, address=host, port=port,
        interface=Interfaces.ASGI, workers=1, log_level=LogLevels(log_level), loop=Loops.asyncio,
    ).serve()


SERVERS = {"uvicorn": serve_uvicorn, "granian": serve_granian}

#: What each server imports before it loads the app (see :func:`preload`).
SERVER_MODULES = {"granian": ("granian", "granian.constants", "granian.log", "granian.server.mp", "granian.asgi"),
                  "uvicorn": ("uvicorn", "uvloop", "httptools")}


def preload(services: Iterable[str], server: str = "granian") -> None:
    """Import what a replica of ``services`` runs on ``server`` — the app, each service's
    modules, the server — without starting anything: no store, no thread, no socket. A process
    that has done this forks replicas that start in a fraction of the time a fresh interpreter
    takes (``gosstand.stand.launcher``)."""
    import importlib

    from .app import app_from_env  # noqa: F401 — imported for the forked replicas
    from .service import REGISTRY

    for service in services:
        importlib.import_module(REGISTRY[service])
    for module in SERVER_MODULES.get(server, ()):
        try:
            importlib.import_module(module)
        except ImportError:  # the replica says so itself, in its log, as a fresh one would
            break


def exit_with_parent(parent_pid: int, *, interval: float = 1.0) -> threading.Thread:
    """Stop this replica (SIGTERM to itself, so the server shuts down its worker) once the
    process that started it is gone: a stack runner killed with SIGKILL leaves no replicas
    holding ports behind. Polling ``getppid`` works whichever thread spawned us, unlike
    ``PR_SET_PDEATHSIG``."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval)
        os.kill(os.getpid(), signal.SIGTERM)

    watcher = threading.Thread(target=watch, name="exit-with-parent", daemon=True)
    watcher.start()
    return watcher


#: A replica that cannot start says why in one line starting so (the stack runner shows it
#: instead of the log's tail).
REFUSAL = "gosstand replica:"


def port_taken(host: str, port: int) -> str | None:
    """Why ``port`` cannot be served, or ``None``. Sibling replicas share it through SO_REUSEPORT;
    any other listener makes the bind fail — which granian reports as a Rust panic with a
    backtrace, so it is tried here first, the way the server will bind."""
    try:
        _reuseport_socket(host, port).close()
    except OSError as exc:
        return f"port {port} on {host} is in use by another process ({exc.strerror})"
    return None


#: The line a replica starts its log with, naming what it was given (no secret in it).
STARTING = "gosstand replica"


def server_refusal(server: str) -> str | None:
    """Why a replica cannot run on ``server`` (``GOSSTAND_SERVER``) here, if it cannot: not a
    server of the stand, or one whose extra is not installed."""
    if server not in SERVERS:
        return f"GOSSTAND_SERVER must be one of {sorted(SERVERS)}, not {server!r}"
    if server == "uvicorn":
        try:
            require("GOSSTAND_SERVER=uvicorn", "uvicorn")
        except MissingExtra as absent:
            return str(absent)
    return None


def main() -> None:
    try:  # fail here, before the server starts, on bad settings: one line, not a traceback
        settings = Settings.from_env()
    except ValueError as exc:
        raise SystemExit(f"{REFUSAL} {exc}") from None
    if parent := os.environ.get("GOSSTAND_PARENT_PID"):
        exit_with_parent(int(parent))
    server = os.environ.get("GOSSTAND_SERVER", "granian")
    if refused := server_refusal(server):
        raise SystemExit(f"{REFUSAL} {refused}")
    host, port = os.environ.get("GOSSTAND_HOST", "127.0.0.1"), int(os.environ.get("GOSSTAND_PORT", "8000"))
    taken = port_taken(host, port)
    if taken:
        raise SystemExit(f"{REFUSAL} {taken}")
    # The mock's own log lines (an unexpected error's traceback, middleware.Unexpected) go to the
    # replica's log in the server's form: granian's and uvicorn's loggers leave the root alone.
    logging.basicConfig(level=logging.WARNING, format="[%(levelname)s] %(message)s", stream=sys.stderr)
    print(f"{STARTING} {settings.replica} ({settings.service}) starting on {host}:{port}; public URL "
          f"{settings.public_url}; ESIA issuer {settings.esia_issuer}", file=sys.stderr, flush=True)
    SERVERS[server](host, port, os.environ.get("GOSSTAND_LOG_LEVEL", "warning"))


if __name__ == "__main__":
    main()
