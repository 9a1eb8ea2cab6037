"""Whether ESIA accepts a certificate for signing in, in the order a relying party checks one:
issued by a CA ESIA trusts (the stand's test CA: the issuer's name and the CA's signature over
the certificate), valid now on the stand's clock, not revoked (the CA's own list), and
qualified (:meth:`~...crypto.qualified.CertificateFacts.qualified_marks_missing`). Each failure
is its own :class:`~..errors.SignInRefused`.
"""

from __future__ import annotations

from functools import lru_cache

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
from .authority import CertificationAuthority, certification_authority
from .certificate_repository import CertificateRepository

__all__ = ["check_certificate"]


@lru_cache(maxsize=1024)
def _verified(ca_certificate: bytes, tbs: bytes, signature: bytes) -> bool:
    return gost.public_key_from_certificate(ca_certificate).verify(signature, tbs)


def _signed_by(authority: CertificationAuthority, tbs: bytes, signature: bytes) -> bool:
    """Whether the CA signed ``tbs``: verified once per certificate and CA (keyed by the CA's
    own certificate, so another CA is asked afresh). A person signs in with the same certificate
    again and again, and the GOST verification was about 0.25 ms of each signature login."""
    return _verified(authority.certificate_der, tbs, signature)


async def check_certificate(ctx: ServiceContext, facts: CertificateFacts, *, now: float) -> None:
    """Accept ``facts``' certificate or raise :class:`SignInRefused` saying why not."""
    authority = certification_authority(ctx.settings)
    if facts.issuer_der != authority.subject_der:
        raise SignInRefused(CERTIFICATE_UNTRUSTED, "the issuer is not the stand's CA")
    if facts.signature_algorithm != gost.OID_SIGNATURE_256 or not _signed_by(authority, facts.tbs, facts.signature):
        raise SignInRefused(CERTIFICATE_UNTRUSTED, "the CA's signature on the certificate does not verify")
    if not facts.not_before <= now <= facts.not_after:
        raise SignInRefused(CERTIFICATE_EXPIRED, f"valid {facts.not_before:.0f}..{facts.not_after:.0f}, now {now:.0f}")
    if await CertificateRepository(ctx.store).revoked_at(facts.serial) is not None:
        raise SignInRefused(CERTIFICATE_REVOKED, f"serial {facts.serial:X}")
    missing = facts.qualified_marks_missing()
    if missing:
        raise SignInRefused(CERTIFICATE_UNQUALIFIED, f"it lacks {', '.join(missing)}")
