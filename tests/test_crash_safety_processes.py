"""Real replica processes killed between an operation's store writes: the survivor serves on.

One replica of a two-replica service is restarted with ``GOSSTAND_CRASH_AFTER_WRITE`` and exits
(``os._exit``, no clean-up, no answer) right after its first write of the operation's record;
requests on fresh connections reach it or its sibling as the kernel spreads them over the shared
port. After it died, the next request — on the surviving replica — must find the state usable,
and no acknowledged change may be lost or doubled.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
from fts_requests import DECLARATIONS, declaration, token
from gosstand.mocks.core.keys import ensure_signing_keys
from gosstand.mocks.core.middleware import REPLICA_HEADER
from gosstand.stand.stack import EmbeddedStack
from utko_inputs import OBJECT

pytestmark = pytest.mark.stack

#: Requests on fresh connections before the armed replica has surely been reached (the kernel
#: picks one of two replicas per connection: missing it this often has odds of 2^-40).
ATTEMPTS = 40


@pytest.fixture(scope="module")
def stack() -> Iterator[EmbeddedStack]:
    with EmbeddedStack(services=("utko", "fts"), replicas=2).start() as running:
        yield running


@pytest.fixture
def bearer(stack: EmbeddedStack) -> dict[str, str]:
    assert stack.state_dir is not None
    return {"Authorization": f"Bearer {token(ensure_signing_keys(stack.state_dir / 'esia-keys'), now=time.time())}"}


@pytest.fixture
def armed(stack: EmbeddedStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str, str], None]]:
    """``armed(service, "N:GLOB")`` restarts replica 1 of ``service`` with that crash point (its
    sibling keeps running unarmed); afterwards replica 1 is started again, unarmed."""
    restarted: list[str] = []

    def arm(service: str, point: str) -> None:
        monkeypatch.setenv("GOSSTAND_CRASH_AFTER_WRITE", point)
        stack.restart(service, 1)
        monkeypatch.delenv("GOSSTAND_CRASH_AFTER_WRITE")
        restarted.append(service)

    yield arm
    for service in restarted:
        stack.restart(service, 1)


def _died_at_its_crash_point(stack: EmbeddedStack, service: str) -> None:
    replica = stack.replica(service, 1)
    assert replica.process is not None
    replica.process.wait(timeout=10)
    assert replica.log is not None and "crash point" in replica.log.read_text(errors="replace")


def test_a_utko_replica_killed_inside_a_put_leaves_an_object_the_survivor_changes(stack, bearer, armed):
    base = stack.urls["utko"]
    created = httpx.post(f"{base}/v1/objects", json=OBJECT, headers=bearer)
    assert created.status_code == 201, created.text
    location = f"{base}{created.headers['location']}"
    armed("utko", "1:utko:object:*")
    acknowledged, crashed_body = 1, None
    for n in range(ATTEMPTS):
        body = dict(OBJECT, name=f"Комплекс №{n}")
        try:
            answer = httpx.put(location, json=body, headers={**bearer, "If-Match": f'"v{acknowledged}"',
                                                             "Connection": "close"})
        except httpx.TransportError:  # the armed replica died inside this PUT
            crashed_body = body
            break
        assert answer.status_code == 200 and answer.headers[REPLICA_HEADER] == "utko-2", answer.text
        acknowledged += 1
    assert crashed_body is not None, f"no PUT reached the armed replica in {ATTEMPTS} tries"
    _died_at_its_crash_point(stack, "utko")
    read = httpx.get(location, headers=bearer)
    # The crash came after the PUT's one write: it landed whole, on top of every acknowledged one.
    assert read.headers["etag"] == f'"v{acknowledged + 1}"' and read.json()["name"] == crashed_body["name"]
    again = httpx.put(location, json=OBJECT, headers={**bearer, "If-Match": read.headers["etag"]})
    assert again.status_code == 200, f"the survivor refused the next PUT: {again.status_code} {again.text}"
    assert httpx.put(location, json=OBJECT, headers={**bearer, "If-Match": "*"}).status_code == 200
    assert httpx.delete(location, headers=bearer).status_code == 204


def test_an_fts_replica_killed_inside_a_submission_files_it_once_on_the_retry(stack, bearer, armed):
    base = f"{stack.urls['fts']}{DECLARATIONS}"
    armed("fts", "1:fts:declaration:*")
    acknowledged: list[str] = []
    crashed: tuple[dict, str] | None = None
    for _ in range(ATTEMPTS):
        body, key = declaration(), str(uuid.uuid4())
        try:
            answer = httpx.post(base, json=body, headers={**bearer, "Idempotency-Key": key, "Connection": "close"})
        except httpx.TransportError:
            crashed = body, key
            break
        assert answer.status_code == 201 and answer.headers[REPLICA_HEADER] == "fts-2", answer.text
        acknowledged.append(answer.json()["id"])
    assert crashed is not None, f"no submission reached the armed replica in {ATTEMPTS} tries"
    _died_at_its_crash_point(stack, "fts")
    body, key = crashed
    retried = httpx.post(base, json=body, headers={**bearer, "Idempotency-Key": key})
    assert retried.status_code == 201, retried.text
    acknowledged.append(retried.json()["id"])
    inn = body["declarant"]["inn"]
    listed = httpx.get(base, params={"inn": inn, "limit": 100}, headers=bearer).json()["items"]
    assert {item["id"] for item in listed} >= set(acknowledged)
    assert stack.state_dir is not None
    with sqlite3.connect(stack.state_dir / "fts.sqlite3") as db:
        stored = {row[0].removeprefix("fts:declaration:")
                  for row in db.execute("SELECT key FROM kv WHERE key LIKE 'fts:declaration:%'")}
    assert stored == {item["id"] for item in listed}, "a declaration record was left behind that no list shows"
