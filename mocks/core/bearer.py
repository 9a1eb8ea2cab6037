"""Verifying the ESIA access tokens that UTKO and FTS accept (RFC 6750 answers).

A token is accepted when ESIA's key signed it, its ``iss`` is the configured issuer, and the
mock's clock is inside ``nbf``..``exp``. Verified signatures are cached by token text (the
same bytes always verify the same way); expiry is checked on every request.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from starlette.requests import Request

from .context import context
from .keys import load_certificate
from .problems import Problem

_CACHE_SIZE = 8192


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is calling: the person's OID, the client system, and the granted scopes by name."""

    oid: int
    client_id: str
    scopes: frozenset[str]
    claims: dict[str, Any]


def _unauthorized(detail: str, *, summary: str = "The access token is invalid") -> Problem:
    """A 401 whose body says exactly why (``detail``, PyJWT's message among others) and whose
    ``WWW-Authenticate`` carries only ``summary``, a fixed sentence of the visible ASCII that
    RFC 6750 allows in ``error_description`` — no library message and nothing the client sent."""
    return Problem(
        401,
        detail,
        headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{summary}"'},
    )


def _scope_names(scope_claim: str) -> frozenset[str]:
    """``"fullname?oid=1 openid"`` → ``{"fullname", "openid"}``; org scopes keep their last path part."""
    names = set()
    for item in scope_claim.split():
        base = item.split("?", 1)[0]
        names.add(base.rstrip("/").rsplit("/", 1)[-1])
    return frozenset(names)


class BearerVerifier:
    def __init__(self, public_key: RSAPublicKey, issuer: str) -> None:
        self._key = public_key
        self._issuer = issuer
        self._verified: OrderedDict[str, Identity] = OrderedDict()

    def _decode(self, token: str) -> Identity:
        """The identity a token proves, verified once per token text (an LRU cache)."""
        identity = self._verified.get(token)
        if identity is not None:
            self._verified.move_to_end(token)
            return identity
        identity = self._verify(token)
        self._verified[token] = identity
        if len(self._verified) > _CACHE_SIZE:
            self._verified.popitem(last=False)
        return identity

    def _verify(self, token: str) -> Identity:
        """Check signature and issuer (uncached); subclasses add other algorithms."""
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=["RS256"],
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False},
            )
        except jwt.InvalidTokenError as exc:
            raise _unauthorized(f"token rejected: {exc}") from None
        if claims.get("iss") != self._issuer:
            raise _unauthorized("token issued by another ESIA")
        oid = claims.get("urn:esia:sbj_id")
        if not isinstance(oid, int) or not isinstance(claims.get("exp"), int | float):
            raise _unauthorized("not an ESIA access token")
        return Identity(
            oid=oid,
            client_id=str(claims.get("client_id", "")),
            scopes=_scope_names(str(claims.get("scope", ""))),
            claims=claims,
        )

    def identity(self, token: str) -> Identity:
        """Who ``token`` proves the caller is (signature and issuer; cached), or a 401."""
        return self._decode(token)

    async def identify(self, request: Request, *, scopes: tuple[str, ...] = ("openid",)) -> Identity:
        """The caller, or a 401 (no/invalid/expired token) or 403 (a scope is missing)."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Problem(401, "send Authorization: Bearer <ESIA access token>",
                          headers={"WWW-Authenticate": 'Bearer realm="gosstand"'})
        identity = self.identity(token.strip())
        authorize(identity, await context(request).clock.now(), scopes)
        return identity


def authorize(identity: Identity, now: float, scopes: tuple[str, ...]) -> None:
    """Whether ``identity``'s token is in force at ``now`` (401) and grants ``scopes`` (403)."""
    if now >= identity.claims["exp"]:
        raise _unauthorized("token expired", summary="The access token expired")
    if now < identity.claims.get("nbf", 0) - 5:
        raise _unauthorized("token not valid yet", summary="The access token is not valid yet")
    missing = [scope for scope in scopes if scope not in identity.scopes]
    if missing:
        raise Problem(
            403,
            f"the token lacks the scope(s) {', '.join(missing)}",
            headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{" ".join(scopes)}"'},
        )


def verifier_for(ctx_settings: Any) -> BearerVerifier:
    """The verifier a UTKO or FTS replica builds at start from ESIA's published certificates:
    RS256 access tokens, and GOST3410_2012_256 ones once ESIA's GOST certificate is published
    (the token formats are ESIA's, hence the import)."""
    from ..esia.crypto.gost_keys import EsiaTokenVerifier, published_gost_key

    certificate = load_certificate(ctx_settings.esia_keys_dir)
    key = certificate.public_key()
    assert isinstance(key, RSAPublicKey)
    found: list[Any] = []

    def gost_key() -> Any:
        if not found and (published := published_gost_key(ctx_settings.esia_keys_dir)) is not None:
            found.append(published)
        return found[0] if found else None

    return EsiaTokenVerifier(key, ctx_settings.esia_issuer, gost_key)
