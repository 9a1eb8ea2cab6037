"""FTS declarations API: submit, validation, idempotency, listing with cursor paging, auth."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fts_requests import DECLARATIONS as BASE
from fts_requests import ORGANISATION, PROPRIETOR, T0, advance, declaration, post
from fts_requests import token as mint
from gosstand.mocks.core.keys import SigningKeys
from starlette.testclient import TestClient


@pytest.fixture
def fts(frozen_service: Callable[..., TestClient]) -> TestClient:
    return frozen_service("fts", T0)


@pytest.fixture
def auth(esia_signing_keys: SigningKeys) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint(esia_signing_keys)}"}


# --- submit ----------------------------------------------------------------------------------


def test_submit_answers_201_with_the_card_and_its_location(fts, auth):
    response = post(fts, auth, declaration())
    assert response.status_code == 201
    card = response.json()
    assert response.headers["location"] == f"{BASE}/{card['id']}"
    assert "idempotent-replayed" not in response.headers
    assert card["status"] == "submitted"
    assert card["registrationNumber"] is None and card["decisionCode"] is None
    assert card["submittedAt"] == "2026-05-20T09:00:00.000Z"
    assert card["declarant"] == ORGANISATION
    assert card["statusHistory"] == [{"status": "submitted", "at": "2026-05-20T09:00:00.000Z", "comment": "ДТ подана"}]
    assert fts.get(response.headers["location"], headers=auth).json() == card


def test_a_sole_proprietor_declares_without_kpp(fts, auth):
    response = post(fts, auth, declaration(PROPRIETOR))
    assert response.status_code == 201, response.text
    assert "kpp" not in response.json()["declarant"]


def _pointers(response) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [error["pointer"] for error in response.json()["errors"]]


@pytest.mark.parametrize(("change", "pointer"), [
    (("declarant", "inn"), "7707083894"),
    (("declarant", "kpp"), "7736AB001"),
    (("declarant", "ogrn"), "1027700132196"),
    (("procedure", "code"), "10"),
    (("goods", 0, "tnved"), "7712345678"),
    (("goods", 0, "quantity"), 0),
    (("goods", 0, "customsValue"), "0.00"),
    (("goods", 0, "customsValue"), "12.5"),
    (("goods", 0, "currency"), "rub"),
    (("goods", 0, "originCountry"), "RUS"),
    (("goods", 0, "deliveryTerms"), "FOO"),
], ids=lambda v: "/".join(map(str, v)) if isinstance(v, tuple) else repr(v))
def test_each_invalid_field_is_a_422_pointing_at_it(fts, auth, change, pointer):
    path, value = change, pointer
    body = declaration()
    target: Any = body
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    assert _pointers(post(fts, auth, body)) == ["/" + "/".join(map(str, path))]


def test_every_bad_field_is_listed_at_once(fts, auth):
    body = declaration(customsOffice="20005020", senderReference="")
    body["declarant"]["inn"] = "1234567890"
    body["goods"].append(dict(body["goods"][0], tnved="12345", unit=" "))
    del body["goods"][0]["description"]
    assert sorted(_pointers(post(fts, auth, body))) == sorted([
        "/senderReference", "/declarant/inn", "/customsOffice", "/goods/0/description",
        "/goods/1/tnved", "/goods/1/unit",
    ])


def test_cross_field_rules_of_the_declarant(fts, auth):
    no_kpp = declaration({k: v for k, v in ORGANISATION.items() if k != "kpp"})
    assert _pointers(post(fts, auth, no_kpp, "a")) == ["/declarant/kpp"]
    with_kpp = declaration({**PROPRIETOR, "kpp": "773601001"})
    assert _pointers(post(fts, auth, with_kpp, "b")) == ["/declarant/kpp"]
    ogrn_of_a_person = declaration({**ORGANISATION, "ogrn": PROPRIETOR["ogrn"]})
    assert _pointers(post(fts, auth, ogrn_of_a_person, "c")) == ["/declarant/ogrn"]


def test_malformed_requests(fts, auth):
    assert post(fts, auth, []).status_code == 422
    assert fts.post(BASE, json=declaration(), headers=auth).status_code == 400  # no Idempotency-Key
    raw = fts.post(BASE, content=b"{", headers={**auth, "Idempotency-Key": "k", "Content-Type": "application/json"})
    assert raw.status_code == 400
    form = fts.post(BASE, data={"a": "b"}, headers={**auth, "Idempotency-Key": "k"})
    assert form.status_code == 415
    assert post(fts, auth, declaration(), key="x" * 129).status_code == 400
    huge = declaration(goods=[declaration()["goods"][0]] * 999)
    huge["goods"][0] = dict(huge["goods"][0], description="я" * 1000)
    assert post(fts, auth, declaration(goods=huge["goods"] * 2)).status_code in (413, 422)
    put = fts.put(BASE, json={}, headers=auth)
    assert put.status_code == 405 and set(put.headers["allow"].split(", ")) >= {"GET", "POST"}


# --- idempotency -----------------------------------------------------------------------------


def _count(fts, auth) -> int:
    return len(fts.get(BASE, params={"inn": ORGANISATION["inn"]}, headers=auth).json()["items"])


def test_a_retry_with_the_same_key_returns_the_first_result_and_files_nothing(fts, auth, control_headers):
    first = post(fts, auth, declaration())
    advance(fts, control_headers, 60)  # the card has moved on; the replay still says what the first said
    again = post(fts, auth, copy.deepcopy(declaration()))
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert _count(fts, auth) == 1


def test_the_same_key_with_another_body_is_rejected(fts, auth):
    first = post(fts, auth, declaration())
    other = post(fts, auth, declaration(senderReference="BRK-0002"))
    assert other.status_code == 409
    assert other.json()["existingId"] == first.json()["id"]
    assert _count(fts, auth) == 1


def test_keys_belong_to_a_declarant(fts, auth):
    assert post(fts, auth, declaration()).status_code == 201
    assert post(fts, auth, declaration(PROPRIETOR)).status_code == 201
    assert "idempotent-replayed" not in post(fts, auth, declaration(PROPRIETOR), key="key-2").headers


def test_racing_replicas_file_one_declaration(make_settings):
    """Two replicas (two apps on one store file) take the same key at once: one record wins,
    the loser's is deleted and both answer with the winner."""
    import asyncio

    from gosstand.mocks.core.app import create_app
    from gosstand.mocks.fts.repository import DeclarationRepository

    settings = make_settings("fts")
    apps = [create_app(settings), create_app(settings)]
    repositories = [DeclarationRepository(app.state.ctx.store) for app in apps]
    records = [dict(declaration(), id=f"00000000-0000-4000-8000-00000000000{i}", submittedUs=T0 * 10**6 + i,
                    plan="release", registrationNumber=None, fingerprint="same") for i in (1, 2)]

    async def race() -> list[Any]:
        pairs = zip(repositories, records, strict=True)
        return await asyncio.gather(*(repo.submit(rec, idempotency_key="k") for repo, rec in pairs))

    claims = asyncio.run(race())
    assert sorted(claim.created for claim in claims) == [False, True]
    assert claims[0].record["id"] == claims[1].record["id"]
    loser = next(rec for rec in records if rec["id"] != claims[0].record["id"])
    assert asyncio.run(repositories[0].get(loser["id"])) is None


# --- listing ---------------------------------------------------------------------------------


def _file(fts, auth, control_headers, n: int, **changes: Any) -> list[str]:
    """File ``n`` declarations one mock second apart; their ids in filing order."""
    ids = []
    for _ in range(n):
        key = str(uuid.uuid4())
        response = post(fts, auth, declaration(senderReference=key[:8], **changes), key=key)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
        advance(fts, control_headers, 1)
    return ids


def test_list_is_newest_first_and_filters(fts, auth, control_headers):
    imports = _file(fts, auth, control_headers, 2)
    exports = _file(fts, auth, control_headers, 2, procedure={"direction": "ЭК", "code": "10"})
    listed = fts.get(BASE, params={"inn": ORGANISATION["inn"]}, headers=auth).json()
    assert [card["id"] for card in listed["items"]] == list(reversed(imports + exports))
    assert listed["nextCursor"] is None

    def ids(**params: str) -> list[str]:
        response = fts.get(BASE, params={"inn": ORGANISATION["inn"], **params}, headers=auth)
        assert response.status_code == 200, response.text
        return [card["id"] for card in response.json()["items"]]

    assert ids(direction="ЭК") == list(reversed(exports))
    assert ids(procedure="40") == list(reversed(imports))
    assert ids(kpp=ORGANISATION["kpp"]) == list(reversed(imports + exports))
    assert ids(kpp="773601002") == []
    assert ids(status="submitted") == list(reversed(imports + exports))
    # Filed at T0..T0+3, now T0+4; two seconds on, the two filed first are registered (5 s each).
    advance(fts, control_headers, 2)
    assert ids(status="registered") == list(reversed(imports))
    assert ids(status="submitted") == list(reversed(exports))
    assert ids(dateFrom="2026-05-20", dateTo="2026-05-20") == list(reversed(imports + exports))
    assert ids(dateFrom="2026-05-21") == [] and ids(dateTo="2026-05-19") == []
    assert fts.get(BASE, params={"inn": PROPRIETOR["inn"]}, headers=auth).json()["items"] == []


@pytest.mark.parametrize("params", [
    {}, {"inn": "7707083894"}, {"inn": ORGANISATION["inn"], "limit": "0"},
    {"inn": ORGANISATION["inn"], "limit": "x"}, {"inn": ORGANISATION["inn"], "status": "lost"},
    {"inn": ORGANISATION["inn"], "dateFrom": "2026-02-30"}, {"inn": ORGANISATION["inn"], "cursor": "abc"},
    {"inn": ORGANISATION["inn"], "kpp": ""},
])
def test_malformed_list_queries_are_400(fts, auth, params):
    response = fts.get(BASE, params=params, headers=auth)
    assert response.status_code == 400
    assert response.json()["errors"][0]["parameter"]


def test_cursor_paging_skips_and_repeats_nothing_while_declarations_arrive(fts, auth, control_headers):
    filed = _file(fts, auth, control_headers, 7)
    seen: list[str] = []
    params = {"inn": ORGANISATION["inn"], "limit": "3"}
    page = fts.get(BASE, params=params, headers=auth).json()
    seen += [card["id"] for card in page["items"]]
    newer = _file(fts, auth, control_headers, 2, customsOffice="10702070")  # arrive between pages
    while page["nextCursor"]:
        page = fts.get(BASE, params={**params, "cursor": page["nextCursor"]}, headers=auth).json()
        assert len(page["items"]) <= 3
        seen += [card["id"] for card in page["items"]]
    assert seen == list(reversed(filed))
    assert not set(newer) & set(seen)


# --- authentication --------------------------------------------------------------------------


def test_no_token_is_401_with_www_authenticate(fts):
    response = post(fts, {}, declaration())
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert fts.get(BASE, params={"inn": ORGANISATION["inn"]}).status_code == 401


@pytest.mark.parametrize("kind", ["expired", "foreign issuer", "garbage"])
def test_bad_tokens_are_401(fts, esia_signing_keys, kind):
    token = {
        "expired": lambda: mint(esia_signing_keys, now=T0 - 3601),
        "foreign issuer": lambda: mint(esia_signing_keys, issuer="https://esia.example/"),
        "garbage": lambda: "not.a.jwt",
    }[kind]()
    response = fts.get(BASE, params={"inn": ORGANISATION["inn"]}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_submitting_needs_usr_org(fts, esia_signing_keys):
    reader = {"Authorization": f"Bearer {mint(esia_signing_keys, scopes=('openid', 'fullname'))}"}
    response = post(fts, reader, declaration())
    assert response.status_code == 403
    assert "usr_org" in response.json()["detail"]
    assert fts.get(BASE, params={"inn": ORGANISATION["inn"]}, headers=reader).status_code == 200
