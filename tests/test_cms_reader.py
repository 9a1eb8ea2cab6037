"""The one-pass DER reader of client secrets (mocks/crypto/cms_der.py) must read exactly what
asn1crypto's typed parser reads, and leave everything unusual to it."""

from __future__ import annotations

import pytest
from gosstand.mocks.crypto import gost
from gosstand.mocks.crypto.cms_der import NotSignedData, Unusual, read_signed_data
from gosstand.mocks.crypto.cms_signature import NotCmsSignature, _parse_typed, parse_signed_data
from gosstand.mocks.esia.crypto.signature import decode_base64
from gosstand.scenarios.esia_client import SecretFormat, make_test_identity, sign_cms
from hypothesis import given, settings
from hypothesis import strategies as st

MESSAGE = b"openid fullname2025.09.02 13:00:29 +0300TESTSYS0b3f1c9a-5c1e-4a55-9d8e-2f3c4b5a6d7e"
FORMATS = [
    SecretFormat(),
    SecretFormat(detached=False),
    SecretFormat(signed_attributes=False),
    SecretFormat(detached=False, signed_attributes=False),
]


@pytest.fixture(scope="module")
def rsa_identity():
    return make_test_identity("TESTSYS")


def _secret(identity, fmt: SecretFormat) -> bytes:
    certificate, key = identity
    return decode_base64(sign_cms(MESSAGE, certificate=certificate, private_key=key, fmt=fmt))


def _indefinite(der: bytes) -> bytes:
    """The same ContentInfo with its outer SEQUENCE in BER's indefinite-length form."""
    assert der[0] == 0x30 and der[1] & 0x80
    return b"\x30\x80" + der[2 + (der[1] & 0x7F) :] + b"\x00\x00"


@pytest.mark.parametrize("fmt", FORMATS, ids=repr)
def test_the_reader_agrees_with_asn1crypto_on_every_rsa_packing(rsa_identity, fmt):
    der = _secret(rsa_identity, fmt)
    fast = read_signed_data(der)
    assert fast == _parse_typed(der)
    assert fast.attached == (None if fmt.detached else MESSAGE)
    assert (fast.signers[0].signed_attributes is None) == (not fmt.signed_attributes)


@pytest.mark.skipif(not gost.available(), reason="the OpenSSL gost engine is not installed")
@pytest.mark.parametrize("signed_attributes", [True, False])
def test_the_reader_agrees_with_asn1crypto_on_gost_secrets(signed_attributes):
    from gosstand.scenarios.gost import make_gost_identity

    certificate, key = make_gost_identity("GOSTSYS")
    der = key.sign_cms(MESSAGE, certificate, detached=True, signed_attributes=signed_attributes)
    fast = read_signed_data(der)
    assert fast == _parse_typed(der)
    assert fast.signers[0].digest == gost.OID_STREEBOG_256


def test_ber_goes_to_the_typed_parser_and_reads_the_same(rsa_identity):
    der = _secret(rsa_identity, SecretFormat())
    ber = _indefinite(der)
    with pytest.raises(Unusual):
        read_signed_data(ber)
    assert parse_signed_data(ber) == parse_signed_data(der)


def test_another_content_type_is_refused_by_name(rsa_identity):
    der = bytearray(_secret(rsa_identity, SecretFormat()))
    oid_at = der.index(bytes.fromhex("2a864886f70d010702"))
    der[oid_at + 8] = 0x01  # pkcs7-data instead of signedData
    with pytest.raises(NotSignedData):
        read_signed_data(bytes(der))
    with pytest.raises(NotCmsSignature, match="not CMS SignedData"):
        parse_signed_data(bytes(der))


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_damaged_secrets_are_refused_or_read_as_asn1crypto_reads_them(rsa_identity, data):
    der = bytearray(_secret(rsa_identity, data.draw(st.sampled_from(FORMATS), label="format")))
    for _ in range(data.draw(st.integers(1, 3), label="damages")):
        at = data.draw(st.integers(0, len(der) - 1), label="at")
        how = data.draw(st.sampled_from(["flip", "cut", "insert"]), label="how")
        if how == "flip":
            der[at] ^= data.draw(st.integers(1, 255), label="mask")
        elif how == "cut":
            del der[at:]
            if not der:
                der = bytearray(b"\x30")
        else:
            der.insert(at, data.draw(st.integers(0, 255), label="byte"))
    damaged = bytes(der)
    try:
        view = parse_signed_data(damaged)  # nothing but NotCmsSignature may escape
    except NotCmsSignature:
        return
    try:
        fast = read_signed_data(damaged)
    except (Unusual, NotSignedData):
        return  # the typed parser answered alone
    try:
        typed = _parse_typed(damaged)
    except NotCmsSignature:
        return  # asn1crypto trips over a field the check never reads; the signature decides
    assert fast == typed == view
