"""Addresses the browser is sent back to the client at: a registered ``redirect_uri`` with the
answer (a code, or an error) added to whatever query it already has."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

__all__ = ["with_query"]


def with_query(url: str, params: dict[str, str]) -> str:
    """``url`` with ``params`` appended to whatever query it already has."""
    parts = urlsplit(url)
    extra = urlencode(params)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
