"""A login request travels in its signed handle (``rid``): ``ac`` writes nothing to the store,
and a handle opens a login only while it is ESIA's own, unaltered, unexpired and unfinished."""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from esia_stand import ESIA, PASSWORD, Stand, make_stand
from gosstand.mocks.core.keys import ensure_signing_keys
from gosstand.mocks.core.settings import Settings
from gosstand.mocks.esia.crypto import keys as esia_keys
from gosstand.mocks.esia.oauth import login_handles as handle_module
from gosstand.mocks.esia.oauth.login_handles import HandleFields, login_handles
from gosstand.mocks.esia.oauth.login_repository import LOGIN_REQUEST_LIFETIME
from gosstand.scenarios.http import HttpxClient

SCOPE = "openid fullname"
#: No data asked: no consent page, the right SMS code is answered with the authorization code.
OPENID = "openid"


@pytest.fixture
def stand(service_client, control_headers) -> Stand:
    return make_stand(service_client, control_headers)


def _rows(settings_path: Path) -> list[str]:
    with sqlite3.connect(settings_path) as db:
        return [key for (key,) in db.execute("SELECT key FROM kv ORDER BY key")]


def _rid(stand: Stand, scope: str = SCOPE) -> str:
    answer = stand.ac(stand.rp.authorization_params(scope))
    assert answer.status == 302, answer.text
    return parse_qs(urlsplit(answer.location).query)["rid"][0]


def _password_page(stand: Stand, rid: str):
    return stand.http.send("GET", f"{ESIA}/aas/oauth2/login", name="login page", params={"rid": rid})


def _password(stand: Stand, rid: str, oid: int):
    return stand.http.send("POST", f"{ESIA}/aas/oauth2/login", name="login",
                           data={"rid": rid, "login": stand.phones[oid], "password": PASSWORD})


def _expired(answer) -> bool:
    return answer.status == 400 and "Сеанс входа истёк" in answer.text


def test_ac_writes_nothing_to_the_store(stand, tmp_path):
    stand.seed()
    database = tmp_path / "esia.sqlite3"
    before = _rows(database)
    rids = {_rid(stand) for _ in range(3)}
    assert len(rids) == 3, "every ac starts its own login"
    assert _rows(database) == before
    for rid in rids:
        assert _password_page(stand, rid).status == 200


def test_an_altered_forged_or_foreign_handle_opens_nothing(stand, tmp_path):
    oid = stand.seed()
    rid = _rid(stand)
    body, _, mac = rid.partition(".")
    fields = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    fields[1] = "OTHERSYS"  # another client, the MAC kept
    altered = base64.urlsafe_b64encode(json.dumps(fields).encode()).rstrip(b"=").decode() + "." + mac
    foreign_keys = tmp_path / "other-esia-keys"
    ensure_signing_keys(foreign_keys)
    other = Settings(service="esia", replica="esia-1", state_dir=tmp_path, store_url="sqlite:///:memory:",
                     control_token="x", public_url=ESIA, esia_issuer="http://esia.test/", esia_keys_dir=foreign_keys)
    foreign = login_handles(other).seal(HandleFields(*fields[:3], tuple(fields[3]), *fields[4:]))
    for bad in (altered, foreign, body, rid[:-2], rid + "A", "", "x" * 9000):
        assert _expired(_password_page(stand, bad)), bad[:80]
        assert _expired(_password(stand, bad, oid)), bad[:80]
    assert _password(stand, rid, oid).status == 302  # the real one still opens its login


def test_a_handle_expires_on_the_stands_clock(stand):
    oid = stand.seed()
    rid = _rid(stand)
    stand.control.advance_clock("esia", LOGIN_REQUEST_LIFETIME - 1)
    assert _password_page(stand, rid).status == 200
    stand.control.advance_clock("esia", 2)
    assert _expired(_password_page(stand, rid))
    assert _expired(_password(stand, rid, oid))


def test_a_finished_logins_handle_opens_nothing(stand):
    oid = stand.seed()
    rid = _rid(stand)
    assert _password(stand, rid, oid).status == 302
    code = stand.control.read_sms(stand.phones[oid])
    done = stand.http.send("POST", f"{ESIA}/aas/oauth2/otp", name="otp", data={"rid": rid, "code": code})
    assert done.status == 302 and "/aas/oauth2/consent?rid=" in done.location  # the first login asks consent
    stand.http._client.cookies.clear()  # type: ignore[attr-defined]  # not the SSO session: the handle
    assert _expired(_password_page(stand, rid))
    assert _expired(_password(stand, rid, oid)), "a finished login must not send a new code"
    assert _expired(stand.http.send("GET", f"{ESIA}/aas/oauth2/otp", name="otp page", params={"rid": rid}))


def test_too_many_wrong_codes_end_the_handles_login(stand):
    oid = stand.seed()
    rid = _rid(stand)
    assert _password(stand, rid, oid).status == 302
    right = stand.control.read_sms(stand.phones[oid])
    wrong = "000000" if right != "000000" else "111111"
    answers = [stand.http.send("POST", f"{ESIA}/aas/oauth2/otp", name="otp", data={"rid": rid, "code": wrong})
               for _ in range(3)]
    assert answers[-1].status == 400 and "слишком много" in answers[-1].text
    assert _expired(_password(stand, rid, oid)), "an ended login must not start again with a new password"


def test_another_process_on_the_same_keys_opens_the_handle(make_settings):
    """Replicas share ESIA's keys directory, not memory: a handle sealed by one is opened by a
    process that derived its key afresh from the same directory."""
    fields = HandleFields("id1", "TESTSYS", "https://rp.example/cb", ("openid",), "s", "online", 1.5)
    sealed = login_handles(make_settings("esia")).seal(fields)
    for cache in (handle_module._handles, esia_keys._derived, esia_keys._keys):
        cache.cache_clear()
    assert login_handles(make_settings("esia", replica="esia-2")).open(sealed) == fields


def test_the_replica_that_seals_a_handle_opens_it_without_checking_it_again(make_settings, monkeypatch):
    """The login page follows ``ac`` on the same replica most often: that replica knows the
    handle it made, and spends no MAC on it; a changed handle is still checked, and refused."""
    handles = login_handles(make_settings("esia"))
    fields = HandleFields("id-sealed-here", "TESTSYS", "https://rp.example/cb", ("openid",), "s", "online", 2.5)
    sealed = handles.seal(fields)
    macs: list[bytes] = []
    mac = handles._mac
    monkeypatch.setattr(handles, "_mac", lambda payload: macs.append(payload) or mac(payload))
    assert handles.open(sealed) == fields
    assert macs == []
    body, _, tag = sealed.partition(".")
    assert handles.open(f"{body}.{tag[::-1]}") is None
    assert len(macs) == 1


def _replica(service_client) -> HttpxClient:  # type: ignore[no-untyped-def]
    """Another replica of the stand's ESIA on the same store (as a load balancer would pick)."""
    client = service_client("esia", replica="esia-2")
    client.follow_redirects = False
    return HttpxClient(client=client)


def _code(stand: Stand, rid: str, oid: int, http: HttpxClient | None = None) -> str:
    """The right SMS code sent on ``http`` (the stand's replica unless given): the code ESIA answers with."""
    sms = stand.control.read_sms(stand.phones[oid])
    done = (http or stand.http).send("POST", f"{ESIA}/aas/oauth2/otp", name="otp", data={"rid": rid, "code": sms})
    assert done.status == 302 and "code=" in done.location, done.text
    return parse_qs(urlsplit(done.location).query)["code"][0]


def _refused(answer) -> bool:  # type: ignore[no-untyped-def]
    return answer.status == 400 and answer.json()["error_description"].startswith("ESIA-007011")


def test_each_step_of_a_login_may_land_on_another_replica(stand, service_client):
    """The login's one record is in the shared store: ac on one replica, the password on the
    other, the code page on the first, the code on the other, te on the first."""
    oid = stand.seed()
    other = _replica(service_client)
    rid = _rid(stand, OPENID)  # on the stand's replica
    assert other.send("POST", f"{ESIA}/aas/oauth2/login", name="login",
                      data={"rid": rid, "login": stand.phones[oid], "password": PASSWORD}).status == 302
    assert stand.http.send("GET", f"{ESIA}/aas/oauth2/otp", name="otp page", params={"rid": rid}).status == 200
    code = _code(stand, rid, oid, other)
    assert stand.te(stand.rp.token_form(code, OPENID)).status == 200
    assert _refused(other.send("POST", f"{ESIA}/aas/oauth2/te", name="te", data=stand.rp.token_form(code, OPENID)))
    for replica in (stand.http, other):
        assert _expired(replica.send("GET", f"{ESIA}/aas/oauth2/login", name="login page", params={"rid": rid}))


def test_a_redeemed_or_refused_code_leaves_its_login_ended(stand):
    """The code is kept as its login's record: spending it — with tokens, or refused — leaves the
    record ended, never gone (a gone record would let the handle start the login again)."""
    oid = stand.seed()
    for spend in ("redeemed", "refused"):
        stand.http._client.cookies.clear()  # type: ignore[attr-defined]
        rid = _rid(stand, OPENID)
        assert _password(stand, rid, oid).status == 302
        code = _code(stand, rid, oid)
        form = stand.rp.token_form(code, OPENID)
        if spend == "refused":
            form["redirect_uri"] = "https://rp.example/other"
        assert (stand.te(form).status == 200) is (spend == "redeemed")
        assert _refused(stand.te(stand.rp.token_form(code, OPENID))), spend
        assert _expired(_password_page(stand, rid)), spend
        assert _expired(_password(stand, rid, oid)), spend


def test_a_code_naming_another_login_opens_nothing_and_spends_nothing(stand):
    """``te`` finds a code's record by the code's ``jti``; the record must hold that very code.
    A code altered (its jti kept), or one naming a login still in progress, is refused and
    spends neither that login nor the real code."""
    oid = stand.seed()
    rid = _rid(stand, OPENID)
    assert _password(stand, rid, oid).status == 302
    code = _code(stand, rid, oid)
    header, payload, signature = code.split(".")
    assert _refused(stand.te(stand.rp.token_form(f"{header}.{payload}.{signature[:-4]}AAAA", OPENID)))
    stand.http._client.cookies.clear()  # type: ignore[attr-defined]
    in_progress = _rid(stand, OPENID)
    assert _password(stand, in_progress, oid).status == 302
    login_id = json.loads(base64.urlsafe_b64decode(in_progress.split(".")[0] + "=="))[0]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    named = base64.urlsafe_b64encode(json.dumps({**claims, "jti": login_id}).encode()).rstrip(b"=").decode()
    assert _refused(stand.te(stand.rp.token_form(f"{header}.{named}.{signature}", OPENID)))
    assert stand.te(stand.rp.token_form(code, OPENID)).status == 200  # the real code was not spent
    assert _code(stand, in_progress, oid)  # nor the login in progress


@pytest.mark.parametrize("payload", [b"[" * 5000, b"\xff\xfe", b'{"jti": 7}', b'"jti"', b"{}"])
def test_a_code_whose_claims_name_no_login_is_refused_as_invalid(stand, payload):
    """The ``jti`` is read before anything is verified: whatever the claims are — nested past the
    JSON parser's depth, not UTF-8, no string ``jti`` — the answer is ESIA-007011, never a 5xx."""
    forged = f"eyJhbGciOiJSUzI1NiJ9.{base64.urlsafe_b64encode(payload).rstrip(b'=').decode()}.c2ln"
    assert _refused(stand.te(stand.rp.token_form(forged, OPENID)))


def test_the_login_page_after_ac_looks_nothing_up_yet_sees_what_another_replica_wrote(stand, service_client):
    """``ac`` knows its login's record is absent (its id is new), so the login page on the same
    replica asks the store nothing about it; once another replica has ended that login, this
    replica's page is the expired one all the same."""
    oid = stand.seed()
    store = stand.http._client.app.state.ctx.store  # type: ignore[attr-defined]
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    rid = _rid(stand, OPENID)
    record = [statement for statement in statements if "INSERT" in statement and "esia:rid:" in statement]
    assert record == []  # ac writes nothing
    statements.clear()
    assert _password_page(stand, rid).status == 200
    assert [statement for statement in statements if "esia:rid:" in statement] == []
    other = _replica(service_client)
    assert other.send("POST", f"{ESIA}/aas/oauth2/login", name="login",
                      data={"rid": rid, "login": stand.phones[oid], "password": PASSWORD}).status == 302
    _code(stand, rid, oid, other)  # the login ends on the other replica
    assert _expired(_password_page(stand, rid))
    assert _expired(stand.http.send("GET", f"{ESIA}/aas/oauth2/otp", name="otp page", params={"rid": rid}))
