"""Requests to customs (обращения): statuses on the clock, history, comments, attachments, keys."""

from __future__ import annotations

import base64
import uuid

from fts_requests import submit

APPEALS = "/api/v1/appeals"
PDF = b"%PDF-1.7\n%%EOF\n"


def appeal(**changes) -> dict:
    return {"inn": "7707083893", "kpp": "773601001", "subject": "Корректировка таможенной стоимости",
            "text": "Просим разъяснить порядок корректировки.", **changes}


def file(fts, auth, body, key=None):
    return fts.post(APPEALS, json=body, headers={**auth, "Idempotency-Key": key or str(uuid.uuid4())})


def test_an_appeal_moves_through_its_statuses_on_the_clock_with_officers_comments(fts, auth, advance):
    declaration_id = submit(fts, auth)
    attachment = {"fileName": "invoice.pdf", "content": base64.b64encode(PDF).decode()}
    response = file(fts, auth, appeal(declarationId=declaration_id, attachments=[attachment]))
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "В обработке" and created["number"] == "20260601/000001"
    assert created["attachments"] == [{"fileName": "invoice.pdf", "mediaType": "application/pdf",
                                       "size": len(PDF), "sha256": created["attachments"][0]["sha256"]}]
    advance(60)
    card = fts.get(response.headers["Location"], headers=auth).json()
    assert card["status"] == "На согласовании"
    advance(240)
    card = fts.get(f"{APPEALS}/{created['id']}", headers=auth).json()
    assert [h["status"] for h in card["history"]] == ["В обработке", "На согласовании", "Завершено"]
    assert card["history"][-1]["comment"] == "Ответ на обращение направлен заявителю"
    listed = fts.get(APPEALS, params={"inn": "7707083893"}, headers=auth).json()["items"]
    assert [a["id"] for a in listed] == [created["id"]]


def test_comments_until_finished_then_409_and_idempotent_by_key(fts, auth, advance):
    appeal_id = file(fts, auth, appeal()).json()["id"]
    url = f"{APPEALS}/{appeal_id}/comments"
    first = fts.post(url, json={"text": "Дополнение"}, headers={**auth, "Idempotency-Key": "c-1"})
    assert first.status_code == 201
    again = fts.post(url, json={"text": "Дополнение"}, headers={**auth, "Idempotency-Key": "c-1"})
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert fts.post(url, json={"text": "Другое"}, headers={**auth, "Idempotency-Key": "c-1"}).status_code == 409
    card = fts.get(f"{APPEALS}/{appeal_id}", headers=auth).json()
    assert [c["text"] for c in card["comments"]] == ["Дополнение"]
    advance(300)
    late = fts.post(url, json={"text": "Поздно"}, headers={**auth, "Idempotency-Key": "c-2"})
    assert late.status_code == 409 and late.json()["currentStatus"] == "Завершено"


def test_filing_is_idempotent_by_key(fts, auth):
    first = file(fts, auth, appeal(), key="a-1")
    again = file(fts, auth, appeal(), key="a-1")
    assert again.status_code == 201 and again.json() == first.json()
    assert file(fts, auth, appeal(subject="Другое"), key="a-1").status_code == 409
    assert len(fts.get(APPEALS, params={"inn": "7707083893"}, headers=auth).json()["items"]) == 1


def test_every_bad_field_is_listed(fts, auth):
    bad = appeal(inn="1234567890", kpp="00", subject=" ", declarationId="nope",
                 attachments=[{"fileName": "a.zip", "content": base64.b64encode(b"PK\x03\x04").decode()},
                              {"fileName": "b.xml", "content": base64.b64encode(b"<a><b></a>").decode()},
                              {"fileName": "c", "content": "***"}])
    response = file(fts, auth, bad)
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json()["errors"]] == [
        "/inn", "/kpp", "/subject", "/declarationId", "/attachments/0/content", "/attachments/1/content",
        "/attachments/2/content"]


def test_an_appeal_about_no_declaration_may_say_so_with_null(fts, auth):
    answer = file(fts, auth, appeal(declarationId=None))
    assert answer.status_code == 201 and answer.json()["declarationId"] is None


def test_unknown_appeals_bad_queries_and_missing_tokens(fts, auth):
    assert fts.get(f"{APPEALS}/{uuid.uuid4()}", headers=auth).status_code == 404
    assert fts.post(f"{APPEALS}/{uuid.uuid4()}/comments", json={"text": "x"},
                    headers={**auth, "Idempotency-Key": "k"}).status_code == 404
    assert fts.get(APPEALS, params={"inn": "1"}, headers=auth).status_code == 400
    assert fts.get(APPEALS, params={"inn": "7707083893"}).status_code == 401
    assert fts.post(APPEALS, json=appeal(), headers=auth).status_code == 400  # no Idempotency-Key


def _page(fts, auth, **params):
    response = fts.get(APPEALS, params={"inn": "7707083893", **params}, headers=auth)
    assert response.status_code == 200, response.text
    body = response.json()
    return [item["id"] for item in body["items"]], body["nextCursor"]


def test_appeals_page_by_cursor_and_repeat_or_skip_nothing_while_more_are_filed(fts, auth, advance):
    filed = []
    for n in range(7):  # some in the same instant (ties sort by id), some apart
        filed.append(file(fts, auth, appeal()).json()["id"])
        if n % 3 == 2:
            advance(1)
    seen, cursor, pages = [], None, 0
    while True:
        ids, cursor = _page(fts, auth, limit="3", **({"cursor": cursor} if cursor else {}))
        seen += ids
        pages += 1
        if pages == 1:  # filed later than the first page: they sort before the cursor, never onto later pages
            advance(1)
            file(fts, auth, appeal())
            file(fts, auth, appeal())
        if cursor is None:
            break
    assert sorted(seen) == sorted(filed) and len(seen) == len(set(seen)) == 7
    assert pages == 3
    newest, _ = _page(fts, auth, limit="100")
    assert len(newest) == 9 and newest[2:] == seen


def test_a_malformed_appeals_cursor_is_400(fts, auth):
    response = fts.get(APPEALS, params={"inn": "7707083893", "cursor": "yesterday"}, headers=auth)
    assert response.status_code == 400
    assert response.json()["errors"][0]["parameter"] == "cursor"
