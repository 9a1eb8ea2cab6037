"""A run's canaries, seen from ``gosstand peak``: one :mod:`.canary` process per service, started
before the load, judged on their first second, stopped after the load.

Each canary tells its parent two things on its standard output, one JSON line each: how its
first second went (every request of it ended) and, when it stops, its summary (requests, failures
by class, late starts, its own CPU seconds). Its records go to ``canary-<service>.jsonl`` and
what it logs to ``canary-<service>.log`` in the run directory.

The run is broken (its reasons go to ``run.json``'s ``problems``) when a canary never reached its
service in its first second — its figures would show an outage that is the canary's, and the
load has not started yet, so nothing is lost by stopping there — and when one ended before it
was stopped: its record would not cover the load.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["Canaries", "start_canaries"]

#: How long a canary may take to start and finish its first second before the run gives up.
FIRST_SECOND_WAIT_S = 20.0
#: How long after the run's own bound a canary goes on if nobody stops it.
MARGIN_S = 30.0


@dataclass
class _Running:
    service: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    pending: bytes = b""
    messages: list[dict[str, Any]] = field(default_factory=list)

    def message(self, key: str, deadline: float) -> dict[str, Any] | None:
        """The canary's ``key`` message, reading its output until ``deadline`` (monotonic)."""
        while True:
            for message in self.messages:
                if key in message:
                    return dict(message[key])
            if not self._read(deadline):
                return None

    def _read(self, deadline: float) -> bool:
        stdout = self.process.stdout
        assert stdout is not None
        while b"\n" not in self.pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([stdout], [], [], remaining)[0]:
                return False
            chunk = os.read(stdout.fileno(), 65536)
            if not chunk:
                return False  # it exited
            self.pending += chunk
        line, _, self.pending = self.pending.partition(b"\n")
        try:
            self.messages.append(json.loads(line))
        except json.JSONDecodeError:
            pass  # not a message; its log has what it said
        return True


class Canaries:
    """The running canaries of one run (none when the run has them off)."""

    def __init__(self, running: list[_Running], *, timeout: float) -> None:
        self._running = running
        self._timeout = timeout
        self._stopped: tuple[dict[str, dict[str, Any]], list[str]] | None = None

    @property
    def services(self) -> list[str]:
        return [canary.service for canary in self._running]

    def unreachable(self, *, wait_s: float = FIRST_SECOND_WAIT_S) -> list[str]:
        """Wait for each canary's first second; one sentence per canary that reached its
        service with none of its requests (or never got going)."""
        deadline = time.monotonic() + wait_s
        problems = []
        for canary in self._running:
            first = canary.message("first_second", deadline)
            if first is None:
                code = canary.process.poll()
                state = f"exited with code {code}" if code is not None else f"said nothing within {wait_s:g} s"
                problems.append(f"the {canary.service} canary {state} before its first second; see {canary.log}")
            elif not first.get("ok"):
                failures = first.get("failures") or {}
                classes = ", ".join(f"{name} {count}" for name, count in sorted(failures.items()))
                hint = f" — is --canary-timeout ({self._timeout:g} s) long enough?" if "timeout" in failures else ""
                problems.append(f"the {canary.service} canary could not reach its service: all {first.get('sent')} "
                                f"requests of its first second ({first.get('request')}) failed ({classes}; first: "
                                f"{first.get('error')}){hint}")
        return problems

    def stop(self) -> tuple[dict[str, dict[str, Any]], list[str]]:
        """Stop them all; each one's summary by service, and a sentence per canary that had
        ended before it was stopped (its record does not cover the load)."""
        if self._stopped is not None:
            return self._stopped
        problems = []
        ended_early = {canary.service: canary.process.poll() for canary in self._running}
        for canary in self._running:
            if canary.process.poll() is None:
                canary.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self._timeout + 5.0
        summaries: dict[str, dict[str, Any]] = {}
        for canary in self._running:
            summary = canary.message("summary", deadline)
            try:
                canary.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                canary.process.kill()
                canary.process.wait()
            if canary.process.stdout is not None:
                canary.process.stdout.close()
            if summary is not None:
                summaries[canary.service] = summary
            code = ended_early[canary.service]
            if code is not None:
                problems.append(f"the {canary.service} canary ended during the load (exit code {code}), so its "
                                f"record does not cover it; see {canary.log}")
            elif summary is None:
                problems.append(f"the {canary.service} canary gave no summary when stopped; see {canary.log}")
        self._stopped = (summaries, problems)
        return self._stopped

    def __enter__(self) -> Canaries:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()


def start_canaries(urls: Mapping[str, str], *, external: Collection[str], run_dir: Path, rate: float,
                   timeout: float, lasts_s: float) -> Canaries:
    """A canary per service of ``urls`` (``external``: the user's systems, ``--target``), each
    bounded to ``lasts_s`` seconds from now plus a margin; none when ``rate`` is 0."""
    running: list[_Running] = []
    if rate <= 0:
        return Canaries(running, timeout=timeout)
    until = time.time() + lasts_s + MARGIN_S
    for service, url in urls.items():
        log = run_dir / f"canary-{service}.log"
        command = [sys.executable, "-m", "gosstand.loadtests.canary", "--service", service, "--url", url,
                   "--output", str(run_dir / f"canary-{service}.jsonl"), "--rate", f"{rate:g}",
                   "--timeout", f"{timeout:g}", "--until", f"{until:.3f}",
                   *(["--external"] if service in external else [])]
        with log.open("wb") as log_file:
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log_file, stdin=subprocess.DEVNULL)
        running.append(_Running(service=service, url=url, process=process, log=log))
    return Canaries(running, timeout=timeout)
