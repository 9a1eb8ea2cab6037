"""A conformance run's results as figures per rule: what the report pages and JUnit show.

Reads only the tallies of :mod:`.ledger` (``results.json``) and computes, per rule, how many
cases it judged, how many broke it, the operations or parametrisations it covered and the first
failure (its request as a curl command). A rule that judged nothing is *not exercised*, which is
never shown as passed: a report must not call a rule kept that no answer put to the test.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from .ledger import FirstFailure, RuleKind, Tally

__all__ = ["RuleFigure", "Verdict", "rule_figures"]

Verdict = Literal["failed", "passed", "not exercised"]
#: How a rule's kind is named on the page.
KIND_TITLES: dict[RuleKind, str] = {
    "check": "schemathesis check on every contract answer",
    "test": "conformance test",
}


@dataclass(frozen=True)
class RuleFigure:
    kind: RuleKind
    rule: str
    description: str
    cases: int
    failed: int
    skipped: int
    #: The rule's record per operation (checks) or parametrisation (tests), failed ones first.
    scopes: tuple[Tally, ...]
    #: Where the rule first broke, and how.
    first_failure: tuple[str, FirstFailure] | None

    @property
    def judged(self) -> int:
        return self.cases - self.skipped

    @property
    def passed(self) -> int:
        return self.judged - self.failed

    @property
    def verdict(self) -> Verdict:
        return "failed" if self.failed else "passed" if self.judged else "not exercised"

    @property
    def kind_title(self) -> str:
        return KIND_TITLES[self.kind]


_ORDER: dict[Verdict, int] = {"failed": 0, "not exercised": 1, "passed": 2}


def rule_figures(tallies: Iterable[Tally]) -> list[RuleFigure]:
    """One figure per rule: failed rules first, then those never exercised, then the kept ones."""
    grouped: dict[tuple[RuleKind, str], list[Tally]] = {}
    for tally in tallies:
        grouped.setdefault((tally.kind, tally.rule), []).append(tally)
    figures = [_figure(kind, rule, scopes) for (kind, rule), scopes in grouped.items()]
    return sorted(figures, key=lambda figure: (_ORDER[figure.verdict], figure.kind, figure.rule))


def _figure(kind: RuleKind, rule: str, scopes: list[Tally]) -> RuleFigure:
    # a rule the run expected but nothing judged comes as one empty tally: no scope to list
    ordered = tuple(sorted((tally for tally in scopes if tally.cases), key=lambda tally: (tally.failed == 0,
                                                                                       tally.scope)))
    first = next(((tally.scope, tally.first_failure) for tally in ordered if tally.first_failure is not None), None)
    return RuleFigure(
        kind=kind, rule=rule, description=next((tally.description for tally in scopes if tally.description), ""),
        cases=sum(tally.cases for tally in scopes), failed=sum(tally.failed for tally in scopes),
        skipped=sum(tally.skipped for tally in scopes), scopes=ordered, first_failure=first,
    )
