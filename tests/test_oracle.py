"""The mocks' validators agree with the conformance oracle, which was written apart from them.

If the two ever disagree, one of them is wrong — and the failing example Hypothesis prints is
the shortest number that shows it.
"""

from __future__ import annotations

import base64

import pytest
from gosstand.conformance import oracle
from gosstand.conformance import strategies as ids
from gosstand.mocks.core import identifiers as mocks
from gosstand.mocks.fts.sniffing import sniff, xml_problems
from hypothesis import example, find, given, settings
from hypothesis import strategies as st

quick = settings(max_examples=150, deadline=None)
anything = st.one_of(
    st.none(), st.integers(), st.text(max_size=20), st.text(alphabet="0123456789 -", max_size=16)
)
kinds = st.sampled_from(["legal", "person", "any"])


# -- reference examples (docs/identifiers.md) --------------------------------------------------


@pytest.mark.parametrize(
    ("judge", "value"),
    [
        (oracle.inn_is_valid, "7707083893"),
        (oracle.inn_is_valid, "500500123491"),
        (oracle.ogrn_is_valid, "1027700132195"),
        (oracle.snils_is_valid, "112-233-445 95"),
        (oracle.snils_is_valid, "11223344595"),
        (oracle.snils_is_valid, "000-000-600 15"),  # below 001-001-998: any control number
        (oracle.kpp_is_valid, "773601001"),
        (oracle.fkko_is_valid, "4 71 101 01 52 1"),
        (oracle.tnved_is_valid, "8471300000"),
    ],
)
def test_reference_examples_are_valid(judge, value):
    assert judge(value)


@pytest.mark.parametrize(
    ("judge", "value"),
    [
        (oracle.inn_is_valid, "7707083894"),  # check digit off by one
        (oracle.inn_is_valid, "500500123492"),
        (oracle.inn_is_valid, "0000000000"),  # 00 region, checksum right
        (oracle.inn_is_valid, "770708389３"),  # a full-width digit
        (oracle.ogrn_is_valid, "1027700132196"),
        (oracle.ogrn_is_valid, "2027700132195"),  # first digit must be 1 or 5
        (oracle.snils_is_valid, "112-233-445 96"),
        (oracle.snils_is_valid, "112-233-44595"),
        (oracle.kpp_is_valid, "003601001"),
        (oracle.kpp_is_valid, "7736аb001"),
        (oracle.tnved_is_valid, "7700000000"),  # chapter 77 is reserved
        (oracle.fkko_is_valid, "47110101526"),  # hazard class 6 does not exist
    ],
)
def test_reference_mutations_are_invalid(judge, value):
    assert not judge(value)


def test_inn_kind_restricts_length():
    assert oracle.inn_is_valid("7707083893", kind="legal")
    assert not oracle.inn_is_valid("7707083893", kind="person")
    assert oracle.inn_is_valid("500500123491", kind="person")
    assert not oracle.inn_is_valid("500500123491", kind="legal")


def test_kpp_letters_only_at_the_tax_service():
    assert oracle.kpp_is_valid("7736AB001")
    assert not oracle.kpp_is_valid("7736AB001", digits_only=True)
    assert not oracle.kpp_is_valid("77A6AB001")  # letters only in the reason code


def test_bank_account_key_reference_example():
    assert oracle.account_is_valid("40702810938000000001", bik="044525225")
    assert not oracle.account_is_valid("40702810038000000001", bik="044525225")
    assert oracle.account_key("40702810038000000001", bik="044525225") == "9"
    # a bank's correspondent account is keyed with 0 + BIK digits 5–6
    assert oracle.account_is_valid("30101810400000000225", bik="044525225")


# -- python-stdnum's OGRNIP trap ---------------------------------------------------------------


def test_ogrnip_remainder_above_nine_is_accepted_by_both():
    """``n % 13`` of 10–12 makes the check digit its last digit (stdnum rejects these)."""
    trap = find(ids.ogrnips_with_remainder_above_nine(), lambda _: True)
    assert int(trap[:14]) % 13 >= 10
    assert oracle.ogrnip_is_valid(trap)
    assert mocks.is_valid_ogrnip(trap)


@quick
@given(ids.ogrnips_with_remainder_above_nine())
def test_every_high_remainder_ogrnip_is_valid(value):
    assert mocks.is_valid_ogrnip(value) and oracle.ogrnip_is_valid(value)


# -- agreement, valid and invalid ----------------------------------------------------------------


@quick
@given(kinds.flatmap(lambda kind: st.tuples(st.just(kind), ids.valid_inns(kind=kind))))
def test_valid_inns_agree(kind_and_value):
    kind, value = kind_and_value
    assert oracle.inn_is_valid(value, kind=kind)
    assert mocks.is_valid_inn(value, kind=kind)


@quick
@given(kinds.flatmap(lambda kind: st.tuples(st.just(kind), ids.invalid_inns(kind=kind))))
def test_invalid_inns_agree(kind_and_value):
    kind, value = kind_and_value
    assert not oracle.inn_is_valid(value, kind=kind)
    assert not mocks.is_valid_inn(value, kind=kind)


@quick
@given(ids.valid_ogrns())
def test_valid_ogrns_agree(value):
    assert oracle.ogrn_is_valid(value) and mocks.is_valid_ogrn(value)


@quick
@given(ids.invalid_ogrns())
def test_invalid_ogrns_agree(value):
    assert not oracle.ogrn_is_valid(value) and not mocks.is_valid_ogrn(value)


@quick
@given(ids.valid_ogrnips())
def test_valid_ogrnips_agree(value):
    assert oracle.ogrnip_is_valid(value) and mocks.is_valid_ogrnip(value)


@quick
@given(ids.invalid_ogrnips())
def test_invalid_ogrnips_agree(value):
    assert not oracle.ogrnip_is_valid(value) and not mocks.is_valid_ogrnip(value)


@quick
@given(ids.valid_snilses())
@example("000-000-600 15")
@example("001-001-998 00")  # the last unchecked number
def test_valid_snilses_agree(value):
    assert oracle.snils_is_valid(value) and mocks.is_valid_snils(value)


@quick
@given(ids.invalid_snilses())
@example("001-001-999 00")  # the first checked number; its control number is 65
def test_invalid_snilses_agree(value):
    assert not oracle.snils_is_valid(value)
    assert not mocks.is_valid_snils(value)


# Found by this oracle: the mocks once matched SNILS with \d, which accepts Unicode digits.
@pytest.mark.parametrize("value", ["000٣0000000", "112-233-445 ９5"])
def test_unicode_digits_are_no_snils(value):
    assert not oracle.snils_is_valid(value)
    assert not mocks.is_valid_snils(value)


@quick
@given(st.booleans().flatmap(lambda d: st.tuples(st.just(d), ids.valid_kpps(digits_only=d))))
def test_valid_kpps_agree(flag_and_value):
    digits_only, value = flag_and_value
    assert oracle.kpp_is_valid(value, digits_only=digits_only)
    assert mocks.is_valid_kpp(value, digits_only=digits_only)


@quick
@given(st.booleans().flatmap(lambda d: st.tuples(st.just(d), ids.invalid_kpps(digits_only=d))))
def test_invalid_kpps_agree(flag_and_value):
    digits_only, value = flag_and_value
    assert not oracle.kpp_is_valid(value, digits_only=digits_only)
    assert not mocks.is_valid_kpp(value, digits_only=digits_only)


@quick
@given(ids.valid_tnveds())
def test_valid_tnveds_agree(value):
    assert oracle.tnved_is_valid(value) and mocks.is_valid_tnved(value)


@quick
@given(ids.invalid_tnveds())
def test_invalid_tnveds_agree(value):
    assert not oracle.tnved_is_valid(value) and not mocks.is_valid_tnved(value)


@quick
@given(ids.valid_fkkos())
def test_valid_fkkos_agree(value):
    assert oracle.fkko_is_valid(value) and mocks.is_valid_fkko(value)


@quick
@given(ids.invalid_fkkos())
def test_invalid_fkkos_agree(value):
    assert not oracle.fkko_is_valid(value) and not mocks.is_valid_fkko(value)


@quick
@given(anything)
def test_arbitrary_input_gets_the_same_answer(value):
    """Random junk (None, ints, text, digit soup) is judged the same way by both sides."""
    assert oracle.inn_is_valid(value) == mocks.is_valid_inn(value)
    assert oracle.ogrn_is_valid(value) == mocks.is_valid_ogrn(value)
    assert oracle.ogrnip_is_valid(value) == mocks.is_valid_ogrnip(value)
    assert oracle.snils_is_valid(value) == mocks.is_valid_snils(value)
    assert oracle.kpp_is_valid(value) == mocks.is_valid_kpp(value)
    assert oracle.kpp_is_valid(value, digits_only=True) == mocks.is_valid_kpp(value, digits_only=True)
    assert oracle.tnved_is_valid(value) == mocks.is_valid_tnved(value)


# -- the strategies shrink to minimal examples -------------------------------------------------


def test_valid_strategies_shrink_to_the_smallest_number():
    """A failure is reported with the simplest number: region 01, zeros, the check digit."""
    assert find(ids.valid_inns(kind="legal"), lambda _: True) == "0100000004"
    assert find(ids.valid_ogrns(), lambda _: True) == "1000000000000"  # 10**11 % 11 == 10 → 0
    assert find(ids.valid_snilses(formatted=False, checked_only=True), lambda _: True) == "00100199965"


def test_invalid_strategies_shrink_too():
    shortest = find(ids.invalid_inns(kind="legal"), lambda value: len(value) == 10 and value.isascii())
    assert len(shortest) == 10 and not oracle.inn_is_valid(shortest, kind="legal")


@settings(max_examples=200)
@given(ids.valid_document_contents())
def test_the_document_format_draws_files_fts_accepts(content):
    """The contract's ``document-base64`` strategy: what the mock judges a document by."""
    raw = base64.b64decode(content, validate=True)
    kind = sniff(raw)
    assert kind is not None and (kind != "application/xml" or not xml_problems(raw))
