"""Replicas forked from one process that has already imported them.

A replica started as a fresh interpreter spends most of its start importing (about 0.5 s of CPU
for the app, its service and granian, more where ``PYTHONDONTWRITEBYTECODE`` makes every start
compile the project's modules again); six replicas on two cores queued behind each other for
3.7 s. The embedded stack instead starts one *launcher* per stack (``python -m
gosstand.stand.launcher SERVICE…``), which imports what those services' replicas run
(:func:`gosstand.mocks.core.serve.preload`) once, then forks a replica whenever the stack asks.

A forked replica is what ``python -m gosstand.mocks.core.serve`` would be: its own process and
process group (so a failover kills it, and granian's worker with it, by its pid, as before), its
own environment (the stack's, with its settings), stdin from ``/dev/null`` and its output in its
log. Only its parent differs: the launcher, which reaps it and tells the stack its exit status.
The launcher ends when the stack's process does (its stdin closes, or its parent changes), and
each replica when its launcher does (``GOSSTAND_PARENT_PID``), so a killed runner leaves no
replicas behind.

The two talk in JSON lines: the stack writes ``{"env": {...}, "log": "path"}`` to the launcher's
stdin and reads back ``{"pid": N, "serial": K}`` (or ``{"error": "why"}``; ``K`` counts the
forks, so a later replica given a reused pid is not taken for an earlier one); ``{"exited": N,
"serial": K, "code": C}`` follows whenever a replica ends (``C`` as
:attr:`subprocess.Popen.returncode`: minus the signal's number for a replica killed by one).
"""

from __future__ import annotations

import gc
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any, Self

__all__ = ["ForkedReplica", "Launcher", "LauncherError"]

#: How often the launcher checks that the stack's process is still its parent.
_PARENT_CHECK_SECONDS = 0.5
#: The longest a line of the protocol may be (a replica's environment): bounds what is buffered.
_MAX_LINE = 1 << 20


class LauncherError(RuntimeError):
    """The launcher could not start, or ended, or refused to fork a replica."""


# -- the stack's side -------------------------------------------------------------------------
class Launcher:
    """The stack's handle on its launcher process. Thread-safe: a failover thread may restart a
    replica while another thread polls the others."""

    def __init__(self, process: subprocess.Popen[bytes], log: Path) -> None:
        self.process, self.log = process, log
        self._lock = threading.Lock()
        self._buffer = b""
        self._replies: list[dict[str, Any]] = []
        self._exits: dict[tuple[int, int], int] = {}  # (pid, serial) → status
        self._ended = False

    @classmethod
    def start(cls, services: Iterable[str], *, log: Path) -> Self:
        """Start a launcher for replicas of ``services``; it imports them while the caller goes on
        (the first :meth:`spawn` waits for that). Its own output goes to ``log``."""
        with log.open("ab") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "gosstand.stand.launcher", *services],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=output,
                start_new_session=True,  # like the replicas: Ctrl-C in a terminal reaches the stack alone
            )
        return cls(process, log)

    def spawn(self, env: Mapping[str, str], log: Path, *, timeout: float = 60.0) -> ForkedReplica:
        """Fork a replica with environment ``env`` (the whole of it) writing to ``log``."""
        request = json.dumps({"env": dict(env), "log": str(log)}).encode() + b"\n"
        with self._lock:
            assert self.process.stdin is not None
            try:
                self.process.stdin.write(request)
                self.process.stdin.flush()
            except (BrokenPipeError, ValueError):
                raise LauncherError(self._why_ended()) from None
            deadline = time.monotonic() + timeout
            while not self._replies:
                if self._ended:
                    raise LauncherError(self._why_ended())
                left = deadline - time.monotonic()
                if left <= 0:
                    raise LauncherError(f"the replica launcher did not fork a replica within {timeout:g} s")
                self._collect(left)
            reply = self._replies.pop(0)
        if "pid" not in reply:
            raise LauncherError(f"the replica launcher could not fork a replica: {reply.get('error', reply)}")
        return ForkedReplica(self, int(reply["pid"]), int(reply["serial"]))

    def exit_code(self, replica: ForkedReplica, timeout: float = 0.0) -> int | None:
        """``replica``'s exit status if it has ended, waiting up to ``timeout`` seconds. The lock
        is let go every few milliseconds, so other threads' polls go on meanwhile."""
        deadline = time.monotonic() + timeout
        key = (replica.pid, replica.serial)
        while True:
            with self._lock:
                if key not in self._exits and not self._ended:
                    self._collect(min(max(0.0, deadline - time.monotonic()), 0.05))
                if key in self._exits:
                    return self._exits[key]
                if self._ended and _gone(replica.pid):
                    return self._exits.setdefault(key, -1)  # it ended after the launcher: nobody saw how
            if time.monotonic() >= deadline:
                return None
            if self._ended:
                time.sleep(0.05)

    def close(self, timeout: float = 5.0) -> None:
        """End the launcher (the replicas it forked should have been stopped first: they end
        within a second of it)."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            try:
                self.process.stdin.close()
            except BrokenPipeError:
                pass
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        with self._lock:  # a later poll asks /proc, not the closed pipe
            self._ended = True
            if self.process.stdout is not None:
                self.process.stdout.close()

    # -- reading what the launcher says (called with the lock held) --
    def _collect(self, timeout: float) -> None:
        """Read what the launcher has written within ``timeout`` seconds; record it."""
        stdout = self.process.stdout
        assert stdout is not None
        if self._ended:
            return
        ready, _, _ = select.select([stdout], [], [], timeout)
        if not ready:
            return
        chunk = os.read(stdout.fileno(), 65536)
        if not chunk:
            self._ended = True
            return
        self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            message = json.loads(line)
            if "exited" in message:
                self._exits[(int(message["exited"]), int(message["serial"]))] = int(message["code"])
            else:
                self._replies.append(message)

    def _why_ended(self) -> str:
        code = self.process.poll()
        tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
        return f"the replica launcher ended (exit status {code}): {tail or 'it said nothing'}"


class ForkedReplica:
    """A replica the launcher forked, with the part of :class:`subprocess.Popen`'s interface the
    stack and its callers use: ``pid``, ``returncode``, ``poll()``, ``wait(timeout)``."""

    def __init__(self, launcher: Launcher, pid: int, serial: int) -> None:
        #: ``serial`` tells this replica's exit from an earlier one's that had the same pid.
        self.launcher, self.pid, self.serial = launcher, pid, serial
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.launcher.exit_code(self)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self.returncode = self.launcher.exit_code(self, timeout=1e9 if timeout is None else timeout)
        if self.returncode is None:
            raise subprocess.TimeoutExpired(f"replica {self.pid}", timeout or 0.0)
        return self.returncode

    def __repr__(self) -> str:
        return f"ForkedReplica(pid={self.pid}, returncode={self.returncode})"


def _gone(pid: int) -> bool:
    """Whether ``pid`` has left the process table, or is a zombie its new parent has not reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return True
    return state in ("Z", "X")


# -- the launcher's side ----------------------------------------------------------------------
#: The descriptor the launcher answers the stack on: its stdout as started, moved aside so that
#: nothing else the process prints (a library at import) lands in the protocol.
_answers = 1


def _send(message: dict[str, Any]) -> None:
    """One line to the stack. Written straight to the descriptor: nothing stays in a buffer a
    forked replica could flush into its log."""
    data = json.dumps(message).encode() + b"\n"
    while data:
        data = data[os.write(_answers, data):]


def _become_replica(env: dict[str, str], log: str, keep_out: Iterable[int]) -> None:
    """In the forked child: the process a fresh ``python -m gosstand.mocks.core.serve`` would be;
    never returns."""
    code = 1
    try:
        os.setsid()
        signal.set_wakeup_fd(-1)
        for number in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(number, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)  # as a fresh interpreter has it
        for fd in keep_out:
            os.close(fd)
        null = os.open(os.devnull, os.O_RDONLY)
        output = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(null, 0)
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.close(null)
        os.close(output)
        os.environ.clear()
        os.environ.update(env)
        os.environ["GOSSTAND_PARENT_PID"] = str(os.getppid())  # it ends with the launcher
        from ..mocks.core import serve

        serve.main()
        code = 0
    except SystemExit as stop:
        if isinstance(stop.code, int):
            code = stop.code
        elif stop.code is None:
            code = 0
        else:  # a refusal: printed as the interpreter prints it
            print(stop.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)


def _status(wait_status: int) -> int:
    return -os.WTERMSIG(wait_status) if os.WIFSIGNALED(wait_status) else os.waitstatus_to_exitcode(wait_status)


def _reap(serials: dict[int, int]) -> None:
    """Collect every ended child and tell the stack."""
    while True:
        try:
            pid, wait_status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _send({"exited": pid, "serial": serials.pop(pid, 0), "code": _status(wait_status)})


def _serve_requests(stdin: IO[bytes], wakeup: int, wakeup_write: int, parent: int) -> None:
    buffer = b""
    serials: dict[int, int] = {}  # each living replica's pid → the how-manieth fork it was
    forked = 0
    while os.getppid() == parent:
        ready, _, _ = select.select([stdin.fileno(), wakeup], [], [], _PARENT_CHECK_SECONDS)
        if wakeup in ready:
            try:
                os.read(wakeup, 4096)
            except BlockingIOError:
                pass
            _reap(serials)
        if stdin.fileno() not in ready:
            continue
        chunk = os.read(stdin.fileno(), 65536)
        if not chunk:
            return  # the stack closed us, or its process ended
        buffer += chunk
        if len(buffer) > _MAX_LINE and b"\n" not in buffer:
            raise SystemExit(f"a request of more than {_MAX_LINE} bytes without a line end")
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            request = json.loads(line)
            try:
                pid = os.fork()
            except OSError as exc:
                _send({"error": f"fork: {exc.strerror}"})
                continue
            if pid == 0:
                _become_replica(request["env"], request["log"], (wakeup, wakeup_write, _answers))
            forked += 1
            serials[pid] = forked
            _send({"pid": pid, "serial": forked})


def main(services: list[str]) -> None:
    global _answers
    parent = os.getppid()
    _answers = os.dup(1)
    os.dup2(2, 1)  # print() and C libraries write to the launcher's log from here on
    from ..mocks.core import serve

    serve.preload(services, os.environ.get("GOSSTAND_SERVER", "granian"))
    if threading.active_count() != 1:  # a fork copies no other thread: a lock one held stays held
        raise SystemExit(f"importing the replicas started threads ({threading.enumerate()}): cannot fork them")
    gc.collect()
    gc.freeze()  # what was imported stays shared with every replica instead of being copied on write
    wakeup, wakeup_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wakeup_write)
    signal.signal(signal.SIGCHLD, lambda number, frame: None)  # wakes the select; _reap does the work
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the stack decides when its replicas stop
    _serve_requests(sys.stdin.buffer, wakeup, wakeup_write, parent)


if __name__ == "__main__":
    main(sys.argv[1:])
