"""WholeBody (mocks/core/middleware.py): a body ends once its Content-Length has arrived, as
granian would otherwise make the app wait for an empty last chunk; nothing else changes."""

from __future__ import annotations

import asyncio

from gosstand.mocks.core.middleware import WholeBody


def _run(messages: list[dict], headers: list[tuple[bytes, bytes]], method: str = "POST") -> list[dict]:
    """The messages the wrapped app reads until it has the whole body (as Starlette reads)."""
    pending = list(messages)
    seen: list[dict] = []

    async def receive() -> dict:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        while True:
            message = await receive()
            seen.append(message)
            if message["type"] != "http.request" or not message.get("more_body"):
                return

    scope = {"type": "http", "method": method, "headers": headers}
    asyncio.run(WholeBody(app)(scope, receive, None))  # type: ignore[arg-type]
    return seen


def _chunk(body: bytes, more: bool) -> dict:
    return {"type": "http.request", "body": body, "more_body": more}


def test_a_body_ends_at_its_content_length_without_waiting_for_the_empty_chunk():
    seen = _run([_chunk(b"rid=x&code=1", True), _chunk(b"", False)], [(b"content-length", b"12")])
    assert seen == [_chunk(b"rid=x&code=1", False)]


def test_a_body_in_several_chunks_ends_with_the_chunk_that_completes_it():
    seen = _run([_chunk(b"abc", True), _chunk(b"def", True), _chunk(b"", False)], [(b"content-length", b"6")])
    assert seen == [_chunk(b"abc", True), _chunk(b"def", False)]


def test_chunked_bodies_and_gets_pass_through():
    chunked = [_chunk(b"abc", True), _chunk(b"", False)]
    assert _run(chunked, [(b"transfer-encoding", b"chunked")]) == chunked
    assert _run(chunked, [(b"content-length", b"3")], method="GET") == chunked
    assert _run(chunked, [(b"content-length", b"x3")]) == chunked
