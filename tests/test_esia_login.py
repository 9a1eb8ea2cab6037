"""The ESIA v1 login as a relying party lives it: ac → password → SMS → code → te, with the
client_secret verified cryptographically (strict mode), through the reference client in
``scenarios/`` over the in-process mock."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import jwt
import pytest
from cryptography import x509
from gosstand.scenarios import esia_login
from gosstand.scenarios.control import ControlError, StackControl
from gosstand.scenarios.esia_client import RelyingParty, SecretFormat, make_test_identity
from gosstand.scenarios.esia_login import EsiaJourneyError
from gosstand.scenarios.http import HttpxClient

ESIA = "http://testserver"
REDIRECT = "https://rp.example/esia/callback"
PHONE = "+79991234567"
PASSWORD = "Pa55word!"
SCOPE = "openid fullname birthdate snils inn"


@pytest.fixture(scope="module")
def identities():
    return make_test_identity("TESTSYS"), make_test_identity("OTHERSYS")


@dataclass
class Stand:
    http: HttpxClient
    control: StackControl
    rp: RelyingParty
    other: RelyingParty
    oid: int

    def login(self, **overrides) -> esia_login.TokenSet:
        values = {
            "esia_url": ESIA,
            "rp": self.rp,
            "login": PHONE,
            "password": PASSWORD,
            "read_sms": self.control.read_sms,
            "scope": SCOPE,
        }
        values.update(overrides)
        return esia_login.login(self.http, **values)

    def ac(self, params: dict[str, str]):
        return self.http.send("GET", f"{ESIA}/aas/oauth2/ac", name="esia: ac", params=params)

    def te(self, form: dict[str, str]):
        return self.http.send("POST", f"{ESIA}/aas/oauth2/te", name="esia: te", data=form)


def seed_account(control: StackControl) -> int:
    return control.seed_user(
        phone="8 (999) 123-45-67",
        email="Ivan.Petrov@example.ru",
        password=PASSWORD,
        person={
            "firstName": "Иван",
            "lastName": "Петров",
            "middleName": "Сергеевич",
            "birthDate": "01.02.1980",
            "gender": "M",
            "snils": "112-233-445 95",
            "inn": "500500123491",
            "birthPlace": "г. Москва",
        },
        documents=[
            {
                "type": "RF_PASSPORT",
                "series": "4510",
                "number": "123456",
                "issueDate": "15.03.2005",
                "issueId": "770-001",
                "issuedBy": "ОВД Тверского района г. Москвы",
            }
        ],
        addresses=[
            {"type": "PRG", "addressStr": "г. Москва, ул. Тверская, д. 1, кв. 1", "zipCode": "125009"}
        ],
    )


@pytest.fixture
def stand(service_client, control_headers, identities) -> Stand:
    client = service_client("esia")
    client.follow_redirects = False  # the journeys read every Location themselves
    http = HttpxClient(client=client)
    control = StackControl({"esia": ESIA}, control_headers["Authorization"].split()[1], http=http)
    (cert, key), (other_cert, other_key) = identities
    clock = lambda: control.now("esia")  # noqa: E731 - the RP's timestamps follow the mock's clock
    rp = RelyingParty("TESTSYS", REDIRECT, cert, key, clock=clock)
    other = RelyingParty("OTHERSYS", "https://other.example/cb", other_cert, other_key, clock=clock)
    for party in (rp, other):
        control.register_client(
            party.client_id, redirect_uris=[party.redirect_uri], certificate=party.certificate_pem
        )
    return Stand(http=http, control=control, rp=rp, other=other, oid=seed_account(control))


def query(location: str | None) -> dict[str, str]:
    assert location is not None
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def error_redirect(response) -> dict[str, str]:
    assert response.status == 302, response.text
    assert response.location.startswith(REDIRECT)
    return query(response.location)


def test_login_journey_returns_verifiable_esia_tokens(stand):
    tokens = stand.login()
    assert tokens.oid == stand.oid and tokens.expires_in == 3600 and tokens.token_type == "Bearer"
    cert = x509.load_pem_x509_certificate(
        stand.http.send("GET", f"{ESIA}/_gosstand/esia/cert.pem", name="c").body
    )
    access = jwt.decode(
        tokens.access_token,
        cert.public_key(),
        algorithms=["RS256"],
        options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
    )
    assert jwt.get_unverified_header(tokens.access_token)["sbt"] == "access"
    assert access["urn:esia:sbj_id"] == stand.oid and access["client_id"] == "TESTSYS"
    assert f"fullname?oid={stand.oid}" in access["scope"].split()
    assert access["iss"] == "http://esia-portal1.test.gosuslugi.ru/" and access["exp"] - access["iat"] == 3600
    header = jwt.get_unverified_header(tokens.id_token)
    assert (header["ver"], header["sbt"]) == (0, "id")
    claims = jwt.decode(
        tokens.id_token,
        cert.public_key(),
        algorithms=["RS256"],
        audience="TESTSYS",
        options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_sub": False},
    )
    assert claims["urn:esia:sbj"]["urn:esia:sbj:oid"] == stand.oid and claims["amr"] == "PWD"
    assert claims["sub"] == stand.oid  # a JSON number, as ESIA sends it (PyJWT >= 2.10 must skip verify_sub)
    uuid.UUID(tokens.refresh_token)


def test_code_is_an_esia_signed_jwt_bound_to_the_state(stand):
    code = esia_login.authorize(
        stand.http,
        esia_url=ESIA,
        rp=stand.rp,
        login=PHONE,
        password=PASSWORD,
        read_sms=stand.control.read_sms,
        scope=SCOPE,
    )
    header = jwt.get_unverified_header(code)
    claims = jwt.decode(code, options={"verify_signature": False})
    assert header["sbt"] == "authorization_code"
    assert claims["exp"] - claims["iat"] == 240 and claims["client_id"] == "TESTSYS"
    assert claims["urn:esia:sbj"]["urn:esia:sbj:oid"] == stand.oid


def test_sms_code_goes_to_the_outbox_and_login_works_by_email_and_snils(stand, control_headers):
    tokens = stand.login(login="ivan.petrov@example.ru", phone=PHONE)
    assert tokens.oid == stand.oid
    messages = stand.control.sms_messages("+7 999 123-45-67")
    assert len(messages) == 1 and messages[0]["code"] in messages[0]["text"]
    esia_login.logout(stand.http, esia_url=ESIA, rp=stand.rp)
    assert stand.login(login="11223344595", phone=PHONE).oid == stand.oid
    every = stand.control.sms_messages(PHONE)
    assert len(every) == 2 and stand.control.sms_messages(PHONE, last=1) == every[-1:]
    for bad in ("0", "1001", "x"):
        assert stand.http.send("GET", f"{ESIA}/_gosstand/control/outbox", name="outbox",
                               params={"phone": PHONE, "last": bad},
                               headers=control_headers).status == 422


@pytest.mark.parametrize(
    "fmt",
    [
        SecretFormat(detached=False),
        SecretFormat(url_safe=False),
        SecretFormat(strip_padding=True),
        SecretFormat(url_safe=False, strip_padding=True),
        SecretFormat(signed_attributes=False),
        SecretFormat(detached=False, signed_attributes=False, url_safe=False),
    ],
    ids=[
        "attached",
        "standard-b64",
        "no-padding",
        "standard-no-padding",
        "no-attributes",
        "attached-no-attrs",
    ],
)
def test_every_cms_packing_real_clients_send_is_accepted(stand, fmt):
    rp = replace(stand.rp, secret_format=fmt)
    tokens = stand.login(rp=rp)
    assert tokens.oid == stand.oid


def test_half_stripped_padding_is_accepted(stand):
    params = stand.rp.authorization_params(SCOPE)
    secret = params["client_secret"]
    if secret.endswith("=="):
        params["client_secret"] = secret[:-1]
    answer = stand.ac(params)
    assert answer.status == 302 and "/aas/oauth2/login?rid=" in answer.location


@pytest.mark.parametrize("name", ["scope", "state", "timestamp", "client_id"])
def test_a_tampered_signed_parameter_is_refused(stand, name):
    params = stand.rp.authorization_params(SCOPE)
    if name == "client_id":  # the other client's registered redirect_uri keeps the error a redirect
        params.update(client_id="OTHERSYS", redirect_uri=stand.other.redirect_uri)
    else:
        stamp = params["timestamp"]
        other_second = "01" if stamp[-8:-6] != "01" else "02"
        params[name] = {
            "scope": "openid fullname",
            "state": str(uuid.uuid4()),
            "timestamp": stamp[:-8] + other_second + stamp[-6:],
        }[name]
    answer = stand.ac(params)
    assert answer.status == 302
    error = query(answer.location)
    assert error["error"] == "access_denied"
    assert error["error_description"].startswith("ESIA-007053")
    assert error["state"] == params["state"]


def test_a_signature_by_another_certificate_is_refused(stand):
    impostor = replace(stand.other, client_id="TESTSYS", redirect_uri=REDIRECT)
    error = error_redirect(stand.ac(impostor.authorization_params(SCOPE)))
    assert error["error_description"].startswith("ESIA-007053")


def test_unregistered_redirect_uri_is_answered_not_redirected(stand):
    params = stand.rp.authorization_params(SCOPE)
    params["redirect_uri"] = "https://evil.example/steal"
    answer = stand.ac(params)
    assert answer.status == 400 and answer.location is None
    assert answer.json()["error_description"].startswith("ESIA-007023")


def test_unknown_client_is_answered_not_redirected(stand):
    params = stand.rp.authorization_params(SCOPE)
    params["client_id"] = "NOSUCH"
    answer = stand.ac(params)
    assert answer.status == 401 and answer.json()["error"] == "invalid_client"


def test_ac_parameter_errors_go_back_by_redirect(stand):
    params = stand.rp.authorization_params(SCOPE)
    missing = {k: v for k, v in params.items() if k not in ("timestamp", "client_secret")}
    error = error_redirect(stand.ac(missing))
    assert error["error_description"].startswith("ESIA-007014") and "timestamp" in error["error_description"]
    assert error["error"] == "invalid_request"

    error = error_redirect(stand.ac(stand.rp.authorization_params("openid no_such_scope")))
    assert (error["error"], error["error_description"][:11]) == ("invalid_scope", "ESIA-007006")
    stand.control.register_client(
        "TESTSYS",
        redirect_uris=[REDIRECT],
        certificate=stand.rp.certificate_pem,
        scopes=["openid", "fullname"],
    )
    error = error_redirect(stand.ac(stand.rp.authorization_params("openid fullname snils")))
    assert error["error_description"].startswith("ESIA-007006")  # a scope the client may not ask for
    error = error_redirect(stand.ac(stand.rp.authorization_params("fullname")))
    assert error["error_description"].startswith("ESIA-007013")
    bad_state = stand.rp.authorization_params(SCOPE, state="not-a-uuid")
    assert error_redirect(stand.ac(bad_state))["error_description"].startswith("ESIA-007003")


def test_timestamp_outside_the_tolerance_is_refused(stand):
    params = stand.rp.authorization_params(SCOPE)
    stand.control.advance_clock("esia", 3600)
    error = error_redirect(stand.ac(params))
    assert error["error_description"].startswith("ESIA-007015")


def test_signature_modes_structural_and_off(stand):
    params = replace(stand.other, client_id="TESTSYS", redirect_uri=REDIRECT).authorization_params(SCOPE)
    stand.control.register_client(
        "TESTSYS", redirect_uris=[REDIRECT], certificate=stand.rp.certificate_pem, signature_mode="structural"
    )
    assert "/aas/oauth2/login?rid=" in stand.ac(params).location  # any well-formed CMS passes
    params["client_secret"] = "bm90LWNtcw"
    assert error_redirect(stand.ac(params))["error_description"].startswith("ESIA-007053")
    stand.control.register_client("TESTSYS", redirect_uris=[REDIRECT], certificate=None, signature_mode="off")
    assert "/aas/oauth2/login?rid=" in stand.ac(params).location


def test_wrong_code_is_invalid_grant(stand):
    answer = stand.te(stand.rp.token_form("not-a-code", SCOPE))
    assert answer.status == 400
    body = answer.json()
    assert body["error"] == "invalid_grant" and body["error_description"].startswith("ESIA-007011")


def code_for(stand: Stand, rp: RelyingParty | None = None) -> str:
    return esia_login.authorize(
        stand.http,
        esia_url=ESIA,
        rp=rp or stand.rp,
        login=PHONE,
        password=PASSWORD,
        read_sms=stand.control.read_sms,
        scope=SCOPE,
    )


def test_code_is_single_use(stand):
    code = code_for(stand)
    first = stand.te(stand.rp.token_form(code, SCOPE))
    assert first.status == 200
    again = stand.te(stand.rp.token_form(code, SCOPE))
    assert again.status == 400 and again.json()["error_description"].startswith("ESIA-007011")


def test_code_expires_after_240_seconds(stand):
    code = code_for(stand)
    stand.control.advance_clock("esia", 241)
    answer = stand.te(stand.rp.token_form(code, SCOPE))
    assert answer.status == 400 and answer.json()["error_description"].startswith("ESIA-007011")


def test_code_of_another_client_or_redirect_uri_is_refused(stand):
    code = code_for(stand)
    answer = stand.te(stand.other.token_form(code, SCOPE))
    assert answer.status == 400 and answer.json()["error_description"].startswith("ESIA-007011")
    code = code_for(stand)
    form = stand.rp.token_form(code, SCOPE)
    form["redirect_uri"] = "https://rp.example/other"
    answer = stand.te(form)
    assert answer.status == 400 and answer.json()["error_description"].startswith("ESIA-007011")


def test_te_checks_its_own_signature_and_state_echo(stand):
    code = code_for(stand)
    form = stand.rp.token_form(code, SCOPE)
    form["state"] = str(uuid.uuid4())
    answer = stand.te(form)
    assert answer.status == 400
    assert (
        answer.json()["error_description"].startswith("ESIA-007053")
        and answer.json()["state"] == form["state"]
    )


def test_te_json_body_lists_missing_parameters(stand):
    answer = stand.http.send("POST", f"{ESIA}/aas/oauth2/te", name="te", json={"client_id": "TESTSYS"})
    body = answer.json()
    assert answer.status == 400 and body["error_description"].startswith("ESIA-007014")
    assert "[client_id, grant_type, client_secret, state, scope, timestamp]" in body["error_description"]


def test_unsupported_grant(stand):
    form = stand.rp.token_form("x", SCOPE)
    form["grant_type"] = "password"
    answer = stand.te(form)
    assert answer.json()["error"] == "unsupported_grant_type"
    assert answer.json()["error_description"].startswith("ESIA-007012")


def test_refresh_rotates_the_refresh_token(stand):
    tokens = stand.login(access_type="offline")
    renewed = esia_login.refresh(
        stand.http, esia_url=ESIA, rp=stand.rp, refresh_token=tokens.refresh_token, scope=SCOPE
    )
    assert renewed.refresh_token != tokens.refresh_token and renewed.oid == stand.oid
    with pytest.raises(EsiaJourneyError) as reused:
        esia_login.refresh(
            stand.http, esia_url=ESIA, rp=stand.rp, refresh_token=tokens.refresh_token, scope=SCOPE
        )
    assert reused.value.esia_code == "ESIA-007011"
    with pytest.raises(EsiaJourneyError) as stolen:
        esia_login.refresh(
            stand.http, esia_url=ESIA, rp=stand.other, refresh_token=renewed.refresh_token, scope=SCOPE
        )
    assert stolen.value.esia_code == "ESIA-007011"


def test_sso_session_skips_the_password_until_logout(stand):
    stand.login()
    answer = stand.ac(stand.rp.authorization_params(SCOPE))
    assert answer.status == 302 and query(answer.location).get("code")  # straight back with a code
    before = len(stand.control.sms_messages(PHONE))
    assert stand.login().oid == stand.oid
    assert len(stand.control.sms_messages(PHONE)) == before  # no password, no SMS
    esia_login.logout(stand.http, esia_url=ESIA, rp=stand.rp)
    answer = stand.ac(stand.rp.authorization_params(SCOPE))
    assert answer.status == 302 and "/aas/oauth2/login?rid=" in answer.location


def test_logout_refuses_an_unregistered_redirect(stand):
    answer = stand.http.send(
        "GET",
        f"{ESIA}/idp/ext/Logout",
        name="logout",
        params={"client_id": "TESTSYS", "redirect_url": "https://evil.example/"},
    )
    assert answer.status == 400 and answer.location is None
    assert answer.json()["error_description"].startswith("ESIA-007023")


def test_three_wrong_passwords_lock_the_account_for_a_while(stand):
    for attempt in range(3):
        with pytest.raises(EsiaJourneyError) as refused:
            stand.login(password="wrong")
        assert refused.value.step == "esia: login"
        assert refused.value.status == (403 if attempt == 2 else 400)
    with pytest.raises(EsiaJourneyError) as locked:
        stand.login()
    assert locked.value.status == 403 and "заблокирована" in str(locked.value)
    stand.control.advance_clock("esia", 15 * 60 + 1)
    assert stand.login().oid == stand.oid


def test_a_right_password_resets_the_failure_count(stand):
    for _ in range(2):
        with pytest.raises(EsiaJourneyError):
            stand.login(password="wrong")
    stand.login()
    esia_login.logout(stand.http, esia_url=ESIA, rp=stand.rp)
    for _ in range(2):
        with pytest.raises(EsiaJourneyError) as refused:
            stand.login(password="wrong")
        assert refused.value.status == 400


def test_sms_code_expires_after_ten_minutes(stand):
    def late_sms(phone: str) -> str:
        stand.control.advance_clock("esia", 601)
        return stand.control.read_sms(phone)

    with pytest.raises(EsiaJourneyError) as expired:
        stand.login(read_sms=late_sms)
    assert expired.value.step == "esia: otp" and expired.value.status == 400


def test_wrong_sms_code_is_refused(stand):
    with pytest.raises(EsiaJourneyError) as refused:
        stand.login(
            read_sms=lambda phone: "000000" if stand.control.read_sms(phone) != "000000" else "111111"
        )
    assert refused.value.step == "esia: otp"


def test_control_api_validates_accounts_and_clients(stand):
    with pytest.raises(ControlError) as invalid:
        stand.control.seed_user(
            phone="+79990000000",
            password="x",
            person={"firstName": "А", "lastName": "Б", "inn": "500500123490"},
        )
    assert invalid.value.status == 422 and "/person/inn" in invalid.value.body
    with pytest.raises(ControlError) as taken:
        stand.control.seed_user(
            phone="+7 999 123 45 67", password="x", person={"firstName": "А", "lastName": "Б"}
        )
    assert taken.value.status == 409
    with pytest.raises(ControlError) as bad_client:
        stand.control.register_client("bad id", redirect_uris=["not a url"], certificate="nope")
    assert bad_client.value.status == 422
    user = stand.control.user(stand.oid)
    assert user["logins"]["phone"] == PHONE and "password" not in user
    assert user["person"]["snils"] == "112-233-445 95"


def test_jwks_publishes_the_signing_key(stand):
    jwks = stand.http.send("GET", f"{ESIA}/_gosstand/esia/jwks.json", name="jwks").json()
    tokens = stand.login()
    key = jwt.PyJWK(jwks["keys"][0]).key
    header = jwt.get_unverified_header(tokens.access_token)
    assert header["kid"] == jwks["keys"][0]["kid"]
    jwt.decode(
        tokens.access_token,
        key,
        algorithms=["RS256"],
        options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
    )


def test_ac_accepts_a_form_post_and_an_unencoded_plus_in_the_timestamp(stand):
    params = stand.rp.authorization_params(SCOPE)
    posted = stand.http.send("POST", f"{ESIA}/aas/oauth2/ac", name="esia: ac", data=params)
    assert posted.status == 302 and "/aas/oauth2/login?rid=" in posted.location
    params = stand.rp.authorization_params(SCOPE)
    raw_query = "&".join(
        f"{k}={v.replace(' ', '+')}" if k == "timestamp" else f"{k}={quote(v, safe='')}"
        for k, v in params.items()
    )  # a client that forgot to encode "+0300": the server receives " 0300"
    answer = stand.http.send("GET", f"{ESIA}/aas/oauth2/ac?{raw_query}", name="esia: ac")
    assert answer.status == 302 and "/aas/oauth2/login?rid=" in answer.location


def test_repeated_parameter_is_007003(stand):
    params = stand.rp.authorization_params(SCOPE)
    query_string = urlencode([*params.items(), ("scope", "openid")])
    error = error_redirect(stand.http.send("GET", f"{ESIA}/aas/oauth2/ac?{query_string}", name="esia: ac"))
    assert error["error_description"].startswith("ESIA-007003")


def test_browsers_get_an_html_error_page(stand):
    params = stand.rp.authorization_params(SCOPE)
    params["redirect_uri"] = "https://evil.example/"
    answer = stand.http.send(
        "GET",
        f"{ESIA}/aas/oauth2/ac",
        name="esia: ac",
        params=params,
        headers={"Accept": "text/html,application/xhtml+xml"},
    )
    assert answer.status == 400 and answer.headers["content-type"].startswith("text/html")
    assert "ESIA-007023" in answer.text
