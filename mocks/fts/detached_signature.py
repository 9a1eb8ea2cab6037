"""Checking a detached CMS signature (``.p7s``) of a submitted file with the certificate in it.

The signature must be DER (or PEM) ``SignedData`` without the content, carry the signer's
certificate, and its signer must have signed exactly the file: the digest in the signed
attributes equals the file's digest and the signature over those attributes verifies with the
certificate's key (RFC 5652 §5.4). Declarants sign with RSA (SHA-2) or, as Russian qualified
signatures are, GOST R 34.10-2012 with 256- or 512-bit keys (CryptoPro and the like); a GOST
signer must name the Streebog of its key's size (Streebog-256 or Streebog-512, RFC 9215), and
another digest is refused by name rather than left to fail as a bad signature. Parsing and
verification are the mocks' shared CMS code (:mod:`..crypto.cms_signature`, GOST through
:mod:`..crypto.gost`), which ESIA's client_secret check uses too, so the two are checked alike. The
certificate's chain is not checked: the stand has no registry of qualified certificates, so
"verified" means "made by the key of the certificate it carries".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from ..crypto import gost
from ..crypto.asn1_bytes import as_received
from ..crypto.cms_der import SignerView
from ..crypto.cms_signature import NotCmsSignature, parse_signed_data, verify_signer

__all__ = ["SignatureRejected", "VerifiedSignature", "verify_detached"]

_RSA_DIGESTS = ("sha256", "sha384", "sha512")
_PEM = re.compile(rb"-----BEGIN (?:PKCS7|CMS)-----(.*?)-----END (?:PKCS7|CMS)-----", re.S)


class SignatureRejected(Exception):
    """The signature is not a detached CMS signature of this file by its certificate."""


@dataclass(frozen=True, slots=True)
class VerifiedSignature:
    signer: str
    certificate_serial: str


def _der(raw: bytes) -> bytes:
    match = _PEM.search(raw)
    if match is None:
        return raw
    try:
        return base64.b64decode(b"".join(match.group(1).split()), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureRejected("the PEM signature is not base64") from None


def _certificate(der: bytes) -> x509.Certificate:
    try:
        signed = cms.ContentInfo.load(der)["content"]
        certificates = [choice.chosen for choice in signed["certificates"] or []
                        if choice.name == "certificate"]
        sid = signed["signer_infos"][0]["sid"]
        serial = sid.chosen["serial_number"].native if sid.name == "issuer_and_serial_number" else None
        chosen = next((c for c in certificates if serial is None or c.serial_number == serial), None)
        if chosen is None:
            raise SignatureRejected("the signature does not carry its signer's certificate")
        return x509.load_der_x509_certificate(as_received(chosen))
    except SignatureRejected:
        raise
    except Exception as exc:  # asn1crypto and cryptography raise many kinds on garbage
        raise SignatureRejected(f"the certificate cannot be read: {type(exc).__name__}") from None


def _key(certificate: x509.Certificate) -> RSAPublicKey | gost.GostPublicKey:
    """The certificate's RSA key, or its GOST R 34.10-2012 key of either size (read through the engine)."""
    try:
        key = certificate.public_key()
    except Exception:  # cryptography knows no GOST keys
        key = None
    if isinstance(key, RSAPublicKey):
        return key
    if not gost.available():
        raise SignatureRejected(f"GOST signatures cannot be verified here: {gost.unavailable_reason()}")
    try:
        return gost.public_key_from_certificate(certificate.public_bytes(serialization.Encoding.DER))
    except Exception:
        raise SignatureRejected("the certificate's key is neither RSA nor GOST R 34.10-2012 (256 or 512 bit)") from None


def _check_digest_algorithm(digest: str, key: RSAPublicKey | gost.GostPublicKey) -> None:
    """RSA signs with SHA-2; a GOST key only with the Streebog of its own size, and the reason
    names the one it needs, since a 256/512 mix-up is the usual mistake."""
    if isinstance(key, gost.GostPublicKey):
        algorithm = key.algorithm
        if digest != algorithm.digest_oid:
            raise SignatureRejected(
                f"a {algorithm.name} key signs with {algorithm.digest_name} ({algorithm.digest_oid}), "
                f"the signature names digest algorithm {digest}")
    elif digest not in _RSA_DIGESTS:
        raise SignatureRejected(f"digest algorithm {digest} is not accepted with this certificate's key")


def _digest(key: RSAPublicKey | gost.GostPublicKey, algorithm: str, content: bytes) -> bytes:
    return key.digest(content) if isinstance(key, gost.GostPublicKey) else hashlib.new(algorithm, content).digest()


def _verifies(signer: SignerView, content: bytes, key: RSAPublicKey | gost.GostPublicKey) -> bool:
    """:func:`verify_signer`, with the engine's refusal of an input counted as "does not verify"
    (a document signature is the client's input: never a 5xx)."""
    try:
        return verify_signer(signer, content, key)
    except gost.GostError:
        return False


def verify_detached(signature: bytes, content: bytes) -> VerifiedSignature:
    der = _der(signature)
    try:
        view = parse_signed_data(der)
    except NotCmsSignature:
        raise SignatureRejected("the signature is not DER CMS SignedData") from None
    if view.attached not in (None, b""):
        raise SignatureRejected("the signature must be detached (.p7s without the file inside)")
    certificate = _certificate(der)
    key = _key(certificate)
    signer = view.signers[0]
    _check_digest_algorithm(signer.digest, key)
    if signer.signed_attributes is not None and signer.message_digests != (_digest(key, signer.digest, content),):
        raise SignatureRejected("the signature was made for another file")
    if not _verifies(signer, content, key):
        raise SignatureRejected("the signature does not verify with its certificate")
    names = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    common_name = names[0].value if names else certificate.subject.rfc4514_string()
    return VerifiedSignature(signer=str(common_name), certificate_serial=format(certificate.serial_number, "x"))
