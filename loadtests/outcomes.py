"""What became of a request, in the classes the reports break failures down by.

One classifier for every client the stand measures with — Locust's FastHttpUser (whose
transport errors are geventhttpclient's and the standard library's) and the canary's httpx —
judged by exception type along the cause chain, then by the message a library chose.
"""

from __future__ import annotations

from ..stand.records import FailureClass

__all__ = ["classify"]


def classify(status: int, exception: BaseException | None) -> FailureClass | None:
    """``None`` for a success (an answer below 400 and no error), else why it failed."""
    if status >= 500:
        return "5xx"
    if status >= 400:
        return "status"
    if exception is None and status > 0:
        return None
    return _transport(exception)


def _transport(exception: BaseException | None) -> FailureClass:
    seen: set[int] = set()
    current = exception
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, TimeoutError) or "timeout" in type(current).__name__.lower():
            return "timeout"
        if isinstance(current, ConnectionRefusedError):
            return "refused"
        current = current.__cause__ or current.__context__
    text = str(exception).lower()
    if "timed out" in text or "timeout" in text:
        return "timeout"
    if "refused" in text:
        return "refused"
    return "reset"
