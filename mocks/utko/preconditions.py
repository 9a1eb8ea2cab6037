"""Optimistic concurrency for UTKO objects: ``ETag`` out, ``If-Match`` in (RFC 9110 §8.8.3, §13.1.1).

An object's entity tag is its version counter, ``"v3"``: strong, because the representation
is fully determined by the version. ``PUT`` must carry ``If-Match`` (428 Precondition Required
otherwise, RFC 6585 §3) so that no client overwrites a change it has not seen; ``DELETE`` may
carry it (checked when present, unconditional when absent, as before). ``If-Match: *`` matches
any existing object. Weak tags never match: ``If-Match`` uses the strong comparison.
"""

from __future__ import annotations

from starlette.requests import Request

from ..core.problems import Problem

__all__ = ["ANY", "entity_tag", "required_if_match", "optional_if_match", "matches"]

#: ``If-Match: *`` — any current version.
ANY: frozenset[str] = frozenset({"*"})
MAX_HEADER_LENGTH = 1024


def entity_tag(version: int) -> str:
    return f'"v{version}"'


def _parse(raw: str) -> frozenset[str]:
    if len(raw) > MAX_HEADER_LENGTH:
        raise Problem(400, "If-Match is too long")
    tags = frozenset(part.strip() for part in raw.split(",") if part.strip())
    if not tags:
        raise Problem(400, 'If-Match must be "*" or a list of entity tags such as "v1"')
    return ANY if "*" in tags else tags


def required_if_match(request: Request) -> frozenset[str]:
    """The tags ``If-Match`` names; a 428 when the header is absent."""
    raw = request.headers.get("if-match")
    if raw is None:
        raise Problem(428, 'send If-Match with the ETag you last read (or "*" to overwrite any version)')
    return _parse(raw)


def optional_if_match(request: Request) -> frozenset[str] | None:
    raw = request.headers.get("if-match")
    return None if raw is None else _parse(raw)


def matches(tags: frozenset[str], version: int) -> bool:
    return tags is ANY or entity_tag(version) in tags
