"""The login request's handle (``rid``): what ``ac`` validated, carried by the browser in a
signed, expiring handle instead of a store record.

``ac`` used to store each login request before it sent the browser to the password page: one
store commit per login whose only reader was the next step. A load run's relying parties start
thousands of logins, and that commit (about 80–130 µs of a replica's CPU on SQLite, measured
in-process with ``benchmarks/login_profile.py``) was the one write of ``ac``; many logins are
never finished (abandoned pages, a load test's cut-off journeys) and left a record each.
Now ``ac`` writes nothing: the ``rid`` carries the request (client, redirect URI, scopes,
``state``, ``access_type``, when it was made, and a random id), sealed with an HMAC-SHA256 whose
key every replica derives from ESIA's own signing key (the keys directory all replicas share),
so any replica opens a handle any other made, and no one can make one or change a field of one.
A handle older than :data:`~.login_repository.LOGIN_REQUEST_LIFETIME` on the stand's clock is
refused as the stored request was.

What must be single-use still lives in the store, under the handle's random id
(:mod:`.login_repository`): the SMS code and its attempts from the password step on, and the
login's end — a finished login leaves a marker there, so its handle opens nothing after it.
"""

from __future__ import annotations

import binascii
import hmac
import json
from dataclasses import dataclass
from functools import lru_cache

from ...core.settings import Settings
from ...crypto.b64url import b64url, unb64url
from ..crypto.keys import derived_secret

__all__ = ["MAX_HANDLE", "HandleFields", "LoginHandles", "login_handles"]

#: Longer texts are no handle (a registered redirect URI is at most 2,000 characters).
MAX_HANDLE = 8192
#: Bytes of HMAC-SHA256 kept in a handle: 128 bits, beyond guessing.
_MAC_BYTES = 16
#: How many opened handles a replica remembers (logins in progress; a sealed handle is at most
#: about 3 KiB, its redirect URI being a registered one).
_REMEMBERED = 4096


@dataclass(frozen=True, slots=True)
class HandleFields:
    """What a handle carries: the request as ``ac`` validated it."""

    id: str
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str
    access_type: str
    created: float


class LoginHandles:
    """Seals and opens handles with one replica-shared key."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        #: Handles opened lately (only real ones: a forged text is never kept), oldest first.
        self._opened: dict[str, HandleFields] = {}

    def _mac(self, payload: bytes) -> bytes:
        return hmac.digest(self._key, payload, "sha256")[:_MAC_BYTES]

    def seal(self, fields: HandleFields) -> str:
        payload = json.dumps([fields.id, fields.client_id, fields.redirect_uri, list(fields.scopes), fields.state,
                              fields.access_type, fields.created], ensure_ascii=False,
                             separators=(",", ":")).encode()
        handle = f"{b64url(payload)}.{b64url(self._mac(payload))}"
        self._remember(handle, fields)  # its login page comes next, most often to this replica
        return handle

    def open(self, handle: str) -> HandleFields | None:
        """The fields of a handle sealed here (by any replica), or ``None`` for anything else —
        a forged, altered, cut or foreign text. Expiry is the caller's (it has the clock).

        A login opens its handle four times (both pages and both posts); the handles sealed or
        opened lately are remembered by their text, so each is checked and decoded at most once
        per replica (never on the replica that sealed it)."""
        known = self._opened.get(handle)
        if known is not None:
            return known
        fields = self._read(handle)
        if fields is not None:
            self._remember(handle, fields)
        return fields

    def _remember(self, handle: str, fields: HandleFields) -> None:
        if len(self._opened) >= _REMEMBERED:
            del self._opened[next(iter(self._opened))]
        self._opened[handle] = fields

    def _read(self, handle: str) -> HandleFields | None:
        if not handle or len(handle) > MAX_HANDLE:
            return None
        body, _, mac = handle.partition(".")
        try:
            payload, given = unb64url(body), unb64url(mac)
        except (binascii.Error, ValueError):
            return None
        if not hmac.compare_digest(self._mac(payload), given):
            return None
        try:
            ident, client_id, redirect_uri, scopes, state, access_type, created = json.loads(payload)
        except ValueError:  # never sealed here: the MAC matched, so this is a key shared with another format
            return None
        return HandleFields(ident, client_id, redirect_uri, tuple(scopes), state, access_type, float(created))


@lru_cache(maxsize=8)
def _handles(key: bytes) -> LoginHandles:
    return LoginHandles(key)


def login_handles(settings: Settings) -> LoginHandles:
    """The handles of this ESIA (sealed with a secret of its keys directory's), made once per process."""
    return _handles(derived_secret(settings, b"gosstand esia login handle"))
