"""Files a declarant uploads to FTS, and detached CMS signatures over them (``.p7s``) made with a
throwaway RSA certificate, as a qualified e-signature tool would attach them.

The ``signer`` fixture (one certificate and key per test module: RSA keys are slow to make) is in
``conftest.py``."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7

#: The smallest file FTS takes as a PDF scan.
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"

Signer = tuple[x509.Certificate, rsa.RSAPrivateKey]


def make_signer(name: str = "Петров Иван Сергеевич") -> Signer:
    """A self-signed certificate for ``name`` (valid 2026–2028) and its RSA-2048 key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, name)])
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                   .serial_number(4242).not_valid_before(now).not_valid_after(now + dt.timedelta(days=800))
                   .sign(key, hashes.SHA256()))
    return certificate, key


def p7s(content: bytes, signer: Signer) -> bytes:
    """A detached CMS signature (DER) of ``content`` by ``signer``, SHA-256."""
    certificate, key = signer
    return (pkcs7.PKCS7SignatureBuilder().set_data(content).add_signer(certificate, key, hashes.SHA256())
            .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]))
