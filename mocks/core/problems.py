"""RFC 9457 problem details: the one error format of UTKO, FTS and the control API.

Handlers raise :class:`Problem`; the app turns it into ``application/problem+json`` in one
place (:func:`problem_response`), including the router's own 404 and 405 answers, so no
endpoint answers an error in another shape. ESIA keeps its own error format (``esia/errors.py``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from .near_misses import near_misses

PROBLEM_JSON = "application/problem+json"

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Content Too Large",
    414: "URI Too Long",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    428: "Precondition Required",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class Problem(Exception):
    """An error answer. ``errors`` lists field-level failures as ``{"pointer", "detail"}`` (or
    ``"parameter"`` for a query parameter), with whatever else the check knows (an XML document's
    ``line``): JSON objects whose members are not all strings."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        title: str | None = None,
        type: str = "about:blank",
        errors: list[dict[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title or _TITLES.get(status, "Error"))
        self.status = status
        self.title = title or _TITLES.get(status, "Error")
        self.detail = detail
        self.type = type
        self.errors = errors
        self.headers = dict(headers or {})
        self.extensions = extensions

    def body(self, instance: str) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        body["instance"] = instance
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extensions)
        return body


def problem_response(problem: Problem, instance: str) -> Response:
    return Response(
        json.dumps(problem.body(instance), ensure_ascii=False),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=problem.headers,
    )


async def handle_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return problem_response(exc, request.url.path)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    """The router's 404/405 (with its ``Allow`` header) in problem form. A 404 for a path no
    route takes names the routes it nearly matched (``nearMisses``, an RFC 9457 extension
    member), as the request journal does: a client's typo says what it should have called."""
    assert isinstance(exc, HTTPException)
    detail = exc.detail if exc.detail != _TITLES.get(exc.status_code) else None
    extensions: dict[str, Any] = {}
    definition = getattr(request.app.state, "definition", None)
    if exc.status_code == 404 and "route" not in request.scope and definition is not None:
        if misses := near_misses(request.method, request.url.path, definition.routes):
            extensions["nearMisses"] = misses
            detail = detail or f"no route takes {request.method} {request.url.path}; see nearMisses"
    return problem_response(Problem(exc.status_code, detail, headers=exc.headers, **extensions), request.url.path)


def body_cut_short() -> Problem:
    """What a request whose body stopped before its end is told — if anyone still listens."""
    return Problem(400, "the request body ended before it was complete (the client went away, or sent a "
                        "malformed chunked body or fewer bytes than its Content-Length)")


async def handle_client_disconnect(request: Request, exc: Exception) -> Response:
    """A body cut short is the client's doing, not the server's: a 400, never a 500 logged as
    an error of the mock (Starlette raises ``ClientDisconnect`` wherever the body is read)."""
    assert isinstance(exc, ClientDisconnect)
    return problem_response(body_cut_short(), request.url.path)


def unexpected(exc: Exception | None) -> Problem:
    """The 500 of an error the mock did not expect (``exc``), or of a request it ended without
    answering (``None``). The traceback is not in the answer but in the log of the replica the
    answer names (:class:`~.middleware.Unexpected` writes it there)."""
    what = f"unexpected {type(exc).__name__}" if exc is not None else "the mock ended the request without answering"
    return Problem(500, f"{what}; the replica's log has the details")


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    """Starlette's 500 handler: an exception raised behind its router, rendered as
    :func:`unexpected`. Starlette re-raises it after this answer; :class:`~.middleware.Unexpected`
    logs it."""
    return problem_response(unexpected(exc), request.url.path)


def json_object(value: Any, pointer: str = "") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Problem(422, "expected a JSON object", errors=[{"pointer": pointer or "/", "detail": "not an object"}])
    return value
