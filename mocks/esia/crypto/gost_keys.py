"""ESIA's own GOST key pair, which signs the access tokens of clients registered for
``GOST3410_2012_256`` (:mod:`..oauth.token_signing`).

The key pair lives beside the RSA one in the keys directory (``esia-gost.key``,
``esia-gost.pem``), created once (:mod:`...core.keyfiles`, so racing replicas agree) and cached per process.
Its certificate is published at ``/_gosstand/esia/cert-gost.pem``, and relying parties read it from
the keys directory (:func:`gosstand.mocks.core.keys.published_gost_key`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ...core.keyfiles import create_once
from ...core.keys import GOST_CERT_FILE, GOST_KEY_FILE
from ...core.settings import Settings
from ...crypto import gost
from ...crypto.gost_certificates import pem_of, self_signed_certificate


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
        return pem_of(self.certificate_der)


def _pem_to_der(pem: bytes) -> bytes:
    return base64.b64decode(b"".join(line for line in pem.splitlines() if not line.startswith(b"-----")))


@lru_cache(maxsize=8)
def _ensure(directory: Path) -> GostSigningKeys:
    create_once(directory, (GOST_KEY_FILE, GOST_CERT_FILE), _new_pair)
    key_path, cert_path = directory / GOST_KEY_FILE, directory / GOST_CERT_FILE
    return GostSigningKeys(gost.GostPrivateKey.from_pem(key_path.read_bytes()), _pem_to_der(cert_path.read_bytes()))


def _new_pair() -> tuple[bytes, bytes]:
    key = gost.GostPrivateKey.generate()
    certificate = self_signed_certificate(key, "ESIA mock GOST token signing", organisation="gosstand mock ESIA")
    return key.to_pem(), GostSigningKeys(key, certificate).certificate_pem


def ensure_gost_signing_keys(directory: Path) -> GostSigningKeys | None:
    """The GOST pair in ``directory``, made if missing; ``None`` where the gost engine is missing
    (``gosstand keys`` makes a keys directory every replica of a deployment then shares)."""
    return _ensure(directory) if gost.available() else None


def gost_signing_keys(settings: Settings) -> GostSigningKeys | None:
    """The replica's GOST key pair, or ``None`` where the gost engine is missing."""
    if not gost.available():
        return None
    return _ensure(settings.esia_keys_dir)
