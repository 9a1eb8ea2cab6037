"""Cursors of the declaration list: a position in the list's order, never an offset.

Declarations are listed newest first, ordered by (submission time, id) descending — a total
order. A cursor names the last declaration a page showed, ``<submission µs>_<id hex>``, and the
next page starts strictly after it; declarations submitted meanwhile sort before the cursor and
cannot push anything onto the next page twice or off it.

The cursor's text is :mod:`..core.cursors`' (UTKO's object list uses the same, oldest first).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.cursors import CURSOR_PATTERN, decode_cursor, encode_cursor

__all__ = ["CURSOR_PATTERN", "Position", "parse_cursor"]


@dataclass(frozen=True, slots=True, order=True)
class Position:
    submitted_us: int
    declaration_id: str

    @property
    def cursor(self) -> str:
        return encode_cursor(self.submitted_us, self.declaration_id)

    def is_after(self, submitted_us: int, declaration_id: str) -> bool:
        """Whether a declaration lies strictly after this position in newest-first order."""
        return (submitted_us, declaration_id) < (self.submitted_us, self.declaration_id)


def parse_cursor(value: str) -> Position:
    return Position(*decode_cursor(value))
