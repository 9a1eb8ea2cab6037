"""Reading JSON a client sent — the one JSON reader of every mock (bodies, and JSON inside a
posted file).

The standard library parses; this module refuses what it would accept but the mocks cannot
use, each with a sentence that names the problem:

- nesting deeper than :data:`MAX_DEPTH` arrays and objects (the parser itself stops with a
  ``RecursionError`` near 1,000 levels, and every later walk of the document — validation,
  fingerprints, rendering — would need the same depth again);
- ``NaN``, ``Infinity`` and ``-Infinity``, which JSON does not have and no answer can render;
- a ``\\uD800``–``\\uDFFF`` escape that pairs with nothing: it decodes to no character, and
  neither the store nor an answer can encode it.

Syntax errors keep the parser's own message (line and column). The body itself is read
against its route's limit (:mod:`.limits`) before any of this.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request

from .forms import media_type
from .problems import Problem

__all__ = ["MAX_DEPTH", "NotJson", "parse_json", "read_json"]

#: Arrays and objects inside one another; the deepest document of any contract has 5.
MAX_DEPTH = 64
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")
_SURROGATE_ESCAPE_BYTES = re.compile(rb"\\u[dD][89abcdefABCDEF]")


class NotJson(ValueError):
    """The text is not JSON the mocks accept; the message is a sentence about ``what``."""


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(raw: bytes | str, *, what: str = "the body") -> Any:
    """The JSON value of ``raw``, or :class:`NotJson` saying why not (``what`` names the text)."""
    try:
        value = json.loads(raw, parse_constant=_no_constants)
    except RecursionError:
        raise NotJson(f"{what} nests arrays and objects more than {MAX_DEPTH} levels deep") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError among them
        raise NotJson(f"{what} is not valid JSON: {exc}") from None
    if _may_nest_deeper(raw) and _deeper_than(value, MAX_DEPTH):
        raise NotJson(f"{what} nests arrays and objects more than {MAX_DEPTH} levels deep")
    if _may_hold_lone_surrogates(raw) and not _encodable(value):
        raise NotJson(f"{what} holds a \\u escape of a lone surrogate (D800–DFFF), which is no character")
    return value


async def read_json(request: Request) -> Any:
    """The request body as JSON, or the 415/400 problem a client can act on."""
    content_type = media_type(request)
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise Problem(415, "send the body as application/json")
    try:
        return parse_json(await request.body())
    except NotJson as exc:
        raise Problem(400, str(exc)) from None


def _may_nest_deeper(raw: bytes | str) -> bool:
    """Whether ``raw`` opens more containers than :data:`MAX_DEPTH` at all (a C-speed count
    that spares nearly every document the walk)."""
    if isinstance(raw, bytes):
        return raw.count(b"[") + raw.count(b"{") > MAX_DEPTH
    return raw.count("[") + raw.count("{") > MAX_DEPTH


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether containers nest more than ``limit`` deep in ``value`` (a loop, not recursion)."""
    pending = [(value, 1)] if isinstance(value, dict | list) else []
    while pending:
        node, depth = pending.pop()
        if depth > limit:
            return True
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, dict | list):
                pending.append((child, depth + 1))
    return False


def _may_hold_lone_surrogates(raw: bytes | str) -> bool:
    if isinstance(raw, bytes):
        return _SURROGATE_ESCAPE_BYTES.search(raw) is not None
    return _SURROGATE_ESCAPE.search(raw) is not None


def _encodable(value: Any) -> bool:
    """Whether every string of ``value`` (keys too) is valid Unicode: a surrogate pair decoded
    to one character, a lone surrogate did not."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
