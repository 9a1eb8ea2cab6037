"""Fault rules through the control API: what a QA engineer relies on when they make a mock fail
on purpose — the answer's status and Retry-After, the scope, the seeded choice of requests, the
quota shared by replicas, the latency, and a lost answer whose retry must not file twice."""

from __future__ import annotations

import asyncio
import email.utils
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fts_requests import DECLARATIONS, T0, declaration, token
from gosstand.loadtests.failover import inject, remove
from gosstand.loadtests.schedule import RunShape, ScheduleError, parse_schedule
from gosstand.mocks.core.clock import Clock
from gosstand.mocks.core.faults import FaultBook, Faults
from gosstand.mocks.core.keys import ensure_signing_keys
from gosstand.mocks.core.store_sqlite import SQLiteStore
from gosstand.scenarios import declarations
from gosstand.scenarios.http import HttpxClient
from gosstand.stand.manifest import StackManifest
from gosstand.stand.stack import EmbeddedStack
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

FAULTS = "/_gosstand/control/faults"


@pytest.fixture
def control(control_headers: dict[str, str]) -> Callable[..., httpx.Response]:
    def call(client: TestClient, method: str, path: str = FAULTS, **kwargs: object) -> httpx.Response:
        return client.request(method, path, headers=control_headers, **kwargs)

    return call


@pytest.fixture
def fts(frozen_service: Callable[..., TestClient]) -> TestClient:
    return frozen_service("fts", T0)


def add(control, client: TestClient, **rule: object) -> dict:
    answer = control(client, "POST", json=rule)
    assert answer.status_code == 201, answer.text
    return answer.json()


def advance(control, client: TestClient, seconds: float) -> None:
    control(client, "POST", "/_gosstand/control/clock", json={"advance": seconds}).raise_for_status()


def test_an_outage_answers_503_saying_when_it_ends_and_then_ends(fts, control):
    rule = add(control, fts, kind="error", status=503, ttl=120, path="/api/v1/*")
    assert rule["id"] == "f-1" and rule["expires"] == T0 + 120
    answer = fts.get(f"{DECLARATIONS}/some-id")
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == "120"
    assert answer.headers["x-gosstand-fault"] == "f-1" and answer.headers["x-gosstand-replica"] == "fts-1"
    assert answer.json()["fault"] == "f-1" and answer.json()["status"] == 503
    # the stand itself stays reachable: health and the control API are never faulted
    assert fts.get("/_gosstand/health").status_code == 200
    advance(control, fts, 100)
    assert fts.get(f"{DECLARATIONS}/some-id").headers["retry-after"] == "20"
    advance(control, fts, 20)
    after = fts.get(f"{DECLARATIONS}/some-id")
    assert after.status_code == 401 and "x-gosstand-fault" not in after.headers  # the app's own answer
    (described,) = control(fts, "GET").json()["faults"]
    assert (described["matched"], described["hit"], described["active"]) == (2, 2, False)


def test_retry_after_can_be_an_http_date(fts, control):
    add(control, fts, kind="error", status=429, retry_after=30, retry_after_form="http-date")
    header = fts.get(DECLARATIONS).headers["retry-after"]
    assert email.utils.parsedate_to_datetime(header).timestamp() == T0 + 30


def test_rules_are_scoped_by_method_path_and_replica(service_client, fts, control):
    other = service_client("fts", replica="fts-2")  # the same store: another replica of FTS
    add(control, fts, kind="error", status=500, methods=["post"], path=DECLARATIONS, replica="fts-2")
    assert other.post(DECLARATIONS, json={}).status_code == 500
    assert fts.post(DECLARATIONS, json={}).status_code == 401  # not on fts-1
    assert other.get(DECLARATIONS).status_code == 401  # not for GET
    assert other.post(f"{DECLARATIONS}/x/withdrawal", json={}).status_code in (401, 404, 405)


def test_times_caps_the_hits_and_the_client_retry_files_once(fts, control, esia_signing_keys):
    add(control, fts, kind="error", status=503, retry_after=2, times=2, methods=["POST"], path=DECLARATIONS)
    waits: list[float] = []
    submitted = declarations.submit(
        HttpxClient(client=fts), fts_url="http://testserver", token=token(esia_signing_keys),
        declaration=declaration(), idempotency_key="key-times", attempts=3, sleep=waits.append,
    )
    assert submitted.attempts == 3 and waits == [2.0, 2.0]
    (described,) = control(fts, "GET").json()["faults"]
    assert (described["hit"], described["active"]) == (2, False)
    assert fts.post(DECLARATIONS, json={}).status_code == 401  # spent: the app answers again


def test_a_quota_is_shared_by_replicas_and_says_when_its_window_ends(service_client, fts, control):
    other = service_client("fts", replica="fts-2")
    add(control, fts, kind="quota", limit=3, window=60, path=DECLARATIONS)
    statuses = [client.get(DECLARATIONS).status_code for client in (fts, other, fts)]
    assert statuses == [401, 401, 401]
    refused = other.get(DECLARATIONS)
    assert refused.status_code == 429 and refused.headers["retry-after"] == "60"
    advance(control, fts, 45)
    assert fts.get(DECLARATIONS).headers["retry-after"] == "15"
    advance(control, fts, 15)  # a new window
    assert fts.get(DECLARATIONS).status_code == 401


def test_a_quota_per_token_counts_each_caller_apart(fts, control):
    add(control, fts, kind="quota", limit=2, window=60, per="token", path=DECLARATIONS)
    alice, bob = ({"Authorization": f"Bearer {name}"} for name in ("token-alice", "token-bob"))
    assert [fts.get(DECLARATIONS, headers=alice).status_code for _ in range(3)] == [401, 401, 429]
    assert [fts.get(DECLARATIONS, headers=bob).status_code for _ in range(3)] == [401, 401, 429]
    assert [fts.get(DECLARATIONS).status_code for _ in range(3)] == [401, 401, 429]  # the tokenless share one


def test_a_quota_per_address_counts_a_client_whatever_token_it_sends(fts, control):
    add(control, fts, kind="quota", limit=2, window=60, per="address", path=DECLARATIONS)
    tokens = [{"Authorization": f"Bearer token-{n}"} for n in range(3)]
    assert [fts.get(DECLARATIONS, headers=t).status_code for t in tokens] == [401, 401, 429]


def _faulted_numbers(fts, control, seed: int, requests: int = 200) -> list[int]:
    control(fts, "DELETE").raise_for_status()
    add(control, fts, kind="error", status=502, probability=0.3, seed=seed)
    return [n for n in range(requests) if fts.get(DECLARATIONS).status_code == 502]


def test_a_probability_picks_the_same_requests_for_the_same_seed(fts, control):
    first = _faulted_numbers(fts, control, seed=7)
    assert _faulted_numbers(fts, control, seed=7) == first
    assert _faulted_numbers(fts, control, seed=8) != first
    assert 30 <= len(first) <= 90  # 0.3 of 200, within five standard deviations


def test_bad_rules_are_422_naming_each_field_and_spend_no_id(fts, control, control_headers):
    answer = control(fts, "POST", json={"kind": "latency", "probability": 1.5, "status": 500, "colour": "red"})
    assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"
    pointers = {error["pointer"] for error in answer.json()["errors"]}
    assert pointers == {"/delay_ms", "/probability", "/status", "/colour"}
    assert control(fts, "POST", json=["not", "an", "object"]).status_code == 422
    raw_nan = fts.post(FAULTS, content=b'{"kind": "latency", "delay_ms": NaN}',
                       headers={**control_headers, "Content-Type": "application/json"})
    assert raw_nan.status_code == 400 and "NaN is not a JSON number" in raw_nan.json()["detail"]  # not JSON at all
    assert control(fts, "POST", json={"kind": "quota"}).json()["errors"] == [
        {"pointer": "/limit", "detail": "required for a quota rule"}
    ]
    assert add(control, fts, kind="drop")["id"] == "f-1"
    assert control(fts, "DELETE", f"{FAULTS}/f-9").status_code == 404
    assert control(fts, "DELETE", f"{FAULTS}/f-1").status_code == 204
    assert control(fts, "GET").json() == {"faults": []}


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
_FIELDS = st.sampled_from(["kind", "path", "methods", "replica", "probability", "seed", "times", "ttl",
                           "delay_ms", "jitter_ms", "status", "retry_after", "retry_after_form", "limit",
                           "window", "phase"])
_KINDS = st.sampled_from(["latency", "error", "quota", "drop", "LATENCY", ""])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.dictionaries(_FIELDS, _JSON, max_size=6), kind=_KINDS)
def test_any_rule_body_is_accepted_or_refused_never_a_server_error(fts, control, body, kind):
    body = {"kind": kind, **body} if "kind" not in body else body
    answer = control(fts, "POST", json=body)
    assert answer.status_code in (201, 422), answer.text
    if answer.status_code == 201:
        control(fts, "DELETE").raise_for_status()


def test_latency_rules_add_their_delays_before_the_app_answers(tmp_path: Path):
    async def scenario() -> tuple[list[float], httpx.Response, httpx.Response]:
        store = SQLiteStore(str(tmp_path / "store.sqlite3"))
        book = FaultBook(store, Clock(store))
        await book.add({"kind": "latency", "delay_ms": 100})
        await book.add({"kind": "latency", "delay_ms": 50, "jitter_ms": 20, "seed": 3, "path": "/slow*"})
        slept: list[float] = []

        async def sleep(seconds: float) -> None:
            slept.append(seconds)

        async def app(scope, receive, send) -> None:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})

        faults = Faults(app, book=book, replica="x-1", sleep=sleep)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=faults), base_url="http://t") as client:
            slow = await client.get("/slower")
            plain = await client.get("/other")
        await store.close()
        return slept, slow, plain

    slept, slow, plain = asyncio.run(scenario())
    assert slow.text == "ok" and slow.headers["x-gosstand-fault"] == "f-1,f-2"
    assert plain.headers["x-gosstand-fault"] == "f-1"
    assert 0.130 <= slept[0] <= 0.170 and slept[1] == pytest.approx(0.100)


# -- through the real HTTP server: a dropped connection ----------------------------------------

@pytest.fixture(scope="module")
def stack() -> Iterator[EmbeddedStack]:
    with EmbeddedStack(services=("fts",), replicas=1).start() as running:
        yield running


@pytest.mark.stack
def test_a_drop_cuts_the_answer_and_a_lost_answer_is_not_filed_twice(stack):
    fts_url = stack.urls["fts"]
    control = httpx.Client(base_url=fts_url, headers={"Authorization": f"Bearer {stack.control_token}"})
    assert stack.state_dir is not None
    bearer = token(ensure_signing_keys(stack.state_dir / "esia-keys"), now=time.time())
    control.post("/_gosstand/control/requests", json={"record": True}).raise_for_status()
    control.post(FAULTS, json={"kind": "drop", "path": "/api/v1/declarations/*", "times": 1}).raise_for_status()
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(f"{fts_url}{DECLARATIONS}/anything")
    # the submission is stored, but its answer never arrives; the retry carries the same key
    control.post(FAULTS, json={"kind": "drop", "phase": "after", "methods": ["POST"], "path": DECLARATIONS,
                               "times": 1}).raise_for_status()
    failures: list[float] = []
    body = declaration()
    submitted = declarations.submit(HttpxClient(), fts_url=fts_url, token=bearer, declaration=body,
                                    idempotency_key=str(uuid.uuid4()), attempts=2, sleep=failures.append)
    assert submitted.attempts == 2 and submitted.replayed and len(failures) == 1
    listed = declarations.list_declarations(
        HttpxClient(), fts_url=fts_url, token=bearer, inn=body["declarant"]["inn"], kpp=body["declarant"]["kpp"]
    )
    assert [item["id"] for item in listed] == [submitted.id]
    # the journal shows what the client could not: the first submission was stored (201), its
    # answer cut short; the retry was answered whole
    journal = control.get("/_gosstand/control/requests", params={"method": "POST"}).json()["items"]
    assert [(e["status"], e["answered"], e["fault"]) for e in journal] == [(201, False, "f-2"), (201, True, None)]
    # a cut answer still names its replica, once, and the rule that cut it
    control.post(FAULTS, json={"kind": "drop", "phase": "after", "times": 1}).raise_for_status()
    with httpx.stream("GET", f"{fts_url}{DECLARATIONS}/{submitted.id}/status",
                      headers={"Authorization": f"Bearer {bearer}"}) as cut:
        assert cut.status_code == 200 and cut.headers.get_list("x-gosstand-replica") == ["fts-1"]
        assert cut.headers["x-gosstand-fault"] == "f-3"
        with pytest.raises(httpx.RemoteProtocolError):
            cut.read()


# -- set from a load run's failover schedule --------------------------------------------------------

SHAPE = RunShape(duration_s=120, replicas={"fts": 2})


def scheduled(**fields):
    (action,) = parse_schedule({"actions": [{"at": 3, "service": "fts", **fields}]}, SHAPE)
    return action


@pytest.mark.parametrize(("fields", "said"), [
    ({"action": "fault", "duration": 5}, "entry 1, fault: a fault action needs its rule"),
    ({"action": "kill", "replica": 1, "fault": {"kind": "drop"}}, "entry 1, fault: not a field of a kill action"),
    ({"action": "fault", "duration": 5, "fault": {"kind": "latency"}}, "entry 1, fault.delay_ms: required"),
    ({"action": "fault", "duration": 5, "fault": {"kind": "error", "status": 200}}, "fault.status: must be ≥ 400"),
    ({"action": "fault", "duration": 0, "fault": {"kind": "drop"}}, "entry 1, duration: 0: expected seconds > 0"),
    ({"action": "fault", "replica": 0, "duration": 5, "fault": {"kind": "drop"}}, "fts has 2 replica"),
    ({"action": "fault", "fault": {"kind": "drop"}}, "entry 1, duration: a fault needs its duration"),
])
def test_a_bad_fault_in_a_schedule_fails_before_the_load(fields, said):
    with pytest.raises(ScheduleError, match=said):
        scheduled(**fields)


def test_a_fault_too_late_for_its_recovery_names_a_duration_that_fits():
    """A share of the run moves with --duration: the duration named must be one the same
    schedule passes at (the weighing morning's latency at 67 % for 5 s: 45.5 s, not 45.15)."""
    fault = {"at": "67%", "service": "utko", "action": "fault", "duration": 5,
             "fault": {"kind": "latency", "delay_ms": 300}}
    shape = RunShape(duration_s=45, replicas={"utko": 2}, healthy_window_s=10)
    with pytest.raises(ScheduleError, match=r"lengthen --duration to at least 45\.5 s") as refused:
        parse_schedule({"actions": [fault]}, shape)
    assert "the fault ends at 35.15 s" in str(refused.value)
    (fits,) = parse_schedule({"actions": [fault]}, RunShape(duration_s=45.5, replicas={"utko": 2}, healthy_window_s=10))
    assert fits.at == pytest.approx(30.485)
    with pytest.raises(ScheduleError, match=r"lengthen --duration to at least 18 s"):  # seconds stay where they are
        parse_schedule({"actions": [{**fault, "at": 3}]},
                       RunShape(duration_s=17, replicas={"utko": 2}, healthy_window_s=10))


@pytest.mark.stack
def test_a_scheduled_fault_is_set_on_one_replica_and_removed_after_it(stack, tmp_path):
    manifest = StackManifest(backend="embedded", urls=stack.urls, control_token=stack.control_token)
    action = scheduled(action="fault", replica=1, duration=30,
                       fault={"kind": "error", "status": 503, "path": DECLARATIONS})
    record = inject(action, manifest, now=lambda: 500.0)
    assert record.target == "fts-1 error 503" and record.injected_at == 500.0 and record.took_effect
    rule = record.detail["rule"]
    assert rule["replica"] == "fts-1" and rule["expires"] is not None  # ttl = duration
    refused = httpx.get(f"{stack.urls['fts']}{DECLARATIONS}")
    assert refused.status_code == 503 and refused.headers["x-gosstand-fault"] == rule["id"]
    removed = remove(action, manifest, record, now=lambda: 530.0)
    assert httpx.get(f"{stack.urls['fts']}{DECLARATIONS}").status_code == 401
    # The evidence that it took effect: the requests the rule hit, read before its removal.
    assert removed.took_effect and removed.removed_at == 530.0 and removed.detail["hit"] >= 1
    unreachable = inject(action, StackManifest(backend="embedded", urls={"fts": "http://127.0.0.1:9"},
                                               control_token="x"))
    assert not unreachable.took_effect and unreachable.error and "rule" not in unreachable.detail
    assert remove(action, manifest, unreachable) == unreachable  # nothing was set, nothing to remove


@pytest.mark.stack
def test_a_scheduled_fault_no_request_met_did_not_happen(stack):
    """A rule whose path matches nothing (a typo) injects nothing: the run must not pass."""
    manifest = StackManifest(backend="embedded", urls=stack.urls, control_token=stack.control_token)
    action = scheduled(action="fault", duration=5, fault={"kind": "error", "status": 503, "path": "/api/v1/nothing"})
    record = inject(action, manifest)
    httpx.get(f"{stack.urls['fts']}{DECLARATIONS}")
    removed = remove(action, manifest, record)
    assert not removed.took_effect and "0 hits" in (removed.error or "") and removed.detail["hit"] == 0
