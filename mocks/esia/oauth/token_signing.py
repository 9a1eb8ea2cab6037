"""Signing the tokens ESIA issues, apart from deciding what they say (:mod:`.tokens`).

Codes and id_tokens are always RS256 (relying parties read the id_token with ordinary JWT
libraries). Access tokens are signed as their client is registered (``token_algorithm``):
RS256, or GOST R 34.10-2012-256 with ESIA's GOST key pair (:mod:`..crypto.gost_keys`) — where
the gost engine is missing the GOST client gets RS256 tokens rather than none.

RS256 tokens are put together here and signed by ``cryptography`` (RSASSA-PKCS1-v1_5 over
SHA-256, RFC 7518 §3.3), not by PyJWT's ``encode``: a login signs three tokens and the token
endpoint one per request, and PyJWT's checks, header sorting and encoding of each header cost
about 35 µs a token (measured: ``jwt.encode`` 45 µs against 11 µs for the same token put
together by hand, both with HS256 so that the signature's own cost is left out). The header of
each kind is rendered once, exactly as PyJWT renders it (compact JSON, keys sorted), and the
claims as PyJWT renders them (compact JSON, in their order), so the tokens are the very bytes
PyJWT makes — RSASSA-PKCS1-v1_5 is deterministic, and a test compares the two.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from ...core.settings import Settings
from ...crypto.b64url import b64url
from ...crypto.gost_jws import GOST_ALGORITHM, sign_gost_jws
from ..crypto.gost_keys import GostSigningKeys, gost_signing_keys
from ..crypto.keys import signing_keys
from .tokens import TokenKind, header

__all__ = ["sign", "sign_access_token", "sign_gost"]

#: RS256's padding and digest: stateless, made once per process rather than per token.
_PKCS1, _SHA256 = padding.PKCS1v15(), hashes.SHA256()


@lru_cache(maxsize=16)
def _rs256_header(kind: TokenKind, key_id: str | None) -> str:
    """The first segment of an RS256 token of ``kind``: the same for every token of that kind."""
    headers = header(kind)
    if key_id:
        headers["kid"] = key_id
    return b64url(json.dumps(headers, separators=(",", ":"), sort_keys=True).encode())


def sign(claims: dict[str, Any], *, kind: TokenKind, key: RSAPrivateKey, key_id: str | None = None) -> str:
    """An RS256 JWT with ESIA's header for ``kind``."""
    signing_input = f"{_rs256_header(kind, key_id)}.{b64url(json.dumps(claims, separators=(',', ':')).encode())}"
    signature = key.sign(signing_input.encode(), _PKCS1, _SHA256)
    return f"{signing_input}.{b64url(signature)}"


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
