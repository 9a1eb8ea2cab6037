"""The person's authenticator app: TOTP codes (RFC 6238: HMAC-SHA1 over the 30-second time
step, dynamic truncation of RFC 4226, 6 digits) from the base32 secret ESIA gave the person.

Independent of the mock's code (the client side of the second factor). ``at`` is the time the
code is for — pass the mock's clock when tests move it (``control.now("esia")``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

STEP_SECONDS = 30
DIGITS = 6


def totp(secret: str, at: float | None = None) -> str:
    """The code an authenticator shows at ``at`` (epoch seconds; now by default)."""
    moment = time.time() if at is None else at
    bare = secret.strip().replace(" ", "").upper().rstrip("=")
    key = base64.b32decode(bare + "=" * (-len(bare) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(moment) // STEP_SECONDS), hashlib.sha1).digest()
    start = mac[19] & 0x0F
    number = int.from_bytes(mac[start : start + 4], "big") & 0x7FFFFFFF
    return str(number % 10**DIGITS).zfill(DIGITS)
