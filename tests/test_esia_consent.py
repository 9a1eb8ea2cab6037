"""The consent page: the person sees, in Russian, which data the client asks for, and allows
(remembered per client and scopes) or denies (ESIA-007004 back to the client)."""

from __future__ import annotations

import pytest
from esia_stand import ESIA, PASSWORD, make_stand
from gosstand.scenarios import esia_login
from gosstand.scenarios.esia_login import EsiaJourneyError


@pytest.fixture
def stand(service_client, control_headers):
    return make_stand(service_client, control_headers)


def to_consent(stand, oid: int, scope: str, rp=None):
    """Log in up to the point where ESIA answers after the SMS code; returns (params, answer)."""
    rp = rp or stand.rp
    stand.http._client.cookies.clear()
    params = rp.authorization_params(scope)
    rid = stand.ac(params).location.split("rid=")[1]
    stand.http.send(
        "POST",
        f"{ESIA}/aas/oauth2/login",
        name="l",
        data={"rid": rid, "login": stand.phones[oid], "password": PASSWORD},
    )
    answer = stand.http.send(
        "POST", f"{ESIA}/aas/oauth2/otp", name="o", data={"rid": rid, "code": stand.control.read_sms(stand.phones[oid])}
    )
    return params, answer


def test_the_page_lists_the_requested_data_in_russian(stand):
    oid = stand.seed()
    _, answer = to_consent(stand, oid, "openid fullname snils mobile")
    assert answer.status == 302 and "/aas/oauth2/consent?rid=" in answer.location
    page = stand.http.send("GET", answer.location, name="consent form")
    assert page.status == 200 and "TESTSYS" in page.text
    for title in ("Фамилия, имя, отчество", "СНИЛС", "Номер мобильного телефона"):
        assert f"<li>{title}</li>" in page.text
    assert 'value="allow"' in page.text and 'value="deny"' in page.text


def test_deny_goes_back_with_007004(stand):
    oid = stand.seed()
    params, answer = to_consent(stand, oid, "openid fullname")
    with pytest.raises(EsiaJourneyError) as denied:
        esia_login.consent(
            stand.http, esia_url=ESIA, rp=stand.rp, location=answer.location, state=params["state"], decision="deny"
        )
    assert denied.value.esia_code == "ESIA-007004" and denied.value.error == "access_denied"
    # A consent request is single use.
    again = stand.http.send(
        "POST",
        f"{ESIA}/aas/oauth2/consent",
        name="c",
        data={"rid": answer.location.split("rid=")[1], "decision": "allow"},
    )
    assert again.status == 400


def test_consent_is_remembered_until_new_data_is_asked_for(stand):
    oid = stand.seed()
    _, first = to_consent(stand, oid, "openid fullname snils")
    assert "/aas/oauth2/consent" in first.location
    stand.http.send(
        "POST",
        f"{ESIA}/aas/oauth2/consent",
        name="c",
        data={"rid": first.location.split("rid=")[1], "decision": "allow"},
    )
    _, second = to_consent(stand, oid, "openid snils")  # a subset: no page
    assert second.location.startswith("https://rp.example/") and "code=" in second.location
    _, third = to_consent(stand, oid, "openid snils inn")  # inn is new
    assert "/aas/oauth2/consent" in third.location
    _, bare = to_consent(stand, stand.seed(), "openid")  # no data, nothing to consent to
    assert "code=" in bare.location


def test_consent_modes_always_and_never(stand):
    oid = stand.seed()
    always, never = stand.party("ALWAYSSYS", consent="always"), stand.party("NEVERSYS", consent="never")
    for _ in range(2):
        _, answer = to_consent(stand, oid, "openid fullname", rp=always)
        assert "/aas/oauth2/consent" in answer.location
        stand.http.send(
            "POST",
            f"{ESIA}/aas/oauth2/consent",
            name="c",
            data={"rid": answer.location.split("rid=")[1], "decision": "allow"},
        )
    _, answer = to_consent(stand, oid, "openid fullname", rp=never)
    assert "code=" in answer.location


def test_an_sso_session_still_asks_for_new_data(stand):
    oid = stand.seed()
    stand.login(oid, "openid fullname")  # consents to fullname, keeps the SSO cookie
    params = stand.rp.authorization_params("openid fullname birthdate")
    answer = stand.ac(params)
    assert "/aas/oauth2/consent" in answer.location
    code = esia_login.consent(stand.http, esia_url=ESIA, rp=stand.rp, location=answer.location, state=params["state"])
    tokens = esia_login.exchange(stand.http, esia_url=ESIA, rp=stand.rp, code=code, scope="openid fullname birthdate")
    assert tokens.oid == oid


def test_a_wrong_or_missing_decision_is_a_page_not_a_crash(stand):
    for data in ({"rid": "nope", "decision": "allow"}, {"rid": "x" * 200}, {}):
        answer = stand.http.send("POST", f"{ESIA}/aas/oauth2/consent", name="c", data=data)
        assert answer.status == 400 and "text/html" in answer.headers["content-type"]
    assert stand.http.send("GET", f"{ESIA}/aas/oauth2/consent?rid=unknown", name="c").status == 400
