"""The account's signed requests to ESIA, protocol v2: the authorization URL the browser is sent
to (``/aas/oauth2/v2/ac``), and the forms that trade a code and a refresh token
(``/aas/oauth2/v3/te``).

``client_secret`` is the raw GOST signature, base64url, of the parts joined with no separator:
``client_id, scope, scope_org, timestamp, state, redirect_uri`` for ``ac`` and the refresh grant,
and the same followed by ``code`` for the code grant (no ``scope_org`` here: it is empty). The
account asks for ``access_type=offline``: only then does ESIA's refresh token renew the access
token, which the session needs for longer than the token's hour. ``timestamp`` is
``yyyy.MM.dd HH:mm:ss +0300`` on the service's clock, which ESIA holds within its tolerance of
its own.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

from .client_keys import AccountKeys

__all__ = ["EsiaClient", "esia_timestamp"]

AUTHORIZE_PATH = "/aas/oauth2/v2/ac"
TOKEN_PATH = "/aas/oauth2/v3/te"
LOGOUT_PATH = "/idp/ext/Logout"
_MOSCOW = dt.timezone(dt.timedelta(hours=3))


def esia_timestamp(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, _MOSCOW).strftime("%Y.%m.%d %H:%M:%S %z")


@dataclass(frozen=True, slots=True)
class EsiaClient:
    """The account as ESIA's client system: its mnemonic, callback, scopes and keys."""

    #: ESIA as the browser reaches it (the authorization and logout redirects).
    esia_url: str
    #: ESIA as this replica reaches it (the code exchange, ``/rs``); often the same URL.
    server_url: str
    client_id: str
    redirect_uri: str
    scope: str
    keys: AccountKeys

    def _signed(self, *, state: str, now: float, code: str = "") -> dict[str, str]:
        timestamp = esia_timestamp(now)
        message = f"{self.client_id}{self.scope}{timestamp}{state}{self.redirect_uri}{code}"
        return {
            "client_id": self.client_id,
            "scope": self.scope,
            "timestamp": timestamp,
            "state": state,
            "redirect_uri": self.redirect_uri,
            "client_secret": base64.urlsafe_b64encode(self.keys.sign(message)).decode(),
            "client_certificate_hash": self.keys.certificate_hash,
        }

    def authorization_url(self, *, state: str, now: float) -> str:
        params = {**self._signed(state=state, now=now), "response_type": "code", "access_type": "offline"}
        return f"{self.esia_url}{AUTHORIZE_PATH}?{urlencode(params)}"

    def token_form(self, code: str, *, now: float) -> dict[str, str]:
        """The code grant, with a fresh ``state`` as ESIA's guidelines want."""
        return {**self._signed(state=str(uuid.uuid4()), now=now, code=code),
                "grant_type": "authorization_code", "code": code, "token_type": "Bearer"}

    def refresh_form(self, refresh_token: str, *, now: float) -> dict[str, str]:
        """The refresh grant: a new access token (and a new refresh token) for the same sign-in."""
        return {**self._signed(state=str(uuid.uuid4()), now=now),
                "grant_type": "refresh_token", "refresh_token": refresh_token, "token_type": "Bearer"}

    @property
    def token_url(self) -> str:
        return f"{self.server_url}{TOKEN_PATH}"

    def logout_url(self, redirect_url: str) -> str:
        """Where the browser ends its ESIA session and comes back to ``redirect_url``."""
        return f"{self.esia_url}{LOGOUT_PATH}?{urlencode({'client_id': self.client_id, 'redirect_url': redirect_url})}"
