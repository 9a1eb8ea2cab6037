"""A real third-party ESIA client completes a login against the mock, unmodified.

esia-connector 0.16 (the Python client of eigenmethod, on PyPI since 2016) is installed in a
virtual environment of its own with the PyJWT of its time (1.x: the library calls the 1.x API),
and drives a relying party's side: it signs ``client_secret`` with the ``openssl smime``
command, builds the authorization URL, trades the code at ``te``, verifies the id_token's
signature, audience and issuer with ESIA's key (it hard-codes the production issuer
``http://esia.gosuslugi.ru/``, so the mock is started with it) and reads ``/rs/prns/{oid}``.
The person's browser part is :func:`scenarios.esia_login.sign_in`.

The environment is built once under ``.venv/thirdparty`` (pip needs the package index); where it
cannot be built the test skips with the reason, except in CI, where that is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import venv
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from gosstand.scenarios import esia_login
from gosstand.scenarios.control import StackControl
from gosstand.scenarios.esia_client import make_test_identity
from gosstand.scenarios.http import HttpxClient
from gosstand.stand.stack import EmbeddedStack

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENT = ROOT / ".venv" / "thirdparty" / "esia-connector-0.16"
REQUIREMENTS = ["esia-connector==0.16", "PyJWT>=1.7,<2", "requests", "pytz", "cryptography"]
CLIENT = Path(__file__).parent / "thirdparty" / "esia_connector_client.py"
PRODUCTION_ISSUER = "http://esia.gosuslugi.ru/"
REDIRECT = "https://rp.example/esia/callback"
PHONE, PASSWORD = "+79161234567", "Vhod-2026!"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def connector_python() -> Path:
    python = ENVIRONMENT / "bin" / "python"
    if shutil.which("openssl") is None:
        _unavailable("esia-connector signs with the openssl command, which is not installed")
    marker = ENVIRONMENT / "installed.txt"
    if not marker.exists() or marker.read_text() != "\n".join(REQUIREMENTS):
        shutil.rmtree(ENVIRONMENT, ignore_errors=True)
        venv.create(ENVIRONMENT, with_pip=True)
        installed = subprocess.run([str(python), "-m", "pip", "install", "-q", *REQUIREMENTS],
                                   capture_output=True, text=True, timeout=600)
        if installed.returncode != 0:
            _unavailable(f"could not install {' '.join(REQUIREMENTS)}: {installed.stderr[-500:]}")
        marker.write_text("\n".join(REQUIREMENTS))
    return python


def _log_in_with_the_library(
    connector_python: Path, stand: EmbeddedStack, tmp_path: Path
) -> tuple[subprocess.CompletedProcess, int]:
    """The whole login with the library on the relying party's side: the library's last step
    (code exchange, token check, person data) as a finished process, and the person's OID."""
    control = StackControl(stand.urls, stand.control_token)
    certificate, key = make_test_identity("CONNECTOR")
    (tmp_path / "client.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "client.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()))
    control.register_client("CONNECTOR", redirect_uris=[REDIRECT], scopes=["openid", "fullname", "snils"],
                            certificate=certificate.public_bytes(serialization.Encoding.PEM).decode())
    oid = control.seed_user(phone=PHONE, password=PASSWORD, person={
        "firstName": "Анна", "lastName": "Смирнова", "middleName": "Игоревна", "snils": "112-233-445 95"})
    with HttpxClient() as http:
        # ESIA's key as the library wants it: a PEM public key, as `openssl x509 -pubkey` gives it
        certificate_pem = http.send("GET", f"{stand.urls['esia']}/_gosstand/esia/cert.pem", name="cert").body
        public_key = subprocess.run(["openssl", "x509", "-pubkey", "-noout"], input=certificate_pem,
                                    capture_output=True, check=True).stdout
        (tmp_path / "esia.pub").write_bytes(public_key)
        settings = json.dumps({
            "esia_client_id": "CONNECTOR", "redirect_uri": REDIRECT, "esia_service_url": stand.urls["esia"],
            "certificate_file": str(tmp_path / "client.pem"), "private_key_file": str(tmp_path / "client.key"),
            "esia_scope": "openid fullname snils", "esia_token_check_key": str(tmp_path / "esia.pub"),
        })

        def library(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run([str(connector_python), str(CLIENT), *args], capture_output=True, text=True,
                                  timeout=60, cwd=tmp_path)

        made = library("url", settings)
        assert made.returncode == 0, made.stderr[-2000:]
        back = esia_login.sign_in(http, esia_url=stand.urls["esia"], authorization_url=made.stdout.strip(),
                                  login=PHONE, password=PASSWORD, read_sms=control.read_sms)
    assert back.startswith(REDIRECT)
    query = {name: values[0] for name, values in parse_qs(urlsplit(back).query).items()}
    return library("complete", settings, query["code"], query["state"]), oid


def test_esia_connector_logs_a_person_in_unmodified(connector_python, tmp_path):
    with EmbeddedStack(replicas=1, services=("esia",), esia_issuer=PRODUCTION_ISSUER) as stand:
        completed, oid = _log_in_with_the_library(connector_python, stand, tmp_path)
    assert completed.returncode == 0, completed.stderr[-2000:]
    result = json.loads(completed.stdout)
    assert result["oid"] == oid  # read by the library from the id_token's urn:esia:sbj
    person = result["person"]
    assert (person["firstName"], person["lastName"], person["snils"]) == ("Анна", "Смирнова", "112-233-445 95")
    assert person["stateFacts"] == ["EntityRoot"]


def test_the_library_refuses_tokens_of_another_issuer(connector_python, tmp_path):
    """It checks what it says it checks: with the test stand's issuer (the mock's default) the
    library, which expects production's, rejects the id_token — why the issuer is a setting."""
    with EmbeddedStack(replicas=1, services=("esia",)) as stand:
        completed, _ = _log_in_with_the_library(connector_python, stand, tmp_path)
    assert completed.returncode != 0 and "IncorrectMarkerError" in completed.stderr
    assert "issuer" in completed.stderr.lower()
