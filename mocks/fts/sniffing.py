"""What a submitted file is, decided by its bytes, never by its name or declared type.

FTS accepts scans (PDF, JPEG, PNG) and XML documents of its format album. A client's
``Content-Type`` for a part is whatever its library guessed; the leading bytes are what the
file is. XML is checked for well-formedness with expat and every failure is reported with its
line, because a broker fixes an XML document by line. A DTD is refused outright: the format
album uses none, and entity expansion is no business of a customs gateway.
"""

from __future__ import annotations

from xml.parsers import expat

__all__ = ["MEDIA_TYPES", "sniff", "xml_problems"]

MEDIA_TYPES = ("application/pdf", "image/jpeg", "image/png", "application/xml")
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


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
    return []


def _problem(line: int, reason: str) -> dict[str, object]:
    return {"line": line, "reason": reason, "detail": f"line {line}: {reason}"}
