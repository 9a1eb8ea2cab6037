"""Checking a waste-handling object (объект обращения с ТКО) as a client sends it.

Every bad field is reported at once in one 422 problem (``errors[{pointer, detail}]``). UTKO is
a tax-service system as far as identifiers go: the operator's KPP may carry capital Latin
letters in its reason code, unlike FTS. FKKO codes are accepted bare (``73310001724``) or in the
grouped form of the catalogue (``7 33 100 01 72 4``) and stored as sent.
"""

from __future__ import annotations

import re
from typing import Any

from ..core.identifiers import is_valid_fkko, is_valid_inn, is_valid_kpp
from ..core.problems import Problem

__all__ = ["OBJECT_STATUSES", "OBJECT_TYPES", "validate_object"]

OBJECT_TYPES = ("sorting", "utilisation", "neutralisation", "disposal", "transfer", "accumulation")
#: ``active`` in operation; ``inactive`` not accepting waste; ``suspended`` by a regulator's
#: order; ``closed`` taken out of the register.
OBJECT_STATUSES = ("active", "inactive", "suspended", "closed")
MAX_FKKO_CODES = 200
_REGION = re.compile(r"0[1-9]|[1-9][0-9]")
_FKKO_LAYOUT = re.compile(r"[0-9]{11}|[0-9] [0-9]{2} [0-9]{3} [0-9]{2} [0-9]{2} [0-9]")
#: Not ``\S``: engines disagree on exotic spaces; the contract spells out the same class.
_NOT_BLANK = re.compile(r"[^\t\n\x0B\f\r ]")


class _Findings:
    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []

    def add(self, pointer: str, detail: str) -> None:
        self.errors.append({"pointer": pointer, "detail": detail})

    def text(self, value: Any, pointer: str, *, max_length: int) -> str | None:
        if value is None:
            self.add(pointer, "required")
        elif not isinstance(value, str) or not 1 <= len(value) <= max_length or not _NOT_BLANK.search(value):
            self.add(pointer, f"must be a string of 1–{max_length} characters, not blank")
        else:
            return value
        return None

    def choice(self, value: Any, pointer: str, allowed: tuple[str, ...]) -> str | None:
        if value is None:
            self.add(pointer, "required")
        elif value not in allowed:
            self.add(pointer, f"must be one of {', '.join(allowed)}")
        else:
            return value
        return None


def _operator(findings: _Findings, value: Any) -> dict[str, str] | None:
    if not isinstance(value, dict):
        findings.add("/operator", "required" if value is None else "must be an object")
        return None
    inn, kpp = value.get("inn"), value.get("kpp")
    if inn is None:
        findings.add("/operator/inn", "required")
        return None
    if not is_valid_inn(inn):
        findings.add("/operator/inn", "not a valid INN (10 or 12 digits with correct check digits)")
        if kpp is not None and not is_valid_kpp(kpp):
            findings.add("/operator/kpp", "not a valid KPP")
        return None
    if len(inn) == 12:
        if kpp is not None:
            findings.add("/operator/kpp", "a sole proprietor (12-digit INN) has no KPP")
            return None
        return {"inn": inn}
    if kpp is None:
        findings.add("/operator/kpp", "required for an organisation (10-digit INN)")
    elif not is_valid_kpp(kpp):
        findings.add("/operator/kpp", "not a valid KPP (NNNN PP XXX; PP digits or capital Latin letters)")
    else:
        return {"inn": inn, "kpp": kpp}
    return None


def _coordinate(findings: _Findings, value: Any, pointer: str, limit: float) -> float | None:
    if value is None:
        findings.add(pointer, "required")
    elif isinstance(value, bool) or not isinstance(value, int | float) or not -limit <= value <= limit:
        findings.add(pointer, f"must be a number from -{limit:g} to {limit:g}")
    else:
        return value
    return None


def _coordinates(findings: _Findings, value: Any) -> dict[str, float] | None:
    if not isinstance(value, dict):
        findings.add("/coordinates", "required" if value is None else "must be an object")
        return None
    lat = _coordinate(findings, value.get("lat"), "/coordinates/lat", 90)
    lon = _coordinate(findings, value.get("lon"), "/coordinates/lon", 180)
    return None if lat is None or lon is None else {"lat": lat, "lon": lon}


def _fkko_codes(findings: _Findings, value: Any) -> list[str] | None:
    if not isinstance(value, list):
        findings.add("/fkkoCodes", "required" if value is None else "must be an array")
        return None
    if not 1 <= len(value) <= MAX_FKKO_CODES:
        findings.add("/fkkoCodes", f"must list 1–{MAX_FKKO_CODES} FKKO codes")
        return None
    before = len(findings.errors)
    for index, code in enumerate(value):
        if not (isinstance(code, str) and _FKKO_LAYOUT.fullmatch(code) and is_valid_fkko(code)):
            findings.add(f"/fkkoCodes/{index}", "not an FKKO code (11 digits, hazard class 0–5 last)")
    if len(findings.errors) > before:
        return None
    if len(set(value)) != len(value):
        findings.add("/fkkoCodes", "lists a code twice")
        return None
    return list(value)


def validate_object(body: Any) -> dict[str, Any]:
    """The stored fields of an object, or a 422 problem listing every bad field."""
    findings = _Findings()
    if not isinstance(body, dict):
        raise Problem(422, "the object must be a JSON object",
                      errors=[{"pointer": "", "detail": "must be an object"}])
    region = body.get("region")
    if region is None:
        findings.add("/region", "required")
    elif not isinstance(region, str) or not _REGION.fullmatch(region):
        findings.add("/region", "must be a two-digit region code 01–99")
    result = {
        "name": findings.text(body.get("name"), "/name", max_length=300),
        "status": findings.choice(body.get("status"), "/status", OBJECT_STATUSES),
        "type": findings.choice(body.get("type"), "/type", OBJECT_TYPES),
        "operator": _operator(findings, body.get("operator")),
        "region": region,
        "address": findings.text(body.get("address"), "/address", max_length=500),
        "coordinates": _coordinates(findings, body.get("coordinates")),
        "fkkoCodes": _fkko_codes(findings, body.get("fkkoCodes")),
    }
    if findings.errors:
        count = len(findings.errors)
        raise Problem(422, f"the object has {count} invalid field{'s' if count > 1 else ''}",
                      errors=findings.errors)
    return result
