"""Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP, HMAC-SHA1, 6 digits, 30 s),
the second factor a person may choose instead of SMS.

Written out rather than imported: it is twenty lines, and the time it reads is always the
mock's clock (``moment``), so tests move time instead of waiting for the next window.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import struct

STEP = 30
DIGITS = 6
#: Codes of the neighbouring time steps are accepted too (clock drift of a phone).
WINDOW = 1
_BASE32 = re.compile(r"[A-Z2-7]{16,128}=*")


def new_secret() -> str:
    """A random 160-bit secret in base32, as authenticator apps take it."""
    return base64.b32encode(secrets.token_bytes(20)).decode()


def valid_secret(value: object) -> bool:
    if not isinstance(value, str) or not _BASE32.fullmatch(value):
        return False
    try:
        bare = value.rstrip("=")
        base64.b32decode(bare + "=" * (-len(bare) % 8))
    except (binascii.Error, ValueError):
        return False
    return True


def hotp(secret: str, counter: int) -> str:
    bare = secret.rstrip("=")
    key = base64.b32decode(bare + "=" * (-len(bare) % 8))
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 10**DIGITS:0{DIGITS}d}"


def matching_step(secret: str, code: str, moment: float) -> int | None:
    """The time step whose code ``code`` is (within :data:`WINDOW`), or ``None``."""
    if len(code) != DIGITS or not code.isdigit():
        return None
    step = int(moment // STEP)
    for candidate in range(step - WINDOW, step + WINDOW + 1):
        if hmac.compare_digest(hotp(secret, candidate), code):
            return candidate
    return None
