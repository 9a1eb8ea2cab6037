"""The run's configuration as the Locust processes of a load run see it.

``gosstand peak`` (``loadtests/run.py``) writes one :class:`~gosstand.stand.records.RunConfig`
file into the run directory and names it in ``GOSSTAND_RUN_CONFIG``; the locustfile reads it
here, typed: the profile with its overrides, the validated failover schedule, the stack
manifest and the seeded fixtures. A worker on another host has none of those files: its master
ships it the configuration, the manifest and the fixtures in a message
(:class:`~gosstand.stand.records.ShippedRun`, :mod:`~gosstand.loadtests.distributed`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from ..stand.manifest import StackManifest
from ..stand.records import RunConfig, ShippedRun
from .profile import Profile
from .schedule import ScheduledAction


@dataclass(frozen=True)
class LoadConfig:
    run: RunConfig
    #: The manifest and fixtures as a master shipped them; ``None``: read from the run's files.
    shipped: ShippedRun | None = None

    @classmethod
    def from_shipment(cls, shipped: ShippedRun) -> LoadConfig:
        return cls(shipped.run, shipped)

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
        if self.shipped is not None:
            return StackManifest.from_json(self.shipped.manifest)
        return StackManifest.load(self.manifest_path)

    @cached_property
    def fixtures(self) -> dict[str, Any]:
        if self.shipped is not None:
            return self.shipped.fixtures
        return json.loads(Path(self.run.fixtures_path).read_text())

    def shipment(self) -> ShippedRun:
        """What a worker on another host needs of this run, which shares no file with it."""
        return ShippedRun(run=self.run, manifest=self.manifest.to_json(), fixtures=self.fixtures)
