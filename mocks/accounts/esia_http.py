"""The one HTTP client an account's replica calls ESIA with, kept open between requests.

Each sign-in calls ESIA three or four times (the token, the person, each organisation, ESIA's
time); a client made per call pays for its TLS context and a new connection every time, which
made the callback take most of a second under load. One client per event loop — a replica has
one; an in-process test's app may run each request on a loop of its own — keeps the connections
alive and is made once.
"""

from __future__ import annotations

import asyncio
from weakref import WeakKeyDictionary

import httpx

__all__ = ["esia_http"]

_TIMEOUT = httpx.Timeout(10.0)
_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)
_clients: WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = WeakKeyDictionary()


def esia_http() -> httpx.AsyncClient:
    """The running loop's client (made on first use)."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None or client.is_closed:
        client = _clients[loop] = httpx.AsyncClient(timeout=_TIMEOUT, limits=_LIMITS)
    return client
