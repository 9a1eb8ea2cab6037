"""ESIA's errors as HTTP answers, in one place: the exception handlers the app installs for the
catalogue's two families (:mod:`.errors`), and for the stand's own refusals of a request body.

- :class:`~.errors.EsiaError` with a ``redirect_uri``: ``302`` back to the client with the error
  in the query; without one: an HTML page for a browser (``Accept: text/html``), else the JSON
  body, with the error's status.
- :class:`~.errors.RsError`: ``{"code", "message"}`` with its status; a 401 says
  ``WWW-Authenticate: Bearer realm="esia"``.
- A body over its route's limit (413) or cut short (400) — refused wherever a body is read
  (:mod:`..core.limits`) — is :data:`~.errors.BAD_PARAMETER` in the OAuth form on ESIA's
  endpoints, problem+json on the stand's ``/_gosstand`` paths.
"""

from __future__ import annotations

import html
import json

from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ..core.hot_path import HotAnswer
from ..core.middleware import RESERVED_PREFIX
from ..core.problems import Problem, body_cut_short, handle_client_disconnect, handle_problem
from .errors import BAD_PARAMETER, EsiaError, RsError
from .oauth.redirects import with_query

__all__ = ["esia_error_answer", "esia_error_response", "handle_esia_error", "handle_refused_body", "handle_rs_error",
           "wants_html"]


def _wants_html(request: Request) -> bool:
    return wants_html(request.headers.get("accept", ""))


def wants_html(accept: str) -> bool:
    """Whether the request's (first) ``Accept`` header asks for a page rather than JSON."""
    return "text/html" in accept


def _error_page(description: str, status: int = 400) -> HTMLResponse:
    return HTMLResponse(_error_html(description), status_code=status)


def _error_html(description: str) -> str:
    text = html.escape(description)
    return ('<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>Ошибка — Госуслуги</title></head>'
            f'<body><h1>Ошибка</h1><p class="error">{text}</p></body></html>')


async def handle_esia_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, EsiaError)
    return esia_error_response(exc, html_page=_wants_html(request))


def esia_error_response(exc: EsiaError, *, html_page: bool) -> Response:
    """An OAuth error as ESIA answers it: back to the client by redirect once its
    ``redirect_uri`` is known, else a page for a browser (``html_page``) or the JSON body."""
    if exc.redirect_uri is not None:
        return RedirectResponse(with_query(exc.redirect_uri, exc.body()), status_code=302)
    if html_page:
        return _error_page(exc.description, exc.status)
    return JSONResponse(exc.body(), status_code=exc.status)


def esia_error_answer(exc: EsiaError, *, html_page: bool) -> HotAnswer:
    """What :func:`esia_error_response` sends, rendered without Starlette's response objects
    (for the login's hot routes; the parity tests hold the two to the same bytes)."""
    if exc.redirect_uri is not None:
        return HotAnswer.redirect(with_query(exc.redirect_uri, exc.body()), status=302)
    if html_page:
        return HotAnswer.html(_error_html(exc.description), status=exc.status)
    return HotAnswer.json(exc.body(), status=exc.status)


async def handle_rs_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RsError)
    status = exc.kind.status
    headers = {"WWW-Authenticate": 'Bearer realm="esia"'} if status == 401 else None
    return Response(
        json.dumps({"code": exc.kind.code, "message": exc.kind.message}),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


async def handle_refused_body(request: Request, exc: Exception) -> Response:
    """A refused body (:class:`~..core.limits.BodyTooLarge`, ``ClientDisconnect``) in ESIA's form."""
    if request.url.path.startswith(RESERVED_PREFIX):
        return await (handle_client_disconnect if isinstance(exc, ClientDisconnect) else handle_problem)(request, exc)
    problem = exc if isinstance(exc, Problem) else body_cut_short()
    text = problem.detail or problem.title
    response = await handle_esia_error(request, EsiaError(BAD_PARAMETER, text[:1].upper() + text[1:],
                                                          status=problem.status))
    response.headers.update(problem.headers)
    return response
