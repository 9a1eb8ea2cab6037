"""The suite's authentication rules catch what they claim to: run over every protected operation
of the in-process mocks, they all hold for the real gate, and a gate broken on purpose — one that
accepts expired tokens, one that ignores a missing scope (both passed the whole suite before) —
fails exactly the rule that names its bug."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from gosstand.conformance.auth_rules import authorization, bearer_challenge, rules_for
from gosstand.conformance.bad_tokens import mint_bad_tokens, tampered
from gosstand.conformance.protected_operations import contract_document, protected_operations
from gosstand.conformance.suite_esia import SuiteEsia
from gosstand.conformance.targets import Target, log_in
from gosstand.mocks.core import bearer, hot_path
from gosstand.mocks.core.bearer import Identity
from gosstand.stand.inprocess import InProcessStack

OPERATIONS = [op for service in ("fts", "utko") for op in protected_operations(service, contract_document(service))]


def failed_rules(stack: InProcessStack) -> dict[str, set[str]]:
    """Rule name → the operations (``service operationId``) whose answer broke it."""
    target = Target(kind="urls", urls=stack.urls, control_token=stack.control_token)
    esia = SuiteEsia(target)
    tokens = mint_bad_tokens(log_in(target, esia), esia, withhold=["openid", "usr_org"])
    failed: dict[str, set[str]] = {}
    with httpx.Client() as http:
        for operation in OPERATIONS:
            for rule in rules_for(operation.scopes):
                answer = operation.send(http, target.url(operation.service), authorization(rule, tokens))
                try:
                    rule.check(answer)
                except AssertionError:
                    failed.setdefault(rule.name, set()).add(f"{operation.service} {operation.operation_id}")
    return failed


@pytest.fixture
def stack() -> Iterator[InProcessStack]:
    with InProcessStack() as running:
        yield running


def _break_gate(monkeypatch: pytest.MonkeyPatch, broken: Callable[[Identity, float, tuple[str, ...]], None]) -> None:
    monkeypatch.setattr(bearer, "authorize", broken)
    monkeypatch.setattr(hot_path, "authorize", broken)


def test_every_protected_operation_of_the_mocks_keeps_every_rule(stack: InProcessStack) -> None:
    assert failed_rules(stack) == {}
    assert len(OPERATIONS) >= 21  # 14 FTS + 7 UTKO operations; the import that an access key opens is not one


def test_a_service_that_accepts_expired_tokens_fails_the_expired_token_rule(
        stack: InProcessStack, monkeypatch: pytest.MonkeyPatch) -> None:
    real = bearer.authorize

    def accepts_expired(identity: Identity, now: float, scopes: tuple[str, ...]) -> None:
        real(identity, min(now, identity.claims["exp"] - 1), scopes)

    _break_gate(monkeypatch, accepts_expired)
    failed = failed_rules(stack)
    assert set(failed) == {"expired_token"}
    assert failed["expired_token"] == {f"{op.service} {op.operation_id}" for op in OPERATIONS}


def test_a_service_that_ignores_a_missing_scope_fails_the_scope_rules(
        stack: InProcessStack, monkeypatch: pytest.MonkeyPatch) -> None:
    real = bearer.authorize

    def ignores_scopes(identity: Identity, now: float, scopes: tuple[str, ...]) -> None:
        real(identity, now, ())

    _break_gate(monkeypatch, ignores_scopes)
    failed = failed_rules(stack)
    assert set(failed) == {"missing_scope_usr_org", "missing_scope_openid"}
    writes = {f"{op.service} {op.operation_id}" for op in OPERATIONS if "usr_org" in op.scopes}
    assert failed["missing_scope_usr_org"] == writes and len(writes) == 8
    assert failed["missing_scope_openid"] == {f"{op.service} {op.operation_id}" for op in OPERATIONS}


def test_a_challenge_with_an_error_is_wrong_for_a_request_without_credentials() -> None:
    request = httpx.Request("GET", "https://fts.gosstand.test/api/v1/events")
    answer = httpx.Response(401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}, request=request)
    with pytest.raises(AssertionError, match="no error code"):
        rules_for(("openid",))[0].check(answer)
    silent = httpx.Response(401, request=request)
    with pytest.raises(AssertionError, match="without a WWW-Authenticate"):
        bearer_challenge(silent)


def test_a_tampered_token_differs_in_its_signature_only() -> None:
    token = "aGVhZA.Ym9keQ.c2lnbmF0dXJlLXRoYXQtaXMtbG9uZw"
    spoiled = tampered(token)
    assert spoiled != token and spoiled.rsplit(".", 1)[0] == token.rsplit(".", 1)[0]
