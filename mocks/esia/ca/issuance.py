"""Issuing a certificate through the control API (``POST /_gosstand/control/certificates``).

The body names a seeded person (``oid``) and, for a certificate of a person acting for an
organisation, the organisation (``org_oid``; the person must be one of its employees). Instead
of ``oid``, ``holder`` (``{"lastName", "firstName", "middleName"?, "snils", "inn"?}``) names
someone ESIA has no account for — a CA serves people who never registered on Gosuslugi, and
ESIA must refuse them by name. Options for tests: ``bits`` (256, the default, or 512),
``qualified`` (``false``: the same certificate without the qualified marks), ``expired``
(``true``: its validity ended a day ago on the stand's clock), ``days`` (how long it is valid,
365 by default).

A CA identifies a person before it issues a qualified certificate, so the person must have a
verified SNILS and passport (a standard or confirmed account); the subject then carries the
person's names, SNILS and INN, and for an organisation its name, OGRN and INN (as INNLE).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from asn1crypto import core, x509

from ...core.context import ServiceContext
from ...core.identifiers import is_valid_inn, is_valid_snils, snils_digits
from ...core.problems import Problem
from ...crypto.gost import GostUnavailable
from ...crypto.qualified import OID_INN, OID_INNLE, OID_OGRN, OID_SNILS
from ..accounts.levels import meets
from ..accounts.organisation_repository import OrganisationRepository
from ..accounts.records import Organisation, UserAccount
from ..accounts.user_repository import UserRepository
from .authority import IssuedCertificate, certification_authority, pem
from .certificate_repository import CertificateRecord, CertificateRepository, serial_text

__all__ = ["CertificateRequest", "issue_certificate", "plan_certificate"]

DAY = 86_400
MAX_DAYS = 3 * 366


@dataclass(frozen=True, slots=True)
class Holder:
    """Whom the certificate names: a person's names and registry numbers."""

    last_name: str
    first_name: str
    middle_name: str
    snils: str
    inn: str | None


@dataclass(frozen=True, slots=True)
class CertificateRequest:
    oid: int | None
    org_oid: int | None = None
    holder: Holder | None = None
    bits: int = 256
    qualified: bool = True
    expired: bool = False
    days: int = 365


def _oid_field(body: dict[str, Any], name: str, errors: list[dict[str, str]], *, required: bool) -> int | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 10**16:
        errors.append({"pointer": f"/{name}", "detail": "an OID (a positive integer)"})
        return None
    return value


def plan_certificate(body: dict[str, Any]) -> CertificateRequest:
    """The request in ``body``, or a 422 naming every field that is wrong."""
    errors: list[dict[str, str]] = []
    known = {"oid", "holder", "org_oid", "bits", "qualified", "expired", "days"}
    errors += [{"pointer": f"/{name[:40]}", "detail": f"unknown; one of {', '.join(sorted(known))}"}
               for name in body if name not in known]
    holder = None
    if "holder" in body:
        holder = _holder_field(body["holder"], errors)
        if "oid" in body or "org_oid" in body:
            errors.append({"pointer": "/holder", "detail": "either oid (and org_oid) or holder"})
        oid = None
    else:
        oid = _oid_field(body, "oid", errors, required=True)
    org_oid = _oid_field(body, "org_oid", errors, required=False)
    bits = body.get("bits", 256)
    if bits not in (256, 512) or isinstance(bits, bool):
        errors.append({"pointer": "/bits", "detail": "256 or 512"})
    flags = {name: body.get(name, default) for name, default in (("qualified", True), ("expired", False))}
    errors += [{"pointer": f"/{name}", "detail": "true or false"}
               for name, value in flags.items() if not isinstance(value, bool)]
    days = body.get("days", 365)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        errors.append({"pointer": "/days", "detail": f"whole days, 1 to {MAX_DAYS}"})
    if errors or (oid is None and holder is None):
        raise Problem(422, "the certificate cannot be issued so", errors=errors)
    return CertificateRequest(oid, org_oid, holder, bits, flags["qualified"] is True, flags["expired"] is True,
                              days)


def _holder_field(value: Any, errors: list[dict[str, str]]) -> Holder | None:
    if not isinstance(value, dict):
        errors.append({"pointer": "/holder", "detail": "an object"})
        return None
    names = {}
    for name in ("lastName", "firstName", "middleName"):
        text = value.get(name, "" if name == "middleName" else None)
        if not isinstance(text, str) or (name != "middleName" and not text.strip()) or len(text) > 100:
            errors.append({"pointer": f"/holder/{name}", "detail": "a name, at most 100 characters"})
            text = ""
        names[name] = text.strip()
    snils, inn = value.get("snils"), value.get("inn")
    if not is_valid_snils(snils):
        errors.append({"pointer": "/holder/snils", "detail": "a valid SNILS"})
    if inn is not None and not is_valid_inn(inn, kind="person"):
        errors.append({"pointer": "/holder/inn", "detail": "a person's valid INN (12 digits)"})
    return Holder(names["lastName"], names["firstName"], names["middleName"], snils_digits(snils) or "", inn)


def _holder_of(account: UserAccount) -> Holder:
    person = account.person
    return Holder(person.last_name or "", person.first_name or "", person.middle_name or "",
                  snils_digits(person.snils or "") or "", person.inn)


def _text(value: str) -> x509.DirectoryString:
    return x509.DirectoryString(name="utf8_string", value=value)


def _subject(holder: Holder, organisation: Organisation | None) -> list[tuple[str, core.Asn1Value]]:
    names = [holder.last_name, holder.first_name, holder.middle_name]
    full_name = " ".join(name for name in names if name)
    pairs: list[tuple[str, core.Asn1Value]] = [("country_name", x509.DirectoryString(
        name="printable_string", value="RU"))]
    if organisation is not None:
        pairs += [("organization_name", _text(organisation.short_name or organisation.full_name)),
                  ("common_name", _text(organisation.short_name or organisation.full_name)),
                  (OID_OGRN, core.NumericString(organisation.ogrn)),
                  (OID_INNLE, core.NumericString(organisation.inn))]
    else:
        pairs.append(("common_name", _text(full_name)))
    if holder.last_name:
        pairs.append(("surname", _text(holder.last_name)))
    given = " ".join(name for name in names[1:] if name)
    if given:
        pairs.append(("given_name", _text(given)))
    pairs.append((OID_SNILS, core.NumericString(holder.snils)))
    if holder.inn:
        pairs.append((OID_INN, core.NumericString(holder.inn)))
    return pairs


async def _holder(ctx: ServiceContext, request: CertificateRequest) -> tuple[Holder, Organisation | None]:
    if request.holder is not None:
        return request.holder, None
    if request.oid is None:
        raise Problem(422, "name the holder: oid or holder")
    account = await UserRepository(ctx.store).get(request.oid)
    if account is None:
        raise Problem(404, f"no user with oid {request.oid}")
    if not account.person.snils or not meets(account.level, "standard"):
        raise Problem(409, "a CA identifies the holder first: the person needs a verified SNILS and passport "
                           f"(a standard or confirmed account); this account is {account.level}")
    if request.org_oid is None:
        return _holder_of(account), None
    organisations = OrganisationRepository(ctx.store)
    organisation = await organisations.get(request.org_oid)
    if organisation is None:
        raise Problem(404, f"no organisation with oid {request.org_oid}")
    if await organisations.employment(request.org_oid, request.oid) is None:
        raise Problem(409, f"the person {request.oid} is not an employee of the organisation {request.org_oid}")
    return _holder_of(account), organisation


async def issue_certificate(ctx: ServiceContext, request: CertificateRequest) -> dict[str, Any]:
    """Issue, record and describe a certificate: ``serial`` (hex), ``certificate`` and
    ``private_key`` (PEM), ``ca_certificate`` (PEM), ``not_before``/``not_after`` (epoch
    seconds on the stand's clock), ``qualified``, ``oid`` and ``org_oid``."""
    holder, organisation = await _holder(ctx, request)
    now = await ctx.clock.now()
    if request.expired:
        not_before, not_after = now - (request.days + 1) * DAY, now - DAY
    else:
        not_before, not_after = now - 3600, now + request.days * DAY
    try:
        authority = certification_authority(ctx.settings)
    except GostUnavailable as exc:
        raise Problem(503, f"the stand's CA issues GOST certificates and this replica has no GOST: {exc}") from None
    issued: IssuedCertificate = authority.issue(_subject(holder, organisation), not_before=not_before,
                                                not_after=not_after, qualified=request.qualified, bits=request.bits)
    record = CertificateRecord(serial=serial_text(issued.serial), oid=request.oid, org_oid=request.org_oid,
                               qualified=request.qualified, not_before=issued.not_before,
                               not_after=issued.not_after, issued_at=now)
    await CertificateRepository(ctx.store).record(record)
    return {
        **record.to_json(),
        "certificate": pem(issued.certificate_der),
        "private_key": issued.private_key_pem.decode(),
        "ca_certificate": authority.certificate_pem,
    }
