"""The access rules, one check function each: what a person acting for organisation A may see and
do of organisation B's declarations, appeals and UTKO objects — nothing.

Each ``check_*`` function takes the answer to A's request and raises :class:`AssertionError`
saying what was wrong (a plain function: the suite's tests, a schemathesis check or a mutation
benchmark can call it). A refusal is 403 or 404: which one is the target's choice (the gosstand
mocks answer 404 for a record addressed by id, so that nobody learns it exists, and 403 for a
request that itself names another organisation); anything else — a 2xx above all — lets A
through. A list may also answer 200 as long as none of B's records is in it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import httpx

__all__ = [
    "REFUSALS",
    "check_filing_for_another_organisation_refused",
    "check_list_shows_nothing_of_another_organisation",
    "check_record_of_another_organisation_hidden",
    "check_record_unchanged",
]

#: How a target may refuse A: forbidden, or as if the record did not exist.
REFUSALS = (403, 404)


def _line(response: httpx.Response) -> str:
    return f"{response.request.method} {response.request.url.path}"


def check_record_of_another_organisation_hidden(response: httpx.Response, what: str) -> None:
    """A's request addressing B's record by id (read, withdraw, upload, comment…) is refused."""
    assert response.status_code in REFUSALS, (
        f"{_line(response)}: a person of another organisation got HTTP {response.status_code} for {what}, "
        f"not 403 or 404: {response.text[:300]}")


def check_filing_for_another_organisation_refused(response: httpx.Response, what: str) -> None:
    """A files something (a declaration, an appeal, an object) for B: refused."""
    assert response.status_code in REFUSALS, (
        f"{_line(response)}: a person filed {what} for an organisation it does not act for and got "
        f"HTTP {response.status_code}, not 403 or 404: {response.text[:300]}")


def _listed_ids(body: Any) -> set[str]:
    items = body.get("items") if isinstance(body, Mapping) else None
    return {str(item.get("id")) for item in items or [] if isinstance(item, Mapping)}


def check_list_shows_nothing_of_another_organisation(response: httpx.Response, theirs: Collection[str],
                                                     what: str) -> None:
    """A lists B's records: refused, or a list without any of them."""
    if response.status_code in REFUSALS:
        return
    assert response.status_code == 200, (
        f"{_line(response)}: listing {what} of another organisation answered HTTP {response.status_code}, "
        f"neither a refusal (403, 404) nor a list: {response.text[:300]}")
    try:
        shown = _listed_ids(response.json()) & set(theirs)
    except ValueError:
        shown = set()
    assert not shown, f"{_line(response)}: a person of another organisation was shown {what}: {sorted(shown)}"


def check_record_unchanged(before: Any, after: Any, what: str) -> None:
    """B's record, read by B after A's refused change, is what it was."""
    assert before == after, f"{what} changed after a person of another organisation was refused: {before} → {after}"
