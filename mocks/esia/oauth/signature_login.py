"""Signing in with an electronic signature instead of the password and the one-time code.

``GET /aas/oauth2/signature?rid=…`` shows a challenge (:mod:`.challenge_repository`: random,
bound to this login request, used once, valid :data:`~.challenge_repository.CHALLENGE_LIFETIME`
seconds on the stand's clock). ``POST /aas/oauth2/signature`` takes ``rid``, ``signature`` — a
CMS SignedData (GOST R 34.10-2012, 256 or 512 bit) of the challenge's UTF-8 bytes, detached
(or attached), base64 or PEM — and optionally ``certificate`` (PEM), needed when the signature
does not carry its signer's certificate.

The checks, in order, each refusal its own code (:mod:`..errors`): the signature parses; it
signs this challenge (the ``messageDigest`` of its signed attributes, or its attached content,
tells a signature of another string from one of a challenge already used); the certificate is
the stand's CA's, valid, not revoked and qualified (:mod:`..ca.verification`); the signature
verifies with the certificate's key; an account has the certificate's SNILS; the certificate's
INN, when it names one, is the account's; and an employee's certificate (OGRN and INNLE in its
subject) names an organisation that employs the person today — a certificate outlives the job it
was issued for. A refusal shows the page again with the code and a new challenge.

Then the login ends as a password login does — SSO session, admission, consent, code — with
``DS`` as the method in the tokens, and the account confirmed: a qualified certificate is
issued only after the CA identified its holder, which is what the confirmed level means.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from asn1crypto import cms

from ...core.context import ServiceContext
from ...crypto import gost
from ...crypto.asn1_bytes import as_received
from ...crypto.cms_der import SignerView
from ...crypto.cms_signature import signer_view, verify_signer
from ...crypto.qualified import CertificateFacts, NotACertificate, read_certificate
from ..accounts.account_changes import with_level
from ..accounts.levels import level_problems
from ..accounts.organisation_repository import OrganisationRepository
from ..accounts.records import UserAccount
from ..accounts.user_repository import UserRepository
from ..browser import Answer, Browser, Page
from ..ca.verification import check_certificate
from ..crypto.signature import SecretRejected, decode_base64
from ..errors import (
    CERTIFICATE_UNQUALIFIED,
    CHALLENGE_EXPIRED,
    CHALLENGE_REPLAYED,
    CHALLENGE_WRONG,
    HOLDER_INN_MISMATCH,
    HOLDER_NOT_EMPLOYED,
    HOLDER_UNKNOWN,
    SIGNATURE_INVALID,
    SIGNATURE_MALFORMED,
    SignInRefused,
)
from ..pages import message_page, signature_form
from .challenge_repository import CHALLENGE_LIFETIME, Challenge, ChallengeRepository
from .login import finish_login
from .login_repository import LoginRepository

__all__ = ["signature_page", "submit_signature"]

#: Far more than any CMS of one signer and a certificate chain; refused unread beyond.
MAX_SIGNATURE_TEXT = 64 * 1024
_DIGESTS = {gost.OID_STREEBOG_256: gost.streebog256, gost.OID_STREEBOG_512: gost.streebog512}


@dataclass(frozen=True, slots=True)
class SignedChallenge:
    """What the browser sent, parsed: the one signer, its certificate, any attached content."""

    signer: SignerView
    certificate: CertificateFacts
    attached: bytes | None


def _expired() -> Page:
    return message_page("Вход не выполнен",
                        "Сеанс входа истёк или не найден. Вернитесь на сайт и начните вход заново.", status=400)


def _der(text: str, what: str) -> bytes:
    """The DER in a base64 or PEM text field."""
    lines = [line for line in text.strip().splitlines() if not line.startswith("-----")]
    try:
        return decode_base64("".join(lines))
    except SecretRejected:
        raise SignInRefused(SIGNATURE_MALFORMED, f"{what} is not base64") from None


def _certificate(signed: cms.SignedData, signer: cms.SignerInfo, posted: str) -> CertificateFacts:
    """The posted certificate, else the one in the signature that the signer names."""
    try:
        if posted.strip():
            return read_certificate(_der(posted, "the certificate"))
        sid = signer["sid"]
        certificates = signed["certificates"]  # never .native: asn1crypto cannot read GOST keys
        for choice in certificates if isinstance(certificates, cms.CertificateSet) else ():
            if choice.name != "certificate" or sid.name != "issuer_and_serial_number":
                continue
            candidate = read_certificate(as_received(choice.chosen))
            wanted = sid.chosen
            issuer = as_received(wanted["issuer"])
            if candidate.serial == wanted["serial_number"].native and candidate.issuer_der == issuer:
                return candidate
    except NotACertificate as exc:
        raise SignInRefused(SIGNATURE_MALFORMED, str(exc)) from None
    raise SignInRefused(SIGNATURE_MALFORMED, "the signature does not carry its signer's certificate; "
                                             "send it in the certificate field")


def read_signature(signature: str, certificate: str) -> SignedChallenge:
    """Parse what the browser sent, or :class:`SignInRefused` with ``SIGNATURE_MALFORMED``."""
    if not signature.strip() or len(signature) > MAX_SIGNATURE_TEXT or len(certificate) > MAX_SIGNATURE_TEXT:
        raise SignInRefused(SIGNATURE_MALFORMED, "no signature, or one far too large")
    der = _der(signature, "the signature")
    try:
        info = cms.ContentInfo.load(der, strict=True)
        if info["content_type"].native != "signed_data":
            raise SignInRefused(SIGNATURE_MALFORMED, "not a CMS SignedData")
        signed = info["content"]
        signers = list(signed["signer_infos"])
        if len(signers) != 1:
            raise SignInRefused(SIGNATURE_MALFORMED, f"{len(signers)} signers; one is expected")
        attached = signed["encap_content_info"]["content"].native
        view = signer_view(signers[0])
        holder = _certificate(signed, signers[0], certificate)
    except SignInRefused:
        raise
    except Exception as exc:  # asn1crypto parses lazily and raises many kinds on garbage
        raise SignInRefused(SIGNATURE_MALFORMED, f"not DER CMS ({type(exc).__name__})") from None
    return SignedChallenge(view, holder, attached if isinstance(attached, bytes) else None)


def _digest(algorithm: str, data: bytes) -> bytes | None:
    if algorithm in _DIGESTS:
        return _DIGESTS[algorithm](data)
    return hashlib.new(algorithm, data).digest() if algorithm in hashlib.algorithms_available else None


async def check_challenge(signed: SignedChallenge, challenge: Challenge, challenges: ChallengeRepository) -> None:
    """The signature must be of ``challenge``: its signed attributes' ``messageDigest`` (or the
    attached content) shows what was signed; a challenge spent before is a replay."""
    message = challenge.text.encode()
    if signed.attached is not None:
        if signed.attached != message:
            replayed = await challenges.spent(gost.streebog256(signed.attached))
            raise SignInRefused(CHALLENGE_REPLAYED if replayed else CHALLENGE_WRONG)
        return
    signer = signed.signer
    if signer.signed_attributes is None:
        return  # only the signature itself can tell: it is verified over the challenge later
    if signer.message_digests != (_digest(signer.digest, message),):
        replayed = bool(signer.message_digests) and await challenges.spent(signer.message_digests[0])
        raise SignInRefused(CHALLENGE_REPLAYED if replayed else CHALLENGE_WRONG)


def check_signature(signed: SignedChallenge, challenge: Challenge) -> None:
    try:
        key = gost.GostPublicKey.from_spki(signed.certificate.public_key_info)
    except gost.GostError:
        raise SignInRefused(CERTIFICATE_UNQUALIFIED, "the certificate's key is not GOST R 34.10-2012") from None
    if not verify_signer(signed.signer, challenge.text.encode(), key):
        raise SignInRefused(SIGNATURE_INVALID)


async def _holder(ctx: ServiceContext, facts: CertificateFacts) -> UserAccount:
    users = UserRepository(ctx.store)
    oid = await users.oid_for_snils(facts.snils or "")
    account = await users.get(oid) if oid is not None else None
    if account is None:
        raise SignInRefused(HOLDER_UNKNOWN, f"SNILS {facts.snils}")
    if facts.inn and facts.inn != account.person.inn:
        raise SignInRefused(HOLDER_INN_MISMATCH, f"certificate INN {facts.inn}, account OID {account.oid}")
    if facts.ogrn or facts.organisation_inn:
        places = await OrganisationRepository(ctx.store).places_of(account.oid)
        if not any(org.ogrn == facts.ogrn and org.inn == facts.organisation_inn for org, _ in places):
            raise SignInRefused(HOLDER_NOT_EMPLOYED, f"OGRN {facts.ogrn}, INNLE {facts.organisation_inn}")
    return account


async def _confirmed(users: UserRepository, account: UserAccount) -> UserAccount:
    """The account at the confirmed level (saved), where it has the data that level needs."""
    if account.level == "confirmed" or any(level_problems("confirmed", account.person, account.documents)):
        return account
    changed = with_level(account, "confirmed")
    await users.save(changed)
    return changed


def _unavailable(reason: str) -> Page:
    """Without the gost engine there is no GOST to check: the way in is closed, said so."""
    return message_page("Вход по электронной подписи недоступен",
                        f"Войдите по паролю. (This ESIA replica has no GOST: {reason})", status=503)


async def signature_page(ctx: ServiceContext, rid: str) -> Page:
    now = await ctx.clock.now()
    pending = await LoginRepository.of(ctx).find_request(rid, now=now)
    if pending is None:
        return _expired()
    if (reason := gost.unavailable_reason()) is not None:
        return _unavailable(reason)
    challenge = await ChallengeRepository(ctx.store).issue(pending.id, now=now)
    return signature_form(rid, challenge.text, lifetime=CHALLENGE_LIFETIME)


async def _verified_holder(ctx: ServiceContext, login_id: str, signature: str, certificate: str, *,
                           now: float) -> UserAccount:
    challenges = ChallengeRepository(ctx.store)
    challenge = await challenges.take(login_id)
    if challenge is None:
        raise SignInRefused(CHALLENGE_EXPIRED, "no challenge was shown for this login, or it was used")
    if challenge.expired(now):
        raise SignInRefused(CHALLENGE_EXPIRED, f"shown at {challenge.issued:.0f}, now {now:.0f}")
    signed = read_signature(signature, certificate)
    await check_challenge(signed, challenge, challenges)
    await check_certificate(ctx, signed.certificate, now=now)
    check_signature(signed, challenge)
    return await _holder(ctx, signed.certificate)


async def submit_signature(ctx: ServiceContext, rid: str, signature: str, certificate: str,
                           browser: Browser) -> Answer:
    logins = LoginRepository.of(ctx)
    now = await ctx.clock.now()
    pending = await logins.find_request(rid, now=now)
    if pending is None:
        return _expired()
    if (reason := gost.unavailable_reason()) is not None:
        return _unavailable(reason)
    try:
        account = await _verified_holder(ctx, pending.id, signature, certificate, now=now)
    except SignInRefused as refusal:
        fresh = await ChallengeRepository(ctx.store).issue(pending.id, now=now)
        return signature_form(rid, fresh.text, lifetime=CHALLENGE_LIFETIME, error=refusal.message,
                              status=refusal.kind.status)
    account = await _confirmed(UserRepository(ctx.store), account)
    return await finish_login(ctx, pending, oid=account.oid, method="DS", browser=browser, now=now)
