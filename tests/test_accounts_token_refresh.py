"""A personal account keeps its session's ESIA access token in force with ESIA's refresh token, on
the service's clock: renewed before its hour ends for as long as the session lives, and the
session ended cleanly (sign in again) when ESIA refuses to renew it — the person withdrew the
system's access — or cannot answer once the token has run out. No test waits: each moves the
account's clock."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from urllib.parse import parse_qs

import pytest
from account_people import seed_organisation, seed_person
from gosstand.scenarios import accounts
from gosstand.scenarios.control import StackControl
from gosstand.scenarios.http import HttpxClient

MINUTE = 60
CLIENTS = {"fts": "FTSLK", "utko": "UTKOLK"}


@pytest.fixture
def control(gosstand_inprocess) -> StackControl:
    return StackControl(gosstand_inprocess.urls, gosstand_inprocess.control_token)


def _signed_in(stack, control, service: str, seed: int) -> tuple[HttpxClient, dict, int]:
    """A person signed in to ``service``'s account, acting for their organisation."""
    person = seed_person(control, seed=seed)
    firm = seed_organisation(control, seed=seed + 1, employees=[{"oid": person.oid, "role": "employee"}])
    http = HttpxClient()
    accounts.sign_in(http, account_url=stack.urls[service], esia_url=stack.urls["esia"], login=person.phone,
                     password=person.password, read_sms=control.read_sms)
    if accounts.choose(http, stack.urls[service], f"org:{firm['oid']}") == "/account/registration":
        accounts.register_organisation(http, stack.urls[service], firm["inn"])
    return http, firm, person.oid


def _api_read(http: HttpxClient, stack, service: str, firm: dict) -> int:
    """The service's API called with the session's cookie (no bearer token): its status."""
    path = "/api/v1/declarations" if service == "fts" else "/v1/objects"
    return http.send("GET", f"{stack.urls[service]}{path}", name="api with the cookie",
                     params={"inn": firm["inn"]} if service == "fts" else None).status


def _refresh_grants(control: StackControl) -> list[dict]:
    posted = control.recorded_requests("esia", method="POST", path="/aas/oauth2/v3/te", limit=100)
    return [entry for entry in posted if parse_qs(entry["body"]).get("grant_type") == ["refresh_token"]]


@pytest.mark.parametrize("service", ["fts", "utko"])
def test_the_session_renews_its_esia_token_before_each_hour_ends_and_lives_on(gosstand_inprocess, control, service):
    stack = gosstand_inprocess
    http, firm, _ = _signed_in(stack, control, service, seed=510)
    control.record_requests("esia")
    for step in range(1, 8):  # a request every 29 minutes for 3 h 23 min: three tokens' hours
        control.advance_clock(service, 29 * MINUTE)
        assert http.send("GET", f"{stack.urls[service]}/account", name="list").status == 200, f"step {step}"
        assert _api_read(http, stack, service, firm) == 200, f"step {step}"
    renewals = _refresh_grants(control)
    # renewed at 58, 116 and 174 minutes (5 minutes ahead of each hour's end), no more often
    assert len(renewals) == 3 and all(entry["status"] == 200 for entry in renewals)


@pytest.mark.parametrize("service", ["fts", "utko"])
def test_when_the_person_withdraws_the_systems_access_the_session_ends_at_the_next_renewal(
        gosstand_inprocess, control, service):
    stack = gosstand_inprocess
    http, firm, oid = _signed_in(stack, control, service, seed=520)
    control.withdraw_consent(oid, CLIENTS[service])
    control.advance_clock(service, 29 * MINUTE)
    assert _api_read(http, stack, service, firm) == 200  # the token still serves its hour
    control.advance_clock(service, 27 * MINUTE)  # 56 minutes: renewal due, and ESIA refuses it
    assert _api_read(http, stack, service, firm) == 401
    page = http.send("GET", f"{stack.urls[service]}/account", name="list")
    assert page.status == 303 and page.location == "/login"  # signed out cleanly: sign in again


def test_while_esia_cannot_answer_the_session_lasts_as_long_as_its_token(gosstand_inprocess, control):
    stack = gosstand_inprocess
    http, firm, _ = _signed_in(stack, control, "fts", seed=530)
    control.advance_clock("fts", 29 * MINUTE)
    assert _api_read(http, stack, "fts", firm) == 200
    control.set_client_faults("FTSLK", overload=True)  # ESIA answers the account 503
    control.advance_clock("fts", 27 * MINUTE)  # renewal due, ESIA overloaded, the token still in force
    assert _api_read(http, stack, "fts", firm) == 200
    control.advance_clock("fts", 5 * MINUTE)  # 61 minutes: the token has ended, still no renewal
    assert _api_read(http, stack, "fts", firm) == 401
    assert http.send("GET", f"{stack.urls['fts']}/account", name="list").location == "/login"


def test_esia_recovering_in_time_keeps_the_session(gosstand_inprocess, control):
    stack = gosstand_inprocess
    http, firm, _ = _signed_in(stack, control, "fts", seed=540)
    control.record_requests("esia")
    control.advance_clock("fts", 29 * MINUTE)
    assert _api_read(http, stack, "fts", firm) == 200  # not idle
    control.set_client_faults("FTSLK", overload=True)
    control.advance_clock("fts", 27 * MINUTE)
    assert _api_read(http, stack, "fts", firm) == 200
    control.set_client_faults("FTSLK", overload=False)
    control.advance_clock("fts", 2 * MINUTE)  # 58 minutes: the next request renews it
    assert _api_read(http, stack, "fts", firm) == 200
    control.advance_clock("fts", 29 * MINUTE)  # 87 minutes: well past the first token's hour
    assert _api_read(http, stack, "fts", firm) == 200
    assert [entry["status"] for entry in _refresh_grants(control)] == [503, 200]


def test_of_two_requests_renewing_at_once_the_loser_goes_on_with_the_winners_tokens():
    """ESIA honours a refresh token once: the request that comes second is refused, finds the
    winner's tokens in the store and keeps the session; a refusal with nobody else's renewal in
    the store ends it."""
    from types import SimpleNamespace

    from gosstand.mocks.accounts.refusals import SignInRefused
    from gosstand.mocks.accounts.sessions import SessionRepository
    from gosstand.mocks.accounts.token_refresh import EsiaTrust, renewed
    from gosstand.mocks.core.store_sqlite import SQLiteStore

    async def spent() -> EsiaTrust:
        raise SignInRefused("refused", status=403, detail="ESIA-007011: Refresh token is already used")

    async def scenario(winner_came_first: bool) -> object:
        store = SQLiteStore(":memory:")
        sessions = SessionRepository(store)
        opened = await sessions.open(oid=1, name="Н", inn="", places=[], access_token="a1", refresh_token="r1",
                                     token_expires=3600, now=3000)
        if winner_came_first:
            await sessions.save_tokens(replace(opened, access_token="a2", refresh_token="r2", token_expires=7200))
        kept = await renewed(SimpleNamespace(store=store), opened, spent, now=3400)
        return kept, await sessions.find(opened.sid, now=3400)

    kept, stored = asyncio.run(scenario(winner_came_first=True))
    assert kept is not None and kept.refresh_token == "r2" and stored is not None
    kept, stored = asyncio.run(scenario(winner_came_first=False))
    assert kept is None and stored is None


def test_a_page_and_a_renewal_saving_the_same_session_keep_both_changes():
    """A page that read the session before another request renewed its token must not put the
    spent refresh token back (the session would end at its next renewal); a renewal that read
    the session before a page's choice must not undo the choice. Either order keeps both."""
    from gosstand.mocks.accounts.acting import ActingFor
    from gosstand.mocks.accounts.sessions import SessionRepository
    from gosstand.mocks.core.store_sqlite import SQLiteStore

    async def scenario(page_first: bool) -> object:
        sessions = SessionRepository(SQLiteStore(":memory:"))
        opened = await sessions.open(oid=1, name="Н", inn="500100732259", places=[], access_token="a1",
                                     refresh_token="r1", token_expires=3600, now=3000)
        page_copy = replace(opened, acting=ActingFor(kind="self", inn="500100732259"))
        renewal_copy = replace(opened, access_token="a2", refresh_token="r2", token_expires=7200)
        first, second = (page_copy, renewal_copy) if page_first else (renewal_copy, page_copy)
        for copy in (first, second):
            if copy is page_copy:
                await sessions.save(copy)
            else:
                await sessions.save_tokens(copy)
        return await sessions.find(opened.sid, now=3001)

    for page_first in (True, False):
        stored = asyncio.run(scenario(page_first))
        assert stored is not None
        assert (stored.refresh_token, stored.access_token, stored.token_expires) == ("r2", "a2", 7200)
        assert stored.acting is not None and stored.acting.kind == "self"


def test_a_save_after_logout_does_not_bring_the_session_back():
    from gosstand.mocks.accounts.sessions import SessionRepository
    from gosstand.mocks.core.store_sqlite import SQLiteStore

    async def scenario() -> object:
        sessions = SessionRepository(SQLiteStore(":memory:"))
        opened = await sessions.open(oid=1, name="Н", inn="", places=[], access_token="a1", refresh_token="r1",
                                     token_expires=3600, now=3000)
        await sessions.end(opened.sid)
        assert await sessions.save_tokens(replace(opened, refresh_token="r2")) is None
        assert await sessions.save(replace(opened, registering=5)) is None
        return await sessions.find(opened.sid, now=3001)

    assert asyncio.run(scenario()) is None
