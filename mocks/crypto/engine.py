"""The system OpenSSL with Debian's gost engine, loaded once per process through :mod:`ctypes`:
the library, the C declarations of every function gosstand calls, the engine switched on, and
the engine's Streebog and key type for each key size.

Python has no GOST of its own and ``cryptography`` does not offer it, but
``libengine-gost-openssl`` teaches the *system* OpenSSL 3 (the ``libcrypto.so.3`` Python's own
``hashlib`` links) GOST R 34.10-2012 keys and signatures and GOST R 34.11-2012 (Streebog).

Only this plumbing is shared. What is done with the engine is written twice on purpose: the
mocks' keys, signatures and checks (:mod:`.gost`) and the reference client's
(``scenarios/gost.py``) call different OpenSSL functions (the mocks ``EVP_DigestSign`` and
``EVP_DigestVerify``, the client ``EVP_PKEY_sign`` over a digest it made and ``CMS_sign``), so a
mistake in how the mocks check a signature is not repeated by the client that makes it, and the
conformance suite's signatures keep testing the mocks.

When the engine is missing, :func:`unavailable_reason` says why and :func:`engine` raises
:class:`GostUnavailable`; callers turn that into a clean refusal (a server) or a skip (a test).
Install: ``apt-get install -y libengine-gost-openssl``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading

__all__ = ["ENGINE_NAMES", "GostEngine", "GostUnavailable", "engine", "loaded", "unavailable_reason"]

#: Per key size: the engine's names for the key type (GOST R 34.10-2012) and for the Streebog
#: (GOST R 34.11-2012) a key of that size signs (RFC 9215 pairs them).
ENGINE_NAMES: dict[int, tuple[bytes, bytes]] = {
    256: (b"gost2012_256", b"md_gost12_256"),
    512: (b"gost2012_512", b"md_gost12_512"),
}

_ENGINE_METHOD_ALL = 0xFFFF
_vp = ctypes.c_void_p
_char_pp = ctypes.POINTER(ctypes.c_char_p)
_size_p = ctypes.POINTER(ctypes.c_size_t)

#: Every libcrypto function called, with its result and argument types: (name, restype, argtypes).
_DECLARATIONS: list[tuple[str, object, list[object]]] = [
    ("OpenSSL_version_num", ctypes.c_ulong, []),
    ("ENGINE_by_id", _vp, [ctypes.c_char_p]),
    ("ENGINE_init", ctypes.c_int, [_vp]),
    ("ENGINE_set_default", ctypes.c_int, [_vp, ctypes.c_uint]),
    ("ERR_clear_error", None, []),
    ("EVP_get_digestbyname", _vp, [ctypes.c_char_p]),
    ("OBJ_sn2nid", ctypes.c_int, [ctypes.c_char_p]),
    ("EVP_Digest", ctypes.c_int,
     [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.POINTER(ctypes.c_uint), _vp, _vp]),
    ("EVP_MD_CTX_new", _vp, []),
    ("EVP_MD_CTX_free", None, [_vp]),
    ("EVP_DigestSignInit", ctypes.c_int, [_vp, _vp, _vp, _vp, _vp]),
    ("EVP_DigestSign", ctypes.c_int, [_vp, ctypes.c_char_p, _size_p, ctypes.c_char_p, ctypes.c_size_t]),
    ("EVP_DigestVerifyInit", ctypes.c_int, [_vp, _vp, _vp, _vp, _vp]),
    ("EVP_DigestVerify", ctypes.c_int, [_vp, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]),
    ("EVP_PKEY_free", None, [_vp]),
    ("EVP_PKEY_get_base_id", ctypes.c_int, [_vp]),
    ("EVP_PKEY_CTX_new_id", _vp, [ctypes.c_int, _vp]),
    ("EVP_PKEY_CTX_new", _vp, [_vp, _vp]),
    ("EVP_PKEY_CTX_free", None, [_vp]),
    ("EVP_PKEY_CTX_ctrl_str", ctypes.c_int, [_vp, ctypes.c_char_p, ctypes.c_char_p]),
    ("EVP_PKEY_keygen_init", ctypes.c_int, [_vp]),
    ("EVP_PKEY_keygen", ctypes.c_int, [_vp, ctypes.POINTER(_vp)]),
    ("EVP_PKEY_sign_init", ctypes.c_int, [_vp]),
    ("EVP_PKEY_sign", ctypes.c_int, [_vp, ctypes.c_char_p, _size_p, ctypes.c_char_p, ctypes.c_size_t]),
    ("EVP_PKEY_verify_init", ctypes.c_int, [_vp]),
    ("EVP_PKEY_verify", ctypes.c_int, [_vp, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]),
    ("d2i_PUBKEY", _vp, [_vp, _char_pp, ctypes.c_long]),
    ("i2d_PUBKEY", ctypes.c_int, [_vp, _char_pp]),
    ("d2i_X509", _vp, [_vp, _char_pp, ctypes.c_long]),
    ("X509_free", None, [_vp]),
    ("BIO_new_mem_buf", _vp, [ctypes.c_char_p, ctypes.c_int]),
    ("BIO_s_mem", _vp, []),
    ("BIO_new", _vp, [_vp]),
    ("BIO_free", ctypes.c_int, [_vp]),
    ("BIO_ctrl", ctypes.c_long, [_vp, ctypes.c_int, ctypes.c_long, _vp]),
    ("PEM_read_bio_PrivateKey", _vp, [_vp, _vp, _vp, _vp]),
    ("PEM_write_bio_PrivateKey", ctypes.c_int, [_vp, _vp, _vp, _vp, ctypes.c_int, _vp, _vp]),
    ("CMS_sign", _vp, [_vp, _vp, _vp, _vp, ctypes.c_uint]),
    ("CMS_ContentInfo_free", None, [_vp]),
    ("i2d_CMS_ContentInfo", ctypes.c_int, [_vp, _char_pp]),
]


class GostUnavailable(RuntimeError):
    """The system OpenSSL has no working gost engine here."""


class GostEngine:
    """libcrypto with its functions declared and the gost engine as its default, set up once per
    process (:func:`engine`)."""

    def __init__(self) -> None:
        path = ctypes.util.find_library("crypto") or "libcrypto.so.3"
        lib = ctypes.CDLL(path)
        if lib.OpenSSL_version_num() >> 28 < 3:
            raise GostUnavailable(f"{path} is not OpenSSL 3")
        for name, restype, argtypes in _DECLARATIONS:
            function = getattr(lib, name)
            function.restype, function.argtypes = restype, argtypes
        self.lib = lib
        handle = lib.ENGINE_by_id(b"gost")
        if not handle:
            lib.ERR_clear_error()
            raise GostUnavailable(
                "the OpenSSL gost engine is not installed (apt-get install -y libengine-gost-openssl)"
            )
        if lib.ENGINE_init(handle) != 1 or lib.ENGINE_set_default(handle, _ENGINE_METHOD_ALL) != 1:
            lib.ERR_clear_error()
            raise GostUnavailable("the OpenSSL gost engine did not initialise")
        #: Per key size: the engine's Streebog (``EVP_MD*``) and its key type (NID).
        self.md: dict[int, int] = {bits: lib.EVP_get_digestbyname(md) for bits, (_, md) in ENGINE_NAMES.items()}
        self.nid: dict[int, int] = {bits: lib.OBJ_sn2nid(key) for bits, (key, _) in ENGINE_NAMES.items()}
        if not all(self.md.values()) or not all(self.nid.values()):
            lib.ERR_clear_error()
            raise GostUnavailable("the gost engine lacks GOST R 34.11-2012 or 34.10-2012 (256 and 512 bit)")
        self._bits_of_nid = {nid: bits for bits, nid in self.nid.items()}

    def bits_of(self, key: int) -> int | None:
        """256 or 512: the size of an ``EVP_PKEY*``; ``None`` when it is no GOST R 34.10-2012 key."""
        return self._bits_of_nid.get(self.lib.EVP_PKEY_get_base_id(key))

    def clear_errors(self) -> None:
        """Forget OpenSSL's error queue after a refusal, so it does not leak into the next call."""
        self.lib.ERR_clear_error()


_setup_lock = threading.Lock()
_state: GostEngine | GostUnavailable | None = None


def engine() -> GostEngine:
    """The process's engine, set up on first use; :class:`GostUnavailable` when there is none."""
    global _state
    if _state is None:
        with _setup_lock:
            if _state is None:
                try:
                    _state = GostEngine()
                except (OSError, AttributeError, GostUnavailable) as exc:
                    _state = exc if isinstance(exc, GostUnavailable) else GostUnavailable(str(exc))
    if isinstance(_state, GostUnavailable):
        raise _state
    return _state


def loaded() -> GostEngine | None:
    """The engine if it is set up already, without setting it up: what a key's finaliser frees
    its pointer with (at interpreter shutdown the module may be half gone)."""
    return _state if isinstance(_state, GostEngine) else None


def unavailable_reason() -> str | None:
    """``None`` when GOST works in this process, else why not (sets the engine up on first call)."""
    try:
        engine()
    except GostUnavailable as exc:
        return str(exc)
    return None
