"""Data at scale: the bulk loaders write what the API would have, and every list and filter
request of the benchmark answers exactly what a scan of all the data would — at a small scale.

The expected answers here are computed by brute force from the seeded records (every record of
the declarant, every object), never through the indexes the services read.
"""

from __future__ import annotations

import asyncio
import calendar
import datetime as dt
import json
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from fts_requests import BROKER_ORGANISATIONS
from gosstand.mocks.core.access import organisations_claim
from gosstand.mocks.core.keys import SigningKeys
from gosstand.mocks.core.settings import TEST_STAND_ISSUER
from gosstand.mocks.core.store_url import open_store
from gosstand.mocks.esia.oauth.token_signing import sign
from gosstand.mocks.esia.oauth.tokens import access_token_claims
from gosstand.mocks.fts.bulk import seed_declarations
from gosstand.mocks.fts.lifecycle import progress_of
from gosstand.mocks.fts.validation import validate_declaration
from gosstand.mocks.utko.bulk import access_key_for
from gosstand.mocks.utko.validation import validate_object
from gosstand.scenarios.data_at_scale import readers_organisations, scale_requests
from gosstand.scenarios.identities import russian_faker
from gosstand.stand.seed import SeedPlan, seed_stand, store_urls
from starlette.testclient import TestClient

from gosstand.cli import main as cli_main

T0 = calendar.timegm(dt.datetime(2026, 5, 20, 9, 0, 0).timetuple())
T0_US = T0 * 1_000_000
DECLARATIONS = 2_000
OBJECTS = 400
WEIGHT_CONTROLS = 300
_OBJECT_FIELDS = ("name", "status", "type", "operator", "region", "address", "coordinates", "fkkoCodes")


def _bearer(keys: SigningKeys, organisations: list[dict[str, Any]]) -> dict[str, str]:
    claims = access_token_claims(oid=7, client_id="BROKER", scopes=("openid", "usr_org"), issuer=TEST_STAND_ISSUER,
                                 now=T0, session_id="s", organisations=organisations)
    return {"Authorization": f"Bearer {sign(claims, kind='access', key=keys.private_key)}"}


@pytest.fixture
def auth(esia_signing_keys: SigningKeys, stand: dict[str, Any]) -> dict[str, str]:
    """A reader acting for the organisations the scale requests are about (the largest
    declarant and operator, the operator of the object with weight controls)."""
    parties = readers_organisations(fts=stand["summary"]["fts"], utko=stand["summary"]["utko"])
    return _bearer(esia_signing_keys, organisations_claim(
        (index, party["inn"], party["kpps"]) for index, party in enumerate(parties, start=1)))


async def _all_values(url: str, prefix: str) -> list[dict[str, Any]]:
    """Every JSON value whose key starts with ``prefix`` — the brute-force oracle's input."""
    import sqlite3

    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT key, value FROM kv WHERE key LIKE ?", (prefix + "%",)).fetchall()
    return [json.loads(value) for key, value in rows if key.count(":") == prefix.count(":")]


@pytest.fixture
def stand(tmp_path, service_client: Callable[..., TestClient], control_headers: dict[str, str]) -> dict[str, Any]:
    urls = store_urls(tmp_path)
    for url in urls.values():
        store = open_store(url)
        asyncio.run(store.set("clock", json.dumps({"frozen_at": T0})))
        asyncio.run(store.close())
    summary = asyncio.run(seed_stand(SeedPlan(DECLARATIONS, OBJECTS, WEIGHT_CONTROLS, seed=7),
                                     fts_url=urls["fts"], utko_url=urls["utko"]))
    clients = {service: service_client(service) for service in ("fts", "utko")}
    for client in clients.values():
        client.post("/_gosstand/control/clock", json={"freeze": T0}, headers=control_headers).raise_for_status()
    declarations = asyncio.run(_all_values(urls["fts"], "fts:declaration:"))
    objects = asyncio.run(_all_values(urls["utko"], "utko:object:"))
    return {"summary": summary, "clients": clients, "urls": urls, "declarations": declarations,
            "objects": objects}


def _expected_declarations(records: list[dict[str, Any]], params: dict[str, str]) -> list[str]:
    """The list's answer by brute force: filters, window, cursor, newest first, one page."""
    def keep(record: dict[str, Any]) -> bool:
        if record["declarant"]["inn"] != params["inn"]:
            return False
        if "kpp" in params and record["declarant"].get("kpp") != params["kpp"]:
            return False
        if "direction" in params and record["procedure"]["direction"] != params["direction"]:
            return False
        if "procedure" in params and record["procedure"]["code"] != params["procedure"]:
            return False
        if "status" in params and progress_of(record, T0).status.value != params["status"]:
            return False
        day = dt.datetime.fromtimestamp(record["submittedUs"] / 1e6, dt.UTC).date().isoformat()
        if "dateFrom" in params and day < params["dateFrom"]:
            return False
        if "dateTo" in params and day > params["dateTo"]:
            return False
        if "cursor" in params:
            micros, hex_id = params["cursor"].split("_")
            if (record["submittedUs"], record["id"].replace("-", "")) >= (int(micros), hex_id):
                return False
        return True

    chosen = sorted((r for r in records if keep(r)), key=lambda r: (r["submittedUs"], r["id"]), reverse=True)
    return [record["id"] for record in chosen[: int(params.get("limit", 20))]]


def _expected_objects(records: list[dict[str, Any]], params: dict[str, str]) -> tuple[list[str], int]:
    chosen = [r for r in records
              if params.get("operatorInn", r["operator"]["inn"]) == r["operator"]["inn"]
              and params.get("region", r["region"]) == r["region"] and params.get("type", r["type"]) == r["type"]]
    chosen.sort(key=lambda r: (r["createdUs"], r["id"]))
    offset, limit = int(params.get("offset", 0)), int(params.get("limit", 20))
    if "cursor" in params:  # strictly after (µs, id): the cursor's position
        micros, hex_id = params["cursor"].split("_")
        after = (int(micros), str(uuid.UUID(hex=hex_id)))
        chosen_after = [r for r in chosen if (r["createdUs"], r["id"]) > after]
        return [r["id"] for r in chosen_after[:limit]], len(chosen)
    return [r["id"] for r in chosen[offset:offset + limit]], len(chosen)


def test_seeded_records_pass_the_real_validation(stand):
    declarations, objects = stand["declarations"], stand["objects"]
    assert len(declarations) == DECLARATIONS and len(objects) == OBJECTS
    for record in declarations:
        submission = {name: record[name] for name in ("senderReference", "declarant", "procedure",
                                                      "customsOffice", "goods", "scenario")}
        assert validate_declaration(submission) == submission
    for record in objects:
        fields = {name: record[name] for name in _OBJECT_FIELDS}
        assert validate_object(fields) == fields


def test_seed_is_skewed_over_declarants_plans_and_a_year(stand):
    declarations = stand["declarations"]
    per_declarant = Counter(record["declarant"]["inn"] for record in declarations)
    largest = stand["summary"]["fts"]["largest"]
    assert per_declarant.most_common(1)[0] == (largest["inn"], largest["declarations"]) == (largest["inn"], 100)
    assert sorted(per_declarant.values())[len(per_declarant) // 2] <= 3  # the median declarant files a few
    assert {record["plan"] for record in declarations} >= {"release", "refusal", "inspection"}
    assert {record["procedure"]["direction"] for record in declarations} == {"ИМ", "ЭК"}
    ages = [(T0_US - record["submittedUs"]) / 86_400e6 for record in declarations]
    assert max(ages) <= 366 and min(ages) < 1 and 100 < sorted(ages)[len(ages) // 2] < 260
    assert len({record["declarant"]["kpp"] for record in declarations
                if record["declarant"]["inn"] == largest["inn"]}) == len(largest["kpps"]) > 1


def test_registration_numbers_follow_registration_order_per_office_and_year(stand, auth):
    fts = stand["clients"]["fts"]
    numbered = [r for r in stand["declarations"] if r["registrationNumber"] is not None]
    assert len(numbered) > DECLARATIONS * 0.9
    by_office: dict[tuple[str, str], list[tuple[float, int]]] = {}
    for record in numbered:
        office, day, sequence = record["registrationNumber"].split("/")
        assert office == record["customsOffice"]
        registered = progress_of(record, T0).registered_at
        assert registered is not None and dt.datetime.fromtimestamp(registered, dt.UTC).strftime("%d%m%y") == day
        by_office.setdefault((office, day[-2:]), []).append((registered, int(sequence)))
    for entries in by_office.values():
        entries.sort()
        assert [sequence for _, sequence in entries] == list(range(1, len(entries) + 1))
    largest = stand["summary"]["fts"]["largest"]["inn"]  # the reader acts for it
    sample = next(r for r in numbered if r["declarant"]["inn"] == largest)
    card = fts.get(f"/api/v1/declarations/{sample['id']}", headers=auth).json()
    assert card["registrationNumber"] == sample["registrationNumber"]


def test_every_benchmark_request_answers_what_a_full_scan_would(stand, auth):
    clients, summary = stand["clients"], stand["summary"]
    requests = scale_requests(now=T0, fts=summary["fts"], utko=summary["utko"])
    assert len(requests) >= 20
    non_empty = 0
    for request in requests:
        response = clients[request.service].get(request.path, headers=auth)
        assert response.status_code == 200, (request.name, response.text)
        body = response.json()
        split = urlsplit(request.path)
        params = dict(parse_qsl(split.query))
        if split.path == "/api/v1/declarations":
            got = [item["id"] for item in body["items"]]
            assert got == _expected_declarations(stand["declarations"], params), request.name
            non_empty += bool(got)
        elif split.path == "/v1/objects":
            ids, total = _expected_objects(stand["objects"], params)
            assert ([item["id"] for item in body["items"]], body["total"]) == (ids, total), request.name
            non_empty += bool(ids)
        elif split.path.endswith("/weight-controls"):
            assert body["total"] == WEIGHT_CONTROLS // 10 and len(body["items"]) == 0  # offset 100 > 30
        else:
            times = [item["id"] for item in body["items"]]
            assert len(times) == 50 and all(int(t.split("_")[0]) < T0_US for t in times), request.name
    assert non_empty >= 10  # rare filters (withdrawn, in flight) may find nothing at this scale


def test_paging_a_filter_through_a_large_declarant_skips_and_repeats_nothing(stand, auth):
    fts = stand["clients"]["fts"]
    inn = stand["summary"]["fts"]["largest"]["inn"]
    for filters in ({"status": "released"}, {"direction": "ЭК"}, {}):
        params = {"inn": inn, "limit": "7", **filters}
        seen: list[str] = []
        while True:
            page = fts.get("/api/v1/declarations", params=params, headers=auth).json()
            seen += [item["id"] for item in page["items"]]
            if page["nextCursor"] is None:
                break
            params["cursor"] = page["nextCursor"]
        assert seen == _expected_declarations(stand["declarations"], {"inn": inn, "limit": "100000", **filters})


def test_declarations_filed_and_withdrawn_over_http_join_the_seeded_ones_in_every_filter(stand, auth):
    fts = stand["clients"]["fts"]
    inn = stand["summary"]["fts"]["largest"]["inn"]
    seeded = next(r for r in stand["declarations"] if r["declarant"]["inn"] == inn)
    body = {name: seeded[name] for name in ("senderReference", "declarant", "procedure", "customsOffice", "goods")}
    filed = fts.post("/api/v1/declarations", json={**body, "procedure": {"direction": "ЭК", "code": "31"}},
                     headers={**auth, "Idempotency-Key": "http-1"})
    assert filed.status_code == 201, filed.text
    new_id = filed.json()["id"]

    def first(**params: str) -> list[str]:
        page = fts.get("/api/v1/declarations", params={"inn": inn, "limit": "100", **params}, headers=auth)
        return [item["id"] for item in page.json()["items"]]

    withdrawn_before = first(status="withdrawn")
    for filters in ({}, {"procedure": "31"}, {"direction": "ЭК"}, {"status": "submitted"},
                    {"kpp": seeded["declarant"]["kpp"]}):
        assert first(**filters)[0] == new_id, filters
    answer = fts.post(f"/api/v1/declarations/{new_id}/withdrawal", headers={**auth, "Idempotency-Key": "w1"})
    assert answer.status_code == 200, answer.text
    assert first(status="withdrawn") == [new_id, *withdrawn_before]
    assert new_id not in first(status="submitted")


def test_object_filters_follow_replace_and_delete(stand, auth):
    utko = stand["clients"]["utko"]
    operator = stand["summary"]["utko"]["largestOperator"]  # one the reader acts for
    record = next(r for r in stand["objects"] if r["operator"]["inn"] == operator)
    fields = {name: record[name] for name in _OBJECT_FIELDS}
    region = "01" if record["region"] != "01" else "02"

    def ids(**params: str) -> list[str]:
        body = utko.get("/v1/objects", params={"limit": "100", "operatorInn": operator, **params},
                        headers=auth).json()
        return [item["id"] for item in body["items"]]

    assert record["id"] in ids(region=record["region"], type=record["type"])
    etag = utko.get(f"/v1/objects/{record['id']}", headers=auth).headers["etag"]
    moved = utko.put(f"/v1/objects/{record['id']}", json={**fields, "region": region},
                     headers={**auth, "If-Match": etag})
    assert moved.status_code == 200, moved.text
    assert record["id"] not in ids(region=record["region"], type=record["type"])
    assert record["id"] in ids(region=region, type=record["type"], operatorInn=record["operator"]["inn"])
    assert utko.delete(f"/v1/objects/{record['id']}", headers=auth).status_code == 204
    assert record["id"] not in ids(region=region)
    listed = utko.get("/v1/objects", params={"region": region, "operatorInn": operator}, headers=auth).json()
    assert listed["total"] == len([r for r in stand["objects"] if r["region"] == region
                                   and r["operator"]["inn"] == operator])


@pytest.mark.parametrize("params", [{"region": "00"}, {"region": "7"}, {"type": "dump"},
                                    {"operatorInn": "7707083894"}, {"operatorInn": "77070838"}])
def test_malformed_object_filters_are_400(service_client, control_headers, esia_signing_keys, params):
    auth = _bearer(esia_signing_keys, BROKER_ORGANISATIONS)
    utko = service_client("utko")
    utko.post("/_gosstand/control/clock", json={"freeze": T0}, headers=control_headers).raise_for_status()
    response = utko.get("/v1/objects", params=params, headers=auth)
    assert response.status_code == 400
    assert response.json()["errors"][0]["parameter"] == next(iter(params))


def test_seeded_objects_accept_weight_controls_with_their_derived_key(stand):
    utko = stand["clients"]["utko"]
    object_id = stand["objects"][-1]["id"]
    payload = {"objectId": object_id, "accessKey": access_key_for(object_id, 7), "weightControls": [{
        "id": "load-1", "dateBefore": "2026-05-20T08:00:00Z", "registrationNumber": "А123ВС77",
        "weightBefore": 20000, "weightAfter": 12000}]}
    answer = utko.post("/reo-weight-control-api/api/v1/weight-controls/import",
                       files={"file": ("wc.json", json.dumps(payload), "application/json")})
    assert answer.status_code == 200, answer.text
    assert answer.json()["imported"] == ["load-1"]


def test_seeding_refuses_a_store_that_holds_declarations(stand):
    store = open_store(stand["urls"]["fts"])
    try:
        with pytest.raises(ValueError, match="already holds declarations"):
            asyncio.run(seed_declarations(store, count=10, now=T0, people=lambda seed: russian_faker(seed=seed)))
    finally:
        asyncio.run(store.close())


def test_cli_seeds_a_state_directory(tmp_path, capsys):
    assert cli_main(["seed", "--state-dir", str(tmp_path), "--declarations", "300", "--objects", "40",
                     "--weight-controls", "20"]) == 0
    printed = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert printed["fts"]["declarations"] == 300 and printed["utko"]["objects"] == 40
    assert printed["utko"]["weightControls"] == 20
    assert (tmp_path / "fts.sqlite3").exists() and (tmp_path / "utko.sqlite3").exists()
