"""How many ESIA logins one replica completes a second with its core full.

    python benchmarks/login_rate.py [--seconds 10] [--clients 24] [--mode strict]
                                    [--baseline OTHER_CHECKOUT/.venv/bin/python --windows 8 --window-s 3]

``http_stack.py --only login`` measures the CPU of a login with the replica 60–76 % busy: its
httpx clients cost more CPU than the server, so on a 2-core machine they cannot fill the
server's core, and a server that is not full pays more for each request (it wakes, parks and
polls per request instead of per batch). A peak-hour run keeps replicas full, and "logins a
second per core" means a full core. Here the clients speak HTTP through :mod:`raw_http`, which
costs a fraction of the server's CPU per flow, so the replica is measured saturated.

One ESIA replica (granian, the embedded stack's SQLite store, ``--mode`` signature checks) runs
pinned to CPU 0 — every thread; ``--clients`` threads on CPU 1 each run the load runs' login
journey (``ac`` with a ``client_secret`` signed before the clock starts, login page, password,
the SMS code read through the control API, code page, code, ``te``, logout) for people whose
consent was given before the clock started. Printed: logins a second, the replica's share of
its core (a share under 90 % means the clients, not the replica, set the rate: the run says so
and exits 1), the replica's CPU per login (everything the flow sent it, the SMS read and the
logout included), and the clients' CPU per login. The issue's aim, 500 logins a second on one
core, was set on a machine whose bare ASGI app answered 47.5k requests a second; the run
measures the bare app the same way (``http_stack.py``'s, wrk on CPU 1) and prints the logins a
second scaled to that machine's speed by the ratio of the two bare rates. The ``client_secret``s
are signed for 600 logins a second over the run, twice this machine's fastest; a client that runs
out of them while the clock runs makes the run unmeasured (exit 1), never a login signed inside it.

``--baseline PYTHON`` compares this checkout with the one that interpreter imports. This VM's
speed drifts by tens of percent within minutes, so two whole runs one after the other compared
the machine's moments as much as the code (pair ratios 0.9–1.3 for the same code). Instead both
checkouts' stacks run at once — each ``PYTHON -m gosstand up --replicas 1`` (that checkout's
code, all three services, only ESIA loaded), both ESIA replicas on CPU 0 — and one set of
clients of this checkout's code on CPU 1 loads them in turn (:mod:`interleave`): ``--windows``
rounds, each a ``--window-s`` window per stack, the order reversed every other round, one stack
loaded at a time (a window opens with a 0.5-s warm-up and closes when the flows under way have
ended). Each stack is seeded as above; its ``client_secret``s are signed just before each of its
windows, so none is near ESIA's five-minute timestamp tolerance. Printed: each round's windows
(logins a second, the replica's share of its core, its CPU a login), the ratios this/baseline of
CPU a login and of logins a second round by round, and their medians. A first round is run and
not counted (the first window after seeding ran ~8 % dearer than the rest). Exits 1 when a login
fails or a replica was under 90 % busy in its median window; 2 when ``wrk`` (for the bare rate of a
single run) is missing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gosstand.scenarios import esia_login
from gosstand.scenarios.control import StackControl
from gosstand.stand.manifest import MANIFEST_NAME, StackManifest
from gosstand.stand.ports import free_port
from gosstand.stand.protocol import new_control_token
from gosstand.stand.stack import EmbeddedStack
from http_stack import (
    CLIENT_CPU,
    LOGIN_SCOPE,
    SERVER_CPU,
    _cpu_seconds,
    _pin,
    _seed_login,
    _wait,
    _wrk,
    allowed_cpus,
    group_pids,
)
from interleave import Window, compare_windows, window_order
from raw_http import RawHttpClient

#: The bare rate of the machine the issue's 500 logins/s were set on.
ISSUE_BARE_RATE = 47_500.0
SATURATED = 0.90
#: With ``--baseline``: each window's unmeasured start (every client past its first flow), the
#: longest wait for the flows under way when a window closes, and the pause before the next.
WARM_UP_S, DRAIN_LIMIT_S, SETTLE_S = 0.5, 10.0, 0.2
#: Logins a second the single run's and the first window's ``client_secret``s are signed for (later
#: windows: twice the stack's fastest window so far); far above this machine's rates.
FIRST_RATE_GUESS = 600.0
#: The single run's unmeasured start: every client past its first flow.
WARM_UP_SINGLE_S = 2.0
STARTUP_POLLS = 600  # 0.1 s apart: a minute for ``gosstand up``


def _bare_rate(duration: float) -> float:
    """The bare ASGI app's requests/s on CPU 0 under wrk on CPU 1, as ``http_stack.py`` serves it."""
    port = free_port()
    bare = subprocess.Popen([sys.executable, str(Path(__file__).parent / "http_stack.py"), "--serve-bare", str(port)],
                            start_new_session=True)
    try:
        _wait(f"http://127.0.0.1:{port}/")
        _pin(bare.pid, SERVER_CPU)
        return _wrk(f"http://127.0.0.1:{port}/", duration=duration, connections=32, headers={})
    finally:
        os.killpg(bare.pid, signal.SIGKILL)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """One saturated run: the figures (module docstring)."""
    os.sched_setaffinity(0, {SERVER_CPU})  # the stack's processes and threads inherit the pin
    with EmbeddedStack(replicas=1, services=("esia",), signature_mode=args.mode) as stack:
        replica = stack.replica("esia", 1).process.pid  # type: ignore[union-attr]
        _pin(replica, SERVER_CPU)
        os.sched_setaffinity(0, {CLIENT_CPU})
        rp, people, control = _seed_login(stack, people=args.clients)  # one person a client: one SMS outbox each
        esia = stack.urls["esia"]
        # Each client's bound, and the client_secrets signed for it before the clock: the first
        # guess's rate over the whole run (warm-up included). A client that reaches its bound while
        # the clock runs makes the run unmeasured (below), never a login signed inside the clock.
        flows_per_client = int((args.seconds + WARM_UP_SINGLE_S) * FIRST_RATE_GUESS / args.clients) + 10
        rp.presign(2 * (len(people) + args.clients * flows_per_client), LOGIN_SCOPE)
        for record in people:  # consent once per person, before the clock
            with RawHttpClient() as http:
                esia_login.login(http, esia_url=esia, rp=rp, login=record["phone"], password=record["password"],
                                 read_sms=control.read_sms, scope=LOGIN_SCOPE)
        stop = threading.Event()
        done = [0] * args.clients
        failures: list[str] = []

        def client(index: int) -> None:
            record = people[index % len(people)]
            with RawHttpClient() as http:
                sms = StackControl(stack.urls, stack.control_token, http=http)
                for _ in range(flows_per_client):
                    if stop.is_set():
                        return
                    try:
                        esia_login.login(http, esia_url=esia, rp=rp, login=record["phone"],
                                         password=record["password"], read_sms=sms.read_sms, scope=LOGIN_SCOPE)
                        esia_login.logout(http, esia_url=esia, rp=rp)
                    except Exception as exc:  # noqa: BLE001 — any failure ends the run and is reported
                        failures.append(f"{type(exc).__name__}: {exc}")
                        stop.set()
                        return
                    done[index] += 1

        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(args.clients)]
        for thread in threads:
            thread.start()
        time.sleep(min(WARM_UP_SINGLE_S, args.seconds / 4))  # every client past its first flow
        if allowed_cpus(replica) != {SERVER_CPU}:
            stop.set()
            raise SystemExit(f"the replica's pin did not hold: {sorted(allowed_cpus(replica))}")
        flows_before, server_before = sum(done), _cpu_seconds(replica)
        client_before, started = time.process_time(), time.monotonic()
        time.sleep(args.seconds)
        flows, server = sum(done) - flows_before, _cpu_seconds(replica) - server_before
        client_cpu, elapsed = time.process_time() - client_before, time.monotonic() - started
        stop.set()
        exhausted = max(done) >= flows_per_client
        for thread in threads:
            thread.join(timeout=30)
    bare = _bare_rate(5.0)
    return {"logins_per_s": flows / elapsed, "busy": server / elapsed, "server_cpu": server / max(flows, 1),
            "client_cpu": client_cpu / max(flows, 1), "flows": flows, "failures": failures, "bare": bare,
            "exhausted": exhausted, "flows_per_client": flows_per_client}


def _line(figures: dict[str, Any]) -> str:
    scaled = figures["logins_per_s"] * ISSUE_BARE_RATE / figures["bare"]
    return (f"{figures['logins_per_s']:6.0f} logins/s, replica {figures['busy']:4.0%} of its core, "
            f"{figures['server_cpu'] * 1e3:5.2f} ms of its CPU a login "
            f"(clients {figures['client_cpu'] * 1e3:4.2f} ms); "
            f"bare app {figures['bare']:6.0f} req/s here → {scaled:4.0f} logins/s at the issue machine's speed")


def _verdict(figures: dict[str, Any]) -> int:
    if figures["failures"]:
        print(f"FAIL: a login failed: {figures['failures'][0]}")
        return 1
    if figures["exhausted"]:
        print(f"NOT MEASURED: a client ran out of its {figures['flows_per_client']} signed flows while the clock ran "
              f"(the replica did more than {FIRST_RATE_GUESS:.0f} logins/s, the rate the run signed for)")
        return 1
    if figures["busy"] < SATURATED:
        print(f"NOT SATURATED: the replica had {figures['busy']:.0%} of its core (the clients or a busy machine set "
              "the rate); rerun with more --clients or on a quieter machine")
        return 1
    return 0


class Turn:
    """One stack's clients wait here for its windows: the gate opens, they run flows; it closes,
    and the closer waits until every flow under way has ended, so the next stack's window starts
    with this replica idle."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._open = self._ended = False
        self._running = 0

    def enter(self) -> bool:
        """Wait for the gate; ``False`` when the run has ended."""
        with self._cond:
            self._cond.wait_for(lambda: self._open or self._ended)
            if self._ended:
                return False
            self._running += 1
            return True

    def leave(self) -> None:
        with self._cond:
            self._running -= 1
            self._cond.notify_all()

    def open(self) -> None:
        with self._cond:
            self._open = True
            self._cond.notify_all()

    def close(self, timeout: float) -> bool:
        """Close the gate; whether every flow under way ended within ``timeout``."""
        with self._cond:
            self._open = False
            return self._cond.wait_for(lambda: self._running == 0, timeout)

    def end(self) -> None:
        with self._cond:
            self._ended = True
            self._cond.notify_all()


@dataclass
class CheckoutStack:
    """A checkout's stack as the windows load it: its manifest, its ESIA replica's process group,
    the relying party and people seeded in it, its clients' gate and their finished flows."""

    name: str
    manifest: StackManifest
    replica: int
    rp: Any
    people: list[dict]
    turn: Turn = field(default_factory=Turn)
    done: list[int] = field(default_factory=list)
    windows: list[Window] = field(default_factory=list)
    warm_ups: list[Window] = field(default_factory=list)


def _stop_group(process: subprocess.Popen[bytes], groups: list[int]) -> None:
    """``gosstand up`` stops its replicas on SIGTERM; if it does not within the wait, its group and
    the replicas' groups are killed."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    for group in groups:
        if group_pids(group):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)


@contextlib.contextmanager
def checkout_stack(python: str, mode: str, state_dir: Path) -> Iterator[tuple[StackManifest, int]]:
    """``PYTHON -m gosstand up --replicas 1`` — the stack of the checkout that interpreter imports,
    every process on CPU 0 — its manifest and its ESIA replica's process group; stopped on the
    way out, however the run ends. Run from ``state_dir`` so no checkout's folder shadows the
    interpreter's installed ``gosstand``."""
    state_dir.mkdir(parents=True)
    if os.sep in python:  # the subprocess runs elsewhere; a venv's python stays unresolved (not its link's target)
        python = os.path.abspath(python)
    manifest_path = state_dir / "stack" / MANIFEST_NAME
    with (state_dir / "up.log").open("wb") as log:
        up = subprocess.Popen(
            [python, "-m", "gosstand", "up", "--replicas", "1", "--state-dir", str(state_dir / "stack"),
             "--control-token", new_control_token(), "--signature-mode", mode],
            stdout=log, stderr=subprocess.STDOUT, cwd=state_dir, start_new_session=True,
            preexec_fn=lambda: os.sched_setaffinity(0, {SERVER_CPU}))
    groups: list[int] = []
    try:
        for _ in range(STARTUP_POLLS):
            if up.poll() is not None or manifest_path.exists():
                break
            time.sleep(0.1)
        if not manifest_path.exists():
            raise RuntimeError(f"{python} -m gosstand up did not come up (exit {up.poll()}):\n"
                               + (state_dir / "up.log").read_text(errors="replace")[-3000:])
        manifest = StackManifest.load(manifest_path)
        groups = [r.pid for members in manifest.replicas.values() for r in members if r.pid]
        replica = manifest.replica("esia", 1).pid
        if replica is None:
            raise RuntimeError(f"{manifest_path} names no process for esia-1")
        _pin(replica, SERVER_CPU)
        yield manifest, replica
    finally:
        _stop_group(up, groups)


def _flows_bound(args: argparse.Namespace) -> int:
    """Each client's most flows in the run: far above any rate here (every loop bounded)."""
    return int(args.windows * (args.window_s + WARM_UP_S) * 2000 / args.clients) + 10


def _client(stack: CheckoutStack, index: int, bound: int, failures: list[str], end: threading.Event) -> None:
    record = stack.people[index % len(stack.people)]
    esia = stack.manifest.urls["esia"]
    with RawHttpClient() as http:
        sms = StackControl(stack.manifest.urls, stack.manifest.control_token, http=http)
        for _ in range(bound):
            if not stack.turn.enter():
                return
            try:
                esia_login.login(http, esia_url=esia, rp=stack.rp, login=record["phone"],
                                 password=record["password"], read_sms=sms.read_sms, scope=LOGIN_SCOPE)
                esia_login.logout(http, esia_url=esia, rp=stack.rp)
            except Exception as exc:  # noqa: BLE001 — any failure ends the run and is reported
                failures.append(f"{stack.name}: {type(exc).__name__}: {exc}")
                end.set()
                return
            finally:
                stack.turn.leave()
            stack.done[index] += 1


def _prepare(name: str, manifest: StackManifest, replica: int, args: argparse.Namespace) -> CheckoutStack:
    """Seed the stack as the single run does, and give every person consent before the clock."""
    rp, people, control = _seed_login(manifest, people=args.clients)
    rp.top_up(2 * len(people), LOGIN_SCOPE)  # type: ignore[attr-defined]
    for record in people:
        with RawHttpClient() as http:
            esia_login.login(http, esia_url=manifest.urls["esia"], rp=rp, login=record["phone"],
                             password=record["password"], read_sms=control.read_sms, scope=LOGIN_SCOPE)
    if allowed_cpus(replica) != {SERVER_CPU}:
        raise SystemExit(f"{name}'s replica pin did not hold: {sorted(allowed_cpus(replica))}")
    return CheckoutStack(name, manifest, replica, rp, people, done=[0] * args.clients)


def _window(stack: CheckoutStack, args: argparse.Namespace, end: threading.Event, *, measured: bool = True) -> Window:
    """Sign this window's ``client_secret``s, open the gate, warm up, measure, close and drain."""
    seen = stack.warm_ups + stack.windows
    rate = 2 * max(w.logins_per_s for w in seen) if seen else FIRST_RATE_GUESS
    flows = int(rate * (WARM_UP_S + args.window_s)) + 2 * args.clients
    stack.rp.top_up(2 * flows, LOGIN_SCOPE)  # two signed requests a flow: ac and te
    stack.turn.open()
    end.wait(WARM_UP_S)
    flows_before, cpu_before, started = sum(stack.done), _cpu_seconds(stack.replica), time.monotonic()
    end.wait(args.window_s)
    window = Window(logins=sum(stack.done) - flows_before, seconds=time.monotonic() - started,
                    cpu=_cpu_seconds(stack.replica) - cpu_before)
    if not stack.turn.close(timeout=DRAIN_LIMIT_S):
        raise SystemExit(f"{stack.name}'s clients did not finish their flows within {DRAIN_LIMIT_S:g} s")
    time.sleep(SETTLE_S)
    (stack.windows if measured else stack.warm_ups).append(window)
    return window


def _window_text(window: Window) -> str:
    return (f"{window.logins_per_s:4.0f} logins/s, replica {window.busy:4.0%}, "
            f"{window.cpu_per_login * 1e3:5.2f} ms a login")


def compare(args: argparse.Namespace) -> int:
    """Both checkouts' stacks up at once, loaded in turn in short windows (module docstring)."""
    print(f"ESIA logins, one replica per checkout on CPU {SERVER_CPU} (loaded one at a time), {args.clients} raw "
          f"clients on CPU {CLIENT_CPU}, {args.mode}; {args.windows} windows of {args.window_s:g} s each; "
          f"baseline {args.baseline}, this {sys.executable}", flush=True)
    signal.signal(signal.SIGTERM, _exit_on_signal)  # so the stacks below are stopped on a kill too
    began = time.monotonic()
    failures: list[str] = []
    end = threading.Event()
    with tempfile.TemporaryDirectory(prefix="login-rate-") as scratch, contextlib.ExitStack() as running:
        stacks: dict[str, CheckoutStack] = {}
        for name, python in (("baseline", args.baseline), ("this", sys.executable)):
            manifest, replica = running.enter_context(checkout_stack(python, args.mode, Path(scratch) / name))
            os.sched_setaffinity(0, {CLIENT_CPU})  # the clients' threads inherit it
            stacks[name] = _prepare(name, manifest, replica, args)
        threads = [threading.Thread(target=_client, args=(stack, i, _flows_bound(args), failures, end), daemon=True)
                   for stack in stacks.values() for i in range(args.clients)]
        for thread in threads:
            thread.start()
        try:
            for stack in stacks.values():  # unmeasured: the first window after seeding ran ~8 % dearer
                _window(stack, args, end, measured=False)
            for round_, name in window_order(list(stacks), args.windows):
                _window(stacks[name], args, end)
                if end.is_set():
                    break
                if all(len(stack.windows) == round_ + 1 for stack in stacks.values()):
                    first = "baseline" if round_ % 2 == 0 else "this"
                    print(f"  window {round_ + 1:2} ({first:8} first)  "
                          f"baseline: {_window_text(stacks['baseline'].windows[-1])}  |  "
                          f"this: {_window_text(stacks['this'].windows[-1])}", flush=True)
        finally:
            end.set()
            for stack in stacks.values():
                stack.turn.end()
            for thread in threads:
                thread.join(timeout=DRAIN_LIMIT_S)
    print(f"(stacks up, seeded, signed for and measured in {time.monotonic() - began:.0f} s)")
    return _summary(stacks, failures)


def _summary(stacks: dict[str, CheckoutStack], failures: list[str]) -> int:
    if failures:
        print(f"FAIL: a login failed: {failures[0]}")
        return 1
    this, baseline = stacks["this"].windows, stacks["baseline"].windows
    rounds = min(len(this), len(baseline))
    ratios = compare_windows(this[:rounds], baseline[:rounds])
    print("CPU a login this/baseline, window by window: "
          f"{', '.join(f'{r:.2f}' for r in ratios.cpu_ratios)}; median {ratios.cpu_median:.3f}")
    print("logins/s this/baseline, window by window:    "
          f"{', '.join(f'{r:.2f}' for r in ratios.rate_ratios)}; median {ratios.rate_median:.3f}")
    verdict = 0
    for name, windows in (("baseline", baseline), ("this", this)):
        busy = statistics.median(w.busy for w in windows)
        print(f"  {name:8} median: {statistics.median(w.logins_per_s for w in windows):4.0f} logins/s, "
              f"{statistics.median(w.cpu_per_login for w in windows) * 1e3:5.2f} ms of replica CPU a login, "
              f"replica {busy:4.0%} of its core")
        if busy < SATURATED:
            print(f"NOT SATURATED: {name}'s replica had {busy:.0%} of its core in the median window (the clients or "
                  "a busy machine set the rate); rerun with more --clients or on a quieter machine")
            verdict = 1
    return verdict


def _exit_on_signal(signum: int, _frame: object) -> None:
    print(f"stopped by signal {signum}: stopping the stacks", file=sys.stderr, flush=True)
    raise SystemExit(128 + signum)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds measured, after a warm-up")
    parser.add_argument("--clients", type=int, default=24, help="client threads, each one login after another")
    parser.add_argument("--mode", choices=["strict", "structural", "off"], default="strict")
    parser.add_argument("--baseline", metavar="PYTHON",
                        help="compare with the checkout this interpreter imports, window by window")
    parser.add_argument("--windows", type=int, default=8, help="with --baseline: measuring windows per checkout")
    parser.add_argument("--window-s", type=float, default=3.0, help="with --baseline: seconds of one window")
    args = parser.parse_args()
    if args.windows < 1 or args.window_s <= 0 or args.clients < 1:
        parser.error("--windows, --window-s and --clients must be positive")
    if args.baseline:
        return compare(args)
    if shutil.which("wrk") is None:  # the bare app's rate, which the logins are scaled by, is wrk's
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 2
    figures = measure(args)
    print(f"ESIA, one replica on CPU {SERVER_CPU}, {args.clients} raw clients on CPU {CLIENT_CPU}, {args.mode}, "
          f"{args.seconds:g} s: {figures['flows']} logins")
    print("  " + _line(figures))
    return _verdict(figures)


if __name__ == "__main__":
    sys.exit(main())
