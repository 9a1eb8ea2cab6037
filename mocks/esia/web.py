"""The HTTP edge ESIA's handlers share: reading a form and the browser out of a request, and
turning a flow's :class:`~.browser.Page` or :class:`~.browser.Redirect` into a response (with
the SSO cookie it opens or ends). Nothing past this module sees Starlette."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ..core.forms import NotAForm, form_fields
from .browser import Answer, Browser, Page
from .oauth.login_repository import SSO_LIFETIME

__all__ = ["SSO_COOKIE", "browser_of", "read_form", "respond"]

SSO_COOKIE = "esia_sso"


async def read_form(request: Request) -> dict[str, str]:
    """The text fields of a posted form; nothing for any other body (never an exception)."""
    try:
        fields = await form_fields(request)
    except NotAForm:
        return {}
    return dict(fields or ())  # a repeated field: its last value, as Starlette's FormData gives


def browser_of(request: Request) -> Browser:
    return Browser(
        remote_ip=request.client.host if request.client else "",
        user_agent=request.headers.get("user-agent", "")[:200],
        sso_session=request.cookies.get(SSO_COOKIE),
    )


def respond(request: Request, answer: Answer) -> Response:
    response: Response
    if isinstance(answer, Page):
        response = HTMLResponse(answer.html, status_code=answer.status, headers={"Cache-Control": "no-store"})
    else:
        location = answer.location
        if location.startswith("/"):
            location = f"{str(request.base_url).rstrip('/')}{location}"
        response = RedirectResponse(location, status_code=302)
    if answer.open_sso is not None:
        response.set_cookie(SSO_COOKIE, answer.open_sso, max_age=SSO_LIFETIME, httponly=True, samesite="lax",
                            path="/")
    elif answer.end_sso:
        response.delete_cookie(SSO_COOKIE, path="/")
    return response
