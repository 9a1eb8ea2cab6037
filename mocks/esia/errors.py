"""ESIA's own error formats, raised through two exception types and rendered in one place.

- :class:`EsiaError` — the OAuth endpoints (``ac``, ``te``, logout). Once ``ac`` has validated
  the ``redirect_uri`` an error goes back to the client as
  ``302 <redirect_uri>?error=…&error_description=ESIA-0070NN: …&state=…``; before that, and on
  ``te``, it is ``400 {"error", "error_description", "state"}`` (an HTML page for browsers).
- :class:`RsError` — the person data REST API: ``{"code": "ESIA-005013", "message": …}``.
- A body over its route's limit (413) or cut short (400) — the stand's own refusals, raised
  wherever a body is read (:mod:`..core.limits`) — is ESIA-007003 in the OAuth form above on
  ESIA's endpoints (:func:`handle_refused_body`), problem+json on the stand's ``/_gosstand`` paths.

Codes follow docs/esia.md §7.
"""

from __future__ import annotations

import html
import json
from urllib.parse import urlencode, urlsplit, urlunsplit

from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ..core.middleware import RESERVED_PREFIX
from ..core.problems import Problem, body_cut_short, handle_client_disconnect, handle_problem

#: ESIA code → the OAuth ``error`` it travels with.
OAUTH_ERRORS: dict[str, str] = {
    "007002": "invalid_client",
    "007003": "invalid_request",
    "007004": "access_denied",
    "007005": "unauthorized_client",
    "007006": "invalid_scope",
    "007007": "server_error",
    "007008": "temporarily_unavailable",
    "007011": "invalid_grant",
    "007012": "unsupported_grant_type",
    "007013": "invalid_scope",
    "007014": "invalid_request",
    "007015": "invalid_request",
    "007019": "access_denied",
    "007023": "invalid_request",
    "007053": "access_denied",
    "007055": "access_denied",
}


class EsiaError(Exception):
    """An OAuth error. With ``redirect_uri`` it is sent back to the client by redirect."""

    def __init__(
        self,
        code: str,
        text: str,
        *,
        state: str | None = None,
        redirect_uri: str | None = None,
        status: int = 400,
    ) -> None:
        super().__init__(f"ESIA-{code}: {text}")
        self.code = code
        self.status = status
        self.error = OAUTH_ERRORS[code]
        self.description = f"ESIA-{code}: {text}"
        self.state = state
        self.redirect_uri = redirect_uri

    def body(self) -> dict[str, str]:
        body = {"error": self.error, "error_description": self.description}
        if self.state is not None:
            body["state"] = self.state
        return body


def unknown_client(client_id: str) -> EsiaError:
    """ESIA-007002 for a client system nobody registered. Answered with 401, as RFC 6749 §5.2
    answers ``invalid_client``, on the browser endpoints (``ac``, logout); ``te`` keeps ESIA's 400."""
    return EsiaError("007002", f"Client {client_id[:64]} is not registered", status=401)


def missing_parameters(
    names: list[str], *, state: str | None = None, redirect_uri: str | None = None
) -> EsiaError:
    """ESIA-007014 naming the absent mandatory parameters in brackets, as ESIA does."""
    return EsiaError(
        "007014",
        f"Request doesn't contain mandatory parameter [{', '.join(names)}].",
        state=state,
        redirect_uri=redirect_uri,
    )


class RsError(Exception):
    """An error of the ``/rs`` REST API."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def expired_token() -> RsError:
    return RsError(401, "ESIA-005013", "SecurityErrorEnum.expiredToken")


def scope_not_allowed() -> RsError:
    return RsError(403, "ESIA-005029", "SecurityErrorEnum.scopeNotAllowed")


def with_query(url: str, params: dict[str, str]) -> str:
    """``url`` with ``params`` appended to whatever query it already has."""
    parts = urlsplit(url)
    extra = urlencode(params)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def error_page(description: str, status: int = 400) -> HTMLResponse:
    text = html.escape(description)
    return HTMLResponse(
        '<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>Ошибка — Госуслуги</title></head>'
        f'<body><h1>Ошибка</h1><p class="error">{text}</p></body></html>',
        status_code=status,
    )


async def handle_esia_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, EsiaError)
    if exc.redirect_uri is not None:
        return RedirectResponse(with_query(exc.redirect_uri, exc.body()), status_code=302)
    if wants_html(request):
        return error_page(exc.description, exc.status)
    return JSONResponse(exc.body(), status_code=exc.status)


async def handle_rs_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RsError)
    headers = {"WWW-Authenticate": 'Bearer realm="esia"'} if exc.status == 401 else None
    return Response(
        json.dumps({"code": exc.code, "message": exc.message}),
        status_code=exc.status,
        media_type="application/json",
        headers=headers,
    )


async def handle_refused_body(request: Request, exc: Exception) -> Response:
    """A refused body (:class:`~..core.limits.BodyTooLarge`, ``ClientDisconnect``) in ESIA's form."""
    if request.url.path.startswith(RESERVED_PREFIX):
        return await (handle_client_disconnect if isinstance(exc, ClientDisconnect) else handle_problem)(request, exc)
    problem = exc if isinstance(exc, Problem) else body_cut_short()
    text = problem.detail or problem.title
    response = await handle_esia_error(request, EsiaError("007003", text[:1].upper() + text[1:], status=problem.status))
    response.headers.update(problem.headers)
    return response
