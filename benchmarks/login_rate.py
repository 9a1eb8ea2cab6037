"""How many ESIA logins one replica completes a second with its core full.

    python benchmarks/login_rate.py [--seconds 10] [--clients 24] [--mode strict]
                                    [--baseline OTHER_CHECKOUT/.venv/bin/python --pairs 3]

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
second scaled to that machine's speed by the ratio of the two bare rates.

``--baseline PYTHON`` runs the same measurement with another checkout's interpreter (this script,
that checkout's mocks) and this one by turns, ``--pairs`` times, and prints each pair's ratio of
logins a second and their median. Exits 1 when a login fails or the replica was not saturated.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from gosstand.scenarios import esia_login
from gosstand.scenarios.control import StackControl
from gosstand.stand.ports import free_port
from gosstand.stand.stack import EmbeddedStack
from http_stack import CLIENT_CPU, LOGIN_SCOPE, SERVER_CPU, _cpu_seconds, _pin, _seed_login, _wait, _wrk, allowed_cpus
from raw_http import RawHttpClient

#: The bare rate of the machine the issue's 500 logins/s were set on.
ISSUE_BARE_RATE = 47_500.0
SATURATED = 0.90


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
        flows_per_client = int(args.seconds * 2000 / args.clients) + 10  # the bound: far above any rate here
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
        time.sleep(min(2.0, args.seconds / 4))  # every client past its first flow
        if allowed_cpus(replica) != {SERVER_CPU}:
            stop.set()
            raise SystemExit(f"the replica's pin did not hold: {sorted(allowed_cpus(replica))}")
        flows_before, server_before = sum(done), _cpu_seconds(replica)
        client_before, started = time.process_time(), time.monotonic()
        time.sleep(args.seconds)
        flows, server = sum(done) - flows_before, _cpu_seconds(replica) - server_before
        client_cpu, elapsed = time.process_time() - client_before, time.monotonic() - started
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    bare = _bare_rate(5.0)
    return {"logins_per_s": flows / elapsed, "busy": server / elapsed, "server_cpu": server / max(flows, 1),
            "client_cpu": client_cpu / max(flows, 1), "flows": flows, "failures": failures, "bare": bare}


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
    if figures["busy"] < SATURATED:
        print(f"NOT SATURATED: the replica had {figures['busy']:.0%} of its core (the clients or a busy machine set "
              "the rate); rerun with more --clients or on a quieter machine")
        return 1
    return 0


def _run(python: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [python, __file__, "--json", "--seconds", str(args.seconds), "--clients", str(args.clients),
               "--mode", args.mode]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"{python} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def compare(args: argparse.Namespace) -> int:
    print(f"ESIA logins/s, one replica saturated on CPU {SERVER_CPU}, {args.clients} raw clients on CPU "
          f"{CLIENT_CPU}, {args.mode}; baseline {args.baseline}, this {sys.executable}")
    ratios, verdict = [], 0
    for pair in range(1, args.pairs + 1):
        base, this = _run(args.baseline, args), _run(sys.executable, args)
        ratios.append(this["logins_per_s"] / base["logins_per_s"])
        print(f"  pair {pair} baseline: {_line(base)}\n  pair {pair} this:     {_line(this)}\n"
              f"  pair {pair} ratio this/baseline {ratios[-1]:.2f} "
              f"(CPU a login {this['server_cpu'] / base['server_cpu']:.2f}×)",
              flush=True)
        verdict |= _verdict(base) | _verdict(this)
    print(f"median ratio of logins/s this/baseline: {statistics.median(ratios):.2f}")
    return verdict


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds measured, after a warm-up")
    parser.add_argument("--clients", type=int, default=24, help="client threads, each one login after another")
    parser.add_argument("--mode", choices=["strict", "structural", "off"], default="strict")
    parser.add_argument("--baseline", metavar="PYTHON", help="alternate with the checkout this interpreter imports")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # one run's figures, for --baseline
    args = parser.parse_args()
    if args.baseline:
        return compare(args)
    figures = measure(args)
    if args.json:  # the figures alone, on the last line: the comparing run judges them
        print(json.dumps(figures))
        return 0
    print(f"ESIA, one replica on CPU {SERVER_CPU}, {args.clients} raw clients on CPU {CLIENT_CPU}, {args.mode}, "
          f"{args.seconds:g} s: {figures['flows']} logins")
    print("  " + _line(figures))
    return _verdict(figures)


if __name__ == "__main__":
    sys.exit(main())
