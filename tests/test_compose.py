"""The Compose file (deploy/compose/compose.yaml) brought up for real with Debian's docker-compose
1.29 and the images the stand builds (offline here), reached only through its published ports: a
person logs in at ESIA with password and SMS code and files a declaration at FTS with the token,
and signs in to FTS's personal account, which works only when the one-shot ``accounts`` container
registered it with ESIA and the replicas reach ESIA at their internal address.

Marked ``containers`` (run by ``.ci/containers``); skipped with the reason when no Docker daemon
answers or docker-compose is missing. Each run is its own Compose project, taken down with its
volumes at the end whatever happened.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from account_people import api_token, seed_organisation, seed_person, submit_declaration
from built_images import images_or_skip
from gosstand.mocks.core.middleware import REPLICA_HEADER
from gosstand.scenarios import accounts, declarations
from gosstand.scenarios.control import StackControl
from gosstand.scenarios.http import HttpxClient
from gosstand.stand.ports import free_port

pytestmark = [pytest.mark.containers, pytest.mark.slow]

COMPOSE = Path(__file__).resolve().parent.parent / "deploy" / "compose" / "compose.yaml"
SERVICES = ("esia", "utko", "fts")
#: Replicas start in about 10 s here; a loaded 2-core machine is given far more.
READY_WITHIN_S = 180


@dataclass(frozen=True)
class ComposeStand:
    project: str
    urls: dict[str, str]
    control_token: str
    env: dict[str, str]

    def compose(self, *arguments: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["docker-compose", "-p", self.project, "-f", str(COMPOSE), *arguments],
                              capture_output=True, text=True, env=self.env, timeout=timeout)

    def logs(self) -> str:
        return self.compose("logs", "--no-color", "--tail=30").stdout[-6000:]


def _accounts_exit_code(stand: ComposeStand) -> int | None:
    """The one-shot ``accounts`` container's exit code, ``None`` while it runs."""
    ids = stand.compose("ps", "-q", "accounts").stdout.split()
    if not ids:
        return None
    state = json.loads(subprocess.run(["docker", "inspect", "--format", "{{json .State}}", ids[0]],
                                      capture_output=True, text=True, check=True).stdout)
    return None if state["Running"] or state["Status"] == "created" else int(state["ExitCode"])


def _wait_until_ready(stand: ComposeStand) -> None:
    """Every service answers its health route through HAProxy's published port, from both replicas,
    and the accounts are registered."""
    waiting = {f"{service}-{index}" for service in SERVICES for index in (1, 2)}
    registered: int | None = None
    deadline = time.monotonic() + READY_WITHIN_S
    while waiting or registered is None:
        if time.monotonic() > deadline:
            pytest.fail(f"the Compose stand was not ready within {READY_WITHIN_S}s (no answer from "
                        f"{sorted(waiting)}, accounts exit {registered}):\n{stand.logs()}")
        for service in SERVICES:
            try:
                answer = httpx.get(f"{stand.urls[service]}/_gosstand/health", timeout=2.0)
            except httpx.TransportError:
                continue
            if answer.status_code == 200:
                waiting.discard(answer.headers.get(REPLICA_HEADER, ""))
        registered = _accounts_exit_code(stand)
        if registered not in (None, 0):
            pytest.fail(f"the accounts container failed ({registered}):\n{stand.logs()}")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def stand() -> Iterator[ComposeStand]:
    if shutil.which("docker-compose") is None:
        pytest.skip("docker-compose is not installed (Debian: docker-compose)")
    images = images_or_skip()
    ports = {service: free_port() for service in SERVICES}
    token = secrets.token_urlsafe(16)
    env = {**os.environ, "GOSSTAND_CONTROL_TOKEN": token, "GOSSTAND_IMAGE": images.mocks,
           "GOSSTAND_REDIS_IMAGE": images.redis, "GOSSTAND_HAPROXY_IMAGE": images.haproxy,
           **{f"GOSSTAND_{service.upper()}_PORT": str(port) for service, port in ports.items()}}
    running = ComposeStand(project=f"gosstandtest{secrets.token_hex(4)}",
                           urls={service: f"http://127.0.0.1:{port}" for service, port in ports.items()},
                           control_token=token, env=env)
    try:
        started = running.compose("up", "-d")
        assert started.returncode == 0, started.stderr
        _wait_until_ready(running)
        yield running
    finally:
        down = running.compose("down", "-v", "--remove-orphans")
        assert down.returncode == 0, down.stderr


@pytest.fixture(scope="module")
def control(stand: ComposeStand) -> StackControl:
    return StackControl(stand.urls, stand.control_token)


def test_a_password_and_sms_login_gives_a_token_fts_accepts(stand: ComposeStand, control: StackControl) -> None:
    person = seed_person(control, seed=71)
    firm = seed_organisation(control, seed=72, employees=[{"oid": person.oid, "role": "employee"}])
    token = api_token(stand, control, person)  # password, then the SMS code read through the control API
    filed = submit_declaration(stand, token, firm)
    with HttpxClient() as http:
        status = declarations.status(http, fts_url=stand.urls["fts"], token=token, declaration_id=filed["id"])
        listed = list(declarations.list_declarations(http, fts_url=stand.urls["fts"], token=token,
                                                     inn=firm["inn"]))
    assert status["id"] == filed["id"] and [card["id"] for card in listed] == [filed["id"]]
    refused = httpx.get(f"{stand.urls['fts']}/api/v1/declarations/{filed['id']}/status",
                        headers={"Authorization": f"Bearer {token[:-4]}AAAA"}, timeout=10)
    assert refused.status_code == 401


def test_the_fts_personal_account_signs_in_through_the_stands_esia(stand: ComposeStand,
                                                                    control: StackControl) -> None:
    person = seed_person(control, seed=73)
    firm = seed_organisation(control, seed=74, employees=[{"oid": person.oid, "role": "employee"}])
    with HttpxClient() as browser:
        signed = accounts.sign_in(browser, account_url=stand.urls["fts"], esia_url=stand.urls["esia"],
                                  login=person.phone, password=person.password, read_sms=control.read_sms)
        assert signed.location == "/account/choose"
        assert accounts.choices(browser, stand.urls["fts"]) == ["self", f"org:{firm['oid']}"]
