"""GOST R 34.10-2012 (256- and 512-bit keys) and Streebog (GOST R 34.11-2012) for the mocks.

Through the system OpenSSL's gost engine (:mod:`.engine`, which loads it): one native call per
operation, no subprocess, no pure-Python curve arithmetic. Measured on this machine (2 cores):
Streebog-256 of 100 bytes ≈ 4 µs, sign ≈ 0.2 ms, verify ≈ 0.25 ms — against ≈ 8 ms per ``openssl``
CLI call and ≈ 80 ms per pure-Python ``gostcrypto`` verify. 512-bit keys cost more (``python -m
timeit`` on 100 bytes, best of three runs): Streebog-512 ≈ 5–8 µs (Streebog-256 ≈ 7 µs in the same
runs), sign ≈ 0.26 ms and verify ≈ 0.9 ms on paramset A (256-bit A in the same runs: 0.07 ms and
0.25 ms), ≈ 0.2 and 0.5 ms on C, ≈ 0.6 and 2.1 ms on B; a whole FTS detached-signature check with
signed attributes ≈ 1.4 ms against ≈ 0.6 ms with a 256-bit key. Cheap enough for document uploads;
ESIA's logins stay 256.

Two key sizes, each with its own Streebog (RFC 9215, TC26): a 256-bit key signs Streebog-256
digests, a 512-bit key Streebog-512 ones, and the engine pairs them by itself. A key knows its
size (:attr:`GostPublicKey.algorithm`, one of :data:`GOST_256` and :data:`GOST_512`, with the
OIDs that name it in certificates and CMS). ESIA takes 256-bit keys only (it refuses the others
where client certificates are read); FTS document signatures take both.

Byte order: signatures are the bytes gost-engine produces and reads (``s || r``, each half
big-endian: 64 bytes for 256-bit keys, 128 for 512-bit ones). CryptoPro CSP hands out the same
signature with all its bytes reversed; its users reverse it before sending (see
:func:`from_cryptopro`).

When the engine is missing, :func:`available` is ``False``, :func:`unavailable_reason` says why
and every operation raises :class:`GostUnavailable`; callers turn that into a clean refusal
(the server) or a skip (the tests).
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from functools import lru_cache

from .asn1_bytes import as_received
from .engine import GostUnavailable, engine, loaded, unavailable_reason

__all__ = [
    "GOST_256",
    "GOST_512",
    "GostAlgorithm",
    "GostError",
    "GostPrivateKey",
    "GostPublicKey",
    "GostUnavailable",
    "available",
    "from_cryptopro",
    "public_key_from_certificate",
    "streebog256",
    "streebog512",
    "unavailable_reason",
]

#: OIDs of GOST R 34.10-2012 with 256-bit keys, as they appear in certificates and CMS.
OID_PUBLIC_KEY_256 = "1.2.643.7.1.1.1.1"
OID_SIGNATURE_256 = "1.2.643.7.1.1.3.2"
OID_STREEBOG_256 = "1.2.643.7.1.1.2.2"
#: The same for 512-bit keys (RFC 9215 §3): key, signature with Streebog-512, Streebog-512.
OID_PUBLIC_KEY_512 = "1.2.643.7.1.1.1.2"
OID_SIGNATURE_512 = "1.2.643.7.1.1.3.3"
OID_STREEBOG_512 = "1.2.643.7.1.1.2.3"
#: Sizes for 256-bit keys (ESIA v2's raw ``client_secret`` is one such signature).
SIGNATURE_SIZE = 64
DIGEST_SIZE = 32


@dataclass(frozen=True, slots=True)
class GostAlgorithm:
    """One key size of GOST R 34.10-2012 with the Streebog it signs and their OIDs: what differs
    between 256- and 512-bit keys, in one place (the engine's names for them: :mod:`.engine`)."""

    bits: int
    public_key_oid: str
    signature_oid: str
    digest_oid: str
    signature_size: int
    digest_size: int

    @property
    def name(self) -> str:
        return f"GOST R 34.10-2012-{self.bits}"

    @property
    def digest_name(self) -> str:
        return f"Streebog-{self.bits}"


GOST_256 = GostAlgorithm(256, OID_PUBLIC_KEY_256, OID_SIGNATURE_256, OID_STREEBOG_256, SIGNATURE_SIZE, DIGEST_SIZE)
GOST_512 = GostAlgorithm(512, OID_PUBLIC_KEY_512, OID_SIGNATURE_512, OID_STREEBOG_512, 128, 64)
_ALGORITHMS = {algorithm.bits: algorithm for algorithm in (GOST_256, GOST_512)}

_BIO_CTRL_INFO = 3
_vp = ctypes.c_void_p


class GostError(ValueError):
    """OpenSSL refused an input (a malformed key, a certificate that is not GOST ...)."""


def available() -> bool:
    """Whether GOST works in this process (loads the engine on first call)."""
    return unavailable_reason() is None


def _streebog(data: bytes, algorithm: GostAlgorithm) -> bytes:
    gost = engine()
    out = ctypes.create_string_buffer(algorithm.digest_size)
    size = ctypes.c_uint(0)
    if gost.lib.EVP_Digest(data, len(data), out, ctypes.byref(size), gost.md[algorithm.bits], None) != 1:
        gost.clear_errors()
        raise GostError(f"{algorithm.digest_name} failed")
    return out.raw[: size.value]


def streebog256(data: bytes) -> bytes:
    """GOST R 34.11-2012 with a 256-bit result (the digest ESIA v2 calls Streebog-256)."""
    return _streebog(data, GOST_256)


def streebog512(data: bytes) -> bytes:
    """GOST R 34.11-2012 with a 512-bit result: what 512-bit GOST keys sign."""
    return _streebog(data, GOST_512)


def from_cryptopro(signature: bytes) -> bytes:
    """CryptoPro CSP's byte order → gost-engine's (and back): all the bytes (64 or 128) reversed."""
    return signature[::-1]


class _Key:
    """An owned ``EVP_PKEY*`` of either size, freed with the object."""

    def __init__(self, pointer: int) -> None:
        self._pointer = pointer
        self.algorithm = _algorithm_of(pointer)

    def __del__(self) -> None:
        try:
            gost = loaded()
            if self._pointer and gost is not None:
                gost.lib.EVP_PKEY_free(self._pointer)
                self._pointer = 0
        except TypeError:  # interpreter shutdown: module globals are already gone
            pass

    @property
    def bits(self) -> int:
        """256 or 512: the key size, which also decides the Streebog it signs."""
        return self.algorithm.bits

    def digest(self, data: bytes) -> bytes:
        """The Streebog of this key's size over ``data`` (what a CMS ``messageDigest`` holds)."""
        return _streebog(data, self.algorithm)

    def spki(self) -> bytes:
        """The DER SubjectPublicKeyInfo of the key (of a key pair, its public half)."""
        gost = engine()
        size = gost.lib.i2d_PUBKEY(self._pointer, None)
        buffer = ctypes.create_string_buffer(max(size, 0))
        cursor = ctypes.c_char_p(ctypes.addressof(buffer))
        if size <= 0 or gost.lib.i2d_PUBKEY(self._pointer, ctypes.byref(cursor)) != size:
            gost.clear_errors()
            raise GostError("cannot encode the public key")
        return buffer.raw


def _algorithm_of(pointer: int) -> GostAlgorithm:
    """The size of a freshly read key, or :class:`GostError` when it is no GOST R 34.10-2012 key
    (the half-made object holding it frees it as it goes)."""
    bits = engine().bits_of(pointer)
    if bits is None:
        raise GostError("not a GOST R 34.10-2012 key (256 or 512 bit)")
    return _ALGORITHMS[bits]


class GostPublicKey(_Key):
    """A GOST R 34.10-2012 public key (256 or 512 bit); :meth:`verify` is thread-safe."""

    @classmethod
    def from_spki(cls, der: bytes) -> GostPublicKey:
        """From a DER SubjectPublicKeyInfo (as in a certificate), of either size."""
        gost = engine()
        cursor = ctypes.c_char_p(der)
        pointer = gost.lib.d2i_PUBKEY(None, ctypes.byref(cursor), len(der))
        if not pointer:
            gost.clear_errors()
            raise GostError("not a public key OpenSSL can read")
        return cls(pointer)

    def verify(self, signature: bytes, data: bytes) -> bool:
        """Whether ``signature`` (gost-engine order: 64 bytes for a 256-bit key, 128 for a 512-bit
        one) signs ``data`` hashed with the Streebog of the key's size."""
        if len(signature) != self.algorithm.signature_size:
            return False
        gost = engine()
        context = gost.lib.EVP_MD_CTX_new()
        try:
            md = gost.md[self.bits]
            if gost.lib.EVP_DigestVerifyInit(context, None, md, None, self._pointer) != 1:
                gost.clear_errors()
                raise GostError("cannot verify with this key")
            ok = gost.lib.EVP_DigestVerify(context, signature, len(signature), data, len(data)) == 1
        finally:
            gost.lib.EVP_MD_CTX_free(context)
        if not ok:
            gost.clear_errors()
        return ok


class GostPrivateKey(_Key):
    """A GOST R 34.10-2012 key pair, 256 bit (the mock's own token-signing key) or 512 bit."""

    @classmethod
    def generate(cls, paramset: str = "A", *, bits: int = 256) -> GostPrivateKey:
        """A new ``bits``-bit key on the parameter set ``paramset``: for 256 bits the
        CryptoPro/TC26 sets A, B, C, XA, XB; for 512 bits the TC26 sets A, B, C."""
        algorithm = _ALGORITHMS.get(bits)
        if algorithm is None:
            raise GostError(f"GOST R 34.10-2012 keys are 256 or 512 bit, not {bits}")
        gost = engine()
        context = gost.lib.EVP_PKEY_CTX_new_id(gost.nid[bits], None)
        pointer = _vp()
        try:
            if (
                not context
                or gost.lib.EVP_PKEY_keygen_init(context) != 1
                or gost.lib.EVP_PKEY_CTX_ctrl_str(context, b"paramset", paramset.encode()) <= 0
                or gost.lib.EVP_PKEY_keygen(context, ctypes.byref(pointer)) != 1
            ):
                gost.clear_errors()
                raise GostError(f"cannot generate a {bits}-bit key on parameter set {paramset!r}")
        finally:
            gost.lib.EVP_PKEY_CTX_free(context)
        return cls(pointer.value or 0)

    @classmethod
    def from_pem(cls, pem: bytes) -> GostPrivateKey:
        gost = engine()
        bio = gost.lib.BIO_new_mem_buf(pem, len(pem))
        try:
            pointer = gost.lib.PEM_read_bio_PrivateKey(bio, None, None, None)
        finally:
            gost.lib.BIO_free(bio)
        if not pointer:
            gost.clear_errors()
            raise GostError("not a PEM private key OpenSSL can read")
        return cls(pointer)

    def to_pem(self) -> bytes:
        """PKCS#8 PEM, unencrypted (a test key)."""
        gost = engine()
        bio = gost.lib.BIO_new(gost.lib.BIO_s_mem())
        try:
            if gost.lib.PEM_write_bio_PrivateKey(bio, self._pointer, None, None, 0, None, None) != 1:
                gost.clear_errors()
                raise GostError("cannot encode the private key")
            data = ctypes.c_char_p()
            size = gost.lib.BIO_ctrl(bio, _BIO_CTRL_INFO, 0, ctypes.byref(data))
            return ctypes.string_at(data, size)
        finally:
            gost.lib.BIO_free(bio)

    def public_key(self) -> GostPublicKey:
        return _public_from_spki(self.spki())

    def sign(self, data: bytes) -> bytes:
        """The signature in gost-engine order over the Streebog of the key's size of ``data``:
        64 bytes for a 256-bit key, 128 for a 512-bit one."""
        gost = engine()
        context = gost.lib.EVP_MD_CTX_new()
        out = ctypes.create_string_buffer(self.algorithm.signature_size)
        size = ctypes.c_size_t(self.algorithm.signature_size)
        try:
            if (
                gost.lib.EVP_DigestSignInit(context, None, gost.md[self.bits], None, self._pointer) != 1
                or gost.lib.EVP_DigestSign(context, out, ctypes.byref(size), data, len(data)) != 1
            ):
                gost.clear_errors()
                raise GostError("signing failed")
        finally:
            gost.lib.EVP_MD_CTX_free(context)
        return out.raw[: size.value]


@lru_cache(maxsize=4096)
def _public_from_spki(der: bytes) -> GostPublicKey:
    return GostPublicKey.from_spki(der)


def public_key_from_certificate(der: bytes) -> GostPublicKey:
    """The GOST key (256 or 512 bit) of a DER X.509 certificate, parsed once per process per
    certificate. Callers that take one size only check :attr:`GostPublicKey.bits`."""
    from asn1crypto import x509

    try:
        spki = as_received(x509.Certificate.load(der)["tbs_certificate"]["subject_public_key_info"])
    except Exception as exc:  # asn1crypto raises many types on garbage
        raise GostError(f"not a DER certificate: {type(exc).__name__}") from None
    return _public_from_spki(spki)
