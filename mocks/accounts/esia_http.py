"""The one HTTP client an account's replica calls ESIA with, kept open between requests.

Each sign-in calls ESIA three or four times (the token, the person, each organisation, ESIA's
time); a client made per call pays for its TLS context and a new connection every time, which
made the callback take most of a second under load. One client per event loop — a replica has
one; an in-process test's app may run each request on a loop of its own — keeps the connections
alive and is made once.

httpx is imported when the first client is made, not with this module: importing it costs a
replica about 0.1 s at start (it loads its command line's libraries, click, rich and pygments,
whenever they are installed), and most replicas of a load run never sign anyone in.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

if TYPE_CHECKING:
    import httpx

__all__ = ["esia_http"]

#: Seconds a call to ESIA may take; connections per replica, and how many are kept open.
_TIMEOUT_SECONDS = 10.0
_MAX_CONNECTIONS, _KEEPALIVE = 100, 20
_clients: WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = WeakKeyDictionary()


def esia_http() -> httpx.AsyncClient:
    """The running loop's client (made on first use)."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None or client.is_closed:
        import httpx

        client = _clients[loop] = httpx.AsyncClient(
            timeout=httpx.Timeout(_TIMEOUT_SECONDS),
            limits=httpx.Limits(max_connections=_MAX_CONNECTIONS, max_keepalive_connections=_KEEPALIVE))
    return client
