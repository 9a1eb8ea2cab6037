"""Why a sign-in did not open a session, in words the person can read on the account's page."""

from __future__ import annotations

__all__ = ["SignInRefused"]


class SignInRefused(Exception):
    """The sign-in stops here. ``status`` is the page's HTTP status: 400/403 for what the browser
    or ESIA's answer got wrong, 503 when ESIA could not be reached (``retry`` then says so)."""

    def __init__(self, message: str, *, status: int = 400, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        #: What exactly went wrong (ESIA's ``error_description``, the failed check), for the page's
        #: small print and the logs.
        self.detail = detail
