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


def _answer_without_reading(messages: list[dict], headers: list[tuple[bytes, bytes]]) -> tuple[list[str], list[dict]]:
    """What happens, in order, when the app answers 401 without reading the body."""
    pending = list(messages)
    events: list[str] = []

    async def receive() -> dict:
        message = pending.pop(0) if pending else {"type": "http.disconnect"}
        events.append(f"read {len(message.get('body', b''))}" if message["type"] == "http.request" else "disconnect")
        return message

    async def send(message: dict) -> None:
        events.append(message["type"])

    async def app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        await send({"type": "http.response.start", "status": 401, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    asyncio.run(WholeBody(app)({"type": "http", "method": "POST", "headers": headers}, receive, send))
    return events, pending


def test_an_answer_before_the_body_was_read_waits_for_the_rest_of_it():
    # A client still sending a large body must get the 401, not a reset connection.
    chunks = [_chunk(b"x" * 100, True), _chunk(b"y" * 100, True), _chunk(b"", False)]
    events, left = _answer_without_reading(chunks, [(b"content-length", b"200")])
    assert events == ["read 100", "read 100", "http.response.start", "http.response.body"] and len(left) == 1
    events, left = _answer_without_reading(chunks, [(b"transfer-encoding", b"chunked")])
    assert events == ["read 100", "read 100", "read 0", "http.response.start", "http.response.body"] and not left


def test_draining_stops_at_the_limit_and_at_a_disconnect(monkeypatch):
    monkeypatch.setattr(WholeBody, "DRAIN_LIMIT", 150)
    chunks = [_chunk(b"x" * 100, True), _chunk(b"y" * 100, True), _chunk(b"z" * 100, True), _chunk(b"", False)]
    events, left = _answer_without_reading(chunks, [(b"content-length", b"300")])
    assert events == ["read 100", "read 100", "http.response.start", "http.response.body"] and len(left) == 2
    events, _ = _answer_without_reading([_chunk(b"x" * 100, True)], [(b"content-length", b"300")])
    assert events == ["read 100", "disconnect", "http.response.start", "http.response.body"]
