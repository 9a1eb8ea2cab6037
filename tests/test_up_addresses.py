"""``gosstand up`` as a relying-party developer or an SRE starts it: fixed ports (``--port 8000`` or
``--port esia=8443``), the bind address (``--host``) and the issuer ESIA writes into tokens
(``--esia-issuer`` or ``GOSSTAND_ESIA_ISSUER``), which every replica of every service must get:
ESIA to sign with it, FTS and UTKO to accept tokens that carry it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from esia_stand import identity, person
from gosstand.mocks.core.serve import STARTING
from gosstand.mocks.core.settings import TEST_STAND_ISSUER, Settings, configured_issuer
from gosstand.mocks.fts.handlers import BASE as DECLARATIONS
from gosstand.scenarios import esia_login
from gosstand.scenarios.control import StackControl
from gosstand.scenarios.esia_client import RelyingParty
from gosstand.scenarios.http import HttpxClient
from gosstand.stand.containers import ContainerReplica, ContainerStack
from gosstand.stand.manifest import StackManifest
from gosstand.stand.stack import EmbeddedStack

from gosstand.cli import _ports

PRODUCTION_ISSUER = "http://esia.gosuslugi.ru/"
REDIRECT = "https://rp.example/esia/callback"


def test_a_base_port_puts_the_services_on_it_and_after_it() -> None:
    assert _ports(["8000"]) == {"esia": 8000, "utko": 8001, "fts": 8002}
    assert _ports(["fts=9000", "8000"]) == {"fts": 9000, "esia": 8000, "utko": 8001}
    for wrong in (["fts=http"], ["soap=8000"], ["65535"], ["0"], ["8000", "esia=8001"]):
        with pytest.raises(ValueError):
            _ports(wrong)


def test_the_issuer_in_the_environment_reaches_each_replica_of_both_backends(monkeypatch, tmp_path) -> None:
    """Before: each stack handed its replicas the test stand's issuer, whatever the user set."""
    monkeypatch.setenv("GOSSTAND_ESIA_ISSUER", PRODUCTION_ISSUER)
    embedded = EmbeddedStack(state_dir=tmp_path)
    embedded.urls = {service: "http://127.0.0.1:1" for service in embedded.services}
    for service in ("esia", "fts", "utko"):
        assert embedded._replica_settings(service, f"{service}-1").to_env()["GOSSTAND_ESIA_ISSUER"] == PRODUCTION_ISSUER
    boxed = ContainerStack(state_dir=tmp_path)
    boxed.urls = {service: "http://127.0.0.1:1" for service in boxed.services}
    boxed.redis_port = 1
    replica = ContainerReplica("fts", 1, "fts-1", 2)
    assert boxed._replica_settings(replica).to_env()["GOSSTAND_ESIA_ISSUER"] == PRODUCTION_ISSUER
    monkeypatch.delenv("GOSSTAND_ESIA_ISSUER")
    assert EmbeddedStack(state_dir=tmp_path).esia_issuer == TEST_STAND_ISSUER


def test_an_issuer_that_is_no_url_is_refused_by_name() -> None:
    assert configured_issuer({"GOSSTAND_ESIA_ISSUER": "  "}) == TEST_STAND_ISSUER
    with pytest.raises(ValueError, match="http\\(s\\) URL"):
        configured_issuer({"GOSSTAND_ESIA_ISSUER": "esia.gosuslugi.ru"})
    with pytest.raises(ValueError, match="http\\(s\\) URL"):
        Settings.from_env({"GOSSTAND_SERVICE": "esia", "GOSSTAND_CONTROL_TOKEN": "t",
                           "GOSSTAND_ESIA_ISSUER": "ftp://esia/"})
    completed = subprocess.run([sys.executable, "-m", "gosstand", "up", "--esia-issuer", "esia.gosuslugi.ru"],
                               capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert completed.returncode == 2 and "http(s) URL" in completed.stderr


def _base_port() -> int:
    """Three consecutive free loopback ports."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base > 65000:
            continue
        free = True
        for port in range(base, base + 3):
            with socket.socket() as other:
                try:
                    other.bind(("127.0.0.1", port))
                except OSError:
                    free = False
        if free:
            return base
    raise AssertionError("no three consecutive free ports")


@pytest.mark.stack
def test_up_with_a_fixed_port_and_the_production_issuer_issues_tokens_its_clients_accept(tmp_path: Path) -> None:
    base = _base_port()
    environment = {**os.environ, "GOSSTAND_ESIA_ISSUER": TEST_STAND_ISSUER}  # the option wins over it
    process = subprocess.Popen(
        [sys.executable, "-m", "gosstand", "up", "--replicas", "2", "--port", str(base), "--state-dir",
         str(tmp_path), "--esia-issuer", PRODUCTION_ISSUER, "--control-token", "fixed-token"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL, env=environment)
    try:
        manifest_path = tmp_path / "stack.json"
        deadline = time.monotonic() + 90
        while not manifest_path.exists():  # written once every replica answers
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "gosstand up did not come up"
            time.sleep(0.2)
        manifest = StackManifest.load(manifest_path)
        assert manifest.urls == {"esia": f"http://127.0.0.1:{base}", "utko": f"http://127.0.0.1:{base + 1}",
                                 "fts": f"http://127.0.0.1:{base + 2}"}
        assert manifest.esia_issuer == PRODUCTION_ISSUER
        for members in manifest.replicas.values():  # what each replica says it was started with
            for replica in members:
                log = (tmp_path / "logs" / f"{replica.name}.log").read_text()
                assert f"{STARTING} {replica.name} " in log and f"ESIA issuer {PRODUCTION_ISSUER}" in log, log
        _log_in_and_use_the_token(manifest)
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    assert process.returncode == 0


def _log_in_and_use_the_token(manifest: StackManifest) -> None:
    esia = manifest.urls["esia"]
    control = StackControl(manifest.urls, manifest.control_token)
    certificate, key = identity("ISSUERSYS")
    rp = RelyingParty("ISSUERSYS", REDIRECT, certificate, key, clock=lambda: control.now("esia"))
    control.register_client("ISSUERSYS", redirect_uris=[REDIRECT], certificate=rp.certificate_pem)
    body = person()
    control.seed_user(**body)
    with HttpxClient() as http:
        tokens = esia_login.login(http, esia_url=esia, rp=rp, login=body["phone"], password=body["password"],
                                  read_sms=control.read_sms)
        certificate_pem = http.send("GET", f"{esia}/_gosstand/esia/cert.pem", name="cert").body
        claims = esia_login.verify_tokens(tokens, certificate_pem=certificate_pem, issuer=PRODUCTION_ISSUER,
                                          now=control.now("esia"))
        assert claims["iss"] == PRODUCTION_ISSUER
        for _ in range(4):  # both FTS replicas (round robin over fresh connections) accept it
            answer = http.send("GET", f"{manifest.urls['fts']}{DECLARATIONS}", name="fts",
                               params={"inn": body["person"]["inn"]},
                               headers={"Authorization": f"Bearer {tokens.access_token}", "Connection": "close"})
            # accepted: past the token check (a token of another issuer is a 401 with a challenge) to
            # the question whether this person acts for that INN
            assert answer.status in (200, 403) and "www-authenticate" not in answer.headers, answer.body[:500]
