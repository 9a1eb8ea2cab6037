"""ESIA's sign-in with an electronic signature, judged on the target's ESIA: a qualified
certificate of a known person signs them in at the confirmed level, and each certificate ESIA
must not accept is refused with its own code — expired, revoked, not qualified, of someone ESIA
has no account for, naming another INN than the account's, or naming an organisation that no
longer employs the person.

Certificates come from the target's test CA through its control API (``--control-token``);
the challenge is signed by the reference client's GOST signer. Without the control API, or
without GOST on this machine, the rules skip and say why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from gosstand.conformance.suite_esia import SeededPerson, SuiteEsia
from gosstand.conformance.targets import Target, TargetUnavailable
from gosstand.scenarios import esia_login
from gosstand.scenarios.esia_login import EsiaJourneyError
from gosstand.scenarios.gost import cms_signer, gost_ready
from gosstand.scenarios.http import HttpxClient
from gosstand.scenarios.identities import russian_faker

pytestmark = pytest.mark.behaviour

SCOPE = "openid fullname snils"


@pytest.fixture(scope="module")
def suite_esia(gosstand_target: Target) -> SuiteEsia:
    if (reason := gost_ready()) is not None:
        pytest.skip(f"signing GOST needs the gost engine here: {reason}")
    try:
        return SuiteEsia(gosstand_target)
    except TargetUnavailable as exc:
        pytest.skip(str(exc))


def _signer(issued: dict[str, Any]) -> Callable[[bytes], bytes]:
    return cms_signer(issued["certificate"], issued["private_key"])


def _sign_in(suite_esia: SuiteEsia, sign: Callable[[bytes], bytes]) -> esia_login.TokenSet:
    with HttpxClient() as http:  # a fresh browser: no SSO session
        return esia_login.login_with_signature(http, esia_url=suite_esia.esia_url, rp=suite_esia.relying_party(),
                                               sign=sign, scope=SCOPE)


def _refusal(suite_esia: SuiteEsia, sign: Callable[[bytes], bytes]) -> str | None:
    with pytest.raises(EsiaJourneyError) as refused:
        _sign_in(suite_esia, sign)
    assert refused.value.step == "esia: signature", f"refused at {refused.value.step}, not on the signature page"
    return refused.value.esia_code


def _standard_person(suite_esia: SuiteEsia) -> SeededPerson:
    person = suite_esia.seed_person()
    suite_esia.control.update_user(person.oid, level="standard")
    return person


def test_a_qualified_certificate_signs_its_holder_in_at_the_confirmed_level(suite_esia: SuiteEsia) -> None:
    person = _standard_person(suite_esia)
    tokens = _sign_in(suite_esia, _signer(suite_esia.control.issue_certificate(person.oid)))
    claims = esia_login.jwt_claims(tokens.id_token)
    assert tokens.oid == person.oid
    assert claims["amr"] == "DS", "the ID token names the electronic signature as the way in"
    assert claims["urn:esia:sbj"]["urn:esia:sbj:is_tru"] is True, "a qualified signature confirms the account"
    assert suite_esia.control.user(person.oid)["level"] == "confirmed"


def test_a_password_login_of_a_standard_account_is_not_trusted(suite_esia: SuiteEsia) -> None:
    person = _standard_person(suite_esia)
    claims = esia_login.jwt_claims(suite_esia.log_in(person, scopes=("openid", "fullname")).id_token)
    assert claims["urn:esia:sbj"]["urn:esia:sbj:is_tru"] is False, "is_tru says the account is confirmed"


@pytest.mark.parametrize("options, code", [
    ({"expired": True}, "ESIA-008007"),
    ({"qualified": False}, "ESIA-008009"),
], ids=["expired", "not-qualified"])
def test_a_certificate_esia_must_not_accept_is_refused_with_its_code(
        suite_esia: SuiteEsia, options: dict[str, Any], code: str) -> None:
    person = suite_esia.seed_person()
    assert _refusal(suite_esia, _signer(suite_esia.control.issue_certificate(person.oid, **options))) == code


def test_a_revoked_certificate_is_refused(suite_esia: SuiteEsia) -> None:
    person = suite_esia.seed_person()
    issued = suite_esia.control.issue_certificate(person.oid)
    suite_esia.control.revoke_certificate(issued["serial"])
    assert _refusal(suite_esia, _signer(issued)) == "ESIA-008008"


def test_a_holder_without_an_account_and_a_certificate_with_another_inn_are_refused(suite_esia: SuiteEsia) -> None:
    person = suite_esia.seed_person()
    record = person.record
    other_inn = next(inn for inn in (russian_faker(seed=n).inn_person() for n in range(5)) if inn != record["inn"])
    stranger = russian_faker(seed=person.oid % 100_000 + 7).person_record()
    unknown = suite_esia.control.issue_certificate(None, holder={
        "lastName": stranger["lastName"], "firstName": stranger["firstName"], "snils": stranger["snils"]})
    assert _refusal(suite_esia, _signer(unknown)) == "ESIA-008010"
    wrong_inn = suite_esia.control.issue_certificate(None, holder={
        "lastName": record["lastName"], "firstName": record["firstName"], "snils": record["snils"], "inn": other_inn})
    assert _refusal(suite_esia, _signer(wrong_inn)) == "ESIA-008011"


def test_an_employees_certificate_is_refused_once_the_organisation_lets_them_go(suite_esia: SuiteEsia) -> None:
    person = suite_esia.seed_person()
    organisation = suite_esia.seed_organisation(person)
    sign = _signer(suite_esia.control.issue_certificate(person.oid, org_oid=organisation["oid"]))
    assert _sign_in(suite_esia, sign).oid == person.oid
    suite_esia.control.remove_employee(organisation["oid"], person.oid)
    assert _refusal(suite_esia, sign) == "ESIA-008012"
