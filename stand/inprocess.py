"""The stack inside the test process: httpx requests to the mocks' URLs reach their apps directly.

For a QA engineer unit-testing Python code that talks to ESIA, FTS or UTKO through httpx: no
processes, no ports, and a test's stray request to anywhere else fails at once instead of
leaving the machine. :class:`InProcessStack` starts one app per service (one replica, a SQLite
store in a temporary directory) and routes every httpx request whose URL starts with a service's
base URL to that app, with ``respx``. Sync and async clients are both routed, whoever created
them — the code under test needs no change, only the base URLs.

The same control API answers at ``{url}/_gosstand/control`` (:class:`~gosstand.scenarios.control.StackControl`
works unchanged). What it cannot do: reach code that does not use httpx (``requests``,
``aiohttp``, another process) — use :class:`~gosstand.stand.stack.EmbeddedStack` for those — or
kill replicas (there is one, and it is this process).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Self

import httpx
from starlette.testclient import TestClient

from ..extras import require
from ..mocks.core.app import create_app
from ..mocks.core.keys import ensure_signing_keys
from ..mocks.core.settings import Settings, SignatureMode, configured_issuer
from .accounts import prepare_account_keys, register_accounts
from .protocol import new_control_token

try:
    import respx
except ImportError:
    require("the in-process stack (gosstand_inprocess)", "conformance", modules=("respx",))
    raise

if TYPE_CHECKING:
    from .protocol import Stack

__all__ = ["DEFAULT_URLS", "InProcessStack"]

#: Where the services answer unless told otherwise; any https base URL will do.
DEFAULT_URLS = {
    "esia": "https://esia-portal1.test.gosuslugi.ru",
    "utko": "https://utko.gosstand.test",
    "fts": "https://fts.gosstand.test",
}


@dataclass
class InProcessStack:
    services: Iterable[str] = tuple(DEFAULT_URLS)
    urls: Mapping[str, str] = field(default_factory=dict)
    control_token: str = field(default_factory=new_control_token)
    signature_mode: SignatureMode = "strict"
    #: Written into ESIA's tokens; ``GOSSTAND_ESIA_ISSUER`` when set, else the test stand's.
    esia_issuer: str = field(default_factory=configured_issuer)
    #: Requests to URLs no service answers: refused (the default), or let through to the network.
    pass_through_others: bool = False

    def __post_init__(self) -> None:
        self.services = tuple(self.services)
        self.urls = {service: self.urls.get(service, DEFAULT_URLS[service]).rstrip("/") for service in self.services}
        self.state_dir: Path | None = None
        self.apps: dict[str, TestClient] = {}
        self._router: respx.MockRouter | None = None

    def start(self) -> Self:
        self.state_dir = Path(tempfile.mkdtemp(prefix="gosstand-inprocess-"))
        ensure_signing_keys(self.state_dir / "esia-keys")
        prepare_account_keys(self.state_dir / "esia-keys", tuple(self.services))
        router = respx.mock(assert_all_called=False, assert_all_mocked=True)
        for service in self.services:
            client = TestClient(create_app(self._settings(service)), raise_server_exceptions=False,
                                follow_redirects=False)
            self.apps[service] = client
            router.route(url__startswith=self.urls[service] + "/").mock(side_effect=_forward_to(client))
        if self.pass_through_others:
            router.route().pass_through()
        router.start()
        self._router = router
        register_accounts(self.urls, self.control_token, self.state_dir / "esia-keys")
        return self

    def _settings(self, service: str) -> Settings:
        assert self.state_dir is not None
        return Settings.in_state_dir(service, f"{service}-1", self.state_dir, control_token=self.control_token,
                                     public_url=self.urls[service], esia_issuer=self.esia_issuer,
                                     esia_url=self.urls.get("esia", ""), signature_mode=self.signature_mode)

    def close(self) -> None:
        if self._router is not None:
            self._router.stop()
            self._router = None
        for client in self.apps.values():
            client.close()
        self.apps.clear()
        if self.state_dir is not None:
            shutil.rmtree(self.state_dir, ignore_errors=True)
            self.state_dir = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _forward_to(app: TestClient) -> Callable[[httpx.Request], httpx.Response]:
    """A respx side effect handing a request to an app and its answer back to the caller."""

    def forward(request: httpx.Request) -> httpx.Response:
        request.read()  # a streamed body is read here, once
        answer = app.send(request)
        # The caller's client reads the body again: give it a plain, unread response.
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    return forward


if TYPE_CHECKING:
    # The life cycle every stack shares (stand/protocol.py); no failover API: there is one replica,
    # and it is the calling process.
    _is_a_stack: type[Stack] = InProcessStack
