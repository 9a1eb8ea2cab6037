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

SCOPE = "openid fullname"


@pytest.fixture
def stand(service_client, control_headers) -> Stand:
    return make_stand(service_client, control_headers)


def _rows(settings_path: Path) -> list[str]:
    with sqlite3.connect(settings_path) as db:
        return [key for (key,) in db.execute("SELECT key FROM kv ORDER BY key")]


def _rid(stand: Stand) -> str:
    answer = stand.ac(stand.rp.authorization_params(SCOPE))
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
