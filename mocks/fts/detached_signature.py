"""Checking a detached CMS signature (``.p7s``) of a submitted file with the certificate in it.

The signature must be DER (or PEM) ``SignedData`` without the content, carry the signer's
certificate, and its signer must have signed exactly the file: the digest in the signed
attributes equals the file's digest and the signature over those attributes verifies with the
certificate's key (RFC 5652 §5.4). Parsing reuses the ESIA mock's CMS reader
(:func:`..esia.signature.parse_signed_data`); certificates are read with asn1crypto and the
RSA verification is done by ``cryptography``. The certificate's chain is not checked: the
stand has no registry of qualified certificates, so "verified" means "made by the key of the
certificate it carries".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from asn1crypto import cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from ..esia.signature import SecretRejected, parse_signed_data

__all__ = ["SignatureRejected", "VerifiedSignature", "verify_detached"]

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512,
}
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
        return x509.load_der_x509_certificate(chosen.dump())
    except SignatureRejected:
        raise
    except Exception as exc:  # asn1crypto and cryptography raise many kinds on garbage
        raise SignatureRejected(f"the certificate cannot be read: {type(exc).__name__}") from None


def verify_detached(signature: bytes, content: bytes) -> VerifiedSignature:
    der = _der(signature)
    try:
        view = parse_signed_data(der)
    except SecretRejected:
        raise SignatureRejected("the signature is not DER CMS SignedData") from None
    if view.attached not in (None, b""):
        raise SignatureRejected("the signature must be detached (.p7s without the file inside)")
    certificate = _certificate(der)
    try:
        key = certificate.public_key()
    except Exception:
        raise SignatureRejected("the certificate's key algorithm is not supported") from None
    if not isinstance(key, RSAPublicKey):
        raise SignatureRejected("only RSA certificates are verified by this version")
    signer = view.signers[0]
    algorithm = _HASHES.get(signer.digest)
    if algorithm is None:
        raise SignatureRejected(f"digest algorithm {signer.digest} is not accepted")
    signed_bytes = content
    if signer.signed_attributes is not None:
        if signer.message_digests != (hashlib.new(signer.digest, content).digest(),):
            raise SignatureRejected("the signature was made for another file")
        signed_bytes = signer.signed_attributes
    try:
        key.verify(signer.signature, signed_bytes, padding.PKCS1v15(), algorithm())
    except (InvalidSignature, ValueError, TypeError):
        raise SignatureRejected("the signature does not verify with its certificate") from None
    names = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    common_name = names[0].value if names else certificate.subject.rfc4514_string()
    return VerifiedSignature(signer=str(common_name), certificate_serial=format(certificate.serial_number, "x"))
