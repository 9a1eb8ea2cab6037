"""Sending the browser back to the client with an authorization code — the very last step of a
login, after the password, the second factor, the admission checks and the consent."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ...core.context import ServiceContext
from .codes import Authorization, issue_code
from .redirects import with_query


async def deliver_code(
    ctx: ServiceContext, request: Request, grant: Authorization, *, state: str, redirect_uri: str, now: float
) -> Response:
    """``302 <redirect_uri>?code=…&state=…``."""
    code = await issue_code(
        ctx,
        grant,
        state=state,
        now=now,
        remote_ip=request.client.host if request.client else "",
        user_agent=request.headers.get("user-agent", "")[:200],
    )
    return RedirectResponse(with_query(redirect_uri, {"code": code, "state": state}), status_code=302)
