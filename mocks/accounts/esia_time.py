"""ESIA's time, as the accounts read it for what is ESIA's: the ``timestamp`` of their signed
requests (ESIA holds it within its tolerance of its own clock) and the lifetimes of the tokens
ESIA issued. The account's own sessions run on the service's clock.

In production both are the wall clock. On the stand each service keeps its own injectable clock,
and a test that moves FTS's clock (a declaration's life cycle) must not push the account's
requests out of ESIA's tolerance; so the account asks the stand's ESIA for its time through the
control API it shares, and keeps the offset from the wall clock for a moment. An ESIA without
that API (not the stand's) is taken to keep the wall clock.
"""

from __future__ import annotations

import time

from ..core.refreshed import Refreshed
from ..core.settings import Settings
from .esia_http import esia_http

__all__ = ["EsiaTime"]

#: How long an offset read from ESIA is trusted: at most a few clock reads a second per replica.
OFFSET_SECONDS = 0.25


class EsiaTime:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._offset = Refreshed(self._read_offset, seconds=OFFSET_SECONDS)

    async def _read_offset(self) -> float:
        import httpx  # not at a replica's start (see .esia_http)

        url = f"{self._settings.esia_server_url}/_gosstand/control/clock"
        try:
            answer = await esia_http().get(url, headers={"Authorization": f"Bearer {self._settings.control_token}"})
            return float(answer.json()["now"]) - time.time() if answer.status_code == 200 else 0.0
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            return 0.0

    async def now(self) -> float:
        return time.time() + await self._offset.get()
