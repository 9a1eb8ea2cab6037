"""Which requests (or failovers) an objective is about.

A selector names values of the request columns ``journey``, ``service`` and ``name``; every
column it names must match (AND), and a column given a list matches any of its values (OR).
Values are shell-style patterns (``"fts: *"``), so one objective can cover a family of
endpoints. An empty selector matches everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from .io import FailoverRecord, RequestRecord

__all__ = ["COLUMNS", "Selector"]

COLUMNS = ("journey", "service", "name")


@dataclass(frozen=True)
class Selector:
    journey: tuple[str, ...] = ()
    service: tuple[str, ...] = ()
    name: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | None) -> Selector:
        """Build from a YAML mapping such as ``{journey: declaration, service: [fts, utko]}``."""
        raw = raw or {}
        unknown = set(raw) - set(COLUMNS)
        if unknown:
            raise ValueError(f"unknown selector key(s) {sorted(unknown)}; known: {list(COLUMNS)}")
        values: dict[str, tuple[str, ...]] = {}
        for column in COLUMNS:
            given = raw.get(column)
            if given is None:
                values[column] = ()
            elif isinstance(given, str):
                values[column] = (given,)
            elif isinstance(given, Iterable):
                values[column] = tuple(str(item) for item in given)
            else:
                raise ValueError(f"selector {column!r} must be a string or a list of strings")
        return cls(**values)

    @staticmethod
    def _matches(patterns: tuple[str, ...], value: str | None) -> bool:
        if not patterns:
            return True
        return value is not None and any(fnmatchcase(value, pattern) for pattern in patterns)

    def matches(self, request: RequestRecord) -> bool:
        return (
            self._matches(self.journey, request.journey)
            and self._matches(self.service, request.service)
            and self._matches(self.name, request.name)
        )

    def matches_failover(self, failover: FailoverRecord) -> bool:
        """A failover is about a service; journey and name do not restrict it."""
        return self.matches_service(failover.service)

    def matches_service(self, service: str | None) -> bool:
        """Whether the selector picks ``service`` (its journey and name not considered)."""
        return self._matches(self.service, service)

    def describe(self) -> str:
        parts = [f"{column}={'|'.join(getattr(self, column))}" for column in COLUMNS if getattr(self, column)]
        return ", ".join(parts) or "all requests"

    def as_dict(self) -> dict[str, list[str]]:
        return {column: list(getattr(self, column)) for column in COLUMNS if getattr(self, column)}
