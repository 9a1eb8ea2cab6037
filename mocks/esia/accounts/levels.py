"""Account levels (уровни учётной записи): simplified → standard → confirmed, and what each
may do (docs/esia.md §8).

- *simplified* (упрощённая): name and a phone or e-mail; documents not verified; may log in
  to clients that ask for no more;
- *standard* (стандартная): SNILS and passport verified against the registries;
- *confirmed* (подтверждённая): identity confirmed in person, by a bank, by registered mail or
  with a qualified e-signature; ``trusted`` in ``/rs``; may act for organisations (be an
  employee) and log in to clients that require a confirmed account (else
  :data:`~..errors.ACCOUNT_LEVEL_TOO_LOW`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import get_args

from .records import Document, Level, Person

LEVELS: tuple[Level, ...] = get_args(Level)

#: What each level may do; the table the control API and the login consult.
RIGHTS: dict[str, frozenset[str]] = {
    "simplified": frozenset({"login"}),
    "standard": frozenset({"login", "verified_documents"}),
    "confirmed": frozenset({"login", "verified_documents", "organisations", "trusted"}),
}


def rank(level: str) -> int:
    return LEVELS.index(level) if level in LEVELS else 0


def may(level: str, right: str) -> bool:
    return right in RIGHTS.get(level, frozenset())


def meets(level: str, required: str) -> bool:
    """Whether an account of ``level`` satisfies a client's ``required_level``."""
    return rank(level) >= rank(required)


def level_problems(level: str, person: Person, documents: Sequence[Document]) -> Iterator[tuple[str, str]]:
    """Why an account cannot have ``level``: standard and confirmed need a SNILS and a passport
    of the Russian Federation (the data the registries verify)."""
    if rank(level) < rank("standard"):
        return
    if not person.snils:
        yield "/person/snils", f"a {level} account needs a verified SNILS"
    if not any(document.type == "RF_PASSPORT" for document in documents):
        yield "/documents", f"a {level} account needs a passport of the Russian Federation"
