"""A stand-in for the journeys' HTTP client that plays a script: each request gets the next
answer or raises the next transport failure, and what was sent is kept. The journeys' retry
rules are tested against it without a server."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gosstand.scenarios.http import HttpResponse


class ScriptedHttp:
    """Answers (or transport failures) in order; records what was sent."""

    def __init__(self, script: list[HttpResponse | Exception]) -> None:
        self.script = script
        self.sent: list[dict[str, Any]] = []

    def send(self, method: str, url: str, *, name: str, headers: Mapping[str, str] | None = None,
             **kwargs: Any) -> HttpResponse:
        self.sent.append({"name": name, "headers": dict(headers or {}), **kwargs})
        answer = self.script.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def answer(status: int, body: bytes = b"{}", **headers: str) -> HttpResponse:
    """A scripted answer; header names are written with ``_`` for ``-`` (``retry_after=…``)."""
    return HttpResponse(status=status, headers={k.replace("_", "-").lower(): v for k, v in headers.items()},
                        body=body, url="http://fts")
