"""Where an ESIA login flow's server CPU goes, without an HTTP server: the app is called as
ASGI directly, in this process, and only the app's own calls are timed and profiled.

    python benchmarks/login_profile.py [--logins 300] [--mode strict] [--top 30] [--no-profile]
                                       [--way password|signature|token] [--time-sms-read] [--time-logout]
                                       [--statements]

The flow is the one ``http_stack.py --only login`` measures (ac, login page, password, SMS code,
te; the client's ``client_secret`` signatures made before the clock starts, consent given in a
first login). ``--time-sms-read`` also times the control API's read of the SMS code (``GET
/_gosstand/control/outbox``), which a load run sends once per login; without it that read is left
out, as the person's phone is not ESIA. ``--time-logout`` times the logout (``GET
/idp/ext/Logout``) that ends each flow as well, as a load run's journey ends. ``--way signature``
signs in with an electronic signature instead of the password and code (the signature page, then
the signed challenge, which ESIA parses and checks against the stand's CA); the person's signing is
the client's and is not timed. ``--way token`` is no login: each flow is one ``POST
/aas/oauth2/te`` with ``grant_type=client_credentials`` for an organisation, the request
``token_rate.py`` loads (one signature, the access token's).

``--statements`` counts the SQL statements the app runs per flow and per request (each
``execute`` on every connection the app opens; what the store's remembered reads answer runs
none), the steps SQLite's trace reports besides (three per write the change log's trigger
records: the trigger and its two statements), and the pages each request adds to the store's
write-ahead log; and lists each distinct statement per request.

It prints the app's CPU per flow and per request, split into the three RS256 signatures ESIA
must make and the rest, then (unless ``--no-profile``) cProfile's top functions by own time and
by cumulative time over the timed flows. The CPU figures are
without cProfile's overhead: a first pass runs unprofiled.

``--baseline PYTHON`` compares this code with another checkout's: PYTHON is the interpreter of
that checkout's virtualenv (``git worktree add /tmp/base <rev>`` and ``pip install -e .`` there),
which runs this same script against its own code. The two run alternately, ``--pairs`` times
(a shared machine's load moves between minutes, so only a pair run back to back is compared;
the baseline runs first in odd pairs and second in even ones, since the second of two runs
back to back measured 7–9 % slower when both were the same code),
each flow count unprofiled in a process of its own; each pair's ratio this/baseline is printed,
then their median. Exits 1 when a run fails.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Mapping
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from gosstand.mocks.core.app import create_app
from gosstand.mocks.core.keys import ensure_signing_keys
from gosstand.mocks.core.settings import Settings
from gosstand.scenarios import esia_login
from gosstand.scenarios.control import StackControl
from gosstand.scenarios.esia_client import RelyingParty, make_test_identity
from gosstand.scenarios.gost import cms_signer
from gosstand.scenarios.http import HttpResponse
from gosstand.scenarios.identities import russian_faker

ESIA = "http://127.0.0.1:8000"
SCOPE = "openid fullname snils inn usr_org"
CONTROL_TOKEN = "bench-control"


class AsgiClient:
    """The journeys' :class:`~gosstand.scenarios.http.HttpClient` over a direct ASGI call, with
    a cookie jar; times (and, when asked, profiles) only the app's part of each request."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.cookies: dict[str, str] = {}
        self.profile: cProfile.Profile | None = None
        self.timing = False
        self.cpu: dict[str, float] = defaultdict(float)
        self.count: dict[str, int] = defaultdict(int)
        #: SQL statements run per request name, when counted (``--statements``).
        self.statements: dict[str, Counter[tuple[str, str]]] | None = None
        self._current = ""
        #: The store's shared-memory file, when statements are counted (for the pages written).
        self.shm: Path | None = None

    def send(self, method: str, url: str, *, name: str, params: Mapping[str, str] | None = None,
             data: Mapping[str, str] | None = None, json: Any = None, files: Any = None,
             headers: Mapping[str, str] | None = None, context: Any = None) -> HttpResponse:
        import json as jsonlib

        parts = urlsplit(url)
        query = parts.query
        if params:
            query = f"{query}&{urlencode(params)}" if query else urlencode(params)
        body = b""
        sent_headers = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"python-httpx/0.28.1"),
                        (b"accept", b"*/*"), (b"accept-encoding", b"gzip, deflate"), (b"connection", b"keep-alive")]
        if data is not None:
            body = urlencode(data).encode()
            sent_headers.append((b"content-type", b"application/x-www-form-urlencoded"))
        elif json is not None:
            body = jsonlib.dumps(json).encode()
            sent_headers.append((b"content-type", b"application/json"))
        if body:
            sent_headers.append((b"content-length", str(len(body)).encode()))
        for key, value in (headers or {}).items():
            sent_headers.append((key.lower().encode(), value.encode()))
        if self.cookies:
            sent_headers.append((b"cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()).encode()))
        scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
                 "method": method, "scheme": "http", "path": parts.path, "raw_path": parts.path.encode(),
                 "query_string": query.encode(), "root_path": "", "headers": sent_headers,
                 "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        answer: dict[str, Any] = {"body": b""}

        async def receive() -> dict[str, Any]:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer["status"], answer["headers"] = message["status"], message.get("headers", [])
            elif message["type"] == "http.response.body":
                answer["body"] += message.get("body", b"")

        self._current = name
        frames = self.wal_frames()
        started = time.process_time()
        if self.profile is not None:
            self.profile.enable()
        self.loop.run_until_complete(self.app(scope, receive, send))
        if self.profile is not None:
            self.profile.disable()
        if self.timing:
            self.cpu[name] += time.process_time() - started
            self.count[name] += 1
        self._current = ""
        if self.statements is not None and self.timing:
            written = self.wal_frames() - frames
            self.statements[name][("frames", "")] += written if written >= 0 else self.wal_frames()
        response_headers: dict[str, str] = {}
        for key, value in answer["headers"]:
            key_text, value_text = key.decode().lower(), value.decode()
            if key_text == "set-cookie":
                cookie: SimpleCookie = SimpleCookie()
                cookie.load(value_text)
                for morsel in cookie.values():
                    if morsel["max-age"] == "0" or morsel.value == "":
                        self.cookies.pop(morsel.key, None)
                    else:
                        self.cookies[morsel.key] = morsel.value
            response_headers[key_text] = value_text
        return HttpResponse(status=answer["status"], headers=response_headers, body=answer["body"], url=url)

    def wal_frames(self) -> int:
        """How many frames (pages) the store's write-ahead log holds now: ``mxFrame`` of the
        WAL-index header every connection maps (it starts again from 0 when the log restarts
        after a checkpoint)."""
        if self.shm is None:
            return 0
        with open(self.shm, "rb") as file:
            return int.from_bytes(file.read(20)[16:20], sys.byteorder)

    def counted(self, kind: str, statement: str) -> None:
        """Count ``statement`` (``kind``: ``run`` for the app's calls, ``traced`` for everything
        SQLite reports running, trigger programs included) under the timed request running it."""
        if self.statements is not None and self.timing and self._current:
            self.statements[self._current][(kind, " ".join(statement.split())[:150])] += 1


def count_statements(http: AsgiClient) -> None:
    """Make every SQLite connection opened from now on report its statements to ``http``: each
    ``execute`` the app calls, and what SQLite's trace reports besides (it reports a statement
    again at the start of each trigger program it runs)."""
    connect = sqlite3.connect

    class Counted(sqlite3.Connection):
        def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
            http.counted("run", sql)
            return super().execute(sql, parameters)

        def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
            http.counted("run", sql)
            return super().executemany(sql, parameters)

    def traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        db = connect(*args, factory=Counted, **kwargs)
        db.set_trace_callback(lambda statement: http.counted("traced", ""))
        return db

    http.statements = defaultdict(Counter)
    sqlite3.connect = traced  # type: ignore[assignment]  # the stores call sqlite3.connect at open


class PresignedParty(RelyingParty):
    """``client_secret`` signatures made before the clock starts (as ``http_stack.py`` does)."""

    def presign(self, count: int, scope: str) -> None:
        self._ready = [RelyingParty._signed(self, scope, None) for _ in range(count)]

    def _signed(self, scope: str, state: str | None, *, code: str | None = None,
                grant: str | None = None) -> dict[str, str]:
        return dict(self._ready.pop())


def rsa_floor(keys_dir: Path, signatures: int, rounds: int = 200) -> float:
    key = ensure_signing_keys(keys_dir).private_key
    started = time.process_time()
    for _ in range(rounds):
        key.sign(b"x" * 700, padding.PKCS1v15(), hashes.SHA256())
    return signatures * (time.process_time() - started) / rounds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logins", type=int, default=300)
    parser.add_argument("--mode", choices=["strict", "structural", "off"], default="strict")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--hot-path", choices=["on", "off"], default="on")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--way", choices=["password", "signature", "token"], default="password",
                        help="how the person signs in (signature: a certificate of the stand's CA); token: no "
                             "login, one client_credentials te a flow")
    parser.add_argument("--time-sms-read", action="store_true",
                        help="time the control API's SMS outbox read with the login (a load run sends one per login)")
    parser.add_argument("--time-logout", action="store_true",
                        help="time the logout after each login too (a load run's journey ends with one)")
    parser.add_argument("--statements", action="store_true",
                        help="count the SQL statements per flow and per request (and list them)")
    parser.add_argument("--dump", type=Path, help="also write the cProfile statistics to this file (for pstats)")
    parser.add_argument("--baseline", metavar="PYTHON", help="compare with the code this interpreter imports")
    parser.add_argument("--pairs", type=int, default=5, help="baseline/this runs alternated (with --baseline)")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # one run's figures, for --baseline
    args = parser.parse_args()
    if args.baseline:
        return compare(args)

    state = Path(tempfile.mkdtemp(prefix="gosstand-profile-"))
    settings = Settings(service="esia", replica="esia-1", state_dir=state, store_url=f"sqlite:///{state}/esia.sqlite3",
                        control_token=CONTROL_TOKEN, public_url=ESIA, esia_issuer="http://esia.test/",
                        esia_keys_dir=state / "keys", signature_mode=args.mode, hot_path=args.hot_path == "on")
    ensure_signing_keys(state / "keys")
    http = AsgiClient(None)  # the app comes after: its store's connection is traced from its opening
    if args.statements:
        count_statements(http)
        http.shm = state / "esia.sqlite3-shm"
    http.app = create_app(settings)
    control = StackControl({"esia": ESIA}, CONTROL_TOKEN, http=http)
    certificate, key = make_test_identity("bench client")
    rp = PresignedParty(client_id="BENCH", redirect_uri="http://127.0.0.1/cb", certificate=certificate,
                        private_key=key)
    control.register_client("BENCH", redirect_uris=[rp.redirect_uri],
                            certificate=certificate.public_bytes(serialization.Encoding.PEM).decode(),
                            scopes=["openid", "org_fullname"] if args.way == "token"
                            else ["openid", "fullname", "snils", "inn", "usr_org"])
    record = russian_faker(seed=7).person_record()
    oid = control.seed_user(phone=record["phone"], password=record["password"], email=record["email"],
                            person={k: record[k] for k in ("firstName", "lastName", "middleName", "birthDate",
                                                           "gender", "snils", "inn")})
    issued = control.issue_certificate(oid) if args.way == "signature" else None
    sign = cms_signer(issued["certificate"], issued["private_key"]) if issued is not None else None
    passes = 1 if args.no_profile else 2
    scope = SCOPE
    if args.way == "token":
        org = control.create_organisation(fullName="ООО «Ромашка»", shortName="Ромашка", ogrn="1027700132195",
                                          inn="7707083893", kpp="770701001", type="LEGAL")
        scope = f"http://esia.gosuslugi.ru/org_fullname?org_oid={org['oid']}"
    rp.presign(2 * (passes * args.logins + 4), scope)

    def flow() -> None:
        if args.way == "token":
            answer = http.send("POST", f"{ESIA}/aas/oauth2/te", name="esia: te", data=rp.client_credentials_form(scope))
            if answer.status != 200:
                raise RuntimeError(f"te answered {answer.status}: {answer.body[:300]!r}")
            return
        if sign is not None:  # the person's signing runs between the app's requests: not timed
            esia_login.login_with_signature(http, esia_url=ESIA, rp=rp, scope=SCOPE, sign=sign)
        else:
            esia_login.login(http, esia_url=ESIA, rp=rp, login=record["phone"], password=record["password"],
                             read_sms=control.read_sms, scope=SCOPE)
        http.timing = bool(http.timing and args.time_logout)
        esia_login.logout(http, esia_url=ESIA, rp=rp)

    for _ in range(3):  # consent once, warm caches
        flow()
    if not args.time_sms_read:
        read_sms = control.read_sms

        def untimed_read_sms(phone: str) -> str:
            http.timing = False
            code = read_sms(phone)
            http.timing = True
            return code

        control.read_sms = untimed_read_sms  # type: ignore[method-assign]  # the phone is not ESIA: not timed
    for _ in range(args.logins):
        http.timing = True
        flow()
    total = sum(http.cpu.values()) / args.logins
    signatures = 1 if args.way == "token" else 3
    rsa = rsa_floor(state / "keys", signatures)
    print(f"ESIA login flow in-process by {args.way} ({args.logins} flows, {args.mode}, hot path {args.hot_path}): "
          f"{total * 1000:.2f} ms of app CPU, of which the {signatures} RS256 signature(s) {rsa * 1000:.2f} ms, "
          f"the rest {(total - rsa) * 1000:.2f} ms")
    for name in http.cpu:
        print(f"  {name:18} {http.cpu[name] / http.count[name] * 1e6:7.0f} µs")
    if http.statements is not None:
        print_statements(http, args.logins)
    if args.json:
        print(json.dumps({"total": total, "rsa": rsa,
                          "steps": {name: http.cpu[name] / http.count[name] for name in http.cpu}}))
    if not args.no_profile:
        http.profile = cProfile.Profile()
        for _ in range(args.logins):
            http.timing = True
            flow()
        if args.dump:
            http.profile.dump_stats(args.dump)
        out = io.StringIO()
        stats = pstats.Stats(http.profile, stream=out)
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)
        print(out.getvalue())
    return 0


def print_statements(http: AsgiClient, logins: int) -> None:
    """The SQL statements per flow and per request, each distinct one with its count per request."""
    assert http.statements is not None

    def runs(counts: Counter[tuple[str, str]], kind: str) -> int:
        return sum(count for (what, _), count in counts.items() if what == kind)

    run = sum(runs(counts, "run") for counts in http.statements.values())
    traced = sum(runs(counts, "traced") for counts in http.statements.values())
    frames = sum(runs(counts, "frames") for counts in http.statements.values())
    print(f"SQL statements per flow: {run / logins:.1f} run by the app, {(traced - run) / logins:.1f} trigger "
          f"steps besides; {frames / logins:.1f} pages written to the store's log")
    for name, counts in http.statements.items():
        done = http.count[name]
        print(f"  {name:18} {runs(counts, 'run') / done:5.1f} statements, "
              f"{(runs(counts, 'traced') - runs(counts, 'run')) / done:4.1f} trigger steps, "
              f"{runs(counts, 'frames') / done:4.1f} pages written")
        for (kind, statement), count in sorted(counts.items(), key=lambda item: -item[1]):
            if kind == "run":
                print(f"      {count / done:4.1f}  {statement}")


def _run(python: str, args: argparse.Namespace) -> dict[str, Any]:
    """One unprofiled run of this script by ``python``: its figures."""
    command = [python, __file__, "--no-profile", "--json", "--logins", str(args.logins), "--mode", args.mode,
               "--way", args.way, "--hot-path", args.hot_path, *(["--time-sms-read"] if args.time_sms_read else []),
               *(["--time-logout"] if args.time_logout else [])]
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"{python} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def compare(args: argparse.Namespace) -> int:
    """This code against ``--baseline``'s, alternately: each pair's ratios and their median."""
    ratios: dict[str, list[float]] = defaultdict(list)
    print(f"ESIA login flow in-process by {args.way}, {args.logins} flows a run, {args.mode}; baseline: "
          f"{args.baseline}, this: {sys.executable}")
    print(f"  {'pair':>4} {'baseline ms':>12} {'this ms':>8} {'ratio':>6} {'rest: baseline':>15} {'this':>6} "
          f"{'ratio':>6}")
    try:
        for pair in range(1, args.pairs + 1):
            if pair % 2:  # the baseline first in odd pairs, second in even ones (see the docstring)
                base, this = _run(args.baseline, args), _run(sys.executable, args)
            else:
                this, base = _run(sys.executable, args), _run(args.baseline, args)
            rest_base, rest_this = base["total"] - base["rsa"], this["total"] - this["rsa"]
            ratios["total"].append(this["total"] / base["total"])
            ratios["rest"].append(rest_this / rest_base)
            for step, seconds in this["steps"].items():
                if step in base["steps"]:
                    ratios[step].append(seconds / base["steps"][step])
            print(f"  {pair:>4} {base['total'] * 1e3:12.2f} {this['total'] * 1e3:8.2f} {ratios['total'][-1]:6.2f} "
                  f"{rest_base * 1e3:15.2f} {rest_this * 1e3:6.2f} {ratios['rest'][-1]:6.2f}")
    except (OSError, RuntimeError, subprocess.TimeoutExpired, ValueError) as exc:
        print(f"a run failed: {exc}", file=sys.stderr)
        return 1
    print("  median ratio this/baseline: " + ", ".join(
        f"{name} {statistics.median(values):.2f}" for name, values in ratios.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
