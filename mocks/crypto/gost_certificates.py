"""Self-signed GOST R 34.10-2012 certificates, for the keys the stand's servers make for
themselves: ESIA's token-signing key and each personal account's client-system key."""

from __future__ import annotations

import base64
import datetime as dt
import secrets

from asn1crypto import algos, core, keys, x509

from . import gost

__all__ = ["pem_of", "self_signed_certificate"]


def self_signed_certificate(key: gost.GostPrivateKey, common_name: str, *, organisation: str,
                            days: int = 3650) -> bytes:
    """A DER X.509 v3 certificate for ``key``, signed by itself (RFC 4491 signature layout)."""
    name = x509.Name.build({"country_name": "RU", "organization_name": organisation, "common_name": common_name})
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    algorithm = algos.SignedDigestAlgorithm({"algorithm": gost.OID_SIGNATURE_256})
    tbs = x509.TbsCertificate({
        "version": "v3",
        "serial_number": secrets.randbits(63),
        "signature": algorithm,
        "issuer": name,
        "validity": {"not_before": x509.Time({"utc_time": now - dt.timedelta(days=1)}),
                     "not_after": x509.Time({"utc_time": now + dt.timedelta(days=days)})},
        "subject": name,
        "subject_public_key_info": keys.PublicKeyInfo.load(key.public_key().spki()),
    })
    return x509.Certificate({
        "tbs_certificate": tbs,
        "signature_algorithm": algorithm,
        "signature_value": core.OctetBitString(key.sign(tbs.dump())),
    }).dump()


def pem_of(der: bytes) -> bytes:
    """A DER certificate as PEM text, 64 characters a line."""
    body = base64.encodebytes(der).decode().replace("\n", "")
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN CERTIFICATE-----\n{lines}\n-----END CERTIFICATE-----\n".encode()
