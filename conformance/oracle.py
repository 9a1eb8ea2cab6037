"""The independent judge of Russian identifiers and codes (docs/identifiers.md).

The conformance suite must not trust the code it is judging: a wrong weight copied into both the
mocks and the tests would be invisible. So this module imports nothing from ``gosstand.mocks``
and is written differently on purpose: every rule is a row in a table (lengths, allowed character
per position, weight vectors, moduli) interpreted by a few small functions, instead of one
hand-written function per identifier.

Every ``*_is_valid`` function takes the value as a client would send it (any object) and answers
a bool. The ``*_check_*`` helpers compute check digits for a body; the Hypothesis strategies in
:mod:`gosstand.conformance.strategies` build valid numbers with them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "ASCII_DIGITS",
    "PROCEDURES",
    "account_is_valid",
    "account_key",
    "bik_is_valid",
    "dt_number_is_valid",
    "fkko_is_valid",
    "inn_check_digits",
    "inn_is_valid",
    "kpp_is_valid",
    "ogrn_check_digit",
    "ogrn_is_valid",
    "ogrnip_check_digit",
    "ogrnip_is_valid",
    "snils_control",
    "snils_is_valid",
    "snils_plain",
    "tnved_is_valid",
]

#: Only ASCII digits count: ``str.isdigit`` also accepts "٣" and "５", which no registry issues.
ASCII_DIGITS = frozenset("0123456789")
_LATIN_CAPITALS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _only_digits(value: object, lengths: Sequence[int]) -> str | None:
    """``value`` if it is a str of ASCII digits with one of ``lengths``, else ``None``."""
    if isinstance(value, str) and len(value) in lengths and set(value) <= ASCII_DIGITS:
        return value
    return None


# ---------------------------------------------------------------------------------------------
# Weighted sums: one table row per check digit
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WeightedDigit:
    """A check digit at ``position`` = (Σ digit·weight over the digits before it) mod 11 mod 10.
    The weights line up with the *last* digits before the position."""

    position: int
    weights: tuple[int, ...]

    def expected(self, digits: str) -> int:
        window = digits[self.position - len(self.weights) : self.position]
        total = 0
        for weight, char in zip(self.weights, window, strict=True):
            total += weight * (ord(char) - 48)
        return total % 11 % 10


_INN_WEIGHTS = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)

#: INN length → the check digits it carries (FNS order No. ММ-7-6/435@ algorithm).
INN_RULES: dict[int, tuple[WeightedDigit, ...]] = {
    10: (WeightedDigit(9, _INN_WEIGHTS[2:]),),
    12: (WeightedDigit(10, _INN_WEIGHTS[1:]), WeightedDigit(11, _INN_WEIGHTS)),
}
INN_KINDS: dict[str, tuple[int, ...]] = {"legal": (10,), "person": (12,), "any": (10, 12)}


def inn_is_valid(value: object, *, kind: str = "any") -> bool:
    """INN of an organisation (10 digits, ``kind="legal"``) or a person / sole proprietor
    (12 digits, ``kind="person"``); region part not ``00``."""
    digits = _only_digits(value, INN_KINDS[kind])
    if digits is None or digits.startswith("00"):
        return False
    return all(rule.expected(digits) == int(digits[rule.position]) for rule in INN_RULES[len(digits)])


def inn_check_digits(body: str) -> str:
    """The check digit(s) completing an INN body of 9 (→ 1 digit) or 10 (→ 2 digits) digits."""
    rules = INN_RULES[len(body) + (1 if len(body) == 9 else 2)]
    number = body
    for rule in rules:
        number += str(rule.expected(number))
    return number[len(body) :]


# ---------------------------------------------------------------------------------------------
# Registration numbers: remainder of the whole body
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RemainderRule:
    """Last digit = (the number formed by all other digits) mod ``modulus`` mod 10."""

    length: int
    first_digits: str
    modulus: int

    def check_digit(self, body: str) -> int:
        # Horner's scheme over the digits, reducing as we go: the same remainder as int(body).
        remainder = 0
        for char in body:
            remainder = (remainder * 10 + ord(char) - 48) % self.modulus
        return remainder % 10

    def accepts(self, value: object) -> bool:
        digits = _only_digits(value, (self.length,))
        if digits is None or digits[0] not in self.first_digits:
            return False
        return self.check_digit(digits[:-1]) == int(digits[-1])


OGRN_RULE = RemainderRule(length=13, first_digits="15", modulus=11)
#: python-stdnum compares with ``n % 13`` and so rejects valid OGRNIPs whose remainder is 10–12.
OGRNIP_RULE = RemainderRule(length=15, first_digits="3", modulus=13)


def ogrn_is_valid(value: object) -> bool:
    """OGRN of an organisation: 13 digits, first 1 or 5."""
    return OGRN_RULE.accepts(value)


def ogrnip_is_valid(value: object) -> bool:
    """OGRNIP of a sole proprietor: 15 digits, first 3; check = first 14 mod 13 mod 10."""
    return OGRNIP_RULE.accepts(value)


def ogrn_check_digit(body: str) -> str:
    return str(OGRN_RULE.check_digit(body))


def ogrnip_check_digit(body: str) -> str:
    return str(OGRNIP_RULE.check_digit(body))


# ---------------------------------------------------------------------------------------------
# SNILS
# ---------------------------------------------------------------------------------------------

#: Numbers up to and including this one carry no meaningful control number.
SNILS_UNCHECKED_UP_TO = 1_001_998
#: The two written forms: position → required separator (all other positions are digits).
SNILS_LAYOUTS: tuple[dict[int, str], ...] = ({}, {3: "-", 7: "-", 11: " "})


def snils_plain(value: object) -> str | None:
    """The 11 digits of a SNILS written bare or as ``XXX-XXX-XXX YY``; ``None`` otherwise."""
    if not isinstance(value, str):
        return None
    for layout in SNILS_LAYOUTS:
        if len(value) != 11 + len(layout):
            continue
        if all(char == layout[i] if i in layout else char in ASCII_DIGITS for i, char in enumerate(value)):
            return "".join(char for i, char in enumerate(value) if i not in layout)
    return None


def snils_control(first_nine: str) -> str:
    """Two-digit control number: S = Σ d·(9−i); S mod 101, with 100 written as 00."""
    weighted = sum((9 - i) * (ord(char) - 48) for i, char in enumerate(first_nine))
    return f"{weighted % 101 % 100:02d}"


def snils_is_valid(value: object) -> bool:
    """SNILS, bare or formatted; the control number counts only above ``001-001-998``."""
    digits = snils_plain(value)
    if digits is None:
        return False
    if int(digits[:9]) <= SNILS_UNCHECKED_UP_TO:
        return True
    return snils_control(digits[:9]) == digits[9:]


# ---------------------------------------------------------------------------------------------
# Codes without check digits: a character class per position
# ---------------------------------------------------------------------------------------------

_D = ASCII_DIGITS
_D_OR_LATIN = ASCII_DIGITS | _LATIN_CAPITALS

#: KPP ``NNNN PP XXX``: the reason code PP may hold capital Latin letters at the tax service;
#: FTS formats take digits only.
KPP_TAX_LAYOUT = (_D, _D, _D, _D, _D_OR_LATIN, _D_OR_LATIN, _D, _D, _D)
KPP_FTS_LAYOUT = (_D,) * 9


def _fits(value: object, layout: Sequence[frozenset[str]]) -> bool:
    return (
        isinstance(value, str)
        and len(value) == len(layout)
        and all(char in allowed for char, allowed in zip(value, layout, strict=True))
    )


def kpp_is_valid(value: object, *, digits_only: bool = False) -> bool:
    """KPP: 9 characters, tax office code (first four) not starting ``00``."""
    layout = KPP_FTS_LAYOUT if digits_only else KPP_TAX_LAYOUT
    return _fits(value, layout) and not str(value).startswith("00")


#: TN VED chapters in use: 01–97 without the reserved 77.
TNVED_CHAPTERS = frozenset(f"{n:02d}" for n in range(1, 98)) - {"77"}


def tnved_is_valid(value: object) -> bool:
    """TN VED EAEU commodity code: 10 digits whose first two are a chapter in use."""
    digits = _only_digits(value, (10,))
    return digits is not None and digits[:2] in TNVED_CHAPTERS


#: FKKO: the last digit is the hazard class 1–5, or 0 for group rows.
FKKO_HAZARD_CLASSES = frozenset("012345")
#: Written bare or grouped ``D DD DDD DD DD D`` (group sizes).
FKKO_GROUPS = (1, 2, 3, 2, 2, 1)


def fkko_is_valid(value: object) -> bool:
    """FKKO waste code: 11 digits, bare or in the standard grouping, last digit 0–5."""
    if not isinstance(value, str):
        return False
    candidate = value
    if " " in value:
        parts = value.split(" ")
        if tuple(len(part) for part in parts) != FKKO_GROUPS:
            return False
        candidate = "".join(parts)
    digits = _only_digits(candidate, (11,))
    return digits is not None and digits[-1] in FKKO_HAZARD_CLASSES


# ---------------------------------------------------------------------------------------------
# Customs declaration number CCCCCCCC/DDMMYY/NNNNNNN
# ---------------------------------------------------------------------------------------------

#: Part lengths of a declaration number, separated by ``/``.
DT_NUMBER_PARTS = (8, 6, 7)


def dt_number_is_valid(value: object, *, today: dt.date) -> bool:
    """A declaration number: a Russian customs office (``10…``), a real registration date not
    after ``today``, a 7-digit sequence number."""
    if not isinstance(value, str):
        return False
    parts = value.split("/")
    if tuple(len(p) for p in parts) != DT_NUMBER_PARTS or not all(set(p) <= ASCII_DIGITS for p in parts):
        return False
    office, date, _ = parts
    try:
        registered = dt.date(2000 + int(date[4:]), int(date[2:4]), int(date[:2]))
    except ValueError:
        return False
    return office.startswith("10") and registered <= today


# ---------------------------------------------------------------------------------------------
# Customs procedures (direction → codes)
# ---------------------------------------------------------------------------------------------

PROCEDURES: dict[str, frozenset[str]] = {
    "ИМ": frozenset("40 51 53 60 70 77 78 80 90 91 93 94 96".split()),
    "ЭК": frozenset("10 21 23 31 70 77 78 80 96".split()),
}


# ---------------------------------------------------------------------------------------------
# BIK and bank accounts (Bank of Russia order 515)
# ---------------------------------------------------------------------------------------------

_ACCOUNT_WEIGHTS = (7, 1, 3)
#: Institution codes (BIK digits 7–9) of Bank of Russia units, not credit institutions.
CENTRAL_BANK_UNITS = frozenset({"000", "001", "002"})


def bik_is_valid(value: object) -> bool:
    """BIK: 9 digits, ``04`` (Russia) or ``00`` (treasury) first."""
    digits = _only_digits(value, (9,))
    return digits is not None and digits[:2] in ("04", "00")


def _account_prefix(account: str, bik: str) -> str:
    """Three digits prepended for the key: the BIK's institution code, or ``0`` + BIK digits
    5–6 for accounts at a Bank of Russia unit and for banks' correspondent accounts."""
    if account.startswith("30101") or bik[-3:] in CENTRAL_BANK_UNITS:
        return "0" + bik[4:6]
    return bik[-3:]


def _weighted_units(digits: str) -> int:
    return sum((ord(char) - 48) * _ACCOUNT_WEIGHTS[i % 3] % 10 for i, char in enumerate(digits))


def account_is_valid(account: object, *, bik: object) -> bool:
    """A 20-digit account whose key (digit 9) agrees with the BIK."""
    digits = _only_digits(account, (20,))
    if digits is None or not bik_is_valid(bik):
        return False
    return _weighted_units(_account_prefix(digits, str(bik)) + digits) % 10 == 0


def account_key(account: str, *, bik: str) -> str:
    """The key digit that makes ``account`` (its 9th digit ignored) valid at ``bik``."""
    for key in "0123456789":
        candidate = account[:8] + key + account[9:]
        if _weighted_units(_account_prefix(candidate, bik) + candidate) % 10 == 0:
            return key
    raise AssertionError("a key digit always exists: weight 3 at the key position is invertible mod 10")
