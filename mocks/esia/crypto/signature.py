"""Checking a v1 ``client_secret``: a CMS/PKCS#7 SignedData over
``scope + timestamp + client_id + state``.

Real clients send it in every shape real ESIA accepts, so every one of them is accepted here:
detached or attached content; url-safe or standard base64; padding kept, stripped or
half-stripped; with or without signed attributes (then the ``messageDigest`` attribute must
match the message and the signature covers the DER ``SET OF`` the attributes, RFC 5652 §5.4).

asn1crypto parses (it never raises on unknown extensions and keeps the original bytes, which
the signed attributes need); ``cryptography`` verifies RSA (PKCS#1 v1.5) and the system
OpenSSL's gost engine verifies GOST R 34.10-2012 (:mod:`.gost`) — the key type of the
certificate decides which. A GOST signer must use the Streebog of its key's size (256-bit key:
Streebog-256, 512-bit key: Streebog-512, RFC 9215); ESIA registers 256-bit client keys only,
FTS document signatures come with either. A GOST SignerInfo carries the signature bytes in
gost-engine order (RFC 4491: ``s || r``, big-endian; 64 bytes, or 128 for a 512-bit key).
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

from ...core.settings import SignatureMode
from . import gost
from .cms_der import CmsView, NotSignedData, SignerView, Unusual, read_signed_data

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_SET_TAG = b"\x31"
#: How asn1crypto names the Streebog digest algorithms (it has no names for the OIDs).
STREEBOG_256 = gost.OID_STREEBOG_256
STREEBOG_512 = gost.OID_STREEBOG_512


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


def _signer_view(signer: cms.SignerInfo) -> SignerView:
    attributes = signer["signed_attrs"]
    signed: bytes | None = None
    digests: tuple[bytes, ...] = ()
    if isinstance(attributes, cms.CMSAttributes) and len(attributes):
        signed = _SET_TAG + attributes.dump()[1:]
        digests = tuple(a["values"][0].native for a in attributes if a["type"].native == "message_digest")
    return SignerView(
        digest=signer["digest_algorithm"]["algorithm"].native,
        signature=signer["signature"].native,
        signed_attributes=signed,
        message_digests=digests,
    )


def parse_signed_data(der: bytes) -> CmsView:
    """The fields of a ContentInfo/SignedData that matter, or :class:`SecretRejected`: read by
    :mod:`.cms_der` when the input is plain DER (nearly always), else by asn1crypto's typed parser."""
    try:
        view = read_signed_data(der)
    except NotSignedData:
        raise SecretRejected("client_secret is not CMS SignedData") from None
    except Unusual:
        view = _parse_typed(der)
    if not view.signers:
        raise SecretRejected("client_secret has no signer")
    return view


def _parse_typed(der: bytes) -> CmsView:
    try:
        info = cms.ContentInfo.load(der)
        if info["content_type"].native != "signed_data":
            raise SecretRejected("client_secret is not CMS SignedData")
        signed = info["content"]
        attached = signed["encap_content_info"]["content"].native
        view = CmsView(attached=attached, signers=tuple(_signer_view(s) for s in signed["signer_infos"]))
    except SecretRejected:
        raise
    except Exception as exc:  # asn1crypto raises ValueError, TypeError, KeyError... on garbage
        raise SecretRejected(f"client_secret is not DER CMS: {type(exc).__name__}") from None
    return view


def _verify_gost_signer(signer: SignerView, message: bytes, key: gost.GostPublicKey) -> bool:
    """The signer's digest must be the Streebog of the key's size: the engine hashes with that
    one, so a signer naming the other would be "verified" over a digest it never declared."""
    if signer.digest != key.algorithm.digest_oid:
        return False
    signed_bytes = message
    if signer.signed_attributes is not None:
        if signer.message_digests != (key.digest(message),):
            return False
        signed_bytes = signer.signed_attributes
    return key.verify(signer.signature, signed_bytes)


def verify_signer(signer: SignerView, message: bytes, key: RSAPublicKey | gost.GostPublicKey) -> bool:
    """Whether ``signer`` signed ``message`` with ``key`` (RFC 5652 §5.4: the digest in the
    signed attributes, then the signature over them): RSA with SHA-2, or GOST R 34.10-2012 with
    the Streebog of the key's size (256 or 512 bit). Shared by ESIA's client_secret and FTS's
    detached document signatures."""
    if isinstance(key, gost.GostPublicKey):
        return _verify_gost_signer(signer, message, key)
    algorithm = _HASHES.get(signer.digest)
    if algorithm is None:
        return False
    signed_bytes = message
    if signer.signed_attributes is not None:
        if signer.message_digests != (hashlib.new(signer.digest, message).digest(),):
            return False
        signed_bytes = signer.signed_attributes
    try:
        key.verify(signer.signature, signed_bytes, padding.PKCS1v15(), algorithm())
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def verify_client_secret(
    secret: str, message: bytes, *, key: RSAPublicKey | gost.GostPublicKey | None, mode: SignatureMode
) -> None:
    """Accept or raise :class:`SecretRejected`, per ``mode``: ``strict`` verifies the signature
    with the client's registered key, ``structural`` only parses, ``off`` checks nothing."""
    if mode == "off":
        return
    signed = parse_signed_data(decode_base64(secret))
    if mode != "strict":
        return
    if key is None:
        raise SecretRejected("no certificate registered for the client")
    if signed.attached is not None and signed.attached != message:
        raise SecretRejected("the signed content differs from the request parameters")
    if not any(verify_signer(signer, message, key) for signer in signed.signers):
        raise SecretRejected("the signature does not verify with the client's certificate")


#: A v2 ``client_secret`` is the bare GOST R 34.10-2012-256 signature: 64 bytes.
V2_SIGNATURE_SIZE = gost.SIGNATURE_SIZE


def _is_cms(raw: bytes) -> bool:
    try:
        parse_signed_data(raw)
    except SecretRejected:
        return False
    return True


def verify_v2_secret(
    secret: str, message: bytes, *, key: RSAPublicKey | gost.GostPublicKey | None, mode: SignatureMode
) -> None:
    """Accept a v2 ``client_secret`` or raise :class:`SecretRejected`, per ``mode`` as in v1.

    The secret must be 64 bytes in gost-engine order (a CryptoPro CSP signature reversed first);
    a PKCS#7 container is v1's format and is refused by name."""
    if mode == "off":
        return
    raw = decode_base64(secret)
    if len(raw) != V2_SIGNATURE_SIZE:
        if _is_cms(raw):
            raise SecretRejected("a PKCS#7 container is not a v2 client_secret (send the raw GOST signature)")
        raise SecretRejected(f"a v2 client_secret is a {V2_SIGNATURE_SIZE}-byte GOST signature, got {len(raw)}")
    if mode != "strict":
        return
    if not isinstance(key, gost.GostPublicKey):
        raise SecretRejected("v2 needs a GOST R 34.10-2012 certificate registered for the client")
    if not key.verify(raw, message):
        raise SecretRejected("the signature does not verify with the client's certificate")
