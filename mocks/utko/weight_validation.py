"""Checking REO's weight-control import file: the envelope, then each weight control on its own.

The file is UTF-8 JSON ``{objectId, accessKey, weightControls: [...]}`` (REO's published
integration, docs/fts-utko.md). The envelope is checked first and as a whole: a bad
envelope rejects the file. Weight controls are then judged one by one, so the handler can import
the valid ones and list the invalid ones with JSON pointers (the partial-batch rule is stated in
the contract and in :mod:`.weight_controls`).

Rules per weight control:

- ``id`` required: a string of 1–100 characters or a non-negative integer; ``5`` and ``"5"`` are
  the same id (ids are compared as text);
- ``dateBefore`` required, ``dateAfter`` optional: ISO 8601 date-times with ``Z`` or an offset
  (a time without a zone is ambiguous and refused); ``dateAfter`` not before ``dateBefore``;
- ``registrationNumber`` required: a Russian plate (``А123ВС77``, Cyrillic letters);
- ``companyName`` given ⇒ ``companyInn`` required, and ``companyKpp`` required for an
  organisation (10-digit INN) but absent for a sole proprietor (12-digit INN);
- ``weightBefore`` and ``weightAfter`` required, kilograms 0–1 000 000; ``weightDriver``
  optional, same range; ``coefficient`` optional, above 0 and at most 10;
- ``garbageWeight`` optional; when given it must equal ``weightBefore − weightAfter −
  weightDriver`` (driver 0 when absent) to within 0.01 kg;
- ``codeFKKO`` optional, an FKKO code; free texts (truck type, brand, model, ``garbageType``,
  ``nameFKKO``, ``companyName``) at most 300 characters and not blank. Unknown fields are ignored.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, TypeGuard

from ..core.identifiers import is_valid_fkko, is_valid_inn, is_valid_kpp, is_valid_plate
from ..core.problems import Problem

__all__ = ["MAX_WEIGHT_CONTROLS", "WeightControl", "validate_envelope", "validate_records", "validate_weight_control"]

MAX_WEIGHT_CONTROLS = 1000
MAX_KG = 1_000_000
GARBAGE_TOLERANCE_KG = 0.01
_TEXTS = ("truckType", "truckBrand", "truckModel", "garbageType", "nameFKKO")
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})"
)
_FKKO_LAYOUT = re.compile(r"[0-9]{11}|[0-9] [0-9]{2} [0-9]{3} [0-9]{2} [0-9]{2} [0-9]")
_NOT_BLANK = re.compile(r"[^\t\n\x0B\f\r ]")
_MAX_TEXT = 300

WeightControl = dict[str, Any]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def _is_text(value: Any, max_length: int = _MAX_TEXT) -> TypeGuard[str]:
    return isinstance(value, str) and 1 <= len(value) <= max_length and _NOT_BLANK.search(value) is not None


def validate_envelope(body: Any) -> tuple[str, str, Any]:
    """``(objectId, accessKey, weightControls)`` as sent, or a 422 when the file is not usable.

    ``weightControls`` is checked by :func:`validate_records` after the access key, so that an
    unknown object or a wrong key is a 403 whatever the rest of the file holds.
    """
    if not isinstance(body, dict):
        raise Problem(422, "the file must hold a JSON object {objectId, accessKey, weightControls}",
                      errors=[{"pointer": "", "detail": "must be an object"}])
    object_id, access_key = body.get("objectId"), body.get("accessKey")
    if _is_text(object_id, 100) and _is_text(access_key, 200):
        return object_id, access_key, body.get("weightControls")
    errors = []
    if not _is_text(object_id, 100):
        errors.append({"pointer": "/objectId", "detail": "required, the id of the object (a string)"})
    if not _is_text(access_key, 200):
        errors.append({"pointer": "/accessKey", "detail": "required, the object's access key (a string)"})
    raise Problem(422, "the file does not say which object it is for", errors=errors)


def validate_records(records: Any) -> list[Any]:
    if not isinstance(records, list):
        raise Problem(422, "weightControls must be an array",
                      errors=[{"pointer": "/weightControls", "detail": "required, an array"}])
    if len(records) > MAX_WEIGHT_CONTROLS:
        raise Problem(422, f"at most {MAX_WEIGHT_CONTROLS} weight controls per file",
                      errors=[{"pointer": "/weightControls", "detail": f"more than {MAX_WEIGHT_CONTROLS} items"}])
    return records


def _moment(value: Any, pointer: str, errors: list[dict[str, str]], *, required: bool) -> dt.datetime | None:
    if value is None:
        if required:
            errors.append({"pointer": pointer, "detail": "required"})
        return None
    if isinstance(value, str) and _DATE_TIME.fullmatch(value):
        try:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
    errors.append({"pointer": pointer, "detail": "a date-time with Z or an offset, e.g. 2026-05-20T09:00:00+03:00"})
    return None


def _weight(value: Any, pointer: str, errors: list[dict[str, str]], *, required: bool) -> float | None:
    if value is None:
        if required:
            errors.append({"pointer": pointer, "detail": "required (kg)"})
        return None
    if not _is_number(value) or not 0 <= value <= MAX_KG:
        errors.append({"pointer": pointer, "detail": f"kilograms, a number from 0 to {MAX_KG}"})
        return None
    return float(value)


def _company(record: dict[str, Any], base: str, errors: list[dict[str, str]]) -> None:
    name, inn, kpp = record.get("companyName"), record.get("companyInn"), record.get("companyKpp")
    if name is not None and not _is_text(name):
        errors.append({"pointer": f"{base}/companyName", "detail": f"text of 1–{_MAX_TEXT} characters, not blank"})
    if inn is None:
        if name is not None or kpp is not None:
            errors.append({"pointer": f"{base}/companyInn",
                           "detail": "required when companyName or companyKpp is given"})
        return
    if not (isinstance(inn, str) and is_valid_inn(inn)):
        errors.append({"pointer": f"{base}/companyInn", "detail": "not a valid INN (10 or 12 digits, check digits)"})
        return
    if len(inn) == 12:
        if kpp is not None:
            errors.append({"pointer": f"{base}/companyKpp", "detail": "a sole proprietor (12-digit INN) has no KPP"})
    elif kpp is None:
        errors.append({"pointer": f"{base}/companyKpp", "detail": "required for an organisation (10-digit INN)"})
    elif not (isinstance(kpp, str) and is_valid_kpp(kpp)):
        errors.append({"pointer": f"{base}/companyKpp", "detail": "not a valid KPP"})


def validate_weight_control(record: Any, index: int) -> tuple[WeightControl | None, list[dict[str, str]]]:
    """The weight control as stored (with ``key``, its id as text, and ``atUs``, dateBefore in µs),
    or ``None`` and every problem found, each with a pointer into the file."""
    base = f"/weightControls/{index}"
    if not isinstance(record, dict):
        return None, [{"pointer": base, "detail": "must be an object"}]
    errors: list[dict[str, str]] = []
    record_id = record.get("id")
    if isinstance(record_id, int) and not isinstance(record_id, bool) and 0 <= record_id < 10**18:
        key = str(record_id)
    elif _is_text(record_id, 100):
        key = record_id
    else:
        key = None
        errors.append({"pointer": f"{base}/id", "detail": "required, a string of 1–100 characters or an integer ≥ 0"})
    before = _moment(record.get("dateBefore"), f"{base}/dateBefore", errors, required=True)
    after = _moment(record.get("dateAfter"), f"{base}/dateAfter", errors, required=False)
    if before is not None and after is not None and after < before:
        errors.append({"pointer": f"{base}/dateAfter", "detail": "must not be before dateBefore"})
    if not is_valid_plate(record.get("registrationNumber")):
        errors.append({"pointer": f"{base}/registrationNumber",
                       "detail": "required, a vehicle plate such as А123ВС77 (Cyrillic letters)"})
    _company(record, base, errors)
    weight_before = _weight(record.get("weightBefore"), f"{base}/weightBefore", errors, required=True)
    weight_after = _weight(record.get("weightAfter"), f"{base}/weightAfter", errors, required=True)
    driver = _weight(record.get("weightDriver"), f"{base}/weightDriver", errors, required=False)
    garbage = _weight(record.get("garbageWeight"), f"{base}/garbageWeight", errors, required=False)
    coefficient = record.get("coefficient")
    if coefficient is not None and not (_is_number(coefficient) and 0 < coefficient <= 10):
        errors.append({"pointer": f"{base}/coefficient", "detail": "a number above 0, at most 10"})
    if garbage is not None and weight_before is not None and weight_after is not None:
        expected = weight_before - weight_after - (driver or 0.0)
        if abs(garbage - expected) > GARBAGE_TOLERANCE_KG:
            errors.append({"pointer": f"{base}/garbageWeight",
                           "detail": f"must equal weightBefore − weightAfter − weightDriver = {expected:g}"})
    code = record.get("codeFKKO")
    if code is not None and not (isinstance(code, str) and _FKKO_LAYOUT.fullmatch(code) and is_valid_fkko(code)):
        errors.append({"pointer": f"{base}/codeFKKO", "detail": "not an FKKO code (11 digits, hazard class 0–5 last)"})
    for name in _TEXTS:
        value = record.get(name)
        if value is not None and not _is_text(value):
            errors.append({"pointer": f"{base}/{name}", "detail": f"text of 1–{_MAX_TEXT} characters, not blank"})
    if errors or key is None or before is None:
        return None, errors
    fields = ("id", "dateBefore", "dateAfter", "registrationNumber", *_TEXTS[:3], "companyName", "companyInn",
              "companyKpp", "weightBefore", "weightAfter", "weightDriver", "coefficient", "garbageWeight",
              "garbageType", "codeFKKO", "nameFKKO")
    stored = {name: record[name] for name in fields if record.get(name) is not None}
    stored["key"] = key
    stored["atUs"] = int(before.timestamp() * 1_000_000)
    return stored, []
