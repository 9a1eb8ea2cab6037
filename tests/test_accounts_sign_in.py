"""Signing in to FTS's and UTKO's personal accounts through ESIA (in process): the redirect with a
signed v2 request, the callback's checks, the session, the choice of whom to act for, logout
and the idle and absolute lifetimes on the service's clock."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from account_people import api_token, seed_organisation, seed_person, submit_declaration
from gosstand.scenarios import accounts, esia_login, gost
from gosstand.scenarios.control import StackControl
from gosstand.scenarios.http import HttpxClient


@pytest.fixture
def control(gosstand_inprocess) -> StackControl:
    return StackControl(gosstand_inprocess.urls, gosstand_inprocess.control_token)


def _sign_in(stack, control, person, service="fts") -> tuple[HttpxClient, accounts.SignedIn]:
    http = HttpxClient()
    signed = accounts.sign_in(http, account_url=stack.urls[service], esia_url=stack.urls["esia"],
                              login=person.phone, password=person.password, read_sms=control.read_sms)
    return http, signed


@pytest.mark.parametrize("service,client_id", [("fts", "FTSLK"), ("utko", "UTKOLK")])
def test_login_sends_the_browser_to_esia_with_a_signed_v2_request(gosstand_inprocess, service, client_id):
    with HttpxClient() as http:
        target = urlsplit(accounts.start(http, gosstand_inprocess.urls[service]))
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert target.path == "/aas/oauth2/v2/ac" and query["client_id"] == client_id
    assert query["redirect_uri"] == f"{gosstand_inprocess.urls[service]}/login/callback"
    assert {"client_secret", "client_certificate_hash", "state", "timestamp"} <= set(query)
    assert "usr_org" in query["scope"].split()


def test_a_person_signs_in_and_sees_their_organisation_s_declarations_only(gosstand_inprocess, control):
    stack = gosstand_inprocess
    person = seed_person(control, seed=31)
    firm = seed_organisation(control, seed=32, employees=[{"oid": person.oid, "role": "employee"}])
    outsider = seed_person(control, seed=41)
    other = seed_organisation(control, seed=33, employees=[{"oid": outsider.oid, "role": "employee"}])
    mine = submit_declaration(stack, api_token(stack, control, person), firm)
    submit_declaration(stack, api_token(stack, control, outsider), other)
    http, signed = _sign_in(stack, control, person)
    assert signed.location == "/account/choose"
    offered = accounts.choices(http, stack.urls["fts"])
    assert offered == ["self", f"org:{firm['oid']}"]
    assert accounts.choose(http, stack.urls["fts"], f"org:{firm['oid']}") == "/account"
    rows = accounts.open_list(http, stack.urls["fts"])
    assert len(rows) == 1 and rows[0][1] == mine["procedure"]["code"]


def test_an_organisation_the_person_does_not_work_for_cannot_be_chosen(gosstand_inprocess, control):
    stack = gosstand_inprocess
    person = seed_person(control, seed=34)
    other = seed_organisation(control, seed=35, employees=[])
    http, _ = _sign_in(stack, control, person)
    answer = http.send("POST", f"{stack.urls['fts']}/account/choose", name="choose",
                       data={"choice": f"org:{other['oid']}"})
    assert answer.status == 422 and "Такой роли у вас нет" in answer.text


def test_a_state_this_browser_did_not_start_is_refused(gosstand_inprocess, control):
    stack = gosstand_inprocess
    person = seed_person(control, seed=36)
    with HttpxClient() as attacker:
        back_to = esia_login.sign_in(attacker, esia_url=stack.urls["esia"],
                                     authorization_url=accounts.start(attacker, stack.urls["fts"]),
                                     login=person.phone, password=person.password, read_sms=control.read_sms)
    with HttpxClient() as victim:  # the attacker's callback link, opened in another browser
        answer = victim.send("GET", back_to, name="callback")
    assert answer.status == 400 and "ftslk_session" not in answer.headers.get("set-cookie", "")


def test_a_replayed_callback_opens_nothing(gosstand_inprocess, control):
    stack = gosstand_inprocess
    person = seed_person(control, seed=37)
    http, signed = _sign_in(stack, control, person)
    again = http.send("GET", signed.callback_url, name="callback again")
    assert again.status == 400


def test_logout_ends_the_session_and_the_esia_session(gosstand_inprocess, control):
    stack = gosstand_inprocess
    person = seed_person(control, seed=38)
    http, _ = _sign_in(stack, control, person)
    assert accounts.logout(http, stack.urls["fts"]) == f"{stack.urls['fts']}/logged-out"
    assert http.send("GET", f"{stack.urls['fts']}/account", name="after").location == "/login"
    # ESIA's session is gone too: signing in again asks for the password.
    to_esia = accounts.start(http, stack.urls["fts"])
    assert "/aas/oauth2/login" in (http.send("GET", to_esia, name="ac").location or "")


@pytest.mark.parametrize("idle,alive", [(29 * 60, True), (30 * 60, False)])
def test_a_session_ends_after_thirty_idle_minutes(gosstand_inprocess, control, idle, alive):
    stack = gosstand_inprocess
    person = seed_person(control, seed=39)
    http, _ = _sign_in(stack, control, person)
    control.advance_clock("fts", idle)
    answer = http.send("GET", f"{stack.urls['fts']}/account/choose", name="choose")
    assert (answer.status == 200) is alive


def test_a_session_ends_eight_hours_after_sign_in_however_busy(gosstand_inprocess, control):
    stack = gosstand_inprocess
    person = seed_person(control, seed=40)
    http, _ = _sign_in(stack, control, person)
    for _ in range(17):  # a request every 29 minutes: never idle, 8 h 13 min in all
        control.advance_clock("fts", 29 * 60)
        last = http.send("GET", f"{stack.urls['fts']}/account/choose", name="choose")
    assert last.status == 303 and last.location == "/login"


def test_a_person_signs_in_with_an_electronic_signature_and_acts_for_their_organisation(gosstand_inprocess, control):
    stack = gosstand_inprocess
    person = seed_person(control, seed=42)
    firm = seed_organisation(control, seed=43, employees=[{"oid": person.oid, "role": "employee"}])
    issued = control.issue_certificate(person.oid)
    with HttpxClient() as http:
        signed = accounts.sign_in_with_signature(http, account_url=stack.urls["fts"], esia_url=stack.urls["esia"],
                                                 sign=gost.cms_signer(issued["certificate"], issued["private_key"]))
        assert signed.location == "/account/choose"
        assert accounts.choose(http, stack.urls["fts"], f"org:{firm['oid']}") == "/account"
        assert accounts.open_list(http, stack.urls["fts"]) == []  # nothing filed for it yet
    assert control.sms_messages(person.phone) == []  # no password, no SMS code


def test_the_apis_called_from_a_session_see_only_the_organisation_chosen(gosstand_inprocess, control):
    stack = gosstand_inprocess
    fts = stack.urls["fts"]
    person = seed_person(control, seed=44)
    first = seed_organisation(control, seed=45, employees=[{"oid": person.oid, "role": "employee"}])
    second = seed_organisation(control, seed=46, employees=[{"oid": person.oid, "role": "employee"}])
    token = api_token(stack, control, person)
    in_second = submit_declaration(stack, token, second)
    http, _ = _sign_in(stack, control, person)
    accounts.choose(http, fts, f"org:{first['oid']}")
    own = http.send("GET", f"{fts}/api/v1/declarations", name="list", params={"inn": first["inn"]})
    assert own.status == 200
    other = http.send("GET", f"{fts}/api/v1/declarations", name="list", params={"inn": second["inn"]})
    assert other.status == 403  # the token could read it; the session acts for the first only
    assert http.send("GET", f"{fts}/api/v1/declarations/{in_second['id']}", name="card").status == 404
    accounts.choose(http, fts, f"org:{second['oid']}")
    assert http.send("GET", f"{fts}/api/v1/declarations/{in_second['id']}", name="card").status == 200
