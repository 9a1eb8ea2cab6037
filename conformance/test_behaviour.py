"""Behaviour the contracts state in prose, tested against the target: idempotent submission (also
when retries race), the declaration life cycle and its invariants, withdrawal, an object's
round trip through UTKO with its ETag checks, and REO's weight-control import (a re-posted file
stores nothing twice, a partly invalid file imports the rest, a wrong key stores nothing).

Each test talks to the target through the journeys of ``gosstand.scenarios`` (a plain HTTP
client), so the target may be the stand or your own system. Tests that must move time need the
target's control API (``--control-token``) and skip without it: they never sleep.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from typing import Any

import httpx
import pytest
from gosstand.conformance.reference_requests import ORGANISATION, declaration, utko_object
from gosstand.conformance.targets import Target, TargetOptions, TargetUnavailable
from gosstand.scenarios import declarations, utko
from gosstand.scenarios.control import StackControl
from gosstand.scenarios.http import HttpxClient
from gosstand.scenarios.identities import russian_faker

pytestmark = pytest.mark.behaviour

#: ``CCCCCCCC/DDMMYY/NNNNNNN``: customs office, registration date (UTC), sequence.
REGISTRATION_NUMBER = re.compile(r"^(\d{8})/(\d{2})(\d{2})(\d{2})/(\d{7})$")


def _url(target: Target, service: str) -> str:
    try:
        return target.url(service)
    except TargetUnavailable as exc:
        pytest.skip(str(exc))


def _declaration(**changes: Any) -> dict[str, Any]:
    """The reference declaration under a reference no other test uses."""
    return declaration(senderReference=f"conformance-{uuid.uuid4().hex[:12]}", **changes)


@pytest.fixture(scope="module")
def http() -> HttpxClient:
    return HttpxClient()


def _ours(http: HttpxClient, fts: str, token: str, reference: str) -> list[dict[str, Any]]:
    """The declarant's newest cards carrying ``reference`` (ours is among the newest 200)."""
    newest = islice(declarations.list_declarations(http, fts_url=fts, token=token, inn=ORGANISATION["inn"],
                                                   kpp=ORGANISATION["kpp"]), 200)
    return [card for card in newest if card["senderReference"] == reference]


# -- FTS: idempotent submission ------------------------------------------------------------------

def test_fts_a_retry_with_the_same_key_returns_the_first_declaration(
        gosstand_target: Target, esia_access_token: str, http: HttpxClient) -> None:
    fts = _url(gosstand_target, "fts")
    body, key = _declaration(), str(uuid.uuid4())
    first = declarations.submit(http, fts_url=fts, token=esia_access_token, declaration=body, idempotency_key=key)
    again = declarations.submit(http, fts_url=fts, token=esia_access_token, declaration=body, idempotency_key=key)
    assert (again.id, again.replayed, first.replayed) == (first.id, True, False)
    assert again.card == first.card, "a replay returns the first answer's body"
    assert [card["id"] for card in _ours(http, fts, esia_access_token, body["senderReference"])] == [first.id]


def test_fts_the_same_key_with_another_declaration_is_409(
        gosstand_target: Target, esia_access_token: str, http: HttpxClient) -> None:
    fts = _url(gosstand_target, "fts")
    key = str(uuid.uuid4())
    declarations.submit(http, fts_url=fts, token=esia_access_token, declaration=_declaration(), idempotency_key=key)
    with pytest.raises(declarations.DeclarationError) as refused:
        declarations.submit(http, fts_url=fts, token=esia_access_token, declaration=_declaration(),
                            idempotency_key=key, attempts=1)
    assert refused.value.status == 409
    assert refused.value.problem.get("status") == 409, "the refusal is problem+json"


def test_fts_retries_racing_on_replicas_file_once(gosstand_target: Target, esia_access_token: str) -> None:
    """Eight copies of one submission sent at once, each on its own connection (so they spread
    over the replicas): one declaration, and every answer names it."""
    fts = _url(gosstand_target, "fts") + "/api/v1/declarations"
    body, key = _declaration(), str(uuid.uuid4())
    headers = {"Authorization": f"Bearer {esia_access_token}", "Idempotency-Key": key}

    def send(_: int) -> httpx.Response:
        with httpx.Client(timeout=10.0) as client:  # a connection of its own
            return client.post(fts, json=body, headers=headers)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(send, range(8)))
    assert {answer.status_code for answer in answers} == {201}, [a.text[:200] for a in answers]
    assert len({answer.json()["id"] for answer in answers}) == 1
    assert sum(answer.headers.get("idempotent-replayed") != "true" for answer in answers) == 1
    assert len(_ours(HttpxClient(), _url(gosstand_target, "fts"), esia_access_token, body["senderReference"])) == 1


# -- FTS: the life cycle, on the target's clock --------------------------------------------------

def test_fts_a_declaration_is_registered_then_released_and_its_number_holds(
        gosstand_target: Target, gosstand_control: StackControl, esia_access_token: str, http: HttpxClient) -> None:
    fts = _url(gosstand_target, "fts")
    body = _declaration(scenario="release")
    submitted = declarations.submit(http, fts_url=fts, token=esia_access_token, declaration=body,
                                    idempotency_key=str(uuid.uuid4()))

    def read() -> dict[str, Any]:
        return declarations.card(http, fts_url=fts, token=esia_access_token, declaration_id=submitted.id)

    fresh = read()
    assert (fresh["status"], fresh["registrationNumber"], fresh["decisionCode"]) == ("submitted", None, None)
    gosstand_control.advance_clock("fts", 5)
    registered = read()
    assert (registered["status"], registered["decisionCode"]) == ("registered", None), "no decision yet"
    number = REGISTRATION_NUMBER.match(registered["registrationNumber"] or "")
    assert number, f"registration number {registered['registrationNumber']!r} is not CCCCCCCC/DDMMYY/NNNNNNN"
    office, day, month, year, _ = number.groups()
    registered_at = dt.datetime.fromisoformat(registered["statusHistory"][-1]["at"].replace("Z", "+00:00"))
    assert office == body["customsOffice"]
    assert (day, month, year) == (f"{registered_at:%d}", f"{registered_at:%m}", f"{registered_at:%y}"), (
        "the number's date part is the registration date")
    gosstand_control.advance_clock("fts", 30)
    released = read()
    assert (released["status"], released["decisionCode"]) == ("released", "10")
    assert released["registrationNumber"] == registered["registrationNumber"], "a number never changes"
    assert [step["status"] for step in released["statusHistory"]] == ["submitted", "registered", "released"]
    with pytest.raises(declarations.DeclarationError) as late:
        declarations.withdraw(http, fts_url=fts, token=esia_access_token, declaration_id=submitted.id,
                              idempotency_key=str(uuid.uuid4()))
    assert late.value.status == 409, "no withdrawal after a decision"


def test_fts_a_withdrawal_before_registration_takes_no_decision(
        gosstand_target: Target, esia_access_token: str, http: HttpxClient) -> None:
    fts = _url(gosstand_target, "fts")
    submitted = declarations.submit(http, fts_url=fts, token=esia_access_token, declaration=_declaration(),
                                    idempotency_key=str(uuid.uuid4()))
    key = str(uuid.uuid4())
    withdrawn = declarations.withdraw(http, fts_url=fts, token=esia_access_token, declaration_id=submitted.id,
                                      idempotency_key=key)
    assert (withdrawn["status"], withdrawn["decisionCode"], withdrawn["registrationNumber"]) == (
        "withdrawn", None, None)
    again = declarations.withdraw(http, fts_url=fts, token=esia_access_token, declaration_id=submitted.id,
                                  idempotency_key=key)
    assert again == withdrawn, "a retried withdrawal returns the first answer"
    with pytest.raises(declarations.DeclarationError) as other_key:
        declarations.withdraw(http, fts_url=fts, token=esia_access_token, declaration_id=submitted.id,
                              idempotency_key=str(uuid.uuid4()))
    assert other_key.value.status == 409


# -- UTKO: an object's round trip, with optimistic concurrency --------------------------------------

def test_utko_an_object_reads_back_as_written_and_stale_writes_are_refused(
        gosstand_target: Target, esia_access_token: str) -> None:
    utko = _url(gosstand_target, "utko") + "/v1/objects"
    headers = {"Authorization": f"Bearer {esia_access_token}"}
    body = utko_object(name=f"Площадка накопления ТКО {uuid.uuid4().hex[:6]}")
    with httpx.Client(timeout=10.0, headers=headers) as client:
        created = client.post(utko, json=body)
        assert created.status_code == 201, created.text[:300]
        url = f"{utko}/{created.json()['id']}"
        read = client.get(url)
        assert read.json() == created.json() and read.headers["etag"] == created.headers["etag"]
        edit = created.json() | {"status": "inactive"}
        assert client.put(url, json=edit).status_code == 428, "a PUT without If-Match overwrites blindly"
        changed = client.put(url, json=edit, headers={"If-Match": read.headers["etag"]})
        assert changed.status_code == 200 and changed.json()["status"] == "inactive"
        assert changed.headers["etag"] != read.headers["etag"]
        stale = client.put(url, json=edit, headers={"If-Match": read.headers["etag"]})
        assert stale.status_code == 412 and stale.headers["etag"] == changed.headers["etag"]
        assert client.get(url).json() == changed.json()
        assert client.delete(url, headers={"If-Match": changed.headers["etag"]}).status_code in (200, 204)
        gone = client.get(url)
        assert gone.status_code == 404 and gone.headers["content-type"].startswith("application/problem+json")


# -- UTKO: REO's weight-control import -----------------------------------------------------------

@pytest.fixture(scope="module")
def weighed_object(gosstand_target: Target, esia_access_token: str, http: HttpxClient) -> utko.Registered:
    """An object registered for this module, with the access key UTKO gave it."""
    registered = utko.register_object(
        http, utko_url=_url(gosstand_target, "utko"), token=esia_access_token,
        obj=utko_object(name=f"Весовой контроль {uuid.uuid4().hex[:6]}"),
    )
    assert registered.access_key, "the 201 of a registration carries no X-Access-Key"
    return registered


def _weighings(count: int) -> list[dict[str, Any]]:
    return utko.sample_weight_controls(russian_faker(seed=count), count=count,
                                       ids=lambda: f"conformance-{uuid.uuid4().hex[:12]}")


def test_utko_a_weight_control_file_posted_again_stores_nothing_twice(
        gosstand_target: Target, esia_access_token: str, http: HttpxClient, weighed_object: utko.Registered) -> None:
    url = _url(gosstand_target, "utko")
    controls = _weighings(4)
    ids = [control["id"] for control in controls]
    first = utko.import_weight_controls(http, utko_url=url, object_id=weighed_object.id,
                                        access_key=weighed_object.access_key, controls=controls)
    assert (first.imported, first.skipped, first.rejected) == (ids, [], [])
    again = utko.import_weight_controls(http, utko_url=url, object_id=weighed_object.id,
                                        access_key=weighed_object.access_key, controls=controls)
    assert (again.imported, again.skipped) == ([], ids), "a re-posted file (a retry) must be skipped"
    held = [c["id"] for c in utko.weight_controls(http, utko_url=url, token=esia_access_token,
                                                  object_id=weighed_object.id) if c["id"] in ids]
    assert sorted(held) == sorted(ids)


def test_utko_a_partly_invalid_file_imports_the_rest_and_names_each_error(
        gosstand_target: Target, http: HttpxClient, weighed_object: utko.Registered) -> None:
    controls = _weighings(3)
    controls[1]["registrationNumber"] = "A123BC77"  # Latin look-alikes: not a Russian plate
    del controls[2]["dateBefore"]
    result = utko.import_weight_controls(http, utko_url=_url(gosstand_target, "utko"), object_id=weighed_object.id,
                                         access_key=weighed_object.access_key, controls=controls)
    assert result.imported == [controls[0]["id"]]
    rejected = {item["index"]: {e["pointer"] for e in item["errors"]} for item in result.rejected}
    assert rejected == {1: {"/weightControls/1/registrationNumber"}, 2: {"/weightControls/2/dateBefore"}}


def test_utko_a_wrong_access_key_is_refused_and_stores_nothing(
        gosstand_target: Target, esia_access_token: str, http: HttpxClient, weighed_object: utko.Registered) -> None:
    url = _url(gosstand_target, "utko")
    controls = _weighings(1)
    with pytest.raises(utko.UtkoError) as refused:
        utko.import_weight_controls(http, utko_url=url, object_id=weighed_object.id,
                                    access_key=weighed_object.access_key + "x", controls=controls)
    assert refused.value.status == 403 and refused.value.attempts == 1
    held = {c["id"] for c in utko.weight_controls(http, utko_url=url, token=esia_access_token,
                                                  object_id=weighed_object.id)}
    assert controls[0]["id"] not in held


# -- the stand's own fault rules and journal (targets with the gosstand control API) ---------------

def test_a_fault_rule_reaches_every_replica_and_the_journal_sees_them_all(
        gosstand_target: Target, gosstand_options: TargetOptions, gosstand_control: StackControl) -> None:
    """Set once through any replica, a rule is applied by all of them, and every replica writes
    the one journal; requests go out on fresh connections so they spread over the replicas."""
    fts = _url(gosstand_target, "fts")
    gosstand_control.record_requests("fts")
    since = max((entry["seq"] for entry in gosstand_control.recorded_requests("fts", limit=1)), default=0)
    rule = gosstand_control.add_fault("fts", kind="error", status=503, retry_after=7,
                                      path="/api/v1/declarations/*/status")
    try:
        probe = f"/api/v1/declarations/{uuid.uuid4()}/status"
        answers = [httpx.get(fts + probe, timeout=10.0) for _ in range(12)]
    finally:
        gosstand_control.remove_fault("fts", rule["id"])
    assert [(a.status_code, a.headers.get("retry-after"), a.headers.get("x-gosstand-fault")) for a in answers] == [
        (503, "7", rule["id"])] * 12
    replicas = {answer.headers["x-gosstand-replica"] for answer in answers}
    if gosstand_target.stack is not None:  # a stack the suite started: it knows how many replicas
        assert len(replicas) == gosstand_options.replicas, f"12 fresh connections reached only {replicas}"
    recorded = gosstand_control.recorded_requests("fts", path=probe, after=since)
    assert {entry["replica"] for entry in recorded} == replicas and len(recorded) == 12
    assert {entry["fault"] for entry in recorded} == {rule["id"]}
    assert httpx.get(fts + probe, timeout=10.0).status_code == 401, "the rule ends when removed"
    gosstand_control.record_requests("fts", on=False)
