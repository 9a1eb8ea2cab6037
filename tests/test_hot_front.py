"""The front door (:mod:`gosstand.mocks.core.hot_front`) answers a login step in front of the
middleware chain only when no layer of the chain would change it: every fault rule, every
request limit, the journal and the metrics still apply to the hot routes.

The app is driven as granian drives it — over ASGI, a body handed over as one chunk with
``more_body`` set and then an empty last chunk — so the test sees every ``receive()`` it makes
and every message it sends, a dropped connection's included. The two hot routes used answer
without any login state: the password page and the password form of an unknown request.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from gosstand.mocks.core.app import create_app
from gosstand.mocks.core.hot_path import HOT_BODY_LIMIT
from gosstand.mocks.core.limits import DEFAULT_BODY_LIMIT, MAX_HEADER_BYTES, MAX_TARGET_BYTES
from gosstand.mocks.core.settings import Settings
from starlette.routing import Router

TOKEN = "test-control-token"
NOW = 1_765_000_000.0
PAGE = "/aas/oauth2/login"
QUERY = b"rid=unknown"
FORM = urlencode({"rid": "unknown", "login": "+79990001122", "password": "secret"}).encode()
URLENCODED = b"application/x-www-form-urlencoded"


@dataclass
class Exchange:
    """One request as the server saw it: the messages the app sent, its ``receive()`` calls, and
    whether Starlette's router saw the request (the full app answered it)."""

    sent: list[dict[str, Any]]
    receives: int
    routed: bool

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])

    @property
    def headers(self) -> dict[bytes, bytes]:
        return dict(self.sent[0]["headers"])

    @property
    def body(self) -> bytes:
        return b"".join(message.get("body", b"") for message in self.sent[1:])

    @property
    def cut(self) -> bool:
        """The answer stops part-way (a drop fault): its last body message promises more."""
        return bool(self.sent[-1].get("more_body"))


class Replica:
    """One ESIA app on a loop of its own, called over ASGI."""

    def __init__(self, app: Any, reached: list[object]) -> None:
        self.app = app
        self.reached = reached
        self.loop = asyncio.new_event_loop()

    def call(self, method: str, path: str, *, query: bytes = b"", body: bytes | None = None,
             content_type: bytes = URLENCODED, headers: list[tuple[bytes, bytes]] | None = None) -> Exchange:
        head = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"test"), *(headers or [])]
        pieces: list[dict[str, Any]] = []
        if body is not None:
            head += [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
            pieces = [{"type": "http.request", "body": body, "more_body": True},  # as granian hands a body over
                      {"type": "http.request", "body": b"", "more_body": False}]
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query, "root_path": "",
                 "headers": head, "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}
        sent: list[dict[str, Any]] = []
        receives = 0

        async def receive() -> dict[str, Any]:
            nonlocal receives
            receives += 1
            return pieces.pop(0) if pieces else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        self.reached.clear()
        self.loop.run_until_complete(self.app(scope, receive, send))
        return Exchange(sent, receives, routed=bool(self.reached))

    def control(self, method: str, path: str, payload: Any = None) -> Any:
        path, _, query = path.partition("?")
        answer = self.call(method, f"/_gosstand/control{path}", query=query.encode(), body=None if payload is None else
                           json.dumps(payload).encode(), content_type=b"application/json",
                           headers=[(b"authorization", f"Bearer {TOKEN}".encode())])
        assert answer.status < 300, answer.body
        return json.loads(answer.body) if answer.body else None

    def fault(self, **rule: Any) -> dict[str, Any]:
        added: dict[str, Any] = self.control("POST", "/faults", {"path": PAGE, **rule})
        return added

    def page(self) -> Exchange:
        return self.call("GET", PAGE, query=QUERY)

    def form(self) -> Exchange:
        return self.call("POST", PAGE, body=FORM)


@pytest.fixture
def esia(tmp_path: Path, esia_keys_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Replica]:
    reached: list[object] = []
    routed = Router.__call__

    async def spying(self: Router, scope: Any, receive: Any, send: Any) -> None:
        reached.append(self)
        await routed(self, scope, receive, send)

    monkeypatch.setattr(Router, "__call__", spying)
    settings = Settings(service="esia", replica="esia-1", state_dir=tmp_path, control_token=TOKEN,
                        store_url=f"sqlite:///{tmp_path / 'esia.sqlite3'}", public_url="http://testserver",
                        esia_issuer="http://esia-portal1.test.gosuslugi.ru/", esia_keys_dir=esia_keys_dir)
    replica = Replica(create_app(settings), reached)
    replica.control("POST", "/clock", {"freeze": NOW})
    yield replica
    replica.loop.close()


def test_a_plain_login_step_is_answered_in_front_with_one_receive(esia: Replica):
    for answer in (esia.page(), esia.form()):
        assert answer.status == 400 and b"<!doctype html>" in answer.body  # the unknown request's page
        assert not answer.routed and not answer.cut
        assert answer.headers[b"x-gosstand-replica"] == b"esia-1" and b"x-gosstand-fault" not in answer.headers
        assert [message["type"] for message in answer.sent] == ["http.response.start", "http.response.body"]
    assert esia.page().receives == 0
    assert esia.form().receives == 1  # the body ends at its Content-Length: granian's empty last chunk is not awaited


def test_an_error_rule_answers_the_hot_routes(esia: Replica):
    rule = esia.fault(kind="error", status=503, retry_after=7)
    for answer in (esia.page(), esia.form()):
        assert answer.status == 503 and answer.headers[b"retry-after"] == b"7"
        assert answer.headers[b"x-gosstand-fault"] == rule["id"].encode()
        assert json.loads(answer.body)["fault"] == rule["id"]
    assert esia.control("GET", f"/faults/{rule['id']}")["hit"] == 2


def test_a_rule_for_another_method_or_path_leaves_the_hot_routes_alone(esia: Replica):
    esia.fault(kind="error", status=500, methods=["POST"])
    esia.control("POST", "/faults", {"kind": "error", "status": 500, "path": "/aas/oauth2/otp"})
    answer = esia.page()
    assert answer.status == 400 and not answer.routed and b"x-gosstand-fault" not in answer.headers
    assert esia.form().status == 500


def test_a_latency_rule_delays_a_hot_answer_and_says_so(esia: Replica):
    rule = esia.fault(kind="latency", delay_ms=1)
    for answer in (esia.page(), esia.form()):
        assert answer.status == 400 and answer.headers[b"x-gosstand-fault"] == rule["id"].encode()
        assert not answer.routed  # delayed, then still answered by the hot route
    assert esia.control("GET", f"/faults/{rule['id']}")["hit"] == 2


def test_a_quota_counts_hot_requests(esia: Replica):
    rule = esia.fault(kind="quota", limit=1, window=60)
    assert esia.page().status == 400
    refused = esia.form()
    assert refused.status == 429 and refused.headers[b"x-gosstand-fault"] == rule["id"].encode()
    assert refused.headers[b"retry-after"] == str(60 - int(NOW % 60)).encode()  # the window's seconds left


def test_a_drop_cuts_a_hot_answer_before_or_after_the_route(esia: Replica):
    before = esia.fault(kind="drop", times=1)
    cut = esia.form()
    assert cut.cut and cut.headers[b"x-gosstand-fault"] == before["id"].encode() and cut.body == b"{"
    esia.control("DELETE", f"/faults/{before['id']}")
    after = esia.fault(kind="drop", phase="after", times=1)
    cut = esia.form()
    assert cut.cut and cut.status == 400 and cut.headers[b"x-gosstand-fault"] == after["id"].encode()
    assert cut.body == b"<"  # the route's own page, cut after its first byte
    assert not esia.form().cut  # the rule's one time is spent


def test_a_probability_rule_hits_the_same_hot_requests_as_any_other(esia: Replica):
    rule = esia.fault(kind="error", status=502, probability=0.5, seed=11)
    hits = [esia.page().status == 502 for _ in range(12)]
    assert 0 < sum(hits) < 12
    assert esia.control("GET", f"/faults/{rule['id']}")["hit"] == sum(hits)


def test_request_head_limits_apply_to_hot_routes(esia: Replica):
    long_target = esia.call("GET", PAGE, query=b"rid=" + b"a" * MAX_TARGET_BYTES)
    assert long_target.status == 414 and json.loads(long_target.body)["status"] == 414
    large_head = esia.call("GET", PAGE, query=QUERY, headers=[(b"x-padding", b"p" * MAX_HEADER_BYTES)])
    assert large_head.status == 431 and large_head.headers[b"content-type"] == b"application/problem+json"


def test_bodies_the_front_does_not_take_still_meet_the_body_limit(esia: Replica):
    over_limit = esia.call("POST", PAGE, body=FORM + b"&padding=" + b"x" * DEFAULT_BODY_LIMIT)
    assert over_limit.status == 413 and over_limit.routed
    over_hot = esia.call("POST", PAGE, body=FORM + b"&padding=" + b"x" * HOT_BODY_LIMIT)
    assert over_hot.status == 400 and over_hot.routed  # the full app read it: the same page


def test_the_journal_records_hot_requests(esia: Replica):
    esia.control("POST", "/requests", {"record": True})
    page, form = esia.page(), esia.form()
    assert not page.routed and not form.routed
    items = esia.control("GET", "/requests?path=/aas/oauth2/login")["items"]
    assert [(item["method"], item["status"], item["route"], item["answered"]) for item in items] == [
        ("GET", 400, PAGE, True), ("POST", 400, PAGE, True)]
    assert items[0]["query"] == QUERY.decode() and items[1]["body"] == FORM.decode()
    assert items[1]["responseBody"] == form.body.decode()


def test_the_metrics_count_hot_requests_by_route_and_status(esia: Replica):
    esia.page()
    esia.form()
    esia.call("GET", PAGE, query=b"rid=" + b"a" * MAX_TARGET_BYTES)  # a 414, through the full chain
    scraped = esia.call("GET", "/metrics").body.decode()
    assert _count(scraped, method="GET", route=PAGE, status="4xx") == 2
    assert _count(scraped, method="POST", route=PAGE, status="4xx") == 1


def _count(exposition: str, **labels: str) -> float:
    """The request count of the series with ``labels`` (0 when there is none)."""
    wanted = [f'{name}="{value}"' for name, value in labels.items()]
    for line in exposition.splitlines():
        if line.startswith("gosstand_http_request_duration_seconds_count{") and all(w in line for w in wanted):
            return float(line.rsplit(" ", 1)[1])
    return 0.0



def test_a_body_the_hot_route_declines_reaches_the_full_app_whole(esia: Replica):
    declined = esia.call("POST", PAGE, body=json.dumps({"rid": "unknown"}).encode(), content_type=b"application/json")
    assert declined.routed and declined.status == 400  # the full route's answer to a body that is not a form
    assert declined.receives == 1  # the body read in front is handed on; granian's empty last chunk is not awaited
    assert esia.call("POST", PAGE, body=b"", content_type=URLENCODED).receives == 0
