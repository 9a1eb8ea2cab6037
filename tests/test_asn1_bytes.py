"""A parsed certificate's bytes are the bytes received, whatever its length.

asn1crypto re-encodes a value whose header ends in 0x80 (it takes it for an indefinite length),
which for a GOST certificate of 384 bytes raised KeyError on its public key: ESIA refused a
valid signature login as "not DER CMS" about once in twelve runs of the conformance suite.
"""

from __future__ import annotations

import base64

import pytest
from asn1crypto import x509
from gosstand.mocks.crypto.asn1_bytes import as_received
from gosstand.mocks.crypto.gost import public_key_from_certificate
from gosstand.mocks.esia.oauth.signature_login import read_signature
from gosstand.scenarios.gost import GostCertificate, GostKey, gost_ready, make_gost_identity

pytestmark = pytest.mark.skipif(bool(gost_ready()), reason=str(gost_ready()))


def _identity_whose_length_ends_in_0x80() -> tuple[GostCertificate, GostKey]:
    """A certificate whose outer header is ``30 82 xx 80``: the name's length moves it byte by byte."""
    for length in range(1, 400):
        certificate, key = make_gost_identity("К" * (length // 2) + "x" * (length % 2))
        der = certificate.der
        if der[1] == 0x82 and der[3] == 0x80:
            return certificate, key
    raise AssertionError("no name length gave a certificate of 384 or 640 bytes")


def test_a_parsed_certificate_gives_back_the_bytes_it_was_read_from() -> None:
    certificate, _ = _identity_whose_length_ends_in_0x80()
    assert as_received(x509.Certificate.load(certificate.der)) == certificate.der
    assert public_key_from_certificate(certificate.der).bits == 256


def test_esia_reads_a_signature_whose_certificate_is_384_bytes() -> None:
    certificate, key = _identity_whose_length_ends_in_0x80()
    signature = base64.b64encode(key.sign_cms(b"challenge", certificate)).decode()
    signed = read_signature(signature, "")
    assert signed.certificate.serial == x509.Certificate.load(certificate.der).serial_number


def test_a_value_built_here_is_encoded() -> None:
    name = x509.Name.build({"common_name": "gosstand"})
    assert as_received(name) == name.dump() and name.dump()[0] == 0x30


def test_an_untagged_choice_gives_back_its_alternatives_bytes() -> None:
    """A Name is a choice: its bytes are the whole RDN sequence, as the issuer comparison needs."""
    certificate, _ = make_gost_identity("gosstand")
    subject = x509.Certificate.load(certificate.der)["tbs_certificate"]["subject"]
    received = as_received(subject)
    assert received[0] == 0x30 and received in certificate.der
    assert x509.Name.load(received).native == subject.native
