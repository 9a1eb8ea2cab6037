"""REO's weight-control import: access keys, field rules, idempotency, the partial-batch rule, reading back."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from gosstand.mocks.core.keys import SigningKeys
from starlette.testclient import TestClient
from utko_inputs import IMPORT, LIST, OBJECT, RECORD, T0, bearer


@pytest.fixture
def utko(service_client: Callable[..., TestClient], control_headers: dict[str, str]) -> TestClient:
    client = service_client("utko")
    client.post("/_gosstand/control/clock", json={"freeze": T0}, headers=control_headers).raise_for_status()
    return client


@pytest.fixture
def auth(esia_signing_keys: SigningKeys) -> dict[str, str]:
    return bearer(esia_signing_keys)


@pytest.fixture
def site(utko, auth) -> tuple[str, str]:
    """A registered object and the access key its registration issued."""
    created = utko.post("/v1/objects", json=OBJECT, headers=auth)
    return created.json()["id"], created.headers["x-access-key"]


def upload(client: TestClient, payload: Any, *, raw: bytes | None = None):
    content = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode()
    return client.post(IMPORT, files={"file": ("weights.json", content, "application/json")})


def envelope(site: tuple[str, str], *records: Any) -> dict[str, Any]:
    return {"objectId": site[0], "accessKey": site[1], "weightControls": list(records)}


def test_import_then_read_back_and_reimport_is_skipped(utko, auth, site):
    later = dict(RECORD, id=2, dateBefore="2026-05-20T06:00:00Z", dateAfter=None, companyName=None, companyInn=None,
                 companyKpp=None, garbageWeight=None)
    first = upload(utko, envelope(site, RECORD, later))
    assert first.status_code == 200, first.text
    assert first.json() == {"objectId": site[0], "received": 2, "imported": ["wc-1", 2], "skipped": [],
                            "rejected": []}
    again = upload(utko, envelope(site, RECORD, dict(later, id="2")))
    assert again.json()["imported"] == [] and again.json()["skipped"] == ["wc-1", "2"]

    listed = utko.get(LIST, params={"objectId": site[0]}, headers=auth).json()
    assert listed["total"] == 2
    # Ordered by dateBefore in UTC: 06:00Z comes after 08:10+03:00 (= 05:10Z).
    assert [item["id"] for item in listed["items"]] == ["wc-1", 2]
    assert {k: v for k, v in listed["items"][0].items() if k != "importedAt"} == RECORD
    assert listed["items"][0]["importedAt"] == "2026-05-20T09:00:00.000Z"


def test_duplicate_ids_within_one_file_are_imported_once(utko, site):
    body = upload(utko, envelope(site, RECORD, dict(RECORD, truckType="Самосвал"))).json()
    assert body["imported"] == ["wc-1"] and body["skipped"] == ["wc-1"]


def test_unknown_object_or_wrong_key_is_403(utko, site):
    assert upload(utko, envelope((site[0], "not-the-key"), RECORD)).status_code == 403
    assert upload(utko, envelope(("00000000-0000-4000-8000-000000000000", site[1]), RECORD)).status_code == 403


def test_control_api_reissues_the_key(utko, site, control_headers):
    url = f"/_gosstand/control/objects/{site[0]}/access-key"
    issued = utko.post(url, json={"accessKey": "known-key-123"}, headers=control_headers)
    assert issued.status_code == 200 and issued.json() == {"objectId": site[0], "accessKey": "known-key-123"}
    assert upload(utko, envelope(site, RECORD)).status_code == 403
    assert upload(utko, envelope((site[0], "known-key-123"), RECORD)).status_code == 200
    fresh = utko.post(url, headers=control_headers).json()["accessKey"]
    assert fresh != "known-key-123" and upload(utko, envelope((site[0], fresh), RECORD)).status_code == 200
    assert utko.post("/_gosstand/control/objects/nope/access-key", headers=control_headers).status_code == 404


@pytest.mark.parametrize(("change", "pointer"), [
    ({"dateBefore": None}, "dateBefore"),
    ({"dateBefore": "2026-05-20T08:10:00"}, "dateBefore"),
    ({"dateBefore": "2026-02-30T08:10:00Z"}, "dateBefore"),
    ({"dateAfter": "2026-05-20T08:00:00+03:00"}, "dateAfter"),
    ({"registrationNumber": "A123BC77"}, "registrationNumber"),
    ({"registrationNumber": None}, "registrationNumber"),
    ({"companyInn": None}, "companyInn"),
    ({"companyInn": "7707083894"}, "companyInn"),
    ({"companyKpp": None}, "companyKpp"),
    ({"companyInn": "500500123491"}, "companyKpp"),
    ({"weightBefore": None}, "weightBefore"),
    ({"weightAfter": -1}, "weightAfter"),
    ({"weightAfter": "11200"}, "weightAfter"),
    ({"garbageWeight": 7300}, "garbageWeight"),
    ({"weightDriver": None}, "garbageWeight"),
    ({"coefficient": 0}, "coefficient"),
    ({"codeFKKO": "73310001726"}, "codeFKKO"),
    ({"id": None}, "id"),
    ({"id": True}, "id"),
])
def test_field_rules(utko, site, change, pointer):
    record = {k: v for k, v in dict(RECORD, **change).items() if v is not None}
    response = upload(utko, envelope(site, record))
    assert response.status_code == 422, response.text
    assert [e["pointer"] for e in response.json()["errors"]] == [f"/weightControls/0/{pointer}"]


def test_sole_proprietor_needs_no_kpp_and_driver_may_be_absent(utko, site):
    record = dict(RECORD, companyInn="500500123491", weightDriver=None, garbageWeight=7300)
    del record["companyKpp"]
    response = upload(utko, envelope(site, {k: v for k, v in record.items() if v is not None}))
    assert response.status_code == 200 and response.json()["imported"] == ["wc-1"]


def test_partly_invalid_batch_imports_the_valid_and_lists_the_rest(utko, auth, site):
    bad = dict(RECORD, id="wc-2", registrationNumber="?")
    response = upload(utko, envelope(site, RECORD, bad, "junk"))
    assert response.status_code == 200
    body = response.json()
    assert body["imported"] == ["wc-1"]
    assert body["rejected"] == [
        {"index": 1, "id": "wc-2", "errors": [{"pointer": "/weightControls/1/registrationNumber",
                                               "detail": body["rejected"][0]["errors"][0]["detail"]}]},
        {"index": 2, "id": None, "errors": [{"pointer": "/weightControls/2", "detail": "must be an object"}]},
    ]
    assert utko.get(LIST, params={"objectId": site[0]}, headers=auth).json()["total"] == 1


def test_malformed_files(utko, site):
    assert utko.post(IMPORT, json=envelope(site, RECORD)).status_code == 415
    assert utko.post(IMPORT, files={"other": ("x.json", b"{}")}).status_code == 400
    assert upload(utko, None, raw=b"{not json").status_code == 400
    assert upload(utko, None, raw="{}".encode("utf-16")).status_code == 400
    assert upload(utko, None, raw=b"\xef\xbb\xbf" + json.dumps(envelope(site)).encode()).status_code == 200
    assert upload(utko, [1]).status_code == 422
    missing = upload(utko, {"weightControls": []})
    assert sorted(e["pointer"] for e in missing.json()["errors"]) == ["/accessKey", "/objectId"]
    assert upload(utko, {"objectId": site[0], "accessKey": site[1], "weightControls": {}}).status_code == 422
    huge = upload(utko, None, raw=b" " * (5 * 1024 * 1024 + 1))
    assert huge.status_code == 413


def test_reading_back_needs_a_token_and_a_known_object(utko, auth, site):
    assert utko.get(LIST, params={"objectId": site[0]}).status_code == 401
    assert utko.get(LIST, headers=auth).status_code == 400
    assert utko.get(LIST, params={"objectId": "x"}, headers=auth).status_code == 400
    assert utko.get(LIST, params={"objectId": "00000000-0000-4000-8000-000000000000"}, headers=auth
                    ).status_code == 404
    upload(utko, envelope(site, *[dict(RECORD, id=i) for i in range(5)]))
    page = utko.get(LIST, params={"objectId": site[0], "limit": 2, "offset": 4}, headers=auth).json()
    assert page["total"] == 5 and len(page["items"]) == 1


def test_the_json_may_come_as_a_plain_form_field_of_more_than_a_megabyte(utko, site):
    records = [dict(RECORD, id=i, truckModel="М" * 290, garbageType="Т" * 290) for i in range(900)]
    payload = json.dumps(envelope(site, *records), ensure_ascii=False)
    assert len(payload.encode()) > 1024 * 1024
    response = utko.post(IMPORT, data={"file": payload}, files={"unused": ("x", b"")})
    assert response.status_code == 200, response.text
    assert len(response.json()["imported"]) == 900
