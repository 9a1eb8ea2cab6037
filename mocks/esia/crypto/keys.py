"""Per-process caches of immutable things an ESIA replica needs on every login: its signing
key pair and the verifier of its own access tokens. Loaded once per key directory, never per
request (loading a PEM key costs more than the whole rest of a login)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ...core.bearer import BearerVerifier
from ...core.keys import SigningKeys, ensure_signing_keys
from ...core.settings import Settings
from .gost_keys import EsiaTokenVerifier, gost_signing_keys


@lru_cache(maxsize=8)
def _keys(directory: Path) -> SigningKeys:
    return ensure_signing_keys(directory)


def signing_keys(settings: Settings) -> SigningKeys:
    return _keys(settings.esia_keys_dir)


@lru_cache(maxsize=8)
def _verifier(directory: Path, issuer: str) -> BearerVerifier:
    return BearerVerifier(_keys(directory).public_key, issuer)


@lru_cache(maxsize=8)
def _gost_verifier(settings: Settings) -> BearerVerifier:
    keys = gost_signing_keys(settings)
    if keys is None:
        return _verifier(settings.esia_keys_dir, settings.esia_issuer)
    gost_key = keys.public_key
    return EsiaTokenVerifier(_keys(settings.esia_keys_dir).public_key, settings.esia_issuer, lambda: gost_key)


def token_verifier(settings: Settings) -> BearerVerifier:
    """Verifies the access tokens this ESIA issued (for ``/rs``): RS256, and GOST3410_2012_256
    where the gost engine is present."""
    return _gost_verifier(settings)
