"""Hypothesis strategies for valid and invalid Russian identifiers, built on the oracle.

Composed bottom-up from small generators (digit strings, one-character mutations) so a failing
example shrinks to a minimal one: bodies shrink towards zeros, mutations towards the first
position. ``valid_*`` strategies draw a body and complete it with the oracle's check digits;
``invalid_*`` strategies combine the ways real clients get numbers wrong — a wrong check digit,
a wrong length, a non-digit (including Unicode digits that ``str.isdigit`` accepts), a ``00``
region. Each ``invalid_*`` example is guaranteed invalid by the oracle (filtered, rarely).

The same valid strategies are registered as schemathesis string formats by the contract tests.
"""

from __future__ import annotations

import base64
import datetime as dt

from hypothesis import strategies as st

from . import oracle

__all__ = [
    "contract_formats",
    "valid_document_contents",
    "valid_dt_numbers",
    "digit_strings",
    "invalid_fkkos",
    "invalid_inns",
    "invalid_kpps",
    "invalid_ogrnips",
    "invalid_ogrns",
    "invalid_snilses",
    "invalid_tnveds",
    "nonzero_region_prefixes",
    "ogrnips_with_remainder_above_nine",
    "valid_fkkos",
    "valid_inns",
    "valid_kpps",
    "valid_ogrnips",
    "valid_ogrns",
    "valid_snilses",
    "valid_tnveds",
]

#: Characters a careless client may put where a digit belongs: Latin and Cyrillic letters
#: (О and З look like 0 and 3), separators.
NON_DIGITS = "AOZaoАОЗ -./_"
#: Digits of other scripts: ``str.isdigit()``, ``int()`` and regex ``\d`` all accept them, so
#: they are the classic way a validator lets a non-number through. Drawn as a branch of their
#: own so that even a short run tries them.
FOREIGN_DIGITS = "٣５१߁"
_LENGTHS_OF_INN = {"legal": (10,), "person": (12,), "any": (10, 12)}


def digit_strings(*, min_size: int, max_size: int | None = None) -> st.SearchStrategy[str]:
    """Strings of ASCII digits; shrink towards ``"000…"``."""
    upper = max_size if max_size is not None else min_size
    return st.text(alphabet="0123456789", min_size=min_size, max_size=upper)


def nonzero_region_prefixes() -> st.SearchStrategy[str]:
    """Two digits that are not ``00`` (INN region, KPP tax office)."""
    return st.integers(min_value=1, max_value=99).map(lambda n: f"{n:02d}")


@st.composite
def _with_char_replaced(draw: st.DrawFn, base: st.SearchStrategy[str], alphabet: str) -> str:
    """``base`` with one character replaced by one from ``alphabet``."""
    value = draw(base)
    index = draw(st.integers(min_value=0, max_value=len(value) - 1))
    return value[:index] + draw(st.sampled_from(alphabet)) + value[index + 1 :]


def _with_non_digit(base: st.SearchStrategy[str], *, keep: str = "") -> st.SearchStrategy[str]:
    """``base`` with one character replaced by a letter, a separator or a foreign digit;
    ``keep`` lists separators that are legal in the written form (they are not drawn)."""
    letters = "".join(char for char in NON_DIGITS if char not in keep)
    return st.one_of(_with_char_replaced(base, letters), _with_char_replaced(base, FOREIGN_DIGITS))


@st.composite
def _with_digit_changed(draw: st.DrawFn, base: st.SearchStrategy[str], positions: tuple[int, ...]) -> str:
    """``base`` with the digit at one of ``positions`` (negative = from the end) shifted by 1–9."""
    value = draw(base)
    index = draw(st.sampled_from(positions)) % len(value)
    shifted = (int(value[index]) + draw(st.integers(min_value=1, max_value=9))) % 10
    return value[:index] + str(shifted) + value[index + 1 :]


def _lengths_other_than(allowed: tuple[int, ...], *, max_size: int = 20) -> st.SearchStrategy[str]:
    return st.integers(min_value=0, max_value=max_size).filter(lambda n: n not in allowed).flatmap(
        lambda n: digit_strings(min_size=n)
    )


# ---------------------------------------------------------------------------------------------
# INN
# ---------------------------------------------------------------------------------------------


@st.composite
def _inns_of_length(draw: st.DrawFn, length: int, *, region: st.SearchStrategy[str]) -> str:
    body = draw(region) + draw(digit_strings(min_size=length - 2 - (1 if length == 10 else 2)))
    return body + oracle.inn_check_digits(body)


def valid_inns(*, kind: str = "any") -> st.SearchStrategy[str]:
    """INNs the oracle accepts: ``kind`` is ``"legal"`` (10), ``"person"`` (12) or ``"any"``."""
    return st.one_of(*(_inns_of_length(n, region=nonzero_region_prefixes()) for n in _LENGTHS_OF_INN[kind]))


def invalid_inns(*, kind: str = "any") -> st.SearchStrategy[str]:
    """Wrong check digit, wrong length, a non-digit, or a ``00`` region with correct checks."""
    valid = valid_inns(kind=kind)
    return st.one_of(
        _with_digit_changed(valid, positions=(-1, -2)),
        _lengths_other_than(_LENGTHS_OF_INN[kind]),
        _with_non_digit(valid),
        st.one_of(*(_inns_of_length(n, region=st.just("00")) for n in _LENGTHS_OF_INN[kind])),
    ).filter(lambda value: not oracle.inn_is_valid(value, kind=kind))


# ---------------------------------------------------------------------------------------------
# OGRN, OGRNIP
# ---------------------------------------------------------------------------------------------


@st.composite
def _registration_numbers(draw: st.DrawFn, rule: oracle.RemainderRule, first: st.SearchStrategy[str]) -> str:
    body = draw(first) + draw(digit_strings(min_size=rule.length - 2))
    return body + str(rule.check_digit(body))


def valid_ogrns() -> st.SearchStrategy[str]:
    """13-digit OGRNs (first digit 1 or 5) with the right check digit."""
    return _registration_numbers(oracle.OGRN_RULE, st.sampled_from("15"))


def valid_ogrnips() -> st.SearchStrategy[str]:
    """15-digit OGRNIPs (first digit 3) with the right check digit."""
    return _registration_numbers(oracle.OGRNIP_RULE, st.just("3"))


def ogrnips_with_remainder_above_nine() -> st.SearchStrategy[str]:
    """Valid OGRNIPs whose first 14 digits mod 13 is 10–12: python-stdnum's trap."""
    return valid_ogrnips().filter(lambda value: int(value[:14]) % 13 >= 10)


def _invalid_registration_numbers(
    rule: oracle.RemainderRule, valid: st.SearchStrategy[str]
) -> st.SearchStrategy[str]:
    wrong_first = st.sampled_from([d for d in "0123456789" if d not in rule.first_digits])
    return st.one_of(
        _with_digit_changed(valid, positions=(-1,)),
        _lengths_other_than((rule.length,)),
        _with_non_digit(valid),
        _registration_numbers(rule, wrong_first),
    ).filter(lambda value: not rule.accepts(value))


def invalid_ogrns() -> st.SearchStrategy[str]:
    return _invalid_registration_numbers(oracle.OGRN_RULE, valid_ogrns())


def invalid_ogrnips() -> st.SearchStrategy[str]:
    return _invalid_registration_numbers(oracle.OGRNIP_RULE, valid_ogrnips())


# ---------------------------------------------------------------------------------------------
# SNILS
# ---------------------------------------------------------------------------------------------


def _snils_written(digits: str, formatted: bool) -> str:
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:9]} {digits[9:]}" if formatted else digits


@st.composite
def valid_snilses(draw: st.DrawFn, *, formatted: bool | None = None, checked_only: bool = False) -> str:
    """SNILS the oracle accepts, bare or ``XXX-XXX-XXX YY`` (``formatted=None``: either).
    Unless ``checked_only``, numbers up to ``001-001-998`` with any control number appear too."""
    low = 0 if not checked_only else oracle.SNILS_UNCHECKED_UP_TO + 1
    number = draw(st.integers(min_value=low, max_value=999_999_999))
    nine = f"{number:09d}"
    if number <= oracle.SNILS_UNCHECKED_UP_TO:
        control = draw(digit_strings(min_size=2))
    else:
        control = oracle.snils_control(nine)
    as_formatted = draw(st.booleans()) if formatted is None else formatted
    return _snils_written(nine + control, as_formatted)


@st.composite
def _snilses_with_wrong_control(draw: st.DrawFn) -> str:
    nine = f"{draw(st.integers(min_value=oracle.SNILS_UNCHECKED_UP_TO + 1, max_value=999_999_999)):09d}"
    right = int(oracle.snils_control(nine))
    wrong = (right + draw(st.integers(min_value=1, max_value=99))) % 100
    return _snils_written(f"{nine}{wrong:02d}", draw(st.booleans()))


@st.composite
def _snilses_in_other_layouts(draw: st.DrawFn) -> str:
    """Right digits, wrong separators: ``112-233-44595``, ``112 233 445 95``, ``112-233-445-95``."""
    digits = draw(valid_snilses(formatted=False))
    layout = draw(st.sampled_from(["{0}-{1}-{2}{3}", "{0} {1} {2} {3}", "{0}-{1}-{2}-{3}", "{0}{1}{2} {3}"]))
    return layout.format(digits[:3], digits[3:6], digits[6:9], digits[9:])


def invalid_snilses() -> st.SearchStrategy[str]:
    """Wrong control number (above the threshold), wrong length, wrong layout, non-digits."""
    return st.one_of(
        _snilses_with_wrong_control(),
        _lengths_other_than((11,)),
        _snilses_in_other_layouts(),
        _with_non_digit(valid_snilses(formatted=False), keep=" -"),
    ).filter(lambda value: not oracle.snils_is_valid(value))


# ---------------------------------------------------------------------------------------------
# KPP
# ---------------------------------------------------------------------------------------------

_LATIN_CAPITALS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@st.composite
def valid_kpps(draw: st.DrawFn, *, digits_only: bool = False) -> str:
    """KPP ``NNNN PP XXX``; unless ``digits_only``, PP may hold capital Latin letters."""
    reason_alphabet = "0123456789" if digits_only else "0123456789" + _LATIN_CAPITALS
    office = draw(nonzero_region_prefixes()) + draw(digit_strings(min_size=2))
    reason = draw(st.text(alphabet=reason_alphabet, min_size=2, max_size=2))
    return office + reason + draw(digit_strings(min_size=3))


def invalid_kpps(*, digits_only: bool = False) -> st.SearchStrategy[str]:
    """``00`` office, wrong length, lower-case or Cyrillic look-alike letters, letters outside
    the reason code — and, for ``digits_only``, any letter at all."""
    valid = valid_kpps(digits_only=digits_only)
    zero_office = valid.map(lambda value: "00" + value[2:])
    candidates = [
        zero_office,
        _lengths_other_than((9,), max_size=12),
        _with_char_replaced(valid, "abzАВЕКМ -"),
        _with_char_replaced(valid, FOREIGN_DIGITS),
        _with_char_replaced(valid, _LATIN_CAPITALS),
    ]
    return st.one_of(*candidates).filter(
        lambda value: not oracle.kpp_is_valid(value, digits_only=digits_only)
    )


# ---------------------------------------------------------------------------------------------
# TN VED, FKKO
# ---------------------------------------------------------------------------------------------


def valid_tnveds() -> st.SearchStrategy[str]:
    """10-digit TN VED codes in a chapter in use."""
    chapters = st.sampled_from(sorted(oracle.TNVED_CHAPTERS))
    return st.tuples(chapters, digit_strings(min_size=8)).map("".join)


def invalid_tnveds() -> st.SearchStrategy[str]:
    """Chapter 00, 77 (reserved), 98 or 99; wrong length (HS-6, CN-8…); non-digits."""
    bad_chapters = st.sampled_from(["00", "77", "98", "99"])
    return st.one_of(
        st.tuples(bad_chapters, digit_strings(min_size=8)).map("".join),
        _lengths_other_than((10,), max_size=14),
        _with_non_digit(valid_tnveds()),
    ).filter(lambda value: not oracle.tnved_is_valid(value))


def _fkko_grouped(code: str) -> str:
    parts, start = [], 0
    for size in oracle.FKKO_GROUPS:
        parts.append(code[start : start + size])
        start += size
    return " ".join(parts)


@st.composite
def valid_fkkos(draw: st.DrawFn, *, grouped: bool | None = None) -> str:
    """11-digit FKKO codes ending in hazard class 0–5, bare or grouped ``4 71 101 01 52 1``."""
    code = draw(digit_strings(min_size=10)) + draw(st.sampled_from(sorted(oracle.FKKO_HAZARD_CLASSES)))
    as_grouped = draw(st.booleans()) if grouped is None else grouped
    return _fkko_grouped(code) if as_grouped else code


def invalid_fkkos() -> st.SearchStrategy[str]:
    """Hazard class 6–9, wrong length, non-digits."""
    return st.one_of(
        st.tuples(digit_strings(min_size=10), st.sampled_from("6789")).map("".join),
        _lengths_other_than((11,), max_size=14),
        _with_non_digit(valid_fkkos(grouped=False), keep=" "),
    ).filter(lambda value: not oracle.fkko_is_valid(value))


# ---------------------------------------------------------------------------------------------
# Declaration numbers, and the formats the contracts use
# ---------------------------------------------------------------------------------------------


@st.composite
def valid_dt_numbers(draw: st.DrawFn, *, latest: dt.date = dt.date(2025, 12, 31)) -> str:
    """``CCCCCCCC/DDMMYY/NNNNNNN`` registered at a Russian office between 2010 and ``latest``."""
    office = "10" + draw(digit_strings(min_size=6))
    day = draw(st.dates(min_value=dt.date(2010, 1, 1), max_value=latest))
    return f"{office}/{day:%d%m%y}/{draw(digit_strings(min_size=7))}"


#: How each kind of file FTS accepts begins (the FTS format album's kinds: scans and XML).
_FILE_HEADS = (b"%PDF-1.7\n", b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n")


@st.composite
def valid_document_contents(draw: st.DrawFn) -> str:
    """A file FTS accepts, in base64: a PDF, JPEG or PNG (judged by how it begins) or a
    well-formed XML document without a DTD."""
    if draw(st.booleans()):
        text = draw(st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=40))
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        raw = f'<?xml version="1.0" encoding="UTF-8"?><document>{escaped}</document>'.encode()
    else:
        raw = draw(st.sampled_from(_FILE_HEADS)) + draw(st.binary(max_size=64))
    return base64.b64encode(raw).decode()


def contract_formats() -> dict[str, st.SearchStrategy[str]]:
    """Valid values for the custom string formats of the gosstand contracts, to register with
    ``schemathesis.openapi.format``: JSON Schema cannot say "check digit", these can.
    KPP is digits only, SNILS formatted: the forms every one of the three systems accepts."""
    return {
        "inn": valid_inns(),
        "kpp": valid_kpps(digits_only=True),
        "ogrn": valid_ogrns(),
        "ogrnip": valid_ogrnips(),
        "snils": valid_snilses(formatted=True, checked_only=True),
        "tnved": valid_tnveds(),
        "fkko": valid_fkkos(grouped=False),
        "dt-number": valid_dt_numbers(),
        "document-base64": valid_document_contents(),
    }
