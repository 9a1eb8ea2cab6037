"""Cursors of the declaration list: a position in the list's order, never an offset.

Declarations are listed newest first, ordered by (submission time, id) descending — a total
order. A cursor names the last declaration a page showed, ``<submission µs>_<id hex>``, and the
next page starts strictly after it; declarations submitted meanwhile sort before the cursor and
cannot push anything onto the next page twice or off it.

Clients treat the cursor as opaque. Every string of its shape is a valid position (there is
nothing secret in it), so a well-formed cursor never fails and a malformed one is a 400.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from ..core.problems import Problem

__all__ = ["CURSOR_PATTERN", "Position", "parse_cursor"]

CURSOR_PATTERN = r"^[0-9]{1,16}_[0-9a-f]{32}$"
_CURSOR = re.compile(CURSOR_PATTERN)


@dataclass(frozen=True, slots=True, order=True)
class Position:
    submitted_us: int
    declaration_id: str

    @property
    def cursor(self) -> str:
        return f"{self.submitted_us}_{uuid.UUID(self.declaration_id).hex}"

    def is_after(self, submitted_us: int, declaration_id: str) -> bool:
        """Whether a declaration lies strictly after this position in newest-first order."""
        return (submitted_us, declaration_id) < (self.submitted_us, self.declaration_id)


def parse_cursor(value: str) -> Position:
    if not _CURSOR.fullmatch(value):
        raise Problem(400, "cursor is not one this server issued",
                      errors=[{"parameter": "cursor", "detail": f"must match {CURSOR_PATTERN}"}])
    micros, hex_id = value.split("_")
    return Position(int(micros), str(uuid.UUID(hex=hex_id)))
