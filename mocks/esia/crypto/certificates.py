"""Client certificates as the signature checks need them: the public key (RSA or GOST
R 34.10-2012-256) and, for v2, the Streebog-256 digest of the DER certificate.

Both are cached per PEM text in process memory — a PEM never changes meaning, and parsing a
certificate costs more than verifying a signature with it.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from ...crypto import gost

ClientKey = RSAPublicKey | gost.GostPublicKey


@lru_cache(maxsize=4096)
def certificate_der(pem: str) -> bytes:
    """The DER bytes of a PEM certificate (``ValueError`` if it is not one)."""
    return x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization.Encoding.DER)


@lru_cache(maxsize=4096)
def public_key_of(pem: str) -> ClientKey:
    """The RSA or GOST key of a PEM certificate; ``ValueError`` for anything else.

    ``cryptography`` knows no GOST keys, so those are read by the system OpenSSL's gost engine
    (:mod:`.gost`); without the engine a GOST certificate is refused with the install hint.
    ESIA's protocols use 256-bit GOST keys only (v2's ``client_secret`` is a 64-byte signature),
    so a 512-bit one, which :mod:`.gost` reads for FTS document signatures, is refused here."""
    certificate = x509.load_pem_x509_certificate(pem.encode())
    try:
        key = certificate.public_key()
    except UnsupportedAlgorithm:
        key = None
    if isinstance(key, RSAPublicKey):
        return key
    if key is not None:
        raise ValueError("only RSA and GOST R 34.10-2012 (256) client certificates are supported")
    try:
        gost_key = gost.public_key_from_certificate(certificate.public_bytes(serialization.Encoding.DER))
    except gost.GostUnavailable as exc:
        raise ValueError(f"GOST certificates need the gost engine here: {exc}") from None
    except gost.GostError as exc:
        raise ValueError(f"only RSA and GOST R 34.10-2012 (256) client certificates are supported: {exc}") from None
    if gost_key.bits != 256:
        raise ValueError("only RSA and GOST R 34.10-2012 (256) client certificates are supported: "
                         f"this is a {gost_key.bits}-bit GOST key")
    return gost_key


def is_gost(pem: str | None) -> bool:
    return pem is not None and isinstance(public_key_of(pem), gost.GostPublicKey)


@lru_cache(maxsize=4096)
def streebog_hex(pem: str) -> str:
    """``client_certificate_hash`` as ESIA v2 computes it: Streebog-256 of the DER, lower-case hex."""
    return gost.streebog256(certificate_der(pem)).hex()
