"""The stores the store tests run against: a SQLite file, and a throwaway ``redis-server`` on
loopback (Debian's binary; CI installs it with ``apt-get install redis-server``).

The fixtures that hand them to tests (``redis_server``, ``store_url``, ``connect``) are in
``conftest.py``; this module starts and waits for the server."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gosstand.mocks.core.store_url import open_store
from gosstand.stand.ports import free_port

#: Every store the contract must hold on.
BACKENDS = ("sqlite", "redis")
#: How long a fresh redis-server may take to answer.
START_TIMEOUT_S = 10


def sqlite_url(directory: Path) -> str:
    """A SQLite store in ``directory`` that several connections may open."""
    return f"sqlite:///{directory / 'shared.sqlite3'}"


@contextmanager
def running_redis(binary: str) -> Iterator[str]:
    """A redis-server on a free loopback port, no persistence, 16 databases; yields its base URL
    and stops it afterwards."""
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--databases", "16"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}"
    try:
        _wait_for_redis(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for_redis(url: str, process: subprocess.Popen[bytes]) -> None:
    async def answers() -> bool:
        store = open_store(f"{url}/0")
        try:
            return await store.ping()
        finally:
            await store.close()

    deadline = time.monotonic() + START_TIMEOUT_S
    while not asyncio.run(answers()):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("redis-server did not start")
        time.sleep(0.05)
