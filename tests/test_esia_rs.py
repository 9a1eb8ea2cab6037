"""``/rs/prns/{oid}``: person data filtered by the access token's scopes, collections of
absolute links, ESIA's 401/403 bodies."""

from __future__ import annotations

import pytest
from gosstand.scenarios import esia_login
from gosstand.scenarios.control import StackControl
from gosstand.scenarios.esia_client import RelyingParty, make_test_identity
from gosstand.scenarios.http import HttpxClient

ESIA = "http://testserver"
REDIRECT = "https://rp.example/cb"
PASSWORD = "Pa55word!"


@pytest.fixture(scope="module")
def identity():
    return make_test_identity("RSTEST")


@pytest.fixture
def stand(service_client, control_headers, identity):
    client = service_client("esia")
    client.follow_redirects = False
    http = HttpxClient(client=client)
    control = StackControl({"esia": ESIA}, control_headers["Authorization"].split()[1], http=http)
    rp = RelyingParty("RSTEST", REDIRECT, *identity, clock=lambda: control.now("esia"))
    control.register_client("RSTEST", redirect_uris=[REDIRECT], certificate=rp.certificate_pem)
    oids = []
    for phone, first in (("+79990000001", "Анна"), ("+79990000002", "Борис")):
        oids.append(
            control.seed_user(
                phone=phone,
                email=f"{phone[1:]}@example.ru",
                password=PASSWORD,
                person={
                    "firstName": first,
                    "lastName": "Смирнова",
                    "birthDate": "02.03.1990",
                    "gender": "F",
                    "snils": "11223344595" if first == "Анна" else None,
                    "inn": "500500123491",
                },
                documents=[
                    {
                        "type": "RF_PASSPORT",
                        "series": "4510",
                        "number": "123456",
                        "issueDate": "01.01.2010",
                        "issueId": "770001",
                        "issuedBy": "ОВД",
                    }
                ],
                addresses=[{"type": "PLV", "addressStr": "г. Казань, ул. Баумана, д. 5"}],
            )
        )

    def login(scope: str, phone: str = "+79990000001") -> esia_login.TokenSet:
        esia_login.logout(http, esia_url=ESIA, rp=rp)
        return esia_login.login(
            http, esia_url=ESIA, rp=rp, login=phone, password=PASSWORD, read_sms=control.read_sms, scope=scope
        )

    return http, control, login, oids


def get(http, path: str, token: str | None, **params):
    headers = {"Authorization": f"Bearer {token}"} if token else None
    return http.send("GET", f"{ESIA}{path}", name="esia: person", headers=headers, params=params or None)


def test_root_shows_only_what_the_scopes_open(stand):
    http, _, login, oids = stand
    tokens = login("openid fullname")
    root = esia_login.person(http, esia_url=ESIA, tokens=tokens)
    assert (root["firstName"], root["lastName"]) == ("Анна", "Смирнова")
    assert "birthDate" not in root and "snils" not in root and "inn" not in root
    assert root["stateFacts"] == ["EntityRoot"] and root["trusted"] is True and root["eTag"]
    tokens = login("openid birthdate snils inn gender")
    root = esia_login.person(http, esia_url=ESIA, tokens=tokens)
    assert "firstName" not in root
    assert (root["birthDate"], root["snils"], root["inn"], root["gender"]) == (
        "02.03.1990",
        "112-233-445 95",
        "500500123491",
        "F",
    )


def test_collections_list_absolute_links_unless_embedded(stand):
    http, _, login, oids = stand
    tokens = login("openid mobile id_doc addresses")
    contacts = esia_login.person(http, esia_url=ESIA, tokens=tokens, path="/ctts")
    assert contacts["stateFacts"] == ["hasSize"] and contacts["size"] == 1  # mobile only, not the e-mail
    link = contacts["elements"][0]
    assert link.startswith(f"http://testserver/rs/prns/{oids[0]}/ctts/")
    element = get(http, link.removeprefix(ESIA), tokens.access_token).json()
    assert element["type"] == "MBT" and element["value"] == "+7(999)0000001"
    docs = esia_login.person(http, esia_url=ESIA, tokens=tokens, path="/docs", embed="(elements)")
    assert docs["elements"][0]["series"] == "4510" and docs["elements"][0]["issueId"] == "770001"
    root = esia_login.person(
        http, esia_url=ESIA, tokens=tokens, embed="(addresses.elements,documents.elements)"
    )
    assert root["addresses"]["elements"][0]["addressStr"].startswith("г. Казань")


def test_trailing_and_double_slashes_are_tolerated(stand):
    http, _, login, oids = stand
    tokens = login("openid fullname email")
    for path in (f"/rs/prns/{oids[0]}/", f"/rs/prns//{oids[0]}", f"/rs//prns/{oids[0]}/ctts/"):
        assert get(http, path, tokens.access_token).status == 200, path


def test_missing_invalid_or_expired_token_is_005013(stand):
    http, control, login, oids = stand
    for token in (None, "garbage"):
        answer = get(http, f"/rs/prns/{oids[0]}", token)
        assert answer.status == 401
        assert answer.json() == {"code": "ESIA-005013", "message": "SecurityErrorEnum.expiredToken"}
    tokens = login("openid fullname")
    control.advance_clock("esia", 3601)
    assert get(http, f"/rs/prns/{oids[0]}", tokens.access_token).json()["code"] == "ESIA-005013"


def test_another_person_or_an_ungranted_scope_is_005029(stand):
    http, _, login, oids = stand
    tokens = login("openid fullname")
    other = get(http, f"/rs/prns/{oids[1]}", tokens.access_token)
    assert other.status == 403
    assert other.json() == {"code": "ESIA-005029", "message": "SecurityErrorEnum.scopeNotAllowed"}
    for collection in ("ctts", "docs", "addrs"):
        assert get(http, f"/rs/prns/{oids[0]}/{collection}", tokens.access_token).status == 403
    email_only = login("openid email")
    contacts = esia_login.person(http, esia_url=ESIA, tokens=email_only, path="/ctts", embed="(elements)")
    mobile_id = [e for e in contacts["elements"] if e["type"] == "EML"][0]["id"] - 1
    assert get(http, f"/rs/prns/{oids[0]}/ctts/{mobile_id}", email_only.access_token).status == 403


def test_unknown_paths_are_404_in_esia_form(stand):
    http, _, login, oids = stand
    tokens = login("openid fullname email")
    unknown = (
        f"/rs/prns/{oids[0]}/nope",
        "/rs/prns/abc",
        f"/rs/prns/{oids[0]}/ctts/999999",
        f"/rs/prns/{oids[0]}/ctts/1%0A",  # a decoded newline once slipped past the /rs/ route
        f"/rs/prns/{oids[0]}/ctts/1%0Ax",
        f"/rs/prns/{oids[0]}%0D%0A/ctts",
    )
    for path in unknown:
        answer = get(http, path, tokens.access_token)
        assert answer.status == 404 and answer.headers["content-type"] == "application/json", path
        assert answer.json()["code"].startswith("ESIA-"), path
