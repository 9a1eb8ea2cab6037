"""Validating the person's vehicles (``/vhls``) and children (``/kids``) seeded through the
control API, into the shapes ``/rs`` serves (docs/esia.md §5).

Every fault is reported as a JSON pointer into the seed body, so a tester sees at once which
child's SNILS or which plate is wrong.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ...core.identifiers import format_snils, is_valid_inn, is_valid_plate, is_valid_snils
from .records import Kid, Vehicle, VehicleCertificate
from .seed_fields import FieldErrors, bounded_list, optional_text

MAX_ITEMS = 20
DATE = re.compile(r"\d{2}\.\d{2}\.\d{4}")
#: Vehicle registration certificate (СТС): series of 2 digits + 2 letters or 4 digits, number of 6.
_REG_SERIES = re.compile(r"\d{2}[0-9А-ЯA-Z]{2}")
_REG_NUMBER = re.compile(r"\d{6}")


def is_date(value: Any) -> bool:
    """``dd.MM.yyyy`` naming a real calendar day."""
    if not isinstance(value, str) or not DATE.fullmatch(value):
        return False
    try:
        dt.datetime.strptime(value, "%d.%m.%Y")
    except ValueError:
        return False
    return True


def vehicles(items: Any, errors: FieldErrors) -> list[Vehicle]:
    """``[{"name", "numberPlate", "regCertificate": {"series", "number"}}]``."""
    result = []
    for index, item in enumerate(bounded_list(items, "/vehicles", errors, MAX_ITEMS)):
        pointer = f"/vehicles/{index}"
        if not isinstance(item, dict):
            errors.add(pointer, "an object with name and numberPlate")
            continue
        vehicle: dict[str, Any] = {}
        name = optional_text(item, "name", pointer, errors, 200)
        if name is None and "name" not in item:
            errors.add(f"{pointer}/name", "required")
        elif name is not None:
            vehicle["name"] = name
        plate = item.get("numberPlate")
        if is_valid_plate(plate):
            vehicle["number_plate"] = plate
        else:
            errors.add(f"{pointer}/numberPlate", "a Russian plate such as А123ВС77 (Cyrillic letters)")
        certificate = item.get("regCertificate")
        if certificate is not None:
            if (
                isinstance(certificate, dict)
                and isinstance(certificate.get("series"), str)
                and _REG_SERIES.fullmatch(certificate["series"])
                and isinstance(certificate.get("number"), str)
                and _REG_NUMBER.fullmatch(certificate["number"])
            ):
                vehicle["certificate"] = VehicleCertificate(series=certificate["series"], number=certificate["number"])
            else:
                errors.add(f"{pointer}/regCertificate", "{series: 4 characters, number: 6 digits}")
        result.append(Vehicle(**vehicle))
    return result


def kids(items: Any, errors: FieldErrors) -> list[Kid]:
    """``[{"firstName", "lastName", "middleName"?, "birthDate", "gender", "snils"?, "inn"?}]``."""
    result = []
    for index, item in enumerate(bounded_list(items, "/kids", errors, MAX_ITEMS)):
        pointer = f"/kids/{index}"
        if not isinstance(item, dict):
            errors.add(pointer, "an object with firstName, lastName, birthDate, gender")
            continue
        kid: dict[str, Any] = {}
        for name, field in (("firstName", "first_name"), ("lastName", "last_name"), ("middleName", "middle_name")):
            value = optional_text(item, name, pointer, errors, 100)
            if value is not None:
                kid[field] = value
            elif name != "middleName" and name not in item:
                errors.add(f"{pointer}/{name}", "required")
        if is_date(item.get("birthDate")):
            kid["birth_date"] = item["birthDate"]
        else:
            errors.add(f"{pointer}/birthDate", "a date dd.MM.yyyy")
        if item.get("gender") in ("M", "F"):
            kid["gender"] = item["gender"]
        else:
            errors.add(f"{pointer}/gender", "M or F")
        if "snils" in item:
            if is_valid_snils(item["snils"]):
                kid["snils"] = format_snils(item["snils"])
            else:
                errors.add(f"{pointer}/snils", "a valid SNILS")
        if "inn" in item:
            if is_valid_inn(item["inn"], kind="person"):
                kid["inn"] = item["inn"]
            else:
                errors.add(f"{pointer}/inn", "a valid 12-digit INN of a person")
        result.append(Kid(**kid))
    return result
