"""base64url without padding (RFC 7515 §2), the text form of JWS parts and of ESIA's login handles."""

from __future__ import annotations

import base64

__all__ = ["b64url", "unb64url"]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    """The bytes of ``text`` with or without its padding; :class:`binascii.Error` or
    :class:`ValueError` for text that is not base64url."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
