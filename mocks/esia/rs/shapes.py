"""What every ``/rs`` answer shares: eTags, collections of absolute links (or embedded objects),
and the not-found and scope errors."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..accounts.records import Json
from ..errors import RESOURCE_NOT_FOUND, SCOPE_NOT_ALLOWED, RsError


def not_found() -> RsError:
    return RsError(RESOURCE_NOT_FOUND)


def scope_not_allowed() -> RsError:
    return RsError(SCOPE_NOT_ALLOWED)


def etag(value: Any) -> str:
    return hashlib.sha1(json.dumps(value, sort_keys=True).encode()).hexdigest().upper()


def parse_embed(raw: str) -> set[str]:
    """``(contacts.elements,documents.elements)`` → ``{"contacts.elements", ...}``."""
    return {part.strip() for part in raw.strip("()").split(",") if part.strip()}


def collection(base: str, name: str, items: list[Json], *, embed: bool, key: str = "id") -> Json:
    """``{"stateFacts": ["hasSize"], "size", "eTag", "elements"}``; elements are absolute URLs
    ``<base>/<name>/<key>`` pointing back at this server unless ``embed``."""
    elements: list[Any] = items if embed else [f"{base}/{name}/{item[key]}" for item in items]
    return {"stateFacts": ["hasSize"], "size": len(items), "eTag": etag(items), "elements": elements}
