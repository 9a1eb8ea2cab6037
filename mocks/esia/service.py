"""The ESIA mock (v1 authorization-code flow): routes, control routes, contract, error formats.

Public surface (docs/esia.md):

- ``GET|POST /aas/oauth2/ac`` — authorization request (:mod:`.authorize`);
- ``GET|POST /aas/oauth2/login``, ``GET|POST /aas/oauth2/otp`` — the login pages (:mod:`.login`);
- ``GET|POST /aas/oauth2/consent`` — the consent page (:mod:`.consent`);
- ``/registration[/confirm|/activate]`` — registration (:mod:`.registration`);
  ``/login/recovery[/confirm]``, ``/login/unlock[/confirm]`` — recovery and unlock (:mod:`.recovery`);
- ``POST /aas/oauth2/te`` — token endpoint (:mod:`.grants`);
- ``GET /aas/oauth2/v2/ac``, ``POST /aas/oauth2/v3/te`` — the same with v2's raw GOST
  signature and ``client_certificate_hash`` (:mod:`.v2`);
- ``GET /rs/prns/{oid}[/ctts|/addrs|/docs[/{id}]]`` — person data (:mod:`.persons`);
- ``GET /idp/ext/Logout`` — end the SSO session;
- ``GET /_gosstand/esia/cert.pem`` and ``/_gosstand/esia/jwks.json`` — ESIA's signing
  certificate and JWKS, for relying parties that verify tokens.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from ..core.context import ServiceContext
from ..core.limits import BodyTooLarge
from ..core.service import ServiceDefinition
from .accounts import recovery, registration
from .control import control_routes
from .crypto.gost_keys import gost_signing_keys
from .crypto.keys import signing_keys
from .error_answers import handle_esia_error, handle_refused_body, handle_rs_error
from .errors import EsiaError, RsError
from .oauth.authorize import authorize
from .oauth.consent import consent_page, submit_consent
from .oauth.grants import token_endpoint
from .oauth.login import logout, otp_page, password_page, submit_otp, submit_password
from .oauth.v2 import authorize_v2, token_v3
from .rs.persons import hot_person_root, person_data


class _Anything(Convertor[str]):
    """The rest of a path, newlines included. Starlette's ``path`` convertor is ``.*``, which
    stops at a decoded newline — and its ``$`` then matches before a trailing one, so
    ``/rs/prns/1/ctts/1%0A`` was served as ``…/ctts/1`` and ``…/ctts/1%0Ax`` fell through to the
    router's problem+json 404 instead of ESIA's own error."""

    regex = r"[\s\S]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("anything", _Anything())

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
    return files


def helper_routes(ctx: ServiceContext) -> list[Route]:
    """GET routes answering each helper file (mounted by the core under ``/_gosstand/esia``)."""

    def serve(body: bytes, media_type: str):  # type: ignore[no-untyped-def]
        async def endpoint(request: Request) -> Response:
            return Response(body, media_type=media_type)

        return endpoint

    prefix = "/_gosstand/esia"
    return [
        Route(path.removeprefix(prefix), serve(body, media), methods=["GET"])
        for path, (body, media) in helper_files(ctx).items()
    ]


def definition(ctx: ServiceContext) -> ServiceDefinition:
    return ServiceDefinition(
        routes=[
            Route("/aas/oauth2/ac", authorize, methods=["GET", "POST"]),
            Route("/aas/oauth2/login", password_page, methods=["GET"]),
            Route("/aas/oauth2/login", submit_password, methods=["POST"]),
            Route("/aas/oauth2/otp", otp_page, methods=["GET"]),
            Route("/aas/oauth2/otp", submit_otp, methods=["POST"]),
            Route("/aas/oauth2/consent", consent_page, methods=["GET"]),
            Route("/aas/oauth2/consent", submit_consent, methods=["POST"]),
            Route("/registration", registration.registration_page, methods=["GET"]),
            Route("/registration", registration.submit_registration, methods=["POST"]),
            Route("/registration/confirm", registration.confirmation_page, methods=["GET"]),
            Route("/registration/confirm", registration.submit_confirmation, methods=["POST"]),
            Route("/registration/activate", registration.activate, methods=["GET"]),
            *(
                route
                for start in ("/login/recovery", "/login/unlock")
                for route in (
                    Route(start, recovery.start_page, methods=["GET"]),
                    Route(start, recovery.submit_start, methods=["POST"]),
                    Route(f"{start}/confirm", recovery.confirm_page, methods=["GET"]),
                    Route(f"{start}/confirm", recovery.submit_confirm, methods=["POST"]),
                )
            ),
            Route("/aas/oauth2/te", token_endpoint, methods=["POST"]),
            Route("/aas/oauth2/v2/ac", authorize_v2, methods=["GET"]),
            Route("/aas/oauth2/v3/te", token_v3, methods=["POST"]),
            Route("/rs/{rest:anything}", person_data, methods=["GET"]),
            Route("/idp/ext/Logout", logout, methods=["GET"]),
        ],
        hot_routes=[hot_person_root(ctx)],
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
