"""ESIA's own GOST key pair and access tokens signed with it (``alg: GOST3410_2012_256``).

A client registered with ``token_algorithm: GOST3410_2012_256`` gets its access tokens signed
with GOST R 34.10-2012-256 over Streebog-256 of the JWS signing input; the id_token stays RS256
(relying parties read it with ordinary JWT libraries). The JWS signature is the 64 bytes in
gost-engine order, base64url without padding.

The key pair lives beside the RSA one in the keys directory (``esia-gost.key``,
``esia-gost.pem``), created once (:mod:`..core.keyfiles`, so racing replicas agree) and cached per process.
Its certificate is published at ``/_gosstand/esia/cert-gost.pem``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jwt
from asn1crypto import algos, core, keys, x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from ...core.bearer import BearerVerifier, Identity, _scope_names, _unauthorized
from ...core.keyfiles import create_once
from ...core.settings import Settings
from ..oauth.tokens import header
from . import gost

GOST_ALGORITHM = "GOST3410_2012_256"
KEY_FILE = "esia-gost.key"
CERT_FILE = "esia-gost.pem"


@dataclass(frozen=True)
class GostSigningKeys:
    private_key: gost.GostPrivateKey
    certificate_der: bytes

    @property
    def public_key(self) -> gost.GostPublicKey:
        return gost.public_key_from_certificate(self.certificate_der)

    @property
    def key_id(self) -> str:
        return gost.streebog256(self.certificate_der).hex()[:16]

    @property
    def certificate_pem(self) -> bytes:
        body = base64.encodebytes(self.certificate_der).decode().replace("\n", "")
        lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
        return f"-----BEGIN CERTIFICATE-----\n{lines}\n-----END CERTIFICATE-----\n".encode()


def self_signed_certificate(key: gost.GostPrivateKey, common_name: str, *, days: int = 3650) -> bytes:
    """A DER X.509 v3 certificate for ``key``, signed by itself (RFC 4491 signature layout)."""
    name = x509.Name.build({"country_name": "RU", "organization_name": "gosstand mock ESIA",
                            "common_name": common_name})
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    algorithm = algos.SignedDigestAlgorithm({"algorithm": gost.OID_SIGNATURE_256})
    tbs = x509.TbsCertificate({
        "version": "v3",
        "serial_number": secrets.randbits(63),
        "signature": algorithm,
        "issuer": name,
        "validity": {"not_before": x509.Time({"utc_time": now - dt.timedelta(days=1)}),
                     "not_after": x509.Time({"utc_time": now + dt.timedelta(days=days)})},
        "subject": name,
        "subject_public_key_info": keys.PublicKeyInfo.load(key.public_key().spki()),
    })
    return x509.Certificate({
        "tbs_certificate": tbs,
        "signature_algorithm": algorithm,
        "signature_value": core.OctetBitString(key.sign(tbs.dump())),
    }).dump()


def _pem_to_der(pem: bytes) -> bytes:
    return base64.b64decode(b"".join(line for line in pem.splitlines() if not line.startswith(b"-----")))


@lru_cache(maxsize=8)
def _ensure(directory: Path) -> GostSigningKeys:
    create_once(directory, (KEY_FILE, CERT_FILE), _new_pair)
    key_path, cert_path = directory / KEY_FILE, directory / CERT_FILE
    return GostSigningKeys(gost.GostPrivateKey.from_pem(key_path.read_bytes()), _pem_to_der(cert_path.read_bytes()))


def _new_pair() -> tuple[bytes, bytes]:
    key = gost.GostPrivateKey.generate()
    certificate = self_signed_certificate(key, "ESIA mock GOST token signing")
    return key.to_pem(), GostSigningKeys(key, certificate).certificate_pem


def gost_signing_keys(settings: Settings) -> GostSigningKeys | None:
    """The replica's GOST key pair, or ``None`` where the gost engine is missing."""
    if not gost.available():
        return None
    return _ensure(settings.esia_keys_dir)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_gost(claims: dict[str, Any], *, kind: str, keys: GostSigningKeys) -> str:
    """A JWS compact token with ESIA's header for ``kind`` and ``alg: GOST3410_2012_256``."""
    headers = {**header(kind, GOST_ALGORITHM), "kid": keys.key_id}
    signing_input = f"{_b64(json.dumps(headers).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64(keys.private_key.sign(signing_input.encode()))}"


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


def sign_access_token(claims: dict[str, Any], *, settings: Settings, algorithm: str, rsa_sign) -> str:  # type: ignore[no-untyped-def]
    """The access token signed as the client is registered: ``GOST3410_2012_256`` here, anything
    else by ``rsa_sign(claims)`` (RS256)."""
    if algorithm == GOST_ALGORITHM:
        keys = gost_signing_keys(settings)
        if keys is not None:
            return sign_gost(claims, kind="access", keys=keys)
    return rsa_sign(claims)


def published_gost_key(directory: Path) -> gost.GostPublicKey | None:
    """ESIA's GOST token key as its replicas publish it in the keys directory (the certificate
    only), or ``None`` while there is none or the gost engine is missing here. UTKO and FTS
    verify GOST-signed access tokens with it."""
    path = directory / CERT_FILE
    if not gost.available() or not path.exists():
        return None
    return gost.public_key_from_certificate(_pem_to_der(path.read_bytes()))


class EsiaTokenVerifier(BearerVerifier):
    """ESIA's access tokens in both forms: RS256 as :class:`BearerVerifier` checks them, and
    GOST-signed ones with ESIA's GOST key — then the same issuer, subject and scope rules.

    ``gost_key`` is asked on each uncached GOST token (verified tokens are cached by text), so a
    replica started before ESIA published its GOST certificate accepts GOST tokens once it has."""

    def __init__(self, rsa_key: RSAPublicKey, issuer: str,
                 gost_key: Callable[[], gost.GostPublicKey | None]) -> None:
        super().__init__(rsa_key, issuer)
        self._gost_key = gost_key
        self._gost_issuer = issuer

    def _verify(self, token: str) -> Identity:
        try:
            is_gost = jwt.get_unverified_header(token).get("alg") == GOST_ALGORITHM
        except jwt.InvalidTokenError:
            is_gost = False
        if not is_gost:
            return super()._verify(token)
        key = self._gost_key()
        if key is None:
            raise _unauthorized("GOST3410_2012_256 tokens cannot be verified here (no ESIA GOST certificate)")
        try:
            claims = decode_gost(token, key)
        except ValueError as exc:
            raise _unauthorized(str(exc)) from None
        oid = claims.get("urn:esia:sbj_id")
        if claims.get("iss") != self._gost_issuer:
            raise _unauthorized("token issued by another ESIA")
        if not isinstance(oid, int) or not isinstance(claims.get("exp"), int | float):
            raise _unauthorized("not an ESIA access token")
        return Identity(oid=oid, client_id=str(claims.get("client_id", "")),
                        scopes=_scope_names(str(claims.get("scope", ""))), claims=claims)
