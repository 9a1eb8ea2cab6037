"""How fast the mocks' cheap endpoints are, against a bare ASGI app served the same way.

    python benchmarks/http_stack.py [--duration 5] [--connections 32] [--logins 400] [--only reads|login]
                                    [--commits-per-second 500]

Prints ratios measured in one run on one machine, never absolute targets:
- requests/s of ``GET /rs/prns/{oid}`` (ESIA person, Bearer token) and
  ``GET /api/v1/declarations/{id}/status`` (FTS) next to a bare ASGI app returning a body of the
  same size, each served by one granian worker pinned to CPU 0 and loaded by ``wrk`` on CPU 1;
  the status read once more while another process commits writes of other keys to the FTS
  store at a steady pace (a replica re-reads only the keys that changed, but each commit costs
  it a look at the change log), and once more with the request journal on (two store writes
  per request);
- server CPU per ESIA login flow (ac → login page → password → SMS code → te), read from
  /proc for the replica's processes, in each signature mode, beside the CPU cost of one bare
  request. The clients' ``client_secret`` signatures are made before the clock starts, so the
  Python clients keep the replica busy (it is measured saturated, as in a peak-hour run); the
  flow is then split into what the protocol's three RSA-2048 signatures cost by themselves
  and everything else (HTTP server, handlers, shared store).

The login figures are judged against the issue's target in this run's own terms: 2 ms of server
CPU a strict login on a machine whose bare app answered 47.5k requests/s and whose three RS256
signatures cost 0.86 ms leaves 1.14 ms for everything but the signatures — 54 of that machine's
bare requests (21 µs of CPU each). Here the flow's CPU without its signatures is divided by the
bare app's CPU per request under wrk, measured in the same run, and compared with those 54
(signatures are left out because RSA's speed and Python's move apart from one machine to
another: on these shared machines one RS256 signature took 0.21–0.73 ms on different days).
``--baseline PYTHON [--pairs N]`` (with ``--only login``) runs the login measurement by turns
with another checkout's interpreter (a worktree of ``main`` with its own virtualenv; this same
script measures that checkout's mocks) and this one, strict mode only, and prints each pair's
ratio this/baseline and their median.

``--only metrics`` measures what ``/metrics`` costs the hot reads: the ESIA person read and the FTS
status read with the replicas' metrics on and off (``GOSSTAND_METRICS``), alternating on, off, on,
off so a machine that gets busier or quieter during the run does not pass for the metrics' cost,
and prints the rate with metrics as a ratio of the rate without.
Needs ``wrk`` (Debian: ``apt-get install wrk``) and Linux.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from gosstand.scenarios import esia_login
from gosstand.scenarios.control import StackControl
from gosstand.scenarios.esia_client import RelyingParty, make_test_identity
from gosstand.scenarios.http import HttpxClient
from gosstand.scenarios.identities import russian_faker
from gosstand.stand.manifest import StackManifest
from gosstand.stand.ports import free_port
from gosstand.stand.stack import EmbeddedStack

SERVER_CPU, CLIENT_CPU = 0, 1
_BODY = json.dumps({"firstName": "Иван", "lastName": "Петров", "middleName": "Сергеевич",
                    "trusted": True, "eTag": "0" * 40, "stateFacts": ["EntityRoot"]}, ensure_ascii=False).encode()


async def bare_app(scope, receive, send):  # type: ignore[no-untyped-def]
    """The baseline: the least an ASGI app can do to answer with a JSON body."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"x-gosstand-replica", b"bare-1")]})
    await send({"type": "http.response.body", "body": _BODY})


def _serve_bare(port: int, server: str) -> None:
    """The bare app on the same server, with the same settings, the mocks' replicas use."""
    sys.path.insert(0, str(Path(__file__).parent))
    if server == "granian":
        from granian import Granian
        from granian.constants import Interfaces
        from granian.log import LogLevels

        Granian("http_stack:bare_app", address="127.0.0.1", port=port, interface=Interfaces.ASGI, workers=1,
                working_dir=Path(__file__).parent, log_level=LogLevels.warning).serve()
    else:
        import uvicorn
        from gosstand.mocks.core.serve import _reuseport_socket

        config = uvicorn.Config("http_stack:bare_app", loop="uvloop", http="httptools", lifespan="off",
                                access_log=False, log_level="warning", server_header=False, date_header=False)
        uvicorn.Server(config).run(sockets=[_reuseport_socket("127.0.0.1", port)])


def group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    pids.append(int(entry.name))
            except ProcessLookupError:
                continue
    return pids


def _threads(pid: int) -> list[int]:
    try:
        return [int(task.name) for task in Path(f"/proc/{pid}/task").iterdir()]
    except FileNotFoundError:
        return []


def _pin(pgid: int, cpu: int) -> None:
    """Every thread of every process in the group on ``cpu``. ``sched_setaffinity(pid)`` moves one
    thread only — a process's main one — so granian's Rust threads, started before, were left free
    to run on the client's CPU; threads started later inherit their creator's CPUs."""
    for pid in group_pids(pgid):
        for thread in _threads(pid):
            try:
                os.sched_setaffinity(thread, {cpu})
            except (ProcessLookupError, OSError):
                pass


def allowed_cpus(pgid: int) -> set[int]:
    """The CPUs any thread of the group may run on (to print that a pin held)."""
    cpus: set[int] = set()
    for pid in group_pids(pgid):
        for thread in _threads(pid):
            try:
                cpus |= os.sched_getaffinity(thread)
            except (ProcessLookupError, OSError):
                pass
    return cpus


def _cpu_seconds(pgid: int) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in group_pids(pgid):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def _wrk(url: str, *, duration: float, connections: int, headers: dict[str, str]) -> float:
    command = ["taskset", "-c", str(CLIENT_CPU), "wrk", "-t1", f"-c{connections}", f"-d{int(duration)}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        raise RuntimeError(f"{url} answered errors under load:\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]


class SteadyWriter:
    """Another process's writes landing in a service's store at a steady pace (keys the reads
    do not touch), from a thread of this one: what a replica's remembered reads face under load."""

    def __init__(self, store_path: Path, per_second: float) -> None:
        import threading

        self._path, self._interval = store_path, 1.0 / per_second
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.commits = 0

    def _run(self) -> None:
        import asyncio

        from gosstand.mocks.core.store_sqlite import SQLiteStore

        store = SQLiteStore(str(self._path))
        due = time.monotonic()
        while not self._stop.is_set():
            asyncio.run(store.set(f"bench:elsewhere:{self.commits % 1000}", str(self.commits)))
            self.commits += 1
            due += self._interval
            self._stop.wait(max(0.0, due - time.monotonic()))
        asyncio.run(store.close())

    def __enter__(self) -> SteadyWriter:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def _wait(url: str) -> None:
    for _ in range(200):
        try:
            httpx.get(url, timeout=0.5)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} never answered")


def signing_floor(keys_dir: Path, rounds: int = 200) -> dict[str, float]:
    """Seconds of CPU the signatures of one login flow cost by themselves, measured here: the
    authorization code, the access token and the id token, each an RSA-2048 (RS256) signature,
    and the same flow for a client whose access tokens are GOST R 34.10-2012-256 (code and
    id_token stay RS256)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from gosstand.mocks.core.keys import ensure_signing_keys
    from gosstand.mocks.crypto import gost

    key = ensure_signing_keys(keys_dir).private_key
    message = b"x" * 700  # about a JWS signing input
    started = time.process_time()
    for _ in range(rounds):
        key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    rsa = (time.process_time() - started) / rounds
    floor = {"RS256 tokens": 3 * rsa}
    if gost.available():
        gost_key = gost.GostPrivateKey.generate()
        started = time.process_time()
        for _ in range(rounds):
            gost_key.sign(message)
        floor["GOST access token"] = 2 * rsa + (time.process_time() - started) / rounds
    return floor


CLIENTS = 16  # concurrent relying-party sessions: the server is measured busy, as under load


class PresignedParty(RelyingParty):
    """A relying party whose ``client_secret`` signatures were made in advance: signing costs
    the client about a millisecond a request, which would otherwise leave the server idle."""

    def presign(self, count: int, scope: str) -> None:
        self._ready = deque(super(PresignedParty, self)._signed(scope, None) for _ in range(count))

    def top_up(self, count: int, scope: str) -> None:
        """Sign until ``count`` are ready, keeping those already made (they are used first): a run
        that signs for each of its windows just before it keeps every ``client_secret``'s timestamp
        well inside ESIA's five minutes, however many windows it has."""
        if not hasattr(self, "_ready"):
            self._ready = deque()
        while len(self._ready) < count:
            self._ready.append(super()._signed(scope, None))

    def _signed(self, scope: str, state: str | None, *, code: str | None = None,
                grant: str | None = None) -> dict[str, str]:
        return dict(self._ready.popleft())


def _seed_login(stack: EmbeddedStack | StackManifest, seed: int = 7,
                people: int = CLIENTS) -> tuple[RelyingParty, list[dict], StackControl]:
    control = StackControl(stack.urls, stack.control_token)
    certificate, key = make_test_identity("bench client")
    rp = PresignedParty(client_id="BENCH", redirect_uri="http://127.0.0.1/cb", certificate=certificate,
                        private_key=key)
    control.register_client("BENCH", redirect_uris=[rp.redirect_uri],
                            certificate=certificate.public_bytes(serialization.Encoding.PEM).decode(),
                            scopes=["openid", "fullname", "snils", "inn", "usr_org"])
    fake = russian_faker(seed=seed)
    records = [fake.person_record() for _ in range(people)]
    for record in records:
        record["oid"] = control.seed_user(
            phone=record["phone"], password=record["password"], email=record["email"],
            person={k: record[k] for k in ("firstName", "lastName", "middleName", "birthDate", "gender", "snils",
                                           "inn")})
    return rp, records, control


def _declaration_by_employer(control: StackControl, record: dict) -> dict:
    """A declaration whose declarant ``record``'s person acts for (FTS takes declarations only from
    an organisation the token's person is an employee of); made before that person signs in."""
    from gosstand.scenarios import declarations

    declaration = declarations.sample_declaration(russian_faker(seed=1))
    declarant = declaration["declarant"]
    control.create_organisation(fullName="ООО Бенчмарк", ogrn=declarant["ogrn"], inn=declarant["inn"],
                                kpp=declarant["kpp"], employees=[{"oid": record["oid"]}])
    return declaration


def _in_parallel(task, people: list[dict], rounds: int) -> None:  # type: ignore[no-untyped-def]
    """``rounds`` calls of ``task(http, person)`` spread over one client thread per person."""
    def worker(record: dict) -> None:
        with HttpxClient() as http:
            for _ in range(rounds // len(people)):
                task(http, record)

    with ThreadPoolExecutor(len(people)) as pool:
        list(pool.map(worker, people))


LOGIN_SCOPE = "openid fullname snils inn usr_org"


def _login(http: HttpxClient, stack: EmbeddedStack, rp: RelyingParty, record: dict, control: StackControl,
           scope: str = LOGIN_SCOPE) -> esia_login.TokenSet:
    tokens = esia_login.login(http, esia_url=stack.urls["esia"], rp=rp, login=record["phone"],
                              password=record["password"], read_sms=control.read_sms, scope=scope)
    esia_login.logout(http, esia_url=stack.urls["esia"], rp=rp)
    return tokens


def _bare_flow_cpu(url: str, pgid: int, flows: int) -> float:
    """Server CPU of six bare requests (a login flow's count) sent by the login benchmark's
    clients at its pace: what the HTTP server and the kernel cost a flow before any handler."""
    def six(http: HttpxClient, _: object) -> None:
        for _ in range(6):
            http.send("GET", url, name="bare")

    clients = [{}] * CLIENTS
    _in_parallel(six, clients, CLIENTS)
    before = _cpu_seconds(pgid)
    _in_parallel(six, clients, flows)
    return (_cpu_seconds(pgid) - before) / (flows // CLIENTS * CLIENTS)


def _print_login(login_cpu: dict[str, float], busy: dict[str, float], *, bare_us: float, bare_flow: float,
                 flows: int) -> dict[str, float]:
    floor = signing_floor(Path(tempfile.mkdtemp(prefix="gosstand-bench-")))
    rsa = floor["RS256 tokens"]
    print(f"\nServer CPU per ESIA login flow ({flows} flows per mode from {CLIENTS} concurrent clients, "
          f"secrets signed in advance; ac, login page, password, SMS code, te)")
    print(f"  {'mode':11} {'flow':>8} {'logins/s':>9} {'replica busy':>13} {'HTTP (bare)':>12} "
          f"{'signatures':>11} {'the mock':>9}")
    for mode, seconds in login_cpu.items():
        own = seconds - rsa - bare_flow
        print(f"  {mode:11} {seconds * 1000:5.2f} ms {1 / seconds:9.0f} {busy[mode]:12.0%} "
              f"{bare_flow * 1000:9.2f} ms {rsa * 1000:8.2f} ms {own * 1000:6.2f} ms")
    print(f"  HTTP (bare): six requests to the bare app from the same clients at the same pace "
          f"({bare_flow / 6 * 1e6:.0f} µs each; {bare_us:.0f} µs under wrk's saturating load)")
    print("  the mock: its handlers, store and Starlette, i.e. flow − HTTP − signatures")
    print("  the flow's signatures alone (code, access token, id token; measured in this process):")
    for name, seconds in floor.items():
        print(f"    {name:18} {seconds * 1000:6.2f} ms")
    if "strict" in login_cpu:
        rest = rest_in_bare_requests(login_cpu["strict"], rsa, bare_us / 1e6)
        print(f"  the strict flow without its signatures: {rest:.0f} bare requests' CPU ({bare_us:.0f} µs each under "
              f"wrk); the issue's 2 ms on its machine allows {TARGET_REST_BARE_REQUESTS:.0f}: "
              + ("met" if rest <= TARGET_REST_BARE_REQUESTS else "not met"))
    return floor


def _metrics_overhead(args: argparse.Namespace) -> int:
    """The hot reads with the replicas' metrics on and off, alternating (module docstring)."""
    from gosstand.scenarios import declarations

    rates: dict[tuple[str, str], list[float]] = {}
    for metrics in ("1", "0", "1", "0"):
        os.environ["GOSSTAND_METRICS"] = metrics
        with EmbeddedStack(replicas=1, services=("esia", "fts")) as stack:
            for service in ("esia", "fts"):
                _pin(stack.replica(service, 1).process.pid, SERVER_CPU)  # type: ignore[union-attr]
            rp, people, control = _seed_login(stack)
            rp.presign(2 * (len(people) + 2), LOGIN_SCOPE)
            declaration = _declaration_by_employer(control, people[0])
            with HttpxClient() as http:
                tokens = _login(http, stack, rp, people[0], control)
                auth = {"Authorization": f"Bearer {tokens.access_token}"}
                submitted = declarations.submit(http, fts_url=stack.urls["fts"], token=tokens.access_token,
                                                declaration=declaration, idempotency_key="bench-1")
            reads = {"ESIA GET /rs/prns/{oid}": f"{stack.urls['esia']}/rs/prns/{tokens.oid}",
                     "FTS GET /api/v1/declarations/{id}/status":
                         f"{stack.urls['fts']}/api/v1/declarations/{submitted.id}/status"}
            for name, url in reads.items():
                rate = _wrk(url, duration=args.duration, connections=args.connections, headers=auth)
                rates.setdefault((name, metrics), []).append(rate)
    os.environ.pop("GOSSTAND_METRICS")
    print(f"\n/metrics on the hot reads: one {args.server} process on CPU {SERVER_CPU}, wrk -c{args.connections} "
          f"on CPU {CLIENT_CPU}, {args.duration:.0f} s each, metrics on/off/on/off")
    print(f"  {'endpoint':45} {'with':>9} {'without':>9} {'ratio':>6}")
    for name in dict.fromkeys(name for name, _ in rates):
        on, off = (sum(rates[name, m]) / len(rates[name, m]) for m in ("1", "0"))
        print(f"  {name:45} {on:9.0f} {off:9.0f} {on / off:6.3f}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of wrk load per endpoint")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--logins", type=int, default=400, help="login flows per signature mode")
    parser.add_argument("--commits-per-second", type=float, default=500.0,
                        help="pace of the other process's writes during the last status read")
    parser.add_argument("--only", choices=["reads", "login", "metrics"],
                        help="measure only the cheap reads, only the login, or what /metrics costs the reads")
    parser.add_argument("--server", choices=["uvicorn", "granian"], default="granian",
                        help="the server carrying both the bare app and the mocks (GOSSTAND_SERVER)")
    parser.add_argument("--modes", type=lambda text: tuple(text.split(",")), default=("strict", "structural", "off"),
                        help="signature modes of the login measurement, comma-separated")
    parser.add_argument("--baseline", metavar="PYTHON",
                        help="with --only login: alternate with the checkout this interpreter imports")
    parser.add_argument("--pairs", type=int, default=3, help="baseline/this runs alternated (with --baseline)")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # one run's figures, for --baseline
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline:
        if args.only != "login":
            parser.error("--baseline compares the login measurement: add --only login")
        return compare(args)
    if args.serve_bare:
        _serve_bare(args.serve_bare, args.server)
        return 0
    os.environ["GOSSTAND_SERVER"] = args.server
    if shutil.which("wrk") is None:
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 2
    if args.only == "metrics":
        os.sched_setaffinity(0, {CLIENT_CPU})
        return _metrics_overhead(args)

    rates: dict[str, float] = {"bare ASGI": 0.0}  # filled in at the end: the mean of two runs
    port = free_port()
    bare = subprocess.Popen([sys.executable, __file__, "--serve-bare", str(port), "--server", args.server],
                            start_new_session=True)
    try:
        _wait(f"http://127.0.0.1:{port}/")
        _pin(bare.pid, SERVER_CPU)
        cpu_before_wrk = _cpu_seconds(bare.pid)
        bare_before = _wrk(f"http://127.0.0.1:{port}/", duration=args.duration,
                           connections=args.connections, headers={})
        rates_cpu_per_request = (_cpu_seconds(bare.pid) - cpu_before_wrk) / max(1.0, bare_before * args.duration)
        os.sched_setaffinity(0, {CLIENT_CPU})  # the login clients, like wrk, stay off the server's CPU
        bare_flow = 0.0 if args.only == "reads" else _bare_flow_cpu(f"http://127.0.0.1:{port}/", bare.pid, args.logins)
    except BaseException:
        os.killpg(bare.pid, signal.SIGKILL)
        raise

    login_cpu: dict[str, float] = {}
    busy: dict[str, float] = {}
    for mode in ("strict",) if args.only == "reads" else args.modes:
        with EmbeddedStack(replicas=1, services=("esia", "fts"), signature_mode=mode) as stack:
            esia_pgid = stack.replica("esia", 1).process.pid  # type: ignore[union-attr]
            fts_pgid = stack.replica("fts", 1).process.pid  # type: ignore[union-attr]
            _pin(esia_pgid, SERVER_CPU)
            _pin(fts_pgid, SERVER_CPU)
            rp, people, control = _seed_login(stack)
            record = people[0]
            declaration = _declaration_by_employer(control, record)
            rp.presign(2 * (len(people) + args.logins + 2), LOGIN_SCOPE)

            def log_in(http: HttpxClient, person: dict, stack=stack, rp=rp, control=control) -> None:  # type: ignore[no-untyped-def]
                _login(http, stack, rp, person, control)

            def outbox_and_logout(http: HttpxClient, person: dict, stack=stack, rp=rp, control=control) -> None:  # type: ignore[no-untyped-def]
                control.read_sms(person["phone"])
                esia_login.logout(http, esia_url=stack.urls["esia"], rp=rp)

            _in_parallel(log_in, people, len(people))  # first logins give consent once
            if args.only != "reads":
                before, started = _cpu_seconds(esia_pgid), time.monotonic()
                _in_parallel(log_in, people, args.logins)
                spent, elapsed = _cpu_seconds(esia_pgid) - before, time.monotonic() - started
                busy[mode] = spent / elapsed
                # the control API's outbox read and the logout are in the loop but not the login: subtract them
                before = _cpu_seconds(esia_pgid)
                _in_parallel(outbox_and_logout, people, args.logins)
                overhead = _cpu_seconds(esia_pgid) - before
                login_cpu[mode] = max(0.0, spent - overhead) / (args.logins // len(people) * len(people))
            with HttpxClient() as http:
                tokens = _login(http, stack, rp, record, control)
                if mode == "strict" and args.only != "login":
                    auth = {"Authorization": f"Bearer {tokens.access_token}"}
                    rates["ESIA GET /rs/prns/{oid}"] = _wrk(
                        f"{stack.urls['esia']}/rs/prns/{tokens.oid}", duration=args.duration,
                        connections=args.connections, headers=auth)
                    try:
                        from gosstand.scenarios import declarations

                        submitted = declarations.submit(
                            http, fts_url=stack.urls["fts"], token=tokens.access_token,
                            declaration=declaration, idempotency_key="bench-1")
                        status_url = f"{stack.urls['fts']}/api/v1/declarations/{submitted.id}/status"
                        rates["FTS GET /api/v1/declarations/{id}/status"] = _wrk(
                            status_url, duration=args.duration, connections=args.connections, headers=auth)
                        assert stack.state_dir is not None
                        with SteadyWriter(stack.state_dir / "fts.sqlite3", args.commits_per_second) as writer:
                            started = time.monotonic()
                            rate = _wrk(status_url, duration=args.duration, connections=args.connections,
                                        headers=auth)
                            pace = writer.commits / (time.monotonic() - started)
                        rates[f"  the same, {pace:.0f} commits/s landing elsewhere"] = rate
                        journal = StackControl(stack.urls, stack.control_token)
                        journal.record_requests("fts")  # every request now costs two store writes
                        rates["  the same, request journal on"] = _wrk(
                            status_url, duration=args.duration, connections=args.connections, headers=auth)
                        journal.record_requests("fts", on=False)
                    except (ImportError, AttributeError) as exc:
                        print(f"(FTS status endpoint not measured: {exc})", file=sys.stderr)

    try:  # the machine is shared: the bare rate again, after the mocks, and their mean as the baseline
        bare_after = _wrk(f"http://127.0.0.1:{port}/", duration=args.duration,
                          connections=args.connections, headers={})
    finally:
        os.killpg(bare.pid, signal.SIGKILL)
    baseline = rates["bare ASGI"] = (bare_before + bare_after) / 2
    drift = abs(bare_before - bare_after) / max(bare_before, bare_after)
    print(f"\nbare ASGI before the mocks {bare_before:.0f} req/s, after {bare_after:.0f} req/s"
          + (" — far apart: the machine was busy, rerun" if drift > 0.2 else ""))
    if args.only != "login":
        print(f"\nRequest rate, one {args.server} process on CPU {SERVER_CPU}, "
              f"wrk -c{args.connections} on CPU {CLIENT_CPU}, "
              f"{args.duration:.0f} s each")
        print(f"  {'endpoint':45} {'req/s':>9} {'vs bare':>8}")
        for name, rate in rates.items():
            print(f"  {name:45} {rate:9.0f} {rate / baseline:8.2f}")
    if args.only != "reads":
        floor = _print_login(login_cpu, busy, bare_us=rates_cpu_per_request * 1e6, bare_flow=bare_flow,
                             flows=args.logins)
        if args.json:
            print(json.dumps({"flow": login_cpu, "rsa": floor["RS256 tokens"], "bare": rates_cpu_per_request,
                              "bare_flow": bare_flow}))
    return 0


#: The issue's target, on the machine it was set on: 2 ms a strict login, where the bare app
#: answered 47.5k requests/s (about 21 µs of CPU each) and the three signatures took 0.86 ms.
TARGET_REST_BARE_REQUESTS = (2.0e-3 - 0.86e-3) / (1 / 47_500)


def rest_in_bare_requests(flow: float, rsa: float, bare: float) -> float:
    """The flow's CPU without its three signatures, in bare requests' CPU measured in the same run."""
    return (flow - rsa) / bare


def compare(args: argparse.Namespace) -> int:
    """The strict login's CPU by this checkout and by ``--baseline``'s, alternately (docstring)."""
    def run(python: str) -> dict[str, Any]:
        command = [python, __file__, "--only", "login", "--logins", str(args.logins), "--modes", "strict",
                   "--duration", str(args.duration), "--connections", str(args.connections),
                   "--server", args.server, "--json"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            raise RuntimeError(f"{python} failed ({done.returncode}):\n{done.stderr[-3000:]}")
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))

    print(f"Strict ESIA login flow over HTTP, server CPU, {args.logins} flows a run; baseline {args.baseline}, "
          f"this {sys.executable}")
    print(f"  {'pair':>4} {'baseline ms':>12} {'this ms':>8} {'ratio':>6}   without signatures, in bare requests: "
          f"{'baseline':>8} {'this':>6}")
    ratios, rests = [], []
    try:
        for pair in range(1, args.pairs + 1):
            base, this = run(args.baseline), run(sys.executable)
            ratios.append(this["flow"]["strict"] / base["flow"]["strict"])
            base_rest, this_rest = (rest_in_bare_requests(r["flow"]["strict"], r["rsa"], r["bare"])
                                    for r in (base, this))
            rests.append(this_rest)
            print(f"  {pair:>4} {base['flow']['strict'] * 1e3:12.2f} {this['flow']['strict'] * 1e3:8.2f} "
                  f"{ratios[-1]:6.2f}   {'':38}{base_rest:8.0f} {this_rest:6.0f}")
    except (OSError, RuntimeError, subprocess.TimeoutExpired, ValueError) as exc:
        print(f"a run failed: {exc}", file=sys.stderr)
        return 1
    rest = statistics.median(rests)
    print(f"  median ratio this/baseline {statistics.median(ratios):.2f}; this without signatures "
          f"{rest:.0f} bare requests against the target's {TARGET_REST_BARE_REQUESTS:.0f}: "
          + ("met" if rest <= TARGET_REST_BARE_REQUESTS else "not met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
