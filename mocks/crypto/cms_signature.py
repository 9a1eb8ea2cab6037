"""Reading and checking CMS/PKCS#7 SignedData signatures, for every mock that takes one: ESIA's
v1 ``client_secret`` and FTS's detached document signatures are checked by this one code.

asn1crypto parses (it never raises on unknown extensions and keeps the original bytes, which
the signed attributes need), through the one-pass reader :mod:`.cms_der` when the input is plain
DER; ``cryptography`` verifies RSA (PKCS#1 v1.5) and the system OpenSSL's gost engine verifies
GOST R 34.10-2012 (:mod:`.gost`) — the key type of the certificate decides which. With signed
attributes the ``messageDigest`` attribute must match the message and the signature covers the
DER ``SET OF`` the attributes (RFC 5652 §5.4). A GOST signer must use the Streebog of its key's
size (256-bit key: Streebog-256, 512-bit key: Streebog-512, RFC 9215); its SignerInfo carries
the signature bytes in gost-engine order (RFC 4491: ``s || r``, big-endian; 64 bytes, or 128 for
a 512-bit key). What a caller accepts beyond that (which keys, which digests, which message) is
the caller's.
"""

from __future__ import annotations

import hashlib

from asn1crypto import cms
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from . import gost
from .asn1_bytes import as_received
from .cms_der import CmsView, NotSignedData, SignerView, Unusual, read_signed_data

__all__ = ["NotCmsSignature", "parse_signed_data", "verify_signer"]

#: The digest algorithms RSA signers may name, and the one padding: stateless descriptions,
#: made once per process rather than per verification.
_HASHES: dict[str, hashes.HashAlgorithm] = {
    "sha1": hashes.SHA1(),
    "sha224": hashes.SHA224(),
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}
_PKCS1 = padding.PKCS1v15()
_SET_TAG = b"\x31"



class NotCmsSignature(ValueError):
    """The bytes are not a CMS SignedData with a signer; the message reads after the thing's name
    (``"client_secret " + message``)."""


def signer_view(signer: cms.SignerInfo) -> SignerView:
    """The parts of an asn1crypto SignerInfo a check needs (the signed attributes as signed)."""
    attributes = signer["signed_attrs"]
    signed: bytes | None = None
    digests: tuple[bytes, ...] = ()
    if isinstance(attributes, cms.CMSAttributes) and len(attributes):
        signed = _SET_TAG + as_received(attributes)[1:]
        digests = tuple(a["values"][0].native for a in attributes if a["type"].native == "message_digest")
    return SignerView(
        digest=signer["digest_algorithm"]["algorithm"].native,
        signature=signer["signature"].native,
        signed_attributes=signed,
        message_digests=digests,
    )


def parse_signed_data(der: bytes) -> CmsView:
    """The fields of a ContentInfo/SignedData that matter, or :class:`NotCmsSignature`: read by
    :mod:`.cms_der` when the input is plain DER (nearly always), else by asn1crypto's typed parser."""
    try:
        view = read_signed_data(der)
    except NotSignedData:
        raise NotCmsSignature("is not CMS SignedData") from None
    except Unusual:
        view = _parse_typed(der)
    if not view.signers:
        raise NotCmsSignature("has no signer")
    return view


def _parse_typed(der: bytes) -> CmsView:
    try:
        info = cms.ContentInfo.load(der)
        if info["content_type"].native != "signed_data":
            raise NotCmsSignature("is not CMS SignedData")
        signed = info["content"]
        attached = signed["encap_content_info"]["content"].native
        view = CmsView(attached=attached, signers=tuple(signer_view(s) for s in signed["signer_infos"]))
    except NotCmsSignature:
        raise
    except Exception as exc:  # asn1crypto raises ValueError, TypeError, KeyError... on garbage
        raise NotCmsSignature(f"is not DER CMS: {type(exc).__name__}") from None
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
        key.verify(signer.signature, signed_bytes, _PKCS1, algorithm)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True
