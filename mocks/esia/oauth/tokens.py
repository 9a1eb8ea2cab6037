"""The shapes of the tokens ESIA issues — one place for headers, claims and lifetimes.

Deciding *which* claims a login earns (scopes granted, the person's OID, the session) is the
grant handlers' job; signing is :mod:`.token_signing`'s. Shapes follow docs/esia.md §4.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, Literal

from ...core.access import ORGANISATIONS_CLAIM

#: The three kinds of token ESIA signs, as their header's ``sbt`` names them.
TokenKind = Literal["access", "id", "authorization_code"]

ACCESS_TOKEN_LIFETIME = 3600
ID_TOKEN_LIFETIME = 10800
AUTH_CODE_LIFETIME = 240

#: Scopes that describe the organisation rather than the person carry ``?org_oid=``.
ORG_SCOPE_PREFIX = "http://esia.gosuslugi.ru/"


def scoped(scopes: Iterable[str], oid: int) -> str:
    """The access token's ``scope`` claim: every data scope carries ``?oid=<oid>``; ``openid``
    stays bare (``"fullname?oid=1000328686 openid mobile?oid=1000328686"``)."""
    return " ".join(scope if scope == "openid" or "?" in scope else f"{scope}?oid={oid}" for scope in scopes)


def subject(oid: int, *, trusted: bool) -> dict[str, Any]:
    """``urn:esia:sbj``: who logged in. ``is_tru`` says whether the person's account is
    confirmed (identity checked in person, by a bank or by a qualified signature); a client that
    lets only confirmed people act reads it here."""
    return {
        "urn:esia:sbj:typ": "P",
        "urn:esia:sbj:is_tru": trusted,
        "urn:esia:sbj:oid": oid,
        "urn:esia:sbj:nam": f"OID.{oid}",
    }


def access_token_claims(
    *, oid: int, client_id: str, scopes: Iterable[str], issuer: str, now: float, session_id: str,
    organisations: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The access token's claims; ``organisations`` (:func:`~...core.access.organisations_claim`),
    when given, go into the stand's own claim that UTKO and FTS decide access by."""
    iat = int(now)
    extra = {} if organisations is None else {ORGANISATIONS_CLAIM: organisations}
    return {
        "nbf": iat,
        "scope": scoped(scopes, oid),
        "iss": issuer,
        "urn:esia:sid": session_id,
        "urn:esia:sbj_id": oid,
        "exp": iat + ACCESS_TOKEN_LIFETIME,
        "iat": iat,
        "client_id": client_id,
        **extra,
    }


def id_token_claims(
    *,
    oid: int,
    client_id: str,
    issuer: str,
    now: float,
    auth_time: float,
    session_id: str,
    trusted: bool,
    method: str = "PWD",
) -> dict[str, Any]:
    iat = int(now)
    return {
        "aud": client_id,
        "sub": oid,
        "nbf": iat,
        "amr": method,
        "urn:esia:amd": method,
        "auth_time": int(auth_time),
        "iss": issuer,
        "urn:esia:sid": session_id,
        "urn:esia:sbj": subject(oid, trusted=trusted),
        "exp": iat + ID_TOKEN_LIFETIME,
        "iat": iat,
    }


def header(kind: TokenKind, alg: str = "RS256") -> dict[str, Any]:
    """``kind`` is ``access`` (ver 1), ``id`` (ver 0) or ``authorization_code``."""
    return {"ver": 1 if kind != "id" else 0, "typ": "JWT", "sbt": kind, "alg": alg}


def new_refresh_token() -> str:
    """ESIA refresh tokens are opaque UUIDs, rotated on every use."""
    return str(uuid.uuid4())


#: Refresh tokens are honoured this long on the mock's clock (assumed; ESIA does not publish it).
REFRESH_TOKEN_LIFETIME = 30 * 24 * 3600


def auth_code_claims(
    *,
    oid: int,
    client_id: str,
    state: str,
    issuer: str,
    now: float,
    session_id: str,
    code_id: str,
    trusted: bool,
    method: str = "PWD",
    remote_ip: str = "",
    user_agent: str = "",
) -> dict[str, Any]:
    """The authorization code is itself a JWT: who logged in, for which client and ``state``."""
    iat = int(now)
    return {
        "nbf": iat,
        "iat": iat,
        "exp": iat + AUTH_CODE_LIFETIME,
        "iss": issuer,
        "jti": code_id,
        "client_id": client_id,
        "urn:esia:client:state": state,
        "auth_mthd": method,
        "urn:esia:sid": session_id,
        "urn:esia:sbj": subject(oid, trusted=trusted),
        "params": {"remote_ip": remote_ip, "user_agent": user_agent},
    }


def token_response(*, access_token: str, id_token: str, refresh_token: str, state: str) -> dict[str, Any]:
    """The wire shape of a successful ``te`` answer: always all six fields, since different
    clients read different ones."""
    return {
        "access_token": access_token,
        "id_token": id_token,
        "refresh_token": refresh_token,
        "state": state,
        "token_type": "Bearer",
        "expires_in": ACCESS_TOKEN_LIFETIME,
    }


def organisation_token_response(*, access_token: str, state: str) -> dict[str, Any]:
    """The ``client_credentials`` answer: an organisation has no id_token and no refresh token."""
    return {"access_token": access_token, "state": state, "token_type": "Bearer", "expires_in": ACCESS_TOKEN_LIFETIME}
