"""ESIA's own key material: the RSA key that signs its tokens and the certificate that
relying parties (and the UTKO and FTS mocks) verify them with.

The stack creates the pair once per state directory before any replica starts, so every
ESIA replica signs with the same key and every UTKO/FTS replica trusts it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from ..crypto import gost
from .keyfiles import create_once

KEY_FILE = "esia-signing.key"
CERT_FILE = "esia-signing.pem"
#: ESIA's GOST token-signing pair beside the RSA one, written by ESIA where the gost engine is
#: present (``esia/crypto/gost_keys.py``); relying parties read only the certificate.
GOST_KEY_FILE = "esia-gost.key"
GOST_CERT_FILE = "esia-gost.pem"


@dataclass(frozen=True)
class SigningKeys:
    private_key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @cached_property
    def public_key(self) -> rsa.RSAPublicKey:
        key = self.certificate.public_key()
        assert isinstance(key, rsa.RSAPublicKey)
        return key

    @cached_property
    def key_id(self) -> str:
        """The ``kid`` in every token header; computed once (a certificate hash per token cost
        more than a store read)."""
        return self.certificate.fingerprint(hashes.SHA256()).hex()[:16]


def _self_signed(key: rsa.RSAPrivateKey, common_name: str) -> x509.Certificate:
    name = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "RU"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "gosstand mock ESIA"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )


def ensure_signing_keys(directory: Path) -> SigningKeys:
    """Load the pair from ``directory``, creating it first if this is a new state directory.

    Replicas racing to start (in containers too, where they share the directory but not a PID
    namespace) agree on one pair: see :mod:`.keyfiles`.
    """
    create_once(directory, (KEY_FILE, CERT_FILE), _new_pair)
    return load_signing_keys(directory)


def _new_pair() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = _self_signed(key, "ESIA mock token signing")
    return (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()),
            cert.public_bytes(serialization.Encoding.PEM))


def load_signing_keys(directory: Path) -> SigningKeys:
    """The pair as :func:`ensure_signing_keys` wrote it. The RSA key's consistency check is
    skipped: it guards against keys from elsewhere and took 0.12 s of every ESIA replica's start;
    this key is the one the stand generated itself."""
    key = serialization.load_pem_private_key((directory / KEY_FILE).read_bytes(), password=None,
                                             unsafe_skip_rsa_key_validation=True)
    assert isinstance(key, rsa.RSAPrivateKey)
    return SigningKeys(key, load_certificate(directory))


def load_certificate(directory: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate((directory / CERT_FILE).read_bytes())


def published_gost_key(directory: Path) -> gost.GostPublicKey | None:
    """ESIA's GOST token key as its replicas publish it in the keys directory (the certificate
    only), or ``None`` while there is none or the gost engine is missing here. UTKO and FTS
    verify GOST-signed access tokens with it."""
    path = directory / GOST_CERT_FILE
    if not gost.available() or not path.exists():
        return None
    certificate = x509.load_pem_x509_certificate(path.read_bytes())
    return gost.public_key_from_certificate(certificate.public_bytes(serialization.Encoding.DER))
