"""ESIA's shape, read from its source, so it stays the way a newcomer was told it is: its error
codes in one catalogue (:mod:`gosstand.mocks.esia.errors`), named everywhere else."""

from __future__ import annotations

import re
from pathlib import Path

import gosstand.mocks.esia
from gosstand.mocks.esia import errors

ESIA = Path(gosstand.mocks.esia.__file__).parent
RAW_CODE = re.compile(r"ESIA-00\d{4}|[\"']00[57]\d{3}[\"']")


def _modules() -> dict[str, str]:
    return {str(path.relative_to(ESIA)): path.read_text() for path in sorted(ESIA.rglob("*.py"))}


def test_raw_error_codes_appear_only_in_the_catalogue():
    raw = {name: RAW_CODE.findall(text) for name, text in _modules().items() if name != "errors.py"}
    assert {name: codes for name, codes in raw.items() if codes} == {}


def test_each_catalogued_code_is_one_error():
    entries = [value for value in vars(errors).values() if isinstance(value, errors.OAuthCode | errors.RsCode)]
    codes = [entry.code for entry in entries]
    assert len(codes) == len(set(codes)) and all(re.fullmatch(r"ESIA-00[57]\d{3}", code) for code in codes)
    rfc6749 = {"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type",
               "invalid_scope", "access_denied", "server_error", "temporarily_unavailable"}
    assert {entry.error for entry in entries if isinstance(entry, errors.OAuthCode)} <= rfc6749
