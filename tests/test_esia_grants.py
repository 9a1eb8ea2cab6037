"""Grants beyond the code exchange: client_credentials for organisation data, the strict
``te`` state option, and refresh tokens that only offline access may redeem."""

from __future__ import annotations

import pytest
from esia_stand import ESIA, REDIRECT, make_stand
from gosstand.scenarios import esia_login
from gosstand.scenarios.esia_login import EsiaJourneyError

ORG = {
    "fullName": "Акционерное общество «Север»",
    "shortName": "АО «Север»",
    "ogrn": "1027700132195",
    "inn": "7707083893",
    "kpp": "770701001",
    "type": "LEGAL",
}
PREFIX = "http://esia.gosuslugi.ru/"


@pytest.fixture
def stand(service_client, control_headers):
    return make_stand(service_client, control_headers)


def org_scope(org_oid: int, *names: str) -> str:
    return " ".join(f"{PREFIX}{name}?org_oid={org_oid}" for name in names)


def test_client_credentials_reads_the_organisation_its_scopes_name(stand):
    clerk = stand.seed()
    org = stand.control.create_organisation(**ORG, employees=[{"oid": clerk, "role": "employee"}])
    token = esia_login.organisation_token(
        stand.http, esia_url=ESIA, rp=stand.rp, scope=org_scope(org["oid"], "org_shortname", "org_inn", "org_emps")
    )
    assert token.expires_in == 3600
    claims = esia_login.jwt_claims(token.access_token)
    assert claims["urn:esia:sbj_id"] == org["oid"] and f"org_inn?org_oid={org['oid']}" in claims["scope"]
    data = stand.get(f"/rs/orgs/{org['oid']}", token.access_token).json()
    assert data["shortName"] == "АО «Север»" and data["inn"] == ORG["inn"]
    assert "ogrn" not in data and "fullName" not in data  # org_ogrn / org_fullname not asked
    emps = stand.get(f"/rs/orgs/{org['oid']}/emps", token.access_token).json()
    assert emps["elements"] == [f"{ESIA}/rs/orgs/{org['oid']}/emps/{clerk}"]
    # The organisation's token opens no person data and no other organisation.
    assert stand.get(f"/rs/prns/{clerk}", token.access_token).json()["code"] == "ESIA-005029"
    other = stand.control.create_organisation(**{**ORG, "fullName": "Другое"})
    assert stand.get(f"/rs/orgs/{other['oid']}", token.access_token).status == 403
    raw = stand.te(stand.rp.client_credentials_form(org_scope(org["oid"], "org_fullname"))).json()
    assert set(raw) == {"access_token", "state", "token_type", "expires_in"}  # no person, no refresh


@pytest.mark.parametrize(
    ("scope", "code"),
    [
        ("openid fullname", "ESIA-007006"),  # person scopes are not for client_credentials
        (f"{PREFIX}org_unknown?org_oid=1", "ESIA-007006"),
        (f"{PREFIX}org_inn", "ESIA-007006"),  # no organisation named
        (f"{PREFIX}org_inn?org_oid=1 {PREFIX}org_kpp?org_oid=2", "ESIA-007006"),
        (f"{PREFIX}org_inn?org_oid=999999", "ESIA-007019"),  # unknown organisation
    ],
)
def test_client_credentials_refusals(stand, scope, code):
    answer = stand.te(stand.rp.client_credentials_form(scope))
    assert answer.status == 400 and answer.json()["error_description"].startswith(code)


def test_client_credentials_respects_the_registration(stand):
    org = stand.control.create_organisation(**ORG)
    limited = stand.party("LIMITED", scopes=["openid", "org_inn"], organisations=[org["oid"] + 1])
    denied = stand.te(limited.client_credentials_form(org_scope(org["oid"], "org_inn")))
    assert denied.json()["error_description"].startswith("ESIA-007019")
    not_registered = stand.te(limited.client_credentials_form(org_scope(org["oid"], "org_kpp")))
    assert not_registered.json()["error_description"].startswith("ESIA-007006")


def test_strict_state_refuses_the_ac_state_at_te(stand):
    oid = stand.seed()
    strict = stand.party("STRICTSYS", strict_state=True)
    for rp, reuse_allowed in ((stand.rp, True), (strict, False)):
        params = rp.authorization_params("openid fullname")
        stand.http._client.cookies.clear()
        code = (
            esia_login.authorize(
                stand.http,
                esia_url=ESIA,
                rp=rp,
                login=stand.phones[oid],
                password="Pa55word!",
                read_sms=stand.control.read_sms,
            )
            if False
            else None
        )
        answer = stand.ac(params)
        rid = answer.location.split("rid=")[1]
        stand.http.send(
            "POST",
            f"{ESIA}/aas/oauth2/login",
            name="l",
            data={"rid": rid, "login": stand.phones[oid], "password": "Pa55word!"},
        )
        sent = stand.http.send(
            "POST",
            f"{ESIA}/aas/oauth2/otp",
            name="o",
            data={"rid": rid, "code": stand.control.read_sms(stand.phones[oid])},
        )
        while "/aas/oauth2/consent" in (sent.location or ""):  # accept the consent page, if any
            crid = sent.location.split("rid=")[1]
            sent = stand.http.send(
                "POST", f"{ESIA}/aas/oauth2/consent", name="c", data={"rid": crid, "decision": "allow"}
            )
        code = esia_login._query(sent.location)["code"]
        answer = stand.te(rp.token_form(code, "openid fullname", state=params["state"]))
        if reuse_allowed:
            assert answer.status == 200
        else:
            assert answer.status == 400 and answer.json()["error_description"].startswith("ESIA-007003")


def test_only_offline_access_may_refresh(stand):
    oid = stand.seed()
    online = stand.login(oid, access_type="online")
    with pytest.raises(EsiaJourneyError) as refused:
        esia_login.refresh(stand.http, esia_url=ESIA, rp=stand.rp, refresh_token=online.refresh_token)
    assert refused.value.esia_code == "ESIA-007011" and "offline" in refused.value.description
    offline = stand.login(oid, access_type="offline")
    renewed = esia_login.refresh(stand.http, esia_url=ESIA, rp=stand.rp, refresh_token=offline.refresh_token)
    again = esia_login.refresh(stand.http, esia_url=ESIA, rp=stand.rp, refresh_token=renewed.refresh_token)
    assert again.oid == oid and again.refresh_token != renewed.refresh_token
    assert REDIRECT  # the stand's client


def test_withdrawing_a_clients_access_revokes_the_refresh_tokens_of_earlier_logins(stand):
    oid = stand.seed()
    earlier = stand.login(oid, access_type="offline")
    stand.control.withdraw_consent(oid, "TESTSYS")
    with pytest.raises(EsiaJourneyError) as refused:
        esia_login.refresh(stand.http, esia_url=ESIA, rp=stand.rp, refresh_token=earlier.refresh_token)
    assert refused.value.esia_code == "ESIA-007011" and "withdrew" in refused.value.description
    stand.control.advance_clock("esia", 1)  # a later login is the person's new permission
    later = stand.login(oid, access_type="offline")
    assert esia_login.refresh(stand.http, esia_url=ESIA, rp=stand.rp, refresh_token=later.refresh_token).oid == oid
    for path in (f"/users/{oid}/consents/NOSUCHCLIENT", "/users/999999999/consents/TESTSYS"):
        answer = stand.http.send("DELETE", f"{ESIA}/_gosstand/control{path}", name="withdraw",
                                 headers=stand.control._headers)
        assert answer.status == 404
