"""Each personal account's own GOST R 34.10-2012 key and certificate, with which it signs its
requests to ESIA (v2 ``client_secret``) and which ESIA has registered for its client system.

The pair lives in the stand's keys directory beside ESIA's (``accounts/<client_id>/``; every
replica has it, containers through a bind mount), created once by whichever process comes first
(the stand, before it registers the client system, or a replica), so every replica of a service
signs with the key ESIA knows.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path

from ..core.keyfiles import create_once
from ..core.settings import Settings
from ..crypto import gost
from ..crypto.gost_certificates import pem_of, self_signed_certificate

__all__ = ["AccountKeys", "account_keys", "keys_directory", "settings_keys"]

KEY_FILE = "client-gost.key"
CERT_FILE = "client-gost.pem"


class AccountKeys:
    """The signing half and the certificate ESIA checks it against."""

    def __init__(self, private_key: gost.GostPrivateKey, certificate_pem: str) -> None:
        self._key = private_key
        self.certificate_pem = certificate_pem
        der = base64.b64decode("".join(line for line in certificate_pem.splitlines() if not line.startswith("-----")))
        #: v2's ``client_certificate_hash``: Streebog-256 of the certificate's DER, in hex.
        self.certificate_hash = gost.streebog256(der).hex()

    def sign(self, message: str) -> bytes:
        """The raw 64-byte signature of ``message`` (UTF-8), in the byte order ESIA reads."""
        return self._key.sign(message.encode())


def keys_directory(keys_dir: Path, client_id: str) -> Path:
    """Where ``client_id``'s pair lives in the stand's keys directory."""
    return keys_dir / "accounts" / client_id


@lru_cache(maxsize=8)
def account_keys(directory: Path, client_id: str) -> AccountKeys:
    """The pair in ``directory``, made there first if absent. :class:`~..crypto.gost.GostUnavailable`
    where the system OpenSSL has no gost engine (ESIA v2 cannot be signed without it)."""
    if not gost.available():
        raise gost.GostUnavailable(gost.unavailable_reason() or "no GOST engine")
    directory.mkdir(parents=True, exist_ok=True)

    def new_pair() -> tuple[bytes, bytes]:
        key = gost.GostPrivateKey.generate()
        certificate = self_signed_certificate(key, client_id, organisation="gosstand personal account")
        return key.to_pem(), pem_of(certificate)

    create_once(directory, (KEY_FILE, CERT_FILE), new_pair)
    return AccountKeys(gost.GostPrivateKey.from_pem((directory / KEY_FILE).read_bytes()),
                       (directory / CERT_FILE).read_text())


def settings_keys(settings: Settings, client_id: str) -> AccountKeys:
    """The keys of ``client_id`` in a replica's keys directory."""
    return account_keys(keys_directory(settings.esia_keys_dir, client_id), client_id)
