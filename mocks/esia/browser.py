"""What ESIA's flows know of the browser, and what they hand back to it.

The flows (the OAuth login, registration, recovery) never see an HTTP request or response: a
handler reads the :class:`Browser` out of the request, calls the flow, and turns the
:class:`Page` or :class:`Redirect` it gets back into a response (:mod:`.web`).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Answer", "Browser", "Page", "Redirect"]


@dataclass(frozen=True, slots=True)
class Browser:
    """The browser's side of a request: its address and ``User-Agent`` (an authorization code
    records both) and its SSO session cookie, if it sent one."""

    remote_ip: str = ""
    user_agent: str = ""
    sso_session: str | None = None


@dataclass(frozen=True, kw_only=True)
class _Answer:
    #: Give the browser this SSO session (its id) …
    open_sso: str | None = None
    #: … or take its SSO session away.
    end_sso: bool = False


@dataclass(frozen=True, kw_only=True)
class Page(_Answer):
    """A whole HTML page (:mod:`.pages`), with its status."""

    html: str
    status: int = 200


@dataclass(frozen=True, kw_only=True)
class Redirect(_Answer):
    """``302``: to a path on this ESIA (``/aas/oauth2/otp?rid=…``) or to a client's address."""

    location: str


Answer = Page | Redirect
