"""Signing in to a personal account through ESIA, tested on the account's side: a sign-in by
password and SMS code, and by an electronic signature, opens a session; the callback takes only a
``state`` this browser was given and has not used; a code that was spent or issued to another
client system, and an error ESIA sends back, open no session; logout and idle time end the
session; the records shown follow the organisation chosen.

Runs against the stand's FTS and UTKO accounts and any account given with ``--account-url``
(:mod:`gosstand.conformance.account_targets`): the way through a target's account is found by
following its redirects, forms and links (:mod:`gosstand.scenarios.account_site`), not by the
stand's paths. The people and organisations are seeded, and certificates issued, through the
target's ESIA control API (``--control-token``); without it the tests skip.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from gosstand.conformance.account_targets import (
    STAND_ACCOUNTS,
    AccountUnderTest,
    account_ids,
    account_under_test,
)
from gosstand.conformance.suite_esia import SeededPerson, SuiteEsia
from gosstand.conformance.targets import Target, TargetUnavailable
from gosstand.scenarios import account_site, accounts, declarations, esia_login, utko
from gosstand.scenarios.accounts import AccountJourneyError
from gosstand.scenarios.gost import cms_signer, gost_ready
from gosstand.scenarios.http import HttpxClient
from gosstand.scenarios.identities import russian_faker

pytestmark = pytest.mark.behaviour


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "account" in metafunc.fixturenames:
        metafunc.parametrize("account", account_ids(metafunc.config), indirect=True)


@pytest.fixture(scope="module")
def suite_esia(gosstand_target: Target) -> SuiteEsia:
    try:
        return SuiteEsia(gosstand_target)
    except TargetUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture
def account(request: pytest.FixtureRequest, gosstand_target: Target, suite_esia: SuiteEsia) -> AccountUnderTest:
    name = str(request.param)
    if name in STAND_ACCOUNTS:
        try:
            found = account_under_test(gosstand_target.url(name), service=name)
        except TargetUnavailable as exc:
            pytest.skip(str(exc))
    else:
        found = account_under_test(name)
    with HttpxClient() as http:
        answer = http.send("GET", found.login_url, name="account: login")
        if answer.status == 503 and found.service is not None:
            pytest.skip(f"{name}'s sign-in is not set up on this target: {answer.text[:200]}")
        try:
            account_site.authorization_url(http, found.login_url, esia_url=suite_esia.esia_url)
        except AccountJourneyError as exc:
            pytest.fail(f"{found.login_url} should send the browser to the target's ESIA: {exc}")
    return found


@pytest.fixture
def browser() -> Iterator[HttpxClient]:
    with HttpxClient() as http:
        yield http


#: The page each account's sign-in opens (by login URL), learned from its first sign-in.
_pages: dict[str, str] = {}


def _person(suite_esia: SuiteEsia) -> SeededPerson:
    return suite_esia.seed_person()


def _to_esia(http: HttpxClient, suite_esia: SuiteEsia, account: AccountUnderTest) -> str:
    return account_site.authorization_url(http, account.login_url, esia_url=suite_esia.esia_url)


def _through_esia(http: HttpxClient, suite_esia: SuiteEsia, account: AccountUnderTest, person: SeededPerson) -> str:
    """Start the sign-in and pass ESIA's pages: the callback URL ESIA sends the browser back to."""
    return esia_login.sign_in(http, esia_url=suite_esia.esia_url, authorization_url=_to_esia(http, suite_esia, account),
                              login=person.record["phone"], password=person.record["password"],
                              read_sms=suite_esia.control.read_sms)


def _signed_in(http: HttpxClient, suite_esia: SuiteEsia, account: AccountUnderTest, person: SeededPerson) -> str:
    """A whole sign-in by password and SMS code: the page it opens."""
    page = account_site.landing(http, _through_esia(http, suite_esia, account, person))
    _pages.setdefault(account.login_url, page)
    return page


def _page_of(account: AccountUnderTest, suite_esia: SuiteEsia) -> str:
    """The page the account's sign-in opens (one sign-in of a fresh person the first time)."""
    if account.login_url not in _pages:
        with HttpxClient() as http:
            _signed_in(http, suite_esia, account, _person(suite_esia))
    return _pages[account.login_url]


def _in_session(http: HttpxClient, account: AccountUnderTest, suite_esia: SuiteEsia) -> bool:
    return account_site.in_session(http, _page_of(account, suite_esia))


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query)) | changes
    return urlunsplit(parts._replace(query=urlencode(query)))


def _refused_without_a_session(http: HttpxClient, account: AccountUnderTest, suite_esia: SuiteEsia,
                               url: str) -> None:
    answer = http.send("GET", url, name="account: callback")
    assert answer.status < 500, f"the callback answered {answer.status}: a refusal is the caller's fault, not a 5xx"
    assert not _in_session(http, account, suite_esia), "the callback opened a session"


def test_sign_in_opens_a_session(
        account: AccountUnderTest, suite_esia: SuiteEsia, browser: HttpxClient) -> None:
    page = _signed_in(browser, suite_esia, account, _person(suite_esia))
    assert account_site.in_session(browser, page)
    with HttpxClient() as stranger:
        assert not account_site.in_session(stranger, page), f"{page} answers 200 without a session too"


def test_sign_in_with_an_electronic_signature_opens_a_session(
        account: AccountUnderTest, suite_esia: SuiteEsia, browser: HttpxClient) -> None:
    if (reason := gost_ready()) is not None:
        pytest.skip(f"signing GOST needs the gost engine here: {reason}")
    person = _person(suite_esia)
    issued = suite_esia.control.issue_certificate(person.oid)
    back_to = esia_login.sign_in_with_signature(
        browser, esia_url=suite_esia.esia_url, authorization_url=_to_esia(browser, suite_esia, account),
        sign=cms_signer(issued["certificate"], issued["private_key"]))
    assert esia_login.jwt_claims(dict(parse_qsl(urlsplit(back_to).query))["code"])["auth_mthd"] == "DS"
    page = account_site.landing(browser, back_to)
    assert account_site.in_session(browser, page), "a sign-in by electronic signature (amr DS) opened no session"
    assert not suite_esia.control.sms_messages(person.record["phone"]), "no SMS code for a signature"


def test_a_state_the_account_never_issued_is_refused(
        account: AccountUnderTest, suite_esia: SuiteEsia, browser: HttpxClient) -> None:
    back_to = _through_esia(browser, suite_esia, account, _person(suite_esia))
    _refused_without_a_session(browser, account, suite_esia, _with_query(back_to, state=str(uuid.uuid4())))


def test_a_callback_opened_in_another_browser_is_refused(
        account: AccountUnderTest, suite_esia: SuiteEsia, browser: HttpxClient) -> None:
    back_to = _through_esia(browser, suite_esia, account, _person(suite_esia))
    with HttpxClient() as other_browser:
        _refused_without_a_session(other_browser, account, suite_esia, back_to)


def test_a_replayed_code_is_refused(
        account: AccountUnderTest, suite_esia: SuiteEsia, browser: HttpxClient) -> None:
    back_to = _through_esia(browser, suite_esia, account, _person(suite_esia))
    account_site.landing(browser, back_to)  # the code is spent here
    with HttpxClient() as other_browser:  # a fresh state of its own, with the spent code
        fresh_state = dict(parse_qsl(urlsplit(_to_esia(other_browser, suite_esia, account)).query))["state"]
        _refused_without_a_session(other_browser, account, suite_esia, _with_query(back_to, state=fresh_state))


def test_a_code_issued_to_another_client_system_is_refused(
        account: AccountUnderTest, suite_esia: SuiteEsia, browser: HttpxClient) -> None:
    person = _person(suite_esia)
    with HttpxClient() as elsewhere:
        foreign_code = esia_login.authorize(
            elsewhere, esia_url=suite_esia.esia_url, rp=suite_esia.relying_party(), login=person.record["phone"],
            password=person.record["password"], read_sms=suite_esia.control.read_sms)
    authorization = dict(parse_qsl(urlsplit(_to_esia(browser, suite_esia, account)).query))
    callback = _with_query(authorization["redirect_uri"], code=foreign_code, state=authorization["state"])
    _refused_without_a_session(browser, account, suite_esia, callback)


def test_an_error_esia_sends_back_opens_no_session(
        account: AccountUnderTest, suite_esia: SuiteEsia, browser: HttpxClient) -> None:
    """ESIA refuses by sending the browser back with ``error`` (the person denied access,
    ESIA-007004) and this browser's own, fresh ``state``: the account must not sign anyone in."""
    authorization = dict(parse_qsl(urlsplit(_to_esia(browser, suite_esia, account)).query))
    callback = _with_query(authorization["redirect_uri"], error="access_denied", state=authorization["state"],
                           error_description="ESIA-007004: the person denied the request")
    _refused_without_a_session(browser, account, suite_esia, callback)


def test_logout_ends_the_session_and_the_esia_session(
        account: AccountUnderTest, suite_esia: SuiteEsia, browser: HttpxClient) -> None:
    page = _signed_in(browser, suite_esia, account, _person(suite_esia))
    account_site.log_out(browser, page)
    assert not account_site.in_session(browser, page)
    to_esia = _to_esia(browser, suite_esia, account)
    assert "/aas/oauth2/login" in (browser.send("GET", to_esia, name="esia: ac").location or ""), \
        "after logout ESIA asks for the password again"


def test_the_session_ends_after_thirty_minutes_without_requests(
        account: AccountUnderTest, suite_esia: SuiteEsia, browser: HttpxClient) -> None:
    if account.service is None:
        pytest.skip("moving an account's clock needs its gosstand control API (the stand's accounts)")
    page = _signed_in(browser, suite_esia, account, _person(suite_esia))
    suite_esia.control.advance_clock(account.service, 29 * 60)
    assert account_site.in_session(browser, page), "29 idle minutes keep the session"
    suite_esia.control.advance_clock(account.service, 30 * 60)
    assert not account_site.in_session(browser, page), "30 idle minutes end it"


def test_the_records_shown_follow_the_organisation_chosen(
        account: AccountUnderTest, suite_esia: SuiteEsia, gosstand_target: Target, browser: HttpxClient) -> None:
    if account.service is None:
        pytest.skip("what an account lists is known for the stand's FTS and UTKO accounts only")
    person, stranger = _person(suite_esia), _person(suite_esia)
    ours, theirs = suite_esia.seed_organisation(person), suite_esia.seed_organisation(stranger)
    for filer, organisation in ((person, ours), (stranger, theirs)):
        _file_a_record(gosstand_target, account.service, suite_esia.log_in(filer).access_token, organisation)
    _signed_in(browser, suite_esia, account, person)
    if accounts.choose(browser, account.base, f"org:{ours['oid']}") == "/account/registration":  # new to the FGIS
        assert accounts.register_organisation(browser, account.base, ours["inn"]) == "/account"
    assert len(accounts.open_list(browser, account.base)) == 1, "the chosen organisation's one record"
    accounts.choose(browser, account.base, "self")
    assert accounts.open_list(browser, account.base) == [], "acting for themselves, none of the organisation's"
    answer = browser.send("POST", f"{account.base}/account/choose", name="account: choose",
                          data={"choice": f"org:{theirs['oid']}"})
    assert answer.status >= 400, "an organisation the person does not work for cannot be chosen"


def _file_a_record(target: Target, service: str, token: str, organisation: dict[str, Any]) -> None:
    fake = russian_faker(seed=organisation["oid"] % 100_000)
    party = {"inn": organisation["inn"], "kpp": organisation["kpp"]}
    with HttpxClient() as http:
        if service == "fts":
            body = declarations.sample_declaration(fake)
            body["declarant"] = {**body["declarant"], **party, "ogrn": organisation["ogrn"]}
            declarations.submit(http, fts_url=target.url("fts"), token=token, declaration=body,
                                idempotency_key=str(uuid.uuid4()))
        else:
            utko.register_object(http, utko_url=target.url("utko"), token=token,
                                 obj=utko.sample_object(fake, operator=party))
