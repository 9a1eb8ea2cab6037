"""A UTKO replica killed at any point of a PUT, a DELETE or a weight-control import leaves state
the next request can use.

Each test runs the operation on a replica that dies right after its 1st store write, then one
that dies after its 2nd, … (:mod:`crashing_replicas`), and after every crash the healthy replica
must show all of the change or none of it — the object, its ETag and the filtered lists agree —
and must take the client's retry.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from crashing_replicas import crash_points, second_replica
from gosstand.mocks.core.keys import SigningKeys
from gosstand.mocks.core.settings import Settings
from starlette.testclient import TestClient
from utko_inputs import IMPORT, LIST, OBJECT, RECORD, T0, bearer

MOVED = dict(OBJECT, region="50", status="suspended")


@pytest.fixture
def utko(frozen_service: Callable[..., TestClient]) -> TestClient:
    """The healthy replica."""
    return frozen_service("utko", T0)


@pytest.fixture
def auth(esia_signing_keys: SigningKeys) -> dict[str, str]:
    return bearer(esia_signing_keys)


@pytest.fixture
def replica_settings(make_settings: Callable[..., Settings]) -> Settings:
    return second_replica(make_settings, "utko")


def _listed(utko: TestClient, auth: dict[str, str], object_id: str, **filters: str) -> bool:
    page = utko.get("/v1/objects", params={**filters, "limit": 100}, headers=auth).json()
    ids = [item["id"] for item in page["items"]]
    assert page["total"] == len(ids), "the list's total counts an object it cannot show"
    return object_id in ids


def test_a_put_killed_at_any_write_leaves_an_object_that_takes_the_retry(utko, auth, replica_settings):
    crashes = 0
    for replica in crash_points(replica_settings):
        location = utko.post("/v1/objects", json=OBJECT, headers=auth).headers["location"]
        object_id = location.rsplit("/", 1)[1]
        answer = replica.send("PUT", location, json=MOVED, headers={**auth, "If-Match": '"v1"'})
        if answer is not None:
            assert answer.status_code == 200 and answer.headers["etag"] == '"v2"'
            continue
        crashes += 1
        # The client heard nothing: it reads the object again, and sees the PUT whole or not at all.
        read = utko.get(location, headers=auth)
        assert read.status_code == 200
        tag, region = read.headers["etag"], read.json()["region"]
        assert (tag, region) in {('"v1"', "77"), ('"v2"', "50")}, f"crash {crashes}: a half-applied PUT"
        assert _listed(utko, auth, object_id, region=region) and not _listed(
            utko, auth, object_id, region="77" if region == "50" else "50")
        retried = utko.put(location, json=MOVED, headers={**auth, "If-Match": tag})
        assert retried.status_code == 200, f"crash {crashes}: the retry got {retried.status_code} {retried.text}"
        overwrite = utko.put(location, json=OBJECT, headers={**auth, "If-Match": "*"})
        assert overwrite.status_code == 200, f"crash {crashes}: If-Match * got {overwrite.status_code}"
        assert utko.delete(location, headers=auth).status_code == 204
        assert not _listed(utko, auth, object_id)
    assert crashes >= 1


def test_a_delete_killed_at_any_write_leaves_the_object_whole_or_gone(utko, auth, replica_settings):
    crashes = 0
    for replica in crash_points(replica_settings):
        location = utko.post("/v1/objects", json=OBJECT, headers=auth).headers["location"]
        object_id = location.rsplit("/", 1)[1]
        answer = replica.send("DELETE", location, headers=auth)
        if answer is not None:
            assert answer.status_code == 204
            continue
        crashes += 1
        read = utko.get(location, headers=auth)
        if read.status_code == 404:  # the delete landed: nothing of the object is left listed
            assert not _listed(utko, auth, object_id) and not _listed(utko, auth, object_id, region="77")
            assert utko.delete(location, headers=auth).status_code == 404
            continue
        assert read.status_code == 200 and read.headers["etag"] == '"v1"'
        assert _listed(utko, auth, object_id, region="77")
        assert utko.put(location, json=MOVED, headers={**auth, "If-Match": '"v1"'}).status_code == 200, \
            f"crash {crashes}: the object refuses a PUT"
        assert utko.delete(location, headers=auth).status_code == 204, f"crash {crashes}: the retry was refused"
        assert not _listed(utko, auth, object_id)
    assert crashes >= 1


def test_a_weight_control_import_killed_at_any_write_is_completed_by_its_retry(utko, auth, replica_settings):
    """A weigh station posts its file again when it got no answer; each weighing must then be
    listed exactly once — one that the retry reports as imported before must be there."""
    crashes = 0
    for replica in crash_points(replica_settings):
        created = utko.post("/v1/objects", json=OBJECT, headers=auth)
        object_id, access_key = created.json()["id"], created.headers["x-access-key"]
        weighings = [dict(RECORD, id=f"wc-{n}") for n in range(3)]
        content = json.dumps({"objectId": object_id, "accessKey": access_key, "weightControls": weighings},
                             ensure_ascii=False).encode()
        files = {"file": ("weights.json", content, "application/json")}
        answer = replica.send("POST", IMPORT, files=files)
        if answer is None:
            crashes += 1
            answer = utko.post(IMPORT, files=files)
        assert answer.status_code == 200, answer.text
        assert sorted(answer.json()["imported"] + answer.json()["skipped"]) == ["wc-0", "wc-1", "wc-2"]
        listed = utko.get(LIST, params={"objectId": object_id}, headers=auth).json()
        assert sorted(item["id"] for item in listed["items"]) == ["wc-0", "wc-1", "wc-2"], \
            f"crash {crashes}: a weighing the import acknowledged is not listed"
        assert listed["total"] == 3
    assert crashes >= 1
