"""A soak: the stand at half its measured capacity for a long while — does it leak or slow down?

    python benchmarks/soak.py [--minutes 30] [--replicas 2] [--ramp-seconds 15] [--window 5]

One run, one machine, figures as ratios within the run:

1. Capacity. The embedded stack (``--replicas`` of each service, loopback) is driven by ever more
   concurrent clients (1, 2, 4, … threads, ``--ramp-seconds`` each) running the scenario journeys
   in turn: an ESIA login (ac → password → SMS code → te, the person read, logout), an FTS
   declaration (submit, status, card; every fourth withdrawn, every fourth given a document) and
   a UTKO object (register, read-and-update under If-Match, read; every other deleted). The
   stand's capacity is the most journeys per second any step completed; the ramp stops after
   two steps in a row that gain less than 5 % on the best.
2. The soak. ``--minutes`` at half that rate, paced (journey ``k`` starts at ``k / rate``), by
   as many clients as the capacity step had. Every request's latency is recorded by service;
   every replica's resident memory (VmRSS of its processes, from ``/proc/<pid>/status``) is
   sampled every few seconds.

Printed: the ramp; each replica's RSS at the start of the soak (the baseline), at the end, their
ratio and the growth per ten minutes (least squares over every sample, and over each half of the
soak: caches warming up grow in the first half only); per service the p99 of
the first ``--window`` minutes (the baseline) and of the last, and their ratio. Exit 0 when the
soak held its rate with no failed journey; 1 when a journey failed or the rate fell more than
10 % short (the figures are printed first); 2 when the stand could not be started or seeded.
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from gosstand.scenarios import declarations, esia_login, utko
from gosstand.scenarios.control import StackControl
from gosstand.scenarios.esia_client import RelyingParty, make_test_identity
from gosstand.scenarios.http import HttpResponse, HttpxClient
from gosstand.scenarios.identities import russian_faker
from gosstand.stand.protocol import StackError
from gosstand.stand.stack import EmbeddedStack
from http_stack import group_pids

LOGIN_SCOPE = "openid fullname snils inn usr_org"
#: Concurrency steps of the capacity ramp.
RAMP = (1, 2, 4, 8, 16, 32)
#: A step must beat the one before by this much for the ramp to go on.
RAMP_GAIN = 1.05
RSS_SAMPLE_SECONDS = 5.0
#: The smallest PDF FTS accepts, for the documents some declarations get.
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


# -- what every request cost ---------------------------------------------------------------
@dataclass
class Latencies:
    """Every request's start (monotonic), latency and whether it failed (a 5xx or no answer),
    by service; appended from many threads."""

    by_service: dict[str, list[tuple[float, float, bool]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, service: str, started: float, seconds: float, failed: bool) -> None:
        with self._lock:
            self.by_service.setdefault(service, []).append((started, seconds, failed))

    def between(self, service: str, start: float, end: float) -> list[tuple[float, bool]]:
        """``(latency, failed)`` of the requests started in ``[start, end)``."""
        with self._lock:
            return [(seconds, failed) for at, seconds, failed in self.by_service.get(service, ())
                    if start <= at < end]


class TimedClient:
    """The journeys' HTTP client, timing each request under the service its URL names (the
    harness's own control-API calls — reading the SMS outbox — count as ``control``)."""

    def __init__(self, urls: Mapping[str, str], latencies: Latencies) -> None:
        self._http = HttpxClient()
        self._urls = urls
        self._latencies = latencies

    def _service(self, url: str) -> str:
        if "/_gosstand/" in url:
            return "control"
        return next((name for name, base in self._urls.items() if url.startswith(base)), "other")

    def send(self, method: str, url: str, *, name: str, **options: Any) -> HttpResponse:
        started = time.monotonic()
        failed = True
        try:
            answer = self._http.send(method, url, name=name, **options)
            failed = answer.status >= 500
            return answer
        finally:
            self._latencies.record(self._service(url), started, time.monotonic() - started, failed)

    def clear_cookies(self) -> None:
        self._http._client.cookies.clear()  # a fresh browser for each login

    def close(self) -> None:
        self._http.close()


# -- the stand and its clients --------------------------------------------------------------
@dataclass
class Stand:
    stack: EmbeddedStack
    control: StackControl
    rp: RelyingParty
    people: list[dict[str, Any]]


def seed(stack: EmbeddedStack, people: int) -> Stand:
    """A client system allowed ``usr_org`` and ``people`` ESIA accounts, one per client thread."""
    control = StackControl(stack.urls, stack.control_token)
    certificate, key = make_test_identity("soak client")
    rp = RelyingParty("SOAK", "http://127.0.0.1/cb", certificate, key)
    control.register_client("SOAK", redirect_uris=[rp.redirect_uri],
                            certificate=certificate.public_bytes(serialization.Encoding.PEM).decode(),
                            scopes=LOGIN_SCOPE.split())
    fake = russian_faker(seed=11)
    records = [fake.person_record() for _ in range(people)]
    for record in records:
        oid = control.seed_user(phone=record["phone"], password=record["password"], email=record["email"],
                                person={k: record[k] for k in ("firstName", "lastName", "middleName", "birthDate",
                                                               "gender", "snils", "inn")})
        # FTS and UTKO take a filing or an object only for an organisation the token acts for: each
        # person works for the one its client files declarations for and registers objects of.
        entity = fake.legal_entity()
        record["organisation"] = {"inn": entity.inn, "kpp": entity.kpp, "ogrn": entity.ogrn, "name": entity.name}
        control.create_organisation(fullName=entity.name, ogrn=entity.ogrn, inn=entity.inn, kpp=entity.kpp,
                                    employees=[{"oid": oid}])
    return Stand(stack=stack, control=control, rp=rp, people=records)


class Client:
    """One simulated user: its own ESIA account, browser and latest access token."""

    def __init__(self, stand: Stand, number: int, latencies: Latencies) -> None:
        self.stand = stand
        self.person = stand.people[number]
        self.http = TimedClient(stand.stack.urls, latencies)
        self.faker = russian_faker(seed=1000 + number)
        self.organisation: dict[str, str] = self.person["organisation"]
        self.token = ""
        self.journeys = itertools.count()

    def journey(self) -> str:
        """Run the next journey of this client's round (login, declaration, object); its kind."""
        n = next(self.journeys)
        if not self.token or n % 3 == 0:
            self.login()
            return "login"
        if n % 3 == 1:
            self.declaration(n)
            return "declaration"
        self.object(n)
        return "object"

    def login(self) -> None:
        urls = self.stand.stack.urls
        self.http.clear_cookies()
        tokens = esia_login.login(self.http, esia_url=urls["esia"], rp=self.stand.rp, login=self.person["phone"],
                                  password=self.person["password"], read_sms=self.stand.control.read_sms,
                                  scope=LOGIN_SCOPE)
        esia_login.person(self.http, esia_url=urls["esia"], tokens=tokens)
        esia_login.logout(self.http, esia_url=urls["esia"], rp=self.stand.rp)
        self.token = tokens.access_token

    def declaration(self, n: int) -> None:
        fts = self.stand.stack.urls["fts"]
        declaration = {**declarations.sample_declaration(self.faker), "declarant": dict(self.organisation)}
        filed = declarations.submit(self.http, fts_url=fts, token=self.token, declaration=declaration,
                                    idempotency_key=str(uuid.uuid4()))
        declarations.status(self.http, fts_url=fts, token=self.token, declaration_id=filed.id)
        declarations.card(self.http, fts_url=fts, token=self.token, declaration_id=filed.id)
        if n % 4 == 1:
            declarations.upload_document(self.http, fts_url=fts, token=self.token, declaration_id=filed.id,
                                         content=PDF + str(n).encode(), file_name="invoice.pdf",
                                         idempotency_key=str(uuid.uuid4()))
        elif n % 4 == 3:
            declarations.withdraw(self.http, fts_url=fts, token=self.token, declaration_id=filed.id,
                                  idempotency_key=str(uuid.uuid4()))

    def object(self, n: int) -> None:
        base = self.stand.stack.urls["utko"]
        operator = {"inn": self.organisation["inn"], "kpp": self.organisation["kpp"]}
        registered = utko.register_object(self.http, utko_url=base, token=self.token,
                                          obj=utko.sample_object(self.faker, operator=operator))
        utko.update_object(self.http, utko_url=base, token=self.token, object_id=registered.id,
                           change=lambda fields: {**fields, "status": "suspended"})
        utko.get_object(self.http, utko_url=base, token=self.token, object_id=registered.id)
        if n % 2 == 0:
            answer = self.http.send("DELETE", f"{base}/v1/objects/{registered.id}", name="utko: delete",
                                    headers={"Authorization": f"Bearer {self.token}"})
            if answer.status != 204:
                raise utko.UtkoError("utko: delete", f"answered {answer.status}: {answer.text[:200]}")


@dataclass
class Outcome:
    done: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    first_errors: dict[str, str] = field(default_factory=dict)
    late_starts: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, client: Client) -> None:
        try:
            kind = client.journey()
        except Exception as exc:  # a journey's failure is a finding to count, not a crash of the run
            with self._lock:
                self.failed[type(exc).__name__] += 1
                self.first_errors.setdefault(type(exc).__name__, "".join(
                    traceback.format_exception_only(exc)).strip()[:300])
            return
        with self._lock:
            self.done[kind] += 1


# -- the two phases -------------------------------------------------------------------------
class RampFailed(Exception):
    """A journey failed while capacity was measured: there is no capacity to halve."""


def closed_loop(clients: list[Client], seconds: float) -> float:
    """Journeys per second that ``clients``, each starting its next journey as soon as the last
    ends, complete in ``seconds``."""
    outcome = Outcome()
    deadline = time.monotonic() + seconds

    def loop(client: Client) -> None:
        while time.monotonic() < deadline:
            outcome.run(client)

    started = time.monotonic()
    with ThreadPoolExecutor(len(clients)) as pool:
        list(pool.map(loop, clients))
    if outcome.failed:
        raise RampFailed(f"journeys failed during the capacity ramp: {outcome.first_errors}")
    return sum(outcome.done.values()) / (time.monotonic() - started)


def capacity(make_clients: Callable[[int], list[Client]], step_seconds: float) -> tuple[float, int, list[str]]:
    """The most journeys/s a ramp step reached, the concurrency that reached it, and the lines
    that describe the ramp. The ramp ends after two steps in a row that do not beat the best by
    :data:`RAMP_GAIN` (one alone may be a neighbour's noise on a shared machine)."""
    best, best_at, lines = 0.0, 1, []
    flat = 0
    for concurrency in RAMP:
        rate = closed_loop(make_clients(concurrency), step_seconds)
        lines.append(f"  {concurrency:3} clients: {rate:7.2f} journeys/s")
        flat = 0 if rate >= best * RAMP_GAIN else flat + 1
        if rate > best:
            best, best_at = rate, concurrency
        if flat == 2:
            break
    return best, best_at, lines


def paced(clients: list[Client], rate: float, seconds: float, outcome: Outcome) -> float:
    """Journeys started at ``rate`` per second for ``seconds`` (journey ``k`` at ``k / rate``,
    taken by the next free client); answers the soak's start (monotonic)."""
    start = time.monotonic()
    slots = itertools.count()
    lock = threading.Lock()
    total = math.floor(rate * seconds)

    def loop(client: Client) -> None:
        for _ in range(total):  # bounded: no client runs more journeys than the whole soak has
            with lock:
                k = next(slots)
            if k >= total:
                return
            due = start + k / rate
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            elif wait < -1.0:
                with lock:
                    outcome.late_starts += 1
            outcome.run(client)

    with ThreadPoolExecutor(len(clients)) as pool:
        list(pool.map(loop, clients))
    return start


# -- memory ---------------------------------------------------------------------------------
def rss_bytes(pgid: int) -> int:
    """Resident memory of a replica: VmRSS of every process in its group (server and worker)."""
    total = 0
    for pid in group_pids(pgid):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except FileNotFoundError:
            continue
    return total


class RssSampler(threading.Thread):
    def __init__(self, stack: EmbeddedStack, until: Callable[[], bool]) -> None:
        super().__init__(name="rss-sampler", daemon=True)
        self._groups = {replica.name: replica.process.pid for replicas in stack.members.values()
                        for replica in replicas if replica.process is not None}
        self._until = until
        self.samples: dict[str, list[tuple[float, int]]] = {name: [] for name in self._groups}

    def sample(self) -> None:
        now = time.monotonic()
        for name, pgid in self._groups.items():
            self.samples[name].append((now, rss_bytes(pgid)))

    def run(self) -> None:
        while not self._until():
            self.sample()
            time.sleep(RSS_SAMPLE_SECONDS)


def slope_per_second(points: list[tuple[float, int]]) -> float:
    """Least-squares growth of ``points`` (bytes per second)."""
    if len(points) < 2:
        return 0.0
    mean_t = sum(t for t, _ in points) / len(points)
    mean_v = sum(v for _, v in points) / len(points)
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    return 0.0 if spread == 0 else sum((t - mean_t) * (v - mean_v) for t, v in points) / spread


def p99(requests: list[tuple[float, bool]]) -> float:
    """Nearest rank: the latency at rank ceil(0.99 n) of the sorted sample (failures included:
    what the client waited)."""
    ordered = sorted(seconds for seconds, _ in requests)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)] if ordered else math.nan


# -- the run --------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0, help="length of the soak at half capacity")
    parser.add_argument("--replicas", type=int, default=2, help="replicas of each service")
    parser.add_argument("--ramp-seconds", type=float, default=15.0, help="length of each capacity step")
    parser.add_argument("--window", type=float, default=5.0,
                        help="minutes at the start and at the end whose p99 are compared (at most half the soak)")
    args = parser.parse_args()
    if args.minutes <= 0 or args.ramp_seconds <= 0 or args.window <= 0:
        parser.error("--minutes, --ramp-seconds and --window must be positive")
    window = min(args.window, args.minutes / 2) * 60

    try:
        stack = EmbeddedStack(replicas=args.replicas).start()
    except StackError as exc:
        print(f"the stand did not start: {exc}", file=sys.stderr)
        return 2
    try:
        try:
            stand = seed(stack, max(RAMP))
        except Exception as exc:
            print(f"the stand could not be seeded: {exc}", file=sys.stderr)
            return 2
        return soak(stand, minutes=args.minutes, step_seconds=args.ramp_seconds, window=window)
    except RampFailed as exc:
        print(f"SOAK FAILED before it started: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.close()


def soak(stand: Stand, *, minutes: float, step_seconds: float, window: float) -> int:
    latencies = Latencies()
    clients = [Client(stand, n, latencies) for n in range(max(RAMP))]
    try:
        print(f"Capacity ramp ({step_seconds:.0f} s per step, journeys in turn: ESIA login, FTS declaration, "
              "UTKO object):")
        best, concurrency, lines = capacity(lambda k: clients[:k], step_seconds)
        print("\n".join(lines))
        rate = best / 2
        print(f"capacity {best:.2f} journeys/s at {concurrency} clients; soak at {rate:.2f} journeys/s "
              f"for {minutes:g} min")
        finished = threading.Event()
        sampler = RssSampler(stand.stack, finished.is_set)
        sampler.sample()
        sampler.start()
        outcome = Outcome()
        start = paced(clients[:max(concurrency, 2)], rate, minutes * 60, outcome)
        end = time.monotonic()
        finished.set()
        sampler.join(timeout=RSS_SAMPLE_SECONDS * 2)
        sampler.sample()
    finally:
        for client in clients:
            client.http.close()
    report(sampler, latencies, outcome, start=start, end=end, window=window)
    achieved = sum(outcome.done.values()) / (end - start)
    problems = []
    if outcome.failed:
        problems.append(f"{sum(outcome.failed.values())} journeys failed: {outcome.first_errors}")
    if achieved < rate * 0.9:
        problems.append(f"the stand kept {achieved:.2f} journeys/s of the {rate:.2f} asked")
    for problem in problems:
        print(f"SOAK FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


def report(sampler: RssSampler, latencies: Latencies, outcome: Outcome, *, start: float, end: float,
           window: float) -> None:
    elapsed = end - start
    print(f"\nSoak: {sum(outcome.done.values())} journeys in {elapsed / 60:.1f} min "
          f"({sum(outcome.done.values()) / elapsed:.2f}/s; {dict(outcome.done)}), "
          f"{sum(outcome.failed.values())} failed, {outcome.late_starts} started over 1 s late")
    print("\nResident memory per replica (baseline: the start of the soak; growth per 10 min by least squares"
          " over the whole soak and over each half — a warm-up flattens in the second half, a leak does not):")
    print(f"  {'replica':8} {'start MiB':>10} {'end MiB':>9} {'end/start':>10} {'MiB/10 min':>11} "
          f"{'1st half':>9} {'2nd half':>9}")
    middle = start + elapsed / 2
    for name, points in sampler.samples.items():
        first, last = points[0][1], points[-1][1]
        whole, early, late = (slope_per_second(part) * 600 / 2**20 for part in (
            points, [p for p in points if p[0] < middle], [p for p in points if p[0] >= middle]))
        print(f"  {name:8} {first / 2**20:10.1f} {last / 2**20:9.1f} {last / first:10.3f} {whole:11.2f} "
              f"{early:9.2f} {late:9.2f}")
    print(f"\np99 latency per service (baseline: the first {window / 60:g} min; then the last {window / 60:g} min):")
    print(f"  {'service':8} {'requests':>9} {'first ms':>9} {'last ms':>8} {'last/first':>11} {'5xx+lost':>9}")
    for service in ("esia", "fts", "utko"):
        everything = latencies.between(service, start, end)
        first = p99(latencies.between(service, start, start + window))
        last = p99(latencies.between(service, end - window, end))
        failed = sum(1 for _, lost in everything if lost)
        print(f"  {service:8} {len(everything):9} {first * 1000:9.2f} {last * 1000:8.2f} {last / first:11.3f} "
              f"{failed:9}")


if __name__ == "__main__":
    sys.exit(main())
