"""What a submitted file is, decided by its bytes, never by its name or declared type.

FTS accepts scans (PDF, JPEG, PNG) and XML documents of its format album. A client's
``Content-Type`` for a part is whatever its library guessed; the leading bytes are what the
file is. XML is checked for well-formedness with expat and every failure is reported with its
line, because a broker fixes an XML document by line. A DTD is refused outright: the format
album uses none, and entity expansion is no business of a customs gateway.

expat reads UTF-8, UTF-16, ISO-8859-1 and US-ASCII itself, and any other single-byte encoding
(windows-1251, KOI8-R, cp866…) through Python's codecs. A document that declares another
encoding — a multi-byte one such as Shift_JIS, GB2312, Big5, UTF-7 or UTF-32, or a name no
codec knows — cannot be read at all, and is reported as such (line 1, naming the encoding),
not mistaken for a failure of the stand.
"""

from __future__ import annotations

import re
from xml.parsers import expat

__all__ = ["MEDIA_TYPES", "sniff", "xml_problems"]

MEDIA_TYPES = ("application/pdf", "image/jpeg", "image/png", "application/xml")
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
#: The ``encoding`` pseudo-attribute of an XML declaration (in an ASCII-compatible encoding).
_DECLARED_ENCODING = re.compile(rb"""\s*<\?xml\s[^>]*?encoding\s*=\s*["']([^"'>]{1,64})["']""")


def sniff(content: bytes) -> str | None:
    """The media type of ``content``, or ``None`` when it is none FTS accepts."""
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    head = content
    for bom in _BOMS:
        if head.startswith(bom):
            head = head[len(bom):]
            break
    if head.lstrip(b" \t\r\n").startswith(b"<"):
        return "application/xml"
    return None


class _DoctypeRefused(Exception):
    pass


def xml_problems(content: bytes) -> list[dict[str, object]]:
    """Every reason ``content`` is not a well-formed XML document without a DTD, by line
    (expat stops at the first syntax error, so that is at most one syntax error)."""
    parser = expat.ParserCreate()

    def refuse_doctype(*_: object) -> None:
        raise _DoctypeRefused

    parser.StartDoctypeDeclHandler = refuse_doctype
    try:
        parser.Parse(content, True)
    except _DoctypeRefused:
        line = parser.CurrentLineNumber
        return [_problem(line, "a DTD (<!DOCTYPE>) is not allowed in FTS documents")]
    except expat.ExpatError as error:
        return [_problem(error.lineno, expat.ErrorString(error.code) or "not well-formed")]
    except (ValueError, LookupError) as error:  # expat's handler for encodings it lacks: no codec fits
        return [_problem(1, f"the declared encoding {_declared_encoding(content)!r} cannot be read ({error}); "
                            "use UTF-8, UTF-16 or a single-byte encoding such as windows-1251")]
    return []


def _declared_encoding(content: bytes) -> str:
    found = _DECLARED_ENCODING.match(content.removeprefix(b"\xef\xbb\xbf"))
    return found.group(1).decode("ascii", "replace") if found else "(unnamed)"


def _problem(line: int, reason: str) -> dict[str, object]:
    return {"line": line, "reason": reason, "detail": f"line {line}: {reason}"}
