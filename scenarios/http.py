"""The plain HTTP client the journeys are written against.

Journeys (ESIA login, declaration submit-and-track…) are written once, against this small
protocol, and run unchanged from pytest (:class:`HttpxClient`), from Locust (an adapter in
``loadtests/``) or from a user's script. Redirects are never followed automatically: the
ESIA journey reads each ``Location`` itself, as the relying party's back end would.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]  # keys lower-case
    body: bytes
    url: str

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return jsonlib.loads(self.body)

    @property
    def location(self) -> str | None:
        return self.headers.get("location")


class HttpClient(Protocol):
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
        """Send one request. ``name`` groups it in load statistics (``"esia: te"``);
        ``context`` carries what a load recorder wants to know (operation id, intended start).
        Transport failures raise :class:`TransportFailure`."""


class TransportFailure(Exception):
    """The request got no HTTP answer (connection refused or reset, timeout)."""


class HttpxClient:
    """The journeys' client over httpx, keeping cookies like a browser session would."""

    def __init__(self, *, timeout: float = 10.0, client: httpx.Client | None = None) -> None:
        self._client = client or httpx.Client(timeout=timeout, follow_redirects=False)

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
        try:
            response = self._client.request(
                method, url, params=params, data=data, json=json, files=files, headers=headers
            )
        except httpx.TransportError as exc:
            raise TransportFailure(f"{name}: {type(exc).__name__}: {exc}") from exc
        return HttpResponse(
            status=response.status_code,
            headers={k.lower(): v for k, v in response.headers.items()},
            body=response.content,
            url=str(response.url),
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpxClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
