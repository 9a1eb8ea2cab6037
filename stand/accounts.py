"""Registering the personal accounts of FTS and FGIS UTKO with the stand's ESIA as client
systems, each with its own GOST certificate, when the stand starts.

The keys are made in the stand's keys directory before the services' replicas start (they sign with
them), and the registration goes through ESIA's control API once ESIA answers — as a load run
registers its own client system. :func:`register_accounts` may be called again (after ESIA's
state was reset): a registration replaces the one before.

A stand no stack runner starts (Compose, Kubernetes) registers them with ``gosstand accounts``
(:func:`register_when_ready`): a one-shot container that shares the replicas' keys directory waits
for ESIA to answer, then registers.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from pathlib import Path

import httpx

from ..mocks.accounts.client_keys import account_keys
from ..mocks.accounts.system import SCOPES, AccountSystem
from ..mocks.accounts.web import CALLBACK_PATH, LOGGED_OUT_PATH
from ..mocks.crypto import gost
from ..mocks.fts.account import FTS_ACCOUNT
from ..mocks.utko.account import UTKO_ACCOUNT
from .protocol import StackError

__all__ = ["ACCOUNTS", "prepare_account_keys", "register_accounts", "register_when_ready"]

#: The service whose personal account each client system is.
ACCOUNTS: dict[str, AccountSystem] = {"fts": FTS_ACCOUNT, "utko": UTKO_ACCOUNT}


def _wanted(services: Collection[str]) -> list[str]:
    return [service for service in ACCOUNTS if service in services and "esia" in services and gost.available()]


def prepare_account_keys(keys_dir: Path, services: Collection[str]) -> None:
    """Each account's key pair in the stand's ``keys_dir``, before its replicas start. Nothing without ESIA
    in the stand or without the gost engine (``/login`` then answers 503 saying why)."""
    for service in _wanted(services):
        client_id = ACCOUNTS[service].client_id
        account_keys(keys_dir, client_id)


def register_accounts(urls: Mapping[str, str], control_token: str, keys_dir: Path,
                      *, http: httpx.Client | None = None) -> list[str]:
    """Register each account present with ESIA; returns their client ids. A refusal is a
    :class:`StackError` (the stand would otherwise start with a sign-in that cannot work)."""
    registered = []
    client = http or httpx.Client(timeout=10.0)
    try:
        for service in _wanted(urls):
            system = ACCOUNTS[service]
            keys = account_keys(keys_dir, system.client_id)
            public = urls[service].rstrip("/")
            body = {"client_id": system.client_id, "certificate": keys.certificate_pem, "scopes": list(SCOPES),
                    "redirect_uris": [public + CALLBACK_PATH, public + LOGGED_OUT_PATH]}
            answer = client.post(f"{urls['esia'].rstrip('/')}/_gosstand/control/clients", json=body,
                                 headers={"Authorization": f"Bearer {control_token}"})
            if answer.status_code not in (200, 201):
                raise StackError(f"ESIA refused the {service} account's client system {system.client_id}: "
                                 f"HTTP {answer.status_code}: {answer.text[:300]}")
            registered.append(system.client_id)
    finally:
        if http is None:
            client.close()
    return registered


def register_when_ready(esia_url: str, accounts: Mapping[str, str], control_token: str, keys_dir: Path,
                        *, wait_s: float) -> list[str]:
    """Wait up to ``wait_s`` seconds for ESIA's ``/_gosstand/health`` at ``esia_url``, then register
    each account of ``accounts`` (service → the URL browsers reach it at, whose callback ESIA will
    accept). A :class:`StackError` says why nothing or not everything was registered: no gost
    engine (the accounts could not sign), an unknown service, ESIA silent or refusing."""
    unknown = sorted(set(accounts) - set(ACCOUNTS))
    if unknown:
        raise StackError(f"no personal account for {', '.join(unknown)}; the stand has {', '.join(ACCOUNTS)}")
    if not gost.available():
        raise StackError(f"the accounts sign with GOST keys and this machine has no gost engine: "
                         f"{gost.unavailable_reason()}")
    deadline = time.monotonic() + wait_s
    with httpx.Client(timeout=5.0) as client:
        while True:
            try:
                if client.get(f"{esia_url.rstrip('/')}/_gosstand/health").status_code == 200:
                    break
                heard = "answered, not 200"
            except httpx.TransportError as error:
                heard = f"{type(error).__name__}: {error}"
            if time.monotonic() > deadline:
                raise StackError(f"ESIA at {esia_url} was not healthy within {wait_s:.0f}s ({heard})")
            time.sleep(1.0)
        return register_accounts({**accounts, "esia": esia_url}, control_token, keys_dir, http=client)
