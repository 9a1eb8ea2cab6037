"""The stand's test certification authority (удостоверяющий центр): its GOST R 34.10-2012 key,
its self-signed root certificate, and the certificates it issues to seeded people.

The key pair lives in ESIA's keys directory (``esia-ca.key``, ``esia-ca.pem``) beside ESIA's
token keys, created once (:func:`~...core.keyfiles.create_once`) so every replica signs and
checks with the same root. The root is valid from 2000 to 2099: certificates it issues are
dated on the stand's clock, which tests move freely, and the root must outlive any of them.

:func:`issue` writes a certificate as a qualified certificate is written (the subject's
registry numbers and the signature-tool marks, :mod:`...crypto.qualified`), or, asked for an
unqualified one, the same without the marks. The subject's key pair is made here too and handed
back with the certificate: this is a test stand, and the test client needs the key to sign.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from asn1crypto import algos, core, crl, keys, x509

from ...core.keyfiles import create_once
from ...core.settings import Settings
from ...crypto import gost
from ...crypto.gost_certificates import pem_of
from ...crypto.qualified import (
    OID_ISSUER_SIGN_TOOL,
    OID_SUBJECT_SIGN_TOOL,
    POLICY_KC1,
)

__all__ = ["CA_CERT_FILE", "CertificationAuthority", "IssuedCertificate", "certification_authority", "pem"]

CA_KEY_FILE = "esia-ca.key"
CA_CERT_FILE = "esia-ca.pem"
CA_NAME = "Тестовый удостоверяющий центр gosstand"
#: What the marks of a qualified certificate name (the tools are the stand's own, not certified).
SUBJECT_SIGN_TOOL = "Средство ЭП gosstand (тестовое)"
ISSUER_SIGN_TOOLS = (
    "Средство ЭП gosstand (тестовое)",
    "Программный комплекс УЦ gosstand (тестовый)",
    "Сертификат соответствия: нет, тестовый стенд",
    "Заключение о соответствии: нет, тестовый стенд",
)
_ROOT_FROM = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_ROOT_UNTIL = dt.datetime(2099, 12, 31, tzinfo=dt.UTC)
_CLIENT_AUTH, _EMAIL_PROTECTION = "1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.4"


def pem(der: bytes) -> str:
    """A DER certificate as PEM text."""
    return pem_of(der).decode()


def _der_of_pem(text: bytes) -> bytes:
    return base64.b64decode(b"".join(line for line in text.splitlines() if not line.startswith(b"-----")))


def _time(moment: dt.datetime) -> x509.Time:
    """UTCTime up to 2049, GeneralizedTime after (RFC 5280 §4.1.2.5)."""
    return x509.Time({"utc_time" if moment.year < 2050 else "general_time": moment})


def _extension(oid: str, value: core.Asn1Value, *, critical: bool = False) -> x509.Extension:
    """An extension; asn1crypto wants the value of an extension it knows, the DER of one it does not."""
    known = oid in x509.ExtensionId._map  # the extensions asn1crypto has a value type for
    return x509.Extension({"extn_id": oid, "critical": critical, "extn_value": value if known else value.dump()})


def _key_id(public_key_info: bytes) -> bytes:
    """A key identifier: SHA-1 of the DER SubjectPublicKeyInfo (RFC 5280 §4.2.1.2 allows any
    unique value; asn1crypto cannot split a GOST key info to hash the key bits alone)."""
    return hashlib.sha1(public_key_info).digest()


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    serial: int
    certificate_der: bytes
    private_key_pem: bytes
    not_before: float
    not_after: float


@dataclass(frozen=True)
class CertificationAuthority:
    key: gost.GostPrivateKey
    certificate_der: bytes

    @property
    def certificate_pem(self) -> str:
        return pem(self.certificate_der)

    @cached_property
    def subject_der(self) -> bytes:
        """Read once per authority: every signature login compares its certificate's issuer with it."""
        return x509.Certificate.load(self.certificate_der).subject.dump()

    @cached_property
    def public_key(self) -> gost.GostPublicKey:
        """Read once per authority: every signature login verifies the CA's signature with it."""
        return gost.public_key_from_certificate(self.certificate_der)

    def issue(
        self,
        subject: list[tuple[str, core.Asn1Value]],
        *,
        not_before: float,
        not_after: float,
        qualified: bool,
        bits: int = 256,
    ) -> IssuedCertificate:
        """A new key pair of ``bits`` (256 or 512) and its certificate for ``subject`` (pairs of
        attribute OID or asn1crypto name and value, in order), valid over the given epoch
        seconds; ``qualified`` adds the signature-tool marks and the tool-class policy."""
        holder = gost.GostPrivateKey.generate(bits=bits)
        spki = holder.public_key().spki()
        serial = secrets.randbits(63) | 1 << 62  # positive, 8 bytes, never 0
        extensions = [
            _extension("2.5.29.19", x509.BasicConstraints({"ca": False}), critical=True),
            _extension("2.5.29.15", x509.KeyUsage({"digital_signature", "non_repudiation"}), critical=True),
            _extension("2.5.29.37", x509.ExtKeyUsageSyntax([_CLIENT_AUTH, _EMAIL_PROTECTION])),
            _extension("2.5.29.14", core.OctetString(_key_id(spki))),
            _extension("2.5.29.35", x509.AuthorityKeyIdentifier(
                {"key_identifier": _key_id(self.key.public_key().spki())})),
        ]
        if qualified:
            extensions += [
                _extension("2.5.29.32", x509.CertificatePolicies([{"policy_identifier": POLICY_KC1}])),
                _extension(OID_SUBJECT_SIGN_TOOL, core.UTF8String(SUBJECT_SIGN_TOOL)),
                _extension(OID_ISSUER_SIGN_TOOL, core.SequenceOf(
                    [core.UTF8String(text) for text in ISSUER_SIGN_TOOLS], spec=core.UTF8String)),
            ]
        der = self._sign(
            serial=serial,
            subject=_name(subject),
            public_key_info=spki,
            not_before=dt.datetime.fromtimestamp(int(not_before), dt.UTC),
            not_after=dt.datetime.fromtimestamp(int(not_after), dt.UTC),
            extensions=extensions,
        )
        return IssuedCertificate(serial, der, holder.to_pem(), float(int(not_before)), float(int(not_after)))

    def revocation_list(self, revoked: list[tuple[int, float]], *, now: float, number: int) -> bytes:
        """A DER X.509 v2 CRL (RFC 5280 §5) of ``revoked`` (serial, epoch seconds of revocation),
        issued ``now`` and due again a day later, numbered ``number`` (it must grow)."""
        algorithm = algos.SignedDigestAlgorithm({"algorithm": gost.OID_SIGNATURE_256})
        issued = dt.datetime.fromtimestamp(int(now), dt.UTC)
        entries = [{"user_certificate": serial,
                    "revocation_date": _time(dt.datetime.fromtimestamp(int(at), dt.UTC))} for serial, at in revoked]
        tbs = crl.TbsCertList({
            "version": "v2",
            "signature": algorithm,
            "issuer": x509.Certificate.load(self.certificate_der).subject,
            "this_update": _time(issued),
            "next_update": _time(issued + dt.timedelta(days=1)),
            "revoked_certificates": entries or None,
            "crl_extensions": [
                {"extn_id": "crl_number", "critical": False, "extn_value": number},
                {"extn_id": "authority_key_identifier", "critical": False,
                 "extn_value": {"key_identifier": _key_id(self.key.public_key().spki())}},
            ],
        })
        return crl.CertificateList({
            "tbs_cert_list": tbs,
            "signature_algorithm": algorithm,
            "signature": core.OctetBitString(self.key.sign(tbs.dump())),
        }).dump()

    def _sign(self, *, serial: int, subject: x509.Name, public_key_info: bytes, not_before: dt.datetime,
              not_after: dt.datetime, extensions: list[x509.Extension]) -> bytes:
        algorithm = algos.SignedDigestAlgorithm({"algorithm": gost.OID_SIGNATURE_256})
        tbs = x509.TbsCertificate({
            "version": "v3",
            "serial_number": serial,
            "signature": algorithm,
            "issuer": x509.Certificate.load(self.certificate_der).subject,
            "validity": {"not_before": _time(not_before), "not_after": _time(not_after)},
            "subject": subject,
            "subject_public_key_info": keys.PublicKeyInfo.load(public_key_info),
            "extensions": extensions,
        })
        return x509.Certificate({
            "tbs_certificate": tbs,
            "signature_algorithm": algorithm,
            "signature_value": core.OctetBitString(self.key.sign(tbs.dump())),
        }).dump()


def _name(pairs: list[tuple[str, core.Asn1Value]]) -> x509.Name:
    """An X.501 name of one attribute per RDN, in the given order; registry numbers, which
    asn1crypto has no names for, go in by OID."""
    rdns = [x509.RelativeDistinguishedName([x509.NameTypeAndValue({"type": oid, "value": value})])
            for oid, value in pairs]
    return x509.Name(name="", value=x509.RDNSequence(rdns))


def _root(key: gost.GostPrivateKey) -> bytes:
    spki = key.public_key().spki()
    subject = _name([("country_name", x509.DirectoryString(name="printable_string", value="RU")),
                     ("organization_name", x509.DirectoryString(name="utf8_string", value="gosstand")),
                     ("common_name", x509.DirectoryString(name="utf8_string", value=CA_NAME))])
    algorithm = algos.SignedDigestAlgorithm({"algorithm": gost.OID_SIGNATURE_256})
    tbs = x509.TbsCertificate({
        "version": "v3",
        "serial_number": secrets.randbits(63) | 1 << 62,
        "signature": algorithm,
        "issuer": subject,
        "validity": {"not_before": _time(_ROOT_FROM), "not_after": _time(_ROOT_UNTIL)},
        "subject": subject,
        "subject_public_key_info": keys.PublicKeyInfo.load(spki),
        "extensions": [
            _extension("2.5.29.19", x509.BasicConstraints({"ca": True}), critical=True),
            _extension("2.5.29.15", x509.KeyUsage({"key_cert_sign", "crl_sign"}), critical=True),
            _extension("2.5.29.14", core.OctetString(_key_id(spki))),
        ],
    })
    return x509.Certificate({
        "tbs_certificate": tbs,
        "signature_algorithm": algorithm,
        "signature_value": core.OctetBitString(key.sign(tbs.dump())),
    }).dump()


def _new_root() -> tuple[bytes, bytes]:
    key = gost.GostPrivateKey.generate()
    return key.to_pem(), pem(_root(key)).encode()


@lru_cache(maxsize=8)
def _load(directory: Path) -> CertificationAuthority:
    directory.mkdir(parents=True, exist_ok=True)
    create_once(directory, (CA_KEY_FILE, CA_CERT_FILE), _new_root)
    return CertificationAuthority(gost.GostPrivateKey.from_pem((directory / CA_KEY_FILE).read_bytes()),
                                  _der_of_pem((directory / CA_CERT_FILE).read_bytes()))


def certification_authority(settings: Settings) -> CertificationAuthority:
    """The stack's CA (raises :class:`~...crypto.gost.GostUnavailable` without the gost engine)."""
    reason = gost.unavailable_reason()
    if reason is not None:
        raise gost.GostUnavailable(reason)
    return _load(settings.esia_keys_dir)
