"""ESIA's access tokens, checked as a relying party checks them: by UTKO and FTS, which accept
them, and by ESIA's own ``/rs`` (:mod:`gosstand.mocks.esia.oauth.token_verifier` hands this
verifier ESIA's own keys).

A token is accepted when ESIA's RSA key signed it (RS256) or its GOST key did
(``GOST3410_2012_256``), its ``iss`` is the configured issuer, and it names a person or an
organisation by OID (``urn:esia:sbj_id``) and has an ``exp``. Whether it is still in force,
and its scopes, the gate checks on every request (:class:`~.bearer.BearerGate`).

It lives in the core, not in ESIA, because the token is the one contract between the services:
ESIA writes it (``esia/oauth/token_signing.py``), UTKO and FTS read it with the certificates ESIA
publishes in the shared keys directory (:mod:`.keys`), and neither service imports the other.
"""

from __future__ import annotations

from collections.abc import Callable

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from ..crypto import gost
from ..crypto.gost_jws import GOST_ALGORITHM, decode_gost
from .bearer import BearerGate, Identity, SessionSource, unauthorized
from .keys import load_certificate, published_gost_key
from .settings import Settings

__all__ = ["AccessTokenVerifier", "GostKeySource", "relying_party_gate", "scope_names"]

GostKeySource = Callable[[], gost.GostPublicKey | None]


def scope_names(scope_claim: str) -> frozenset[str]:
    """``"fullname?oid=1 openid"`` → ``{"fullname", "openid"}``; org scopes keep their last path part."""
    names = set()
    for item in scope_claim.split():
        base = item.split("?", 1)[0]
        names.add(base.rstrip("/").rsplit("/", 1)[-1])
    return frozenset(names)


class AccessTokenVerifier:
    """ESIA's access tokens in both forms. ``gost_key`` is asked on each GOST token it has not
    seen (the gate remembers verified ones), so a replica started before ESIA published its GOST
    certificate accepts GOST tokens once it has."""

    def __init__(self, rsa_key: RSAPublicKey, issuer: str, gost_key: GostKeySource) -> None:
        self._rsa_key = rsa_key
        self._issuer = issuer
        self._gost_key = gost_key

    def identity(self, token: str) -> Identity:
        claims = self._gost_claims(token) if self._is_gost(token) else self._rsa_claims(token)
        if claims.get("iss") != self._issuer:
            raise unauthorized("token issued by another ESIA")
        oid = claims.get("urn:esia:sbj_id")
        if not isinstance(oid, int) or not isinstance(claims.get("exp"), int | float):
            raise unauthorized("not an ESIA access token")
        return Identity(oid=oid, client_id=str(claims.get("client_id", "")),
                        scopes=scope_names(str(claims.get("scope", ""))), claims=claims)

    @staticmethod
    def _is_gost(token: str) -> bool:
        try:
            return jwt.get_unverified_header(token).get("alg") == GOST_ALGORITHM
        except jwt.InvalidTokenError:
            return False

    def _rsa_claims(self, token: str) -> dict:
        try:
            return jwt.decode(
                token,
                self._rsa_key,
                algorithms=["RS256"],
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False},
            )
        except jwt.InvalidTokenError as exc:
            raise unauthorized(f"token rejected: {exc}") from None

    def _gost_claims(self, token: str) -> dict:
        key = self._gost_key()
        if key is None:
            raise unauthorized("GOST3410_2012_256 tokens cannot be verified here (no ESIA GOST certificate)")
        try:
            return decode_gost(token, key)
        except ValueError as exc:
            raise unauthorized(str(exc)) from None


def relying_party_gate(settings: Settings, *, sessions: SessionSource | None = None) -> BearerGate:
    """The gate a UTKO or FTS replica builds at start from the certificates ESIA publishes in
    the shared keys directory: RS256 tokens at once, GOST ones once ESIA's GOST certificate is
    there. ``sessions``: the service's personal-account sessions, let in beside the tokens."""
    key = load_certificate(settings.esia_keys_dir).public_key()
    assert isinstance(key, RSAPublicKey)
    found: list[gost.GostPublicKey] = []

    def gost_key() -> gost.GostPublicKey | None:
        if not found and (published := published_gost_key(settings.esia_keys_dir)) is not None:
            found.append(published)
        return found[0] if found else None

    return BearerGate(AccessTokenVerifier(key, settings.esia_issuer, gost_key), sessions=sessions)
