"""An error the mock did not expect is answered and logged in one place
(:class:`gosstand.mocks.core.middleware.Unexpected`, rendered by
:func:`gosstand.mocks.core.problems.unexpected`): a 500 in problem+json naming the replica, as
every other answer does, and one log line with the traceback, the service, the replica, the
method and the path — wherever it was raised: behind Starlette's router, in one of the stand's
layers in front of it, or in the hot front. Nothing reaches the server: it would answer a bare
500 naming no replica and log the traceback a second time.

The errors are real ones of a replica's collaborators (its store's ping, the journal's switch,
the fault book), made to fail on the replica's own objects; the TestClient raises whatever
escapes the app, so a test passing here also says nothing escaped.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from gosstand.mocks.core.app import create_app
from gosstand.mocks.core.middleware import REPLICA_HEADER, Unexpected
from gosstand.mocks.core.problems import PROBLEM_JSON
from gosstand.mocks.core.settings import Settings
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

LOGGER = "gosstand.mocks.core.middleware"


class StoreGone(Exception):
    """What the failing collaborator raises: a name no other code raises."""


async def gone(*args: Any, **kwargs: Any) -> Any:
    raise StoreGone("the store went away")


@pytest.fixture
def esia(make_settings: Callable[..., Settings]) -> TestClient:
    """An ESIA replica (it has hot routes, so its hot front is in front of everything)."""
    return TestClient(create_app(make_settings("esia")), follow_redirects=False)


def logged(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == LOGGER]


def assert_unexpected_500(answer: Any, exc_name: str) -> None:
    assert answer.status_code == 500, answer.text
    assert answer.headers["content-type"] == PROBLEM_JSON
    assert answer.headers[REPLICA_HEADER] == "esia-1"
    body = json.loads(answer.content)
    assert body["status"] == 500 and body["detail"].startswith(f"unexpected {exc_name};")


def assert_logged_once(caplog: pytest.LogCaptureFixture, request_line: str) -> None:
    records = logged(caplog)
    assert len(records) == 1, [record.getMessage() for record in records]
    record = records[0]
    assert record.levelno == logging.ERROR
    assert record.getMessage() == f"unexpected StoreGone: {request_line} on esia-1 (esia); answered 500"
    assert record.exc_info is not None and isinstance(record.exc_info[1], StoreGone)  # the traceback


def counted(client: TestClient, route: str) -> dict[str, float]:
    """The replica's request count for ``route`` by status class, as ``/metrics`` serves it."""
    scraped = client.get("/metrics").text
    return {sample.labels["status"]: sample.value
            for family in text_string_to_metric_families(scraped) for sample in family.samples
            if sample.name == "gosstand_http_request_duration_seconds_count" and sample.labels["route"] == route}


@pytest.mark.parametrize(("collaborator", "method", "path", "route"), [
    # behind the router: Starlette's 500 handler answers it, inside the replica's header
    pytest.param("store.ping", "GET", "/_gosstand/health", "/_gosstand/health", id="behind the router"),
    # the hot front reads the journal's switch before it lets a hot route answer
    pytest.param("journal.recording", "GET", "/aas/oauth2/login?rid=unknown", "/aas/oauth2/login", id="hot front"),
    # the fault rules' layer reads the book for every request outside /_gosstand; this path is no hot route
    pytest.param("faults.rules", "POST", "/aas/oauth2/consent", "/aas/oauth2/consent", id="layer before Starlette"),
])
def test_an_unexpected_error_is_a_problem_naming_the_replica_logged_once_and_counted_as_a_5xx(
        esia: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, collaborator: str,
        method: str, path: str, route: str):
    owner, name = collaborator.split(".")
    monkeypatch.setattr(getattr(esia.app.state.ctx, owner), name, gone)  # type: ignore[attr-defined]
    answer = esia.request(method, path)
    assert_unexpected_500(answer, "StoreGone")
    assert_logged_once(caplog, f"{method} {route}")
    monkeypatch.undo()
    # an SRE's dashboard sums the 5xx: a 500 the replica answered must not hide under another status
    assert counted(esia, route) == {"5xx": 1.0}


def test_the_same_replica_answers_normally_once_the_collaborator_is_back(
        esia: TestClient, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(esia.app.state.ctx.store, "ping", gone)  # type: ignore[attr-defined]
    assert esia.get("/_gosstand/health").status_code == 500
    monkeypatch.undo()
    answer = esia.get("/_gosstand/health")
    assert answer.status_code == 200 and answer.headers[REPLICA_HEADER] == "esia-1"


# -- the guard on its own: what a server would otherwise answer without a word -------------------

def run(app: Any) -> list[dict[str, Any]]:
    """``app`` called over ASGI as a server calls it; the messages the server took. Like granian,
    the server refuses a response start whose header value holds a control character."""
    guarded = Unexpected(app, service="fts", replica="fts-2")
    scope = {"type": "http", "method": "GET", "path": "/declarations", "headers": [], "query_string": b""}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if any(byte < 0x20 for _, value in message.get("headers", ()) for byte in value):
            raise RuntimeError("Unsupported ASGI message")  # granian 2.8's words
        sent.append(message)

    asyncio.run(guarded(scope, receive, send))
    return sent


def test_an_app_that_ends_without_answering_gets_a_problem_and_a_log_line(caplog: pytest.LogCaptureFixture):
    async def silent(scope: Any, receive: Any, send: Any) -> None:
        return None  # granian answers this with a bare 500 and logs nothing

    sent = run(silent)
    assert sent[0]["status"] == 500 and (REPLICA_HEADER.encode(), b"fts-2") in sent[0]["headers"]
    assert json.loads(sent[1]["body"])["detail"].startswith("the mock ended the request without answering")
    [record] = logged(caplog)
    assert record.getMessage() == "no answer from the app: GET /declarations on fts-2 (fts); answered 500"
    assert not record.exc_info


def test_an_error_after_the_answer_started_is_logged_and_no_second_answer_is_sent(caplog: pytest.LogCaptureFixture):
    async def breaks_midway(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"10")]})
        await send({"type": "http.response.body", "body": b"12345", "more_body": True})
        raise StoreGone("the store went away")

    sent = run(breaks_midway)
    assert [message["type"] for message in sent] == ["http.response.start", "http.response.body"]
    [record] = logged(caplog)
    assert record.getMessage() == ("unexpected StoreGone: GET /declarations on fts-2 (fts); its answer (200) had "
                                   "started and is cut short")
    assert record.exc_info is not None and isinstance(record.exc_info[1], StoreGone)


def test_a_start_the_server_refuses_is_followed_by_the_problem(caplog: pytest.LogCaptureFixture):
    async def bad_header(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 302, "headers": [(b"location", b"/a\r\nb")]})

    sent = run(bad_header)
    assert sent[0]["status"] == 500 and (REPLICA_HEADER.encode(), b"fts-2") in sent[0]["headers"]
    [record] = logged(caplog)
    assert record.getMessage() == "unexpected RuntimeError: GET /declarations on fts-2 (fts); answered 500"
