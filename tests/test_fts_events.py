"""The FTS event feed: every status change of a declarant's declarations, by cursor, on the clock."""

from __future__ import annotations

import uuid

from fts_requests import submit, withdraw

EVENTS = "/api/v1/events"
INN = "7707083893"


def events(fts, auth, cursor: str | None = None, **params) -> dict:
    query = {"inn": INN, **params}
    if cursor is not None:
        query["cursor"] = cursor
    response = fts.get(EVENTS, params=query, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


def test_events_follow_the_life_cycle_and_a_cursor_returns_only_what_is_new(fts, auth, advance):
    first = submit(fts, auth)
    advance(0.001)
    page = events(fts, auth)
    assert [(e["declarationId"], e["status"]) for e in page["items"]] == [(first, "submitted")]
    cursor = page["nextCursor"]
    assert events(fts, auth, cursor) == {"items": [], "nextCursor": cursor}  # nothing new: same cursor
    second = submit(fts, auth, "inspection")
    advance(20)
    page = events(fts, auth, cursor)
    assert [(e["declarationId"], e["status"]) for e in page["items"]] == [
        (second, "submitted"), (first, "registered"), (second, "registered"), (second, "under_control")]
    registered = page["items"][1]
    assert registered["comment"] == f"ДТ зарегистрирована. Регистрационный номер ДТ {registered['registrationNumber']}"
    assert page["items"][3]["comment"].startswith("Досмотр товара")
    advance(200)
    page = events(fts, auth, page["nextCursor"])
    assert [(e["declarationId"], e["status"], e["decisionCode"]) for e in page["items"]] == [
        (first, "released", "10"), (second, "conditionally_released", "11")]


def test_the_whole_feed_paged_in_small_pages_equals_the_feed_in_one(fts, auth, advance):
    for scenario in ("release", "refusal", "registration_refused", "documents_requested"):
        submit(fts, auth, scenario)
        advance(3)
    advance(300)
    whole = events(fts, auth, limit="200")["items"]
    assert len(whole) == 3 + 3 + 2 + 4
    assert [e["at"] for e in whole] == sorted(e["at"] for e in whole)
    paged, cursor = [], None
    while True:
        page = events(fts, auth, cursor, limit="2")
        if not page["items"]:
            break
        paged += page["items"]
        cursor = page["nextCursor"]
    assert paged == whole
    assert len({e["id"] for e in whole}) == len(whole)


def test_a_withdrawal_is_an_event_and_the_cut_steps_never_appear(fts, auth, advance):
    declaration_id = submit(fts, auth, "documents_requested")
    advance(6)
    assert withdraw(fts, auth, declaration_id).status_code == 200
    advance(500)
    statuses = [(e["status"], e["decisionCode"]) for e in events(fts, auth)["items"]]
    assert statuses == [("submitted", None), ("registered", None), ("withdrawn", "81")]


def test_events_of_another_declarant_are_not_listed(fts, auth, advance):
    submit(fts, auth)
    advance(60)
    assert events(fts, auth, inn="500500123491") == {"items": [], "nextCursor": None}


def test_bad_queries_are_400_and_tokens_are_required(fts, auth):
    for params in ({}, {"inn": "1234567890"}, {"inn": INN, "cursor": "x"}, {"inn": INN, "limit": "0"},
                   {"inn": INN, "limit": "201"}):
        response = fts.get(EVENTS, params=params, headers=auth)
        assert response.status_code == 400, params
        assert response.headers["content-type"] == "application/problem+json"
    assert fts.get(EVENTS, params={"inn": INN}).status_code == 401
    assert fts.post(EVENTS, params={"inn": INN}, headers=auth).status_code == 405
    unknown = f"123_{uuid.uuid4().hex}_0"
    assert events(fts, auth, unknown)["items"] == []
