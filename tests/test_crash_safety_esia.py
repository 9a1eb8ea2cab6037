"""An ESIA replica killed at any point of a code redemption (``te``) spends the code only
together with the tokens it bought.

The code is single use. Taken first and the tokens signed and stored after, a replica killed in
between — most of the request's time goes to signing — spent the code and kept nothing: the
client's retry was refused and the person had to log in again. Each test runs the redemption on
a replica that dies right after its 1st store write, then its 2nd, … (:mod:`crashing_replicas`);
after every crash either the code still buys its tokens (once), or the redemption had landed
whole: the code is spent and the refresh token its lost answer carried is kept.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import pytest
from crashing_replicas import crash_points, second_replica
from esia_stand import ESIA, PASSWORD, Stand, make_stand
from gosstand.mocks.core.settings import Settings
from gosstand.scenarios import esia_login


@pytest.fixture
def stand(service_client, control_headers) -> Stand:
    """The healthy replica, with the reference client registered."""
    return make_stand(service_client, control_headers)


@pytest.fixture
def replica_settings(make_settings: Callable[..., Settings]) -> Settings:
    return second_replica(make_settings, "esia")


def _refresh_tokens(settings: Settings) -> int:
    with sqlite3.connect(settings.store_url.removeprefix("sqlite:///")) as db:
        return db.execute("SELECT COUNT(*) FROM kv WHERE key LIKE 'esia:rt:%'").fetchone()[0]


def _code(stand: Stand, oid: int, **options: str) -> str:
    stand.http._client.cookies.clear()  # type: ignore[attr-defined]
    return esia_login.authorize(stand.http, esia_url=ESIA, rp=stand.rp, login=stand.phones[oid], password=PASSWORD,
                                read_sms=stand.control.read_sms, **options)


def test_a_redemption_killed_at_any_write_spends_the_code_only_with_its_tokens(stand, replica_settings):
    oid = stand.seed()
    crashes = 0
    for replica in crash_points(replica_settings):
        code = _code(stand, oid, access_type="offline")
        kept_before = _refresh_tokens(replica_settings)
        answer = replica.send("POST", "/aas/oauth2/te", data=stand.rp.token_form(code))
        if answer is not None:
            assert answer.status_code == 200, answer.text
            continue
        crashes += 1
        retried = stand.te(stand.rp.token_form(code))
        if retried.status == 200:  # nothing of the redemption landed: the code buys its tokens, once
            assert retried.json()["access_token"] and retried.json()["id_token"]
            again = stand.te(stand.rp.token_form(code))
            assert again.status == 400 and again.json()["error_description"].startswith("ESIA-007011")
        else:
            assert retried.json()["error_description"].startswith("ESIA-007011")
            assert _refresh_tokens(replica_settings) == kept_before + 1, \
                f"crash {crashes}: the code was spent and no tokens were kept for it"
    assert crashes >= 1


def test_a_refresh_killed_at_any_write_spends_the_old_token_only_with_the_new_one(stand, replica_settings):
    oid = stand.seed()
    crashes = 0
    for replica in crash_points(replica_settings):
        old = stand.login(oid, access_type="offline").refresh_token
        kept_before = _refresh_tokens(replica_settings)
        answer = replica.send("POST", "/aas/oauth2/te", data=stand.rp.refresh_form(old))
        if answer is not None:
            assert answer.status_code == 200, answer.text
            continue
        crashes += 1
        retried = stand.te(stand.rp.refresh_form(old))
        if retried.status == 200:  # nothing landed: the old token still buys new ones, once
            assert stand.te(stand.rp.refresh_form(old)).status == 400
        else:  # it landed whole: the old token is spent and the new one (lost with the answer) kept
            assert retried.json()["error_description"].startswith("ESIA-007011")
            assert _refresh_tokens(replica_settings) == kept_before, \
                f"crash {crashes}: the old refresh token was spent and no new one was kept"
    assert crashes >= 1
