"""ESIA's own GOST key pair, which signs the access tokens of clients registered for
``GOST3410_2012_256`` (:mod:`..oauth.token_signing`).

The key pair lives beside the RSA one in the keys directory (``esia-gost.key``,
``esia-gost.pem``), created once (:mod:`...core.keyfiles`, so racing replicas agree) and cached per process.
Its certificate is published at ``/_gosstand/esia/cert-gost.pem``, and relying parties read it from
the keys directory (:func:`gosstand.mocks.core.keys.published_gost_key`).
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from asn1crypto import algos, core, keys, x509

from ...core.keyfiles import create_once
from ...core.keys import GOST_CERT_FILE, GOST_KEY_FILE
from ...core.settings import Settings
from ...crypto import gost


@dataclass(frozen=True)
class GostSigningKeys:
    private_key: gost.GostPrivateKey
    certificate_der: bytes

    @property
    def public_key(self) -> gost.GostPublicKey:
        return gost.public_key_from_certificate(self.certificate_der)

    @property
    def key_id(self) -> str:
        return gost.streebog256(self.certificate_der).hex()[:16]

    @property
    def certificate_pem(self) -> bytes:
        body = base64.encodebytes(self.certificate_der).decode().replace("\n", "")
        lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
        return f"-----BEGIN CERTIFICATE-----\n{lines}\n-----END CERTIFICATE-----\n".encode()


def self_signed_certificate(key: gost.GostPrivateKey, common_name: str, *, days: int = 3650) -> bytes:
    """A DER X.509 v3 certificate for ``key``, signed by itself (RFC 4491 signature layout)."""
    name = x509.Name.build({"country_name": "RU", "organization_name": "gosstand mock ESIA",
                            "common_name": common_name})
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


def _pem_to_der(pem: bytes) -> bytes:
    return base64.b64decode(b"".join(line for line in pem.splitlines() if not line.startswith(b"-----")))


@lru_cache(maxsize=8)
def _ensure(directory: Path) -> GostSigningKeys:
    create_once(directory, (GOST_KEY_FILE, GOST_CERT_FILE), _new_pair)
    key_path, cert_path = directory / GOST_KEY_FILE, directory / GOST_CERT_FILE
    return GostSigningKeys(gost.GostPrivateKey.from_pem(key_path.read_bytes()), _pem_to_der(cert_path.read_bytes()))


def _new_pair() -> tuple[bytes, bytes]:
    key = gost.GostPrivateKey.generate()
    certificate = self_signed_certificate(key, "ESIA mock GOST token signing")
    return key.to_pem(), GostSigningKeys(key, certificate).certificate_pem


def gost_signing_keys(settings: Settings) -> GostSigningKeys | None:
    """The replica's GOST key pair, or ``None`` where the gost engine is missing."""
    if not gost.available():
        return None
    return _ensure(settings.esia_keys_dir)
