"""The login's hot routes answer exactly as the full app does, byte for byte, and decline what
they do not serve.

Two ESIA apps run side by side, each on a store of its own: one with the hot path, one without
(``hot_path=False``). Both are seeded alike, their clocks frozen at the same moment, and every
random value they draw (request handles, SMS codes, code and token ids) comes from a counter
kept per app, so the same requests make the same answers. Each request is sent to both, and
the status, every header in order and the body must be equal; a spy on Starlette's router tells
whether the hot app answered in front of it (the hot route answered) or not (it declined).
"""

from __future__ import annotations

import base64
import itertools
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from esia_stand import identity, person
from gosstand.mocks.core.app import create_app
from gosstand.mocks.core.settings import Settings
from gosstand.mocks.esia import pages
from gosstand.mocks.esia.accounts import one_time_codes
from gosstand.mocks.esia.browser import Page, Redirect
from gosstand.mocks.esia.web import hot_answer_to, respond_to
from gosstand.scenarios.esia_client import RelyingParty
from gosstand.scenarios.gost import gost_ready, make_gost_identity
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Router
from starlette.testclient import TestClient

NOW = 1_765_000_000.0
REDIRECT = "https://rp.example/esia/callback"
SCOPE = "openid fullname snils"
TOKEN = "test-control-token"


class Draws:
    """Every random value a side draws, from a counter of its own: the two apps draw the same
    values in the same order when they do the same thing."""

    def __init__(self) -> None:
        self.side = "test"
        self._counters: dict[str, Iterator[int]] = {}

    def next(self) -> int:
        return next(self._counters.setdefault(self.side, itertools.count(1)))

    def token_urlsafe(self, nbytes: int | None = None) -> str:
        return f"h{self.next():023d}"

    def randbelow(self, n: int) -> int:
        return (self.next() * 7919) % n

    def uuid4(self) -> uuid.UUID:
        return uuid.UUID(int=self.next() | (4 << 76) | (2 << 62))


@dataclass
class Twin:
    """The hot and the full app, driven together."""

    hot: TestClient
    full: TestClient
    draws: Draws
    rp: RelyingParty
    reached: list[object] = field(default_factory=list)
    phone: str = ""

    def send(self, method: str, url: str, *, expect_hot: bool = True, **options: Any) -> httpx.Response:
        """The hot app's answer, once it is the full app's byte for byte; ``expect_hot``: whether
        the hot route must have answered it (else: must have declined)."""
        answers = []
        for side, client in (("hot", self.hot), ("full", self.full)):
            self.draws.side = side
            self.reached.clear()
            answers.append(client.request(method, url, **options))
            if side == "hot":
                answered_in_front = self.hot.app.router not in self.reached  # type: ignore[attr-defined]
        self.draws.side = "test"
        hot, full = answers
        assert (hot.status_code, _headers(hot), hot.content) == (full.status_code, _headers(full), full.content)
        did = "declined" if expect_hot else "answered"
        assert answered_in_front is expect_hot, f"{method} {url}: the hot route {did}"
        return hot

    def control(self, method: str, path: str, **options: Any) -> tuple[Any, Any]:
        """The control API's JSON answers of the hot and the full app."""
        bodies = []
        for client in (self.hot, self.full):
            answer = client.request(method, f"/_gosstand/control{path}", headers={"Authorization": f"Bearer {TOKEN}"},
                                    **options)
            answer.raise_for_status()
            bodies.append(answer.json())
        return bodies[0], bodies[1]

    def ac_url(self, **changes: str) -> str:
        params = {**self.rp.authorization_params(SCOPE), **changes}
        return f"{self.rp.authorize_path}?{urlencode(params)}"

    def te_form(self, code: str, **changes: str) -> dict[str, str]:
        return {**self.rp.token_form(code, SCOPE), **changes}

    def sms(self) -> str:
        codes = []
        for client in (self.hot, self.full):
            outbox = client.get("/_gosstand/control/outbox", params={"phone": self.phone},
                                headers={"Authorization": f"Bearer {TOKEN}"}).json()
            codes.append(outbox["messages"][-1]["code"])
        assert codes[0] == codes[1]
        return codes[0]

    def to_code(self, *, consent: bool = False) -> str:
        """ac, password page, password, code page, code: the code the client is sent back with."""
        rid = query(self.send("GET", self.ac_url()).headers["location"])["rid"]
        self.send("GET", f"/aas/oauth2/login?rid={rid}")
        self.send("POST", "/aas/oauth2/login", data={"rid": rid, "login": self.phone, "password": person()["password"]})
        self.send("GET", f"/aas/oauth2/otp?rid={rid}")
        back = self.send("POST", "/aas/oauth2/otp", data={"rid": rid, "code": self.sms()})
        if consent:
            crid = query(back.headers["location"])["rid"]
            back = self.send("POST", "/aas/oauth2/consent", data={"rid": crid, "decision": "allow"}, expect_hot=False)
        return query(back.headers["location"])["code"]


def _headers(answer: httpx.Response) -> list[tuple[bytes, bytes]]:
    """Every header in order; a cookie's ``expires`` (Starlette writes the wall clock's second
    into a deleted cookie) cut to its date, so two answers a second boundary apart still agree."""
    return [(name, re.sub(rb"(expires=[^;]*?) \d\d:\d\d:\d\d GMT", rb"\1", value) if name == b"set-cookie"
             else value) for name, value in answer.headers.raw]


def query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def twin(tmp_path: Path, esia_keys_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Twin]:
    draws = Draws()
    monkeypatch.setattr(one_time_codes, "secrets", draws)
    monkeypatch.setattr(uuid, "uuid4", draws.uuid4)
    reached: list[object] = []
    original = Router.__call__

    async def spying(self: Router, scope: Any, receive: Any, send: Any) -> None:
        reached.append(self)
        await original(self, scope, receive, send)

    monkeypatch.setattr(Router, "__call__", spying)

    def app(name: str, hot_path: bool) -> TestClient:
        state = tmp_path / name
        settings = Settings(service="esia", replica="esia-1", state_dir=state, control_token=TOKEN,
                            store_url=f"sqlite:///{state / 'esia.sqlite3'}", public_url="http://testserver",
                            esia_issuer="http://esia-portal1.test.gosuslugi.ru/", esia_keys_dir=esia_keys_dir,
                            hot_path=hot_path)
        return TestClient(create_app(settings), raise_server_exceptions=False, follow_redirects=False)

    hot, full = app("hot", True), app("full", False)
    cert, key = identity("TESTSYS")
    rp = RelyingParty("TESTSYS", REDIRECT, cert, key, clock=lambda: NOW)
    pair = Twin(hot, full, draws, rp, reached)
    pair.control("POST", "/clock", json={"freeze": NOW})
    pair.control("POST", "/clients", json={"client_id": "TESTSYS", "redirect_uris": [REDIRECT],
                                           "certificate": rp.certificate_pem})
    body = person()
    pair.phone = body["phone"]
    pair.control("POST", "/users", json=body)
    yield pair
    hot.close()
    full.close()


def test_a_whole_login_is_answered_in_front_of_starlette_as_the_full_app_answers(twin: Twin):
    code = twin.to_code(consent=True)  # the first login asks for consent (not a hot route)
    tokens = twin.send("POST", "/aas/oauth2/te", data=twin.te_form(code)).json()
    assert tokens["access_token"] and tokens["id_token"]
    twin.send("GET", "/idp/ext/Logout", params={"client_id": "TESTSYS"})
    code = twin.to_code()  # consent given: every step hot
    twin.send("POST", "/aas/oauth2/te", data=twin.te_form(code))
    # the browser kept its SSO session: ac answers with a code at once
    back = twin.send("GET", twin.ac_url())
    assert query(back.headers["location"])["code"]
    again = twin.send("POST", "/aas/oauth2/te", data=twin.te_form(code))  # a spent code
    assert again.status_code == 400
    twin.send("GET", "/idp/ext/Logout", params={"client_id": "TESTSYS", "redirect_url": REDIRECT})
    twin.send("GET", "/idp/ext/Logout", params={"client_id": "TESTSYS", "redirect_url": "https://evil.example/"})
    twin.send("GET", "/idp/ext/Logout", params={"client_id": "NOBODY"})
    twin.send("GET", "/idp/ext/Logout")


AC_VARIANTS: dict[str, Callable[[Twin], tuple[str, dict[str, str]]]] = {
    "unknown client": lambda t: (t.ac_url(client_id="NOBODY"), {}),
    "unregistered redirect": lambda t: (t.ac_url(redirect_uri="https://evil.example/"), {}),
    "as a browser": lambda t: (t.ac_url(redirect_uri="https://evil.example/"), {"Accept": "text/html"}),
    "no state": lambda t: (t.ac_url(state=""), {}),
    "wrong signature": lambda t: (t.ac_url(client_secret=t.rp.authorization_params(SCOPE)["client_secret"]), {}),
    "late timestamp": lambda t: (t.ac_url(timestamp="2020.01.01 00:00:00 +0300"), {}),
    "repeated scope": lambda t: (t.ac_url() + "&scope=openid", {}),
    "unknown scope": lambda t: (t.ac_url(scope="openid fullname mobile"), {}),
    "offline": lambda t: (t.ac_url(access_type="offline"), {}),
    "bad access type": lambda t: (t.ac_url(access_type="forever"), {}),
}


def test_ac_refusals_agree(twin: Twin):
    for url, headers in (variant(twin) for variant in AC_VARIANTS.values()):
        twin.send("GET", url, headers=headers)


def test_fault_switches_agree(twin: Twin):
    for fault in ("overload", "deny_consent"):
        twin.control("PATCH", "/clients/TESTSYS", json={"faults": {fault: True}})
        back = twin.send("GET", twin.ac_url())
        assert query(back.headers["location"])["error"]
        twin.control("PATCH", "/clients/TESTSYS", json={"faults": {fault: False}})
    consent = True
    for fault in ("expired_tokens", "wrong_issuer", "tampered_signature"):
        twin.control("PATCH", "/clients/TESTSYS", json={"faults": {fault: True}})
        code = twin.to_code(consent=consent)
        twin.send("POST", "/aas/oauth2/te", data=twin.te_form(code))
        twin.send("GET", "/idp/ext/Logout", params={"client_id": "TESTSYS"})
        twin.control("PATCH", "/clients/TESTSYS", json={"faults": {fault: False}})
        consent = False


def test_login_page_refusals_agree(twin: Twin):
    rid = query(twin.send("GET", twin.ac_url()).headers["location"])["rid"]
    twin.send("GET", "/aas/oauth2/login?rid=unknown")
    twin.send("POST", "/aas/oauth2/login", data={"rid": rid, "login": twin.phone, "password": "wrong"})
    twin.send("POST", "/aas/oauth2/login", data={"rid": rid, "login": "", "password": ""})
    twin.send("POST", "/aas/oauth2/login", data={"rid": rid, "login": twin.phone, "password": person()["password"]})
    twin.send("POST", "/aas/oauth2/otp", data={"rid": rid, "code": "000000"})
    twin.send("GET", "/aas/oauth2/otp?rid=unknown")
    twin.send("POST", "/aas/oauth2/otp", data={"rid": rid, "code": twin.sms()})
    twin.send("POST", "/aas/oauth2/otp", data={"rid": rid, "code": twin.sms()})  # ended already


def test_token_refusals_agree(twin: Twin):
    code = twin.to_code(consent=True)
    twin.send("POST", "/aas/oauth2/te", data=twin.te_form(code, grant_type="password"))
    twin.send("POST", "/aas/oauth2/te", data=twin.te_form(code, client_secret="AAAA"))
    twin.send("POST", "/aas/oauth2/te", data=twin.te_form("not-a-code"))
    twin.send("POST", "/aas/oauth2/te", data=twin.te_form(code, redirect_uri="https://rp.example/other"))
    twin.send("POST", "/aas/oauth2/te", data=twin.te_form(code))  # spent by the refusal before
    twin.send("POST", "/aas/oauth2/te", content=b"a=" + b"&a=".join([b"1"] * 1001),
              headers={"Content-Type": "application/x-www-form-urlencoded"})


def test_bodies_the_hot_routes_do_not_read_go_to_the_full_app(twin: Twin):
    for variant in ("multipart", "no content type", "chunked", "over the hot limit", "json"):
        rid = query(twin.send("GET", twin.ac_url()).headers["location"])["rid"]
        form = {"rid": rid, "login": twin.phone, "password": person()["password"]}
        options: dict[str, Any]
        if variant == "multipart":
            options = {"files": {name: (None, value) for name, value in form.items()}}
        elif variant == "no content type":
            options = {"content": urlencode(form).encode()}
        elif variant == "chunked":
            options = {"content": [urlencode(form).encode()],  # a list: sent chunked, and again to the other app
                       "headers": {"Content-Type": "application/x-www-form-urlencoded"}}
        elif variant == "over the hot limit":
            options = {"data": {**form, "padding": "x" * 17_000}}
        else:
            options = {"json": form}
        answer = twin.send("POST", "/aas/oauth2/login", expect_hot=False, **options)
        if variant in ("multipart", "chunked", "over the hot limit"):  # the full app reads these: the login goes on
            assert answer.status_code == 302, (variant, answer.text)


def test_client_credentials_tokens_and_refusals_agree(twin: Twin):
    """The token benchmark's request: an organisation's data for the client itself."""
    org, same = twin.control("POST", "/organisations", json={
        "fullName": "ООО «Ромашка»", "shortName": "Ромашка", "ogrn": "1027700132195", "inn": "7707083893",
        "kpp": "770701001", "type": "LEGAL"})
    assert org["oid"] == same["oid"]
    scope = f"http://esia.gosuslugi.ru/org_fullname?org_oid={org['oid']}"
    granted = twin.send("POST", "/aas/oauth2/te", data=twin.rp.client_credentials_form(scope))
    assert granted.status_code == 200 and granted.json()["access_token"]
    for refused in (scope.replace(str(org["oid"]), "999999"), "http://esia.gosuslugi.ru/org_inn?org_oid=1",
                    "openid"):
        twin.send("POST", "/aas/oauth2/te", data=twin.rp.client_credentials_form(refused))
    twin.send("POST", "/aas/oauth2/te", data={**twin.rp.client_credentials_form(scope), "client_secret": "AAAA"})
    twin.control("PATCH", "/clients/TESTSYS", json={"faults": {"overload": True}})
    twin.send("POST", "/aas/oauth2/te", data=twin.rp.client_credentials_form(scope))


def _damaged(data: st.DataObject, raw: bytes) -> bytes:
    """``raw`` with one to three bytes flipped, cut or inserted at drawn places."""
    damaged = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 3), label="damages")):
        at = data.draw(st.integers(0, max(0, len(damaged) - 1)), label="at")
        how = data.draw(st.sampled_from(["flip", "cut", "insert"]), label="how")
        if how == "flip" and damaged:
            damaged[at] ^= data.draw(st.integers(1, 255), label="mask")
        elif how == "cut":
            del damaged[at:]
        else:
            damaged.insert(at, data.draw(st.integers(0, 255), label="byte"))
    return bytes(damaged)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_damaged_client_secret_is_refused_by_its_code_and_both_apps_agree(twin: Twin, data: st.DataObject):
    """A client_secret whose CMS or whose base64 text is damaged gets ESIA's clientSecretWrong,
    never a 5xx; only when the damage hit bytes the check never reads (the certificate inside
    the CMS: ESIA checks with the registered one) does the request go on, to the organisation,
    which ESIA does not know (noGrants). The hot route answers either way, as the full app."""
    scope = "http://esia.gosuslugi.ru/org_fullname?org_oid=1000000001"
    form = twin.rp.client_credentials_form(scope)
    if data.draw(st.booleans(), label="damage the DER"):
        der = base64.urlsafe_b64decode(form["client_secret"])
        secret = base64.urlsafe_b64encode(_damaged(data, der)).decode()
    else:
        secret = _damaged(data, form["client_secret"].encode()).decode("latin-1")
    answer = twin.send("POST", "/aas/oauth2/te", data={**form, "client_secret": secret})
    assert answer.status_code == 400, answer.text
    codes = ("ESIA-007014",) if secret == "" else ("ESIA-007053", "ESIA-007019")  # cut to nothing: missing
    assert answer.json()["error_description"].startswith(codes), answer.text


@pytest.mark.skipif(gost_ready() is not None, reason=f"no GOST here: {gost_ready()}")
def test_v2_ac_and_v3_te_are_answered_in_front_of_starlette_as_the_full_app_answers(twin: Twin):
    cert, key = make_gost_identity("GOSTSYS")
    twin.rp = RelyingParty("GOSTSYS", REDIRECT, cert, key, clock=lambda: NOW, protocol="v2")
    twin.control("POST", "/clients", json={"client_id": "GOSTSYS", "redirect_uris": [REDIRECT],
                                           "certificate": twin.rp.certificate_pem})
    code = twin.to_code(consent=True)
    tokens = twin.send("POST", "/aas/oauth2/v3/te", data=twin.te_form(code)).json()
    assert tokens["access_token"] and tokens["id_token"]
    twin.send("POST", "/aas/oauth2/v3/te", data=twin.te_form(code))  # spent
    twin.send("GET", "/idp/ext/Logout", params={"client_id": "GOSTSYS"})
    hashed = twin.rp.certificate_hash
    for changes in ({"client_certificate_hash": hashed.upper()}, {"client_certificate_hash": "ab" * 20},
                    {"client_certificate_hash": "0" * 64}, {"client_certificate_hash": ""},
                    {"client_secret": "AAAA"}, {"scope_org": "org_shortname"}):
        twin.send("GET", twin.ac_url(**changes))
    v1_secret = replace(twin.rp, protocol="v1").authorization_params(SCOPE)["client_secret"]
    twin.send("GET", twin.ac_url(client_secret=v1_secret))
    code = twin.to_code()
    twin.send("POST", "/aas/oauth2/v3/te", data=twin.te_form(code, client_certificate_hash="0" * 64))
    twin.send("POST", "/aas/oauth2/v3/te", data=twin.te_form(code))  # spent by the refusal


def test_the_sms_outbox_read_is_answered_in_front_of_starlette_as_the_full_app_answers(twin: Twin):
    """A load run reads each login's SMS code through the control API."""
    rid = query(twin.send("GET", twin.ac_url()).headers["location"])["rid"]
    twin.send("POST", "/aas/oauth2/login", data={"rid": rid, "login": twin.phone, "password": person()["password"]})
    outbox, auth = "/_gosstand/control/outbox", {"Authorization": f"Bearer {TOKEN}"}
    for params in ({"phone": twin.phone, "last": "1"}, {"phone": twin.phone}, {"phone": "8" + twin.phone[2:]},
                   [("phone", "12"), ("phone", twin.phone), ("last", "1000"), ("last", "2")],
                   {"phone": "+79990009999"}):
        answer = twin.send("GET", outbox, params=params, headers=auth)
        assert answer.status_code == 200
    assert answer.json()["messages"] == []
    for params in ({"phone": "12"}, {"phone": twin.phone, "last": "0"}, {},
                   [("phone", twin.phone), ("phone", "12")], [("phone", twin.phone), ("last", "1"), ("last", "x")]):
        assert twin.send("GET", outbox, params=params, headers=auth, expect_hot=False).status_code == 422
    for headers in ({}, {"Authorization": "Bearer wrong"},
                    [("Authorization", f"Bearer {TOKEN}"), ("Authorization", "Bearer wrong")]):
        answer = twin.send("GET", outbox, params={"phone": twin.phone}, headers=headers, expect_hot=False)
        assert answer.status_code == 401


_SCOPE = {"type": "http", "scheme": "http", "server": ("testserver", 80), "root_path": "", "path": "/",
          "headers": [(b"host", b"testserver")]}


@settings(max_examples=150, deadline=None)
@given(sid=st.text(st.characters(min_codepoint=32, max_codepoint=255), min_size=1, max_size=30),
       page=st.booleans(), status=st.sampled_from([200, 400, 403]))
def test_the_hot_answers_sso_cookies_are_starlettes_for_any_session_name(sid: str, page: bool, status: int):
    """The hot routes write the SSO cookie from a template made once; any session name — one
    the stand draws or one the cookie rendering must quote — gives Starlette's bytes."""
    answer: Page | Redirect = Page(html="<p>é</p>", status=status) if page else Redirect(location="/aas/oauth2/otp")
    for sent in (replace(answer, open_sso=sid), replace(answer, end_sso=True), answer):
        hot = hot_answer_to(_SCOPE, sent)
        full = respond_to(_SCOPE, sent)
        assert (hot.status, [(n, _cut_date(v)) for n, v in hot.headers or ()], hot.body) == (
            full.status_code, [(n, _cut_date(v)) for n, v in full.raw_headers], bytes(full.body))


def _cut_date(value: bytes) -> bytes:
    return re.sub(rb"(expires=[^;]*?) \d\d:\d\d:\d\d GMT", rb"\1", value)


@settings(max_examples=200, deadline=None)
@given(rid=st.text(max_size=40), phone=st.text(max_size=20), totp=st.booleans())
def test_the_prepared_login_pages_are_the_pages_the_renderer_makes(rid: str, phone: str, totp: bool):
    """The plain password and code pages come from templates made once per process: for any
    values, markup characters and NULs included, the same text as the pages rendered whole."""
    assert pages.password_form(rid) == pages._password_page(rid)
    assert pages.otp_form(rid, masked_phone=phone, totp=totp) == pages._otp_page(rid, masked_phone=phone, totp=totp)
