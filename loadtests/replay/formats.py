"""Access logs and HAR files read as a stream of requests: when, which method, which path.

Three formats, each as its own documentation defines it:

* nginx's predefined ``combined`` format (and its ``common`` prefix, and the default ``main``
  format of nginx.conf, which adds fields after the user agent)::

      $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent
      "$http_referer" "$http_user_agent"

  nginx escapes ``"`` and ``\\`` inside a quoted field as ``\\x22`` / ``\\x5C``; other writers use
  ``\\"``, which is read too. ``$time_local`` carries its UTC offset.
* HAProxy's HTTP log (``option httplog``), after whatever syslog header precedes it::

      client_ip:port [accept_date] frontend backend/server Tq/Tw/Tc/Tr/Ta status bytes
      req_cookie res_cookie termination conns/../.. queues {captured} {captured} "request"

  ``accept_date`` has milliseconds and no zone: it is the proxy host's local time.
* HAR 1.2 (JSON): each entry's ``startedDateTime`` (ISO 8601) and ``request.method`` / ``url``.
  It is read as a stream of entries (ijson), never loaded whole.

Text logs are read line by line, gzip-compressed ones too (``.gz``), and ``-`` is standard input.
A line that is not of its file's format is counted and skipped, never fatal. A time with no zone
(HAProxy's, or a HAR written without one) is taken as UTC: what matters for a replay is the
spacing of requests, and a window (``--from``/``--to``) is read on the log's own clock.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import gzip
import re
import sys
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol
from urllib.parse import urlsplit

import ijson

FORMATS = ("nginx", "haproxy", "har")
#: A text line longer than this is not a log line of any of the formats (nginx and HAProxy cut
#: theirs far shorter); it is skipped without being held in memory whole.
MAX_LINE_BYTES = 64 * 1024
#: Lines looked at to tell a text log's format.
DETECT_LINES = 50
#: Line numbers of unreadable lines kept per file, to show the user where to look.
SHOWN_UNREADABLE = 5

_MONTHS = {name: number for number, name in enumerate(calendar.month_abbr) if name}
_QUOTED = r'"(?P<{0}>(?:[^"\\]|\\.)*)"'

NGINX_LINE = re.compile(
    r"(?P<addr>\S+) \S+ (?P<user>.*?) "
    r"\[(?P<time>\d{2}/[A-Za-z]{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] "
    + _QUOTED.format("request")
    + r" (?P<status>\d{3}) (?P<bytes>\d+|-)"
    + "(?: " + _QUOTED.format("referer") + " " + _QUOTED.format("agent") + ")?"
)

HAPROXY_LINE = re.compile(
    r"(?:^|\s)(?P<client>\S+):(?P<port>\d+) "
    r"\[(?P<time>\d{2}/[A-Za-z]{3}/\d{4}:\d{2}:\d{2}:\d{2})\.(?P<ms>\d{3})\] "
    r"(?P<frontend>\S+) (?P<backend>[^\s/]+)/(?P<server>\S+) "
    r"(?P<timers>[-+]?\d+(?:/[-+]?\d+){4}) (?P<status>-?\d+) (?P<bytes>\+?\d+) "
    r"(?P<request_cookie>\S+) (?P<response_cookie>\S+) (?P<termination>\S{4}) "
    r"(?P<connections>\+?\d+(?:/\+?\d+){4}) (?P<queues>\d+/\d+) "
    r'(?:\{[^}]*\} ){0,2}"(?P<request>[^"]*)"'
)

_REQUEST_LINE = re.compile(r"(?P<method>[A-Za-z]+) (?P<target>\S+)(?: HTTP/\d(?:\.\d)?)?")
_TIME = re.compile(r"(\d{2})/([A-Za-z]{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?: ([+-])(\d{2})(\d{2}))?")


class LogFormatError(ValueError):
    """A file gosstand cannot read as any log it knows, or not as the one it was told; the
    message is one line naming the file."""


class Request(NamedTuple):
    """One request of a log.

    ``at`` is POSIX time in seconds, for spacing; ``wall`` is the time of day as the log wrote
    it (no zone), for windows. ``method`` and ``path`` are empty when the log line was readable
    but its request line was not (a TLS handshake on a plain port, ``<BADREQ>``, ``-``)."""

    at: float
    wall: dt.datetime
    method: str
    path: str


@dataclass(slots=True)
class FileReading:
    """What reading one file found, filled in as its requests are read."""

    source: str
    format: str = ""
    #: Lines of a text log, entries of a HAR file.
    records: int = 0
    requests: int = 0
    unreadable: int = 0
    unreadable_at: list[int] = field(default_factory=list)
    #: Why reading stopped before the end (a HAR file that is not valid JSON past some entry, a
    #: compressed log cut short): the file was not read whole.
    stopped: str = ""

    def skip(self, number: int) -> None:
        self.unreadable += 1
        if len(self.unreadable_at) < SHOWN_UNREADABLE:
            self.unreadable_at.append(number)


def request_target(line: str) -> tuple[str, str]:
    """(method, path) of an HTTP request line, or ``("", "")`` when it is not one. The path has
    no query string; an absolute-form target (a proxy's, HTTP/2's) is cut to its path."""
    found = _REQUEST_LINE.fullmatch(line)
    if found is None:
        return "", ""
    return found["method"], path_of(found["target"])


def path_of(target: str) -> str:
    if target.startswith("/"):
        return target.split("?", 1)[0].split("#", 1)[0]
    if "://" in target:
        return urlsplit(target).path or "/"
    return target  # "*" of OPTIONS, "host:443" of CONNECT


@functools.lru_cache(maxsize=4096)
def log_time(text: str) -> tuple[float, dt.datetime]:
    """(POSIX seconds, wall clock) of ``10/Oct/2026:13:55:36 +0300``, or of HAProxy's
    ``10/Oct/2026:13:55:36`` (no zone: UTC). Cached, as consecutive lines share their second."""
    found = _TIME.fullmatch(text)
    if found is None or found[2].title() not in _MONTHS:
        raise ValueError(f"not a log time: {text!r}")
    day, month, year, hour, minute, second = (int(found[1]), _MONTHS[found[2].title()], int(found[3]),
                                              int(found[4]), int(found[5]), int(found[6]))
    wall = dt.datetime(year, month, day, hour, minute, second)
    offset = 0 if found[7] is None else (int(found[8]) * 3600 + int(found[9]) * 60) * (1 if found[7] == "+" else -1)
    return float(calendar.timegm(wall.timetuple()) - offset), wall


def iso_time(text: str) -> tuple[float, dt.datetime]:
    """(POSIX seconds, wall clock) of an ISO 8601 time as HAR's ``startedDateTime`` has it."""
    moment = dt.datetime.fromisoformat(text)
    wall = moment.replace(tzinfo=None)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp(), wall


def parse_nginx(line: str) -> Request | None:
    found = NGINX_LINE.match(line)
    if found is None:
        return None
    try:
        at, wall = log_time(found["time"])
    except ValueError:
        return None
    method, path = request_target(found["request"])
    return Request(at=at, wall=wall, method=method, path=path)


def parse_haproxy(line: str) -> Request | None:
    found = HAPROXY_LINE.search(line)
    if found is None:
        return None
    try:
        at, wall = log_time(found["time"])
    except ValueError:
        return None
    method, path = request_target(found["request"])
    return Request(at=at + int(found["ms"]) / 1000, wall=wall, method=method, path=path)


LINE_PARSERS = {"nginx": parse_nginx, "haproxy": parse_haproxy}


def read_requests(source: str, reading: FileReading, *, format: str = "auto") -> Iterator[Request]:
    """The requests of ``source`` (a path, ``-`` for standard input; ``.gz`` is decompressed),
    in file order. ``reading`` counts what was read and skipped. Raises :class:`LogFormatError`
    when ``format="auto"`` and the file's start is no known format."""
    if format != "auto" and format not in FORMATS:
        raise LogFormatError(f"unknown format {format!r}: expected auto, {', '.join(FORMATS)}")
    stream = _open(source)
    try:
        head = _head(stream)
        if format == "auto":
            format = _detect(source, head)
        reading.format = format
        if format == "har":
            yield from _har_requests(_Prefixed(b"".join(line or b"" for _, line in head), stream), reading)
        else:
            yield from _text_requests(_chain(head, _numbered(stream, start=len(head) + 1)),
                                      LINE_PARSERS[format], reading)
    except (OSError, EOFError, zlib.error) as exc:  # a .gz cut short or corrupt past its start
        reading.stopped = f"cannot read past record {reading.records} ({exc})"
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


class _ByteStream(Protocol):
    """What the readers take of a file: a file opened ``rb``, a gzip file and standard input's
    buffer all have it."""

    def read(self, size: int = -1, /) -> bytes: ...

    def readline(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


def _open(source: str) -> _ByteStream:
    if source == "-":
        return sys.stdin.buffer
    try:
        if source.endswith(".gz"):
            unzipped = gzip.open(source, "rb")
            unzipped.peek(1)  # not gzip: fail here, with the file's name
            return unzipped
        return open(source, "rb")  # noqa: SIM115 - closed by read_requests
    except (OSError, EOFError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise LogFormatError(f"{source}: cannot read it ({reason})") from None


#: A numbered line; ``None`` for one over :data:`MAX_LINE_BYTES`, skipped a chunk at a time.
Line = tuple[int, bytes | None]


def _numbered(stream: _ByteStream, *, start: int = 1) -> Iterator[Line]:
    number = start
    while line := stream.readline(MAX_LINE_BYTES):
        yield number, _whole(line, stream)
        number += 1


def _whole(line: bytes, stream: _ByteStream) -> bytes | None:
    if len(line) == MAX_LINE_BYTES and not line.endswith(b"\n"):
        while (rest := stream.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
            pass
        return None
    return line


def _head(stream: _ByteStream) -> list[Line]:
    """The file's first lines, up to :data:`DETECT_LINES` that are not blank, kept to be read
    again once the format is known. A first line opening a JSON document ends the head at once,
    kept as it was read (a HAR written on one line may be far longer than any log line)."""
    head: list[Line] = []
    filled = 0
    while filled < DETECT_LINES and (line := stream.readline(MAX_LINE_BYTES)):
        if line.strip():
            filled += 1
            if filled == 1 and line.lstrip().startswith(b"{"):
                head.append((len(head) + 1, line))
                break
        head.append((len(head) + 1, _whole(line, stream)))
    return head


def _chain(head: list[Line], rest: Iterator[Line]) -> Iterator[Line]:
    yield from head
    yield from rest


def _detect(source: str, head: list[Line]) -> str:
    lines = [line.decode("utf-8", "replace").rstrip("\r\n") for _, line in head if line and line.strip()]
    if not lines:
        raise LogFormatError(f"{source}: empty, no requests to replay")
    if lines[0].lstrip().startswith("{"):
        return "har"
    hits = {name: sum(parser(line) is not None for line in lines) for name, parser in LINE_PARSERS.items()}
    best = max(hits, key=lambda name: hits[name])
    if hits[best] == 0:
        shown = lines[0] if len(lines[0]) <= 100 else lines[0][:100] + "…"
        raise LogFormatError(f"{source}: not an nginx (combined) or HAProxy (httplog) access log, nor a HAR "
                             f"file; its first line is {shown!r}")
    return best


def _text_requests(lines: Iterator[Line], parse: Callable[[str], Request | None],
                   reading: FileReading) -> Iterator[Request]:
    for number, raw in lines:
        if raw is not None and not raw.strip():
            continue
        reading.records += 1
        request = None if raw is None else parse(raw.decode("utf-8", "replace").rstrip("\r\n"))
        if request is None:
            reading.skip(number)
            continue
        reading.requests += 1
        yield request


def _har_requests(stream: _Prefixed, reading: FileReading) -> Iterator[Request]:
    entries = ijson.items(stream, "log.entries.item")
    try:
        for entry in entries:
            reading.records += 1
            request = _har_request(entry)
            if request is None:
                reading.skip(reading.records)
                continue
            reading.requests += 1
            yield request
    except ijson.JSONError as exc:
        reading.stopped = f"not valid JSON after entry {reading.records}: {str(exc).splitlines()[0][:120]}"


def _har_request(entry: Any) -> Request | None:
    """The entry's request, or None when it lacks a readable time, method or URL."""
    request = entry.get("request") if isinstance(entry, dict) else None
    if not isinstance(request, dict):
        return None
    started, method, url = entry.get("startedDateTime"), request.get("method"), request.get("url")
    if not (isinstance(started, str) and isinstance(method, str) and isinstance(url, str)):
        return None
    try:
        at, wall = iso_time(started)
    except ValueError:
        return None
    return Request(at=at, wall=wall, method=method, path=path_of(url))


class _Prefixed:
    """``prefix`` then the rest of ``stream``: the HAR's lines read to tell its format, then
    the remainder, as one stream for ijson."""

    def __init__(self, prefix: bytes, stream: _ByteStream) -> None:
        self._prefix, self._stream = prefix, stream

    def read(self, size: int = -1) -> bytes:
        if self._prefix:
            taken = self._prefix if size < 0 else self._prefix[:size]
            self._prefix = self._prefix[len(taken):]
            return taken
        return self._stream.read(size)
