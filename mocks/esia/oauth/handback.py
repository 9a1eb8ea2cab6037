"""Sending the browser back to the client with an authorization code — the very last step of a
login, after the password, the second factor, the admission checks and the consent."""

from __future__ import annotations

from ...core.context import ServiceContext
from ..browser import Browser, Redirect
from .codes import issue_code
from .grant_repository import Authorization
from .login_repository import Ending
from .redirects import with_query

__all__ = ["deliver_code"]


async def deliver_code(
    ctx: ServiceContext, grant: Authorization, *, state: str, redirect_uri: str, browser: Browser, now: float,
    along: Ending | None = None,
) -> Redirect:
    """``302 <redirect_uri>?code=…&state=…`` (the code kept with ``along``, the login's end)."""
    code = await issue_code(ctx, grant, state=state, now=now, remote_ip=browser.remote_ip,
                            user_agent=browser.user_agent, along=along)
    return Redirect(location=with_query(redirect_uri, {"code": code, "state": state}))
