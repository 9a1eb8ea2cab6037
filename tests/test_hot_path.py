"""The hot path answers the plain reads exactly as the full app does, and declines the rest.

Each test runs two apps of the same service on one store: one with the hot path, one without
(``hot_path=False``), and compares what a client receives from each, byte for byte. Asking a
hot route directly shows that it did answer (and did not merely decline to the full app).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

import pytest
from esia_stand import make_stand
from fts_requests import DECLARATIONS as BASE
from fts_requests import advance, declaration, post
from fts_requests import token as mint
from gosstand.mocks.core.hot_path import HotAnswer, HotRequest, bearer_token
from gosstand.mocks.core.keys import SigningKeys
from starlette.testclient import TestClient


def _hot_answer(client: TestClient, path: str, headers: dict[str, str], query: bytes = b"") -> HotAnswer | None:
    """What the app's hot route for ``path`` answers, asked directly (``None``: it declines)."""
    for route in client.app.state.definition.hot_routes:  # type: ignore[attr-defined]
        match = re.fullmatch(route.pattern, path)
        if match:
            raw_headers = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
            try:
                return asyncio.run(route.answer(HotRequest(match.groups(), query, raw_headers)))
            except Exception:  # noqa: BLE001 — the hot path declines on any exception
                return None
    raise AssertionError(f"no hot route for {path}")


def _same(hot: Any, full: Any) -> None:
    assert (hot.status_code, hot.content) == (full.status_code, full.content)
    for header in ("content-type", "content-length", "x-gosstand-replica"):
        assert hot.headers.get(header) == full.headers.get(header), header


@pytest.mark.parametrize(("value", "token"), [
    (b"Bearer abc.def.ghi", "abc.def.ghi"),
    (b"bearer  abc ", "abc"),
    (b"Basic abc", None),
    (b"Bearer ", None),
    (None, None),
    ("Bearer тест".encode(), None),
])
def test_bearer_token_reads_only_a_bearer_header(value, token):
    assert bearer_token(value) == token


def test_esia_person_root_hot_and_full_agree(service_client, control_headers):
    stand = make_stand(service_client, control_headers)
    oid = stand.seed()
    tokens = stand.login(oid, scope="openid fullname birthdate snils")
    full = service_client("esia", hot_path=False)
    headers = {"Authorization": f"Bearer {tokens.access_token}"}
    path = f"/rs/prns/{oid}"

    answer = _hot_answer(stand.http._client, path, headers)  # type: ignore[attr-defined]
    assert answer is not None and answer.status == 200
    hot_response = stand.http._client.get(path, headers=headers)  # type: ignore[attr-defined]
    _same(hot_response, full.get(path, headers=headers))
    assert hot_response.content == answer.body
    assert hot_response.json()["snils"]

    # the rendering is reused only while the stored record is the same: a change shows at once
    assert hot_response.json()["trusted"] is True
    stand.control.update_user(oid, level="simplified")
    changed = stand.http._client.get(path, headers=headers)  # type: ignore[attr-defined]
    assert changed.json()["trusted"] is False
    _same(changed, full.get(path, headers=headers))


@pytest.mark.parametrize("variant", ["query", "other person", "no token", "garbage token", "trailing slash"])
def test_esia_hot_route_declines_what_it_does_not_serve(service_client, control_headers, variant):
    stand = make_stand(service_client, control_headers)
    oid = stand.seed()
    other = stand.seed()
    tokens = stand.login(oid, scope="openid fullname")
    full = service_client("esia", hot_path=False)
    headers = {"Authorization": f"Bearer {tokens.access_token}"}
    path, query = f"/rs/prns/{oid}", b""
    if variant == "query":
        query = b"embed=(documents.elements)"
    elif variant == "other person":
        path = f"/rs/prns/{other}"
    elif variant == "no token":
        headers = {}
    elif variant == "garbage token":
        headers = {"Authorization": "Bearer x.y.z"}
    if variant == "trailing slash":
        url = path + "/"
    else:
        url = path + (f"?{query.decode()}" if query else "")
        assert _hot_answer(stand.http._client, path, headers, query) is None  # type: ignore[attr-defined]
    _same(stand.http._client.get(url, headers=headers), full.get(url, headers=headers))  # type: ignore[attr-defined]


@pytest.fixture
def fts_pair(service_client: Callable[..., TestClient],
             control_headers: dict[str, str]) -> tuple[TestClient, TestClient]:
    hot = service_client("fts")
    hot.post("/_gosstand/control/clock", json={"freeze": 1_760_000_000.0}, headers=control_headers).raise_for_status()
    return hot, service_client("fts", hot_path=False)


def test_fts_status_hot_and_full_agree_through_the_life_cycle(fts_pair, control_headers,
                                                                esia_signing_keys: SigningKeys):
    hot, full = fts_pair
    auth = {"Authorization": f"Bearer {mint(esia_signing_keys, now=1_760_000_000.0)}"}
    created = post(hot, auth, declaration())
    assert created.status_code == 201, created.text
    path = f"{BASE}/{created.json()['id']}/status"
    seen = []
    for step in range(8):
        auth = {"Authorization": f"Bearer {mint(esia_signing_keys, now=1_760_000_000.0 + step * 1800)}"}
        answer = _hot_answer(hot, path, auth)
        response = hot.get(path, headers=auth)
        _same(response, full.get(path, headers=auth))
        status = response.json()
        assert response.status_code == 200, status
        if answer is None:
            # declined only for the read that issues the registration number
            assert status["registrationNumber"] is not None
            assert _hot_answer(hot, path, auth) is not None
        else:
            assert answer.body == response.content
        seen.append(status["status"])
        advance(hot, control_headers, 1800)
    assert len(set(seen)) > 1, seen


@pytest.mark.parametrize("variant", ["unknown id", "upper-case id", "no token", "missing scope", "expired"])
def test_fts_status_declines_to_the_full_handler(fts_pair, control_headers, esia_signing_keys, variant):
    hot, full = fts_pair
    auth = {"Authorization": f"Bearer {mint(esia_signing_keys, now=1_760_000_000.0)}"}
    declaration_id = post(hot, auth, declaration()).json()["id"]
    if variant == "unknown id":
        declaration_id = "00000000-0000-4000-8000-000000000000"
    elif variant == "upper-case id":
        declaration_id = declaration_id.upper()
    elif variant == "no token":
        auth = {}
    elif variant == "missing scope":
        auth = {"Authorization": f"Bearer {mint(esia_signing_keys, scopes=('fullname',), now=1_760_000_000.0)}"}
    elif variant == "expired":
        advance(hot, control_headers, 10 * 86400)
    path = f"{BASE}/{declaration_id}/status"
    if variant != "upper-case id":
        assert _hot_answer(hot, path, auth) is None
    _same(hot.get(path, headers=auth), full.get(path, headers=auth))


# -- hot answers rendered without Starlette's response objects, as Starlette renders them -----------

def _starlette(response: Any) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    return response.status_code, list(response.raw_headers), bytes(response.body)


def _hot(answer: HotAnswer) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    assert answer.headers is not None
    return answer.status, list(answer.headers), answer.body


@pytest.mark.parametrize("location", [
    "http://127.0.0.1:8000/aas/oauth2/login?rid=h0001", "https://rp.example/cb?code=a.b-c_d&state=x y",
    "https://rp.example/колбэк?error=invalid_request&error_description=Нет параметра", "/relative?a=%20&b=<>\"'",
])
def test_redirects_render_as_starlette_renders_them(location: str):
    from starlette.responses import RedirectResponse

    assert _hot(HotAnswer.redirect(location, status=302)) == _starlette(RedirectResponse(location, status_code=302))


@pytest.mark.parametrize(("status", "headers"), [(200, None), (400, {"Cache-Control": "no-store"}),
                                                 (204, None), (201, {"Content-Type": "text/plain"})])
def test_pages_and_json_render_as_starlette_renders_them(status: int, headers: dict[str, str] | None):
    from starlette.responses import HTMLResponse, JSONResponse

    page = "<!doctype html><p>Ошибка</p>"
    assert _hot(HotAnswer.html(page, status=status, headers=headers)) == _starlette(
        HTMLResponse(page, status_code=status, headers=headers))
    content = {"error": "invalid_grant", "error_description": "Код не найден", "n": [1, 2.5, None]}
    assert _hot(HotAnswer.json(content, status=status, headers=headers)) == _starlette(
        JSONResponse(content, status_code=status, headers=headers))


@pytest.mark.parametrize("value", ["h0000000000000000000000001", "AbC-_.~9", "with space", 'quote"d;semi', "café"])
def test_cookies_render_as_starlette_sets_and_deletes_them(value: str, monkeypatch: pytest.MonkeyPatch):
    import http.cookies
    import time

    from starlette.responses import RedirectResponse

    monkeypatch.setattr(http.cookies, "_getdate", lambda future=0: time.strftime(  # one second for both sides
        "%a, %d %b %Y %H:%M:%S GMT", time.gmtime(1_765_000_000 + future)))
    hot = HotAnswer.redirect("/x", status=302)
    full = RedirectResponse("/x", status_code=302)
    full.set_cookie("esia_sso", value, max_age=28800, httponly=True, samesite="lax", path="/")
    assert _hot(hot.with_cookie("esia_sso", value, max_age=28800, httponly=True)) == _starlette(full)
    full = RedirectResponse("/x", status_code=302)
    full.delete_cookie("esia_sso", path="/")
    assert _hot(hot.with_cookie("esia_sso", max_age=0, expires=0)) == _starlette(full)
