"""ESIA with GOST: v1 with a GOST client certificate (CMS by OpenSSL's gost engine), the v2
protocol (raw GOST signature, ``client_certificate_hash``), GOST-signed access tokens, the
property that changing any signed parameter fails verification in strict mode, ESIA taking
256-bit GOST client keys only, and the mocks' GOST primitives (:mod:`mocks.crypto.gost`) for both
key sizes against the standard's test vectors and the independent signer in ``scenarios.gost``.

Skipped with the reason when the system OpenSSL has no gost engine
(``apt-get install -y libengine-gost-openssl``)."""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass, replace
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from gosstand.scenarios import esia_login
from gosstand.scenarios.control import StackControl
from gosstand.scenarios.esia_client import RelyingParty, SecretFormat, make_test_identity
from gosstand.scenarios.esia_login import EsiaJourneyError
from gosstand.scenarios.gost import cryptopro_to_engine, gost_ready, make_gost_identity
from gosstand.scenarios.http import HttpxClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.skipif(gost_ready() is not None, reason=f"no GOST here: {gost_ready()}")

ESIA = "http://testserver"
ISSUER = "http://esia-portal1.test.gosuslugi.ru/"  # the test stand's issuer, as conftest configures it
REDIRECT = "https://rp.example/esia/callback"
PHONE = "+79991234567"
PASSWORD = "Pa55word!"
SCOPE = "openid fullname snils"


@pytest.fixture(scope="module")
def gost_identity():
    return make_gost_identity("GOSTSYS")


@pytest.fixture(scope="module")
def rsa_identity():
    return make_test_identity("RSASYS")


@dataclass
class Stand:
    http: HttpxClient
    control: StackControl
    v1: RelyingParty
    v2: RelyingParty
    rsa: RelyingParty
    oid: int

    def login(self, rp: RelyingParty, **overrides) -> esia_login.TokenSet:
        values = {"esia_url": ESIA, "rp": rp, "login": PHONE, "password": PASSWORD,
                  "read_sms": self.control.read_sms, "scope": SCOPE}
        values.update(overrides)
        return esia_login.login(self.http, **values)

    def ac(self, rp: RelyingParty, params: dict[str, str]):
        return self.http.send("GET", f"{ESIA}{rp.authorize_path}", name="esia: ac", params=params)

    def te(self, rp: RelyingParty, form: dict[str, str]):
        return self.http.send("POST", f"{ESIA}{rp.token_path}", name="esia: te", data=form)

    def code(self, rp: RelyingParty) -> str:
        return esia_login.authorize(self.http, esia_url=ESIA, rp=rp, login=PHONE, password=PASSWORD,
                                    read_sms=self.control.read_sms, scope=SCOPE)


@pytest.fixture
def stand(service_client, control_headers, gost_identity, rsa_identity) -> Stand:
    client = service_client("esia")
    client.follow_redirects = False
    http = HttpxClient(client=client)
    control = StackControl({"esia": ESIA}, control_headers["Authorization"].split()[1], http=http)
    clock = lambda: control.now("esia")  # noqa: E731 - timestamps follow the mock's clock
    (gost_cert, gost_key), (rsa_cert, rsa_key) = gost_identity, rsa_identity
    v1 = RelyingParty("GOSTSYS", REDIRECT, gost_cert, gost_key, clock=clock)
    v2 = replace(v1, protocol="v2")
    rsa = RelyingParty("RSASYS", REDIRECT, rsa_cert, rsa_key, clock=clock)
    for party in (v1, rsa):
        control.register_client(party.client_id, redirect_uris=[REDIRECT], certificate=party.certificate_pem)
    oid = control.seed_user(phone=PHONE, password=PASSWORD,
                            person={"firstName": "Иван", "lastName": "Петров", "snils": "112-233-445 95"})
    return Stand(http=http, control=control, v1=v1, v2=v2, rsa=rsa, oid=oid)


def redirect_query(response) -> dict[str, str]:
    assert response.status == 302, response.text
    assert response.location.startswith(REDIRECT), response.location
    return {k: v[0] for k, v in parse_qs(urlsplit(response.location).query).items()}


def esia_code(response) -> str:
    """The ESIA-0070NN of an error answer, redirect or JSON."""
    if response.status == 302:
        description = redirect_query(response)["error_description"]
    else:
        description = response.json()["error_description"]
    return description.split(":", 1)[0]


# --- v1 ------------------------------------------------------------------------------------


def test_v1_login_with_rsa_still_works(stand):
    tokens = stand.login(stand.rsa)
    assert tokens.oid == stand.oid


@pytest.mark.parametrize("fmt", [SecretFormat(), SecretFormat(detached=False, signed_attributes=False),
                                 SecretFormat(url_safe=False, strip_padding=True)], ids=str)
def test_v1_login_with_a_gost_certificate(stand, fmt):
    tokens = stand.login(replace(stand.v1, secret_format=fmt), access_type="offline")
    assert tokens.oid == stand.oid
    renewed = esia_login.refresh(stand.http, esia_url=ESIA, rp=stand.v1, refresh_token=tokens.refresh_token,
                                 scope=SCOPE)
    assert renewed.refresh_token != tokens.refresh_token


def test_v1_gost_signature_by_another_key_is_refused(stand):
    other_cert, other_key = make_gost_identity("OTHER")
    forged = replace(stand.v1, private_key=other_key, certificate=other_cert)
    assert esia_code(stand.ac(forged, forged.authorization_params(SCOPE))) == "ESIA-007053"


# --- v2 ------------------------------------------------------------------------------------


def test_v2_login_refresh_and_logout(stand):
    tokens = stand.login(stand.v2, access_type="offline")
    assert tokens.oid == stand.oid and tokens.token_type == "Bearer"
    person = esia_login.person(stand.http, esia_url=ESIA, tokens=tokens)
    assert person["lastName"] == "Петров"
    renewed = esia_login.refresh(stand.http, esia_url=ESIA, rp=stand.v2, refresh_token=tokens.refresh_token,
                                 scope=SCOPE)
    assert renewed.oid == stand.oid and renewed.refresh_token != tokens.refresh_token
    reused = stand.te(stand.v2, stand.v2.refresh_form(tokens.refresh_token, SCOPE))
    assert esia_code(reused) == "ESIA-007011"
    esia_login.logout(stand.http, esia_url=ESIA, rp=stand.v2)
    # the SSO session is over: the next ac goes to the password page again
    answer = stand.ac(stand.v2, stand.v2.authorization_params(SCOPE))
    assert "/aas/oauth2/login" in answer.location


def test_v2_with_scope_org(stand):
    with_org = replace(stand.v2, scope_org="")
    assert stand.login(with_org).oid == stand.oid
    params = replace(stand.v2, scope_org="org_shortname").authorization_params(SCOPE)
    assert params["scope_org"] == "org_shortname"
    answer = stand.ac(stand.v2, params)
    assert answer.status == 302 and "error" not in answer.location


def test_v2_certificate_hash_is_case_insensitive(stand):
    params = stand.v2.authorization_params(SCOPE)
    params["client_certificate_hash"] = params["client_certificate_hash"].upper()
    assert "/aas/oauth2/login" in stand.ac(stand.v2, params).location


@pytest.mark.parametrize("bad_hash", ["sha1", "pem", "not-hex"])
def test_v2_certificate_hash_in_another_form_is_007053(stand, bad_hash):
    params = stand.v2.authorization_params(SCOPE)
    der = base64.b64decode("".join(stand.v2.certificate_pem.splitlines()[1:-1]))
    params["client_certificate_hash"] = {
        "sha1": hashlib.sha1(der).hexdigest(),
        "pem": stand.v2.certificate_pem,
        "not-hex": "z" * 64,
    }[bad_hash]
    assert esia_code(stand.ac(stand.v2, params)) == "ESIA-007053"


def test_v2_hash_of_another_certificate_is_007002(stand):
    other_cert, _ = make_gost_identity("OTHER")
    params = stand.v2.authorization_params(SCOPE)
    params["client_certificate_hash"] = other_cert.streebog_hex
    assert esia_code(stand.ac(stand.v2, params)) == "ESIA-007002"


def test_v2_certificate_hash_is_mandatory(stand):
    params = stand.v2.authorization_params(SCOPE)
    del params["client_certificate_hash"]
    answer = stand.ac(stand.v2, params)
    assert esia_code(answer) == "ESIA-007014"
    assert "client_certificate_hash" in redirect_query(answer)["error_description"]


def test_v2_refuses_a_pkcs7_container(stand):
    params = stand.v2.authorization_params(SCOPE)
    params["client_secret"] = stand.v1.authorization_params(SCOPE)["client_secret"]
    answer = stand.ac(stand.v2, params)
    assert esia_code(answer) == "ESIA-007053"
    assert "PKCS#7" in redirect_query(answer)["error_description"]


def test_cryptopro_byte_order_must_be_reversed_first(stand):
    """A CryptoPro CSP signature is gost-engine's reversed; sent as it is, ESIA refuses it, and
    reversed back (what CryptoPro users do) it is accepted."""
    forgot = replace(stand.v2, signature_order="cryptopro")
    assert esia_code(stand.ac(forgot, forgot.authorization_params(SCOPE))) == "ESIA-007053"
    params = forgot.authorization_params(SCOPE)
    as_cryptopro = base64.urlsafe_b64decode(params["client_secret"])
    params["client_secret"] = base64.b64encode(cryptopro_to_engine(as_cryptopro)).decode().rstrip("=")
    assert "/aas/oauth2/login" in stand.ac(stand.v2, params).location


def test_v2_needs_a_gost_certificate(stand):
    rsa_as_v2 = replace(stand.v2, client_id="RSASYS")
    assert esia_code(stand.ac(rsa_as_v2, rsa_as_v2.authorization_params(SCOPE))) == "ESIA-007002"


def test_v2_structural_and_off_modes(stand):
    stand.control.register_client("GOSTSYS", redirect_uris=[REDIRECT], certificate=None, signature_mode="structural")
    params = stand.v2.authorization_params(SCOPE)
    params["client_certificate_hash"] = "ab" * 32
    params["client_secret"] = base64.urlsafe_b64encode(bytes(64)).decode()
    assert "/aas/oauth2/login" in stand.ac(stand.v2, params).location
    params["client_secret"] = base64.urlsafe_b64encode(bytes(40)).decode()
    assert esia_code(stand.ac(stand.v2, params)) == "ESIA-007053"
    stand.control.register_client("GOSTSYS", redirect_uris=[REDIRECT], certificate=None, signature_mode="off")
    params["client_certificate_hash"] = "x"
    assert "/aas/oauth2/login" in stand.ac(stand.v2, params).location


def test_v3_te_code_is_bound_into_the_signature(stand):
    code = stand.code(stand.v2)
    form = stand.v2.token_form(code, SCOPE)
    form["code"] = code + "x"  # the signature covered the real code
    assert esia_code(stand.te(stand.v2, form)) == "ESIA-007053"
    assert stand.te(stand.v2, stand.v2.token_form(code, SCOPE)).status == 200


# --- strict mode: any signed parameter changed ⇒ refused --------------------------------

V1_SIGNED = ("scope", "timestamp", "state")
V2_SIGNED = ("scope", "scope_org", "timestamp", "state", "redirect_uri")


def _changed(name: str, value: str, edit: str) -> str:
    """A different value of the signed parameter ``name`` that passes every check before the
    signature's (so the signature is what refuses it)."""
    if name == "state":
        return str(uuid.uuid4())
    if name == "timestamp":  # one second later, still inside the tolerance
        return f"{value[:17]}{(int(value[17:19]) + 1) % 60:02d}{value[19:]}"
    if name == "scope":
        return "openid snils" if value != "openid snils" else "openid fullname"
    changed = value + edit if edit else value[:-1]
    return changed if changed != value else value + "x"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    protocol=st.sampled_from(["v1", "v2"]),
    data=st.data(),
    edit=st.text(alphabet="abcXYZ019 +-_.:", max_size=3),
)
def test_changing_any_signed_parameter_fails_strict_verification(stand, protocol, data, edit):
    rp = replace(stand.v1 if protocol == "v1" else stand.v2, scope_org="")
    params = rp.authorization_params(SCOPE)
    name = data.draw(st.sampled_from(V1_SIGNED if protocol == "v1" else V2_SIGNED))
    if name == "redirect_uri":
        # another registered URI, so the request gets as far as the signature check
        stand.control.register_client(rp.client_id, redirect_uris=[REDIRECT, REDIRECT + "/2"],
                                      certificate=rp.certificate_pem)
        params[name] = REDIRECT + "/2"
        expect_at = REDIRECT + "/2"
    else:
        params[name] = _changed(name, params[name], edit)
        expect_at = REDIRECT
    answer = stand.ac(rp, params)
    assert answer.status == 302 and answer.location.startswith(expect_at), answer.location
    assert parse_qs(urlsplit(answer.location).query)["error_description"][0].startswith("ESIA-007053")


# --- ESIA's own GOST-signed access tokens ---------------------------------------------------


def test_gost_signed_access_tokens_per_client(stand):
    from asn1crypto import pem as asn1_pem
    from gosstand.mocks.crypto import gost
    from gosstand.mocks.crypto.gost_jws import decode_gost

    stand.control.register_client("GOSTSYS", redirect_uris=[REDIRECT], certificate=stand.v2.certificate_pem,
                                  token_algorithm="GOST3410_2012_256")
    tokens = stand.login(stand.v2)
    header = jwt.get_unverified_header(tokens.access_token)
    assert (header["alg"], header["sbt"], header["ver"]) == ("GOST3410_2012_256", "access", 1)
    assert jwt.get_unverified_header(tokens.id_token)["alg"] == "RS256"  # id_token stays RS256
    published = stand.http.send("GET", f"{ESIA}/_gosstand/esia/cert-gost.pem", name="cert")
    _, _, der = asn1_pem.unarmor(published.body)
    claims = decode_gost(tokens.access_token, gost.public_key_from_certificate(der))
    assert claims["urn:esia:sbj_id"] == stand.oid and claims["client_id"] == "GOSTSYS"
    head, payload, signature = tokens.access_token.split(".")
    with pytest.raises(ValueError):
        decode_gost(f"{head}.{payload}.{signature[::-1]}", gost.public_key_from_certificate(der))
    assert esia_login.person(stand.http, esia_url=ESIA, tokens=tokens)["lastName"] == "Петров"
    bad = replace(tokens, access_token=f"{head}.{payload[:-2]}AA.{signature}")
    with pytest.raises(EsiaJourneyError) as refused:
        esia_login.person(stand.http, esia_url=ESIA, tokens=bad)
    assert refused.value.status == 401


def test_the_reference_client_verifies_gost_access_tokens(stand, esia_signing_keys):
    from cryptography.hazmat.primitives import serialization

    stand.control.register_client("GOSTSYS", redirect_uris=[REDIRECT], certificate=stand.v2.certificate_pem,
                                  token_algorithm="GOST3410_2012_256")
    tokens = stand.login(stand.v2)
    rsa_pem = esia_signing_keys.certificate.public_bytes(serialization.Encoding.PEM)
    gost_pem = stand.http.send("GET", f"{ESIA}/_gosstand/esia/cert-gost.pem", name="cert").body
    now = stand.control.now("esia")

    def verify(candidate, **overrides):
        options = {"certificate_pem": rsa_pem, "issuer": ISSUER, "now": now, "gost_certificate_pem": gost_pem}
        return esia_login.verify_tokens(candidate, **{**options, **overrides})

    assert verify(tokens)["urn:esia:sbj"]["urn:esia:sbj:oid"] == stand.oid
    head, payload, signature = tokens.access_token.split(".")
    middle = len(signature) // 2
    flipped = signature[:middle] + ("A" if signature[middle] != "A" else "B") + signature[middle + 1:]
    for bad, reason in (
        (replace(tokens, access_token=f"{head}.{payload[:-2]}AA.{signature}"), "does not verify"),
        (replace(tokens, access_token=f"{head}.{payload}.{flipped}"), "does not verify"),
    ):
        with pytest.raises(EsiaJourneyError, match=reason):
            verify(bad)
    with pytest.raises(EsiaJourneyError, match="gost_certificate_pem"):
        verify(tokens, gost_certificate_pem=None)
    with pytest.raises(EsiaJourneyError, match="issuer"):
        verify(tokens, issuer="http://esia.gosuslugi.ru/")
    with pytest.raises(EsiaJourneyError, match="not valid now"):
        verify(tokens, now=now + 4000)
    other, _ = make_gost_identity("someone else")
    with pytest.raises(EsiaJourneyError, match="does not verify"):
        verify(tokens, gost_certificate_pem=other.pem.encode())


def test_token_algorithm_is_validated(stand):
    from gosstand.scenarios.control import ControlError

    with pytest.raises(ControlError) as refused:
        stand.control.register_client("GOSTSYS", redirect_uris=[REDIRECT], certificate=None, token_algorithm="HS256")
    assert refused.value.status == 422 and "/token_algorithm" in refused.value.body


def test_esia_still_refuses_a_512_bit_gost_client_certificate(stand):
    """The mocks read 512-bit GOST keys for FTS document signatures; ESIA's protocols stay 256-bit."""
    from gosstand.scenarios.control import ControlError

    certificate, _ = make_gost_identity("GOST512", bits=512)
    with pytest.raises(ControlError) as refused:
        stand.control.register_client("GOST512", redirect_uris=[REDIRECT], certificate=certificate.pem)
    assert refused.value.status == 422 and "512-bit GOST key" in refused.value.body


# --- the GOST primitives, 256- and 512-bit ----------------------------------------------------

#: GOST R 34.11-2012, appendix A, example 1: the 63-byte message M1 and its two digests.
M1 = b"012345678901234567890123456789012345678901234567890123456789012"
M1_DIGEST = {
    256: "9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500",
    512: "1b54d01a4af5b9d5cc3d86d68d285462b19abc2475222f35c085122be4ba1ffa"
         "00ad30f8767b3a82384c6574f024c311e2a481332b08ef7f41797891c1646f48",
}


@pytest.mark.parametrize("bits", [256, 512])
def test_streebog_of_the_standards_example(bits):
    from gosstand.mocks.crypto import gost

    digest = {256: gost.streebog256, 512: gost.streebog512}[bits](M1)
    assert digest.hex() == M1_DIGEST[bits]


@pytest.mark.parametrize(("bits", "paramset"), [(256, "A"), (512, "A"), (512, "B"), (512, "C")])
def test_sign_and_verify_round_trip_and_a_wrong_key_or_message_is_refused(bits, paramset):
    from gosstand.mocks.crypto import gost

    key = gost.GostPrivateKey.generate(paramset, bits=bits)
    public = gost.GostPublicKey.from_spki(key.public_key().spki())
    signature = key.sign(M1)
    assert (key.bits, public.bits, len(signature)) == (bits, bits, bits // 4)
    assert public.algorithm.digest_oid == {256: "1.2.643.7.1.1.2.2", 512: "1.2.643.7.1.1.2.3"}[bits]
    assert public.digest(M1).hex() == M1_DIGEST[bits]
    assert public.verify(signature, M1)
    assert not public.verify(signature, M1 + b"3")
    assert not public.verify(gost.from_cryptopro(signature), M1)
    other = gost.GostPrivateKey.generate(paramset, bits=bits).public_key()
    assert not other.verify(signature, M1)
    assert gost.GostPrivateKey.from_pem(key.to_pem()).sign(M1) != signature  # GOST signatures are randomised
    assert public.verify(gost.GostPrivateKey.from_pem(key.to_pem()).sign(M1), M1)


def test_a_signature_of_the_other_size_never_verifies():
    from gosstand.mocks.crypto import gost

    small, large = gost.GostPrivateKey.generate(bits=256), gost.GostPrivateKey.generate(bits=512)
    assert not large.public_key().verify(small.sign(M1), M1)
    assert not small.public_key().verify(large.sign(M1)[:64], M1)
    with pytest.raises(gost.GostError, match="256 or 512"):
        gost.GostPrivateKey.generate(bits=384)


@pytest.mark.parametrize("bits", [256, 512])
def test_the_mock_reads_certificates_and_signatures_of_the_independent_signer(bits):
    """``scenarios.gost`` builds its certificate and signs without the mocks' code."""
    from gosstand.mocks.crypto import gost

    certificate, key = make_gost_identity("INDEPENDENT", bits=bits)
    public = gost.public_key_from_certificate(certificate.der)
    assert public.bits == bits
    assert public.verify(key.sign(M1), M1) and not public.verify(key.sign(M1), M1[:-1])
    mock_key = gost.GostPrivateKey.generate(bits=bits)
    assert not certificate.verify(mock_key.sign(M1), M1)
