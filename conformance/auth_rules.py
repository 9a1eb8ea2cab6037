"""The authentication rules, one check function each: how a protected operation must answer a
request whose bearer token proves nothing, or not enough (RFC 6750 §3).

Each ``check_*`` function takes the answer to one request and raises :class:`AssertionError`
saying what was wrong; it is a plain function so any runner (the suite's tests, a schemathesis
check, a mutation benchmark) can call it. What the rules ask:

- no token at all: 401 with a ``Bearer`` challenge and *no* error code (RFC 6750 §3.1: a request
  without credentials gets none);
- a token that proves nothing — malformed, a signature that does not verify, another issuer,
  expired, not valid yet, an ID token or a refresh token sent as the access token: 401 with
  ``Bearer error="invalid_token"``;
- a valid token without a scope the operation needs: 403 with ``Bearer error="insufficient_scope"``.

A challenge's ``realm``, when present, must be a non-empty string. :data:`AUTH_RULES` names each
rule with the token it is asked with (:mod:`.bad_tokens` mints them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
from werkzeug.datastructures import WWWAuthenticate

if TYPE_CHECKING:
    from .bad_tokens import BadTokens

__all__ = [
    "AUTH_RULES",
    "AuthRule",
    "authorization",
    "bearer_challenge",
    "check_expired_token_refused",
    "check_foreign_issuer_refused",
    "check_id_token_refused",
    "check_malformed_token_refused",
    "check_missing_scope_refused",
    "check_missing_token_refused",
    "check_premature_token_refused",
    "check_refresh_token_refused",
    "check_tampered_signature_refused",
    "rules_for",
]


def _request_line(response: httpx.Response) -> str:
    return f"{response.request.method} {response.request.url.path}"


def bearer_challenge(response: httpx.Response) -> dict[str, str]:
    """The parameters of the answer's ``Bearer`` challenge (``WWW-Authenticate``); an
    :class:`AssertionError` when there is none."""
    for header in response.headers.get_list("www-authenticate"):
        challenge = WWWAuthenticate.from_header(header)
        if challenge is not None and challenge.type == "bearer":
            parameters = {name: value or "" for name, value in challenge.parameters.items()}
            realm = parameters.get("realm")
            assert realm is None or realm.strip(), f"{_request_line(response)}: an empty realm in {header!r}"
            return parameters
    raise AssertionError(f"{_request_line(response)} answered {response.status_code} without a "
                         f"WWW-Authenticate: Bearer challenge (RFC 6750 §3)")


def _refused_as_invalid(response: httpx.Response, token: str) -> None:
    assert response.status_code == 401, (
        f"{_request_line(response)} with {token} answered {response.status_code}, not 401 "
        f"(RFC 6750 invalid_token): {response.text[:200]}")
    error = bearer_challenge(response).get("error")
    assert error == "invalid_token", (
        f"{_request_line(response)} with {token}: the Bearer challenge's error is {error!r}, not 'invalid_token'")


def check_missing_token_refused(response: httpx.Response) -> None:
    """No ``Authorization`` header: 401 and a Bearer challenge without an error code."""
    assert response.status_code == 401, (
        f"{_request_line(response)} without a token answered {response.status_code}, not 401: {response.text[:200]}")
    error = bearer_challenge(response).get("error")
    assert error is None, (
        f"{_request_line(response)} without a token: the challenge names error={error!r}; a request "
        "with no credentials gets no error code (RFC 6750 §3.1)")


def check_malformed_token_refused(response: httpx.Response) -> None:
    """A bearer that is not a JWT at all."""
    _refused_as_invalid(response, "a malformed token")


def check_tampered_signature_refused(response: httpx.Response) -> None:
    """ESIA's token with one character of its signature changed."""
    _refused_as_invalid(response, "a token whose signature does not verify")


def check_foreign_issuer_refused(response: httpx.Response) -> None:
    """A token from an ESIA the service does not trust (another ``iss``)."""
    _refused_as_invalid(response, "a token of another issuer")


def check_expired_token_refused(response: httpx.Response) -> None:
    """A token whose ``exp`` has passed on the stand's clock."""
    _refused_as_invalid(response, "an expired token")


def check_premature_token_refused(response: httpx.Response) -> None:
    """A token whose ``nbf`` is an hour ahead."""
    _refused_as_invalid(response, "a token not valid yet")


def check_id_token_refused(response: httpx.Response) -> None:
    """The login's ID token sent as the access token (signed by ESIA, but not for access)."""
    _refused_as_invalid(response, "an ID token as the bearer")


def check_refresh_token_refused(response: httpx.Response) -> None:
    """The login's refresh token (an opaque UUID) sent as the access token."""
    _refused_as_invalid(response, "a refresh token as the bearer")


def check_missing_scope_refused(response: httpx.Response, scope: str) -> None:
    """A valid token without ``scope``, which the operation needs: 403 ``insufficient_scope``."""
    assert response.status_code == 403, (
        f"{_request_line(response)} with a token lacking {scope!r} answered {response.status_code}, not 403 "
        f"(RFC 6750 insufficient_scope): {response.text[:200]}")
    error = bearer_challenge(response).get("error")
    assert error == "insufficient_scope", (
        f"{_request_line(response)} with a token lacking {scope!r}: the Bearer challenge's error is "
        f"{error!r}, not 'insufficient_scope'")


@dataclass(frozen=True)
class AuthRule:
    """A rule: its name, the kind of token it is asked with (``None``: no header), its check."""

    name: str
    token: str | None
    check: Callable[[httpx.Response], None]


AUTH_RULES: tuple[AuthRule, ...] = (
    AuthRule("missing_token", None, check_missing_token_refused),
    AuthRule("malformed_token", "malformed", check_malformed_token_refused),
    AuthRule("tampered_signature", "tampered", check_tampered_signature_refused),
    AuthRule("foreign_issuer", "foreign_issuer", check_foreign_issuer_refused),
    AuthRule("expired_token", "expired", check_expired_token_refused),
    AuthRule("premature_token", "premature", check_premature_token_refused),
    AuthRule("id_token_as_bearer", "id_token", check_id_token_refused),
    AuthRule("refresh_token_as_bearer", "refresh_token", check_refresh_token_refused),
)


def rules_for(scopes: tuple[str, ...]) -> list[AuthRule]:
    """The rules of an operation needing ``scopes``: every token rule, and one missing-scope rule
    per scope it needs (``openid`` is withheld by an organisation's token, which has no person)."""
    from functools import partial

    from .bad_tokens import withheld

    missing = [AuthRule(f"missing_scope_{scope}", withheld(scope), partial(check_missing_scope_refused, scope=scope))
               for scope in scopes]
    return [*AUTH_RULES, *missing]


def authorization(rule: AuthRule, tokens: BadTokens) -> str | None:
    """The ``Authorization`` header ``rule`` is asked with (``None``: none at all)."""
    return None if rule.token is None else f"Bearer {tokens.token(rule.token)}"
