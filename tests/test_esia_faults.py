"""Failure switches per client system or per person (control API ``PATCH``), each seen by the
reference client the way a relying party would meet it in production."""

from __future__ import annotations

import pytest
from esia_stand import ESIA, make_stand
from gosstand.scenarios import esia_login
from gosstand.scenarios.control import ControlError
from gosstand.scenarios.esia_login import EsiaJourneyError

ISSUER = "http://esia-portal1.test.gosuslugi.ru/"


@pytest.fixture
def stand(service_client, control_headers):
    return make_stand(service_client, control_headers)


def certificate(stand) -> bytes:
    return stand.http.send("GET", f"{ESIA}/_gosstand/esia/cert.pem", name="cert").body


def verify(stand, tokens) -> dict:
    return esia_login.verify_tokens(
        tokens, certificate_pem=certificate(stand), issuer=ISSUER, now=stand.control.now("esia")
    )


def test_healthy_tokens_pass_the_reference_checks(stand):
    oid = stand.seed()
    claims = verify(stand, stand.login(oid))
    assert claims["urn:esia:sbj"]["urn:esia:sbj:oid"] == oid


@pytest.mark.parametrize(
    ("fault", "complaint"),
    [("expired_tokens", "not valid now"), ("premature_tokens", "not valid now"), ("wrong_issuer", "issuer"),
     ("tampered_signature", "Signature")],
)
@pytest.mark.parametrize("scope", ["client", "user"])
def test_spoiled_tokens_are_caught_by_the_client_and_refused_by_rs(stand, fault, complaint, scope):
    oid = stand.seed()
    if scope == "client":
        stand.control.set_client_faults("TESTSYS", **{fault: True})
    else:
        stand.control.set_user_faults(oid, **{fault: True})
    tokens = stand.login(oid)
    with pytest.raises(EsiaJourneyError) as caught:
        verify(stand, tokens)
    assert complaint.lower() in str(caught.value).lower()
    with pytest.raises(EsiaJourneyError) as refused:
        esia_login.person(stand.http, esia_url=ESIA, tokens=tokens)
    assert refused.value.status == 401
    # Switched off, the next login is healthy again.
    if scope == "client":
        stand.control.set_client_faults("TESTSYS", **{fault: False})
    else:
        stand.control.set_user_faults(oid, **{fault: False})
    verify(stand, stand.login(oid))


def test_overload_of_a_client_answers_007008_at_ac_and_te(stand):
    oid = stand.seed()
    code = esia_login.authorize(
        stand.http,
        esia_url=ESIA,
        rp=stand.rp,
        login=stand.phones[oid],
        password="Pa55word!",
        read_sms=stand.control.read_sms,
    )
    stand.control.set_client_faults("TESTSYS", overload=True)
    with pytest.raises(EsiaJourneyError) as at_te:
        esia_login.exchange(stand.http, esia_url=ESIA, rp=stand.rp, code=code)
    assert at_te.value.status == 503 and at_te.value.esia_code == "ESIA-007008"
    assert at_te.value.error == "temporarily_unavailable"
    with pytest.raises(EsiaJourneyError) as at_ac:
        stand.login(oid)
    assert at_ac.value.step == "esia: ac" and at_ac.value.esia_code == "ESIA-007008"


def test_overload_for_a_while_ends_on_the_mock_clock(stand):
    oid = stand.seed()
    stand.control.set_user_faults(oid, overload=True, for_seconds=120)
    with pytest.raises(EsiaJourneyError) as refused:
        stand.login(oid)
    assert refused.value.esia_code == "ESIA-007008" and refused.value.step == "esia: otp"
    stand.control.advance_clock("esia", 121)
    assert stand.login(oid).oid == oid


def test_denied_consent_is_007004_for_the_user_or_the_client(stand):
    oid, other = stand.seed(), stand.seed()
    stand.control.set_user_faults(oid, deny_consent=True)
    with pytest.raises(EsiaJourneyError) as denied:
        stand.login(oid)
    assert denied.value.esia_code == "ESIA-007004" and denied.value.error == "access_denied"
    assert stand.login(other).oid == other  # another person is not affected
    stand.control.set_client_faults("TESTSYS", deny_consent=True)
    with pytest.raises(EsiaJourneyError) as by_client:
        stand.login(other)
    assert by_client.value.esia_code == "ESIA-007004"


def test_fault_switches_are_validated(stand):
    with pytest.raises(ControlError) as unknown:
        stand.control.set_client_faults("TESTSYS", melt_down=True)
    assert unknown.value.status == 422
    with pytest.raises(ControlError) as missing:
        stand.control.set_client_faults("NOSUCH", overload=True)
    assert missing.value.status == 404
    record = stand.control.set_client_faults("TESTSYS", overload=True, wrong_issuer=True)
    assert record["faults"] == ["overload", "wrong_issuer"]
    assert stand.control.set_client_faults("TESTSYS", overload=False)["faults"] == ["wrong_issuer"]
