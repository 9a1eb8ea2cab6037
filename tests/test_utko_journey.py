"""The UTKO journeys (scenarios/utko.py) against the in-process stack, and their retry rules
against a scripted server: an operator registers and keeps objects up to date under If-Match, a
weigh station imports weight controls that a retry never stores twice."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest
from gosstand.scenarios import esia_login, utko
from gosstand.scenarios.control import StackControl
from gosstand.scenarios.http import HttpResponse, HttpxClient, TransportFailure
from gosstand.scenarios.identities import russian_faker
from relying_parties import employ, registered_person
from scripted_http import ScriptedHttp, answer

SCOPE = "openid fullname usr_org"


@pytest.fixture
def operator(gosstand_inprocess):
    """A signed-in operator: the stack, an HTTP client and an access token with usr_org, whose
    person works for the companies the tests register objects of (``russian_faker`` seeds 3, 4)."""
    stack = gosstand_inprocess
    control, rp, person = registered_person(stack, "UTKOOP", SCOPE, seed=9)
    for seed in (3, 4):
        employ(control, person, russian_faker(seed=seed).legal_entity())
    with HttpxClient() as http:
        tokens = esia_login.login(http, esia_url=stack.urls["esia"], rp=rp, login=person["phone"],
                                  password=person["password"], read_sms=control.read_sms, scope=SCOPE)
        yield stack, http, tokens.access_token


def test_an_operator_registers_updates_and_lists_objects(operator):
    stack, http, token = operator
    fake = russian_faker(seed=3)
    company = fake.legal_entity()
    mine = {"inn": company.inn, "kpp": company.kpp}
    registered = [utko.register_object(http, utko_url=stack.urls["utko"], token=token,
                                       obj=utko.sample_object(fake, operator=mine)) for _ in range(3)]
    assert all(r.etag == '"v1"' and len(r.access_key) >= 8 for r in registered)
    listed = list(utko.list_objects(http, utko_url=stack.urls["utko"], token=token, limit=2, operatorInn=company.inn))
    assert [o["id"] for o in listed] == [r.id for r in registered]  # two pages, oldest first
    stranger = russian_faker(seed=5).legal_entity()  # a company the operator does not work for
    with pytest.raises(utko.UtkoError) as refused:
        utko.register_object(http, utko_url=stack.urls["utko"], token=token,
                             obj=utko.sample_object(fake, operator={"inn": stranger.inn, "kpp": stranger.kpp}))
    assert refused.value.status == 403

    stored, etag = utko.update_object(http, utko_url=stack.urls["utko"], token=token, object_id=registered[0].id,
                                      change=lambda o: {**o, "status": "suspended"})
    assert (stored["status"], etag) == ("suspended", '"v2"')
    assert stored["fkkoCodes"] == registered[0].body["fkkoCodes"]  # the rest is kept
    now = dt.datetime.fromtimestamp(StackControl(stack.urls, stack.control_token).now("utko"), dt.UTC)
    yesterday = now.date() - dt.timedelta(days=1)  # every request of a past date is filed: 3–8
    filed = utko.requests_on(http, utko_url=stack.urls["utko"], token=token, date=yesterday)
    assert 3 <= len(filed) <= 8 and all(item["filedAt"].startswith(yesterday.isoformat()) for item in filed)


def test_a_weigh_station_import_is_idempotent_and_reads_back(operator):
    stack, http, token = operator
    fake = russian_faker(seed=4)
    company = fake.legal_entity()
    obj = utko.register_object(http, utko_url=stack.urls["utko"], token=token,
                               obj=utko.sample_object(fake, operator={"inn": company.inn, "kpp": company.kpp}))
    numbers = itertools.count(1)
    controls = utko.sample_weight_controls(fake, count=5, ids=lambda: f"WC-{next(numbers)}")
    first = utko.import_weight_controls(http, utko_url=stack.urls["utko"], object_id=obj.id,
                                        access_key=obj.access_key, controls=controls)
    ids = [f"WC-{n}" for n in range(1, 6)]
    assert (first.imported, first.skipped, first.rejected, first.attempts) == (ids, [], [], 1)
    again = utko.import_weight_controls(http, utko_url=stack.urls["utko"], object_id=obj.id,
                                        access_key=obj.access_key, controls=controls)
    assert (again.imported, again.skipped) == ([], ids)  # what a retry after a lost answer sees
    held = list(utko.weight_controls(http, utko_url=stack.urls["utko"], token=token, object_id=obj.id, limit=2))
    assert sorted(c["id"] for c in held) == ids
    with pytest.raises(utko.UtkoError) as refused:
        utko.import_weight_controls(http, utko_url=stack.urls["utko"], object_id=obj.id,
                                    access_key="not-the-key", controls=controls)
    assert (refused.value.status, refused.value.attempts) == (403, 1)  # not retried


def test_an_import_is_reposted_whole_through_failures_and_waits_as_told():
    sleeps: list[float] = []
    ok = answer(200, json.dumps({"imported": [], "skipped": ["a", "b"], "rejected": []}).encode())
    http = ScriptedHttp([TransportFailure("reset"), answer(503, retry_after="2"), ok])
    result = utko.import_weight_controls(http, utko_url="http://utko", object_id="o", access_key="k",
                                         controls=[{"id": "a"}, {"id": "b"}], sleep=sleeps.append)
    assert (result.attempts, result.skipped, sleeps) == (3, ["a", "b"], [0.2, 2.0])
    files = [sent["files"]["file"][1] for sent in http.sent]
    assert len(set(files)) == 1 and json.loads(files[0])["weightControls"] == [{"id": "a"}, {"id": "b"}]


def _object(version: int, status: str = "active") -> HttpResponse:
    body = {"id": "o", "name": "Полигон", "status": status, "createdAt": "x", "updatedAt": "y"}
    return answer(200, json.dumps(body).encode(), etag=f'"v{version}"')


def test_an_update_rereads_on_412_and_backs_off_on_503():
    sleeps: list[float] = []
    http = ScriptedHttp([_object(1), answer(412), _object(2), answer(503), _object(2),
                         _object(3, "closed")])
    stored, etag = utko.update_object(http, utko_url="http://utko", token="t", object_id="o",
                                      change=lambda o: {**o, "status": "closed"}, sleep=sleeps.append)
    assert (stored["status"], etag) == ("closed", '"v3"')
    puts = [sent for sent in http.sent if sent["name"] == "utko: update"]
    assert [p["headers"]["If-Match"] for p in puts] == ['"v1"', '"v2"', '"v2"']
    assert all(set(p["json"]) == {"name", "status"} for p in puts)  # only what a client writes
    assert sleeps == [0.4]  # none after the 412: read again at once; back-off after the 503


def test_an_update_gives_up_on_what_a_retry_cannot_fix():
    http = ScriptedHttp([_object(1), answer(422, b'{"detail": "status: one of active, ..."}')])
    with pytest.raises(utko.UtkoError) as refused:
        utko.update_object(http, utko_url="http://utko", token="t", object_id="o",
                           change=lambda o: {**o, "status": "bogus"}, sleep=lambda _: None)
    assert refused.value.status == 422 and "status: one of" in str(refused.value)
