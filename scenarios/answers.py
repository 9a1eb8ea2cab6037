"""What every journey against FTS and UTKO does with an answer: name the failure with the
server's problem+json, and decide whether and when to retry.

The seeds tell clients to retry 429 and 503 with exponential back-off; a ``Retry-After`` (in
seconds or as an HTTP-date, RFC 9110 §10.2.3) says how long, never longer than the journey's cap.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from typing import Any, Self

from .http import HttpResponse, TransportFailure

__all__ = ["BASE_BACKOFF", "MAX_RETRY_WAIT", "ServiceError", "problem_of", "retry_delay", "retryable",
           "send_with_retries"]

#: Longest wait between two attempts, whatever ``Retry-After`` asks for.
MAX_RETRY_WAIT = 5.0
#: First back-off when the server gives no ``Retry-After``; doubles per attempt.
BASE_BACKOFF = 0.2


class ServiceError(Exception):
    """An answer the journey did not expect, or retries exhausted. ``status`` is the last HTTP
    status (``None`` after a transport failure); ``attempts`` how many requests were sent;
    ``problem`` the server's problem+json body, if it sent one."""

    def __init__(self, step: str, message: str, *, status: int | None = None, attempts: int = 1,
                 problem: dict[str, Any] | None = None) -> None:
        super().__init__(f"{step}: {message}")
        self.step = step
        self.status = status
        self.attempts = attempts
        self.problem = problem or {}

    @classmethod
    def from_answer(cls, step: str, response: HttpResponse, *, attempts: int = 1) -> Self:
        problem = problem_of(response)
        said = problem.get("detail") or response.text[:300]
        return cls(step, f"HTTP {response.status}: {said}", status=response.status, attempts=attempts,
                   problem=problem)


def problem_of(response: HttpResponse) -> dict[str, Any]:
    """The JSON object of the answer, or ``{}``."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def retryable(response: HttpResponse) -> bool:
    return response.status in (429, 503) or response.status >= 500


def retry_delay(response: HttpResponse | None, attempt: int, *, cap: float = MAX_RETRY_WAIT,
                now: Callable[[], float] = time.time) -> float:
    """How long to wait before attempt ``attempt + 1``: ``Retry-After`` (seconds or HTTP-date)
    when the server sent one, else exponential back-off; never more than ``cap``."""
    header = response.headers.get("retry-after") if response is not None else None
    if header:
        header = header.strip()
        if header.isdigit():
            return min(float(header), cap)
        try:
            when = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            return min(max(when.timestamp() - now(), 0.0), cap)
    return min(BASE_BACKOFF * 2 ** (attempt - 1), cap)


def send_with_retries(
    send: Callable[[int], HttpResponse],
    *,
    step: str,
    expect: int,
    attempts: int,
    sleep: Callable[[float], None],
    error: type[ServiceError] = ServiceError,
) -> tuple[HttpResponse, int]:
    """Call ``send(attempt)`` until it answers ``expect``; retry transport failures and
    :func:`retryable` answers after :func:`retry_delay`. Only for requests a retry cannot apply
    twice (an idempotency key, ids the server skips). Returns the answer and the attempt it came
    on; anything else raises ``error`` with the attempts spent."""
    last: HttpResponse | None = None
    failure: TransportFailure | None = None
    for attempt in range(1, attempts + 1):
        try:
            last, failure = send(attempt), None
        except TransportFailure as exc:
            last, failure = None, exc
        if last is not None and last.status == expect:
            return last, attempt
        if last is not None and not retryable(last):
            raise error.from_answer(step, last, attempts=attempt)
        if attempt < attempts:
            sleep(retry_delay(last, attempt))
    if last is not None:
        raise error.from_answer(step, last, attempts=attempts)
    raise error(step, f"no answer after {attempts} attempts: {failure}", attempts=attempts)
