"""What the account checks of ESIA's tokens before it trusts a sign-in: both signed by ESIA
(the access token through the same verifier the APIs use, the ID token RS256 with ESIA's
certificate), issued by the configured issuer, to this client system, for the same person,
and in force on the service's clock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from ..core.bearer import BearerGate, Identity
from ..core.problems import Problem
from .refusals import SignInRefused

__all__ = ["VerifiedSignIn", "verify_tokens"]

_LEEWAY = 5


@dataclass(frozen=True, slots=True)
class VerifiedSignIn:
    oid: int
    access_token: str
    identity: Identity
    #: ``PWD`` (password) or ``DS`` (electronic signature), from the ID token.
    method: str
    #: When the access token ends, on ESIA's clock (its ``exp``).
    expires: float
    #: What renews the access token ("" when ESIA gave none).
    refresh_token: str


def verify_tokens(answer: dict[str, Any], *, gate: BearerGate, esia_key: RSAPublicKey, issuer: str,
                  client_id: str, now: float) -> VerifiedSignIn:
    access, id_token = answer.get("access_token"), answer.get("id_token")
    if not isinstance(access, str) or not isinstance(id_token, str):
        raise SignInRefused("ЕСИА не выдала токены", detail="the token answer lacks access_token or id_token")
    try:
        identity = gate.identity(access)
    except Problem as exc:
        raise SignInRefused("Токен доступа ЕСИА не прошёл проверку", detail=exc.detail or "") from None
    if identity.client_id != client_id:
        raise SignInRefused("Токен выдан другой системе", detail=f"access token client_id {identity.client_id!r}")
    try:
        claims = jwt.decode(id_token, esia_key, algorithms=["RS256"], audience=client_id, issuer=issuer,
                            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False,
                                     "verify_sub": False})
    except jwt.InvalidTokenError as exc:
        raise SignInRefused("Маркер идентификации ЕСИА не прошёл проверку", detail=str(exc)) from None
    for name, token_claims in (("access_token", identity.claims), ("id_token", claims)):
        if not token_claims.get("nbf", 0) - _LEEWAY <= now < token_claims.get("exp", 0):
            raise SignInRefused("Срок действия токена ЕСИА истёк", detail=f"{name} is not in force now")
    if claims.get("sub") != identity.oid:
        raise SignInRefused("Токены ЕСИА выданы разным людям", detail="id_token sub differs from the access token's")
    refresh = answer.get("refresh_token")
    return VerifiedSignIn(oid=identity.oid, access_token=access, identity=identity,
                          method=str(claims.get("urn:esia:amd", "PWD")), expires=float(identity.claims["exp"]),
                          refresh_token=refresh if isinstance(refresh, str) and len(refresh) <= 256 else "")
