"""The mocks' validators for Russian identifiers and codes (docs/identifiers.md).

These are the rules the mock servers enforce. The conformance suite judges targets with its own
oracle (``conformance/oracle.py``), written separately, so a bug here cannot hide itself there.
Every function takes the string as a client sent it and answers a plain bool; formatting
helpers turn stored digits into the forms ESIA shows.
"""

from __future__ import annotations

import datetime as dt
import re

_DIGITS = re.compile(r"[0-9]+")


def _digits(value: object, length: int | tuple[int, ...]) -> list[int] | None:
    lengths = (length,) if isinstance(length, int) else length
    if not isinstance(value, str) or not value.isascii() or not _DIGITS.fullmatch(value) or len(value) not in lengths:
        return None
    return [int(c) for c in value]


def _weighted(digits: list[int], weights: tuple[int, ...]) -> int:
    return sum(d * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


_INN10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def is_valid_inn(value: object, *, kind: str = "any") -> bool:
    """INN: 10 digits (organisation) or 12 (individual, sole proprietor); ``kind`` is
    ``"legal"``, ``"person"`` or ``"any"``."""
    allowed = {"legal": (10,), "person": (12,), "any": (10, 12)}[kind]
    d = _digits(value, allowed)
    if d is None or d[0] == d[1] == 0:
        return False
    if len(d) == 10:
        return _weighted(d, _INN10) == d[9]
    return _weighted(d, _INN11) == d[10] and _weighted(d, _INN12) == d[11]


def is_valid_ogrn(value: object) -> bool:
    """OGRN (13 digits, first 1 or 5): check digit = first 12 mod 11 mod 10."""
    d = _digits(value, 13)
    return d is not None and d[0] in (1, 5) and int(str(value)[:12]) % 11 % 10 == d[12]


def is_valid_ogrnip(value: object) -> bool:
    """OGRNIP (15 digits, first 3): check digit = first 14 mod 13 mod 10."""
    d = _digits(value, 15)
    return d is not None and d[0] == 3 and int(str(value)[:14]) % 13 % 10 == d[14]


def snils_digits(value: object) -> str | None:
    """The 11 digits of a SNILS written bare or as ``XXX-XXX-XXX YY``; ``None`` if neither."""
    if not isinstance(value, str):
        return None
    if re.fullmatch(r"[0-9]{3}-[0-9]{3}-[0-9]{3} [0-9]{2}", value):
        return value.replace("-", "").replace(" ", "")
    if re.fullmatch(r"[0-9]{11}", value):
        return value
    return None


def snils_control(number: str) -> int:
    """The control number of the first nine digits."""
    total = sum(int(c) * (9 - i) for i, c in enumerate(number[:9]))
    if total < 100:
        return total
    if total in (100, 101):
        return 0
    remainder = total % 101
    return 0 if remainder == 100 else remainder


def is_valid_snils(value: object) -> bool:
    """SNILS: 11 digits; the control number is checked above ``001-001-998`` only."""
    digits = snils_digits(value)
    if digits is None:
        return False
    if int(digits[:9]) <= 1001998:
        return True
    return snils_control(digits) == int(digits[9:])


def format_snils(value: str) -> str:
    """``11223344595`` → ``112-233-445 95`` (the form ESIA returns)."""
    digits = snils_digits(value)
    if digits is None:
        raise ValueError(f"not a SNILS: {value!r}")
    return f"{digits[0:3]}-{digits[3:6]}-{digits[6:9]} {digits[9:]}"


_KPP_TAX = re.compile(r"([0-9][1-9]|[1-9][0-9])[0-9]{2}[0-9A-Z]{2}[0-9]{3}")
_KPP_FTS = re.compile(r"([0-9][1-9]|[1-9][0-9])[0-9]{7}")


def is_valid_kpp(value: object, *, digits_only: bool = False) -> bool:
    """KPP: 9 characters, tax office code not ``00``; the reason code may hold capital Latin
    letters except where FTS formats demand digits only (``digits_only``)."""
    if not isinstance(value, str) or not value.isascii():
        return False
    return (_KPP_FTS if digits_only else _KPP_TAX).fullmatch(value) is not None


def is_valid_tnved(value: object) -> bool:
    """TN VED EAEU commodity code: 10 digits, chapter 01–97 except the reserved 77."""
    d = _digits(value, 10)
    if d is None:
        return False
    chapter = d[0] * 10 + d[1]
    return 1 <= chapter <= 97 and chapter != 77


def is_valid_fkko(value: object) -> bool:
    """FKKO waste code: 11 digits (spaces allowed as in ``4 71 101 01 52 1``), last digit 0–5."""
    if not isinstance(value, str):
        return False
    compact = value.replace(" ", "")
    d = _digits(compact, 11)
    return d is not None and d[10] <= 5


def is_valid_customs_office(value: object) -> bool:
    """An 8-digit customs office code; Russian offices start with ``10``."""
    return _digits(value, 8) is not None and str(value).startswith("10")


PROCEDURES: dict[str, frozenset[str]] = {
    "ИМ": frozenset({"40", "51", "53", "60", "70", "77", "78", "80", "90", "91", "93", "94", "96"}),
    "ЭК": frozenset({"10", "21", "23", "31", "70", "77", "78", "80", "96"}),
}


def is_valid_procedure(direction: object, code: object) -> bool:
    """Only the real direction/procedure pairings (``ИМ 40`` yes, ``ИМ 10`` no)."""
    return isinstance(direction, str) and isinstance(code, str) and code in PROCEDURES.get(direction, ())


_DT_NUMBER = re.compile(r"([0-9]{8})/([0-9]{2})([0-9]{2})([0-9]{2})/([0-9]{7})")


def is_valid_dt_number(value: object, *, today: dt.date | None = None) -> bool:
    """Declaration number ``CCCCCCCC/DDMMYY/NNNNNNN`` with a real date not in the future."""
    if not isinstance(value, str):
        return False
    match = _DT_NUMBER.fullmatch(value)
    if match is None:
        return False
    office, day, month, year, _ = match.groups()
    try:
        date = dt.date(2000 + int(year), int(month), int(day))
    except ValueError:
        return False
    return is_valid_customs_office(office) and date <= (today or dt.date.today())


PLATE_LETTERS = "АВЕКМНОРСТУХ"
_PLATE = re.compile(rf"[{PLATE_LETTERS}][0-9]{{3}}[{PLATE_LETTERS}]{{2}}[0-9]{{2,3}}")


def is_valid_plate(value: object) -> bool:
    """A Russian vehicle plate such as ``А123ВС77`` (Cyrillic letters only)."""
    return isinstance(value, str) and _PLATE.fullmatch(value) is not None


def normalize_mobile(value: object) -> str | None:
    """A Russian mobile number as ``+7XXXXXXXXXX``, from ``+7 (999) 123-45-67``, ``89991234567``…"""
    if not isinstance(value, str):
        return None
    compact = re.sub(r"[\s()\-]", "", value)
    match = re.fullmatch(r"(?:\+7|8|7)(9[0-9]{9})", compact)
    return f"+7{match.group(1)}" if match else None


def format_mobile(value: str) -> str:
    """``+79991234567`` → ``+7(999)1234567`` (the form ESIA stores)."""
    normal = normalize_mobile(value)
    if normal is None:
        raise ValueError(f"not a Russian mobile number: {value!r}")
    return f"+7({normal[2:5]}){normal[5:]}"
