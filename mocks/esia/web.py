"""The HTTP edge ESIA's handlers share: reading a form and the browser out of a request, and
turning a flow's :class:`~.browser.Page` or :class:`~.browser.Redirect` into a response (with
the SSO cookie it opens or ends). Nothing past this module sees Starlette.

The browser and the response are made from the ASGI scope alone (:func:`browser_in`,
:func:`respond_to`), so the login's hot routes (:mod:`.oauth.handlers`), which answer before
Starlette sees the request, read and answer exactly as the full routes do."""

from __future__ import annotations

import time

from starlette.requests import Request, cookie_parser
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import Scope

from ..core.forms import NotAForm, form_fields
from ..core.hot_path import HotAnswer
from .browser import Answer, Browser, Page
from .oauth.login_repository import SSO_LIFETIME

__all__ = ["SSO_COOKIE", "browser_in", "browser_of", "hot_answer_to", "read_form", "respond", "respond_to"]

#: How many distinct server addresses' base URLs are remembered (a stand has one or two).
_BASE_URLS_KEPT = 64
_base_urls: dict[tuple[object, ...], str] = {}

SSO_COOKIE = "esia_sso"


async def read_form(request: Request) -> dict[str, str]:
    """The text fields of a posted form; nothing for any other body (never an exception)."""
    try:
        fields = await form_fields(request)
    except NotAForm:
        return {}
    return dict(fields or ())  # a repeated field: its last value, as Starlette's FormData gives


def browser_of(request: Request) -> Browser:
    return browser_in(request.scope)


def browser_in(scope: Scope) -> Browser:
    """The browser of a request, read as Starlette reads them: the client's address, the first
    ``User-Agent`` (cut to 200 characters) and the SSO cookie of the first ``Cookie`` header."""
    agent = cookies = None
    for name, value in scope["headers"]:
        if name == b"user-agent" and agent is None:
            agent = value
        elif name == b"cookie" and cookies is None:
            cookies = value
    client = scope.get("client")
    return Browser(
        remote_ip=client[0] if client else "",
        user_agent=(agent or b"").decode("latin-1")[:200],
        sso_session=cookie_parser(cookies.decode("latin-1")).get(SSO_COOKIE) if cookies else None,
    )


def _base_url(scope: Scope) -> str:
    """The request's base URL without its last slash (``http://host:port``), as Starlette makes
    it; made once per server address, scheme and root path."""
    host = next((value for name, value in scope["headers"] if name == b"host"), None)
    server = scope.get("server")
    key = (scope.get("scheme"), None if server is None else tuple(server), host, scope.get("root_path"),
           scope.get("app_root_path"))
    known = _base_urls.get(key)
    if known is None:
        if len(_base_urls) >= _BASE_URLS_KEPT:
            _base_urls.clear()
        known = _base_urls[key] = str(Request(scope).base_url).rstrip("/")
    return known


def respond(request: Request, answer: Answer) -> Response:
    return respond_to(request.scope, answer)


def respond_to(scope: Scope, answer: Answer) -> Response:
    """The response to a flow's answer: a page, or a redirect (a path on this ESIA made absolute),
    with the SSO cookie it opens or ends."""
    response: Response
    if isinstance(answer, Page):
        response = HTMLResponse(answer.html, status_code=answer.status, headers=_PAGE_HEADERS)
    else:
        response = RedirectResponse(_absolute(scope, answer.location), status_code=302)
    if answer.open_sso is not None:
        response.set_cookie(SSO_COOKIE, answer.open_sso, max_age=SSO_LIFETIME, httponly=True, samesite="lax",
                            path="/")
    elif answer.end_sso:
        response.delete_cookie(SSO_COOKIE, path="/")
    return response


def hot_answer_to(scope: Scope, answer: Answer) -> HotAnswer:
    """What :func:`respond_to` sends for ``answer``, rendered without Starlette's response
    objects (for the login's hot routes; the parity tests hold the two to the same bytes).

    A login sends two pages, two redirects and a cookie each way per person, so the parts that
    never change are made once per process: a page's headers but its length, and the SSO
    cookie's attributes (the standard library's cookie rendering runs only for a session name
    outside the URL-safe alphabet the stand draws them from, and for a deleted cookie's date
    once a second)."""
    hot = (_page_answer(answer) if isinstance(answer, Page)
           else HotAnswer.redirect(_absolute(scope, answer.location), status=302))
    if answer.open_sso is not None:
        return _with_header(hot, _opened_cookie(hot, answer.open_sso))
    if answer.end_sso:
        return _with_header(hot, _ended_cookie(hot))
    return hot


_PAGE_HEADERS = {"Cache-Control": "no-store"}
_PAGE_TYPE = b"text/html; charset=utf-8"
_URL_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
#: The deleted SSO cookie as last rendered, and the wall clock's second it names.
_ended: tuple[int, bytes] = (-1, b"")


def _page_answer(page: Page) -> HotAnswer:
    """``HTMLResponse(page.html, page.status, _PAGE_HEADERS)``'s status, headers and body."""
    body = page.html.encode()
    return HotAnswer(body, _PAGE_TYPE, page.status,
                     ((b"cache-control", b"no-store"), (b"content-length", str(len(body)).encode()),
                      (b"content-type", _PAGE_TYPE)))


def _with_header(answer: HotAnswer, header: tuple[bytes, bytes]) -> HotAnswer:
    return HotAnswer(answer.body, answer.content_type, answer.status, (*(answer.headers or ()), header))


def _opened_cookie(answer: HotAnswer, sid: str) -> tuple[bytes, bytes]:
    """The ``Set-Cookie`` that opens SSO session ``sid``, as ``Response.set_cookie`` writes it."""
    if sid and all(character in _URL_SAFE for character in sid):  # nothing to quote
        return b"set-cookie", f"{SSO_COOKIE}={sid}; HttpOnly; Max-Age={SSO_LIFETIME}; Path=/; SameSite=lax".encode()
    rendered = answer.with_cookie(SSO_COOKIE, sid, max_age=SSO_LIFETIME, httponly=True).headers
    assert rendered is not None
    return rendered[-1]


def _ended_cookie(answer: HotAnswer) -> tuple[bytes, bytes]:
    """The ``Set-Cookie`` that ends the SSO session, as ``Response.delete_cookie`` writes it:
    its ``expires`` is the wall clock's second, so it is rendered again when that changes."""
    global _ended
    second, header = _ended
    if second != int(time.time()):
        before = int(time.time())
        rendered = answer.with_cookie(SSO_COOKIE, max_age=0, expires=0).headers
        assert rendered is not None
        header = rendered[-1][1]
        if int(time.time()) == before:  # not across a second's boundary: the date is that second's
            _ended = (before, header)
    return b"set-cookie", header


def _absolute(scope: Scope, location: str) -> str:
    """A redirect's location: a path on this ESIA made absolute."""
    return f"{_base_url(scope)}{location}" if location.startswith("/") else location
