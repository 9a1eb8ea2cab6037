"""ESIA's RSA signing key pair, loaded once per key directory and process, never per request
(loading a PEM key costs more than the whole rest of a login). Its GOST pair: :mod:`.gost_keys`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ...core.keys import SigningKeys, ensure_signing_keys
from ...core.settings import Settings

__all__ = ["signing_keys"]


@lru_cache(maxsize=8)
def _keys(directory: Path) -> SigningKeys:
    return ensure_signing_keys(directory)


def signing_keys(settings: Settings) -> SigningKeys:
    return _keys(settings.esia_keys_dir)
