"""Fixtures for the project's own tests.

``service_client`` builds one mock in-process (Starlette's TestClient over a throwaway SQLite
store): fast, no ports. Tests of replicas, failover and the load run use the real
``EmbeddedStack`` processes instead.

Fixtures several test modules take live here; plain helpers live in modules named for what they
hold (``fts_requests``, ``utko_inputs``, ``signed_documents``, ``store_backends``,
``scripted_http``, ``relying_parties``, ``esia_stand``…). A test module never imports another
test module: what two of them share belongs in one of those.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import fts_requests
import pytest
from gosstand.mocks.core.app import create_app
from gosstand.mocks.core.keys import SigningKeys, ensure_signing_keys
from gosstand.mocks.core.settings import Settings
from gosstand.mocks.core.store import Store
from gosstand.mocks.core.store_url import open_store
from signed_documents import Signer, make_signer
from starlette.testclient import TestClient
from store_backends import BACKENDS, running_redis, sqlite_url

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


# -- the FTS desk of the life-cycle tests (plans, documents, appeals, events, crash safety) ---
# A module on another day or with another identity defines its own ``fts`` / ``auth``: the
# module's fixture takes precedence over these.


@pytest.fixture
def fts(frozen_service: Callable[..., TestClient]) -> TestClient:
    """A fresh FTS mock whose clock stands at :data:`fts_requests.PLANS_T0`."""
    return frozen_service("fts", fts_requests.PLANS_T0)


@pytest.fixture
def auth(esia_signing_keys: SigningKeys) -> dict[str, str]:
    """A customs broker's bearer header for ``fts``, valid at ``PLANS_T0``."""
    return {"Authorization": f"Bearer {fts_requests.token(esia_signing_keys, now=fts_requests.PLANS_T0, oid=7)}"}


@pytest.fixture
def advance(fts: TestClient, control_headers: dict[str, str]) -> Callable[[float], None]:
    """``advance(seconds)`` moves the clock of the test's ``fts``."""

    def move(seconds: float) -> None:
        fts_requests.advance(fts, control_headers, seconds)

    return move


@pytest.fixture(scope="module")
def signer() -> Signer:
    """A document signer's certificate and key, made once per module (RSA keys are slow)."""
    return make_signer()


# -- the stores under the store contract: SQLite and a throwaway Redis --------------------------


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """A throwaway redis-server on loopback, no persistence; its base URL. Skipped, with the
    reason, where Debian's ``redis-server`` is not installed."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    with running_redis(binary) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty store that several connections may open, once per backend."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    return f"{request.getfixturevalue('redis_server')}/0"


@pytest.fixture
async def connect(store_url: str) -> AsyncIterator[Callable[[], Store]]:
    """``connect()`` → a new connection to the test's store (as another replica would open).
    An async fixture: the modules using it run on anyio (``pytestmark = pytest.mark.anyio``)."""
    opened: list[Store] = []

    def make() -> Store:
        opened.append(open_store(store_url))
        return opened[-1]

    await make().flush()
    yield make
    for store in opened:
        await store.close()
