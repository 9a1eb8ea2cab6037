"""What a load run hands its Locust processes, through the environment and two JSON files.

The runner (``loadtests/run.py``) starts Locust as a subprocess — Locust monkey-patches the
standard library with gevent on import, which must not happen in a process hosting asyncio
servers or pytest plugins — so everything crosses as ``GOSSTAND_*`` variables:

``GOSSTAND_RUN_DIR``   where the timeline files go
``GOSSTAND_MANIFEST``  the stack manifest (URLs, control token, replica process groups)
``GOSSTAND_FIXTURES``  the seeded data: the ESIA client system (certificate and key), test
                       users and declarant organisations (``fixtures.json``)
``GOSSTAND_FAILOVER``  the failover schedule file, or empty for none
``GOSSTAND_PROFILE``   the traffic profile (default: the packaged peak hour), and the
                       ``GOSSTAND_DURATION`` / ``GOSSTAND_PEAK_USERS`` overrides
``GOSSTAND_PROCESSES`` how many Locust worker processes share the users (1: one local runner)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class LoadConfig:
    run_dir: Path
    manifest_path: Path
    fixtures_path: Path
    failover_path: Path | None
    processes: int = 1

    @classmethod
    def from_env(cls) -> LoadConfig:
        failover = os.environ.get("GOSSTAND_FAILOVER")
        return cls(
            run_dir=Path(os.environ["GOSSTAND_RUN_DIR"]),
            manifest_path=Path(os.environ["GOSSTAND_MANIFEST"]),
            fixtures_path=Path(os.environ["GOSSTAND_FIXTURES"]),
            failover_path=Path(failover) if failover else None,
            processes=int(os.environ.get("GOSSTAND_PROCESSES") or 1),
        )

    @cached_property
    def manifest(self) -> dict[str, Any]:
        return json.loads(self.manifest_path.read_text())

    @cached_property
    def fixtures(self) -> dict[str, Any]:
        return json.loads(self.fixtures_path.read_text())
