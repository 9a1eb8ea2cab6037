"""Each personal account's own GOST R 34.10-2012 key and certificate, with which it signs its
requests to ESIA (v2 ``client_secret``) and which ESIA has registered for its client system.

The pair lives in the stand's keys directory beside ESIA's, as two files named after the client
system (``account-<client_id>.key`` and ``.pem``; flat, so that a Kubernetes Secret made from the
directory carries them), and every replica has it (containers through a bind mount or a volume,
Kubernetes pods from that Secret). It is created once by whichever process comes first (the stand
before it registers the client system, ``gosstand keys``, or a replica), so every replica of a
service signs with the key ESIA knows.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path

from ..core.keyfiles import create_once
from ..core.settings import Settings
from ..crypto import gost
from ..crypto.gost_certificates import pem_of, self_signed_certificate

__all__ = ["AccountKeys", "account_keys", "key_files", "settings_keys"]


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


def key_files(client_id: str) -> tuple[str, str]:
    """The names of ``client_id``'s key and certificate in the stand's keys directory."""
    return f"account-{client_id}.key", f"account-{client_id}.pem"


@lru_cache(maxsize=8)
def account_keys(directory: Path, client_id: str) -> AccountKeys:
    """The pair in the keys ``directory``, made there first if absent.
    :class:`~..crypto.gost.GostUnavailable` where the system OpenSSL has no gost engine (ESIA v2
    cannot be signed without it)."""
    if not gost.available():
        raise gost.GostUnavailable(gost.unavailable_reason() or "no GOST engine")
    directory.mkdir(parents=True, exist_ok=True)
    key_file, cert_file = key_files(client_id)

    def new_pair() -> tuple[bytes, bytes]:
        key = gost.GostPrivateKey.generate()
        certificate = self_signed_certificate(key, client_id, organisation="gosstand personal account")
        return key.to_pem(), pem_of(certificate)

    create_once(directory, (key_file, cert_file), new_pair)
    return AccountKeys(gost.GostPrivateKey.from_pem((directory / key_file).read_bytes()),
                       (directory / cert_file).read_text())


def settings_keys(settings: Settings, client_id: str) -> AccountKeys:
    """The keys of ``client_id`` in a replica's keys directory."""
    return account_keys(settings.esia_keys_dir, client_id)
