"""The sign-in rules of the conformance suite run against a personal account that is not the
stand's — other paths, a «Войти через Госуслуги» form instead of a redirect, a logout link
instead of a form — found by following its pages (``gosstand conformance --account-url``), and
catch that account when it stops checking ``state``."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from foreign_account import foreign_account
from gosstand.scenarios.control import StackControl
from gosstand.stand.stack import EmbeddedStack

pytestmark = [pytest.mark.stack, pytest.mark.slow]

GOSSTAND = str(Path(sys.executable).parent / "gosstand")


@pytest.fixture(scope="module")
def stack() -> Iterator[EmbeddedStack]:
    with EmbeddedStack(replicas=1).start() as running:
        yield running


@pytest.fixture(scope="module")
def results(stack: EmbeddedStack) -> dict[str, dict[str, str]]:
    """One ``gosstand conformance`` run of the sign-in rules (``-k lk``: only the given accounts,
    not the stand's) against a careful account and a careless one: each rule's outcome by
    account (``careful``, ``careless``), and the run's exit code under ``exit``."""
    control = StackControl(stack.urls, stack.control_token)
    urls = stack.urls
    with foreign_account(urls["esia"], control, "FOREIGNLK") as careful, \
            foreign_account(urls["esia"], control, "CARELESSLK", check_state=False) as careless:
        run = subprocess.run(
            [GOSSTAND, "conformance", "-k", "test_accounts and lk", "-p", "no:cacheprovider", "-v",
             "--esia-url", urls["esia"], "--utko-url", urls["utko"], "--fts-url", urls["fts"],
             "--control-token", stack.control_token, "--account-url", careful, "--account-url", careless],
            capture_output=True, text=True, timeout=300, check=False)
    outcomes: dict[str, dict[str, str]] = {"careful": {}, "careless": {}, "exit": {"code": str(run.returncode)}}
    for line in run.stdout.splitlines():
        for name, url in (("careful", careful), ("careless", careless)):
            if f"[{url}]" in line and line.startswith("conformance/test_accounts.py::"):
                rule = line.split("::")[1].split("[")[0]
                outcomes[name][rule] = next((word for word in ("PASSED", "FAILED", "SKIPPED", "ERROR")
                                             if word in line.split("]", 1)[1]), "?")
    assert outcomes["careful"], run.stdout[-3000:] + run.stderr[-2000:]
    return outcomes


RULES = {"test_sign_in_opens_a_session", "test_sign_in_with_an_electronic_signature_opens_a_session",
         "test_a_state_the_account_never_issued_is_refused", "test_a_callback_opened_in_another_browser_is_refused",
         "test_a_replayed_code_is_refused", "test_a_code_issued_to_another_client_system_is_refused",
         "test_an_error_esia_sends_back_opens_no_session", "test_logout_ends_the_session_and_the_esia_session"}
STAND_ONLY = {"test_the_session_ends_after_thirty_minutes_without_requests",
              "test_the_records_shown_follow_the_organisation_chosen"}


def test_the_sign_in_rules_find_their_way_through_an_account_with_paths_of_its_own(results):
    careful = results["careful"]
    assert {rule for rule, outcome in careful.items() if outcome == "PASSED"} == RULES, careful
    assert {rule for rule, outcome in careful.items() if outcome == "SKIPPED"} == STAND_ONLY, careful


def test_an_account_that_takes_any_state_fails_the_state_rules(results):
    careless = results["careless"]
    failed = {rule for rule, outcome in careless.items() if outcome == "FAILED"}
    assert failed == {"test_a_state_the_account_never_issued_is_refused",
                      "test_a_callback_opened_in_another_browser_is_refused"}, careless
    assert results["exit"]["code"] == "1"  # the gate fails the run
