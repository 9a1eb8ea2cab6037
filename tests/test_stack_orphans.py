"""Replicas do not outlive the runner that started them.

A stack runner killed with SIGKILL (a CI job cancelled, an OOM kill) runs no clean-up; its
replicas must still stop, or they keep ports and files and the next run trips over them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

RUNNER = """
import sys, time
from gosstand.stand.stack import EmbeddedStack
stack = EmbeddedStack(replicas=1, services=("fts",)).start()
print(stack.replica("fts", 1).process.pid, flush=True)
time.sleep(600)
"""


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


def test_replicas_stop_when_their_runner_is_killed():
    runner = subprocess.Popen([sys.executable, "-c", RUNNER], stdout=subprocess.PIPE, text=True)
    try:
        replica_pid = int(runner.stdout.readline())  # type: ignore[union-attr]
        assert not _gone(replica_pid)
        runner.send_signal(signal.SIGKILL)
        runner.wait(timeout=10)
        deadline = time.monotonic() + 30  # waiting on another process, not on the mock's clock
        while not _gone(replica_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _gone(replica_pid), "the replica outlived its runner"
    finally:
        if runner.poll() is None:
            runner.kill()
        try:
            os.killpg(replica_pid, signal.SIGKILL)
        except (ProcessLookupError, UnboundLocalError, PermissionError):
            pass
