"""The request journal: a test reads back what its system sent to the mocks, whichever replica
took each request — including the retries a fault provoked."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from fts_requests import DECLARATIONS, T0, declaration, token
from gosstand.mocks.core.clock import Clock
from gosstand.mocks.core.journal import Journal, Recorder
from gosstand.mocks.core.ring import Ring
from gosstand.mocks.core.store_sqlite import SQLiteStore
from gosstand.scenarios import declarations
from gosstand.scenarios.control import StackControl
from gosstand.scenarios.http import HttpxClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

JOURNAL = "/_gosstand/control/requests"


@pytest.fixture
def fts(frozen_service: Callable[..., TestClient]) -> TestClient:
    return frozen_service("fts", T0)


@pytest.fixture
def control(fts: TestClient, control_headers: dict[str, str]) -> StackControl:
    token = control_headers["Authorization"].removeprefix("Bearer ")
    return StackControl({"fts": "http://testserver"}, token, http=HttpxClient(client=fts))


def test_nothing_is_recorded_until_the_journal_is_switched_on(fts, control, control_headers):
    fts.get(DECLARATIONS)
    answer = fts.get(JOURNAL, headers=control_headers).json()
    assert answer["recording"] is False and answer["items"] == [] and answer["recorded"] == 0
    control.record_requests("fts")
    fts.get(DECLARATIONS)
    control.record_requests("fts", on=False)
    fts.get(DECLARATIONS)
    assert len(control.recorded_requests("fts")) == 1


def test_an_entry_shows_the_request_and_the_answer(fts, control):
    control.record_requests("fts")
    fts.post(f"{DECLARATIONS}?dryRun=1", json={"senderReference": "X"},
             headers={"Authorization": "Bearer not-a-real-token", "Idempotency-Key": "key-7"})
    fts.get("/_gosstand/health")  # the stand's own paths are not recorded
    (entry,) = control.recorded_requests("fts")
    assert (entry["method"], entry["path"], entry["query"], entry["replica"]) == (
        "POST", DECLARATIONS, "dryRun=1", "fts-1")
    assert entry["headers"]["idempotency-key"] == "key-7"
    assert entry["headers"]["authorization"] == "Bearer …-token"  # shortened, never whole
    assert entry["body"] == '{"senderReference":"X"}'
    assert entry["status"] == 401 and entry["answered"] is True
    assert entry["responseType"] == "application/problem+json" and '"status": 401' in entry["responseBody"]
    assert entry["fault"] is None and entry["seq"] == 1 and entry["durationMs"] >= 0


def test_every_replica_writes_one_journal_read_with_filters(service_client, fts, control):
    other = service_client("fts", replica="fts-2")
    control.record_requests("fts")
    fts.get(f"{DECLARATIONS}/a")
    other.post(DECLARATIONS, json={})
    other.get(f"{DECLARATIONS}/b/status")
    entries = control.recorded_requests("fts")
    assert [(e["replica"], e["method"], e["path"]) for e in entries] == [
        ("fts-1", "GET", f"{DECLARATIONS}/a"),
        ("fts-2", "POST", DECLARATIONS),
        ("fts-2", "GET", f"{DECLARATIONS}/b/status"),
    ]
    assert [e["seq"] for e in control.recorded_requests("fts", method="get")] == [1, 3]
    assert [e["seq"] for e in control.recorded_requests("fts", path=f"{DECLARATIONS}/*/status")] == [3]
    assert [e["seq"] for e in control.recorded_requests("fts", after=1, limit=1)] == [3]
    assert control.recorded_requests("fts", status=500) == []


def test_the_retries_a_fault_provoked_are_there_to_count(fts, control, esia_signing_keys):
    control.record_requests("fts")
    rule = control.add_fault("fts", kind="error", status=503, retry_after=1, times=1, methods=["POST"])
    submitted = declarations.submit(
        HttpxClient(client=fts), fts_url="http://testserver", token=token(esia_signing_keys),
        declaration=declaration(), idempotency_key="key-retry", attempts=3, sleep=lambda _: None,
    )
    posts = control.recorded_requests("fts", method="POST", path=DECLARATIONS)
    assert [(e["status"], e["fault"]) for e in posts] == [(503, rule["id"]), (201, None)]
    assert {e["headers"]["idempotency-key"] for e in posts} == {"key-retry"}
    assert submitted.id in posts[1]["responseBody"]


def test_bad_queries_and_switches_are_refused(fts, control_headers):
    for query in ("limit=0", "limit=1001", "status=abc", "after=-1", "limit=²", "after=²"):  # ² passes isdigit
        answer = fts.get(f"{JOURNAL}?{query}", headers=control_headers)
        assert answer.status_code == 400 and answer.headers["content-type"] == "application/problem+json", query
    for body in ({"record": "yes"}, {}, {"record": True, "also": 1}, [True]):
        assert fts.post(JOURNAL, json=body, headers=control_headers).status_code == 422, body
    assert fts.get(JOURNAL).status_code == 401  # the control token guards it


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.dictionaries(st.sampled_from(["limit", "status", "after", "method", "path"]),
                              st.text(max_size=12), max_size=5))
def test_any_query_is_answered_or_refused_never_a_server_error(fts, control_headers, params):
    assert fts.get(JOURNAL, params=params, headers=control_headers).status_code in (200, 400)


def test_the_ring_keeps_the_newest_entries_and_numbering_goes_on(tmp_path: Path):
    async def scenario() -> tuple[list[int], list[int], list[int]]:
        store = SQLiteStore(str(tmp_path / "ring.sqlite3"))
        ring = Ring(store, "test", capacity=5)
        for number in range(12):
            await ring.append({"n": number})
        kept, last = await ring.newest(10)
        evens, _ = await ring.newest(10, lambda entry: entry["n"] % 2 == 0, after=8)
        await ring.clear()
        cleared, _ = await ring.newest(10)
        await ring.append({"n": 12})
        after_clear, _ = await ring.newest(10)
        await store.close()
        assert last == 12 and cleared == []
        return [e["seq"] for e in kept], [e["n"] for e in evens], [e["seq"] for e in after_clear]

    kept, evens, after_clear = asyncio.run(scenario())
    assert kept == [8, 9, 10, 11, 12] and evens == [8, 10] and after_clear == [13]


def test_each_entry_names_its_route_and_unmatched_ones_their_near_misses(fts, control):
    control.record_requests("fts")
    fts.get(f"{DECLARATIONS}/1f0e6a52-0000-4000-8000-000000000001/status")
    fts.post("/api/v1/declaration", json={})  # a typo: no such route
    fts.delete(DECLARATIONS)  # the path is a route; the method is not (405)
    status, typo, wrong_method = control.recorded_requests("fts")
    assert status["route"] == "/api/v1/declarations/{id}/status"
    assert (typo["route"], typo["status"]) == (None, 404)
    assert (wrong_method["route"], wrong_method["status"]) == (DECLARATIONS, 405)  # matched: only the method is wrong
    (unmatched,) = control.unmatched_requests("fts")
    assert unmatched["path"] == "/api/v1/declaration"
    best = unmatched["nearMisses"][0]
    assert best["route"] == DECLARATIONS and "POST" in best["methods"] and best["similarity"] > 0.9


def test_verify_passes_on_what_came_and_says_what_came_instead(fts, control):
    from gosstand.scenarios.control import RequestVerificationError

    control.record_requests("fts")
    fts.get(DECLARATIONS)
    fts.post("/api/v1/declaration", json={})
    assert len(control.verify("fts", "GET", DECLARATIONS, times=1)) == 1
    assert control.verify("fts", "GET", "/api/v1/declar*")  # a glob, at least once
    with pytest.raises(RequestVerificationError) as missed:
        control.verify("fts", "POST", DECLARATIONS, times=1)
    said = str(missed.value)
    assert f"fts received POST {DECLARATIONS} 0 time(s), expected 1 time(s)" in said
    assert f"the same path with another method: GET {DECLARATIONS} → 401" in said
    assert f"unmatched: POST /api/v1/declaration → 404; near misses: {DECLARATIONS} (GET HEAD POST)" in said
    with pytest.raises(AssertionError):  # a plain assert in a test's eyes
        control.verify("fts", "GET", DECLARATIONS, status=200)


def test_near_misses_rank_by_likeness_and_leave_out_the_unalike():
    from gosstand.mocks.core.near_misses import near_misses
    from starlette.routing import Route

    def endpoint(request):  # pragma: no cover - never called
        raise AssertionError

    routes = [Route("/v1/objects", endpoint, methods=["GET", "POST"]),
              Route("/v1/objects/{id}", endpoint, methods=["GET", "PUT", "DELETE"]),
              Route("/v1/requests", endpoint, methods=["GET"])]
    found = near_misses("PUT", "/v1/object/6f1c2b1e-8d7a-4c1e-9b3a-2f1d0c9e8b7a", routes)
    assert [m["route"] for m in found][:1] == ["/v1/objects/{id}"]  # the id counts as a parameter
    assert near_misses("GET", "/metrics", routes) == []
    assert [m["route"] for m in near_misses("GET", "/v1/object", routes)][:1] == ["/v1/objects"]


def test_a_404_for_a_path_no_route_takes_names_the_near_misses(fts, esia_signing_keys):
    answer = fts.post("/api/v1/declaration", json={})
    assert answer.status_code == 404 and answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["nearMisses"][0]["route"] == DECLARATIONS and "POST" in body["nearMisses"][0]["methods"]
    assert body["detail"] == "no route takes POST /api/v1/declaration; see nearMisses"
    unknown = fts.get(f"{DECLARATIONS}/no-such-id", headers={"Authorization": f"Bearer {token(esia_signing_keys)}"})
    assert unknown.status_code == 404 and "nearMisses" not in unknown.json()  # a route took it: no hints
    assert "nearMisses" not in fts.get("/robots.txt").json()  # nothing alike (/metrics is served now)


def _recorded(tmp_path: Path, messages: list[dict]) -> tuple[list[dict], dict]:
    """What an app behind the recorder reads of a POST whose body arrives as ``messages``, and
    the journal entry made of it."""
    async def scenario() -> tuple[list[dict], dict]:
        store = SQLiteStore(str(tmp_path / "store.sqlite3"))
        journal = Journal(store, Clock(store))
        await journal.switch(True)
        pending, seen = list(messages), []

        async def receive() -> dict:
            return pending.pop(0) if pending else {"type": "http.disconnect"}

        async def app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
            while True:
                message = await receive()
                seen.append(message)
                if message["type"] != "http.request" or not message.get("more_body"):
                    break
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        async def send(message: dict) -> None:
            pass

        scope = {"type": "http", "method": "POST", "path": "/api/v1/declarations", "query_string": b"",
                 "headers": []}
        await Recorder(app, journal=journal, replica="fts-1")(scope, receive, send)
        (entry,) = (await journal.find(limit=1))["items"]
        await store.close()
        return seen, entry

    return asyncio.run(scenario())


def test_the_journal_reads_ahead_only_what_it_keeps_and_hands_on_the_rest_as_it_comes(tmp_path):
    pieces = [bytes([65 + i]) * 10_000 for i in range(5)]
    messages = [{"type": "http.request", "body": piece, "more_body": i < 4} for i, piece in enumerate(pieces)]
    seen, entry = _recorded(tmp_path, messages)
    assert b"".join(message["body"] for message in seen) == b"".join(pieces)
    assert len(seen) == 4 and len(seen[0]["body"]) == 20_000  # the two read ahead, then the rest one by one
    assert entry["body"] == ("A" * 4096) and entry["status"] == 204


def test_a_body_cut_short_while_the_journal_reads_ahead_stays_cut_short(tmp_path):
    seen, entry = _recorded(tmp_path, [{"type": "http.request", "body": b'{"senderRef', "more_body": True},
                                       {"type": "http.disconnect"}])
    assert seen == [{"type": "http.request", "body": b'{"senderRef', "more_body": True}, {"type": "http.disconnect"}]
    assert entry["body"] == '{"senderRef'
