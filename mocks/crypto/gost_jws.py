"""JWS compact tokens signed with GOST R 34.10-2012-256 (``alg: GOST3410_2012_256``).

The signature is over Streebog-256 of the JWS signing input (``header.payload``), as the 64
bytes in gost-engine order, base64url without padding. Which header and claims a token carries
is ESIA's business (:mod:`..oauth.token_signing`); this module only signs and checks.
"""

from __future__ import annotations

import json
from typing import Any

from . import gost
from .b64url import b64url as _b64
from .b64url import unb64url as _unb64

__all__ = ["GOST_ALGORITHM", "decode_gost", "sign_gost_jws"]

GOST_ALGORITHM = "GOST3410_2012_256"


def sign_gost_jws(headers: dict[str, Any], claims: dict[str, Any], key: gost.GostPrivateKey) -> str:
    """``headers`` (which must name ``alg: GOST3410_2012_256``) and ``claims`` signed with ``key``."""
    signing_input = f"{_b64(json.dumps(headers).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64(key.sign(signing_input.encode()))}"


def decode_gost(token: str, public_key: gost.GostPublicKey) -> dict[str, Any]:
    """The claims of a GOST-signed token, or ``ValueError`` when it does not verify."""
    try:
        head, payload, signature = token.split(".")
        if json.loads(_unb64(head)).get("alg") != GOST_ALGORITHM:
            raise ValueError("not a GOST3410_2012_256 token")
        if not public_key.verify(_unb64(signature), f"{head}.{payload}".encode()):
            raise ValueError("the GOST signature does not verify")
        claims = json.loads(_unb64(payload))
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"token rejected: {exc}") from None
    if not isinstance(claims, dict):
        raise ValueError("token rejected: claims are not an object")
    return claims
