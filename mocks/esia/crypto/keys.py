"""ESIA's RSA signing key pair, loaded once per key directory and process, never per request
(loading a PEM key costs more than the whole rest of a login), and the secrets derived from it
(:func:`derived_secret`). Its GOST pair: :mod:`.gost_keys`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ...core.keys import SigningKeys, ensure_signing_keys
from ...core.settings import Settings

__all__ = ["derived_secret", "signing_keys"]


@lru_cache(maxsize=8)
def _keys(directory: Path) -> SigningKeys:
    return ensure_signing_keys(directory)


def signing_keys(settings: Settings) -> SigningKeys:
    return _keys(settings.esia_keys_dir)


@lru_cache(maxsize=16)
def _derived(directory: Path, purpose: bytes) -> bytes:
    private = _keys(directory).private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(private)


def derived_secret(settings: Settings, purpose: bytes) -> bytes:
    """A 32-byte secret for ``purpose`` (HKDF-SHA256 of ESIA's private key): the same on every
    replica that shares the keys directory, different for every purpose, and never the key."""
    return _derived(settings.esia_keys_dir, purpose)
