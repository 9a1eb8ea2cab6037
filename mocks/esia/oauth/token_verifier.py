"""The gate of ESIA's own ``/rs``: ESIA's access tokens checked with ESIA's own keys, by the
verifier UTKO and FTS use too (:mod:`gosstand.mocks.core.access_tokens`).
"""

from __future__ import annotations

from functools import lru_cache

from ...core.access_tokens import AccessTokenVerifier
from ...core.bearer import BearerGate
from ...core.settings import Settings
from ..crypto.gost_keys import gost_signing_keys
from ..crypto.keys import signing_keys

__all__ = ["own_gate"]


@lru_cache(maxsize=8)
def own_gate(settings: Settings) -> BearerGate:
    """The gate of ESIA's own ``/rs``: its RSA key, and its GOST key where the engine is present."""
    gost_keys = gost_signing_keys(settings)
    gost_key = None if gost_keys is None else gost_keys.public_key
    verifier = AccessTokenVerifier(signing_keys(settings).public_key, settings.esia_issuer, lambda: gost_key)
    return BearerGate(verifier)
