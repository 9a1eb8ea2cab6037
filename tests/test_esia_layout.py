"""ESIA's shape, read from its source, so it stays the way a newcomer was told it is: its error
codes in one catalogue (:mod:`gosstand.mocks.esia.errors`), named everywhere else; the shared
store reached only through the repositories (``*_repository.py``), which own its keys; and
Starlette seen only by the HTTP edge, so the flows can be read (and called) without a request."""

from __future__ import annotations

import re
from pathlib import Path

import gosstand.mocks.esia
from gosstand.mocks.esia import errors

ESIA = Path(gosstand.mocks.esia.__file__).parent
RAW_CODE = re.compile(r"ESIA-00\d{4}|[\"']00[57]\d{3}[\"']")
#: A store key written out (``"esia:user:…"``, ``f"esia:rid:…"``) or a call on the store.
STORE_ACCESS = re.compile(r"[\"']esia:[a-z]|\bstore\.[a-z_]+\(")
#: The modules that speak HTTP: the service's composition, the control API, the handlers and
#: the two modules that render answers.
HTTP_EDGE = re.compile(r"(service|control|web|error_answers|(\w+/)?handlers)\.py")


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


def test_only_the_repositories_touch_the_store():
    touching = [name for name, text in _modules().items() if STORE_ACCESS.search(text)]
    assert touching and all(name.endswith("_repository.py") for name in touching), touching


def test_only_the_http_edge_sees_starlette():
    seeing = [name for name, text in _modules().items() if re.search(r"^from starlette|^import starlette", text, re.M)]
    assert seeing and all(HTTP_EDGE.fullmatch(name) for name in seeing), seeing
