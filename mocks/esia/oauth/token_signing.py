"""Signing the tokens ESIA issues, apart from deciding what they say (:mod:`.tokens`).

Codes and id_tokens are always RS256 (relying parties read the id_token with ordinary JWT
libraries). Access tokens are signed as their client is registered (``token_algorithm``):
RS256, or GOST R 34.10-2012-256 with ESIA's GOST key pair (:mod:`..crypto.gost_keys`) — where
the gost engine is missing the GOST client gets RS256 tokens rather than none.
"""

from __future__ import annotations

from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from ...core.settings import Settings
from ...crypto.gost_jws import GOST_ALGORITHM, sign_gost_jws
from ..crypto.gost_keys import GostSigningKeys, gost_signing_keys
from ..crypto.keys import signing_keys
from .tokens import TokenKind, header

__all__ = ["sign", "sign_access_token", "sign_gost"]


def sign(claims: dict[str, Any], *, kind: TokenKind, key: RSAPrivateKey, key_id: str | None = None) -> str:
    """An RS256 JWT with ESIA's header for ``kind``."""
    headers = header(kind)
    if key_id:
        headers["kid"] = key_id
    return jwt.encode(claims, key, algorithm="RS256", headers=headers)


def sign_gost(claims: dict[str, Any], *, kind: TokenKind, keys: GostSigningKeys) -> str:
    """A JWS compact token with ESIA's header for ``kind`` and ``alg: GOST3410_2012_256``."""
    return sign_gost_jws({**header(kind, GOST_ALGORITHM), "kid": keys.key_id}, claims, keys.private_key)


def sign_access_token(claims: dict[str, Any], *, settings: Settings, algorithm: str) -> str:
    """The access token signed as its client is registered: ``GOST3410_2012_256`` with ESIA's
    GOST key where the engine is present, anything else RS256 with ESIA's RSA key."""
    if algorithm == GOST_ALGORITHM:
        gost_keys = gost_signing_keys(settings)
        if gost_keys is not None:
            return sign_gost(claims, kind="access", keys=gost_keys)
    keys = signing_keys(settings)
    return sign(claims, kind="access", key=keys.private_key, key_id=keys.key_id)
