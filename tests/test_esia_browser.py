"""A real browser logs in: headless Chromium (driven over WebDriver) opens the client's ``ac``
link on an embedded ESIA stack, types the login and password, the SMS code read from the
control API, accepts the consent page when shown, and lands on the relying party's callback
with a code that the relying party's back end exchanges for tokens. The same with an electronic
signature: the person chooses "Электронная подпись", signs the challenge the page shows (the
reference client's GOST signer plays the signature plug-in) and pastes the signature.

Skipped only when Chromium is absent; CI installs it with ``apt-get install -y chromium
chromium-driver``.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from gosstand.scenarios import esia_login
from gosstand.scenarios.control import StackControl
from gosstand.scenarios.esia_client import RelyingParty, make_test_identity
from gosstand.scenarios.gost import cms_signer, gost_ready
from gosstand.scenarios.http import HttpxClient
from gosstand.stand.ports import free_port
from gosstand.stand.stack import EmbeddedStack
from webdriver import INSTALL_HINT, Browser, chromium_paths

pytestmark = [
    pytest.mark.stack,
    pytest.mark.slow,
    pytest.mark.skipif(chromium_paths() is None, reason=f"chromium is not installed ({INSTALL_HINT})"),
]
PHONE = "+79995550011"
PASSWORD = "Brows3r!pass"


class Callback(BaseHTTPRequestHandler):
    """The relying party's redirect URI on loopback: records what ESIA sent the browser back with."""

    received: list[dict[str, str]] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        parts = urlsplit(self.path)
        if parts.path == "/esia/callback":  # not the browser's favicon request
            type(self).received.append({k: v[0] for k, v in parse_qs(parts.query).items()})
        body = "<!doctype html><html lang='ru'><title>Готово</title><p id='done'>Вход выполнен</p></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def callback() -> Iterator[str]:
    Callback.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Callback)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/esia/callback"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def stack() -> Iterator[EmbeddedStack]:
    """One stack for the module's tests (each seeds its own person)."""
    with EmbeddedStack(services=("esia",), replicas=1).start() as running:
        yield running


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """One browser for the module (starting Chromium costs seconds)."""
    with Browser(port=free_port()) as started:
        yield started


@pytest.fixture
def browser(chromium: Browser, stack: EmbeddedStack) -> Browser:
    """The module's browser without the last test's cookies (ESIA's SSO session above all)."""
    chromium.open(f"{stack.urls['esia']}/_gosstand/health")
    chromium.clear_cookies()
    return chromium


def test_chromium_logs_in_with_password_and_sms_code(stack, callback, browser):
    esia = stack.urls["esia"]
    control = StackControl(stack.urls, stack.control_token)
    certificate, key = make_test_identity("BROWSERSYS")
    rp = RelyingParty("BROWSERSYS", callback, certificate, key, clock=lambda: control.now("esia"))
    control.register_client("BROWSERSYS", redirect_uris=[callback], certificate=rp.certificate_pem)
    oid = control.seed_user(
        phone=PHONE, password=PASSWORD, person={"firstName": "Ольга", "lastName": "Белова", "birthDate": "03.04.1991"}
    )
    params = rp.authorization_params("openid fullname birthdate")

    browser.open(f"{esia}/aas/oauth2/ac?{urlencode(params)}")
    browser.wait_for(lambda b: "/aas/oauth2/login" in b.url, "the login page")
    browser.fill("#login", PHONE)
    browser.fill("#password", PASSWORD)
    browser.click("button[type=submit]")
    browser.wait_for(lambda b: "/aas/oauth2/otp" in b.url, "the SMS code page")
    assert "Код отправлен на номер +7(999)***-**-11" in browser.text("main")
    browser.fill("#code", control.read_sms(PHONE))
    browser.click("button[type=submit]")
    browser.wait_for(lambda b: "/aas/oauth2/consent" in b.url or b.url.startswith(callback), "leaving ESIA")
    if "/aas/oauth2/consent" in browser.url:
        assert "Фамилия, имя, отчество" in browser.text("main")
        browser.click("button[value=allow]")
    browser.wait_for(lambda b: b.url.startswith(callback), "the relying party's callback")
    assert browser.text("#done") == "Вход выполнен"

    returned = Callback.received[-1]
    assert returned["state"] == params["state"] and "error" not in returned
    with HttpxClient() as http:
        tokens = esia_login.exchange(http, esia_url=esia, rp=rp, code=returned["code"], scope=params["scope"])
    assert tokens.oid == oid


@pytest.mark.skipif(gost_ready() is not None, reason=str(gost_ready()))
def test_chromium_signs_in_with_an_electronic_signature(stack, callback, browser):
    esia = stack.urls["esia"]
    control = StackControl(stack.urls, stack.control_token)
    certificate, key = make_test_identity("BROWSERDS")
    rp = RelyingParty("BROWSERDS", callback, certificate, key, clock=lambda: control.now("esia"))
    control.register_client("BROWSERDS", redirect_uris=[callback], certificate=rp.certificate_pem)
    oid = control.seed_user(phone="+79995550012", password=PASSWORD, level="standard", person={
        "firstName": "Олег", "lastName": "Белов", "snils": "112-233-445 95", "birthDate": "03.04.1990"},
        documents=[{"type": "RF_PASSPORT", "series": "4510", "number": "123457", "issueDate": "01.01.2010",
                    "issueId": "770-001", "issuedBy": "ОВД"}])
    issued = control.issue_certificate(oid)
    sign = cms_signer(issued["certificate"], issued["private_key"])
    params = rp.authorization_params("openid fullname")

    browser.open(f"{esia}/aas/oauth2/ac?{urlencode(params)}")
    browser.wait_for(lambda b: "/aas/oauth2/login" in b.url, "the login page")
    browser.click('a[href^="/aas/oauth2/signature"]')
    browser.wait_for(lambda b: "/aas/oauth2/signature" in b.url, "the signature page")
    challenge = browser.text("#challenge")
    browser.paste("#signature", base64.b64encode(sign(challenge.encode())).decode())
    browser.click("button[type=submit]")
    browser.wait_for(lambda b: "/aas/oauth2/consent" in b.url or b.url.startswith(callback), "leaving ESIA")
    if "/aas/oauth2/consent" in browser.url:
        browser.click("button[value=allow]")
    browser.wait_for(lambda b: b.url.startswith(callback), "the relying party's callback")

    returned = Callback.received[-1]
    assert returned["state"] == params["state"] and "error" not in returned
    with HttpxClient() as http:
        tokens = esia_login.exchange(http, esia_url=esia, rp=rp, code=returned["code"], scope=params["scope"])
    assert tokens.oid == oid and esia_login.jwt_claims(tokens.id_token)["amr"] == "DS"
