"""The text of a list cursor: a position in a list ordered by (microseconds, UUID), written
``<µs>_<uuid hex>``. FTS lists declarations newest first by submission time, UTKO lists
objects oldest first by creation time; both name the last item a page showed, and the next
page starts strictly after it, so items added meanwhile never appear twice or go missing.

Clients treat a cursor as opaque, but there is nothing secret in it: every string of the shape
is a valid position, and anything else is a 400 naming the parameter.
"""

from __future__ import annotations

import re
import uuid

from .problems import Problem

__all__ = ["CURSOR_PATTERN", "decode_cursor", "encode_cursor"]

CURSOR_PATTERN = r"^[0-9]{1,16}_[0-9a-f]{32}$"
_CURSOR = re.compile(CURSOR_PATTERN)


def encode_cursor(micros: int, item_id: str) -> str:
    return f"{micros}_{uuid.UUID(item_id).hex}"


def decode_cursor(value: str, *, parameter: str = "cursor") -> tuple[int, str]:
    """(µs, canonical UUID) of a cursor, or the 400 problem that names ``parameter``."""
    if not _CURSOR.fullmatch(value):
        raise Problem(
            400,
            f"{parameter} is not one this server issued",
            errors=[{"parameter": parameter, "detail": f"must match {CURSOR_PATTERN}"}],
        )
    micros, hex_id = value.split("_")
    return int(micros), str(uuid.UUID(hex=hex_id))
