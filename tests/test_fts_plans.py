"""Every life-cycle plan of a declaration, the declarant's withdrawal, and the invariants of
docs/fts-utko.md checked over random plans, withdrawals and clock moves. The FTS desk the tests
take (``fts``, ``auth``, ``advance``, on the filing day ``PLANS_T0``) is in conftest.py."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from fts_requests import DECLARATIONS as BASE
from fts_requests import PLANS_T0 as T0
from fts_requests import declaration, submit, withdraw
from fts_requests import token as fts_token
from gosstand.mocks.core.identifiers import is_valid_dt_number
from gosstand.mocks.fts.lifecycle import FINAL, PLANS, Status, progress
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient


def history(fts: TestClient, auth: dict[str, str], declaration_id: str) -> list[tuple[str, str]]:
    card = fts.get(f"{BASE}/{declaration_id}", headers=auth).json()
    return [(entry["status"], entry["comment"]) for entry in card["statusHistory"]]


@pytest.mark.parametrize(("scenario", "final", "decision"), [
    ("release", "released", "10"),
    ("conditional_release", "conditionally_released", "11"),
    ("refusal", "refused", "90"),
    ("registration_refused", "registration_refused", None),
    ("documents_requested", "released", "10"),
    ("inspection", "conditionally_released", "11"),
    ("inspection_refusal", "refused", "90"),
])
def test_each_scenario_ends_in_its_outcome(fts, auth, advance, scenario, final, decision):
    declaration_id = submit(fts, auth, scenario)
    advance(200)
    card = fts.get(f"{BASE}/{declaration_id}", headers=auth).json()
    assert (card["status"], card["decisionCode"]) == (final, decision)
    if final == "registration_refused":
        assert card["registrationNumber"] is None
    else:
        assert is_valid_dt_number(card["registrationNumber"], today=dt.date(2026, 6, 1))


def test_inspection_shows_control_with_the_officers_comment_then_the_decision(fts, auth, advance):
    declaration_id = submit(fts, auth, "inspection")
    advance(15)
    status = fts.get(f"{BASE}/{declaration_id}/status", headers=auth).json()
    assert (status["status"], status["decisionCode"]) == ("under_control", None)
    assert history(fts, auth, declaration_id)[-1][1].startswith("Досмотр товара")
    advance(105)
    assert [s for s, _ in history(fts, auth, declaration_id)] == [
        "submitted", "registered", "under_control", "conditionally_released"]


def test_documents_requested_is_control_then_release(fts, auth, advance):
    declaration_id = submit(fts, auth, "documents_requested")
    advance(16)
    assert history(fts, auth, declaration_id)[-1] == (
        "under_control", "Запрос документов и сведений: представьте инвойс и контракт")


def test_an_unknown_scenario_is_a_422_at_its_pointer(fts, auth):
    response = fts.post(BASE, json=declaration(scenario="teleport"), headers={**auth, "Idempotency-Key": "k-1"})
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json()["errors"]] == ["/scenario"]


def test_withdrawal_after_registration_is_decision_81_and_keeps_the_number(fts, auth, advance):
    declaration_id = submit(fts, auth, "inspection")
    advance(20)
    number = fts.get(f"{BASE}/{declaration_id}/status", headers=auth).json()["registrationNumber"]
    response = withdraw(fts, auth, declaration_id, key="w-1")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "withdrawn" and response.json()["decisionCode"] == "81"
    advance(500)  # the inspection's decision time passes: the withdrawal stands
    card = fts.get(f"{BASE}/{declaration_id}", headers=auth).json()
    assert (card["status"], card["decisionCode"], card["registrationNumber"]) == ("withdrawn", "81", number)
    assert card["statusHistory"][-1]["at"] == "2026-06-01T08:00:20.000Z"
    assert [e["status"] for e in card["statusHistory"]] == ["submitted", "registered", "under_control",
                                                            "withdrawn"]


def test_withdrawal_before_registration_takes_no_decision_and_issues_no_number(fts, auth, advance):
    declaration_id = submit(fts, auth)
    advance(1)
    assert withdraw(fts, auth, declaration_id).status_code == 200
    advance(60)
    status = fts.get(f"{BASE}/{declaration_id}/status", headers=auth).json()
    assert (status["status"], status["decisionCode"], status["registrationNumber"]) == ("withdrawn", None, None)


def test_withdrawal_is_idempotent_by_key_and_409_under_another(fts, auth, advance):
    declaration_id = submit(fts, auth)
    advance(6)
    first = withdraw(fts, auth, declaration_id, key="same")
    advance(3)
    again = withdraw(fts, auth, declaration_id, key="same")
    assert again.status_code == 200 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = withdraw(fts, auth, declaration_id, key="other")
    assert other.status_code == 409
    assert other.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(("scenario", "wait", "status"), [
    ("release", 30, "released"), ("refusal", 31, "refused"), ("registration_refused", 5, "registration_refused"),
])
def test_withdrawal_after_a_decision_is_409(fts, auth, advance, scenario, wait, status):
    declaration_id = submit(fts, auth, scenario)
    advance(wait)
    response = withdraw(fts, auth, declaration_id)
    assert response.status_code == 409
    assert response.json()["currentStatus"] == status
    assert fts.get(f"{BASE}/{declaration_id}/status", headers=auth).json()["status"] == status


def test_withdrawal_needs_a_key_a_token_and_a_known_declaration(fts, auth):
    declaration_id = submit(fts, auth)
    assert fts.post(f"{BASE}/{declaration_id}/withdrawal", headers=auth).status_code == 400
    assert fts.post(f"{BASE}/{declaration_id}/withdrawal", headers={"Idempotency-Key": "k"}).status_code == 401
    assert withdraw(fts, auth, str(uuid.uuid4())).status_code == 404
    assert fts.get(f"{BASE}/{declaration_id}/withdrawal", headers=auth).status_code == 405


# --- invariants over random plans, withdrawals and clock moves -------------------------------

@settings(max_examples=300, deadline=None)
@given(plan=st.sampled_from(sorted(PLANS)),
       moments=st.lists(st.floats(min_value=0, max_value=400, allow_nan=False), min_size=1, max_size=8),
       withdraw_at=st.one_of(st.none(), st.floats(min_value=0, max_value=400, allow_nan=False)))
def test_progress_invariants(plan, moments, withdraw_at):
    """No decision before registration; history only grows, in time order; final is final."""
    submitted = float(T0)
    withdrawn_at = None if withdraw_at is None else submitted + withdraw_at
    earlier: tuple = ()
    for now in sorted(submitted + m for m in moments):
        state = progress(submitted_at=submitted, plan=plan, now=now, withdrawn_at=withdrawn_at)
        times = [at for _, at in state.reached]
        assert times == sorted(times) and times[-1] <= now
        statuses = [step.status for step, _ in state.reached]
        for index, (step, _) in enumerate(state.reached):
            if step.decision is not None:
                assert Status.REGISTERED in statuses[:index]
        assert state.reached[:len(earlier)] == earlier  # what happened stays what happened
        assert all(s not in FINAL for s in statuses[:-1])
        earlier = state.reached
        if withdrawn_at is not None and now >= withdrawn_at and Status.WITHDRAWN in statuses:
            assert state.updated_at == withdrawn_at


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(["submit", "advance", "withdraw", "read"]),
                                st.sampled_from(sorted(PLANS)),
                                st.integers(min_value=1, max_value=200_000)), min_size=1, max_size=12))
def test_numbers_never_change_dates_match_and_sequences_increase(
        service_client, control_headers, esia_signing_keys, steps):
    """Random submissions, clock moves (across days) and withdrawals against the running mock."""
    fts = service_client("fts")
    fts.post("/_gosstand/control/reset", headers=control_headers)
    fts.post("/_gosstand/control/clock", json={"freeze": T0}, headers=control_headers).raise_for_status()
    token = fts_token(esia_signing_keys, now=T0, oid=7)
    now = float(T0)
    ids: list[str] = []
    numbers: dict[str, str] = {}
    registered_at: dict[str, str] = {}
    for action, plan, amount in steps:
        auth = {"Authorization": f"Bearer {token}"}
        if action == "submit":
            ids.append(submit(fts, auth, plan))
        elif action == "advance":
            fts.post("/_gosstand/control/clock", json={"advance": amount}, headers=control_headers)
            now += amount
            token = fts_token(esia_signing_keys, now=now, oid=7)
        elif action == "withdraw" and ids:
            assert withdraw(fts, auth, ids[amount % len(ids)]).status_code in (200, 409)
        for declaration_id in (ids if amount % 2 else ids[::-1]):  # reading order must not matter
            card = fts.get(f"{BASE}/{declaration_id}", headers={"Authorization": f"Bearer {token}"}).json()
            number = card["registrationNumber"]
            if declaration_id in numbers:
                assert number == numbers[declaration_id]
            elif number is not None:
                numbers[declaration_id] = number
                registered = next(e["at"] for e in card["statusHistory"] if e["status"] == "registered")
                registered_at[declaration_id] = registered
                day = dt.datetime.fromisoformat(registered.replace("Z", "+00:00"))
                assert number.split("/")[1] == f"{day:%d%m%y}"
            if card["decisionCode"] is not None:
                assert any(e["status"] == "registered" for e in card["statusHistory"])
    # Per office and year, later registrations carry higher sequence numbers.
    in_time = sorted(numbers, key=lambda i: (registered_at[i], ids.index(i)))  # same instant: filing order
    sequences = [int(numbers[i].split("/")[2]) for i in in_time if registered_at[i][:4] == "2026"]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)


def test_sequence_follows_registration_order_not_reading_order(fts, auth, advance):
    earlier = submit(fts, auth)
    advance(1)
    withdrawn = submit(fts, auth)
    advance(1)
    later = submit(fts, auth)
    assert withdraw(fts, auth, withdrawn).status_code == 200  # before its registration: takes no number
    advance(60)
    numbers = {i: fts.get(f"{BASE}/{i}/status", headers=auth).json()["registrationNumber"]
               for i in (later, withdrawn, earlier)}  # read the later one first
    assert numbers == {earlier: "10005020/010626/0000001", withdrawn: None, later: "10005020/010626/0000002"}
