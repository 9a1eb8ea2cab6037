"""Paging and size limits, as the contracts state them, tested against the target.

- **Paging.** A list read page by page, one item a page, following ``nextCursor``: every item
  once, none skipped, in the contract's order, and the last page says no more follow. Pages of
  one item put a cursor between every two neighbours, where an off-by-one shows.
- **Limits.** FTS takes a document of at most 5 MiB and a JSON body of at most 1 MiB, UTKO an
  object's body of at most 256 KiB; larger ones are a 413 problem document, read no further.

Every request goes through httpx (the plain HTTP a user's target sees); nothing needs the
target's control API.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from gosstand.conformance.reference_requests import ORGANISATION, declaration, utko_object
from gosstand.conformance.targets import Target, TargetUnavailable

pytestmark = pytest.mark.behaviour

#: Pages followed at most: a target whose cursors loop ends the test instead of hanging it.
MAX_PAGES = 60
MIB = 1024 * 1024


def _url(target: Target, service: str) -> str:
    try:
        return target.url(service)
    except TargetUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture
def client(esia_access_token: str) -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30.0, headers={"Authorization": f"Bearer {esia_access_token}"}) as session:
        yield session


def _file(client: httpx.Client, fts: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = client.post(f"{fts}/api/v1/declarations", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert answer.status_code == 201, answer.text[:300]
    card: dict[str, Any] = answer.json()
    return card


def _pages(client: httpx.Client, url: str, params: dict[str, str]) -> Iterator[tuple[list[dict[str, Any]], bool]]:
    """Each page's items and whether it named a next page, following ``nextCursor``."""
    for _ in range(MAX_PAGES):
        answer = client.get(url, params=params)
        assert answer.status_code == 200, answer.text[:300]
        page = answer.json()
        cursor = page.get("nextCursor")
        yield page["items"], bool(cursor)
        if not cursor:
            return
        params = {key: value for key, value in params.items() if key != "offset"} | {"cursor": cursor}
    pytest.fail(f"still a nextCursor after {MAX_PAGES} pages of one item")


def _assert_problem(answer: httpx.Response, status: int) -> None:
    assert answer.status_code == status, answer.text[:300]
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["status"] == status


# -- paging ----------------------------------------------------------------------------------------

def test_fts_declarations_read_a_page_at_a_time_come_once_each_newest_first(
        gosstand_target: Target, client: httpx.Client) -> None:
    fts = _url(gosstand_target, "fts")
    reference = f"conformance-paging-{uuid.uuid4().hex[:10]}"
    ours = {_file(client, fts, declaration(senderReference=reference))["id"] for _ in range(3)}
    seen: list[dict[str, Any]] = []
    params = {"inn": ORGANISATION["inn"], "kpp": ORGANISATION["kpp"], "limit": "1"}
    for items, _ in _pages(client, f"{fts}/api/v1/declarations", params):
        assert len(items) <= 1, "a page holds at most limit items"
        seen += items
        if ours <= {card["id"] for card in seen}:
            break
    ids = [card["id"] for card in seen]
    assert len(ids) == len(set(ids)), f"a declaration came twice: {ids}"
    assert ours <= set(ids), f"paging skipped some of the newest declarations: {sorted(ours - set(ids))}"
    times = [card["submittedAt"] for card in seen]
    assert times == sorted(times, reverse=True), "newest first"


def test_utko_objects_read_a_page_at_a_time_come_once_each_in_creation_order(
        gosstand_target: Target, client: httpx.Client) -> None:
    objects = _url(gosstand_target, "utko") + "/v1/objects"
    created = []
    for index in range(3):
        answer = client.post(objects, json=utko_object(name=f"Площадка {index} {uuid.uuid4().hex[:6]}"))
        assert answer.status_code == 201, answer.text[:300]
        created.append(answer.json()["id"])
    # A person sees only the objects of the operators it works for, and names one when it works
    # for several (the suite's person works for the reference operator and a sole proprietor).
    mine = {"limit": "1", "operatorInn": utko_object()["operator"]["inn"]}
    total = client.get(objects, params=mine).json()["total"]
    seen: list[str] = []
    last_named_more = True
    for items, more in _pages(client, objects, {**mine, "offset": str(total - 3)}):
        seen += [item["id"] for item in items]
        last_named_more = more
    assert seen == created, "from the third-newest object on, one a page: ours, once each, oldest first"
    assert not last_named_more, "the last page names no next one"


# -- limits ----------------------------------------------------------------------------------------

def test_fts_a_document_over_5_mib_is_refused_with_413(gosstand_target: Target, client: httpx.Client) -> None:
    fts = _url(gosstand_target, "fts")
    card = _file(client, fts, declaration(senderReference=f"conformance-limits-{uuid.uuid4().hex[:10]}"))
    oversized = b"%PDF-1.4\n" + b"0" * (5 * MIB + 1 - len(b"%PDF-1.4\n"))
    answer = client.post(f"{fts}/api/v1/declarations/{card['id']}/documents",
                         files={"file": ("scan.pdf", oversized, "application/pdf")},
                         headers={"Idempotency-Key": str(uuid.uuid4())})
    _assert_problem(answer, 413)


def test_fts_a_declaration_over_1_mib_is_refused_with_413(gosstand_target: Target, client: httpx.Client) -> None:
    fts = _url(gosstand_target, "fts")
    body = declaration(senderReference="conformance-limits", notes="x" * (MIB + 1))
    answer = client.post(f"{fts}/api/v1/declarations", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    _assert_problem(answer, 413)


def test_utko_an_object_over_256_kib_is_refused_with_413(gosstand_target: Target, client: httpx.Client) -> None:
    objects = _url(gosstand_target, "utko") + "/v1/objects"
    answer = client.post(objects, json=utko_object(address="x" * (256 * 1024 + 1)))
    _assert_problem(answer, 413)
