"""ESIA's token endpoint beside the OAuth mock server Node users reach for, one core each, one run.

    python benchmarks/token_rate.py [--duration 5] [--rounds 2] [--connections 16] [--secrets 400]

- ESIA: ``POST /aas/oauth2/te`` with ``grant_type=client_credentials`` for an organisation, in
  strict signature mode: every request carries a ``client_secret`` (a CMS signature over scope,
  timestamp, client and state, made before the clock starts, a different one per request, in
  turn) that the mock verifies with the client's certificate before it signs the RS256 token.
- oauth2-mock-server (npm, Node): ``POST /token`` with ``grant_type=client_credentials``; it
  checks no client signature and signs an RS256 token. Installed here with npm on first use
  (``.venv/bench/``; the 8.x line, the newest that runs on Node 20).

Each server is pinned to CPU 0 and loaded by ``wrk`` on CPU 1; the two are measured in
alternating rounds of ``--duration`` seconds, and the best round of each is compared, the
baseline being oauth2-mock-server's rate in the same run. Also printed: each server's share of
its core while loaded (a share well under 100 % means wrk, not the server, set the rate) and
its CPU per token; the ratio of each round pair (ESIA's round against the mock's round right
after it, so both met the same neighbours on this shared machine) and their median; and what
one RSA-2048 signature costs on the servers' CPU (``cryptography``, timed between rounds), with
each server's CPU per token beyond that one signature — both servers sign every token with
RSA-2048 through OpenSSL, so the rest is each server's own work. Exits 1 when a server
answered anything but 200, 2 when wrk, Node or npm is missing or the mock server cannot be
installed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from gosstand.scenarios.control import StackControl
from gosstand.scenarios.esia_client import RelyingParty, make_test_identity
from gosstand.stand.ports import free_port
from gosstand.stand.stack import EmbeddedStack
from http_stack import CLIENT_CPU, SERVER_CPU, _cpu_seconds, _pin, _wait

ROOT = Path(__file__).resolve().parent.parent
MOCK_PACKAGE = "oauth2-mock-server@^8.2"
MOCK_DIR = ROOT / ".venv" / "bench" / "oauth2-mock-server-8"
ORG_SCOPE = "http://esia.gosuslugi.ru/org_fullname?org_oid={oid}"
_SERVE_MOCK = """
import { OAuth2Server } from "oauth2-mock-server";
const server = new OAuth2Server();
await server.issuer.keys.generate("RS256");
await server.start(Number(process.argv[2]), "127.0.0.1");
"""


class Unavailable(Exception):
    """Something the benchmark needs is not on this machine (and could not be installed)."""


def install_mock_server() -> Path:
    """The script that serves oauth2-mock-server, installing the package with npm first."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise Unavailable("node and npm are needed: apt-get install nodejs npm")
    if not (MOCK_DIR / "node_modules" / "oauth2-mock-server").is_dir():
        MOCK_DIR.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--no-save", "--prefix", str(MOCK_DIR),
                               MOCK_PACKAGE], capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise Unavailable(f"npm install {MOCK_PACKAGE} failed:\n{done.stderr[-2000:]}")
    script = MOCK_DIR / "serve.mjs"
    script.write_text(_SERVE_MOCK)
    return script


def _lua(path: str, bodies: list[str]) -> Path:
    """A wrk script posting ``bodies`` in turn (url-encoded forms: no quote or backslash in them)."""
    script = Path(tempfile.mkstemp(prefix="gosstand-token-", suffix=".lua")[1])
    listed = ",\n".join(f'"{body}"' for body in bodies)
    script.write_text(
        f"local bodies = {{\n{listed}\n}}\nlocal i = 0\n"
        f'wrk.method = "POST"\nwrk.path = "{path}"\n'
        'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
        "request = function()\n  i = i % #bodies + 1\n  return wrk.format(nil, nil, nil, bodies[i])\nend\n"
    )
    return script


def _load(url: str, script: Path, *, pgid: int, duration: float, connections: int) -> tuple[float, float, float]:
    """(tokens/s, the server's share of its core, server CPU seconds per token) under wrk."""
    before, started = _cpu_seconds(pgid), time.monotonic()
    command = ["taskset", "-c", str(CLIENT_CPU), "wrk", "-t1", f"-c{connections}", f"-d{int(duration)}s",
               "-s", str(script), url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    spent, elapsed = _cpu_seconds(pgid) - before, time.monotonic() - started
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise RuntimeError(f"{url} answered errors under load:\n{output}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    return rate, spent / elapsed, spent / max(1.0, rate * elapsed)


def _signature_seconds(batches: int = 8, size: int = 40) -> float:
    """CPU seconds of one RSA-2048 PKCS#1 v1.5 SHA-256 signature of a token-sized input on the
    servers' CPU (while they idle between rounds): the quickest of a few short batches, as the
    other helpers' work on this machine only ever adds."""
    key, message = rsa.generate_private_key(public_exponent=65537, key_size=2048), b"x" * 700
    os.sched_setaffinity(0, {SERVER_CPU})
    try:
        quickest = float("inf")
        for _ in range(batches):
            started = time.process_time()
            for _ in range(size):
                key.sign(message, padding.PKCS1v15(), hashes.SHA256())
            quickest = min(quickest, (time.process_time() - started) / size)
    finally:
        os.sched_setaffinity(0, {CLIENT_CPU})
    return quickest


def _esia_bodies(stack: EmbeddedStack, count: int) -> list[str]:
    """``count`` client_credentials forms, each with its own signed client_secret."""
    from urllib.parse import urlencode

    control = StackControl(stack.urls, stack.control_token)
    certificate, key = make_test_identity("token bench")
    rp = RelyingParty(client_id="TOKENBENCH", redirect_uri="http://127.0.0.1/cb", certificate=certificate,
                      private_key=key)
    control.register_client("TOKENBENCH", redirect_uris=[rp.redirect_uri],
                            certificate=certificate.public_bytes(serialization.Encoding.PEM).decode(),
                            scopes=["openid", "org_fullname"])
    org = control.create_organisation(fullName="ООО «Ромашка»", shortName="Ромашка", ogrn="1027700132195",
                                      inn="7707083893", kpp="770701001", type="LEGAL")
    scope = ORG_SCOPE.format(oid=org["oid"])
    return [urlencode(rp.client_credentials_form(scope)) for _ in range(count)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of wrk load per round and server")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--secrets", type=int, default=400, help="distinct signed requests ESIA is sent in turn")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 2
    try:
        serve_mock = install_mock_server()
    except (Unavailable, subprocess.TimeoutExpired) as exc:
        print(f"oauth2-mock-server cannot be run here: {exc}", file=sys.stderr)
        return 2
    os.sched_setaffinity(0, {CLIENT_CPU})
    port = free_port()
    mock = subprocess.Popen(["taskset", "-c", str(SERVER_CPU), "node", str(serve_mock), str(port)],
                            start_new_session=True, stdout=subprocess.DEVNULL)
    rates: dict[str, list[tuple[float, float, float]]] = {"ESIA te (strict)": [], "oauth2-mock-server": []}
    signatures: list[float] = []
    try:
        _wait(f"http://127.0.0.1:{port}/.well-known/openid-configuration")
        mock_script = _lua("/token", ["grant_type=client_credentials&scope=read&aud=bench"])
        with EmbeddedStack(replicas=1, services=("esia",), signature_mode="strict") as stack:
            pgid = stack.replica("esia", 1).process.pid  # type: ignore[union-attr]
            _pin(pgid, SERVER_CPU)
            esia_script = _lua("/aas/oauth2/te", _esia_bodies(stack, args.secrets))
            for _ in range(args.rounds):
                signatures.append(_signature_seconds())
                rates["ESIA te (strict)"].append(_load(f"{stack.urls['esia']}/aas/oauth2/te", esia_script,
                                                       pgid=pgid, duration=args.duration,
                                                       connections=args.connections))
                rates["oauth2-mock-server"].append(_load(f"http://127.0.0.1:{port}/token", mock_script, pgid=mock.pid,
                                                         duration=args.duration, connections=args.connections))
    finally:
        os.killpg(mock.pid, signal.SIGKILL)
    best = {name: max(runs) for name, runs in rates.items()}
    baseline = best["oauth2-mock-server"][0]
    signature = min(signatures)
    pairs = [esia[0] / mock[0] for esia, mock in zip(rates["ESIA te (strict)"], rates["oauth2-mock-server"],
                                                     strict=True)]
    print(f"\nToken endpoint, client_credentials, one server process on CPU {SERVER_CPU}, wrk -c{args.connections} "
          f"on CPU {CLIENT_CPU}, best of {args.rounds} rounds of {args.duration:.0f} s")
    print(f"  {'server':22} {'tokens/s':>9} {'vs mock':>8} {'core busy':>10} {'CPU/token':>10} {'beyond sig.':>12}"
          "   rounds (tokens/s)")
    for name, (rate, busy, per_token) in best.items():
        each = ", ".join(f"{run[0]:.0f}" for run in rates[name])
        print(f"  {name:22} {rate:9.0f} {rate / baseline:8.2f} {busy:10.0%} {per_token * 1e6:7.0f} µs "
              f"{(per_token - signature) * 1e6:9.0f} µs   {each}")
    print(f"  each round pair ESIA/mock: {', '.join(f'{ratio:.2f}' for ratio in pairs)}; "
          f"median {statistics.median(pairs):.2f}")
    print(f"  one RSA-2048 signature on CPU {SERVER_CPU}: {signature * 1e6:.0f} µs (the quickest of short batches "
          "timed between rounds); both servers make one per token")
    print("  baseline: oauth2-mock-server (Node, no client signature checked) in the same run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
