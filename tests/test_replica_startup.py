"""What a replica loads when it starts, and the processes the embedded stack forks them as.

A replica's start is the embedded stack's start: six of them on two cores. What one imports is
checked in a fresh interpreter (the launcher's preload, then each service's app made as a
replica makes it), so a module of the load, conformance or report side — or a library only a
rare request needs — that creeps into a replica's imports fails here instead of slowing every
stand's start unnoticed. The replicas themselves are forked by one launcher per stack
(``stand/launcher.py``); they must stay what failovers and clean-ups rely on: processes of their
own, each leading its own process group, whose end the stack sees with its cause.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from gosstand.mocks.core.serve import STARTING
from gosstand.stand.stack import EmbeddedStack

#: Never imported by a replica: the stand's other sides and the libraries only they use.
NEVER = ("gosstand.loadtests", "gosstand.conformance", "gosstand.reports", "gosstand.scenarios",
         "schemathesis", "locust", "gevent", "hypothesis", "faker", "jinja2", "matplotlib", "pytest",
         "testcontainers", "docker", "respx")
#: Not imported at a replica's start, only by the request that needs it: the contract's YAML
#: (first GET of /_gosstand/openapi.yaml) and httpx (an account's first call to ESIA; importing
#: it drags in its command line's click, rich and pygments, ~0.1 s).
NOT_AT_START = ("yaml", "httpx", "click", "rich", "pygments")

_REPLICA_IMPORTS = """
import json, os, sys
from pathlib import Path
from gosstand.mocks.core import serve
from gosstand.mocks.core.app import create_app
from gosstand.mocks.core.keys import ensure_signing_keys
from gosstand.mocks.core.settings import SERVICES, Settings

state = Path(sys.argv[1])
ensure_signing_keys(state / "esia-keys")
serve.preload(SERVICES)
for service in SERVICES:
    create_app(Settings.in_state_dir(service, f"{service}-1", state, control_token="t",
                                     public_url="http://127.0.0.1:1", esia_url="http://127.0.0.1:2"))
print(json.dumps(sorted(sys.modules)))
"""


def test_a_replica_imports_nothing_of_the_load_conformance_or_report_side(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", _REPLICA_IMPORTS, str(tmp_path)], capture_output=True, text=True,
                          timeout=120, check=True)
    modules = json.loads(done.stdout)
    assert "gosstand.mocks.esia.service" in modules and "granian" in modules  # it did load a replica
    loaded = {name for name in modules for banned in NEVER + NOT_AT_START
              if name == banned or name.startswith(banned + ".")}
    assert not loaded, f"a replica's start imports {sorted(loaded)}"


@pytest.fixture(scope="module")
def stack() -> Iterator[EmbeddedStack]:
    with EmbeddedStack(services=("fts",), replicas=2).start() as running:
        yield running


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


@pytest.mark.stack
def test_replicas_are_forked_processes_each_leading_its_own_group(stack: EmbeddedStack) -> None:
    assert stack.launcher is not None
    pids = [replica.process.pid for replica in stack.members["fts"] if replica.process is not None]
    assert len(set(pids)) == 2 and os.getpid() not in pids
    for pid in pids:
        assert os.getpgid(pid) == pid  # a failover's killpg reaches it and granian's worker, nothing else
        assert _parent(pid) == stack.launcher.process.pid
    for replica in stack.members["fts"]:
        assert replica.log is not None and f"{STARTING} {replica.name} (fts)" in replica.log.read_text()


def test_a_replica_on_granian_asks_for_asyncios_loop_whatever_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    # granian's "auto" loop takes uvloop wherever it is installed (the [uvicorn] extra brings it),
    # and granian imports uvloop either way, so only what the replica asks granian for tells
    import granian
    from gosstand.mocks.core import serve
    from granian.constants import Loops

    asked: dict[str, object] = {}

    class Recorder:
        def __init__(self, target: str, **options: object) -> None:
            asked.update(options, target=target)

        def serve(self) -> None:
            pass

    monkeypatch.setattr(granian, "Granian", Recorder)
    serve.serve_granian("127.0.0.1", 1, "warning")
    assert asked["loop"] == Loops.asyncio and asked["workers"] == 1
    assert asked["target"] == "gosstand.mocks.core.app:app_from_env"


@pytest.mark.stack
def test_the_stack_sees_a_killed_replica_end_by_its_signal_and_starts_it_again(stack: EmbeddedStack) -> None:
    replica = stack.replica("fts", 2)
    assert replica.process is not None
    killed = replica.process
    os.killpg(killed.pid, signal.SIGKILL)
    assert killed.wait(timeout=10) == -signal.SIGKILL
    assert not replica.alive
    stack.restart("fts", 2)
    assert replica.alive and replica.process is not None and replica.process.pid != killed.pid
    assert killed.poll() == -signal.SIGKILL  # the earlier process's end stays its own


@pytest.mark.parametrize(("environment", "said"), [
    ({}, "GOSSTAND_SERVICE and GOSSTAND_CONTROL_TOKEN must be set"),
    ({"GOSSTAND_SERVICE": "fts"}, "GOSSTAND_CONTROL_TOKEN must be set"),
    ({"GOSSTAND_SERVICE": "customs", "GOSSTAND_CONTROL_TOKEN": "t"}, "unknown service 'customs'"),
    ({"GOSSTAND_SERVICE": "fts", "GOSSTAND_CONTROL_TOKEN": "t", "GOSSTAND_SIGNATURE_MODE": "lax"},
     "signature mode must be one of"),
])
def test_a_replica_with_bad_settings_says_which_in_one_line(environment: dict[str, str], said: str) -> None:
    """The image's replica (``python -m gosstand.mocks.core.serve``) run without the variables
    README's table calls required, or with a wrong one: a line naming it, not a KeyError's traceback."""
    base = {key: value for key, value in os.environ.items() if not key.startswith("GOSSTAND_")}
    completed = subprocess.run([sys.executable, "-m", "gosstand.mocks.core.serve"], capture_output=True, text=True,
                               env={**base, **environment}, timeout=60, stdin=subprocess.DEVNULL)
    assert completed.returncode == 1
    (line,) = completed.stderr.strip().splitlines()
    assert line.startswith("gosstand replica: ") and said in line
