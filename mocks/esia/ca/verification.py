"""Whether ESIA accepts a certificate for signing in, in the order a relying party checks one:
issued by a CA ESIA trusts (the stand's test CA: the issuer's name and the CA's signature over
the certificate), valid now on the stand's clock, not revoked (the CA's own list), and
qualified (:meth:`~...crypto.qualified.CertificateFacts.qualified_marks_missing`). Each failure
is its own :class:`~..errors.SignInRefused`.
"""

from __future__ import annotations

from ...core.context import ServiceContext
from ...crypto import gost
from ...crypto.qualified import CertificateFacts
from ..errors import (
    CERTIFICATE_EXPIRED,
    CERTIFICATE_REVOKED,
    CERTIFICATE_UNQUALIFIED,
    CERTIFICATE_UNTRUSTED,
    SignInRefused,
)
from .authority import certification_authority
from .certificate_repository import CertificateRepository

__all__ = ["check_certificate"]


async def check_certificate(ctx: ServiceContext, facts: CertificateFacts, *, now: float) -> None:
    """Accept ``facts``' certificate or raise :class:`SignInRefused` saying why not."""
    authority = certification_authority(ctx.settings)
    if facts.issuer_der != authority.subject_der:
        raise SignInRefused(CERTIFICATE_UNTRUSTED, "the issuer is not the stand's CA")
    if facts.signature_algorithm != gost.OID_SIGNATURE_256 or not authority.public_key.verify(
            facts.signature, facts.tbs):
        raise SignInRefused(CERTIFICATE_UNTRUSTED, "the CA's signature on the certificate does not verify")
    if not facts.not_before <= now <= facts.not_after:
        raise SignInRefused(CERTIFICATE_EXPIRED, f"valid {facts.not_before:.0f}..{facts.not_after:.0f}, now {now:.0f}")
    if await CertificateRepository(ctx.store).revoked_at(facts.serial) is not None:
        raise SignInRefused(CERTIFICATE_REVOKED, f"serial {facts.serial:X}")
    missing = facts.qualified_marks_missing()
    if missing:
        raise SignInRefused(CERTIFICATE_UNQUALIFIED, f"it lacks {', '.join(missing)}")
