"""The catalogue of ESIA's errors: every code the mock answers with, what it means, the words
that travel with it and the HTTP status it is answered with. Everywhere else names them.

Three families (the first two rendered by :mod:`.error_answers`):

- OAuth errors (:class:`OAuthCode`, ``ESIA-007xxx``) at ``ac``, ``te``, the login pages and
  logout, raised as :class:`EsiaError`. Once ``ac`` has validated the ``redirect_uri`` the error
  goes back to the client as ``302 <redirect_uri>?error=…&error_description=ESIA-007nnn: …&state=…``;
  before that, and at ``te``, it is ``{"error", "error_description", "state"}`` with the code's
  status (an HTML page for a browser). ``error`` is the RFC 6749 name real ESIA pairs the code with.
- Errors of the person and organisation data API ``/rs`` (:class:`RsCode`, ``ESIA-005xxx``),
  raised as :class:`RsError`: ``{"code": "ESIA-005013", "message": "SecurityErrorEnum.expiredToken"}``.

- Refusals of a sign-in on ESIA's own pages (:class:`SignInCode`, ``ESIA-008xxx``, raised as
  :class:`SignInRefused`): the person sees the code and its text on the page and may try again;
  nothing goes to the client. The signature login's codes are the mock's choice, as ESIA
  publishes none for them.

The codes and their pairings are those real ESIA answers relying parties with (docs/esia.md §7); the texts
after the code are the mock's own, saying exactly what was wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ACCOUNT_LEVEL_TOO_LOW", "BAD_PARAMETER", "CLIENT_NOT_TRUSTED", "CLIENT_SECRET_WRONG", "DENIED", "GRANT_INVALID",
    "GRANT_TYPE_UNSUPPORTED", "NO_GRANTS", "OPENID_MISSING", "PARAMETER_MISSING", "REDIRECT_NOT_REGISTERED",
    "RESOURCE_NOT_FOUND", "SCOPE_NOT_ALLOWED", "SCOPE_UNKNOWN", "TIMESTAMP_OUT_OF_TOLERANCE", "TOKEN_EXPIRED",
    "UNAVAILABLE", "EsiaError", "OAuthCode", "RsCode", "RsError", "denied_by_person", "missing_parameters",
    "overloaded", "unknown_client",
    "CERTIFICATE_EXPIRED", "CERTIFICATE_REVOKED", "CERTIFICATE_UNQUALIFIED", "CERTIFICATE_UNTRUSTED",
    "CHALLENGE_EXPIRED", "CHALLENGE_REPLAYED", "CHALLENGE_WRONG", "HOLDER_INN_MISMATCH", "HOLDER_NOT_EMPLOYED",
    "HOLDER_UNKNOWN", "SIGNATURE_INVALID", "SIGNATURE_MALFORMED", "SignInCode", "SignInRefused",
]


@dataclass(frozen=True, slots=True)
class OAuthCode:
    """An error of the OAuth endpoints."""

    code: str
    #: The RFC 6749 ``error`` the code travels with.
    error: str
    meaning: str
    #: The status when it is answered rather than redirected.
    status: int = 400


CLIENT_NOT_TRUSTED = OAuthCode("ESIA-007002", "invalid_client", "the client is not registered, or has no "
                                                                "certificate, or not the one it proves itself with")
BAD_PARAMETER = OAuthCode("ESIA-007003", "invalid_request", "a parameter is wrong or repeated")
DENIED = OAuthCode("ESIA-007004", "access_denied", "the person (or ESIA on their behalf) denied the request")
SCOPE_UNKNOWN = OAuthCode("ESIA-007006", "invalid_scope", "a scope is unknown or not allowed for the client")
UNAVAILABLE = OAuthCode("ESIA-007008", "temporarily_unavailable", "ESIA is overloaded or in maintenance", 503)
GRANT_INVALID = OAuthCode("ESIA-007011", "invalid_grant", "the code or refresh token is invalid, expired, spent "
                                                          "or issued to another client")
GRANT_TYPE_UNSUPPORTED = OAuthCode("ESIA-007012", "unsupported_grant_type", "the grant type is not supported")
OPENID_MISSING = OAuthCode("ESIA-007013", "invalid_scope", "the scope openid is missing")
PARAMETER_MISSING = OAuthCode("ESIA-007014", "invalid_request", "a mandatory parameter is missing")
TIMESTAMP_OUT_OF_TOLERANCE = OAuthCode("ESIA-007015", "invalid_request", "the request's timestamp is too far "
                                                                         "from ESIA's clock")
NO_GRANTS = OAuthCode("ESIA-007019", "access_denied", "nothing grants the data asked for")
REDIRECT_NOT_REGISTERED = OAuthCode("ESIA-007023", "invalid_request", "the redirect address is not registered "
                                                                      "for the client")
CLIENT_SECRET_WRONG = OAuthCode("ESIA-007053", "access_denied", "client_secret (or client_certificate_hash) is wrong")
ACCOUNT_LEVEL_TOO_LOW = OAuthCode("ESIA-007055", "access_denied", "the account's level is below what the client "
                                                                  "requires")


@dataclass(frozen=True, slots=True)
class RsCode:
    """An error of ``/rs``: its code, the fixed message ESIA sends with it, and the status."""

    code: str
    message: str
    status: int


RESOURCE_NOT_FOUND = RsCode("ESIA-005001", "ResourceNotFound", 404)
TOKEN_EXPIRED = RsCode("ESIA-005013", "SecurityErrorEnum.expiredToken", 401)
SCOPE_NOT_ALLOWED = RsCode("ESIA-005029", "SecurityErrorEnum.scopeNotAllowed", 403)


@dataclass(frozen=True, slots=True)
class SignInCode:
    """A refusal on ESIA's sign-in pages: its code, the words the page shows, the status."""

    code: str
    text: str
    status: int = 400


# The signature login (our choice of codes: ESIA publishes none for these refusals).
SIGNATURE_MALFORMED = SignInCode("ESIA-008001", "Подпись не распознана: нужна отсоединённая подпись CMS "
                                                "(ГОСТ Р 34.10-2012) в base64 с сертификатом")
CHALLENGE_EXPIRED = SignInCode("ESIA-008002", "Срок действия строки для подписи истёк. Подпишите новую строку")
CHALLENGE_WRONG = SignInCode("ESIA-008003", "Подписана не та строка, которую показала страница")
CHALLENGE_REPLAYED = SignInCode("ESIA-008004", "Эта строка уже была подписана и использована для входа")
SIGNATURE_INVALID = SignInCode("ESIA-008005", "Подпись не соответствует сертификату: она сделана другим ключом")
CERTIFICATE_UNTRUSTED = SignInCode("ESIA-008006", "Сертификат выдан неизвестным удостоверяющим центром", 403)
CERTIFICATE_EXPIRED = SignInCode("ESIA-008007", "Срок действия сертификата истёк или ещё не начался", 403)
CERTIFICATE_REVOKED = SignInCode("ESIA-008008", "Сертификат отозван удостоверяющим центром", 403)
CERTIFICATE_UNQUALIFIED = SignInCode("ESIA-008009", "Сертификат не является квалифицированным", 403)
HOLDER_UNKNOWN = SignInCode("ESIA-008010", "Владелец сертификата не зарегистрирован: нет учётной записи "
                                           "с этим СНИЛС", 403)
HOLDER_INN_MISMATCH = SignInCode("ESIA-008011", "ИНН в сертификате не совпадает с ИНН в вашей учётной записи", 403)
HOLDER_NOT_EMPLOYED = SignInCode("ESIA-008012", "Организация, указанная в сертификате (ОГРН, ИНН ЮЛ), не числит вас "
                                                "своим сотрудником", 403)


class SignInRefused(Exception):
    """A sign-in refused with a :class:`SignInCode`; ``detail`` says what exactly was wrong."""

    def __init__(self, kind: SignInCode, detail: str = "") -> None:
        super().__init__(f"{kind.code}: {detail or kind.text}")
        self.kind = kind
        self.detail = detail

    @property
    def message(self) -> str:
        """What the page shows: ``ESIA-008008: Сертификат отозван … (serial 4F3A…)``; the detail
        in brackets is for the engineer reading a failed test, in the mock's English."""
        return f"{self.kind.code}: {self.kind.text}" + (f" ({self.detail})" if self.detail else "")


class EsiaError(Exception):
    """An OAuth error. With ``redirect_uri`` it is sent back to the client by redirect."""

    def __init__(
        self,
        kind: OAuthCode,
        text: str,
        *,
        state: str | None = None,
        redirect_uri: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(f"{kind.code}: {text}")
        self.kind = kind
        self.status = kind.status if status is None else status
        self.description = f"{kind.code}: {text}"
        self.state = state
        self.redirect_uri = redirect_uri

    @property
    def error(self) -> str:
        return self.kind.error

    def body(self) -> dict[str, str]:
        """``{"error", "error_description"[, "state"]}``: the JSON body, and the redirect's query."""
        body = {"error": self.kind.error, "error_description": self.description}
        if self.state is not None:
            body["state"] = self.state
        return body


class RsError(Exception):
    """An error of the ``/rs`` REST API."""

    def __init__(self, kind: RsCode) -> None:
        super().__init__(f"{kind.code}: {kind.message}")
        self.kind = kind


def unknown_client(client_id: str) -> EsiaError:
    """A client system nobody registered. Answered with 401, as RFC 6749 §5.2 answers
    ``invalid_client``, on the browser endpoints (``ac``, logout); ``te`` keeps ESIA's 400."""
    return EsiaError(CLIENT_NOT_TRUSTED, f"Client {client_id[:64]} is not registered", status=401)


def missing_parameters(
    names: list[str], *, state: str | None = None, redirect_uri: str | None = None
) -> EsiaError:
    """:data:`PARAMETER_MISSING` naming the absent mandatory parameters in brackets, as ESIA does."""
    return EsiaError(
        PARAMETER_MISSING,
        f"Request doesn't contain mandatory parameter [{', '.join(names)}].",
        state=state,
        redirect_uri=redirect_uri,
    )


def overloaded(state: str | None, redirect_uri: str | None = None) -> EsiaError:
    return EsiaError(UNAVAILABLE, "Service is temporarily unavailable, try later", state=state,
                     redirect_uri=redirect_uri)


def denied_by_person(state: str, redirect_uri: str) -> EsiaError:
    return EsiaError(DENIED, "The user denied access to the requested data", state=state, redirect_uri=redirect_uri)
