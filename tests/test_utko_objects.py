"""UTKO objects: CRUD round trip, validation with pointers, 404, paging, auth."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from gosstand.mocks.core.keys import SigningKeys
from starlette.testclient import TestClient
from utko_inputs import OBJECT, PROPRIETOR_ORGANISATIONS, T0, bearer


@pytest.fixture
def utko(service_client: Callable[..., TestClient], control_headers: dict[str, str]) -> TestClient:
    client = service_client("utko")
    client.post("/_gosstand/control/clock", json={"freeze": T0}, headers=control_headers).raise_for_status()
    return client


@pytest.fixture
def auth(esia_signing_keys: SigningKeys) -> dict[str, str]:
    return bearer(esia_signing_keys)


def test_crud_round_trip(utko, auth, control_headers):
    created = utko.post("/v1/objects", json=OBJECT, headers=auth)
    assert created.status_code == 201, created.text
    body = created.json()
    location = created.headers["location"]
    assert location == f"/v1/objects/{body['id']}"
    assert {k: v for k, v in body.items() if k not in ("id", "createdAt", "updatedAt")} == OBJECT
    assert body["createdAt"] == body["updatedAt"] == "2026-05-20T09:00:00.000Z"
    assert utko.get(location, headers=auth).json() == body

    utko.post("/_gosstand/control/clock", json={"advance": 60}, headers=control_headers)
    changed = dict(OBJECT, status="suspended", fkkoCodes=["73310001724"])
    assert created.headers["etag"] == '"v1"'
    replaced = utko.put(location, json=changed, headers={**auth, "If-Match": created.headers["etag"]})
    assert replaced.status_code == 200
    assert replaced.json()["status"] == "suspended" and replaced.json()["fkkoCodes"] == ["73310001724"]
    assert replaced.json()["createdAt"] == body["createdAt"]
    assert replaced.json()["updatedAt"] == "2026-05-20T09:01:00.000Z"
    assert replaced.headers["etag"] == utko.get(location, headers=auth).headers["etag"] == '"v2"'
    assert utko.get(location, headers=auth).json() == replaced.json()

    assert utko.delete(location, headers=auth).status_code == 204
    assert utko.get(location, headers=auth).status_code == 404
    assert utko.delete(location, headers=auth).status_code == 404
    assert utko.get("/v1/objects", headers=auth).json()["total"] == 0


def test_a_sole_proprietor_operates_without_kpp(utko, esia_signing_keys):
    body = dict(OBJECT, operator={"inn": "500500123491"})
    proprietor = bearer(esia_signing_keys, organisations=PROPRIETOR_ORGANISATIONS)
    assert utko.post("/v1/objects", json=body, headers=proprietor).status_code == 201


def _pointers(response) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return sorted(error["pointer"] for error in response.json()["errors"])


@pytest.mark.parametrize(("field", "value", "pointer"), [
    ("name", " ", "/name"),
    ("status", "open", "/status"),
    ("type", "landfill", "/type"),
    ("region", "7", "/region"),
    ("region", "00", "/region"),
    ("operator", {"inn": "7707083894", "kpp": "773601001"}, "/operator/inn"),
    ("operator", {"inn": "7707083893"}, "/operator/kpp"),
    ("operator", {"inn": "7707083893", "kpp": "0036AB001"}, "/operator/kpp"),
    ("operator", {"inn": "500500123491", "kpp": "773601001"}, "/operator/kpp"),
    ("coordinates", {"lat": 91, "lon": 0}, "/coordinates/lat"),
    ("coordinates", {"lat": 0, "lon": -180.5}, "/coordinates/lon"),
    ("fkkoCodes", ["73310001726"], "/fkkoCodes/0"),
    ("fkkoCodes", ["7331000172"], "/fkkoCodes/0"),
    ("fkkoCodes", [], "/fkkoCodes"),
    ("fkkoCodes", ["73310001724", "73310001724"], "/fkkoCodes"),
])
def test_invalid_fields_are_422_with_pointers(utko, auth, field, value, pointer):
    assert _pointers(utko.post("/v1/objects", json=dict(OBJECT, **{field: value}), headers=auth)) == [pointer]


def test_all_bad_fields_at_once_and_on_put_too(utko, auth):
    bad: dict[str, Any] = dict(OBJECT, region="100", coordinates={"lat": "55", "lon": 37})
    del bad["name"]
    expected = ["/coordinates/lat", "/name", "/region"]
    assert _pointers(utko.post("/v1/objects", json=bad, headers=auth)) == expected
    location = utko.post("/v1/objects", json=OBJECT, headers=auth).headers["location"]
    assert _pointers(utko.put(location, json=bad, headers={**auth, "If-Match": "*"})) == expected


def test_unknown_ids_are_404(utko, auth):
    for path in (f"/v1/objects/{uuid.uuid4()}", "/v1/objects/42"):
        assert utko.get(path, headers=auth).status_code == 404
        assert utko.put(path, json=OBJECT, headers=auth).status_code == 404
        assert utko.delete(path, headers=auth).status_code == 404


def test_paging_by_limit_and_offset(utko, auth, control_headers):
    ids = []
    for index in range(5):
        ids.append(utko.post("/v1/objects", json=dict(OBJECT, name=f"Площадка {index}"), headers=auth).json()["id"])
        utko.post("/_gosstand/control/clock", json={"advance": 1}, headers=control_headers)
    first = utko.get("/v1/objects", params={"limit": 2}, headers=auth).json()
    second = utko.get("/v1/objects", params={"limit": 2, "offset": 2}, headers=auth).json()
    rest = utko.get("/v1/objects", params={"limit": 2, "offset": 4}, headers=auth).json()
    assert [o["id"] for o in first["items"] + second["items"] + rest["items"]] == ids
    assert first["total"] == 5 and (rest["limit"], rest["offset"]) == (2, 4)
    for params in ({"limit": 0}, {"limit": 101}, {"offset": -1}, {"limit": "many"}):
        response = utko.get("/v1/objects", params=params, headers=auth)
        assert response.status_code == 400 and response.json()["errors"][0]["parameter"]


def _walk(utko, auth, params, *, between=None) -> list[str]:
    """Every id the list gives, following nextCursor from the first page; ``between(page)``
    runs after each page (to change the register while it is being read)."""
    seen: list[str] = []
    page = utko.get("/v1/objects", params=params, headers=auth).json()
    while True:
        seen += [o["id"] for o in page["items"]]
        if between:
            between(page)
        if "nextCursor" not in page:
            return seen
        page = utko.get("/v1/objects", params={**params, "cursor": page["nextCursor"]}, headers=auth).json()
        assert "offset" not in page


def test_paging_by_cursor_reads_every_object_once_in_creation_order(utko, auth, control_headers):
    ids = []
    for index in range(7):  # three pairs created in the same microsecond: ties are ordered by id
        created = utko.post("/v1/objects", json=dict(OBJECT, name=f"Площадка {index}"), headers=auth).json()
        ids.append((created["createdAt"], created["id"]))
        if index % 2:
            utko.post("/_gosstand/control/clock", json={"advance": 1}, headers=control_headers)
    assert len({moment for moment, _ in ids}) == 4  # the ties are real
    in_order = [object_id for _, object_id in sorted(ids)]
    assert _walk(utko, auth, {"limit": 2}) == in_order
    assert _walk(utko, auth, {"limit": 100}) == in_order
    last_offset_page = utko.get("/v1/objects", params={"limit": 3, "offset": 4}, headers=auth).json()
    assert "nextCursor" not in last_offset_page and last_offset_page["offset"] == 4
    middle = utko.get("/v1/objects", params={"limit": 3, "offset": 1}, headers=auth).json()
    after_middle = utko.get("/v1/objects", params={"limit": 3, "cursor": middle["nextCursor"]}, headers=auth).json()
    assert [o["id"] for o in after_middle["items"]] == in_order[4:7]


def test_objects_created_or_deleted_while_paging_neither_repeat_nor_go_missing(utko, auth, control_headers):
    for index in range(6):
        utko.post("/v1/objects", json=dict(OBJECT, name=f"Площадка {index}"), headers=auth)
        utko.post("/_gosstand/control/clock", json={"advance": 1}, headers=control_headers)
    created_meanwhile: list[str] = []

    def change_register(page: dict) -> None:
        utko.delete(f"/v1/objects/{page['items'][0]['id']}", headers=auth)  # one already shown
        if len(created_meanwhile) < 2:
            created_meanwhile.append(utko.post("/v1/objects", json=OBJECT, headers=auth).json()["id"])
            utko.post("/_gosstand/control/clock", json={"advance": 1}, headers=control_headers)

    seen = _walk(utko, auth, {"limit": 2}, between=change_register)
    assert len(seen) == len(set(seen)) == 8 and seen[-2:] == created_meanwhile


def test_cursor_paging_within_a_filter(utko, auth, control_headers):
    wanted = []
    for index in range(5):
        region = "77" if index % 2 == 0 else "50"
        created = utko.post("/v1/objects", json=dict(OBJECT, region=region), headers=auth).json()
        if region == "77":
            wanted.append(created["id"])
        utko.post("/_gosstand/control/clock", json={"advance": 1}, headers=control_headers)
    assert _walk(utko, auth, {"limit": 1, "region": "77"}) == wanted


def test_an_offset_with_a_cursor_counts_from_the_cursor(utko, auth, control_headers):
    ids = []
    for _ in range(6):
        ids.append(utko.post("/v1/objects", json=OBJECT, headers=auth).json()["id"])
        utko.post("/_gosstand/control/clock", json={"advance": 1}, headers=control_headers)
    first = utko.get("/v1/objects", params={"limit": 2}, headers=auth).json()
    skipped = utko.get("/v1/objects", params={"limit": 2, "offset": 1, "cursor": first["nextCursor"]},
                       headers=auth).json()
    assert [o["id"] for o in first["items"]] == ids[:2]
    assert [o["id"] for o in skipped["items"]] == ids[3:5] and "offset" not in skipped


def test_bad_cursors_are_400_naming_the_parameter(utko, auth):
    for params in ({"cursor": "12_zz"}, {"cursor": ""}, {"cursor": "1_" + "0" * 32 + "x", "offset": 0}):
        response = utko.get("/v1/objects", params=params, headers=auth)
        assert response.status_code == 400, (params, response.text)
        assert response.json()["errors"][0]["parameter"] == "cursor"


def test_malformed_bodies_and_methods(utko, auth):
    assert utko.post("/v1/objects", content=b"[", headers={**auth, "Content-Type": "application/json"}
                     ).status_code == 400
    assert utko.post("/v1/objects", data={"name": "x"}, headers=auth).status_code == 415
    assert utko.post("/v1/objects", json=[OBJECT], headers=auth).status_code == 422
    patch = utko.patch("/v1/objects", json={}, headers=auth)
    assert patch.status_code == 405 and "POST" in patch.headers["allow"]


def test_auth(utko, esia_signing_keys):
    unauthenticated = utko.get("/v1/objects")
    assert unauthenticated.status_code == 401 and unauthenticated.headers["www-authenticate"].startswith("Bearer")
    for headers in (bearer(esia_signing_keys, issuer="https://elsewhere/"), bearer(esia_signing_keys, now=T0 - 7200)):
        response = utko.post("/v1/objects", json=OBJECT, headers=headers)
        assert response.status_code == 401 and 'error="invalid_token"' in response.headers["www-authenticate"]
    reader = bearer(esia_signing_keys, scopes=("openid",))
    assert utko.get("/v1/objects", headers=reader).status_code == 200
    assert utko.post("/v1/objects", json=OBJECT, headers=reader).status_code == 403
    assert utko.delete(f"/v1/objects/{uuid.uuid4()}", headers=reader).status_code == 403


def test_put_needs_if_match_naming_the_current_version(utko, auth):
    created = utko.post("/v1/objects", json=OBJECT, headers=auth)
    location = created.headers["location"]
    missing = utko.put(location, json=OBJECT, headers=auth)
    assert missing.status_code == 428 and missing.headers["content-type"] == "application/problem+json"
    first = utko.put(location, json=dict(OBJECT, status="inactive"), headers={**auth, "If-Match": '"v1"'})
    assert first.status_code == 200 and first.headers["etag"] == '"v2"'
    # A second writer still holding v1 has not seen the change: refused, told the current version.
    lost = utko.put(location, json=dict(OBJECT, status="closed"), headers={**auth, "If-Match": '"v1"'})
    assert lost.status_code == 412 and lost.headers["etag"] == '"v2"'
    assert utko.get(location, headers=auth).json()["status"] == "inactive"
    for tag in ('W/"v2"', '"v3"', "v2"):
        assert utko.put(location, json=OBJECT, headers={**auth, "If-Match": tag}).status_code == 412
    assert utko.put(location, json=OBJECT, headers={**auth, "If-Match": '"v9", "v2"'}).headers["etag"] == '"v3"'
    assert utko.put(location, json=OBJECT, headers={**auth, "If-Match": "*"}).headers["etag"] == '"v4"'
    assert utko.put(location, json=OBJECT, headers={**auth, "If-Match": " , "}).status_code == 400


def test_delete_honours_if_match(utko, auth):
    location = utko.post("/v1/objects", json=OBJECT, headers=auth).headers["location"]
    assert utko.delete(location, headers={**auth, "If-Match": '"v2"'}).status_code == 412
    assert utko.delete(location, headers={**auth, "If-Match": '"v1"'}).status_code == 204
    assert utko.get(location, headers=auth).status_code == 404


def test_racing_replicas_cannot_both_win():
    """Two replicas that both read v1 before either wrote: the compare-and-set lets only one through."""
    import asyncio

    from gosstand.mocks.core.store_url import open_store
    from gosstand.mocks.utko.repository import ObjectRepository

    async def race() -> tuple[list[bool], dict | None]:
        store = open_store("memory:")
        repository = ObjectRepository(store)
        await repository.create({"id": "o1", "createdUs": 1, "updatedUs": 1, "version": 1})
        read_by_a, read_by_b = await repository.read("o1"), await repository.read("o1")
        assert read_by_a is not None and read_by_b is not None
        outcome = [await repository.replace({**read_by_a.record, "version": 2, "by": "a"}, read_by_a),
                   await repository.replace({**read_by_b.record, "version": 2, "by": "b"}, read_by_b)]
        final = await repository.get("o1")
        await store.close()
        return outcome, final

    outcome, final = asyncio.run(race())
    assert outcome == [True, False] and final is not None and final["by"] == "a"
