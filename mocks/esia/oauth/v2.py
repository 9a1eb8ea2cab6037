"""ESIA v2 (MR 2.90+): ``GET /aas/oauth2/v2/ac`` and ``POST /aas/oauth2/v3/te``.

The flow is v1's — same login pages, codes, grants and tokens (:mod:`.authorize`,
:mod:`.grants`); only the proof of the client differs, and that is all this module holds
(the routes are in :mod:`.handlers`):

- ``client_secret`` is a raw 64-byte GOST R 34.10-2012-256 signature (Streebog-256 digest),
  base64 in either alphabet with any padding, in gost-engine byte order (CryptoPro CSP users
  reverse its 64 bytes first), over the v2 strings of :func:`signed_string`;
- ``client_certificate_hash`` is mandatory: Streebog-256 of the registered DER certificate,
  64 hex digits in any case. A SHA-1 (40 hex) or PEM value is
  :data:`~..errors.CLIENT_SECRET_WRONG`; a well-formed hash of another certificate is
  :data:`~..errors.CLIENT_NOT_TRUSTED`.

Signature modes work as in v1: ``strict`` checks the hash and verifies the signature with the
client's registered GOST certificate, ``structural`` checks only the shapes, ``off`` nothing.
"""

from __future__ import annotations

import re

from ...core.context import ServiceContext
from ...core.settings import SignatureMode
from ...crypto import gost
from ..crypto.certificates import streebog_hex
from ..crypto.signature import SecretRejected, verify_v2_secret
from ..errors import CLIENT_NOT_TRUSTED, CLIENT_SECRET_WRONG, EsiaError, OAuthCode
from .authorize import AC_MANDATORY
from .clients import ClientSystem
from .grants import TE_MANDATORY
from .params import Params, SecretCheck

CERTIFICATE_HASH = "client_certificate_hash"
V2_AC_MANDATORY = (*AC_MANDATORY, CERTIFICATE_HASH)
V3_TE_MANDATORY = (*TE_MANDATORY, CERTIFICATE_HASH)
_HEX64 = re.compile(r"[0-9A-Fa-f]{64}")


def signed_string(params: Params, client_id: str, *, timestamp: str, endpoint: str) -> bytes:
    """What a v2 client signs (UTF-8, no separators; an absent ``scope_org`` is empty):

    - ``ac`` and the ``refresh_token`` grant: client_id scope scope_org timestamp state redirect_uri
    - the ``authorization_code`` grant: the same followed by ``code``
    - the ``client_credentials`` grant: client_id scope timestamp state redirect_uri
    """
    value = params.get
    grant = value("grant_type") if endpoint == "te" else None
    parts = [client_id, value("scope") or ""]
    if grant != "client_credentials":
        parts.append(value("scope_org") or "")
    parts += [timestamp, value("state") or "", value("redirect_uri") or ""]
    if grant == "authorization_code":
        parts.append(value("code") or "")
    return "".join(parts).encode()


def _refuse(code: OAuthCode, text: str, params: Params) -> EsiaError:
    return EsiaError(code, text, state=params.state, redirect_uri=params.redirect_uri)


def check_certificate_hash(params: Params, client: ClientSystem, *, mode: SignatureMode) -> None:
    """``client_certificate_hash``: its shape unless ``off``; in ``strict`` also that it names
    the client's registered certificate."""
    if mode == "off":
        return
    sent = params.get(CERTIFICATE_HASH) or ""
    if not _HEX64.fullmatch(sent):
        raise _refuse(
            CLIENT_SECRET_WRONG,
            "OAuthErrorEnum.clientSecretWrong (client_certificate_hash must be the Streebog-256 of the "
            "DER certificate: 64 hex digits)",
            params,
        )
    if mode != "strict":
        return
    if client.certificate is None:
        raise _refuse(CLIENT_NOT_TRUSTED, "No certificate is registered for the client", params)
    if sent.lower() != streebog_hex(client.certificate):
        raise _refuse(CLIENT_NOT_TRUSTED, "client_certificate_hash does not match the client's certificate", params)


def _secret_check(endpoint: str) -> SecretCheck:
    def check(ctx: ServiceContext, params: Params, client: ClientSystem, *, timestamp: str) -> None:
        mode = client.signature_mode or ctx.settings.signature_mode
        check_certificate_hash(params, client, mode=mode)
        message = signed_string(params, client.client_id, timestamp=timestamp, endpoint=endpoint)
        try:
            key = client.public_key if mode == "strict" else None
            if mode == "strict" and not isinstance(key, gost.GostPublicKey):
                raise _refuse(CLIENT_NOT_TRUSTED, "v2 needs a GOST R 34.10-2012 certificate registered for the client",
                              params)
            verify_v2_secret(params.get("client_secret") or "", message, key=key, mode=mode)
        except SecretRejected as exc:
            raise _refuse(CLIENT_SECRET_WRONG, f"OAuthErrorEnum.clientSecretWrong ({exc})", params) from None
        except gost.GostUnavailable as exc:
            raise _refuse(CLIENT_NOT_TRUSTED, f"GOST is not available on this ESIA replica: {exc}", params) from None

    return check


check_ac_secret = _secret_check("ac")
check_te_secret = _secret_check("te")
