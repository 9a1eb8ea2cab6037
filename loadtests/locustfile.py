"""The locustfile of a gosstand load run: the journeys in the profile's model, the recorder, the
generator's meter, the live line and the failover schedule, attached through Locust's event hooks.

Run by ``gosstand peak``, which writes the run's configuration (``run-config.json``: the
profile, the validated schedule, the manifest and fixtures) and names it in
``GOSSTAND_RUN_CONFIG`` (:mod:`gosstand.loadtests.config`). Locust runs every user class and
the first load shape it finds in this module, so only the model's own are put here: the closed
model's users and :class:`~gosstand.loadtests.shape.PeakHourShape`, or the open model's
:class:`~gosstand.loadtests.open_model.ArrivalDispatcher` and its shape.
"""

from __future__ import annotations

from typing import Any

from gosstand.loadtests import failover, generator, journeys, live, recorder
from gosstand.loadtests.config import LoadConfig
from locust import events
from locust.runners import MasterRunner

_config = LoadConfig.from_env()

if _config.profile.open_model:
    from gosstand.loadtests.open_model import ArrivalDispatcher, ArrivalShape

    ArrivalShape.profile = _config.profile
    ArrivalShape.processes = _config.processes
    __all__ = ["ArrivalDispatcher", "ArrivalShape"]
else:
    from gosstand.loadtests.shape import PeakHourShape
    from gosstand.loadtests.users import (
        DeclarationUser,
        EsiaLoginUser,
        UtkoObjectsUser,
        WeighStationUser,
        closed_model_users,
    )

    closed_model_users(_config)
    PeakHourShape.profile = _config.profile
    __all__ = ["DeclarationUser", "EsiaLoginUser", "PeakHourShape", "UtkoObjectsUser", "WeighStationUser"]


@events.init.add_listener
def _attach(environment: Any, **_: Any) -> None:
    journeys.configure(_config)
    meter = generator.register(environment, run_dir=_config.run_dir, open_model=_config.profile.open_model,
                               late_after_s=_config.run.late_start_s)
    live.register(environment, meter=meter, schedule=_config.schedule, duration_s=_config.profile.duration_s,
                  every_s=_config.run.live_every_s)
    if not isinstance(environment.runner, MasterRunner):  # a master sends no request of its own
        recorder.register(environment, run_dir=_config.run_dir)
    failover.register(environment, schedule=_config.schedule, manifest_path=_config.manifest_path,
                      run_dir=_config.run_dir)
