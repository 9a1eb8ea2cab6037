"""The personal accounts the sign-in tests (``test_accounts.py``) run against: the stand's FTS and
UTKO accounts when the target has those services, and any account given with ``--account-url``
(``GOSSTAND_ACCOUNT_URLS``, comma-separated) — a system of yours that signs in through the
target's ESIA.

An account is reached by its base URL and the stand's paths: ``GET /login`` sends the browser to
ESIA, ESIA sends it back to the account's callback (wherever the account registered it),
``GET /account/choose`` answers 200 only within a session, ``POST /account/choose`` with
``choice`` picks whom to act for, ``GET /account`` lists that one's records, ``POST /logout``
ends the session. Moving an account's clock (the idle test) needs its gosstand control API,
which only the stand's own accounts have.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

__all__ = ["AccountUnderTest", "account_ids", "ACCOUNT_URLS_ENVIRONMENT"]

ACCOUNT_URLS_ENVIRONMENT = "GOSSTAND_ACCOUNT_URLS"
#: The stand's own accounts, by the service they belong to.
STAND_ACCOUNTS = ("fts", "utko")


@dataclass(frozen=True, slots=True)
class AccountUnderTest:
    base: str
    #: ``fts`` or ``utko`` for the stand's accounts (whose clock the control API moves); else None.
    service: str | None


def account_ids(config: pytest.Config) -> list[str]:
    """The test ids: the stand's accounts, then each given URL."""
    given = config.getoption("gosstand_account_urls", default=None) or []
    from_environment = [url for url in os.environ.get(ACCOUNT_URLS_ENVIRONMENT, "").split(",") if url.strip()]
    return [*STAND_ACCOUNTS, *(url.strip().rstrip("/") for url in [*given, *from_environment])]
