"""ESIA login with an electronic signature, through the HTTP flow: the stand's test CA issues a
qualified certificate to a seeded person (control API), the login page shows a challenge, and
the OpenSSL command line with the gost engine — a signer that shares no code with the mock —
signs it as a detached CMS. Each refusal has its own ESIA code.
"""

from __future__ import annotations

import base64
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import pytest
from asn1crypto import x509
from esia_stand import ESIA, Stand, make_stand, new_snils
from gosstand.scenarios import esia_login
from gosstand.scenarios.esia_login import EsiaJourneyError, jwt_claims
from gosstand.scenarios.gost import cms_signer, gost_ready
from gosstand.scenarios.identities import russian_faker
from openssl_signer import OPENSSL, OpensslSigner, openssl_gost_missing

pytestmark = pytest.mark.skipif(bool(gost_ready() or openssl_gost_missing()),
                                reason=str(gost_ready() or openssl_gost_missing()))

SCOPE = "openid fullname snils"


@pytest.fixture
def stand(service_client, control_headers) -> Stand:
    return make_stand(service_client, control_headers)


@pytest.fixture
def openssl(tmp_path: Path) -> OpensslSigner:
    return OpensslSigner(tmp_path)


def _login(stand: Stand, sign: Callable[[bytes], bytes], **options) -> esia_login.TokenSet:
    stand.http._client.cookies.clear()  # type: ignore[attr-defined]  # a fresh browser, no SSO session
    return esia_login.login_with_signature(stand.http, esia_url=ESIA, rp=stand.rp, sign=sign, scope=SCOPE, **options)


def _refusal(stand: Stand, sign: Callable[[bytes], bytes], **options) -> str | None:
    with pytest.raises(EsiaJourneyError) as refused:
        _login(stand, sign, **options)
    assert refused.value.step == "esia: signature"
    return refused.value.esia_code


def _standard_person(stand: Stand) -> int:
    oid = stand.seed()
    stand.control.update_user(oid, level="standard")
    return oid


def test_signature_login_signs_a_standard_person_in_at_the_confirmed_level(stand, openssl):
    oid = _standard_person(stand)
    issued = stand.control.issue_certificate(oid)
    tokens = _login(stand, openssl(issued["certificate"], issued["private_key"]))
    claims = jwt_claims(tokens.id_token)
    assert (tokens.oid, claims["amr"], claims["urn:esia:amd"]) == (oid, "DS", "DS")
    person = esia_login.person(stand.http, esia_url=ESIA, tokens=tokens)
    assert person["trusted"] is True
    assert stand.control.user(oid)["level"] == "confirmed"
    stand.http._client.cookies.clear()  # type: ignore[attr-defined]
    # the password page offers the signature beside the password
    params = stand.rp.authorization_params(SCOPE)
    login_page = stand.http.send("GET", stand.ac(params).location or "", name="login form")
    assert "Электронная подпись" in login_page.text and "/aas/oauth2/signature?rid=" in login_page.text


def test_a_512_bit_key_and_the_reference_clients_signer_sign_in_too(stand):
    oid = _standard_person(stand)
    issued = stand.control.issue_certificate(oid, bits=512)
    tokens = _login(stand, cms_signer(issued["certificate"], issued["private_key"]))
    assert tokens.oid == oid


def test_an_employees_certificate_names_the_organisation_and_signs_in(stand, openssl):
    oid = stand.seed()
    org = stand.control.create_organisation(fullName="ООО «Ромашка»", shortName="ООО «Ромашка»", ogrn="1027700132195",
                                            inn="7707083893", kpp="770701001", type="LEGAL")
    stand.control.add_employee(org["oid"], oid, role="administrator", chief=True)
    issued = stand.control.issue_certificate(oid, org_oid=org["oid"])
    certificate = x509.Certificate.load(base64.b64decode("".join(issued["certificate"].splitlines()[1:-1])))
    subject = {pair["type"].dotted: pair["value"].native for rdn in certificate.subject.chosen for pair in rdn}
    snils = re.sub(r"\D", "", stand.control.user(oid)["person"]["snils"])
    assert subject["1.2.643.100.3"] == snils and subject["1.2.643.3.131.1.1"] == "500500123491"
    assert (subject["1.2.643.100.1"], subject["1.2.643.100.4"]) == ("1027700132195", "7707083893")
    extensions = {extension["extn_id"].dotted: extension for extension in certificate["tbs_certificate"]["extensions"]}
    assert {"1.2.643.100.111", "1.2.643.100.112"} <= set(extensions)
    policies = [policy["policy_identifier"].dotted for policy in extensions["2.5.29.32"]["extn_value"].parsed]
    assert policies == ["1.2.643.100.113.1"]
    assert _login(stand, openssl(issued["certificate"], issued["private_key"])).oid == oid


def _is_tru(tokens: esia_login.TokenSet) -> object:
    return jwt_claims(tokens.id_token)["urn:esia:sbj"]["urn:esia:sbj:is_tru"]


def test_the_id_token_says_whether_the_account_is_confirmed_and_a_signature_confirms_it(stand, openssl):
    oid = _standard_person(stand)
    assert _is_tru(stand.login(oid)) is False  # password and SMS code: a standard account stays standard
    issued = stand.control.issue_certificate(oid)
    assert _is_tru(_login(stand, openssl(issued["certificate"], issued["private_key"]))) is True
    assert _is_tru(stand.login(oid)) is True  # confirmed from then on, whichever way in


def test_an_employees_certificate_stops_signing_in_once_the_organisation_no_longer_employs_them(stand, openssl):
    oid = stand.seed()
    org = stand.control.create_organisation(fullName="ООО «Ландыш»", shortName="ООО «Ландыш»", ogrn="1027700132195",
                                            inn="7707083893", kpp="770701001", type="LEGAL")
    stand.control.add_employee(org["oid"], oid, role="employee")
    issued = stand.control.issue_certificate(oid, org_oid=org["oid"])
    sign = openssl(issued["certificate"], issued["private_key"])
    assert _login(stand, sign).oid == oid
    stand.control.remove_employee(org["oid"], oid)
    assert _refusal(stand, sign) == "ESIA-008012"
    personal = stand.control.issue_certificate(oid)  # their own certificate still signs them in
    assert _login(stand, openssl(personal["certificate"], personal["private_key"])).oid == oid


def test_a_certificate_whose_inn_is_not_the_accounts_is_refused(stand, openssl):
    oid = stand.seed()
    account = stand.control.user(oid)["person"]
    other_inn = next(inn for inn in (russian_faker(seed=n).inn_person() for n in range(5)) if inn != account["inn"])
    issued = stand.control.issue_certificate(None, holder={
        "lastName": account["lastName"], "firstName": account["firstName"], "snils": account["snils"],
        "inn": other_inn})
    assert _refusal(stand, openssl(issued["certificate"], issued["private_key"])) == "ESIA-008011"


def test_openssl_verifies_the_issued_certificate_against_the_published_ca_root(stand, tmp_path):
    issued = stand.control.issue_certificate(stand.seed())
    root = stand.get("/_gosstand/esia/ca.pem", None)
    assert root.status == 200 and root.text == issued["ca_certificate"]
    (tmp_path / "ca.pem").write_text(root.text)
    (tmp_path / "cert.pem").write_text(issued["certificate"])
    checked = subprocess.run([OPENSSL, "verify", "-engine", "gost", "-CAfile", str(tmp_path / "ca.pem"),
                              str(tmp_path / "cert.pem")], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr


def test_the_published_crl_lists_a_revoked_certificate_for_openssl(stand, tmp_path):
    oid = stand.seed()
    kept, revoked = stand.control.issue_certificate(oid), stand.control.issue_certificate(oid)
    stand.control.revoke_certificate(revoked["serial"])
    (tmp_path / "ca.pem").write_text(kept["ca_certificate"])
    crl = stand.get("/_gosstand/esia/ca.crl", None)
    assert crl.status == 200 and crl.headers["content-type"] == "application/pkix-crl"
    (tmp_path / "ca.der").write_bytes(crl.body)
    subprocess.run([OPENSSL, "crl", "-inform", "DER", "-in", str(tmp_path / "ca.der"),
                    "-out", str(tmp_path / "ca.crl")], capture_output=True, check=True)
    verdicts = {}
    for name, issued in (("kept", kept), ("revoked", revoked)):
        (tmp_path / f"{name}.pem").write_text(issued["certificate"])
        verdicts[name] = subprocess.run(
            [OPENSSL, "verify", "-engine", "gost", "-crl_check", "-CAfile", str(tmp_path / "ca.pem"),
             "-CRLfile", str(tmp_path / "ca.crl"), str(tmp_path / f"{name}.pem")],
            capture_output=True, text=True, check=False)
    assert verdicts["kept"].returncode == 0, verdicts["kept"].stdout + verdicts["kept"].stderr
    assert verdicts["revoked"].returncode != 0 and "revoked" in verdicts["revoked"].stdout + verdicts["revoked"].stderr


def test_expired_revoked_and_unqualified_certificates_are_refused_each_with_its_code(stand, openssl):
    oid = _standard_person(stand)
    expired = stand.control.issue_certificate(oid, expired=True)
    assert _refusal(stand, openssl(expired["certificate"], expired["private_key"])) == "ESIA-008007"
    revoked = stand.control.issue_certificate(oid)
    stand.control.revoke_certificate(revoked["serial"])
    assert _refusal(stand, openssl(revoked["certificate"], revoked["private_key"])) == "ESIA-008008"
    unqualified = stand.control.issue_certificate(oid, qualified=False)
    assert _refusal(stand, openssl(unqualified["certificate"], unqualified["private_key"])) == "ESIA-008009"
    assert stand.control.user(oid)["level"] == "standard"  # no refused attempt confirmed anyone


def test_a_certificate_expires_on_the_stands_clock(stand, openssl):
    oid = stand.seed()
    issued = stand.control.issue_certificate(oid, days=1)
    sign = openssl(issued["certificate"], issued["private_key"])
    assert _login(stand, sign).oid == oid
    stand.control.advance_clock("esia", 2 * 86_400)
    assert _refusal(stand, sign) == "ESIA-008007"


def test_a_certificate_that_signed_in_before_is_refused_once_revoked(stand, openssl):
    """What ESIA remembers of a certificate (its reading, the CA's signature on it) never
    outlives a revocation: the list is asked at every login."""
    oid = stand.seed()
    issued = stand.control.issue_certificate(oid)
    sign = openssl(issued["certificate"], issued["private_key"])
    assert _login(stand, sign).oid == oid
    assert _login(stand, sign).oid == oid
    stand.control.revoke_certificate(issued["serial"])
    assert _refusal(stand, sign) == "ESIA-008008"


def test_a_foreign_ca_and_a_holder_esia_does_not_know_are_refused(stand, openssl, tmp_path):
    oid = stand.seed()
    snils = re.sub(r"\D", "", stand.control.user(oid)["person"]["snils"])
    key, cert = tmp_path / "foreign.key", tmp_path / "foreign.pem"
    subprocess.run([OPENSSL, "genpkey", "-engine", "gost", "-algorithm", "gost2012_256", "-pkeyopt", "paramset:A",
                    "-out", str(key)], capture_output=True, check=True)
    subprocess.run([OPENSSL, "req", "-engine", "gost", "-new", "-x509", "-key", str(key), "-days", "30",
                    "-subj", f"/C=RU/CN=Foreign holder/SNILS={snils}/INN=500500123491",
                    "-addext", "certificatePolicies=1.2.643.100.113.1",
                    "-addext", "subjectSignTool=ASN1:UTF8String:tool", "-out", str(cert)],
                   capture_output=True, check=True)
    assert _refusal(stand, openssl(cert.read_text(), key.read_text())) == "ESIA-008006"
    stranger = stand.control.issue_certificate(
        None, holder={"lastName": "Сидоров", "firstName": "Пётр", "snils": new_snils(), "inn": "500500123491"})
    assert _refusal(stand, openssl(stranger["certificate"], stranger["private_key"])) == "ESIA-008010"


def _rid(stand: Stand) -> str:
    stand.http._client.cookies.clear()  # type: ignore[attr-defined]
    location = stand.ac(stand.rp.authorization_params(SCOPE)).location or ""
    return location.split("rid=", 1)[1]


def _challenge(stand: Stand, rid: str) -> str:
    page = stand.http.send("GET", f"{ESIA}/aas/oauth2/signature?rid={rid}", name="signature form")
    found = re.search(r'<code id="challenge">([^<]+)</code>', page.text)
    assert page.status == 200 and found
    return found.group(1)


def _submit(stand: Stand, rid: str, signature: bytes, certificate: str = ""):
    form = {"rid": rid, "signature": base64.b64encode(signature).decode(), "certificate": certificate}
    return stand.http.send("POST", f"{ESIA}/aas/oauth2/signature", name="signature", data=form)


def _code(answer) -> str | None:
    found = re.search(r'role="alert">(ESIA-\d{6})', answer.text)
    return found.group(1) if found else None


def test_a_challenge_is_single_use_and_a_signature_of_another_string_is_refused(stand, openssl):
    oid = stand.seed()
    issued = stand.control.issue_certificate(oid)
    sign = openssl(issued["certificate"], issued["private_key"])
    rid = _rid(stand)
    challenge = _challenge(stand, rid)
    wrong = _submit(stand, rid, sign(b"gosstand-esia-ds:not-the-challenge"))
    assert (wrong.status, _code(wrong)) == (400, "ESIA-008003")
    # the refused attempt spent the challenge: a signature of it is now a replay
    replayed = _submit(stand, rid, sign(challenge.encode()))
    assert (replayed.status, _code(replayed)) == (400, "ESIA-008004")
    # the page shows a fresh challenge after each refusal, and that one signs the person in
    fresh = re.search(r'<code id="challenge">([^<]+)</code>', replayed.text)
    assert fresh and fresh.group(1) != challenge
    signed_in = _submit(stand, rid, sign(fresh.group(1).encode()))
    assert signed_in.status == 302 and "/aas/oauth2/consent?" in (signed_in.location or "")  # then the code
    # the same signature once more, in a new login: a replay, not a way in
    again = _rid(stand)
    _challenge(stand, again)
    replay = _submit(stand, again, sign(fresh.group(1).encode()))
    assert (replay.status, _code(replay)) == (400, "ESIA-008004")


def test_a_challenge_expires_on_the_stands_clock(stand, openssl):
    issued = stand.control.issue_certificate(stand.seed())
    sign = openssl(issued["certificate"], issued["private_key"])
    rid = _rid(stand)
    challenge = _challenge(stand, rid)
    stand.control.advance_clock("esia", 301)
    late = _submit(stand, rid, sign(challenge.encode()))
    assert (late.status, _code(late)) == (400, "ESIA-008002")


def test_a_signature_by_another_key_than_the_certificates_is_refused(stand, openssl):
    oid = stand.seed()
    shown = stand.control.issue_certificate(oid)
    other = stand.control.issue_certificate(oid)
    for attributes in (True, False):
        rid = _rid(stand)
        challenge = _challenge(stand, rid)
        signature = openssl(other["certificate"], other["private_key"], with_certificate=False,
                            attributes=attributes)(challenge.encode())
        answer = _submit(stand, rid, signature, certificate=shown["certificate"])
        assert (answer.status, _code(answer)) == (400, "ESIA-008005")


def test_garbage_and_a_signature_without_its_certificate_are_refused_as_malformed(stand, openssl):
    issued = stand.control.issue_certificate(stand.seed())
    rid = _rid(stand)
    _challenge(stand, rid)
    garbage = _submit(stand, rid, b"\x30\x03\x02\x01\x01")
    assert (garbage.status, _code(garbage)) == (400, "ESIA-008001")
    challenge = re.search(r'<code id="challenge">([^<]+)</code>', garbage.text)
    assert challenge
    bare = openssl(issued["certificate"], issued["private_key"], with_certificate=False)(challenge.group(1).encode())
    answer = _submit(stand, rid, bare)
    assert (answer.status, _code(answer)) == (400, "ESIA-008001")


@pytest.mark.parametrize("signature, certificate", [
    ("", ""),
    ("не base64", ""),
    (base64.b64encode(b"\x00" * 300).decode(), ""),
    (base64.b64encode(b"\x30\x80\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02").decode(), ""),
    (base64.b64encode(b"\x30\x03\x02\x01\x01").decode(),
     "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"),
], ids=["empty", "not-base64", "zeros", "truncated-cms", "garbage-certificate"])
def test_bad_input_on_the_signature_page_is_refused_by_name_never_a_5xx(stand, signature, certificate):
    rid = _rid(stand)
    _challenge(stand, rid)
    form = {"rid": rid, "signature": signature, "certificate": certificate}
    answer = stand.http.send("POST", f"{ESIA}/aas/oauth2/signature", name="signature", data=form)
    assert (answer.status, _code(answer)) == (400, "ESIA-008001")
    unknown = stand.http.send("POST", f"{ESIA}/aas/oauth2/signature", name="signature", data={**form, "rid": "x"})
    assert unknown.status == 400 and "Сеанс входа истёк" in unknown.text


def test_an_oversized_signature_is_refused_before_it_is_read(stand):
    rid = _rid(stand)
    answer = stand.http.send("POST", f"{ESIA}/aas/oauth2/signature", name="signature",
                             data={"rid": rid, "signature": "A" * 200_000})
    assert answer.status == 413


def test_the_control_api_refuses_what_a_ca_would_not_issue(stand):
    simplified = stand.seed()
    stand.control.update_user(simplified, level="simplified")
    calls = [
        ({"oid": simplified}, 409),
        ({"oid": 999_999_999}, 404),
        ({"oid": stand.seed(), "bits": 1024}, 422),
        ({"holder": {"lastName": "Сидоров", "firstName": "Пётр", "snils": "112-233-445 00"}}, 422),
    ]
    for body, status in calls:
        answer = stand.http.send("POST", f"{ESIA}/_gosstand/control/certificates", name="issue", json=body,
                                 headers=stand.control._headers)
        assert answer.status == status, (body, answer.text)
    revoke = stand.http.send("POST", f"{ESIA}/_gosstand/control/certificates/ABCDEF/revoke", name="revoke",
                             headers=stand.control._headers)
    assert revoke.status == 404
    leave = stand.http.send("DELETE", f"{ESIA}/_gosstand/control/organisations/999999999/employees/{simplified}",
                            name="leave", headers=stand.control._headers)
    assert leave.status == 404  # nobody leaves an organisation they were not in


def test_a_signature_session_signs_the_next_client_in_without_the_pages(stand, openssl):
    oid = stand.seed()
    issued = stand.control.issue_certificate(oid)
    _login(stand, openssl(issued["certificate"], issued["private_key"]))
    params = stand.rp.authorization_params(SCOPE)
    answer = stand.http.send("GET", f"{ESIA}/aas/oauth2/ac?{urlencode(params)}", name="ac")
    code = answer.location.split("code=", 1)[1].split("&", 1)[0]
    assert jwt_claims(code)["auth_mthd"] == "DS"


def test_without_the_gost_engine_the_signature_login_is_closed_and_says_so(stand, monkeypatch):
    from gosstand.mocks.crypto import gost

    rid = _rid(stand)
    oid = stand.seed()
    monkeypatch.setattr(gost, "unavailable_reason", lambda: "no gost engine (simulated)")
    page = stand.http.send("GET", f"{ESIA}/aas/oauth2/signature?rid={rid}", name="signature form")
    assert page.status == 503 and "Вход по электронной подписи недоступен" in page.text
    sent = stand.http.send("POST", f"{ESIA}/aas/oauth2/signature", name="signature",
                           data={"rid": rid, "signature": "MAA="})
    assert sent.status == 503
    issue = stand.http.send("POST", f"{ESIA}/_gosstand/control/certificates", name="issue", json={"oid": oid},
                            headers=stand.control._headers)
    assert issue.status == 503 and "no GOST" in issue.json()["detail"]
