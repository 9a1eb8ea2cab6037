"""The personal accounts the sign-in tests (``test_accounts.py``) run against: the stand's FTS and
UTKO accounts when the target has those services, and any account given with ``--account-url``
(``GOSSTAND_ACCOUNT_URLS``, comma-separated) — a system of yours that signs in through the
target's ESIA.

An account given by its base URL (``https://lk.staging.local``) signs in at ``/login``; one given
by any other URL (``https://lk.staging.local/auth/esia``) signs in there. Everything after that is
found, not agreed (:mod:`gosstand.scenarios.account_site`): the way to ESIA along redirects or the
page's Госуслуги link or form, the callback wherever ESIA sends the browser back, the page the
sign-in opens (which must answer 200 only within a session), and the logout form or link on it.
Moving an account's clock (the idle test) and knowing what it lists (the records test) need the
stand's own accounts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

__all__ = ["AccountUnderTest", "account_ids", "ACCOUNT_URLS_ENVIRONMENT", "STAND_ACCOUNTS", "account_under_test"]

ACCOUNT_URLS_ENVIRONMENT = "GOSSTAND_ACCOUNT_URLS"
#: The stand's own accounts, by the service they belong to.
STAND_ACCOUNTS = ("fts", "utko")


@dataclass(frozen=True, slots=True)
class AccountUnderTest:
    base: str
    #: ``fts`` or ``utko`` for the stand's accounts (whose clock the control API moves); else None.
    service: str | None
    #: Where a sign-in starts.
    login_url: str


def account_under_test(url: str, service: str | None = None) -> AccountUnderTest:
    """The account at ``url``: its base URL's ``/login``, or ``url`` itself when it has a path."""
    parts = urlsplit(url.rstrip("/"))
    base = f"{parts.scheme}://{parts.netloc}"
    login = url if parts.path not in ("", "/") or parts.query else f"{base}/login"
    return AccountUnderTest(base=base, service=service, login_url=login)


def account_ids(config: pytest.Config) -> list[str]:
    """The test ids: the stand's accounts, then each given URL."""
    given = config.getoption("gosstand_account_urls", default=None) or []
    from_environment = [url for url in os.environ.get(ACCOUNT_URLS_ENVIRONMENT, "").split(",") if url.strip()]
    return [*STAND_ACCOUNTS, *(url.strip().rstrip("/") for url in [*given, *from_environment])]
