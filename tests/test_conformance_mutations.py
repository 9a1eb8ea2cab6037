"""The machinery of the mutation benchmark (``benchmarks/conformance_mutations.py``): every mutant in
the catalogue changes the mocks where it says and can be undone, the catalogue covers each rule
the suite claims, and judged through the real suite one mutant is caught while the unbroken
mocks are not flagged. The benchmark itself (every mutant against the whole suite) takes minutes
and is not run here."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType

import pytest
from benchmark_modules import benchmark_module
from gosstand.conformance.oracle import inn_is_valid
from gosstand.mocks.core import identifiers
from gosstand.mocks.fts import lifecycle


@pytest.fixture(scope="module")
def mutations() -> Iterator[ModuleType]:
    with benchmark_module("conformance_mutations") as module:
        yield module


def test_the_catalogue_covers_every_rule_the_suite_claims(mutations: ModuleType) -> None:
    covered = {item.rule for item in mutations.CATALOGUE.values()}
    assert covered == set(mutations.RULES), set(mutations.RULES) - covered
    assert all(item.description for item in mutations.CATALOGUE.values()), "each mutant says what it breaks"
    assert not set(mutations.PENDING) & covered, "a rule is either covered or pending, never both"


def test_every_mutant_applies_to_the_mocks_and_is_undone(mutations: ModuleType) -> None:
    """Each mutant finds what it changes (a renamed function fails here, not as a false survivor)."""
    for name in mutations.CATALOGUE:
        with mutations.applied(name):
            pass


def test_a_mutant_changes_every_binding_of_what_it_replaces(mutations: ModuleType) -> None:
    from gosstand.mocks.fts import validation

    wrong = "7707083894"  # the last check digit off by one
    assert not identifiers.is_valid_inn(wrong) and not inn_is_valid(wrong)
    with mutations.applied("inn_check_digits_ignored"):
        assert identifiers.is_valid_inn(wrong)
        assert validation.is_valid_inn is identifiers.is_valid_inn, "the importer's binding changes too"
    assert not identifiers.is_valid_inn(wrong) and validation.is_valid_inn is identifiers.is_valid_inn
    release = lifecycle.PLANS["release"]
    with mutations.applied("decision_before_registration"):
        assert lifecycle.PLANS["release"] != release
    assert lifecycle.PLANS["release"] == release


def test_the_suite_catches_a_mutant_and_passes_the_unbroken_mocks(mutations: ModuleType) -> None:
    """Both stands judged at once through ``gosstand conformance`` (one test selected, for time)."""
    selected = "test_fts_the_same_key_with_another_declaration_is_409"
    with ThreadPoolExecutor(max_workers=2) as pool:
        broken, unbroken = pool.map(lambda name: mutations.judge(name, examples=1, select=selected),
                                    ["reused_key_not_refused", mutations.BASELINE])
    assert (broken.verdict, broken.evidence) == ("caught", selected)
    assert unbroken.verdict == "survived", unbroken.evidence
    summary = mutations.score([broken, mutations.Outcome("stale_if_match_accepted", "survived", 1.0),
                               mutations.Outcome("expired_token_accepted", "broken", 1.0, "usage error")])
    assert "Caught 1 of 3 mutants (33%)" in summary and "Survivors: stale_if_match_accepted" in summary
    assert "could not judge (exit 2): expired_token_accepted" in summary, "a run that judged nothing is no catch"
