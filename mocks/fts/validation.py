"""Checking a declaration as submitted: every bad field is reported at once, by JSON pointer.

A broker fixing a rejected declaration wants the whole list, not one error per round trip, so
the checks collect (:class:`Findings`) instead of raising at the first failure, and the result
is one 422 problem whose ``errors`` name each field (``/goods/0/tnved``). Rules follow
docs/identifiers.md; FTS takes the KPP as digits only.

What passes is returned normalised to exactly the stored fields (unknown members dropped), so
the idempotency fingerprint and the card see the same data. The optional ``scenario`` (the
life-cycle plan, :data:`.lifecycle.PLANS`) is kept only when sent, so declarations without one
keep the fingerprint they always had.
"""

from __future__ import annotations

import re
from typing import Any

from ..core.identifiers import (
    is_valid_customs_office,
    is_valid_inn,
    is_valid_kpp,
    is_valid_ogrn,
    is_valid_ogrnip,
    is_valid_procedure,
    is_valid_tnved,
)
from ..core.problems import Problem
from .lifecycle import PLANS

__all__ = ["Findings", "INCOTERMS", "MAX_GOODS", "validate_declaration"]

MAX_GOODS = 999
INCOTERMS = ("EXW", "FCA", "FAS", "FOB", "CFR", "CIF", "CPT", "CIP", "DAP", "DPU", "DDP")
#: A positive amount with exactly two decimals (kopecks, cents).
_MONEY = re.compile(r"(0\.(0[1-9]|[1-9][0-9])|[1-9][0-9]{0,14}\.[0-9]{2})")
_CURRENCY = re.compile(r"[A-Z]{3}")
_COUNTRY = re.compile(r"[A-Z]{2}")
_MAX_QUANTITY = 1e12
#: The contract's pattern for free text: at least one character that is not ASCII white space.
#: Spelled out, not ``\S``: regex engines disagree on what else counts as space (U+001D…).
_NOT_BLANK = re.compile(r"[^\t\n\x0B\f\r ]")


class Findings:
    """Field errors gathered while walking a document."""

    def __init__(self, subject: str = "the declaration") -> None:
        #: What the document is, for the problem's sentence ("the appeal has 2 invalid fields").
        self.subject = subject
        self.errors: list[dict[str, str]] = []

    def add(self, pointer: str, detail: str) -> None:
        self.errors.append({"pointer": pointer, "detail": detail})

    def text(self, value: Any, pointer: str, *, max_length: int, min_length: int = 1) -> str | None:
        """A string of a bounded length (after trimming nothing: what was sent is stored)."""
        if value is None:
            self.add(pointer, "required")
        elif not isinstance(value, str):
            self.add(pointer, "must be a string")
        elif not min_length <= len(value) <= max_length or not _NOT_BLANK.search(value):
            self.add(pointer, f"must be {min_length}–{max_length} characters, not blank")
        else:
            return value
        return None

    def object(self, value: Any, pointer: str) -> dict[str, Any] | None:
        if value is None:
            self.add(pointer, "required")
        elif not isinstance(value, dict):
            self.add(pointer, "must be an object")
        else:
            return value
        return None

    def raise_if_any(self) -> None:
        if self.errors:
            count = len(self.errors)
            raise Problem(422, f"{self.subject} has {count} invalid field{'s' if count > 1 else ''}",
                          errors=self.errors)


def _declarant(findings: Findings, value: Any) -> dict[str, Any] | None:
    body = findings.object(value, "/declarant")
    if body is None:
        return None
    inn, kpp, ogrn = body.get("inn"), body.get("kpp"), body.get("ogrn")
    name = findings.text(body.get("name"), "/declarant/name", max_length=512)
    legal: bool | None = None
    if inn is None:
        findings.add("/declarant/inn", "required")
    elif not is_valid_inn(inn):
        findings.add("/declarant/inn", "not a valid INN (10 or 12 digits with correct check digits)")
    else:
        legal = len(inn) == 10
    if legal is True:
        if kpp is None:
            findings.add("/declarant/kpp", "required for an organisation (10-digit INN)")
        elif not is_valid_kpp(kpp, digits_only=True):
            findings.add("/declarant/kpp", "not a valid KPP (9 digits, FTS format)")
        if ogrn is None:
            findings.add("/declarant/ogrn", "required")
        elif not is_valid_ogrn(ogrn):
            findings.add("/declarant/ogrn", "an organisation needs a valid 13-digit OGRN")
    elif legal is False:
        if kpp is not None:
            findings.add("/declarant/kpp", "a sole proprietor (12-digit INN) has no KPP")
        if ogrn is None:
            findings.add("/declarant/ogrn", "required")
        elif not is_valid_ogrnip(ogrn):
            findings.add("/declarant/ogrn", "a sole proprietor needs a valid 15-digit OGRNIP")
    else:
        if kpp is not None and not is_valid_kpp(kpp, digits_only=True):
            findings.add("/declarant/kpp", "not a valid KPP (9 digits, FTS format)")
        if ogrn is None:
            findings.add("/declarant/ogrn", "required")
        elif not (is_valid_ogrn(ogrn) or is_valid_ogrnip(ogrn)):
            findings.add("/declarant/ogrn", "not a valid OGRN (13 digits) or OGRNIP (15 digits)")
    if findings.errors:
        return None
    if legal:
        return {"inn": inn, "kpp": kpp, "ogrn": ogrn, "name": name}
    return {"inn": inn, "ogrn": ogrn, "name": name}


def _procedure(findings: Findings, value: Any) -> dict[str, str] | None:
    body = findings.object(value, "/procedure")
    if body is None:
        return None
    direction, code = body.get("direction"), body.get("code")
    if direction not in ("ИМ", "ЭК"):
        findings.add("/procedure/direction", "must be ИМ (import) or ЭК (export)")
        return None
    if not is_valid_procedure(direction, code):
        findings.add("/procedure/code", f"not a customs procedure of direction {direction}")
        return None
    return {"direction": direction, "code": code}


def _quantity(findings: Findings, value: Any, pointer: str) -> float | int | None:
    if value is None:
        findings.add(pointer, "required")
    elif isinstance(value, bool) or not isinstance(value, int | float):
        findings.add(pointer, "must be a number")
    elif not 0 < value <= _MAX_QUANTITY:
        findings.add(pointer, "must be greater than 0 and at most 1e12")
    else:
        return value
    return None


def _pattern(findings: Findings, value: Any, pointer: str, pattern: re.Pattern[str], what: str) -> str | None:
    if value is None:
        findings.add(pointer, "required")
    elif not isinstance(value, str) or not pattern.fullmatch(value):
        findings.add(pointer, f"must be {what}")
    else:
        return value
    return None


def _goods_item(findings: Findings, value: Any, pointer: str) -> dict[str, Any] | None:
    item = findings.object(value, pointer)
    if item is None:
        return None
    before = len(findings.errors)
    tnved = item.get("tnved")
    if tnved is None:
        findings.add(f"{pointer}/tnved", "required")
    elif not is_valid_tnved(tnved):
        findings.add(f"{pointer}/tnved", "not a TN VED EAEU code (10 digits, chapter 01–97 except 77)")
    result = {
        "tnved": tnved,
        "description": findings.text(item.get("description"), f"{pointer}/description", max_length=1000),
        "quantity": _quantity(findings, item.get("quantity"), f"{pointer}/quantity"),
        "unit": findings.text(item.get("unit"), f"{pointer}/unit", max_length=32),
        "customsValue": _pattern(findings, item.get("customsValue"), f"{pointer}/customsValue", _MONEY,
                                 "a decimal string greater than 0 with two decimals, e.g. \"1250.00\""),
        "currency": _pattern(findings, item.get("currency"), f"{pointer}/currency", _CURRENCY,
                             "an ISO 4217 code of three capital letters"),
        "originCountry": _pattern(findings, item.get("originCountry"), f"{pointer}/originCountry", _COUNTRY,
                                  "an ISO 3166-1 alpha-2 code of two capital letters"),
    }
    terms = item.get("deliveryTerms")
    if terms is None:
        findings.add(f"{pointer}/deliveryTerms", "required")
    elif terms not in INCOTERMS:
        findings.add(f"{pointer}/deliveryTerms", f"must be an Incoterms 2020 rule: {', '.join(INCOTERMS)}")
    result["deliveryTerms"] = terms
    return result if len(findings.errors) == before else None


def _goods(findings: Findings, value: Any) -> list[dict[str, Any]]:
    if value is None:
        findings.add("/goods", "required")
        return []
    if not isinstance(value, list):
        findings.add("/goods", "must be an array")
        return []
    if not 1 <= len(value) <= MAX_GOODS:
        findings.add("/goods", f"must list 1–{MAX_GOODS} goods items")
        return []
    items = [_goods_item(findings, item, f"/goods/{index}") for index, item in enumerate(value)]
    return [item for item in items if item is not None]


def validate_declaration(body: Any) -> dict[str, Any]:
    """The stored form of a submitted declaration, or a 422 problem listing every bad field."""
    findings = Findings()
    if not isinstance(body, dict):
        findings.add("", "the declaration must be a JSON object")
        findings.raise_if_any()
    sender_reference = findings.text(body.get("senderReference"), "/senderReference", max_length=64)
    declarant_findings = Findings()
    declarant = _declarant(declarant_findings, body.get("declarant"))
    findings.errors.extend(declarant_findings.errors)
    procedure = _procedure(findings, body.get("procedure"))
    office = body.get("customsOffice")
    if office is None:
        findings.add("/customsOffice", "required")
    elif not is_valid_customs_office(office):
        findings.add("/customsOffice", "must be an 8-digit Russian customs office code starting with 10")
    goods = _goods(findings, body.get("goods"))
    scenario = body.get("scenario")
    if scenario is not None and (not isinstance(scenario, str) or scenario not in PLANS):
        findings.add("/scenario", f"one of {', '.join(PLANS)}")
    findings.raise_if_any()
    stored = {
        "senderReference": sender_reference,
        "declarant": declarant,
        "procedure": procedure,
        "customsOffice": office,
        "goods": goods,
    }
    # Only when sent, so declarations without one keep the fingerprint they always had.
    if scenario is not None:
        stored["scenario"] = scenario
    return stored

