"""The locustfile of a gosstand load run: journeys, the peak-hour shape, the recorder and the
failover schedule, attached through Locust's event hooks.

Run by ``gosstand peak`` (see ``loadtests/config.py`` for the environment it expects); it can
also be run by hand: ``locust -f $(python -c 'import gosstand.loadtests.locustfile as m;
print(m.__file__)') --headless`` with the ``GOSSTAND_*`` variables set.
"""

from __future__ import annotations

import os
from typing import Any

from gosstand.loadtests import failover, recorder
from gosstand.loadtests.config import LoadConfig
from gosstand.loadtests.profile import load_profile
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

_profile = load_profile(os.environ.get("GOSSTAND_PROFILE") or None)
for _user in (EsiaLoginUser, DeclarationUser, UtkoObjectsUser, WeighStationUser):
    _user.weight = _profile.mix.get(_user.journey, 0)
del _user  # Locust takes every User class in this module's namespace as one to run


@events.init.add_listener
def _attach(environment: Any, **_: Any) -> None:
    config = LoadConfig.from_env()
    configure(config, _profile)
    if not isinstance(environment.runner, MasterRunner):  # a master sends no request of its own
        recorder.register(environment, run_dir=config.run_dir)
    failover.register(
        environment,
        schedule=failover.load_schedule(config.failover_path),
        manifest_path=config.manifest_path,
        run_dir=config.run_dir,
    )
