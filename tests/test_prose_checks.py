"""The conformance suite's own schemathesis checks (``conformance/checks.py``): each rule breaks on
an answer that breaks it, holds on one that keeps it, and judges nothing it does not apply to;
then every rule holds on real answers of the mocks."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fts_requests
import httpx
import pytest
import requests
import respx
import schemathesis
import utko_inputs
from gosstand.conformance import checks
from gosstand.mocks.core.keys import ensure_signing_keys
from gosstand.stand.inprocess import InProcessStack
from schemathesis.core.failures import FailureGroup

CONTRACTS = Path(__file__).resolve().parent.parent / "mocks"
OBJECT_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
HELD, NOT_JUDGED = "held", "not judged"


@pytest.fixture(scope="module")
def contracts() -> dict[str, schemathesis.BaseSchema]:
    return {service: schemathesis.openapi.from_path(str(CONTRACTS / service / "openapi.yaml"))
            for service in ("esia", "utko", "fts")}


def case_of(contracts: dict[str, Any], service: str, method: str, path: str, **parts: Any) -> schemathesis.Case:
    return contracts[service][path][method].Case(**parts)


def answer(status: int, body: Any = None, *, headers: dict[str, str] | None = None, method: str = "GET",
           url: str = "https://utko.example.test/v1/objects", sent: Any = None,
           sent_headers: dict[str, str] | None = None) -> schemathesis.Response:
    """A crafted answer to a crafted request (``sent`` a JSON body, or raw bytes)."""
    content = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
    media = {"content-type": "application/problem+json" if status >= 400 else "application/json"}
    request = requests.Request(method, url, headers=sent_headers or {},
                               json=sent if not isinstance(sent, bytes) else None,
                               data=sent if isinstance(sent, bytes) else None).prepare()
    return schemathesis.Response(status, {k.lower(): [v] for k, v in {**media, **(headers or {})}.items()},
                                 content, request, 0.0, True)


def verdict(check: Callable[..., bool | None], case: schemathesis.Case, response: schemathesis.Response) -> str:
    """``held``, ``not judged`` or what the rule says broke (the rules do not read the context)."""
    try:
        skipped = check(None, response, case)
    except AssertionError as broken:
        return str(broken)
    return NOT_JUDGED if skipped else HELD


def problem(status: int, **members: Any) -> dict[str, Any]:
    return {"type": "about:blank", "title": "t", "status": status, **members}


# -- ETag on every UTKO object answer -------------------------------------------------------------

def test_an_object_answer_without_an_entity_tag_breaks_the_etag_rule(contracts: dict[str, Any]) -> None:
    read = case_of(contracts, "utko", "GET", "/v1/objects/{id}", path_parameters={"id": OBJECT_ID})
    rule = checks.utko_object_answers_carry_an_etag
    assert "carries no ETag" in verdict(rule, read, answer(200, {"id": OBJECT_ID}))
    assert "not an entity tag" in verdict(rule, read, answer(200, {"id": OBJECT_ID}, headers={"ETag": "v1"}))
    assert verdict(rule, read, answer(200, {"id": OBJECT_ID}, headers={"ETag": '"v1"'})) == HELD
    listing = case_of(contracts, "utko", "GET", "/v1/objects")
    assert verdict(rule, listing, answer(200, {"items": [], "total": 0, "limit": 20})) == NOT_JUDGED
    assert verdict(rule, read, answer(404, problem(404))) == NOT_JUDGED


# -- Retry-After on every 429 and 503 -------------------------------------------------------------

@pytest.mark.parametrize("status", [429, 503])
def test_a_throttled_answer_must_say_when_to_retry(contracts: dict[str, Any], status: int) -> None:
    listing = case_of(contracts, "fts", "GET", "/api/v1/declarations")
    rule = checks.throttled_answers_carry_retry_after
    assert "without Retry-After" in verdict(rule, listing, answer(status, problem(status)))
    assert "neither seconds nor an HTTP date" in verdict(
        rule, listing, answer(status, problem(status), headers={"Retry-After": "soon"}))
    for value in ("30", "Wed, 20 May 2026 09:00:30 GMT"):
        assert verdict(rule, listing, answer(status, problem(status), headers={"Retry-After": value})) == HELD
    assert verdict(rule, listing, answer(500, problem(500))) == NOT_JUDGED


# -- a problem document on every 4xx --------------------------------------------------------------

def test_a_client_error_must_be_a_problem_document_of_its_own_status(contracts: dict[str, Any]) -> None:
    read = case_of(contracts, "fts", "GET", "/api/v1/declarations/{id}", path_parameters={"id": OBJECT_ID})
    rule = checks.client_errors_are_problem_documents
    assert "answered as application/json" in verdict(
        rule, read, answer(404, problem(404), headers={"Content-Type": "application/json"}))
    assert "says status 400 in a 404" in verdict(rule, read, answer(404, problem(400)))
    assert "no 'title'" in verdict(rule, read, answer(404, {"type": "about:blank", "status": 404}))
    assert verdict(rule, read, answer(404, problem(404, detail="no declaration has this id"))) == HELD
    assert verdict(rule, read, answer(200, {"id": OBJECT_ID})) == NOT_JUDGED


def test_esia_keeps_its_own_error_format(contracts: dict[str, Any]) -> None:
    token = case_of(contracts, "esia", "POST", "/aas/oauth2/te")
    error = answer(400, {"error": "invalid_grant"}, headers={"Content-Type": "application/json"})
    assert verdict(checks.client_errors_are_problem_documents, token, error) == NOT_JUDGED
    assert verdict(checks.field_errors_point_into_the_request, token, error) == NOT_JUDGED


# -- field errors with JSON pointers into the request ---------------------------------------------

def test_field_errors_must_point_into_the_body_sent(contracts: dict[str, Any]) -> None:
    create = case_of(contracts, "fts", "POST", "/api/v1/declarations")
    rule = checks.field_errors_point_into_the_request
    sent = fts_requests.declaration()

    def refused(*errors: dict[str, Any], status: int = 422) -> schemathesis.Response:
        members = {"errors": list(errors)} if errors else {}
        return answer(status, problem(status, **members), method="POST",
                      url="https://fts.example.test/api/v1/declarations", sent=sent)

    assert "a 422 that lists no errors" in verdict(rule, create, refused())
    assert "says no place" in verdict(rule, create, refused({"detail": "wrong"}))
    assert "is not a JSON pointer" in verdict(rule, create, refused({"pointer": "goods/0/tnved", "detail": "x"}))
    assert "leads nowhere" in verdict(rule, create, refused({"pointer": "/goods/3/tnved", "detail": "x"}))
    assert verdict(rule, create, refused({"pointer": "/goods/0/tnved", "detail": "x"})) == HELD
    assert verdict(rule, create, refused({"pointer": "/goods/0/missing", "detail": "required"})) == HELD
    assert verdict(rule, create, refused({"parameter": "cursor", "detail": "x"}, status=400)) == HELD
    assert verdict(rule, create, refused(status=409)) == HELD, "only a 422 must list errors"


def test_pointers_into_a_file_are_not_resolved_against_the_form(contracts: dict[str, Any]) -> None:
    upload = case_of(contracts, "utko", "POST", utko_inputs.IMPORT)
    refused = answer(422, problem(422, errors=[{"pointer": "/weightControls/0/id", "detail": "required"}]),
                     method="POST", url="https://utko.example.test" + utko_inputs.IMPORT, sent=b"--boundary--",
                     sent_headers={"Content-Type": "multipart/form-data; boundary=boundary"})
    assert verdict(checks.field_errors_point_into_the_request, upload, refused) == HELD


# -- Idempotent-Replayed on a replayed create -----------------------------------------------------

FTS_CREATE = "https://fts.example.test/api/v1/declarations"


@pytest.fixture
def first_create() -> schemathesis.Response:
    return answer(201, {"id": OBJECT_ID}, headers={"Location": f"/api/v1/declarations/{OBJECT_ID}"},
                  method="POST", url=FTS_CREATE, sent=fts_requests.declaration(),
                  sent_headers={"Idempotency-Key": "k-1", "Authorization": "Bearer t"})


@pytest.mark.parametrize(("status", "headers", "body", "broken"), [
    (201, {}, {"id": OBJECT_ID}, "no Idempotent-Replayed: true"),
    (201, {"Idempotent-Replayed": "true"}, {"id": "another"}, "filed another resource"),
    (409, {}, problem(409), "was answered 409"),
])
def test_a_create_sent_again_must_be_answered_as_a_marked_replay(
        contracts: dict[str, Any], first_create: schemathesis.Response,
        status: int, headers: dict[str, str], body: Any, broken: str) -> None:
    create = case_of(contracts, "fts", "POST", "/api/v1/declarations")
    with respx.mock(assert_all_called=True) as router:
        resend = router.post(FTS_CREATE).respond(status, json=body, headers=headers)
        assert broken in verdict(checks.replayed_creates_are_marked, create, first_create)
    sent_again = resend.calls.last.request
    assert (sent_again.headers["idempotency-key"], json.loads(sent_again.content)) == (
        "k-1", fts_requests.declaration()), "the retry is the same request"


def test_a_marked_replay_of_the_same_resource_keeps_the_rule(
        contracts: dict[str, Any], first_create: schemathesis.Response) -> None:
    create = case_of(contracts, "fts", "POST", "/api/v1/declarations")
    with respx.mock() as router:
        router.post(FTS_CREATE).respond(201, json={"id": OBJECT_ID}, headers={"Idempotent-Replayed": "true"})
        assert verdict(checks.replayed_creates_are_marked, create, first_create) == HELD
    keyless = answer(201, {"id": OBJECT_ID}, method="POST", url=FTS_CREATE, sent={})
    assert verdict(checks.replayed_creates_are_marked, create, keyless) == NOT_JUDGED, "nothing to replay"


# -- Location on a 201 ----------------------------------------------------------------------------

def test_a_create_must_name_what_it_created_in_location(contracts: dict[str, Any]) -> None:
    create = case_of(contracts, "utko", "POST", "/v1/objects")
    rule = checks.created_answers_carry_a_location
    assert "201 without Location" in verdict(rule, create, answer(201, {"id": OBJECT_ID}, method="POST"))
    assert "does not name" in verdict(
        rule, create, answer(201, {"id": OBJECT_ID}, method="POST", headers={"Location": "/v1/objects/other"}))
    assert verdict(rule, create, answer(201, {"id": OBJECT_ID}, method="POST",
                                        headers={"Location": f"/v1/objects/{OBJECT_ID}"})) == HELD
    upload = case_of(contracts, "fts", "POST", "/api/v1/declarations/{id}/documents",
                     path_parameters={"id": OBJECT_ID})
    assert verdict(rule, upload, answer(201, {"id": OBJECT_ID}, method="POST")) == NOT_JUDGED, (
        "the contract names no Location for a document")


def test_schemathesis_reports_a_broken_rule_by_its_name(contracts: dict[str, Any]) -> None:
    read = case_of(contracts, "utko", "GET", "/v1/objects/{id}", path_parameters={"id": OBJECT_ID})
    with pytest.raises(FailureGroup) as failed:
        read.validate_response(answer(200, {"id": OBJECT_ID}), checks=list(checks.PROSE_CHECKS))
    assert "utko_object_answers_carry_an_etag" in str(failed.value)
    assert "carries no ETag" in str(failed.value)


# -- every rule holds on the mocks ----------------------------------------------------------------

@pytest.fixture
def stack() -> Iterator[InProcessStack]:
    with InProcessStack() as running:
        yield running


def test_every_rule_holds_on_real_answers_of_the_mocks(contracts: dict[str, Any], stack: InProcessStack) -> None:
    """Real UTKO and FTS answers of each kind a rule judges: each rule judges at least one and
    every one holds."""
    assert stack.state_dir is not None
    keys = ensure_signing_keys(stack.state_dir / "esia-keys")
    now = time.time()
    fts_auth = {"Authorization": f"Bearer {fts_requests.token(keys, now=now)}"}
    utko_auth = utko_inputs.bearer(keys, now=now)
    utko, fts = stack.urls["utko"], stack.urls["fts"]
    control = {"Authorization": f"Bearer {stack.control_token}"}
    exchanges: list[tuple[schemathesis.Case, httpx.Response]] = []

    def send(service: str, method: str, path: str, url: str, **options: Any) -> httpx.Response:
        response = httpx.request(method, url, **options)
        exchanges.append((case_of(contracts, service, method, path), response))
        return response

    created = send("utko", "POST", "/v1/objects", f"{utko}/v1/objects", json=utko_inputs.OBJECT, headers=utko_auth)
    object_url = f"{utko}/v1/objects/{created.json()['id']}"
    send("utko", "GET", "/v1/objects/{id}", object_url, headers=utko_auth)
    send("utko", "PUT", "/v1/objects/{id}", object_url, json=utko_inputs.OBJECT, headers=utko_auth)  # 428
    send("utko", "POST", "/v1/objects", f"{utko}/v1/objects", headers=utko_auth,
         json={**utko_inputs.OBJECT, "operator": {"inn": "7707083894", "kpp": "x"}, "coordinates": {"lat": 99}})
    send("fts", "POST", "/api/v1/declarations", f"{fts}/api/v1/declarations", json=fts_requests.declaration(),
         headers={**fts_auth, "Idempotency-Key": str(uuid.uuid4())})
    for status, kind in ((429, {"kind": "quota", "limit": 0}), (503, {"kind": "error", "status": 503,
                                                                      "retry_after": 5})):
        httpx.post(f"{fts}/_gosstand/control/faults", json={**kind, "path": "/api/v1/events"},
                   headers=control).raise_for_status()
        faulted = send("fts", "GET", "/api/v1/events", f"{fts}/api/v1/events?inn=7707083893", headers=fts_auth)
        assert faulted.status_code == status, faulted.text
        httpx.delete(f"{fts}/_gosstand/control/faults", headers=control).raise_for_status()

    judged: dict[str, int] = {check.__name__: 0 for check in checks.PROSE_CHECKS}
    for case, response in exchanges:
        for check in checks.PROSE_CHECKS:
            outcome = verdict(check, case, schemathesis.Response.from_any(response))
            assert outcome in (HELD, NOT_JUDGED), f"{check.__name__} on {case.operation.label}: {outcome}"
            judged[check.__name__] += outcome == HELD
    assert all(judged.values()), judged
