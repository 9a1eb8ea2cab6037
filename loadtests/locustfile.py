"""The locustfile of a gosstand load run: journeys, the peak-hour shape, the recorder and the
failover schedule, attached through Locust's event hooks.

Run by ``gosstand peak``, which writes the run's configuration (``run-config.json``: the
profile, the validated schedule, the manifest and fixtures) and names it in
``GOSSTAND_RUN_CONFIG`` (:mod:`gosstand.loadtests.config`).
"""

from __future__ import annotations

from typing import Any

from gosstand.loadtests import failover, recorder
from gosstand.loadtests.config import LoadConfig
from gosstand.loadtests.shape import PeakHourShape
from gosstand.loadtests.users import (
    DeclarationUser,
    EsiaLoginUser,
    UtkoObjectsUser,
    WeighStationUser,
    configure,
)
from locust import events
from locust.runners import MasterRunner

__all__ = ["EsiaLoginUser", "DeclarationUser", "UtkoObjectsUser", "WeighStationUser", "PeakHourShape"]

_config = LoadConfig.from_env()
for _user in (EsiaLoginUser, DeclarationUser, UtkoObjectsUser, WeighStationUser):
    _user.weight = _config.profile.mix.get(_user.journey, 0)
    # The journey's client timeout bounds every request of it: connecting and answering.
    _user.network_timeout = _user.connection_timeout = _config.profile.timeout_s(_user.journey)
del _user  # Locust takes every User class in this module's namespace as one to run
PeakHourShape.profile = _config.profile


@events.init.add_listener
def _attach(environment: Any, **_: Any) -> None:
    configure(_config)
    if not isinstance(environment.runner, MasterRunner):  # a master sends no request of its own
        recorder.register(environment, run_dir=_config.run_dir)
    failover.register(environment, schedule=_config.schedule, manifest_path=_config.manifest_path,
                      run_dir=_config.run_dir)
