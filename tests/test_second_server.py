"""The stand on its second HTTP server: ``GOSSTAND_SERVER=uvicorn gosstand up``, which the README
offers for login-heavy runs (a login costs uvicorn less CPU than granian), serves ESIA's whole
login with the ``[uvicorn]`` extra installed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from gosstand.scenarios import esia_login
from gosstand.scenarios.control import StackControl
from gosstand.scenarios.esia_client import RelyingParty, make_test_identity
from gosstand.scenarios.http import HttpxClient
from gosstand.stand.stack import EmbeddedStack

PHONE, PASSWORD = "+79990000077", "Vtoroi-2026!"


def _shared_objects(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


def test_a_replica_on_uvicorn_signs_a_person_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOSSTAND_SERVER", "uvicorn")
    with EmbeddedStack(replicas=1, services=("esia",)) as stack:
        replica = stack.replica("esia", 1).process
        assert replica is not None
        loaded = _shared_objects(replica.pid)
        assert "httptools" in loaded and "_granian" not in loaded  # it is uvicorn that answers
        control = StackControl(stack.urls, stack.control_token)
        certificate, key = make_test_identity("SECOND")
        control.register_client("SECOND", redirect_uris=["https://rp.example/cb"], scopes=["openid", "fullname"],
                                certificate=certificate.public_bytes(serialization.Encoding.PEM).decode())
        oid = control.seed_user(phone=PHONE, password=PASSWORD,
                                person={"firstName": "Вера", "lastName": "Орлова", "snils": "11223344595"})
        rp = RelyingParty(client_id="SECOND", redirect_uri="https://rp.example/cb", certificate=certificate,
                          private_key=key)
        with HttpxClient() as http:
            tokens = esia_login.login(http, esia_url=stack.urls["esia"], rp=rp, login=PHONE, password=PASSWORD,
                                      read_sms=control.read_sms, scope="openid fullname")
            person = http.send("GET", f"{stack.urls['esia']}/rs/prns/{oid}", name="person",
                               headers={"Authorization": f"Bearer {tokens.access_token}"})
    assert tokens.oid == oid
    assert person.status == 200 and json.loads(person.body)["firstName"] == "Вера"
