"""Is the mock ever the bottleneck of a load run? One Locust process on one core drives ESIA
logins against one replica on the other core, at more and more virtual users, until Locust's
core is full; each step prints the replica's share of its core and the p99 Locust saw.

    python benchmarks/locust_replica.py [--seconds 15] [--users 2,4,8,16,32] [--p99-ms 20]

The journey is the load runs' ESIA login (``ac``, password, SMS code read through the control
API, ``te``, logout), each request signed as a relying party signs it, so Locust pays for its
``client_secret`` signatures as a real load test does; users wait for nothing between logins
(closed model). The replica runs on CPU 0 (granian, strict signature checks, the embedded
stack's SQLite store) and Locust alone on CPU 1 — every thread of each: the stack is started from
this process while it is pinned to CPU 0, so its processes and their threads inherit the pin, and
a step whose pins did not hold stops the benchmark. Each step says which side had its core
full. A step's rate is the baseline's multiple (the first step, two users). The benchmark
passes when, at the step where Locust's core was fullest,
Locust had at least 85 % of it (saturated) while the replica had less and the replica's p99
stayed under ``--p99-ms``; it exits 1 otherwise — and says which: a failed login, a Locust that
never filled its core (a busy machine: inconclusive), or a replica that set the pace.

Two p99s are printed. Locust's is what the load test saw; it also holds Locust's own delays: a
greenlet whose response has arrived waits while another signs a ``client_secret`` or parses a
page, and a sampler greenlet that asks to sleep 2 ms measures that wait (``Locust lag p99``). The
replica's is read on the wire (:mod:`wire_latency`: a packet socket on ``lo`` with the kernel's
timestamps, from each request's first segment to its response's last), an observer that shares no
code with Locust or the replica; it holds the replica's receive queue, HTTP layer, app and send,
and nothing of Locust's. The gate is the replica's p99, since the question is whether the replica
keeps up; the capture needs root (``CAP_NET_RAW``), and a step whose capture saw no exchange, or
lost frames to a full ring, stops the benchmark.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from gosstand.scenarios.control import StackControl
from gosstand.scenarios.esia_client import make_test_identity
from gosstand.scenarios.identities import russian_faker
from gosstand.stand.stack import EmbeddedStack
from http_stack import CLIENT_CPU, SERVER_CPU, _cpu_seconds, _pin, allowed_cpus
from wire_latency import WireWatch, percentile, response_times

SCOPE = "openid fullname snils"
PEOPLE = 64
#: A core this busy counts as full.
SATURATED = 0.85
_LOCUSTFILE = '''
"""One ESIA login after another per virtual user (written by benchmarks/locust_replica.py)."""
import json, math, os, itertools, time
import gevent
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from locust import FastHttpUser, constant, events, task
from gosstand.loadtests.http_adapter import LocustHttp
from gosstand.scenarios import esia_login
from gosstand.scenarios.control import StackControl
from gosstand.scenarios.esia_client import RelyingParty

CONFIG = json.loads(open(os.environ["BENCH_CONFIG"]).read())
CERTIFICATE = x509.load_pem_x509_certificate(CONFIG["certificate"].encode())
KEY = serialization.load_pem_private_key(CONFIG["key"].encode(), password=None)
NEXT = itertools.count()
LAG_TICK_S = 0.002
LAGS = []
RUNNING = [False]


def _sample_lag():
    """How late a greenlet that asked to sleep 2 ms runs again: the time Locust's own loop was busy."""
    while RUNNING[0]:
        asked = time.perf_counter()
        gevent.sleep(LAG_TICK_S)
        LAGS.append(time.perf_counter() - asked - LAG_TICK_S)


@events.test_start.add_listener
def _start_lag(environment, **kwargs):
    RUNNING[0] = True
    gevent.spawn(_sample_lag)


@events.test_stop.add_listener
def _write_lag(environment, **kwargs):
    RUNNING[0] = False
    lags = sorted(LAGS)
    if lags:
        with open(os.environ["BENCH_LAG"], "w") as out:
            json.dump({"samples": len(lags), "p50": lags[math.ceil(len(lags) * 0.5) - 1],
                       "p99": lags[math.ceil(len(lags) * 0.99) - 1]}, out)  # nearest rank, as the wire's


class Login(FastHttpUser):
    host = CONFIG["esia"]
    wait_time = constant(0)

    def on_start(self):
        self.person = CONFIG["people"][next(NEXT) % len(CONFIG["people"])]
        self.http = LocustHttp(self.client, journey="esia_login")
        self.control = StackControl({"esia": CONFIG["esia"]}, CONFIG["token"], http=self.http)
        self.rp = RelyingParty(client_id="LOCUSTBENCH", redirect_uri="http://127.0.0.1/cb", certificate=CERTIFICATE,
                               private_key=KEY)

    @task
    def login(self):
        esia_login.login(self.http, esia_url=CONFIG["esia"], rp=self.rp, login=self.person["phone"],
                         password=self.person["password"], read_sms=self.control.read_sms, scope=CONFIG["scope"])
        esia_login.logout(self.http, esia_url=CONFIG["esia"], rp=self.rp)
'''


@dataclass(frozen=True)
class Step:
    users: int
    requests_per_s: float
    logins_per_s: float
    failures: int
    p99_ms: float
    wire_p99_ms: float
    wire_exchanges: int
    capture_cpu: float
    locust_lag_p99_ms: float
    locust_cpu: float
    replica_cpu: float

    @property
    def saturated(self) -> str:
        """Which side had its core full (:data:`SATURATED`) during the step."""
        sides = [name for name, share in (("Locust", self.locust_cpu), ("replica", self.replica_cpu))
                 if share >= SATURATED]
        return " and ".join(sides) or "neither"


def _seed(stack: EmbeddedStack, directory: Path) -> Path:
    """Register the relying party, seed people, give their first logins' consent; the config file."""
    from gosstand.scenarios import esia_login
    from gosstand.scenarios.esia_client import RelyingParty
    from gosstand.scenarios.http import HttpxClient

    control = StackControl(stack.urls, stack.control_token)
    certificate, key = make_test_identity("locust bench")
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    control.register_client("LOCUSTBENCH", redirect_uris=["http://127.0.0.1/cb"], certificate=pem,
                            scopes=["openid", "fullname", "snils"])
    fake = russian_faker(seed=11)
    people = []
    rp = RelyingParty(client_id="LOCUSTBENCH", redirect_uri="http://127.0.0.1/cb", certificate=certificate,
                      private_key=key)
    for _ in range(PEOPLE):
        record = fake.person_record()
        control.seed_user(phone=record["phone"], password=record["password"], email=record["email"],
                          person={k: record[k] for k in ("firstName", "lastName", "middleName", "birthDate",
                                                         "gender", "snils", "inn")})
        with HttpxClient() as http:  # the consent page comes once per person: not part of the load
            esia_login.login(http, esia_url=stack.urls["esia"], rp=rp, login=record["phone"],
                             password=record["password"], read_sms=control.read_sms, scope=SCOPE)
        people.append({"phone": record["phone"], "password": record["password"]})
    config = directory / "config.json"
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    config.write_text(json.dumps({"esia": stack.urls["esia"], "token": stack.control_token, "people": people,
                                  "certificate": pem, "key": key_pem, "scope": SCOPE}))
    return config


def _step(users: int, *, seconds: float, config: Path, directory: Path, replica_pgid: int, replica_port: int) -> Step:
    locustfile = directory / "locustfile.py"
    locustfile.write_text(_LOCUSTFILE)
    prefix = directory / f"users-{users}"
    command = ["taskset", "-c", str(CLIENT_CPU), sys.executable, "-m", "locust", "-f", str(locustfile), "--headless",
               "-u", str(users), "-r", str(users), "--run-time", f"{int(seconds)}s", "--only-summary",
               "--loglevel", "WARNING", "--csv", str(prefix), "--stop-timeout", "5"]
    environment = {**os.environ, "BENCH_CONFIG": str(config), "BENCH_LAG": f"{prefix}_lag.json"}
    locust = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(min(3.0, seconds / 4))  # users start and warm up; measured from here
    if allowed_cpus(locust.pid) != {CLIENT_CPU} or allowed_cpus(replica_pgid) != {SERVER_CPU}:
        os.killpg(locust.pid, 9)
        raise SystemExit(f"the pins did not hold: Locust's threads may run on {sorted(allowed_cpus(locust.pid))}, "
                         f"the replica's on {sorted(allowed_cpus(replica_pgid))}")
    watch = WireWatch(replica_port).start()
    replica_before, locust_before, started = _cpu_seconds(replica_pgid), _cpu_seconds(locust.pid), time.monotonic()
    time.sleep(max(1.0, seconds - 2 * min(3.0, seconds / 4)))
    replica_cpu, locust_cpu = _cpu_seconds(replica_pgid) - replica_before, _cpu_seconds(locust.pid) - locust_before
    elapsed = time.monotonic() - started
    on_the_wire = response_times(watch.stop())
    if watch.dropped:
        os.killpg(locust.pid, 9)
        raise SystemExit(f"the capture on lo lost {watch.dropped} frames (its ring was full): the replica's "
                         "response times would be wrong")
    capture_cpu = watch.cpu_s / elapsed
    if not on_the_wire:
        os.killpg(locust.pid, 9)
        raise SystemExit(f"the capture on lo saw no exchange with the replica's port {replica_port}")
    try:
        locust.wait(timeout=seconds + 60)
    except subprocess.TimeoutExpired:
        os.killpg(locust.pid, 9)
        raise SystemExit(f"Locust did not stop after {seconds:g} s with {users} users") from None
    rows = {row["Name"]: row for row in csv.DictReader(Path(f"{prefix}_stats.csv").open())}
    total = rows["Aggregated"]
    te = rows.get("esia: te", {})
    return Step(users=users, requests_per_s=float(total["Requests/s"]), logins_per_s=float(te.get("Requests/s", 0)),
                failures=int(total["Failure Count"]), p99_ms=float(total["99%"]),
                wire_p99_ms=percentile(on_the_wire, 0.99) * 1000, wire_exchanges=len(on_the_wire),
                capture_cpu=capture_cpu,
                locust_lag_p99_ms=json.loads(Path(f"{prefix}_lag.json").read_text())["p99"] * 1000,
                locust_cpu=locust_cpu / elapsed, replica_cpu=replica_cpu / elapsed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15.0, help="seconds of load per step")
    parser.add_argument("--users", default="2,4,8,16,32", help="virtual users per step, comma separated")
    parser.add_argument("--p99-ms", type=float, default=20.0, help="the p99 the replica must keep")
    args = parser.parse_args()
    steps: list[Step] = []
    os.sched_setaffinity(0, {SERVER_CPU})  # the stack's processes, and every thread they start, inherit it
    with tempfile.TemporaryDirectory(prefix="locust-replica-") as tmp, \
            EmbeddedStack(replicas=1, services=("esia",), state_dir=Path(tmp) / "stack") as stack:
        replica = stack.replica("esia", 1).process.pid  # type: ignore[union-attr]
        _pin(replica, SERVER_CPU)
        os.sched_setaffinity(0, {CLIENT_CPU})
        print(f"Seeding {PEOPLE} people and their consent…", flush=True)
        config = _seed(stack, Path(tmp))
        print(f"One Locust process on CPU {CLIENT_CPU}, one ESIA replica on CPU {SERVER_CPU}, "
              f"{args.seconds:g} s a step (every thread of each checked to be on its CPU at every step)")
        print(f"  {'users':>5} {'req/s':>8} {'logins/s':>9} {'× base':>7} {'failed':>7} {'p99':>8} {'wire p99':>9} "
              f"{'Locust lag p99':>15} {'Locust CPU':>11} {'replica CPU':>12}  core full")
        for users in (int(n) for n in args.users.split(",")):
            step = _step(users, seconds=args.seconds, config=config, directory=Path(tmp), replica_pgid=replica,
                         replica_port=int(urlsplit(stack.urls["esia"]).port or 80))
            steps.append(step)
            print(f"  {step.users:5d} {step.requests_per_s:8.1f} {step.logins_per_s:9.1f} "
                  f"{step.logins_per_s / max(steps[0].logins_per_s, 1e-9):7.2f} {step.failures:7d} "
                  f"{step.p99_ms:6.0f} ms {step.wire_p99_ms:6.1f} ms {step.locust_lag_p99_ms:12.1f} ms "
                  f"{step.locust_cpu:11.0%} {step.replica_cpu:12.0%}  {step.saturated}",
                  flush=True)
    fullest = max(steps, key=lambda step: step.locust_cpu)
    failed = sum(step.failures for step in steps)
    print(f"\nLocust at its fullest ({fullest.users} users): {fullest.locust_cpu:.0%} of its core, "
          f"{fullest.logins_per_s:.1f} logins/s ({fullest.requests_per_s:.0f} requests/s); the replica "
          f"{fullest.replica_cpu:.0%} of its core, p99 {fullest.wire_p99_ms:.1f} ms on the wire over "
          f"{fullest.wire_exchanges} exchanges (limit {args.p99_ms:g} ms; Locust saw {fullest.p99_ms:.0f} ms, "
          f"its own lag p99 {fullest.locust_lag_p99_ms:.1f} ms); "
          f"{failed} failed requests; the capture took {fullest.capture_cpu:.0%} of CPU {CLIENT_CPU}; "
          f"CPU per login: Locust {fullest.locust_cpu / fullest.logins_per_s * 1000:.1f} ms, "
          f"the replica {fullest.replica_cpu / fullest.logins_per_s * 1000:.1f} ms")
    print(f"Saturated at Locust's fullest step: {fullest.saturated} (a core counts as full at {SATURATED:.0%})")
    if failed:
        print("FAIL: logins failed")
        return 1
    if fullest.replica_cpu >= SATURATED:
        print(f"FAIL: the replica had {fullest.replica_cpu:.0%} of its core before Locust filled its own: "
              "the mock set the pace")
        return 1
    if fullest.locust_cpu < SATURATED:
        print(f"INCONCLUSIVE: neither Locust nor the replica had {SATURATED:.0%} of a core (the machine was busy "
              "with other work); rerun on a quieter machine")
        return 1
    if fullest.wire_p99_ms >= args.p99_ms:
        print(f"FAIL: the replica's p99 on the wire was {fullest.wire_p99_ms:.1f} ms while Locust saturated")
        return 1
    print("PASS: Locust saturated its core, and the replica kept up within the p99")
    return 0


if __name__ == "__main__":
    sys.exit(main())
