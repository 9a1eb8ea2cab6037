"""HTTP/1.1 exchanges over a raw socket, for requests no HTTP client library will send: bodies
that stream for 64 MiB, lie about their length, break their chunking or stop halfway.

The body is sent from a thread while the caller reads the answer, so an answer the server gives
before the body ends (a 413, say) is read before the server closes the connection on the rest.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from http.client import HTTPException, HTTPResponse
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Answer", "chunked", "exchange", "zeros"]

#: How long an answer may take before the exchange gives up (the server never answered).
ANSWER_TIMEOUT = 60.0


@dataclass(frozen=True)
class Answer:
    """What came back: status, headers (lower-case names) and body; ``status`` 0 when the
    server closed the connection without an answer."""

    status: int
    headers: dict[str, str]
    body: bytes
    #: The body bytes the client managed to send before the server stopped taking them.
    sent: int = 0

    def json(self) -> Any:
        return json.loads(self.body)


def zeros(total: int, *, chunk: int = 1 << 20) -> Iterator[bytes]:
    """``total`` bytes of ``0`` in pieces of ``chunk`` (generated as sent, never held whole)."""
    piece = b"0" * chunk
    for start in range(0, total, chunk):
        yield piece[: min(chunk, total - start)]


def chunked(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """``pieces`` in HTTP/1.1 chunked framing, with the closing zero-length chunk."""
    for piece in pieces:
        if piece:
            yield b"%x\r\n" % len(piece) + piece + b"\r\n"
    yield b"0\r\n\r\n"


def exchange(url: str, method: str, target: str, *, headers: Iterable[tuple[str, str]] = (),
             body: Iterable[bytes] = (), shut_write: bool = False) -> Answer:
    """Send ``method target`` with ``headers`` (nothing added but ``Host`` and
    ``Connection: close``) and the raw ``body`` pieces, and read the answer.

    ``shut_write`` closes the sending side once the pieces are out, as a client does that has
    nothing more to send (a body shorter than its ``Content-Length`` then ends there)."""
    parts = urlsplit(url)
    head = f"{method} {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers) + "\r\n"
    with socket.create_connection((parts.hostname, parts.port), timeout=ANSWER_TIMEOUT) as sock:
        sent = [0]

        def send_body() -> None:
            try:
                sock.sendall(head.encode("latin-1"))
                for piece in body:
                    sock.sendall(piece)
                    sent[0] += len(piece)
                if shut_write:
                    sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # the server answered and closed: the rest of the body is not wanted

        sender = threading.Thread(target=send_body, name="raw-http-body", daemon=True)
        sender.start()
        response = HTTPResponse(sock)
        try:
            response.begin()
            content = response.read()
        except (ConnectionError, HTTPException):  # closed, or reset, before a whole answer
            return Answer(0, {}, b"", sent[0])
        finally:
            sender.join(ANSWER_TIMEOUT)
        return Answer(response.status, {name.lower(): value for name, value in response.getheaders()}, content,
                      sent[0])
