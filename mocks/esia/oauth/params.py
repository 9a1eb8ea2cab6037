"""The parameters ``ac`` and ``te`` share, and their checks: the request's parameter set
(:class:`Params`, read from the query or the form by :mod:`.handlers`), ``timestamp`` against
the mock's clock, ``state``, and v1's ``client_secret`` signature (v2's: :mod:`.v2`)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable
from functools import lru_cache
from typing import Protocol

from ...core.context import ServiceContext
from ..crypto.signature import SecretRejected, signed_message, verify_client_secret
from ..errors import (
    BAD_PARAMETER,
    CLIENT_NOT_TRUSTED,
    CLIENT_SECRET_WRONG,
    TIMESTAMP_OUT_OF_TOLERANCE,
    EsiaError,
    missing_parameters,
)
from .clients import ClientSystem

#: A timestamp whose ``+`` became a space in a query string that did not encode it.
_UNENCODED_PLUS = re.compile(r"(.* \d{2}:\d{2}:\d{2}) +(\d{4})")
#: The shape nearly every client sends, read without strptime (which costs 30 µs a call).
_CANONICAL = re.compile(r"(\d{4})\.(\d\d)\.(\d\d) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)", re.ASCII)


class Params:
    """A request's parameters. A repeated parameter is :data:`~..errors.BAD_PARAMETER`, as at ESIA."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in pairs:
            self._values.setdefault(name, []).append(value)
        self.state: str | None = None
        self.redirect_uri: str | None = None

    def get(self, name: str) -> str | None:
        values = self._values.get(name)
        if not values:
            return None
        if len(values) > 1:
            raise EsiaError(
                BAD_PARAMETER, f"Parameter {name} is repeated", state=self.state, redirect_uri=self.redirect_uri
            )
        return values[0] if values[0] != "" else None

    def require(self, names: Iterable[str]) -> None:
        """:data:`~..errors.PARAMETER_MISSING` naming every mandatory parameter that is absent or empty."""
        missing = [name for name in names if not self._values.get(name) or self._values[name] == [""]]
        if missing:
            raise missing_parameters(missing, state=self.state, redirect_uri=self.redirect_uri)

    def __contains__(self, name: str) -> bool:
        return name in self._values


@lru_cache(maxsize=1024)
def parse_timestamp(text: str) -> tuple[float, str] | None:
    """``2025.09.02 13:00:29 +0300`` → (epoch seconds, the text as the client signed it).

    A ``+`` that arrived as a space (an unencoded query string) is put back, since the client
    signed the ``+``. Remembered per text: a timestamp has whole seconds, so the requests a
    client sends within one second share it, and the parse (6 µs) becomes a lookup."""
    repaired = _UNENCODED_PLUS.fullmatch(text)
    if repaired:
        text = f"{repaired.group(1)} +{repaired.group(2)}"
    try:
        canonical = _CANONICAL.fullmatch(text)
        if canonical is None:  # single digits, "+03:00", "Z"...: strptime knows them all
            return dt.datetime.strptime(text, "%Y.%m.%d %H:%M:%S %z").timestamp(), text
        *moment, sign, hours, minutes = canonical.groups()
        offset = (1 if sign == "+" else -1) * dt.timedelta(hours=int(hours), minutes=int(minutes))
        year, month, day, hour, minute, second = map(int, moment)
        return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.timezone(offset)).timestamp(), text
    except (ValueError, OverflowError):
        return None


def checked_timestamp(params: Params, client: ClientSystem, *, now: float) -> str:
    """The ``timestamp`` as signed, once it parses and lies within the client's tolerance."""
    text = params.get("timestamp") or ""
    parsed = parse_timestamp(text)
    if parsed is None:
        raise EsiaError(
            BAD_PARAMETER,
            "Parameter timestamp is wrong: expected yyyy.MM.dd HH:mm:ss Z",
            state=params.state,
            redirect_uri=params.redirect_uri,
        )
    moment, signed_text = parsed
    if abs(now - moment) > client.timestamp_tolerance:
        raise EsiaError(
            TIMESTAMP_OUT_OF_TOLERANCE,
            "Request time is out of tolerance",
            state=params.state,
            redirect_uri=params.redirect_uri,
        )
    return signed_text


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36


class SecretCheck(Protocol):
    """How an endpoint checks ``client_secret``: v1's CMS (:func:`check_client_secret`) or
    v2's raw GOST signature (:mod:`.v2`). Raises :class:`EsiaError` to refuse."""

    def __call__(self, ctx: ServiceContext, params: Params, client: ClientSystem, *, timestamp: str) -> None: ...


def check_client_secret(ctx: ServiceContext, params: Params, client: ClientSystem, *, timestamp: str) -> None:
    """Verify ``client_secret`` over ``scope + timestamp + client_id + state`` per the
    client's signature mode (or the replica's)."""
    mode = client.signature_mode or ctx.settings.signature_mode
    message = signed_message(
        scope=params.get("scope") or "",
        timestamp=timestamp,
        client_id=client.client_id,
        state=params.get("state") or "",
    )
    if mode == "strict" and client.certificate is None:
        raise EsiaError(
            CLIENT_NOT_TRUSTED,
            "No certificate is registered for the client",
            state=params.state,
            redirect_uri=params.redirect_uri,
        )
    try:
        verify_client_secret(params.get("client_secret") or "", message, key=client.public_key, mode=mode)
    except SecretRejected as exc:
        raise EsiaError(
            CLIENT_SECRET_WRONG,
            f"OAuthErrorEnum.clientSecretWrong ({exc})",
            state=params.state,
            redirect_uri=params.redirect_uri,
        ) from None
