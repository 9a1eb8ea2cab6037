"""Fixtures for the project's own tests.

``service_client`` builds one mock in-process (Starlette's TestClient over a throwaway SQLite
store): fast, no ports. Tests of replicas, failover and the load run use the real
``EmbeddedStack`` processes instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from gosstand.mocks.core.app import create_app
from gosstand.mocks.core.keys import SigningKeys, ensure_signing_keys
from gosstand.mocks.core.settings import Settings
from starlette.testclient import TestClient

CONTROL_TOKEN = "test-control-token"
ISSUER = "http://esia-portal1.test.gosuslugi.ru/"


@pytest.fixture(scope="session")
def esia_keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("esia-keys")
    ensure_signing_keys(directory)
    return directory


@pytest.fixture(scope="session")
def esia_signing_keys(esia_keys_dir: Path) -> SigningKeys:
    return ensure_signing_keys(esia_keys_dir)


@pytest.fixture
def make_settings(tmp_path: Path, esia_keys_dir: Path) -> Callable[..., Settings]:
    def make(service: str, **overrides: object) -> Settings:
        values: dict[str, object] = {
            "service": service,
            "replica": f"{service}-1",
            "state_dir": tmp_path,
            "store_url": f"sqlite:///{tmp_path / (service + '.sqlite3')}",
            "control_token": CONTROL_TOKEN,
            "public_url": "http://testserver",
            "esia_issuer": ISSUER,
            "esia_keys_dir": esia_keys_dir,
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    return make


@pytest.fixture
def service_client(make_settings: Callable[..., Settings]) -> Iterator[Callable[..., TestClient]]:
    """``service_client("fts")`` → a TestClient of a fresh FTS mock; overrides go to Settings."""
    clients: list[TestClient] = []

    def make(service: str, **overrides: object) -> TestClient:
        client = TestClient(create_app(make_settings(service, **overrides)), raise_server_exceptions=False)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def frozen_service(service_client: Callable[..., TestClient],
                   control_headers: dict[str, str]) -> Callable[..., TestClient]:
    """``frozen_service("fts", at)`` → a fresh mock whose clock stands still at ``at`` (epoch
    seconds) until a test moves it."""

    def make(service: str, at: float, **overrides: object) -> TestClient:
        client = service_client(service, **overrides)
        client.post("/_gosstand/control/clock", json={"freeze": at}, headers=control_headers).raise_for_status()
        return client

    return make


@pytest.fixture
def control_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {CONTROL_TOKEN}"}
