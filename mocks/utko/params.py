"""Small readers and writers both UTKO APIs share: paging parameters and timestamps."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from ..core.identifiers import is_valid_inn
from .validation import OBJECT_TYPES

__all__ = ["canonical_uuid", "iso_from_micros", "object_filters"]

_REGION = re.compile(r"0[1-9]|[1-9][0-9]")


def iso_from_micros(micros: int) -> str:
    moment = dt.datetime.fromtimestamp(micros / 1e6, dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def canonical_uuid(raw: Any) -> str | None:
    """``raw`` if it is a UUID in its canonical lower-case form (how object ids are issued), else ``None``.

    Object ids become parts of store keys, so anything else must never reach the store."""
    if not isinstance(raw, str) or len(raw) != 36:
        return None
    try:
        parsed = uuid.UUID(raw)
    except ValueError:
        return None
    return raw if str(parsed) == raw else None


def object_filters(params: Any, errors: list[dict[str, str]]) -> dict[str, str]:
    """The object list's filters (``operatorInn``, ``region``, ``type``) as the repository names
    them (:data:`~.repository.FILTERS`); a bad one is noted in ``errors``."""
    filters: dict[str, str] = {}
    if (inn := params.get("operatorInn")) is not None:
        if is_valid_inn(inn):
            filters["operator"] = inn
        else:
            errors.append({"parameter": "operatorInn", "detail": "not a valid INN (10 or 12 digits)"})
    if (region := params.get("region")) is not None:
        if _REGION.fullmatch(region):
            filters["region"] = region
        else:
            errors.append({"parameter": "region", "detail": "a two-digit region code 01–99"})
    if (kind := params.get("type")) is not None:
        if kind in OBJECT_TYPES:
            filters["type"] = kind
        else:
            errors.append({"parameter": "type", "detail": f"one of {', '.join(OBJECT_TYPES)}"})
    return filters
