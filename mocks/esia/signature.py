"""Checking a v1 ``client_secret``: a CMS/PKCS#7 SignedData over
``scope + timestamp + client_id + state``.

Real clients send it in every shape real ESIA accepts, so every one of them is accepted here:
detached or attached content; url-safe or standard base64; padding kept, stripped or
half-stripped; with or without signed attributes (then the ``messageDigest`` attribute must
match the message and the signature covers the DER ``SET OF`` the attributes, RFC 5652 §5.4).

asn1crypto parses (it never raises on unknown extensions and keeps the original bytes, which
the signed attributes need); ``cryptography`` verifies (RSA PKCS#1 v1.5).
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from asn1crypto import cms
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_SET_TAG = b"\x31"


class SecretRejected(Exception):
    """The client_secret is not a CMS signature of the expected message by the client."""


def signed_message(*, scope: str, timestamp: str, client_id: str, state: str) -> bytes:
    """What a v1 client signs: the four values concatenated, UTF-8."""
    return f"{scope}{timestamp}{client_id}{state}".encode()


def decode_base64(text: str) -> bytes:
    """Either base64 alphabet, with any amount of padding (including none or half)."""
    compact = "".join(text.split()).rstrip("=").replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise SecretRejected("client_secret is not base64") from None


def parse_signed_data(der: bytes) -> cms.SignedData:
    """The SignedData inside a ContentInfo, fully parsed (asn1crypto parses lazily, so
    malformed input must fail here, not later)."""
    try:
        info = cms.ContentInfo.load(der)
        if info["content_type"].native != "signed_data":
            raise SecretRejected("client_secret is not CMS SignedData")
        signed = info["content"]
        signed.native  # noqa: B018 - forces the parse of every field
    except SecretRejected:
        raise
    except Exception as exc:  # asn1crypto raises ValueError, TypeError, KeyError... on garbage
        raise SecretRejected(f"client_secret is not DER CMS: {type(exc).__name__}") from None
    if len(signed["signer_infos"]) == 0:
        raise SecretRejected("client_secret has no signer")
    return signed


def _verify_signer(signer: cms.SignerInfo, message: bytes, key: RSAPublicKey) -> bool:
    digest_name = signer["digest_algorithm"]["algorithm"].native
    algorithm = _HASHES.get(digest_name)
    if algorithm is None:
        return False
    attributes = signer["signed_attrs"]
    signed_bytes = message
    if attributes.native:
        expected = hashlib.new(digest_name, message).digest()
        digests = [a["values"][0].native for a in attributes if a["type"].native == "message_digest"]
        if digests != [expected]:
            return False
        signed_bytes = _SET_TAG + attributes.dump()[1:]
    try:
        key.verify(signer["signature"].native, signed_bytes, padding.PKCS1v15(), algorithm())
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def verify_client_secret(secret: str, message: bytes, *, key: RSAPublicKey | None, mode: str) -> None:
    """Accept or raise :class:`SecretRejected`, per ``mode``: ``strict`` verifies the signature
    with the client's registered key, ``structural`` only parses, ``off`` checks nothing."""
    if mode == "off":
        return
    signed = parse_signed_data(decode_base64(secret))
    if mode != "strict":
        return
    if key is None:
        raise SecretRejected("no certificate registered for the client")
    attached = signed["encap_content_info"]["content"].native
    if attached is not None and attached != message:
        raise SecretRejected("the signed content differs from the request parameters")
    if not any(_verify_signer(signer, message, key) for signer in signed["signer_infos"]):
        raise SecretRejected("the signature does not verify with the client's certificate")
