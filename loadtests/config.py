"""The run's configuration as the Locust processes of a load run see it.

``gosstand peak`` (``loadtests/run.py``) writes one :class:`~gosstand.stand.records.RunConfig`
file into the run directory and names it in ``GOSSTAND_RUN_CONFIG``; the locustfile reads it
here, typed: the profile with its overrides, the validated failover schedule, the stack
manifest and the seeded fixtures.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from ..stand.manifest import StackManifest
from ..stand.records import RunConfig
from .profile import Profile
from .schedule import ScheduledAction


@dataclass(frozen=True)
class LoadConfig:
    run: RunConfig

    @classmethod
    def from_env(cls) -> LoadConfig:
        path = os.environ.get(RunConfig.ENV)
        if not path:
            raise RuntimeError(f"{RunConfig.ENV} is not set: run the load through `gosstand peak`, or set it to a "
                               f"{RunConfig.FILE} file")
        return cls(RunConfig.read(path))

    @property
    def run_dir(self) -> Path:
        return Path(self.run.run_dir)

    @property
    def manifest_path(self) -> Path:
        return Path(self.run.manifest_path)

    @property
    def processes(self) -> int:
        return self.run.processes

    @cached_property
    def profile(self) -> Profile:
        return Profile.from_mapping(self.run.profile)

    @cached_property
    def schedule(self) -> list[ScheduledAction]:
        return [ScheduledAction.from_json(raw) for raw in self.run.schedule]

    @cached_property
    def manifest(self) -> StackManifest:
        return StackManifest.load(self.manifest_path)

    @cached_property
    def fixtures(self) -> dict[str, Any]:
        return json.loads(Path(self.run.fixtures_path).read_text())
