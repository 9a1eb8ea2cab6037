"""Authentication of every protected operation of FTS and UTKO: each rule of
:mod:`~gosstand.conformance.auth_rules` (no token, malformed, tampered signature, another issuer,
expired, not valid yet, an ID or refresh token as the bearer, a scope missing) against each
operation the contracts protect (:mod:`~gosstand.conformance.protected_operations`), so an
operation added to a contract is tested without a change here.

The operations are read from the repository's contracts when the tests are collected (one test
per operation and rule, named ``<service>-<operationId>-<rule>``); the bad tokens come from the
target's ESIA (:mod:`~gosstand.conformance.bad_tokens`). Against a target without ESIA's control
API the rules that need a minted token skip and say which option gives it.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from gosstand.conformance.auth_rules import AuthRule, authorization, rules_for
from gosstand.conformance.bad_tokens import BadTokens, mint_bad_tokens
from gosstand.conformance.protected_operations import ProtectedOperation, contract_document, protected_operations
from gosstand.conformance.suite_esia import SuiteEsia
from gosstand.conformance.targets import EsiaSession, Target, TargetUnavailable

pytestmark = pytest.mark.authentication

SERVICES = ("fts", "utko")
OPERATIONS = [operation for service in SERVICES
              for operation in protected_operations(service, contract_document(service))]
CASES = [pytest.param(operation, rule, id=f"{operation.service}-{operation.operation_id}-{rule.name}")
         for operation in OPERATIONS for rule in rules_for(operation.scopes)]
#: Every scope some operation needs: a token is minted without each.
WITHHELD = sorted({scope for operation in OPERATIONS for scope in operation.scopes})


@pytest.fixture(scope="session")
def suite_esia(gosstand_target: Target) -> SuiteEsia | None:
    """The suite's client at the target's ESIA, or ``None`` when it has no control API."""
    if gosstand_target.control_token is None or not gosstand_target.has("esia"):
        return None
    return SuiteEsia(gosstand_target)


@pytest.fixture(scope="module")
def bad_tokens(esia_session: EsiaSession, suite_esia: SuiteEsia | None) -> BadTokens:
    return mint_bad_tokens(esia_session, suite_esia, withhold=WITHHELD)


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=15.0) as client:
        yield client


@pytest.mark.parametrize(("operation", "rule"), CASES)
def test_refuses(operation: ProtectedOperation, rule: AuthRule, gosstand_target: Target, bad_tokens: BadTokens,
                 http: httpx.Client) -> None:
    try:
        base_url = gosstand_target.url(operation.service)
        header = authorization(rule, bad_tokens)
    except TargetUnavailable as exc:
        pytest.skip(str(exc))
    rule.check(operation.send(http, base_url, header))
