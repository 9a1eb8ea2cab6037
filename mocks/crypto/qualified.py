"""What makes an X.509 certificate a Russian *qualified* certificate of an electronic signature,
and reading those facts out of one.

A qualified certificate names its holder with registry numbers, each under its own attribute
type in the subject (the CA writes them as ``NumericString``):

- SNILS, ``1.2.643.100.3`` (11 digits) — the person; ESIA finds the account by it;
- INN, ``1.2.643.3.131.1.1`` (12 digits for a person);
- OGRN, ``1.2.643.100.1`` (13 digits) and INNLE, ``1.2.643.100.4`` (the organisation's 10-digit
  INN) — in a certificate issued to a person acting for an organisation.

And it carries the marks of a certified signature tool: the extension ``subjectSignTool``
(``1.2.643.100.111``, a ``UTF8String`` naming the holder's tool), ``issuerSignTool``
(``1.2.643.100.112``, a ``SEQUENCE`` of four ``UTF8String``: the CA's signature tool, its CA
tool, and the conformity certificates of each), and a certificate policy naming the class of
the holder's tool (``1.2.643.100.113.1`` КС1 … ``.113.6`` КА1). A certificate without those
marks may be perfectly valid and still not qualified; ESIA signs in with qualified ones only.

:func:`read_certificate` parses a certificate once into :class:`CertificateFacts`, which says
all of that plus what a chain check needs (issuer, validity, the signed part and its
signature). The stand's test CA (``mocks/esia/ca/``) writes these fields; ESIA's verifier reads
them here, as any mock that checks a qualified signature can.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from asn1crypto import core, x509

from .asn1_bytes import as_received

__all__ = [
    "OID_INN",
    "OID_INNLE",
    "OID_ISSUER_SIGN_TOOL",
    "OID_OGRN",
    "OID_SNILS",
    "OID_SUBJECT_SIGN_TOOL",
    "POLICY_KC1",
    "CertificateFacts",
    "NotACertificate",
    "read_certificate",
]

OID_SNILS = "1.2.643.100.3"
OID_INN = "1.2.643.3.131.1.1"
OID_OGRN = "1.2.643.100.1"
OID_INNLE = "1.2.643.100.4"
OID_SUBJECT_SIGN_TOOL = "1.2.643.100.111"
OID_ISSUER_SIGN_TOOL = "1.2.643.100.112"
#: Classes of signature tools (КС1, КС2, КС3, КВ1, КВ2, КА1) as certificate policies.
POLICY_PREFIX = "1.2.643.100.113."
POLICY_KC1 = POLICY_PREFIX + "1"


class NotACertificate(ValueError):
    """The bytes are not a DER X.509 certificate."""


@dataclass(frozen=True, slots=True)
class CertificateFacts:
    """One certificate, read once: who it names, who issued it, when it is valid, whether it
    is qualified, and the parts a chain check verifies."""

    serial: int
    issuer_der: bytes
    subject_der: bytes
    #: The subject's attributes by OID (the first value of each), as text.
    subject: dict[str, str]
    not_before: float
    not_after: float
    extension_oids: frozenset[str]
    policies: frozenset[str]
    public_key_info: bytes
    tbs: bytes
    signature_algorithm: str
    signature: bytes

    @property
    def snils(self) -> str | None:
        return self.subject.get(OID_SNILS)

    @property
    def ogrn(self) -> str | None:
        return self.subject.get(OID_OGRN)

    @property
    def inn(self) -> str | None:
        """The holder's own INN (a person's, 12 digits)."""
        return self.subject.get(OID_INN)

    @property
    def organisation_inn(self) -> str | None:
        """INNLE: the INN of the organisation an employee's certificate names."""
        return self.subject.get(OID_INNLE)

    def qualified_marks_missing(self) -> list[str]:
        """What a qualified certificate would carry and this one lacks (empty: qualified)."""
        missing = []
        if OID_SUBJECT_SIGN_TOOL not in self.extension_oids:
            missing.append("subjectSignTool")
        if OID_ISSUER_SIGN_TOOL not in self.extension_oids:
            missing.append("issuerSignTool")
        if not any(policy.startswith(POLICY_PREFIX) for policy in self.policies):
            missing.append("the policy of a signature tool class (КС1…КА1)")
        if not self.snils:
            missing.append("SNILS")
        return missing


def _text(value: object) -> str | None:
    try:
        native = value.native if isinstance(value, core.Asn1Value) else None
    except (ValueError, TypeError):
        return None
    return native if isinstance(native, str) else None


def _epoch(time: x509.Time) -> float:
    moment = time.native
    if not isinstance(moment, dt.datetime):
        raise NotACertificate("the validity is not a time")
    return moment.timestamp()


@lru_cache(maxsize=1024)
def read_certificate(der: bytes) -> CertificateFacts:
    """The facts of a DER certificate, or :class:`NotACertificate` (never another exception:
    asn1crypto raises many kinds on garbage, and parsing is lazy).

    Read once per distinct DER in a process (the facts are frozen, and DER never changes
    meaning): a person signs in with the same certificate again and again, and reading it with
    asn1crypto was most of the 0.74 ms a signature's parsing cost."""
    try:
        certificate = x509.Certificate.load(der, strict=True)
        tbs = certificate["tbs_certificate"]
        subject: dict[str, str] = {}
        for rdn in tbs["subject"].chosen:
            for pair in rdn:
                text = _text(pair["value"])
                if text is not None:
                    subject.setdefault(pair["type"].dotted, text)
        extensions = tbs["extensions"] if isinstance(tbs["extensions"], x509.Extensions) else []
        oids = frozenset(extension["extn_id"].dotted for extension in extensions)
        policies: set[str] = set()
        for extension in extensions:
            if extension["extn_id"].dotted == "2.5.29.32":
                policies.update(info["policy_identifier"].dotted for info in extension["extn_value"].parsed)
        validity = tbs["validity"]
        return CertificateFacts(
            serial=tbs["serial_number"].native,
            issuer_der=as_received(tbs["issuer"]),
            subject_der=as_received(tbs["subject"]),
            subject=subject,
            not_before=_epoch(validity["not_before"]),
            not_after=_epoch(validity["not_after"]),
            extension_oids=oids,
            policies=frozenset(policies),
            public_key_info=as_received(tbs["subject_public_key_info"]),
            tbs=as_received(tbs),
            signature_algorithm=certificate["signature_algorithm"]["algorithm"].dotted,
            signature=certificate["signature_value"].native,
        )
    except NotACertificate:
        raise
    except Exception as exc:  # asn1crypto raises many kinds on garbage, with no common base
        raise NotACertificate(f"not a DER X.509 certificate ({type(exc).__name__})") from None
