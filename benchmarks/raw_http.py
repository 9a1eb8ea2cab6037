"""A keep-alive HTTP/1.1 client over a plain socket, for benchmarks that must out-run a server.

It speaks the journeys' :class:`~gosstand.scenarios.http.HttpClient` protocol, so the ESIA login
journey of ``scenarios/`` runs on it unchanged. Why not httpx: on these 2-core machines the load
generator gets one core and the server the other, and a login flow over httpx costs the client
more CPU than the server (measured: 16 httpx clients on one core kept an ESIA replica at 60–76 %
of its core in ``http_stack.py --only login``), so the server could never be measured with its
core full. This client spends a few tens of microseconds a request: one ``sendall`` of a
request built by string joins, headers read up to the blank line, a body of ``Content-Length``
bytes (or chunks). It keeps cookies per client like a browser session (name → value; a
``Max-Age=0`` or past ``Expires`` removes one), follows no redirect, and raises
:class:`~gosstand.scenarios.http.TransportFailure` on a closed or refused connection.
It is for loopback benchmarks only: no TLS, no proxies, no compression, one host per client.
"""

from __future__ import annotations

import json as jsonlib
import socket
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from gosstand.scenarios.http import HttpResponse, TransportFailure

_READ = 65536


class RawHttpClient:
    """One keep-alive connection to one ``host:port``, with a cookie jar."""

    def __init__(self, *, timeout: float = 10.0) -> None:
        self._timeout = timeout
        self._sock: socket.socket | None = None
        self._address: tuple[str, int] | None = None
        self._buffer = b""
        self.cookies: dict[str, str] = {}

    def _connect(self, address: tuple[str, int]) -> socket.socket:
        if self._sock is None or self._address != address:
            self.close()
            try:
                self._sock = socket.create_connection(address, timeout=self._timeout)
            except OSError as exc:
                raise TransportFailure(f"connect {address}: {exc}") from exc
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._address, self._buffer = address, b""
        return self._sock

    def send(self, method: str, url: str, *, name: str, params: Mapping[str, str] | None = None,
             data: Mapping[str, str] | None = None, json: Any = None,
             files: Mapping[str, tuple[str, bytes, str]] | None = None,
             headers: Mapping[str, str] | None = None, context: Mapping[str, Any] | None = None) -> HttpResponse:
        if files:
            raise NotImplementedError("RawHttpClient sends no multipart bodies")
        parts = urlsplit(url)
        target = parts.path or "/"
        query = parts.query
        if params:
            query = f"{query}&{urlencode(params)}" if query else urlencode(params)
        if query:
            target = f"{target}?{query}"
        body = b""
        lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}"]
        if data is not None:
            body = urlencode(data).encode()
            lines.append("Content-Type: application/x-www-form-urlencoded")
        elif json is not None:
            body = jsonlib.dumps(json).encode()
            lines.append("Content-Type: application/json")
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        for key, value in (headers or {}).items():
            lines.append(f"{key}: {value}")
        request = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        address = (parts.hostname or "127.0.0.1", parts.port or 80)
        for attempt in (1, 2):  # a keep-alive connection the server closed meanwhile: once more, fresh
            sock = self._connect(address)
            try:
                sock.sendall(request)
                status, answer_headers, answer_body = self._read(sock, head_only=method == "HEAD")
                break
            except (OSError, ConnectionError) as exc:
                self.close()
                if attempt == 2:
                    raise TransportFailure(f"{name}: {type(exc).__name__}: {exc}") from exc
        if answer_headers.get("connection", "").lower() == "close":
            self.close()
        return HttpResponse(status=status, headers=answer_headers, body=answer_body, url=url)

    def _fill(self, sock: socket.socket) -> None:
        chunk = sock.recv(_READ)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self._buffer += chunk

    def _read(self, sock: socket.socket, *, head_only: bool) -> tuple[int, dict[str, str], bytes]:
        while (end := self._buffer.find(b"\r\n\r\n")) < 0:
            self._fill(sock)
        head, self._buffer = self._buffer[:end].decode("latin-1"), self._buffer[end + 4:]
        status_line, *header_lines = head.split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in header_lines:
            key, _, value = line.partition(":")
            key, value = key.strip().lower(), value.strip()
            if key == "set-cookie":
                self._keep_cookie(value)
            headers[key] = f"{headers[key]}, {value}" if key in headers and key != "set-cookie" else value
        if head_only or status in (204, 304) or 100 <= status < 200:
            return status, headers, b""
        if headers.get("transfer-encoding", "").lower() == "chunked":
            return status, headers, self._chunked(sock)
        length = int(headers.get("content-length", "0"))
        while len(self._buffer) < length:
            self._fill(sock)
        body, self._buffer = self._buffer[:length], self._buffer[length:]
        return status, headers, body

    def _chunked(self, sock: socket.socket) -> bytes:
        body = b""
        while True:
            while (end := self._buffer.find(b"\r\n")) < 0:
                self._fill(sock)
            size = int(self._buffer[:end].split(b";")[0], 16)
            self._buffer = self._buffer[end + 2:]
            while len(self._buffer) < size + 2:
                self._fill(sock)
            body, self._buffer = body + self._buffer[:size], self._buffer[size + 2:]
            if size == 0:
                return body

    def _keep_cookie(self, header: str) -> None:
        pair, *attributes = header.split(";")
        cookie, _, value = pair.strip().partition("=")
        gone = any(a.strip().lower() in ("max-age=0", "max-age=-1") for a in attributes) or any(
            a.strip().lower().startswith("expires=thu, 01 jan 1970") for a in attributes)
        if gone:
            self.cookies.pop(cookie, None)
        else:
            self.cookies[cookie] = value.strip('"')

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock, self._buffer = None, b""

    def __enter__(self) -> RawHttpClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
