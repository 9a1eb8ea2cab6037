"""What every ``/rs`` answer shares: JSON bodies, eTags, collections of absolute links (or
embedded objects), the ``embed`` parameter and the not-found error."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..errors import RESOURCE_NOT_FOUND, SCOPE_NOT_ALLOWED, RsError


def not_found() -> RsError:
    return RsError(RESOURCE_NOT_FOUND)


def scope_not_allowed() -> RsError:
    return RsError(SCOPE_NOT_ALLOWED)


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status_code=status, media_type="application/json")


def etag(value: Any) -> str:
    return hashlib.sha1(json.dumps(value, sort_keys=True).encode()).hexdigest().upper()


def embed_wanted(request: Request) -> set[str]:
    """``?embed=(contacts.elements,documents.elements)`` → ``{"contacts.elements", ...}``."""
    raw = request.query_params.get("embed", "")
    return {part.strip() for part in raw.strip("()").split(",") if part.strip()}


def collection(base: str, name: str, items: list[dict[str, Any]], *, embed: bool, key: str = "id") -> dict[str, Any]:
    """``{"stateFacts": ["hasSize"], "size", "eTag", "elements"}``; elements are absolute URLs
    ``<base>/<name>/<key>`` pointing back at this server unless ``embed``."""
    elements: list[Any] = items if embed else [f"{base}/{name}/{item[key]}" for item in items]
    return {"stateFacts": ["hasSize"], "size": len(items), "eTag": etag(items), "elements": elements}
