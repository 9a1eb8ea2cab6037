"""Runs the journeys of ``scenarios/`` on Locust's FastHttpUser client.

Journeys talk to :class:`gosstand.scenarios.http.HttpClient`; this adapter sends through the
Locust session so every request reaches Locust's statistics and the timeline recorder (through
the ``request`` event, with the journey's context attached).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from urllib3.filepost import encode_multipart_formdata

from ..scenarios.http import HttpResponse, TransportFailure


class LocustHttp:
    def __init__(self, session: Any, *, journey: str) -> None:
        self._session = session
        self.journey = journey
        #: Set by the user before a journey starts: the first request of the journey carries
        #: the intended start from the pacing schedule, later ones their actual start.
        self.intended_start: float | None = None
        #: Whether the next request opens a connection: the first of a journey (the user closes
        #: its connection after each) and the first after a transport failure.
        self._connection_fresh = True

    def connection_closed(self) -> None:
        self._connection_fresh = True

    def send(
        self,
        method: str,
        url: str,
        *,
        name: str,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        json: Any = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> HttpResponse:
        request_context: dict[str, Any] = {"journey": self.journey, **(context or {}),
                                           "connection": "new" if self._connection_fresh else "reused"}
        self._connection_fresh = False
        if self.intended_start is not None:
            request_context["intended_start"] = self.intended_start
            self.intended_start = None
        if params:
            url = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
        all_headers = dict(headers or {})
        body: str | bytes | None = None
        if files:  # a weigh station's import file, a declaration's document
            body, content_type = encode_multipart_formdata({**(data or {}), **files})
            all_headers["Content-Type"] = content_type
        elif data is not None:
            body = urlencode(data)
            all_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        with self._session.request(
            method, url, name=name, data=body, json=json, headers=all_headers,
            allow_redirects=False, catch_response=True, context=request_context,
        ) as response:
            status = int(response.status_code or 0)
            if status == 0:
                self._connection_fresh = True
                error = response.error or "no response"
                response.failure(error)
                raise TransportFailure(f"{name}: {error}")
            if status >= 400:
                response.failure(f"HTTP {status}")
            else:
                response.success()
            return HttpResponse(
                status=status,
                headers={k.lower(): v for k, v in (response.headers or {}).items()},
                body=response.content or b"",
                url=url,
            )
