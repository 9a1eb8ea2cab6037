"""FGIS UTKO's first-login registration of an organisation (seed 002) and the roles its
administrator gives, in process: the INN or OGRN checked by its check digits and against ESIA,
the consent recorded with date, time and the person's OID, refusal ending the registration, and
a reader's session refused a write that a filer's may make."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from account_people import seed_organisation, seed_person
from gosstand.scenarios import accounts, utko
from gosstand.scenarios.control import StackControl
from gosstand.scenarios.http import HttpxClient
from gosstand.scenarios.identities import russian_faker


@pytest.fixture
def control(gosstand_inprocess) -> StackControl:
    return StackControl(gosstand_inprocess.urls, gosstand_inprocess.control_token)


def _acting_for(stack, control, person, organisation) -> tuple[HttpxClient, str]:
    http = HttpxClient()
    accounts.sign_in(http, account_url=stack.urls["utko"], esia_url=stack.urls["esia"], login=person.phone,
                     password=person.password, read_sms=control.read_sms)
    return http, accounts.choose(http, stack.urls["utko"], f"org:{organisation['oid']}")


def _post(http, url, data):
    return http.send("POST", url, name="form", data=data)


def _wrong_check_digit(inn: str) -> str:
    return inn[:-1] + str((int(inn[-1]) + 1) % 10)


def test_an_unregistered_organisation_registers_with_its_ogrn_and_the_consent_is_recorded(gosstand_inprocess,
                                                                                             control):
    stack = gosstand_inprocess
    utko_url = stack.urls["utko"]
    person = seed_person(control, seed=51)
    firm = seed_organisation(control, seed=52, employees=[{"oid": person.oid, "role": "employee"}])
    other = seed_organisation(control, seed=53, employees=[])
    http, next_page = _acting_for(stack, control, person, firm)
    assert next_page == "/account/registration"  # its first time in the FGIS
    assert http.send("GET", f"{utko_url}/account", name="home").location == "/account/registration"
    bad_digit = _post(http, f"{utko_url}/account/registration", {"identifier": _wrong_check_digit(firm["inn"])})
    assert bad_digit.status == 422 and "Контрольное число ИНН не сходится" in bad_digit.text
    foreign = _post(http, f"{utko_url}/account/registration", {"identifier": other["inn"]})
    assert foreign.status == 422 and "не совпадает со сведениями" in foreign.text
    # Nothing is agreed yet: the consent page waits for a matching identifier.
    assert http.send("GET", f"{utko_url}/account/registration/consent", name="c").location == "/account/registration"
    assert _post(http, f"{utko_url}/account/registration", {"identifier": firm["ogrn"]}).location == \
        "/account/registration/consent"
    consent_page = http.send("GET", f"{utko_url}/account/registration/consent", name="consent")
    assert "152-ФЗ" in consent_page.text and 'value="refuse"' in consent_page.text
    frozen_at = _freeze(stack, "utko")
    assert _post(http, f"{utko_url}/account/registration/consent", {"decision": "agree"}).location == "/account"
    home = http.send("GET", f"{utko_url}/account", name="home")
    moment = dt.datetime.fromtimestamp(frozen_at, dt.timezone(dt.timedelta(hours=3))).strftime("%d.%m.%Y %H:%M:%S")
    assert f"согласие на обработку персональных данных дано {moment} МСК, OID {person.oid}" in home.text
    assert "Администратор" in home.text  # the registrant administers it in the FGIS


def test_refusing_the_consent_ends_the_registration_with_nothing_stored(gosstand_inprocess, control):
    stack = gosstand_inprocess
    utko_url = stack.urls["utko"]
    person = seed_person(control, seed=54)
    firm = seed_organisation(control, seed=55, employees=[{"oid": person.oid, "role": "employee"}])
    http, _ = _acting_for(stack, control, person, firm)
    accounts.register_organisation(http, utko_url, firm["inn"], decision="refuse")
    assert http.send("GET", f"{utko_url}/account", name="home").location == "/account/choose"
    assert accounts.choose(http, utko_url, f"org:{firm['oid']}") == "/account/registration"


def test_a_reader_may_not_file_until_the_administrator_makes_them_a_filer(gosstand_inprocess, control):
    stack = gosstand_inprocess
    utko_url = stack.urls["utko"]
    boss, clerk = seed_person(control, seed=56), seed_person(control, seed=57)
    firm = seed_organisation(control, seed=58, employees=[{"oid": boss.oid, "role": "administrator"},
                                                          {"oid": clerk.oid, "role": "employee"}])
    admin_http, _ = _acting_for(stack, control, boss, firm)
    assert accounts.register_organisation(admin_http, utko_url, firm["inn"]) == "/account"
    clerk_http, _ = _acting_for(stack, control, clerk, firm)
    assert "Только просмотр" in clerk_http.send("GET", f"{utko_url}/account", name="home").text
    assert clerk_http.send("GET", f"{utko_url}/account/roles", name="roles").status == 403
    obj = utko.sample_object(russian_faker(seed=59), operator={"inn": firm["inn"], "kpp": firm["kpp"]})
    refused = clerk_http.send("POST", f"{utko_url}/v1/objects", name="file", json=obj)
    assert refused.status == 403 and "read-only" in refused.json()["detail"]
    assert clerk_http.send("GET", f"{utko_url}/v1/objects", name="read").status == 200  # reading is allowed
    roles = admin_http.send("GET", f"{utko_url}/account/roles", name="roles")
    assert f'name="oid" value="{clerk.oid}"' in roles.text
    assert _post(admin_http, f"{utko_url}/account/roles", {"oid": str(clerk.oid), "role": "filer"}).status == 303
    filed = clerk_http.send("POST", f"{utko_url}/v1/objects", name="file", json=obj)
    assert filed.status == 201, filed.text
    rows = accounts.open_list(clerk_http, utko_url)
    assert [row[0] for row in rows] == [obj["name"]]


def test_an_administrator_cannot_give_a_role_to_someone_outside_the_organisation(gosstand_inprocess, control):
    stack = gosstand_inprocess
    utko_url = stack.urls["utko"]
    boss, stranger = seed_person(control, seed=60), seed_person(control, seed=61)
    firm = seed_organisation(control, seed=62, employees=[{"oid": boss.oid, "role": "administrator"}])
    admin_http, _ = _acting_for(stack, control, boss, firm)
    accounts.register_organisation(admin_http, utko_url, firm["inn"])
    answer = _post(admin_http, f"{utko_url}/account/roles", {"oid": str(stranger.oid), "role": "filer"})
    assert answer.status == 422


def _freeze(stack, service: str) -> float:
    answer = httpx.post(f"{stack.urls[service]}/_gosstand/control/clock", json={"freeze": True},
                        headers={"Authorization": f"Bearer {stack.control_token}"})
    return float(answer.json()["now"])
