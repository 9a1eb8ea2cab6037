"""The test CA's HTTP side (the control routes that issue and revoke are in :mod:`..control`):
what it publishes beside ESIA's helper files, its CRL, made on request from
the revocation list in the shared store, so a relying party or a tool (``openssl verify
-crl_check``) checks revocation the standard way. ``GET /_gosstand/esia/ca.crl`` (DER)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...core.context import context
from ...core.problems import Problem
from ...crypto.gost import GostUnavailable
from .authority import certification_authority
from .certificate_repository import CertificateRepository

__all__ = ["CRL_PATH", "crl_route"]

CRL_PATH = "/ca.crl"


async def _crl(request: Request) -> Response:
    ctx = context(request)
    try:
        authority = certification_authority(ctx.settings)
    except GostUnavailable as exc:
        raise Problem(503, f"the stand's CA signs GOST and this replica has no GOST: {exc}") from None
    now = await ctx.clock.now()
    revoked = await CertificateRepository(ctx.store).revoked()
    entries = [(int(record.serial, 16), record.revoked_at or now) for record in revoked]
    body = authority.revocation_list(entries, now=now, number=int(now))
    return Response(body, media_type="application/pkix-crl", headers={"Cache-Control": "no-store"})


def crl_route() -> Route:
    """The CRL's route, for the helper mount (``/_gosstand/esia``)."""
    return Route(CRL_PATH, _crl, methods=["GET"])
