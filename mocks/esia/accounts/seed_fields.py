"""Field checks shared by the control API's seeding of people and of organisations.

Each check appends ``{"pointer", "detail"}`` items to a :class:`FieldErrors` instead of
raising, so one 422 names every bad field of a body at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .records import Address, wire_fields

EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s.]{2,63}")

#: The fields an address may carry, as ``/rs/.../addrs`` shows them, in the order they are checked.
ADDRESS_FIELDS = ("addressStr", "fiasCode", "zipCode", "region", "city", "street", "house", "flat", "countryId")
_ADDRESS_NAMES = {wire_name: name for name, wire_name in wire_fields(Address)}

Item = TypeVar("Item")


class FieldErrors:
    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, pointer: str, detail: str) -> None:
        self.items.append({"pointer": pointer, "detail": detail})


def is_code(value: Any, types: Mapping[str, str]) -> bool:
    """``value`` is one of the codes of ``types`` (an unhashable JSON value is simply not)."""
    return isinstance(value, str) and value in types


def one_of(types: Mapping[str, str]) -> str:
    """``{"PRG": "registration", ...}`` → ``"PRG (registration) or ..."``, for an error's detail."""
    return " or ".join(f"{code} ({meaning})" for code, meaning in types.items())


def optional_text(body: dict[str, Any], name: str, pointer: str, errors: FieldErrors, limit: int = 500) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        errors.add(f"{pointer}/{name}", f"a string of 1..{limit} characters")
        return None
    return value


def bounded_list(items: Any, pointer: str, errors: FieldErrors, limit: int, noun: str = "items") -> list[Any]:
    """``items`` when it is a list of at most ``limit`` (``None``: empty); else an error."""
    if items is None:
        return []
    if not isinstance(items, list) or len(items) > limit:
        errors.add(pointer, f"a list of up to {limit} {noun}")
        return []
    return items


def typed_items(
    items: Any,
    errors: FieldErrors,
    pointer: str,
    types: Mapping[str, str],
    build: Callable[[dict[str, Any], str, str], Item],
    noun: str,
) -> list[Item]:
    """A list of up to 20 objects whose ``type`` is one of ``types``; ``build(item, pointer, type)``
    checks the rest of each and makes its record."""
    built = []
    for index, item in enumerate(bounded_list(items, pointer, errors, 20, noun)):
        where = f"{pointer}/{index}"
        if not isinstance(item, dict) or not is_code(item.get("type"), types):
            errors.add(f"{where}/type", one_of(types))
            continue
        built.append(build(item, where, item["type"]))
    return built


def address_list(
    items: Any, errors: FieldErrors, types: Mapping[str, str], pointer: str = "/addresses"
) -> list[Address]:
    """Addresses of the given ``types`` (code → what it means); ``addressStr`` is required."""

    def build(item: dict[str, Any], where: str, kind: str) -> Address:
        values: dict[str, Any] = {}
        for wire_name in ADDRESS_FIELDS:
            value = optional_text(item, wire_name, where, errors)
            if value is not None:
                values[_ADDRESS_NAMES[wire_name]] = value
        if "text" not in values:
            errors.add(f"{where}/addressStr", "required")
        return Address(type=kind, **values)

    return typed_items(items, errors, pointer, types, build, "addresses")
