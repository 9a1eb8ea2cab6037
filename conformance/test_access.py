"""Access to another organisation's data, against the target: two people of two organisations
(seeded at the target's ESIA by the suite, each an employee of a fresh organisation of its own),
B files a declaration, an appeal and a UTKO object, and A — a valid token with every scope — may
not read, list, withdraw, upload to, comment on, replace or delete any of them, nor file for B
(:mod:`~gosstand.conformance.access_rules`, one rule per check). Each refusal is then confirmed
from B's side: B still reads its records, unchanged. Needs ESIA's control API (``--control-token``
for a target that trusts the stand's ESIA); without it every test skips and says so.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from gosstand.conformance.access_rules import (
    check_filing_for_another_organisation_refused,
    check_list_shows_nothing_of_another_organisation,
    check_record_of_another_organisation_hidden,
    check_record_unchanged,
)
from gosstand.conformance.reference_requests import declaration, utko_object
from gosstand.conformance.suite_esia import SuiteEsia
from gosstand.conformance.targets import Target

pytestmark = pytest.mark.access

#: A document FTS takes by its content (a PDF header is what it judges).
SCAN = b"%PDF-1.4\n% gosstand access conformance\n%%EOF\n"


@dataclass(frozen=True)
class Organisation:
    """A seeded organisation and the access token of the person who works for it."""

    inn: str
    kpp: str
    party: dict[str, str]
    headers: dict[str, str]


@dataclass(frozen=True)
class World:
    """Organisation A (the intruder), organisation B (the owner) and B's records."""

    a: Organisation
    b: Organisation
    fts: str | None
    utko: str | None
    declaration_id: str | None = None
    appeal_id: str | None = None
    object_id: str | None = None


def _organisation(esia: SuiteEsia) -> Organisation:
    person = esia.seed_person()
    stored = esia.seed_organisation(person)
    party = {"inn": stored["inn"], "kpp": stored["kpp"], "ogrn": stored["ogrn"], "name": stored["fullName"]}
    token = esia.log_in(person, scopes=("openid", "fullname", "usr_org")).access_token
    return Organisation(stored["inn"], stored["kpp"], party, {"Authorization": f"Bearer {token}"})


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=15.0) as client:
        yield client


@pytest.fixture(scope="session")
def world(gosstand_target: Target, http: httpx.Client) -> World:
    if gosstand_target.control_token is None or not gosstand_target.has("esia"):
        pytest.skip("two people of two organisations are seeded at the target's ESIA: pass --control-token "
                    "(or GOSSTAND_CONTROL_TOKEN) for a target that trusts the stand's ESIA")
    return build_world(gosstand_target, http)


def build_world(gosstand_target: Target, http: httpx.Client) -> World:
    """Seed A and B at the target's ESIA and let B file one of each of its records."""
    esia = SuiteEsia(gosstand_target)
    a, b = _organisation(esia), _organisation(esia)
    fts = gosstand_target.urls.get("fts")
    utko = gosstand_target.urls.get("utko")
    declaration_id = appeal_id = object_id = None
    if fts is not None:
        filed = http.post(f"{fts}/api/v1/declarations", json=declaration(b.party, senderReference="access-b"),
                          headers={**b.headers, "Idempotency-Key": str(uuid.uuid4())})
        assert filed.status_code == 201, f"B could not file its own declaration: {filed.status_code} {filed.text}"
        declaration_id = filed.json()["id"]
        appeal = {"inn": b.inn, "kpp": b.kpp, "subject": "Вопрос о декларации", "text": "Прошу разъяснить",
                  "declarationId": declaration_id}
        appealed = http.post(f"{fts}/api/v1/appeals", json=appeal,
                             headers={**b.headers, "Idempotency-Key": str(uuid.uuid4())})
        assert appealed.status_code == 201, f"B could not file its own appeal: {appealed.status_code} {appealed.text}"
        appeal_id = appealed.json()["id"]
    if utko is not None:
        created = http.post(f"{utko}/v1/objects", json=utko_object(operator={"inn": b.inn, "kpp": b.kpp}),
                            headers=b.headers)
        assert created.status_code == 201, f"B could not register its own object: {created.status_code} {created.text}"
        object_id = created.json()["id"]
    return World(a, b, fts, utko, declaration_id, appeal_id, object_id)


def _fts(world: World) -> str:
    if world.fts is None:
        pytest.skip("no FTS URL for this target")
    return world.fts


def _utko(world: World) -> str:
    if world.utko is None:
        pytest.skip("no UTKO URL for this target")
    return world.utko


def _key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def _b_reads(http: httpx.Client, world: World, url: str) -> Any:
    answer = http.get(url, headers=world.b.headers)
    assert answer.status_code == 200, f"B cannot read its own {url}: {answer.status_code} {answer.text[:200]}"
    return answer.json()


# -- FTS: declarations -------------------------------------------------------------------------

def test_fts_another_organisations_declaration_is_not_readable(world: World, http: httpx.Client) -> None:
    url = f"{_fts(world)}/api/v1/declarations/{world.declaration_id}"
    check_record_of_another_organisation_hidden(http.get(url, headers=world.a.headers), "B's declaration")
    check_record_of_another_organisation_hidden(http.get(f"{url}/status", headers=world.a.headers),
                                                "B's declaration's status")
    assert _b_reads(http, world, url)["id"] == world.declaration_id


def test_fts_another_organisations_declarations_are_not_listed(world: World, http: httpx.Client) -> None:
    fts = _fts(world)
    answer = http.get(f"{fts}/api/v1/declarations", params={"inn": world.b.inn}, headers=world.a.headers)
    check_list_shows_nothing_of_another_organisation(answer, {str(world.declaration_id)}, "B's declarations")
    events = http.get(f"{fts}/api/v1/events", params={"inn": world.b.inn}, headers=world.a.headers)
    if events.status_code == 200:
        leaked = {item.get("declarationId") for item in events.json().get("items", [])} & {world.declaration_id}
        assert not leaked, "B's declaration's events were shown to a person of another organisation"
    else:
        check_record_of_another_organisation_hidden(events, "B's event feed")


def test_fts_another_organisations_declaration_cannot_be_withdrawn(world: World, http: httpx.Client) -> None:
    url = f"{_fts(world)}/api/v1/declarations/{world.declaration_id}"
    before = _b_reads(http, world, f"{url}/status")["status"]
    answer = http.post(f"{url}/withdrawal", headers={**world.a.headers, **_key()})
    check_record_of_another_organisation_hidden(answer, "withdrawing B's declaration")
    check_record_unchanged(before, _b_reads(http, world, f"{url}/status")["status"], "B's declaration's status")


def test_fts_no_document_can_be_uploaded_to_another_organisations_declaration(
        world: World, http: httpx.Client) -> None:
    url = f"{_fts(world)}/api/v1/declarations/{world.declaration_id}/documents"
    before = _b_reads(http, world, url)["items"]
    answer = http.post(url, files={"file": ("scan.pdf", SCAN, "application/pdf")},
                       headers={**world.a.headers, **_key()})
    check_record_of_another_organisation_hidden(answer, "uploading a document to B's declaration")
    check_record_of_another_organisation_hidden(http.get(url, headers=world.a.headers), "B's documents")
    check_record_unchanged(before, _b_reads(http, world, url)["items"], "B's documents")


def test_fts_no_declaration_can_be_filed_for_another_organisation(world: World, http: httpx.Client) -> None:
    answer = http.post(f"{_fts(world)}/api/v1/declarations",
                       json=declaration(world.b.party, senderReference="access-a-for-b"),
                       headers={**world.a.headers, **_key()})
    check_filing_for_another_organisation_refused(answer, "a declaration")


# -- FTS: appeals --------------------------------------------------------------------------------

def test_fts_no_appeal_can_be_filed_for_another_organisation(world: World, http: httpx.Client) -> None:
    appeal = {"inn": world.b.inn, "kpp": world.b.kpp, "subject": "Чужое обращение", "text": "Текст"}
    answer = http.post(f"{_fts(world)}/api/v1/appeals", json=appeal, headers={**world.a.headers, **_key()})
    check_filing_for_another_organisation_refused(answer, "an appeal")


def test_fts_another_organisations_appeal_is_not_readable_nor_commented(world: World, http: httpx.Client) -> None:
    url = f"{_fts(world)}/api/v1/appeals/{world.appeal_id}"
    check_record_of_another_organisation_hidden(http.get(url, headers=world.a.headers), "B's appeal")
    answer = http.post(f"{url}/comments", json={"text": "Чужой комментарий"}, headers={**world.a.headers, **_key()})
    check_record_of_another_organisation_hidden(answer, "commenting on B's appeal")
    check_record_unchanged([], _b_reads(http, world, url)["comments"], "B's appeal's comments")


def test_fts_another_organisations_appeals_are_not_listed(world: World, http: httpx.Client) -> None:
    answer = http.get(f"{_fts(world)}/api/v1/appeals", params={"inn": world.b.inn}, headers=world.a.headers)
    check_list_shows_nothing_of_another_organisation(answer, {str(world.appeal_id)}, "B's appeals")


# -- UTKO: objects -------------------------------------------------------------------------------

def test_utko_another_operators_object_is_not_readable(world: World, http: httpx.Client) -> None:
    url = f"{_utko(world)}/v1/objects/{world.object_id}"
    check_record_of_another_organisation_hidden(http.get(url, headers=world.a.headers), "B's object")
    weighings = http.get(f"{_utko(world)}/reo-weight-control-api/api/v1/weight-controls",
                         params={"objectId": str(world.object_id)}, headers=world.a.headers)
    check_record_of_another_organisation_hidden(weighings, "B's object's weight controls")


def test_utko_another_operators_objects_are_not_listed(world: World, http: httpx.Client) -> None:
    answer = http.get(f"{_utko(world)}/v1/objects", params={"operatorInn": world.b.inn}, headers=world.a.headers)
    check_list_shows_nothing_of_another_organisation(answer, {str(world.object_id)}, "B's objects")
    mine = http.get(f"{_utko(world)}/v1/objects", headers=world.a.headers)  # A's own register
    check_list_shows_nothing_of_another_organisation(mine, {str(world.object_id)}, "B's objects")


def test_utko_another_operators_object_cannot_be_replaced_or_deleted(world: World, http: httpx.Client) -> None:
    url = f"{_utko(world)}/v1/objects/{world.object_id}"
    owner_view = http.get(url, headers=world.b.headers)
    assert owner_view.status_code == 200, owner_view.text
    before, etag = owner_view.json(), owner_view.headers.get("etag", '"v1"')
    changed = {key: before[key] for key in ("name", "status", "type", "operator", "region", "address",
                                            "coordinates", "fkkoCodes") if key in before}
    replaced = http.put(url, json={**changed, "status": "inactive"}, headers={**world.a.headers, "If-Match": etag})
    check_record_of_another_organisation_hidden(replaced, "replacing B's object")
    deleted = http.delete(url, headers={**world.a.headers, "If-Match": etag})
    check_record_of_another_organisation_hidden(deleted, "deleting B's object")
    check_record_unchanged(before, _b_reads(http, world, url), "B's object")


def test_utko_no_object_can_be_registered_for_another_operator(world: World, http: httpx.Client) -> None:
    answer = http.post(f"{_utko(world)}/v1/objects",
                       json=utko_object(operator={"inn": world.b.inn, "kpp": world.b.kpp}), headers=world.a.headers)
    check_filing_for_another_organisation_refused(answer, "an object")


def test_each_organisation_still_works_with_its_own(world: World, http: httpx.Client) -> None:
    """The refusals above are about the other organisation, not a broken token: A files and reads
    its own declaration and object."""
    if world.fts is not None:
        filed = http.post(f"{world.fts}/api/v1/declarations", json=declaration(world.a.party, senderReference="a"),
                          headers={**world.a.headers, **_key()})
        assert filed.status_code == 201, filed.text
        assert http.get(f"{world.fts}/api/v1/declarations/{filed.json()['id']}",
                        headers=world.a.headers).status_code == 200
    if world.utko is not None:
        created = http.post(f"{world.utko}/v1/objects", json=utko_object(operator={"inn": world.a.inn,
                                                                                    "kpp": world.a.kpp}),
                            headers=world.a.headers)
        assert created.status_code == 201, created.text

