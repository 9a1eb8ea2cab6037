"""GOST for the reference ESIA client and for FTS document signatures: a GOST R 34.10-2012
key (256 bit, what ESIA takes, or 512 bit, which qualified document signatures also use), a
self-signed test certificate, raw v2 signatures and CMS SignedData — what a relying party's
or a declarant's crypto provider does, through the system OpenSSL 3 with Debian's gost engine
(``apt-get install -y libengine-gost-openssl``).

Independent of the mock's code on purpose (the mock verifies what this module signs): keys are
made and CMS is built by the engine itself (``CMS_sign``, which picks the Streebog of the key's
size), the raw signature is made over a Streebog digest of the key's size (``EVP_PKEY_sign``),
and the certificate is assembled with asn1crypto; the mocks sign and verify with other OpenSSL
calls (``EVP_DigestSign``/``EVP_DigestVerify``). Only loading the library and the engine, and
the C declarations of its functions, are shared (:mod:`gosstand.mocks.crypto.engine`); how a
key, a digest, a signature or a CMS is made stays apart, since that is where a mistake on one
side would otherwise be repeated on the other and pass unnoticed.

Byte order: :meth:`GostKey.sign` returns gost-engine's order, which ESIA reads. A signature
that came from CryptoPro CSP is the same bytes (64, or 128 for a 512-bit key) reversed;
:func:`cryptopro_to_engine` turns one into the other (the operation is its own inverse).

:func:`gost_ready` says whether the engine is present (tests skip with its reason when not).
"""

from __future__ import annotations

import base64
import ctypes
import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asn1crypto import algos, core, keys, x509
from gosstand.mocks.crypto.engine import GostEngine, engine, loaded, unavailable_reason

__all__ = [
    "GostCertificate",
    "GostKey",
    "cms_signer",
    "cryptopro_to_engine",
    "gost_ready",
    "make_gost_identity",
    "streebog256_hex",
    "streebog512",
]

_vp = ctypes.c_void_p
_CMS_NOCERTS, _CMS_DETACHED, _CMS_BINARY, _CMS_NOATTR, _CMS_NOSMIMECAP = 0x2, 0x40, 0x80, 0x100, 0x200
_BIO_CTRL_INFO = 3
#: Per key size: the certificate signature OID (GOST R 34.10-2012 with GOST R 34.11-2012 of
#: that size, RFC 9215) and the signature size.
_SIGNATURE_OID = {256: "1.2.643.7.1.1.3.2", 512: "1.2.643.7.1.1.3.3"}
_SIGNATURE_SIZE = {256: 64, 512: 128}


def _bits_of(gost: GostEngine, key: int) -> int:
    """256 or 512: the size of an ``EVP_PKEY*`` the engine holds."""
    bits = gost.bits_of(key)
    if bits is None:
        raise RuntimeError("OpenSSL GOST: not a GOST R 34.10-2012 key")
    return bits


def _failed(gost: GostEngine, what: str) -> RuntimeError:
    gost.clear_errors()
    return RuntimeError(f"OpenSSL GOST: {what} failed")


def _der_of(gost: GostEngine, encode: Callable[[int, Any], int], pointer: int) -> bytes:
    """Run an ``i2d_*`` function twice: for the size, then into a buffer."""
    size = encode(pointer, None)
    if size <= 0:
        raise _failed(gost, "DER encoding")
    buffer = ctypes.create_string_buffer(size)
    cursor = ctypes.c_char_p(ctypes.addressof(buffer))
    encode(pointer, ctypes.byref(cursor))
    return buffer.raw


def gost_ready() -> str | None:
    """``None`` when GOST works here, else the reason it does not."""
    return unavailable_reason()


def _streebog(data: bytes, bits: int) -> bytes:
    gost = engine()
    out, size = ctypes.create_string_buffer(bits // 8), ctypes.c_uint(0)
    if gost.lib.EVP_Digest(data, len(data), out, ctypes.byref(size), gost.md[bits], None) != 1:
        raise _failed(gost, f"Streebog-{bits}")
    return out.raw[: size.value]


def streebog256(data: bytes) -> bytes:
    return _streebog(data, 256)


def streebog512(data: bytes) -> bytes:
    return _streebog(data, 512)


def streebog256_hex(data: bytes) -> str:
    return streebog256(data).hex()


def cryptopro_to_engine(signature: bytes) -> bytes:
    """Reverse all the bytes (64, or 128 for a 512-bit key): CryptoPro CSP's order ↔
    gost-engine's (ESIA's)."""
    return signature[::-1]


class GostKey:
    """A GOST R 34.10-2012 private key held by the engine, 256 or 512 bit (:attr:`bits`)."""

    def __init__(self, pointer: int) -> None:
        self._pointer = pointer
        self.bits = _bits_of(engine(), pointer)

    def __del__(self) -> None:
        try:
            gost = loaded()
            if self._pointer and gost is not None:
                gost.lib.EVP_PKEY_free(self._pointer)
        except TypeError:  # interpreter shutdown: module globals are already gone
            pass

    @classmethod
    def generate(cls, paramset: str = "A", *, bits: int = 256) -> GostKey:
        """A new ``bits``-bit key (256 or 512) on the engine's parameter set ``paramset``."""
        if bits not in _SIGNATURE_SIZE:
            raise ValueError(f"GOST R 34.10-2012 keys are 256 or 512 bit, not {bits}")
        gost = engine()
        context = gost.lib.EVP_PKEY_CTX_new_id(gost.nid[bits], None)
        pointer = _vp()
        try:
            if (
                gost.lib.EVP_PKEY_keygen_init(context) != 1
                or gost.lib.EVP_PKEY_CTX_ctrl_str(context, b"paramset", paramset.encode()) <= 0
                or gost.lib.EVP_PKEY_keygen(context, ctypes.byref(pointer)) != 1
            ):
                raise _failed(gost, "key generation")
        finally:
            gost.lib.EVP_PKEY_CTX_free(context)
        return cls(pointer.value or 0)

    @classmethod
    def from_pem(cls, pem: bytes) -> GostKey:
        gost = engine()
        bio = gost.lib.BIO_new_mem_buf(pem, len(pem))
        pointer = gost.lib.PEM_read_bio_PrivateKey(bio, None, None, None)
        gost.lib.BIO_free(bio)
        if not pointer:
            raise _failed(gost, "reading the PEM key")
        return cls(pointer)

    def pem(self) -> bytes:
        gost = engine()
        bio = gost.lib.BIO_new(gost.lib.BIO_s_mem())
        try:
            if gost.lib.PEM_write_bio_PrivateKey(bio, self._pointer, None, None, 0, None, None) != 1:
                raise _failed(gost, "writing the PEM key")
            data = ctypes.c_char_p()
            size = gost.lib.BIO_ctrl(bio, _BIO_CTRL_INFO, 0, ctypes.byref(data))
            return ctypes.string_at(data, size)
        finally:
            gost.lib.BIO_free(bio)

    def public_key_info(self) -> bytes:
        """DER SubjectPublicKeyInfo (for the certificate)."""
        gost = engine()
        return _der_of(gost, gost.lib.i2d_PUBKEY, self._pointer)

    def sign_digest(self, digest: bytes) -> bytes:
        gost = engine()
        context = gost.lib.EVP_PKEY_CTX_new(self._pointer, None)
        capacity = _SIGNATURE_SIZE[self.bits]
        out, size = ctypes.create_string_buffer(capacity), ctypes.c_size_t(capacity)
        try:
            if (
                gost.lib.EVP_PKEY_sign_init(context) != 1
                or gost.lib.EVP_PKEY_sign(context, out, ctypes.byref(size), digest, len(digest)) != 1
            ):
                raise _failed(gost, "signing")
        finally:
            gost.lib.EVP_PKEY_CTX_free(context)
        return out.raw[: size.value]

    def sign(self, message: bytes) -> bytes:
        """The raw signature of ``message`` over its Streebog of the key's size, gost-engine
        order: 64 bytes for a 256-bit key, 128 for a 512-bit one."""
        return self.sign_digest(_streebog(message, self.bits))

    def sign_cms(self, message: bytes, certificate: GostCertificate, *, detached: bool = True,
                 signed_attributes: bool = True) -> bytes:
        """DER CMS SignedData of ``message`` made by OpenSSL's ``CMS_sign`` with the engine."""
        gost = engine()
        cursor = ctypes.c_char_p(certificate.der)
        cert = gost.lib.d2i_X509(None, ctypes.byref(cursor), len(certificate.der))
        data = gost.lib.BIO_new_mem_buf(message, len(message))
        flags = _CMS_BINARY | _CMS_NOSMIMECAP
        flags |= _CMS_DETACHED if detached else 0
        flags |= 0 if signed_attributes else _CMS_NOATTR
        try:
            signed = gost.lib.CMS_sign(cert, self._pointer, None, data, flags) if cert else None
            if not signed:
                raise _failed(gost, "CMS_sign")
            try:
                return _der_of(gost, gost.lib.i2d_CMS_ContentInfo, signed)
            finally:
                gost.lib.CMS_ContentInfo_free(signed)
        finally:
            gost.lib.BIO_free(data)
            if cert:
                gost.lib.X509_free(cert)


@dataclass(frozen=True)
class GostCertificate:
    """An X.509 certificate with a GOST key, as DER; what ESIA registers for the client."""

    der: bytes

    @property
    def pem(self) -> str:
        body = base64.encodebytes(self.der).decode().replace("\n", "")
        lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
        return f"-----BEGIN CERTIFICATE-----\n{lines}\n-----END CERTIFICATE-----\n"

    @property
    def streebog_hex(self) -> str:
        """``client_certificate_hash`` of ESIA v2: Streebog-256 of the DER, 64 hex digits."""
        return streebog256_hex(self.der)

    @classmethod
    def from_pem(cls, pem: bytes | str) -> GostCertificate:
        from asn1crypto import pem as armor

        _, _, der = armor.unarmor(pem.encode() if isinstance(pem, str) else pem)
        return cls(der)

    def verify(self, signature: bytes, message: bytes) -> bool:
        """Whether ``signature`` (gost-engine order, as ESIA signs) is this certificate's key's
        GOST R 34.10-2012 signature of ``message`` (over the Streebog of the key's size)."""
        gost = engine()
        # dump() re-encodes a value whose header ends in 0x80 (asn1crypto takes it for an
        # indefinite length); a GOST key info is 104 (256-bit) or 173 (512-bit) bytes long, never such a length.
        spki = x509.Certificate.load(self.der)["tbs_certificate"]["subject_public_key_info"].dump()
        cursor = ctypes.c_char_p(spki)
        key = gost.lib.d2i_PUBKEY(None, ctypes.byref(cursor), len(spki))
        if not key:
            raise _failed(gost, "reading the certificate's public key")
        context = gost.lib.EVP_PKEY_CTX_new(key, None)
        try:
            digest = _streebog(message, _bits_of(gost, key))
            verified = gost.lib.EVP_PKEY_verify_init(context) == 1 and gost.lib.EVP_PKEY_verify(
                context, signature, len(signature), digest, len(digest)) == 1
        finally:
            gost.lib.EVP_PKEY_CTX_free(context)
            gost.lib.EVP_PKEY_free(key)
        gost.clear_errors()
        return verified


def cms_signer(certificate_pem: str | bytes, private_key_pem: str | bytes) -> Callable[[bytes], bytes]:
    """A person's signature tool holding one certificate and its key (256 or 512 bit): it signs
    what it is given with a detached CMS SignedData (signed attributes, the certificate inside),
    as a signature plug-in does on ESIA's signature login page."""
    certificate = GostCertificate.from_pem(certificate_pem)
    key = GostKey.from_pem(private_key_pem.encode() if isinstance(private_key_pem, str) else private_key_pem)

    def sign(message: bytes) -> bytes:
        return key.sign_cms(message, certificate)

    return sign


def make_gost_identity(
    common_name: str = "gosstand test client", *, days: int = 365, bits: int = 256
) -> tuple[GostCertificate, GostKey]:
    """A new GOST key of ``bits`` (256, what ESIA takes, or 512) and a self-signed certificate
    for it, signed GOST R 34.10-2012 with the Streebog of that size."""
    key = GostKey.generate(bits=bits)
    name = x509.Name.build({"country_name": "RU", "common_name": common_name})
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    signature_algorithm = algos.SignedDigestAlgorithm({"algorithm": _SIGNATURE_OID[bits]})
    tbs = x509.TbsCertificate({
        "version": "v3",
        "serial_number": secrets.randbits(63),
        "signature": signature_algorithm,
        "issuer": name,
        "validity": {
            "not_before": x509.Time({"utc_time": now - dt.timedelta(days=1)}),
            "not_after": x509.Time({"utc_time": now + dt.timedelta(days=days)}),
        },
        "subject": name,
        "subject_public_key_info": keys.PublicKeyInfo.load(key.public_key_info()),
    })
    signature = key.sign(tbs.dump())
    certificate = x509.Certificate({
        "tbs_certificate": tbs,
        "signature_algorithm": signature_algorithm,
        "signature_value": core.OctetBitString(signature),
    })
    return GostCertificate(certificate.dump()), key
