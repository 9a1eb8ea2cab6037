"""Reading query parameters every mock shares."""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["bounded_int"]

#: ASCII digits only: ``str.isdigit`` also accepts "²", which ``int`` then refuses.
_INTEGER = re.compile(r"[0-9]{1,19}")


def bounded_int(params: Mapping[str, str], name: str, default: int, low: int, high: int,
                errors: list[dict[str, str]]) -> int:
    """Query parameter ``name`` as an integer in ``low..high`` (``default`` when absent); a bad
    one is noted in ``errors`` as ``{"parameter", "detail"}`` and ``default`` returned."""
    raw = params.get(name)
    if raw is None:
        return default
    if not _INTEGER.fullmatch(raw) or not low <= int(raw) <= high:
        errors.append({"parameter": name, "detail": f"an integer from {low} to {high}"})
        return default
    return int(raw)
