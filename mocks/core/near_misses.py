"""Which API route a request matched — and, for one that matched none, the routes it nearly did.

A client that calls ``/v1/object`` instead of ``/v1/objects``, or ``/api/v1/declaration/…``,
gets a 404 and little else to go on. The request journal records each request's route
template (``/v1/objects/{id}``) or ``None`` when no route took it; for those unmatched
requests the control API lists the near misses, the routes whose templates are most like the
path that was sent, so a test's failure message can say what the client should have called.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from difflib import SequenceMatcher
from typing import Any

from starlette.routing import BaseRoute, Match
from starlette.types import Scope

__all__ = ["MIN_SIMILARITY", "matched_route", "near_misses"]

#: Routes less alike than this are not offered as near misses.
MIN_SIMILARITY = 0.6
_PARAMETER = re.compile(r"\{[^}]*\}")
#: Path segments that are values rather than names: numbers, UUIDs, long hex or token-like ids.
_VALUE = re.compile(r"^(\d+|[0-9a-fA-F-]{16,}|[A-Za-z0-9_-]{24,})$")


def matched_route(routes: Iterable[BaseRoute], scope: Scope) -> str | None:
    """The template of the first route that takes ``scope`` (its method too, or not: a 405 is
    still a match of the path), or ``None`` when no route does."""
    partial = None
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return _template(route)
        if match is Match.PARTIAL and partial is None:
            partial = _template(route)
    return partial


def _template(route: BaseRoute) -> str:
    return str(getattr(route, "path", "")) or repr(route)


def _shape(path: str) -> str:
    """A path with its values and parameters alike: ``/v1/objects/4f1c…`` → ``/v1/objects/*``."""
    segments = [("*" if _PARAMETER.fullmatch(part) or _VALUE.match(part) else part.lower())
                for part in path.split("/")]
    return "/".join(segments)


def near_misses(method: str, path: str, routes: Sequence[BaseRoute], *, limit: int = 3) -> list[dict[str, Any]]:
    """The routes most like ``path``, best first: ``{"route", "methods", "similarity"}``, only
    those at least :data:`MIN_SIMILARITY` alike, and a route offering ``method`` before an
    equally alike one that does not."""
    wanted = _shape(path)
    ranked = []
    for route in routes:
        template = getattr(route, "path", None)
        if not template:
            continue
        similarity = SequenceMatcher(None, wanted, _shape(template)).ratio()
        if similarity < MIN_SIMILARITY:
            continue
        methods = sorted(getattr(route, "methods", None) or [])
        ranked.append((-round(similarity, 3), method.upper() not in methods, template, methods))
    ranked.sort()
    return [{"route": template, "methods": methods, "similarity": -score}
            for score, _, template, methods in ranked[:limit]]
