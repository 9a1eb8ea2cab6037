"""Checking a v1 ``client_secret``: a CMS/PKCS#7 SignedData over
``scope + timestamp + client_id + state``, and a v2 one: the bare GOST R 34.10-2012-256 signature.

Real clients send it in every shape real ESIA accepts, so every one of them is accepted here:
detached or attached content; url-safe or standard base64; padding kept, stripped or
half-stripped; with or without signed attributes. The CMS is read and its signer checked by the
mocks' shared CMS code (:mod:`...crypto.cms_signature`, which FTS's document signatures use
too); what is ESIA's here is the message, the base64 forms, the client's registered key and the
signature modes. ESIA registers 256-bit GOST client keys only.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from ...core.settings import SignatureMode
from ...crypto import gost
from ...crypto.cms_der import CmsView
from ...crypto.cms_signature import NotCmsSignature, parse_signed_data, verify_signer


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


def _signed_data(raw: bytes) -> CmsView:
    """The SignedData of a decoded ``client_secret``, or :class:`SecretRejected` saying why not."""
    try:
        return parse_signed_data(raw)
    except NotCmsSignature as exc:
        raise SecretRejected(f"client_secret {exc}") from None


def verify_client_secret(
    secret: str, message: bytes, *, key: RSAPublicKey | gost.GostPublicKey | None, mode: SignatureMode
) -> None:
    """Accept or raise :class:`SecretRejected`, per ``mode``: ``strict`` verifies the signature
    with the client's registered key, ``structural`` only parses, ``off`` checks nothing."""
    if mode == "off":
        return
    signed = _signed_data(decode_base64(secret))
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
    except NotCmsSignature:
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
