"""The ESIA mock, put together: its routes, hot route, control routes, helper files, contract
and error answers. What ESIA does with a request, and where it lives:

- ``oauth/`` — the OAuth flow: ``ac`` and ``v2/ac`` (:mod:`.oauth.authorize`), the login and
  one-time code pages and logout (:mod:`.oauth.login`), consent, codes, ``te`` and ``v3/te``
  with one handler per grant (:mod:`.oauth.grants`), the tokens' shapes, signing and checking,
  client registrations and failure switches; routes in :mod:`.oauth.handlers`;
- ``accounts/`` — people and organisations: seeding, typed records (:mod:`.accounts.records`),
  registration, recovery and unlock (routes in :mod:`.accounts.handlers`), levels, TOTP;
- ``rs/`` — person and organisation data, ``/rs/prns/{oid}…`` and ``/rs/orgs/{org_oid}…``
  (routes and the hot read in :mod:`.rs.handlers`);
- ``crypto/`` — GOST R 34.10-2012 and Streebog through the system OpenSSL, CMS, client
  signatures, certificates, ESIA's own keys;
- ``ca/`` — the stand's test certification authority: issuing and revoking the certificates
  people sign in with, and checking one (:mod:`.oauth.signature_login` is that login);
- beside them: the error catalogue (:mod:`.errors`) and its HTTP forms (:mod:`.error_answers`),
  the scopes (:mod:`.scopes`), the pages (:mod:`.pages`), what flows and handlers exchange
  (:mod:`.browser`, :mod:`.web`) and the control API (:mod:`.control`).

Each ``*_repository.py`` owns its part of the shared store; nothing else touches it. The
handlers read HTTP and call a flow; the flows see no Starlette object. Helper paths (not ESIA's
own API): ``GET /_gosstand/esia/cert.pem``, ``/jwks.json`` and, where the gost engine is
present, ``/cert-gost.pem`` — ESIA's signing certificates, for relying parties that verify tokens —
and ``/ca.pem`` and ``/ca.crl``, the root of the stand's test CA (:mod:`.ca`) and its CRL.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..core.context import ServiceContext
from ..core.limits import BodyTooLarge
from ..core.service import ServiceDefinition
from .accounts import handlers as accounts
from .ca.authority import certification_authority
from .ca.handlers import crl_route
from .control import control_routes, hot_outbox
from .crypto.gost_keys import gost_signing_keys
from .crypto.keys import signing_keys
from .error_answers import handle_esia_error, handle_refused_body, handle_rs_error
from .errors import EsiaError, RsError
from .oauth import handlers as oauth
from .rs import handlers as rs

CONTRACT = Path(__file__).with_name("openapi.yaml")


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def helper_files(ctx: ServiceContext) -> dict[str, tuple[bytes, str]]:
    """ESIA's certificate and a JWKS on helper paths (not ESIA's own API)."""
    keys = signing_keys(ctx.settings)
    pem = keys.certificate.public_bytes(serialization.Encoding.PEM)
    numbers = keys.public_key.public_numbers()
    der = keys.certificate.public_bytes(serialization.Encoding.DER)
    jwks = json.dumps(
        {
            "keys": [
                {
                    "kty": "RSA",
                    "use": "sig",
                    "alg": "RS256",
                    "kid": keys.key_id,
                    "n": _b64url_uint(numbers.n),
                    "e": _b64url_uint(numbers.e),
                    "x5c": [base64.b64encode(der).decode()],
                }
            ]
        }
    ).encode()

    files = {
        "/_gosstand/esia/cert.pem": (pem, "application/x-pem-file"),
        "/_gosstand/esia/jwks.json": (jwks, "application/json"),
    }
    gost_keys = gost_signing_keys(ctx.settings)
    if gost_keys is not None:  # verifies access tokens of clients registered for GOST3410_2012_256
        files["/_gosstand/esia/cert-gost.pem"] = (gost_keys.certificate_pem, "application/x-pem-file")
        # the root of the stand's test CA, which issues the certificates of the signature login
        files["/_gosstand/esia/ca.pem"] = (certification_authority(ctx.settings).certificate_pem.encode(),
                                           "application/x-pem-file")
    return files


def helper_routes(ctx: ServiceContext) -> list[BaseRoute]:
    """GET routes answering each helper file (mounted by the core under ``/_gosstand/esia``)."""

    def serve(body: bytes, media_type: str) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return Response(body, media_type=media_type)

        return endpoint

    prefix = "/_gosstand/esia"
    routes: list[BaseRoute] = [
        Route(path.removeprefix(prefix), serve(body, media), methods=["GET"])
        for path, (body, media) in helper_files(ctx).items()
    ]
    return [*routes, crl_route()]


def definition(ctx: ServiceContext) -> ServiceDefinition:
    return ServiceDefinition(
        routes=[*oauth.routes, *accounts.routes, *rs.routes],
        hot_routes=[rs.hot_person_root(ctx), *oauth.hot_routes(ctx), hot_outbox(ctx)],
        control_routes=control_routes,
        helper_routes=helper_routes(ctx),
        contract=CONTRACT,
        exception_handlers={
            EsiaError: handle_esia_error,
            RsError: handle_rs_error,
            BodyTooLarge: handle_refused_body,
            ClientDisconnect: handle_refused_body,
        },
    )
