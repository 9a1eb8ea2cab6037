"""Form bodies and queries are read exactly as ``urllib.parse.parse_qsl`` reads them.

The hot routes read ESIA's queries and form bodies with :mod:`mocks.core.urlencoded` (C-speed
decoding of long percent-encoded values such as a ``client_secret``), while Starlette reads a
query with ``parse_qsl``: any difference would make a hot route answer a request differently from
the full app. These tests hold the two to the same answers for arbitrary text.
"""

from __future__ import annotations

import base64
from urllib.parse import parse_qsl, quote, urlencode

import pytest
from gosstand.mocks.core.urlencoded import TooManyFields, urlencoded_pairs
from hypothesis import given, settings
from hypothesis import strategies as st

#: Text as the app sees a body or query (bytes decoded as Latin-1: U+0000–U+00FF), weighted
#: towards what changes how it is read: escapes good and broken, plus signs, separators, backslashes.
_PIECES = st.one_of(
    st.sampled_from(["%", "%2B", "%2b", "%2F", "%3D", "%D0%B9", "%d0", "%B9", "%FF", "%4", "%G1", "%%41", "+", "&",
                     "=", "\\", "\\x41", "\\n", "a", "Z", "0", "é", "\x00", "&&", "=="]),
    st.characters(max_codepoint=0xFF),
)
LATIN1_TEXT = st.lists(_PIECES, max_size=40).map("".join)


@settings(max_examples=600, deadline=None)
@given(LATIN1_TEXT)
def test_any_latin1_text_reads_as_parse_qsl_reads_it(text: str) -> None:
    assert urlencoded_pairs(text) == parse_qsl(text, keep_blank_values=True)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_unicode_text_reads_as_parse_qsl_reads_it(text: str) -> None:
    assert urlencoded_pairs(text) == parse_qsl(text, keep_blank_values=True)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=8), st.text(max_size=30), max_size=6))
def test_a_form_encoded_by_urlencode_reads_back_as_parse_qsl_reads_it(fields: dict[str, str]) -> None:
    text = urlencode(fields)
    assert urlencoded_pairs(text) == parse_qsl(text, keep_blank_values=True) == list(fields.items())


def test_a_client_secret_reads_back_byte_for_byte() -> None:
    """The long base64 value whose every ``+``, ``/`` and ``=`` came percent-encoded."""
    secret = base64.b64encode(bytes(range(256)) * 7).decode()
    text = f"client_id=TESTSYS&client_secret={quote(secret, safe='')}&state=x"
    assert urlencoded_pairs(text) == parse_qsl(text, keep_blank_values=True)
    assert dict(urlencoded_pairs(text))["client_secret"] == secret


@pytest.mark.parametrize("fields", [1, 2, 5])
def test_too_many_fields_are_refused_where_parse_qsl_refuses_them(fields: int) -> None:
    for text in ("a=1&b=2&c=3", "a=1&&", "&", "x"):
        try:
            expected = parse_qsl(text, keep_blank_values=True, max_num_fields=fields)
        except ValueError:
            with pytest.raises(TooManyFields):
                urlencoded_pairs(text, max_fields=fields)
        else:
            assert urlencoded_pairs(text, max_fields=fields) == expected
