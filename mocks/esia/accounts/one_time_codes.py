"""The one-time codes ESIA sends (login, registration, recovery, unlock) and the random
handles (``rid``) that name a request in progress between two pages."""

from __future__ import annotations

import secrets

__all__ = ["MAX_ATTEMPTS", "OTP_LIFETIME", "new_handle", "new_otp"]

#: A code is valid this long on the mock's clock (ten minutes, as ESIA tells people).
OTP_LIFETIME = 600
#: Wrong codes allowed before the request ends.
MAX_ATTEMPTS = 3


def new_otp() -> str:
    """Six random digits."""
    return f"{secrets.randbelow(10**6):06d}"


def new_handle() -> str:
    """A random, URL-safe name for a request in progress (a login, a registration, a consent)."""
    return secrets.token_urlsafe(18)
