"""Second factor by TOTP (RFC 6238) instead of SMS, per person; the reference client computes
the code itself from the seeded secret, at the mock's time."""

from __future__ import annotations

import pytest
from esia_stand import make_stand
from gosstand.scenarios.authenticator import totp
from gosstand.scenarios.esia_login import EsiaJourneyError

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture
def stand(service_client, control_headers):
    return make_stand(service_client, control_headers)


def test_rfc6238_reference_vector():
    # RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits) → last six digits.
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of "12345678901234567890"
    assert totp(secret, 59) == "287082"
    assert totp(secret, 1111111109) == "081804"


def test_login_with_an_authenticator_sends_no_sms(stand):
    oid = stand.seed(second_factor="totp", totp_secret=SECRET)
    phone = stand.phones[oid]
    tokens = stand.login(oid, read_sms=lambda _: totp(SECRET, stand.control.now("esia")))
    assert tokens.oid == oid
    assert stand.control.sms_messages(phone) == []


def test_a_generated_secret_is_shown_to_the_tester(stand):
    oid = stand.seed(second_factor="totp")
    secret = stand.control.user(oid)["second_factor"]["totp_secret"]
    assert stand.login(oid, read_sms=lambda _: totp(secret, stand.control.now("esia"))).oid == oid


def test_a_stale_or_replayed_code_is_refused(stand):
    oid = stand.seed(second_factor="totp", totp_secret=SECRET)
    now = stand.control.now("esia")
    with pytest.raises(EsiaJourneyError) as stale:
        stand.login(oid, read_sms=lambda _: totp(SECRET, now - 120))  # four steps ago
    assert stale.value.step == "esia: otp" and "Неверный код" in str(stale.value)
    used = totp(SECRET, stand.control.now("esia"))
    stand.login(oid, read_sms=lambda _: used)
    with pytest.raises(EsiaJourneyError) as replayed:
        stand.login(oid, read_sms=lambda _: used)
    assert replayed.value.step == "esia: otp"
    stand.control.advance_clock("esia", 30)  # the next time step has a fresh code
    assert stand.login(oid, read_sms=lambda _: totp(SECRET, stand.control.now("esia"))).oid == oid


def test_switching_the_second_factor(stand):
    oid = stand.seed()
    stand.control.update_user(oid, second_factor="totp", totp_secret=SECRET)
    assert stand.login(oid, read_sms=lambda _: totp(SECRET, stand.control.now("esia"))).oid == oid
    stand.control.update_user(oid, second_factor="sms")
    assert stand.login(oid).oid == oid  # back to the SMS code
