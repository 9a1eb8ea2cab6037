"""The suite's access rules catch what they claim to: against the in-process mocks every rule
holds, and a mock broken on purpose — one that lets anyone act for any organisation, one that
checks what a request names but not the records it reads by id — fails the rules that name
its bug (before this suite, any authenticated caller could read or withdraw any declaration and
nothing noticed)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from gosstand.conformance import test_access as suite
from gosstand.conformance.targets import Target
from gosstand.mocks.core.access import AccessPolicy
from gosstand.stand.inprocess import InProcessStack

RULES: list[Callable[[suite.World, httpx.Client], None]] = [
    getattr(suite, name) for name in dir(suite)
    if name.startswith("test_") and name != "test_each_organisation_still_works_with_its_own"]
#: The rules about records addressed by id (the rest are about lists and filings naming B).
BY_ID = {"test_fts_another_organisations_declaration_is_not_readable",
         "test_fts_another_organisations_declaration_cannot_be_withdrawn",
         "test_fts_no_document_can_be_uploaded_to_another_organisations_declaration",
         "test_fts_another_organisations_appeal_is_not_readable_nor_commented",
         "test_utko_another_operators_object_is_not_readable",
         "test_utko_another_operators_object_cannot_be_replaced_or_deleted"}


def broken_rules(stack: InProcessStack) -> set[str]:
    target = Target(kind="urls", urls=stack.urls, control_token=stack.control_token)
    failed = set()
    with httpx.Client() as http:
        world = suite.build_world(target, http)
        suite.test_each_organisation_still_works_with_its_own(world, http)
        for rule in RULES:
            try:
                rule(world, http)
            except AssertionError:
                failed.add(rule.__name__)
    return failed


@pytest.fixture
def stack() -> Iterator[InProcessStack]:
    with InProcessStack() as running:
        yield running


def test_the_mocks_keep_every_access_rule(stack: InProcessStack) -> None:
    assert len(RULES) == 12
    assert broken_rules(stack) == set()


def test_a_service_that_lets_anyone_act_for_anyone_fails_every_access_rule(
        stack: InProcessStack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(AccessPolicy, "acts_for", lambda self, identity, party: True)
    assert broken_rules(stack) == {rule.__name__ for rule in RULES}


def test_a_service_that_checks_filings_but_not_reads_by_id_fails_the_rules_about_records(
        stack: InProcessStack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(AccessPolicy, "may_see", lambda self, identity, party: True)
    assert broken_rules(stack) == BY_ID
