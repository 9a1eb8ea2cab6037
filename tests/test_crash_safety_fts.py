"""An FTS replica killed at any point of a submission, a withdrawal or a document upload leaves
state that the client's retry completes, with nothing acknowledged lost or filed twice.

Each test runs the operation on a replica that dies right after its 1st store write, then one
that dies after its 2nd, … (:mod:`crashing_replicas`); after every crash the healthy replica (``fts``),
on the same store, takes the retry. "Nothing filed twice" is checked in the store itself too:
an abandoned record that no list shows is still a second copy of the declaration or document.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable

import pytest
from crashing_replicas import crash_points, second_replica
from fts_requests import DECLARATIONS as BASE
from fts_requests import ORGANISATION as DECLARANT
from fts_requests import declaration
from gosstand.mocks.core.settings import Settings
from signed_documents import PDF
from starlette.testclient import TestClient


@pytest.fixture
def replica_settings(make_settings: Callable[..., Settings]) -> Settings:
    return second_replica(make_settings, "fts")


def _stored(settings: Settings, prefix: str) -> int:
    """How many records under ``prefix`` the store holds, listed or not."""
    with sqlite3.connect(settings.store_url.removeprefix("sqlite:///")) as db:
        return db.execute("SELECT COUNT(*) FROM kv WHERE key LIKE ?", (prefix + "%",)).fetchone()[0]


def _listed(fts: TestClient, auth: dict[str, str], **filters: str) -> list[str]:
    page = fts.get(BASE, params={"inn": DECLARANT["inn"], "limit": 100, **filters}, headers=auth)
    assert page.status_code == 200, page.text
    return [item["id"] for item in page.json()["items"]]


def _submit(fts: TestClient, auth: dict[str, str]) -> str:
    response = fts.post(BASE, json=declaration(), headers={**auth, "Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_a_submission_killed_at_any_write_is_filed_once_by_its_retry(fts, auth, replica_settings, advance):
    acknowledged: list[str] = []
    crashes = 0
    for replica in crash_points(replica_settings):
        body, headers = declaration(), {**auth, "Idempotency-Key": str(uuid.uuid4())}
        answer = replica.send("POST", BASE, json=body, headers=headers)
        if answer is not None:
            assert answer.status_code == 201, answer.text
            acknowledged.append(answer.json()["id"])
            continue
        crashes += 1
        retried = fts.post(BASE, json=body, headers=headers)
        assert retried.status_code == 201, f"crash {crashes}: the retry got {retried.status_code} {retried.text}"
        again = fts.post(BASE, json=body, headers=headers)
        assert again.headers.get("idempotent-replayed") == "true" and again.json()["id"] == retried.json()["id"]
        acknowledged.append(retried.json()["id"])
        assert sorted(_listed(fts, auth)) == sorted(acknowledged), f"crash {crashes}: the list disagrees"
        assert _stored(replica_settings, "fts:declaration:") == len(acknowledged), \
            f"crash {crashes}: a second record of the declaration was left behind"
    assert crashes >= 1
    advance(200)  # past every registration: each acknowledged declaration got its own number
    numbers = [fts.get(f"{BASE}/{i}/status", headers=auth).json()["registrationNumber"] for i in acknowledged]
    assert None not in numbers and len(set(numbers)) == len(numbers)


def test_a_withdrawal_killed_at_any_write_is_whole_or_not_at_all(fts, auth, replica_settings, advance):
    crashes = 0
    for replica in crash_points(replica_settings):
        declaration_id = _submit(fts, auth)
        url, key = f"{BASE}/{declaration_id}/withdrawal", str(uuid.uuid4())
        answer = replica.send("POST", url, headers={**auth, "Idempotency-Key": key})
        if answer is not None:
            assert answer.status_code == 200 and answer.json()["status"] == "withdrawn"
            continue
        crashes += 1
        status = fts.get(f"{BASE}/{declaration_id}/status", headers=auth).json()["status"]
        listed_withdrawn = declaration_id in _listed(fts, auth, status="withdrawn")
        if status == "withdrawn":  # it landed: the retry replays it, another key is refused
            assert listed_withdrawn
            assert fts.post(url, headers={**auth, "Idempotency-Key": str(uuid.uuid4())}).status_code == 409
            retried = fts.post(url, headers={**auth, "Idempotency-Key": key})
            assert retried.status_code == 200 and retried.headers.get("idempotent-replayed") == "true"
        else:  # nothing of it landed: the declaration may still be withdrawn, under any key
            assert status == "submitted" and not listed_withdrawn
            fresh = fts.post(url, headers={**auth, "Idempotency-Key": str(uuid.uuid4())})
            assert fresh.status_code == 200, f"crash {crashes}: a new withdrawal got {fresh.status_code} {fresh.text}"
        advance(200)  # withdrawn before registration: never registered, never numbered
        final = fts.get(f"{BASE}/{declaration_id}/status", headers=auth).json()
        assert (final["status"], final["registrationNumber"]) == ("withdrawn", None)
    assert crashes >= 1


def test_a_document_upload_killed_at_any_write_is_kept_once_by_its_retry(fts, auth, replica_settings):
    declaration_id = _submit(fts, auth)
    url = f"{BASE}/{declaration_id}/documents"
    acknowledged: list[str] = []
    crashes = 0
    for n, replica in enumerate(crash_points(replica_settings)):
        files = {"file": (f"scan-{n}.pdf", PDF + str(n).encode(), "application/pdf")}
        headers = {**auth, "Idempotency-Key": str(uuid.uuid4())}
        answer = replica.send("POST", url, files=files, headers=headers)
        if answer is not None:
            assert answer.status_code == 201, answer.text
            acknowledged.append(answer.json()["id"])
            continue
        crashes += 1
        retried = fts.post(url, files=files, headers=headers)
        assert retried.status_code == 201, f"crash {crashes}: the retry got {retried.status_code} {retried.text}"
        assert fts.post(url, files=files, headers=headers).json()["id"] == retried.json()["id"]
        acknowledged.append(retried.json()["id"])
        listed = [item["id"] for item in fts.get(url, headers=auth).json()["items"]]
        assert sorted(listed) == sorted(acknowledged), f"crash {crashes}: the list disagrees"
        content = fts.get(f"{url}/{retried.json()['id']}/content", headers=auth)
        assert content.status_code == 200 and content.content == files["file"][1]
        assert _stored(replica_settings, "fts:document:") == len(acknowledged), \
            f"crash {crashes}: a second record of the document was left behind"
    assert crashes >= 1


APPEALS = "/api/v1/appeals"


def _appeal() -> dict:
    return {"inn": DECLARANT["inn"], "kpp": DECLARANT["kpp"], "subject": "Корректировка таможенной стоимости",
            "text": "Просим разъяснить порядок корректировки."}


def test_an_appeal_killed_at_any_write_is_filed_once_by_its_retry(fts, auth, replica_settings):
    acknowledged: list[str] = []
    crashes = 0
    for replica in crash_points(replica_settings):
        body, headers = _appeal(), {**auth, "Idempotency-Key": str(uuid.uuid4())}
        answer = replica.send("POST", APPEALS, json=body, headers=headers)
        if answer is not None:
            assert answer.status_code == 201, answer.text
            acknowledged.append(answer.json()["id"])
            continue
        crashes += 1
        retried = fts.post(APPEALS, json=body, headers=headers)
        assert retried.status_code == 201, f"crash {crashes}: the retry got {retried.status_code} {retried.text}"
        assert fts.post(APPEALS, json=body, headers=headers).json()["id"] == retried.json()["id"]
        acknowledged.append(retried.json()["id"])
        listed = fts.get(APPEALS, params={"inn": DECLARANT["inn"], "limit": 100}, headers=auth).json()["items"]
        assert sorted(item["id"] for item in listed) == sorted(acknowledged), f"crash {crashes}: the list disagrees"
        assert _stored(replica_settings, "fts:appeal:") == len(acknowledged), \
            f"crash {crashes}: a second record of the appeal was left behind"
    assert crashes >= 1


def test_a_comment_killed_at_any_write_is_kept_once_when_its_retry_is_acknowledged(fts, auth, replica_settings):
    filed = fts.post(APPEALS, json=_appeal(), headers={**auth, "Idempotency-Key": str(uuid.uuid4())})
    url = f"{APPEALS}/{filed.json()['id']}/comments"
    acknowledged: list[str] = []
    crashes = 0
    for n, replica in enumerate(crash_points(replica_settings)):
        body, headers = {"text": f"Дополнение №{n}"}, {**auth, "Idempotency-Key": str(uuid.uuid4())}
        answer = replica.send("POST", url, json=body, headers=headers)
        if answer is None:
            crashes += 1
            answer = fts.post(url, json=body, headers=headers)
        assert answer.status_code == 201, answer.text
        acknowledged.append(body["text"])
        card = fts.get(f"{APPEALS}/{filed.json()['id']}", headers=auth).json()
        assert [comment["text"] for comment in card["comments"]] == acknowledged, \
            f"crash {crashes}: an acknowledged comment is missing or doubled"
    assert crashes >= 1
